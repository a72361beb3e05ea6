// RUN: nnc-opt %s -nn-tile-and-vectorize -canonicalize | FileCheck %s

// A language model's head: n = 257 token classes, prime, so no register
// tile divides it. The matmul is split along n into the first 256 columns
// (whole 8x32 register tiles: one vector.contract each, which
// nn-lower-vector-tiles makes FMAs) and the last column (an 8x1 tile per row
// block), instead of the whole matmul running as scalar loops.
// CHECK-LABEL: func.func @head(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<32x128xf32>, %[[B:[^:]+]]: tensor<128x257xf32>, %[[C:[^:]+]]: tensor<32x257xf32>
// CHECK:         %[[C0:.+]] = tensor.extract_slice %[[C]][0, 0] [32, 256] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[C0]]) -> (tensor<32x256xf32>)
// CHECK:           vector.contract {{.*}} : vector<8x16xf32>, vector<16x32xf32> into vector<8x32xf32>
// CHECK:         %[[MAIN:.+]] = tensor.insert_slice %{{.+}} into %[[C]][0, 0] [32, 256] [1, 1]
// CHECK:         %[[C1:.+]] = tensor.extract_slice %[[MAIN]][0, 256] [32, 1] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[C1]]) -> (tensor<32x1xf32>)
// CHECK:           vector.contract {{.*}} : vector<8x16xf32>, vector<16x1xf32> into vector<8x1xf32>
// CHECK:         tensor.insert_slice %{{.+}} into %[[MAIN]][0, 256] [32, 1] [1, 1]
// CHECK-NOT:     arith.mulf
func.func @head(%a: tensor<32x128xf32>, %b: tensor<128x257xf32>, %c: tensor<32x257xf32>) -> tensor<32x257xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<32x128xf32>, tensor<128x257xf32>) outs(%c : tensor<32x257xf32>) -> tensor<32x257xf32>
  return %y : tensor<32x257xf32>
}
