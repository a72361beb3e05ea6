// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize | FileCheck %s

// A language model's head: n = 257 token classes, prime, so no register
// tile divides it. The matmul is split along n into the first 256 columns
// (whole 8x32 register tiles: one vector.contract each, which
// nn-lower-vector-tiles makes FMAs) and the last column (a 16x1 tile per row
// block: a narrow column gets more rows), instead of the whole matmul
// running as scalar loops.
// CHECK-LABEL: func.func @head(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<32x128xf32>, %[[B:[^:]+]]: tensor<128x257xf32>, %[[C:[^:]+]]: tensor<32x257xf32>
// CHECK:         %[[C0:.+]] = tensor.extract_slice %[[C]][0, 0] [32, 256] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[C0]]) -> (tensor<32x256xf32>)
// CHECK:           vector.contract {{.*}} : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK:         %[[MAIN:.+]] = tensor.insert_slice %{{.+}} into %[[C]][0, 0] [32, 256] [1, 1]
// CHECK:         %[[C1:.+]] = tensor.extract_slice %[[MAIN]][0, 256] [32, 1] [1, 1]
// CHECK:         scf.for {{.*}} iter_args(%{{.+}} = %[[C1]]) -> (tensor<32x1xf32>)
// CHECK:           vector.contract {{.*}} : vector<16x4xf32>, vector<4x1xf32> into vector<16x1xf32>
// CHECK:         tensor.insert_slice %{{.+}} into %[[MAIN]][0, 256] [32, 1] [1, 1]
// CHECK-NOT:     arith.mulf
func.func @head(%a: tensor<32x128xf32>, %b: tensor<128x257xf32>, %c: tensor<32x257xf32>) -> tensor<32x257xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<32x128xf32>, tensor<128x257xf32>) outs(%c : tensor<32x257xf32>) -> tensor<32x257xf32>
  return %y : tensor<32x257xf32>
}

// -----

// Columns kept whole that are not whole vectors: 49 = 32 + 17, and the 17
// are split again into 16 (one vector per row) and 1, instead of one
// 17-lane accumulator row carried through the k loop. Both keep ~16
// accumulators: all 16 rows at once.
// CHECK-LABEL: func.func @ragged(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<16x64xf32>, %[[B:[^:]+]]: tensor<64x49xf32>, %[[C:[^:]+]]: tensor<16x49xf32>
// CHECK:         vector.contract {{.*}} : vector<8x4xf32>, vector<4x32xf32> into vector<8x32xf32>
// CHECK:         %[[MAIN:.+]] = tensor.insert_slice %{{.+}} into %[[C]][0, 0] [16, 32] [1, 1]
// CHECK:         %[[REST:.+]] = tensor.extract_slice %[[MAIN]][0, 32] [16, 17] [1, 1]
// CHECK:         tensor.extract_slice %[[REST]][0, 0] [16, 16] [1, 1]
// CHECK:         vector.contract {{.*}} : vector<16x4xf32>, vector<4x16xf32> into vector<16x16xf32>
// CHECK:         %[[VEC:.+]] = tensor.insert_slice %{{.+}} into %[[REST]][0, 0] [16, 16] [1, 1]
// CHECK:         tensor.extract_slice %[[VEC]][0, 16] [16, 1] [1, 1]
// CHECK:         vector.contract {{.*}} : vector<16x4xf32>, vector<4x1xf32> into vector<16x1xf32>
// CHECK-NOT:     vector<8x17xf32>
func.func @ragged(%a: tensor<16x64xf32>, %b: tensor<64x49xf32>, %c: tensor<16x49xf32>) -> tensor<16x49xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<16x64xf32>, tensor<64x49xf32>) outs(%c : tensor<16x49xf32>) -> tensor<16x49xf32>
  return %y : tensor<16x49xf32>
}

// -----

// Narrow columns kept whole: a 3x3 convolution's weight gradient for one
// input channel and 16 filters ([9, 784] x [784, 16], per sample). The 16
// columns are one vector, so the tile takes all 9 rows (9 independent
// accumulators), not 3 (a divisor of 9 under the default 8 rows, whose
// FMAs wait on each other).
// CHECK-LABEL: func.func @narrow_columns(
// CHECK:         vector.contract {{.*}} : vector<9x4xf32>, vector<4x16xf32> into vector<9x16xf32>
// CHECK-NOT:     vector<3x16xf32>
func.func @narrow_columns(%a: tensor<9x784xf32>, %b: tensor<784x16xf32>, %c: tensor<9x16xf32>) -> tensor<9x16xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<9x784xf32>, tensor<784x16xf32>) outs(%c : tensor<9x16xf32>) -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}

// -----

// 152 columns: 128 in 32-column register tiles, and the 24 left split again
// into 16 (whole vectors) and 8, each part from the fill's value
// (accumulator init). The 8 columns' write must land in the tensor that
// already holds the 16 columns' result: LLVM 19's folding of insert_slice
// into transfer_write wrote it into the tensor before them, dropping
// columns 128-143 (see InsertSliceOfPartialWrite).
// CHECK-LABEL: func.func @split_twice(
// CHECK:         %[[MAIN:.+]] = tensor.insert_slice %{{.+}} into %{{.+}}[0, 0] [16, 128] [1, 1]
// CHECK:         %[[MID:.+]] = vector.contract {{.*}} : vector<16x1xf32>, vector<1x16xf32> into vector<16x16xf32>
// CHECK:         %[[LAST:.+]] = vector.contract {{.*}} : vector<16x1xf32>, vector<1x8xf32> into vector<16x8xf32>
// CHECK:         %[[W16:.+]] = vector.transfer_write %[[MID]], %[[MAIN]][%{{.+}}, %{{.+}}] {{.*}} : vector<16x16xf32>, tensor<16x152xf32>
// CHECK:         %[[W8:.+]] = vector.transfer_write %[[LAST]], %[[W16]][%{{.+}}, %{{.+}}] {{.*}} : vector<16x8xf32>, tensor<16x152xf32>
// CHECK:         return %[[W8]]
func.func @split_twice(%a: tensor<16x1xf32>, %b: tensor<1x152xf32>) -> tensor<16x152xf32> {
  %0 = tensor.empty() : tensor<16x152xf32>
  %cst = arith.constant 0.000000e+00 : f32
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<16x152xf32>) -> tensor<16x152xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<16x1xf32>, tensor<1x152xf32>) outs(%1 : tensor<16x152xf32>) -> tensor<16x152xf32>
  return %2 : tensor<16x152xf32>
}

// -----

// An elementwise op over 288 elements (an AdamW update of a [32, 1, 3, 3]
// weight): tiles of two vectors (9 x vector<32>), not of three (6 x
// vector<48>, which LLVM widens to four registers and splits, in 4x the
// code).
// CHECK-LABEL: func.func @tiles_of_whole_vector_pairs(
// CHECK: scf.for %{{.*}} = %c0 to %c288 step %c32
// CHECK: vector.transfer_read {{.*}} vector<32xf32>
// CHECK-NOT: vector<48xf32>
func.func @tiles_of_whole_vector_pairs(%a: tensor<288xf32>, %b: tensor<288xf32>) -> tensor<288xf32> {
  %e = tensor.empty() : tensor<288xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a, %b : tensor<288xf32>, tensor<288xf32>) outs(%e : tensor<288xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<288xf32>
  return %r : tensor<288xf32>
}
