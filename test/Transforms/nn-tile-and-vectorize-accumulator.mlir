// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize -loop-invariant-subset-hoisting -canonicalize | FileCheck %s

// A matmul accumulating into a zero fill (k = 64, not cache-blocked): no
// pass fills C in memory; each 8x32 register tile starts from the constant
// in registers (the k loop's initial value) and C is only written, once per
// tile, after its k loop. It is never read.
// CHECK-LABEL: func.func @zero_init(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64xf32>, %[[B:[^:]+]]: tensor<64x64xf32>
// CHECK:         %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// CHECK-NOT:     linalg.fill
// CHECK:         scf.for %[[M:.+]] = {{.*}} iter_args(%[[C:.+]] = %{{.+}}) -> (tensor<16x64xf32>)
// CHECK:           scf.for %[[N:.+]] = {{.*}} iter_args(%[[C2:.+]] = %[[C]]) -> (tensor<16x64xf32>)
// CHECK:             %[[ACC:.+]] = scf.for {{.*}} iter_args(%{{.+}} = %[[ZERO]]) -> (vector<8x32xf32>)
// CHECK-NOT:           vector.transfer_read %[[C2]]
// CHECK:             vector.transfer_write %[[ACC]], %[[C2]][%[[M]], %[[N]]]
func.func @zero_init(%a: tensor<16x64xf32>, %b: tensor<64x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %y = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// A long k whose panels stay in cache is not blocked either (k = 784, the
// 2048-wide MLP's forward C^T = W X^T: B is 784 x 64, 196 KB; 8 rows of A
// 25 KB): the accumulators start from the constant, C is never read.
// CHECK-LABEL: func.func @long_k(
// CHECK:         %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// CHECK-NOT:     linalg.fill
// CHECK:         scf.for {{.*}} iter_args(%[[C:.+]] = %{{.+}}) -> (tensor<2048x64xf32>)
// CHECK:           scf.for {{.*}} iter_args(%[[C2:.+]] = %[[C]]) -> (tensor<2048x64xf32>)
// CHECK:             %[[ACC:.+]] = scf.for {{.*}} iter_args(%{{.+}} = %[[ZERO]]) -> (vector<8x32xf32>)
// CHECK-NOT:           vector.transfer_read %[[C2]]
// CHECK:             vector.transfer_write %[[ACC]], %[[C2]]
func.func @long_k(%w: tensor<2048x784xf32>, %xt: tensor<784x64xf32>) -> tensor<2048x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2048x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2048x64xf32>) -> tensor<2048x64xf32>
  %y = linalg.matmul ins(%w, %xt : tensor<2048x784xf32>, tensor<784x64xf32>) outs(%acc : tensor<2048x64xf32>) -> tensor<2048x64xf32>
  return %y : tensor<2048x64xf32>
}

// -----

