// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s

// C = A B^T with B (a dense layer's weight, [256, 64]) larger than A and C
// together: C^T = B (A^T), so that the kernel reads B's rows as they are
// and the small A is transposed instead of B; C is C^T transposed.
// CHECK-LABEL: func.func @weight_larger(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x64xf32>, %[[W:[^:]+]]: tensor<256x64xf32>
// CHECK:         tensor.empty() : tensor<256x16xf32>
// CHECK:         vector.transfer_read %[[X]]{{.*}} : tensor<16x64xf32>, vector<16x16xf32>
// CHECK-NEXT:    vector.transpose
// CHECK:         vector.transfer_read %[[W]]{{.*}} : tensor<256x64xf32>, vector<16x4xf32>
// CHECK:         vector.contract {{.*}} : vector<16x4xf32>, vector<4x16xf32> into vector<16x16xf32>
// CHECK:         tensor.empty() : tensor<16x256xf32>
// CHECK:         vector.transpose
func.func @weight_larger(%x: tensor<16x64xf32>, %w: tensor<256x64xf32>) -> tensor<16x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x256xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x256xf32>) -> tensor<16x256xf32>
  %y = linalg.matmul_transpose_b ins(%x, %w : tensor<16x64xf32>, tensor<256x64xf32>) outs(%f : tensor<16x256xf32>) -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// -----

// B smaller: B^T materialized, C = A (B^T) as before.
// CHECK-LABEL: func.func @weight_smaller(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x64xf32>, %[[W:[^:]+]]: tensor<32x64xf32>
// CHECK:         vector.transfer_read %[[W]]{{.*}} : tensor<32x64xf32>, vector<16x16xf32>
// CHECK-NEXT:    vector.transpose
// CHECK:         vector.transfer_read %[[X]]{{.*}} : tensor<64x64xf32>, vector<8x4xf32>
// CHECK:         vector.contract {{.*}} : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK-NOT:     tensor<32x64xf32>
func.func @weight_smaller(%x: tensor<64x64xf32>, %w: tensor<32x64xf32>) -> tensor<64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x32xf32>) -> tensor<64x32xf32>
  %y = linalg.matmul_transpose_b ins(%x, %w : tensor<64x64xf32>, tensor<32x64xf32>) outs(%f : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %y : tensor<64x32xf32>
}

// -----

// C starts from a value that is not a constant (a bias broadcast): C^T
// starts from its transpose.
// CHECK-LABEL: func.func @from_bias(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<16x64xf32>, %[[W:[^:]+]]: tensor<256x64xf32>, %[[C:[^:]+]]: tensor<16x256xf32>
// CHECK:         vector.transfer_read %[[C]]{{.*}} : tensor<16x256xf32>, vector<16x16xf32>
// CHECK-NEXT:    vector.transpose
// CHECK:         vector.transfer_read %[[W]]{{.*}} : tensor<256x64xf32>, vector<16x4xf32>
func.func @from_bias(%x: tensor<16x64xf32>, %w: tensor<256x64xf32>, %c: tensor<16x256xf32>) -> tensor<16x256xf32> {
  %y = linalg.matmul_transpose_b ins(%x, %w : tensor<16x64xf32>, tensor<256x64xf32>) outs(%c : tensor<16x256xf32>) -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}
