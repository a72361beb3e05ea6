// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s

// NCHW -> NHWC of 28x28 images (a convolution's weight gradient reads dy
// channels-last): rows of 28 would go in 14 x 16 tiles through a 1-D
// shuffle; h and w are contiguous in both layouts and collapse into one
// loop of 784 = 49 x 16, transposed in 16 x 16 tiles.
// CHECK-LABEL: func.func @nchw_to_nhwc_28(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<64x32x28x28xf32>
// CHECK-DAG:     %[[XC:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1], [2, 3]] : tensor<64x32x28x28xf32> into tensor<64x32x784xf32>
// CHECK-DAG:     tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2], [3]] : tensor<64x28x28x32xf32> into tensor<64x784x32xf32>
// CHECK:         vector.transfer_read %[[XC]]{{.*}} : tensor<64x32x784xf32>, vector<1x16x16xf32>
// CHECK:         vector.transpose %{{.+}}, [0, 2, 1] : vector<1x16x16xf32> to vector<1x16x16xf32>
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2], [3]] output_shape [64, 28, 28, 32]
func.func @nchw_to_nhwc_28(%x: tensor<64x32x28x28xf32>) -> tensor<64x28x28x32xf32> {
  %e = tensor.empty() : tensor<64x28x28x32xf32>
  %t = linalg.transpose ins(%x : tensor<64x32x28x28xf32>) outs(%e : tensor<64x28x28x32xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x28x28x32xf32>
}

// -----

// Not when h w is not whole vectors (11 x 11 = 121: its 11 x 16 tiles stay),
// nor when the channels are not (8), nor when an operand's h and w are not
// one run in memory (a strided slice: collapsing it would copy it), nor
// when the result goes into the interior of a zero-padded buffer (the
// channels-last input of a Winograd convolution, 1 row and column of zeros
// around): empty-tensor elimination writes it there in place, where its
// rows of 28 x 32 are not one run; collapsed, it went through a buffer of
// its own and a copy of each row. Its rows of 28 go as two overlapping runs
// of 16 (0-15, 12-27; splitTransposedRows), each in 16 x 16 tiles, not in
// 14 x 16 tiles (1-D shuffles, about twice as many per element); the four
// elements of a row where they overlap are transposed twice.
// CHECK-LABEL: func.func @nchw_to_nhwc_11(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         vector<1x16x1x11xf32>
// CHECK-LABEL: func.func @eight_channels(
// CHECK-NOT:     tensor.collapse_shape
// CHECK-LABEL: func.func @strided_rows(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         return
// CHECK-LABEL: func.func @into_padded(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         %[[R0:.+]] = tensor.extract_slice %{{.+}}[0, 0, 0, 0] [4, 28, 16, 32] [1, 1, 1, 1] : tensor<4x28x28x32xf32> to tensor<4x28x16x32xf32>
// CHECK:         vector.transfer_read %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %c0], %{{.+}} : tensor<4x32x28x28xf32>, vector<1x16x1x16xf32>
// CHECK:         vector.transpose %{{.+}}, [0, 2, 3, 1] : vector<1x16x1x16xf32> to vector<1x1x16x16xf32>
// CHECK:         %[[I0:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 0, 0] [4, 28, 16, 32]
// CHECK:         tensor.extract_slice %[[I0]][0, 0, 12, 0] [4, 28, 16, 32] [1, 1, 1, 1]
// CHECK:         vector.transfer_read %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %c12], %{{.+}} : tensor<4x32x28x28xf32>, vector<1x16x1x16xf32>
// CHECK:         vector.transpose %{{.+}}, [0, 2, 3, 1] : vector<1x16x1x16xf32> to vector<1x1x16x16xf32>
// CHECK:         %[[I1:.+]] = tensor.insert_slice %{{.+}} into %[[I0]][0, 0, 12, 0] [4, 28, 16, 32]
// CHECK:         tensor.insert_slice %[[I1]] into %{{.+}}[0, 1, 1, 0] [4, 28, 28, 32] [1, 1, 1, 1]
// CHECK-LABEL: func.func @into_whole(
// CHECK:         tensor.collapse_shape
func.func @nchw_to_nhwc_11(%x: tensor<64x64x11x11xf32>) -> tensor<64x11x11x64xf32> {
  %e = tensor.empty() : tensor<64x11x11x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x64x11x11xf32>) outs(%e : tensor<64x11x11x64xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x11x11x64xf32>
}
func.func @eight_channels(%x: tensor<64x8x28x28xf32>) -> tensor<64x28x28x8xf32> {
  %e = tensor.empty() : tensor<64x28x28x8xf32>
  %t = linalg.transpose ins(%x : tensor<64x8x28x28xf32>) outs(%e : tensor<64x28x28x8xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x28x28x8xf32>
}
func.func @strided_rows(%big: tensor<64x32x28x56xf32>) -> tensor<64x28x28x32xf32> {
  %x = tensor.extract_slice %big[0, 0, 0, 0] [64, 32, 28, 28] [1, 1, 1, 2] : tensor<64x32x28x56xf32> to tensor<64x32x28x28xf32>
  %e = tensor.empty() : tensor<64x28x28x32xf32>
  %t = linalg.transpose ins(%x : tensor<64x32x28x28xf32>) outs(%e : tensor<64x28x28x32xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x28x28x32xf32>
}
func.func @into_padded(%x: tensor<4x32x28x28xf32>, %pad: tensor<4x30x30x32xf32>) -> tensor<4x30x30x32xf32> {
  %e = tensor.empty() : tensor<4x28x28x32xf32>
  %t = linalg.transpose ins(%x : tensor<4x32x28x28xf32>) outs(%e : tensor<4x28x28x32xf32>) permutation = [0, 2, 3, 1]
  %r = tensor.insert_slice %t into %pad[0, 1, 1, 0] [4, 28, 28, 32] [1, 1, 1, 1] : tensor<4x28x28x32xf32> into tensor<4x30x30x32xf32>
  return %r : tensor<4x30x30x32xf32>
}
func.func @into_whole(%x: tensor<4x32x28x28xf32>, %big: tensor<8x28x28x32xf32>) -> tensor<8x28x28x32xf32> {
  %e = tensor.empty() : tensor<4x28x28x32xf32>
  %t = linalg.transpose ins(%x : tensor<4x32x28x28xf32>) outs(%e : tensor<4x28x28x32xf32>) permutation = [0, 2, 3, 1]
  %r = tensor.insert_slice %t into %big[4, 0, 0, 0] [4, 28, 28, 32] [1, 1, 1, 1] : tensor<4x28x28x32xf32> into tensor<8x28x28x32xf32>
  return %r : tensor<8x28x28x32xf32>
}