// Not for a k cache-blocked in steps of 256 (k = 2048: 8 rows of A are 64 KB,
// more than an L1; every C tile is visited eight times: the fill stays and C
// is read back), nor for a transposed A whose k = 768 lines per register
// tile are 48 KB (the GPT's weight gradients), nor for a non-constant init
// (a bias broadcast).
// CHECK-LABEL: func.func @blocked_k(
// CHECK:         vector.transfer_write %{{.+}} : vector<{{.+}}>, tensor<16x64xf32>
// CHECK:         vector.transfer_read %{{.+}} : tensor<16x64xf32>, vector<8x32xf32>
// CHECK-LABEL: func.func @blocked_transposed_a(
// CHECK:         vector.transfer_write %{{.+}} : vector<{{.+}}>, tensor<16x64xf32>
// CHECK:         vector.transfer_read %{{.+}} : tensor<16x64xf32>, vector<8x32xf32>
// CHECK-LABEL: func.func @bias_init(
// CHECK:         vector.transfer_read %{{.+}} : tensor<16x64xf32>, vector<8x32xf32>
func.func @blocked_k(%a: tensor<16x2048xf32>, %b: tensor<2048x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %y = linalg.matmul ins(%a, %b : tensor<16x2048xf32>, tensor<2048x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
func.func @blocked_transposed_a(%a: tensor<768x16xf32>, %b: tensor<768x64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %y = linalg.matmul_transpose_a ins(%a, %b : tensor<768x16xf32>, tensor<768x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}
func.func @bias_init(%a: tensor<16x64xf32>, %b: tensor<64x64xf32>, %bias: tensor<64xf32>) -> tensor<16x64xf32> {
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.broadcast ins(%bias : tensor<64xf32>) outs(%e : tensor<16x64xf32>) dimensions = [0]
  %y = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

// -----

// Columns that the preferred 32-wide tile does not divide (784 = 24 x 32 +
// 16, a convolution's pixels): the matmul is split into whole tiles and a
// remainder (16 columns: 16 rows per register tile), and both parts start
// their register tiles from the constant.
// C is neither filled nor read; each part is computed in its slice of the
// one result (see nn-unshare-empty-tensors).
// CHECK-LABEL: func.func @remainder_columns(
// CHECK-DAG:     %[[Z16:.+]] = arith.constant dense<0.000000e+00> : vector<16x16xf32>
// CHECK-DAG:     %[[Z32:.+]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// CHECK-NOT:     linalg.fill
// CHECK:         %[[C:.+]] = tensor.empty() : tensor<16x784xf32>
// CHECK:         %[[HEAD:.+]] = tensor.extract_slice %[[C]][0, 0] [16, 768] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[Z32]]) -> (vector<8x32xf32>)
// CHECK:         %[[C1:.+]] = tensor.insert_slice %{{.+}} into %[[C]][0, 0] [16, 768] [1, 1]
// CHECK:         %[[TAIL:.+]] = tensor.extract_slice %[[C1]][0, 768] [16, 16] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[Z16]]) -> (vector<16x16xf32>)
// CHECK-NOT:     vector.transfer_read %{{.+}} : tensor<16x16xf32>
// CHECK:         tensor.insert_slice %{{.+}} into %[[C1]][0, 768] [16, 16] [1, 1]
func.func @remainder_columns(%a: tensor<16x64xf32>, %b: tensor<64x784xf32>) -> tensor<16x784xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x784xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x784xf32>) -> tensor<16x784xf32>
  %y = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x784xf32>) outs(%acc : tensor<16x784xf32>) -> tensor<16x784xf32>
  return %y : tensor<16x784xf32>
}

// -----

// A batch matmul with A transposed (the Winograd weight gradient's V_p^T
// dZ_p, V_p [t, K] as it is), adding into its accumulator: the batch by 1,
// 8x32 register tiles; A^T's 8 rows of a k step are 8 contiguous elements
// of A's row k (a [4, 8] read of A per 4 k steps, no transposed copy).
// CHECK-LABEL: func.func @batch_transpose_a(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<4x72x64xf32>
// CHECK-NOT:     linalg.batch_matmul_transpose_a
// CHECK:         scf.for %[[P:[^ ]+]] = {{.*}} -> (tensor<4x64x64xf32>)
// CHECK:           scf.for %[[M:[^ ]+]] = {{.*}} -> (tensor<4x64x64xf32>)
// CHECK:             scf.for %[[N:[^ ]+]] = {{.*}} -> (tensor<4x64x64xf32>)
// CHECK:               vector.transfer_read %{{.+}}[%[[P]], %[[M]], %[[N]]]{{.*}} : tensor<4x64x64xf32>, vector<1x8x32xf32>
// CHECK:               scf.for %[[K:[^ ]+]] = {{.*}} -> (vector<1x8x32xf32>)
// CHECK:                 vector.transfer_read %[[A]][%[[P]], %[[K]], %[[M]]]{{.*}} : tensor<4x72x64xf32>, vector<1x4x8xf32>
// CHECK:                 vector.contract
// CHECK-SAME:              vector<1x4x8xf32>, vector<1x4x32xf32> into vector<1x8x32xf32>
func.func @batch_transpose_a(%a: tensor<4x72x64xf32>, %b: tensor<4x72x64xf32>, %c: tensor<4x64x64xf32>) -> tensor<4x64x64xf32> {
  %y = linalg.batch_matmul_transpose_a ins(%a, %b : tensor<4x72x64xf32>, tensor<4x72x64xf32>) outs(%c : tensor<4x64x64xf32>) -> tensor<4x64x64xf32>
  return %y : tensor<4x64x64xf32>
}
