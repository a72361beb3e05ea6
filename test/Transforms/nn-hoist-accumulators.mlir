// RUN: nnc-opt %s -split-input-file -nn-hoist-accumulators | FileCheck %s

// A register tile's k loop: the accumulator's read and write of the loop's
// tensor move out of the loop, which carries the vector instead.
// CHECK-LABEL: func.func @k_loop(
// CHECK-SAME: %[[C:.*]]: tensor<4x16xf32>
// CHECK: %[[R:.*]] = vector.transfer_read %[[C]]
// CHECK: %[[L:.*]]:2 = scf.for {{.*}} iter_args(%[[T:.*]] = %[[C]], %[[ACC:.*]] = %[[R]]) -> (tensor<4x16xf32>, vector<4x16xf32>)
// CHECK-NOT: vector.transfer_read
// CHECK: %[[S:.*]] = arith.addf %[[ACC]]
// CHECK-NOT: vector.transfer_write
// CHECK: scf.yield %[[T]], %[[S]]
// CHECK: %[[W:.*]] = vector.transfer_write %[[L]]#1, %[[L]]#0
// CHECK: return %[[W]]
func.func @k_loop(%c: tensor<4x16xf32>, %v: vector<4x16xf32>) -> tensor<4x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %z = arith.constant 0.0 : f32
  %r = scf.for %k = %c0 to %c8 step %c1 iter_args(%t = %c) -> (tensor<4x16xf32>) {
    %a = vector.transfer_read %t[%c0, %c0], %z {in_bounds = [true, true]} : tensor<4x16xf32>, vector<4x16xf32>
    %s = arith.addf %a, %v : vector<4x16xf32>
    %w = vector.transfer_write %s, %t[%c0, %c0] {in_bounds = [true, true]} : vector<4x16xf32>, tensor<4x16xf32>
    scf.yield %w : tensor<4x16xf32>
  }
  return %r : tensor<4x16xf32>
}

// -----

// A loop whose tensor only slices touch (no vector transfer of the tensor
// itself) is not examined: its invariant slice pair stays in the loop.
// CHECK-LABEL: func.func @slices_only(
// CHECK: scf.for
// CHECK: tensor.extract_slice
// CHECK: tensor.insert_slice
// CHECK: scf.yield
func.func @slices_only(%c: tensor<8x16xf32>, %x: tensor<4x16xf32>) -> tensor<8x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %k = %c0 to %c8 step %c1 iter_args(%t = %c) -> (tensor<8x16xf32>) {
    %e = tensor.extract_slice %t[0, 0] [4, 16] [1, 1] : tensor<8x16xf32> to tensor<4x16xf32>
    %s = arith.addf %e, %x : tensor<4x16xf32>
    %i = tensor.insert_slice %s into %t[0, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<8x16xf32>
    scf.yield %i : tensor<8x16xf32>
  }
  return %r : tensor<8x16xf32>
}
