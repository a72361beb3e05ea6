// RUN: nnc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(nn-tile-and-vectorize{parallel-chunks=8}))' | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s --check-prefix=SERIAL

// With parallel-chunks, ops of at least parallel-min-work (65536) loop
// iterations become an scf.forall over chunks of one parallel loop; each
// chunk is then tiled and vectorized as a whole op would be. Without the
// option nothing is parallel.
// SERIAL-NOT: scf.forall

// Big matmul: the right operand (784 x 128) is larger than the left one
// (64 x 784), so the chunks are columns: 4 of 32 (the register tile of n;
// 8 chunks of 16 columns would change it), each register-tiled.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:    %[[A:[^:]+]]: tensor<64x784xf32>, %[[B:[^:]+]]: tensor<784x128xf32>, %[[C:[^:]+]]: tensor<64x128xf32>)
// CHECK:         %[[R:.+]] = scf.forall (%[[J:.+]]) = (0) to (128) step (32) shared_outs(%[[O:.+]] = %[[C]])
// CHECK:           tensor.extract_slice %[[O]][0, %[[J]]] [64, 32] [1, 1]
// CHECK:           scf.for
// CHECK:             vector.transfer_read %[[A]]{{.*}} vector<8x4xf32>
// CHECK:             vector.transfer_read %[[B]][%{{.+}}, %{{.+}}]{{.*}} vector<4x32xf32>
// CHECK:             vector.contract {{.*}} into vector<8x32xf32>
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.+}} into %[[O]][0, %[[J]]] [64, 32] [1, 1]
// CHECK:         return %[[R]]
func.func @matmul(%a: tensor<64x784xf32>, %b: tensor<784x128xf32>,
                  %c: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x784xf32>, tensor<784x128xf32>)
                     outs(%c : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// The first weight gradient of an MLP on 28x28 images (dY^T X: [128, 784]
// over 64 samples). The right operand (64 x 784) is the larger, but no
// register tile divides its 784 columns (49 vectors): column chunks would be
// whole vectors with a tile (7 of 112; not 16 of 49, 32 + 16 + a column of
// one) and 7 chunks balance on no even number of threads, so the rows go in
// 8 chunks of 16 instead, each chunk's columns split into 768 (8 x 32 tiles)
// and 16 (16 x 16).
// CHECK-LABEL: func.func @weight_gradient(
// CHECK:         scf.forall (%[[I:.+]]) = (0) to (128) step (16)
// CHECK-NOT:       vector<16x1xf32>
// CHECK:           vector.contract {{.*}} into vector<8x32xf32>
// CHECK-NOT:       vector<16x1xf32>
// CHECK:           vector.contract {{.*}} into vector<16x16xf32>
// CHECK-NOT:       vector<16x1xf32>
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[I]], 0] [16, 784] [1, 1]
func.func @weight_gradient(%dy: tensor<64x128xf32>, %x: tensor<64x784xf32>,
                           %c: tensor<128x784xf32>) -> tensor<128x784xf32> {
  %r = linalg.matmul_transpose_a ins(%dy, %x : tensor<64x128xf32>, tensor<64x784xf32>)
                                 outs(%c : tensor<128x784xf32>) -> tensor<128x784xf32>
  return %r : tensor<128x784xf32>
}

// Rows that cannot be split (8: one register tile): the 784 columns go in
// 7 chunks of whole vectors (112), not 16 of 49 with a column of one.
// CHECK-LABEL: func.func @weight_gradient_rows(
// CHECK:         scf.forall (%[[J:.+]]) = (0) to (784) step (112)
// CHECK-NOT:       vector<{{[0-9]+}}x1xf32>
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %[[J]]] [8, 112] [1, 1]
func.func @weight_gradient_rows(%dy: tensor<64x8xf32>, %x: tensor<64x784xf32>,
                                %c: tensor<8x784xf32>) -> tensor<8x784xf32> {
  %r = linalg.matmul_transpose_a ins(%dy, %x : tensor<64x8xf32>, tensor<64x784xf32>)
                                 outs(%c : tensor<8x784xf32>) -> tensor<8x784xf32>
  return %r : tensor<8x784xf32>
}

