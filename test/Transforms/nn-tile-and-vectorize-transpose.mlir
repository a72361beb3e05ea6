// RUN: nnc-opt %s -nn-tile-and-vectorize | FileCheck %s

// The conv weight gradient's dy transpose [N, F, OH, OW] -> [N, OH, OW, F]
// with OW = 11: its 11x16 tiles are not 16x16, so the transpose becomes one
// 1-D shuffle, and the shape_casts around it (the tile has unit dimensions:
// vector<1x16x1x11>) move whole rows: extract + insert_strided_slice in,
// extract_strided_slice + insert out, never one element at a time.
// CHECK-LABEL: func.func @transpose_nchw_to_nhwc(
// CHECK: vector.transfer_read {{.*}} vector<1x16x1x11xf32>
// CHECK-COUNT-16: vector.insert_strided_slice {{.*}} : vector<11xf32> into vector<176xf32>
// CHECK: vector.shuffle {{.*}} : vector<176xf32>, vector<176xf32>
// CHECK-COUNT-11: vector.extract_strided_slice {{.*}} {offsets = [{{[0-9]+}}], sizes = [16], strides = [1]} : vector<176xf32> to vector<16xf32>
// CHECK-NOT: vector.shape_cast
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.transfer_write {{.*}} vector<1x1x11x16xf32>
func.func @transpose_nchw_to_nhwc(%dy: tensor<64x64x11x11xf32>) -> tensor<64x11x11x64xf32> {
  %e = tensor.empty() : tensor<64x11x11x64xf32>
  %t = linalg.transpose ins(%dy : tensor<64x64x11x11xf32>) outs(%e : tensor<64x11x11x64xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x11x11x64xf32>
}
