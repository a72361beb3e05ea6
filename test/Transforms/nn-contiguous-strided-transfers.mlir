// RUN: nnc-opt %s -split-input-file -nn-contiguous-strided-transfers | FileCheck %s

// A pooling window's kernel-offset view: every second element of a row. The
// 13 lanes become one read of the 25 elements they span, through a stride-1
// view of the same memory (same offset), and a shuffle of the even lanes.
// CHECK-LABEL: func.func @read_stride2(
// CHECK-SAME: %[[X:.*]]: memref<4x13xf32, strided<[52, 2], offset: 27>>, %[[I:.*]]: index, %[[J:.*]]: index
// CHECK: %[[V:.*]] = memref.reinterpret_cast %[[X]] to offset: [27], sizes: [4, 25], strides: [52, 1]
// CHECK: %[[J2:.*]] = arith.muli %[[J]], %c2
// CHECK: %[[S:.*]] = vector.transfer_read %[[V]][%[[I]], %[[J2]]], %{{.*}} {in_bounds = [true]} : memref<4x25xf32, strided<[52, 1], offset: 27>>, vector<25xf32>
// CHECK: %[[L:.*]] = vector.shuffle %[[S]], %[[S]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24] : vector<25xf32>, vector<25xf32>
// CHECK: vector.broadcast %[[L]] : vector<13xf32> to vector<1x13xf32>
func.func @read_stride2(%x: memref<4x13xf32, strided<[52, 2], offset: 27>>, %i: index, %j: index) -> vector<1x13xf32> {
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%i, %j], %pad {in_bounds = [true, true]} : memref<4x13xf32, strided<[52, 2], offset: 27>>, vector<1x13xf32>
  return %v : vector<1x13xf32>
}

// -----

// A strided write reads the span, merges the new lanes into every third
// element and writes the span back.
// CHECK-LABEL: func.func @write_stride3(
// CHECK: %[[V:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [7], strides: [1]
// CHECK: %[[S:.*]] = vector.transfer_read %[[V]]
// CHECK-SAME: vector<7xf32>
// CHECK: %[[M:.*]] = vector.shuffle %[[S]], %{{.*}} [7, 1, 2, 8, 4, 5, 9] : vector<7xf32>, vector<3xf32>
// CHECK: vector.transfer_write %[[M]], %[[V]]
// CHECK-NOT: vector.transfer_write
func.func @write_stride3(%x: memref<3xf32, strided<[3]>>, %v: vector<3xf32>) {
  %c0 = arith.constant 0 : index
  vector.transfer_write %v, %x[%c0] {in_bounds = [true]} : vector<3xf32>, memref<3xf32, strided<[3]>>
  return
}

// -----

// Left alone: contiguous rows, possibly out-of-bounds transfers, dynamic
// strides.
// CHECK-LABEL: func.func @unchanged(
// CHECK-NOT: memref.reinterpret_cast
// CHECK-NOT: vector.shuffle
func.func @unchanged(%a: memref<4x13xf32>, %b: memref<13xf32, strided<[2]>>, %c: memref<13xf32, strided<[?]>>, %i: index) -> (vector<13xf32>, vector<13xf32>, vector<13xf32>) {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %0 = vector.transfer_read %a[%c0, %c0], %pad {in_bounds = [true]} : memref<4x13xf32>, vector<13xf32>
  %1 = vector.transfer_read %b[%i], %pad : memref<13xf32, strided<[2]>>, vector<13xf32>
  %2 = vector.transfer_read %c[%c0], %pad {in_bounds = [true]} : memref<13xf32, strided<[?]>>, vector<13xf32>
  return %0, %1, %2 : vector<13xf32>, vector<13xf32>, vector<13xf32>
}