// -----

// Small: stays serial.
// CHECK-LABEL: func.func @small(
// CHECK-NOT:     scf.forall
// CHECK:         return
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @small(%x: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<64x128xf32>) outs(%e : tensor<64x128xf32>) {
  ^bb0(%v: f32, %o: f32):
    %m = arith.maximumf %v, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// A short innermost loop counts as a vector per row: the zero border
// column of a pooling gradient ([64, 64, 10, 1]: 40,960 iterations, but as
// many cache lines written; 655,360 with rows padded to 16) is split over
// the samples. [64, 16, 3, 4] (3,072 rows of 4: 49,152 padded) stays
// serial.
// CHECK-LABEL: func.func @border_column(
// CHECK:         scf.forall (%{{.+}}) = (0) to (64) step (8)
// CHECK-LABEL: func.func @short_rows_small(
// CHECK-NOT:     scf.forall
// CHECK:         return
func.func @border_column() -> tensor<64x64x10x1xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64x10x1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64x10x1xf32>) -> tensor<64x64x10x1xf32>
  return %f : tensor<64x64x10x1xf32>
}
func.func @short_rows_small() -> tensor<64x16x3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x16x3x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16x3x4xf32>) -> tensor<64x16x3x4xf32>
  return %f : tensor<64x16x3x4xf32>
}

// -----

// A column sum: the reduction (d0) is never split; the chunks are columns,
// as wide as the register tile of the whole loop (64).
// CHECK-LABEL: func.func @colsum(
// CHECK:         scf.forall (%[[J:.+]]) = (0) to (256) step (64) shared_outs(%[[O:.+]] = %{{.+}})
// CHECK:           tensor.extract_slice %[[O]][%[[J]]] [64] [1]
// CHECK:           scf.for %{{.+}} = %{{.+}} to %c512
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %[[O]][%[[J]]] [64] [1]
#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d1)>
func.func @colsum(%x: tensor<512x256xf32>, %acc: tensor<256xf32>) -> tensor<256xf32> {
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<512x256xf32>) outs(%acc : tensor<256xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %o : f32
    linalg.yield %s : f32
  } -> tensor<256xf32>
  return %r : tensor<256xf32>
}

// -----

// Elementwise over an odd extent: 26 rows -> 13 chunks of 2.
// CHECK-LABEL: func.func @rows(
// CHECK:         scf.forall (%[[I:.+]]) = (0) to (26) step (2)
// CHECK:           vector.transfer_read {{.*}} vector<1x64xf32>
// CHECK:           tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[I]], 0] [2, 4096] [1, 1]
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @rows(%x: tensor<26x4096xf32>) -> tensor<26x4096xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<26x4096xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<26x4096xf32>) outs(%e : tensor<26x4096xf32>) {
  ^bb0(%v: f32, %o: f32):
    %m = arith.maximumf %v, %zero : f32
    linalg.yield %m : f32
  } -> tensor<26x4096xf32>
  return %r : tensor<26x4096xf32>
}

// -----

// The right operand (the im2col matrix of a convolution, 288 x 7744) is much
// larger than the left one: the chunks split n, each reading all of A and
// its own columns of B. 7744 = 11 x 704, and 704 columns keep the 32-wide
// register tile.
// CHECK-LABEL: func.func @wide(
// CHECK:         scf.forall (%[[J:.+]]) = (0) to (7744) step (704)
// CHECK:           tensor.extract_slice %{{.+}}[0, %[[J]]] [64, 704] [1, 1]
// CHECK:           vector.contract {{.*}} into vector<8x32xf32>
func.func @wide(%a: tensor<64x288xf32>, %b: tensor<288x7744xf32>,
                %c: tensor<64x7744xf32>) -> tensor<64x7744xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x288xf32>, tensor<288x7744xf32>)
                     outs(%c : tensor<64x7744xf32>) -> tensor<64x7744xf32>
  return %r : tensor<64x7744xf32>
}
