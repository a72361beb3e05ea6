// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize -cse -loop-invariant-subset-hoisting | FileCheck %s --check-prefix=HOIST
// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize="parallel-chunks=8 parallel-min-work=1" | FileCheck %s --check-prefix=CHUNK

// A convolution's bias gradient, [n, c, h, w] -> [c]: h and w run
// contiguously through the input and collapse into one loop of 676 lanes:
// 42 whole vectors, in 6 blocks of 7 x 16 lanes, sample-major (the samples
// are the input's outermost dimension: 4 chunks of one sample, [4, 32, 7,
// 16] partial sums), and 4 lanes left, added as rows of 4 into
// [32, 4] partial sums. Then each channel's lanes are reduced once into the
// result, the blocks' then the rest's.
// CHECK-LABEL: func.func @bias_grad(
// CHECK:         %[[X:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<4x32x26x26xf32> into tensor<4x32x676xf32>
// CHECK:         %[[MAIN:.+]] = tensor.extract_slice %[[X]][0, 0, 0] [4, 32, 672] [1, 1, 1]
// CHECK:         %[[BLOCKS:.+]] = tensor.expand_shape %[[MAIN]] {{\[}}[0, 1], [2], [3, 4, 5]] output_shape [4, 1, 32, 6, 7, 16]
// CHECK:         tensor.empty() : tensor<4x32x7x16xf32>
// CHECK:         vector.transfer_read %[[BLOCKS]]{{.*}} : tensor<4x1x32x6x7x16xf32>, vector<1x1x1x1x7x16xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 3] : vector<1x1x1x1x7x16xf32> to vector<1x1x7x16xf32>
// CHECK:         tensor.empty() : tensor<32x4xf32>
// CHECK:         %[[ROW:.+]] = vector.transfer_read %[[X]][%{{.+}}, %{{.+}}, %c672]{{.*}} : tensor<4x32x676xf32>, vector<1x1x4xf32>
// CHECK:         vector.multi_reduction <add>, %[[ROW]], %{{.+}} [0] : vector<1x1x4xf32> to vector<1x4xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 2, 3] : vector<1x1x1x16xf32> to vector<1xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1] : vector<1x4xf32> to vector<1xf32>
// CHECK-NOT:     vector<1x1x1x26xf32>

func.func @bias_grad(%x: tensor<4x32x26x26xf32>) -> tensor<32xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<32xf32>) -> tensor<32xf32>
  %r = linalg.reduce ins(%x : tensor<4x32x26x26xf32>) outs(%f : tensor<32xf32>) dimensions = [0, 2, 3]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<32xf32>
}

// -----

// Batchnorm's backward sums (of dy and of dy (x - mean), one fused op with
// two results, the mean broadcast per channel) over 14 x 14 = 196 lanes:
// 12 vectors in 2 blocks of 6 x 16 ([4, 8, 6, 16] partial sums each,
// sample-major), then the 4 lanes left ([8, 4] each); then the lanes of
// each sum reduced, blocks first.
// CHECK-LABEL: func.func @batchnorm_sums(
// CHECK-COUNT-2: tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<4x8x14x14xf32> into tensor<4x8x196xf32>
// CHECK:         scf.for {{.*}} -> (tensor<4x8x6x16xf32>, tensor<4x8x6x16xf32>)
// CHECK:           vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 3] : vector<1x1x1x1x6x16xf32> to vector<1x1x6x16xf32>
// CHECK:           vector.contract {{.*}} : vector<1x1x1x1x6x16xf32>, vector<1x1x1x1x6x16xf32> into vector<1x1x6x16xf32>
// CHECK:         scf.for {{.*}} -> (tensor<8x4xf32>, tensor<8x4xf32>)
// CHECK:           vector.multi_reduction <add>, %{{.+}}, %{{.+}} [0] : vector<1x1x4xf32> to vector<1x4xf32>
// CHECK:           vector.contract {{.*}} : vector<1x1x4xf32>, vector<1x1x4xf32> into vector<1x4xf32>
// CHECK-COUNT-2: vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1{{(, 2, 3)?}}] : vector<1x{{(1x1x16|4)}}xf32> to vector<1xf32>

#nchw = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @batchnorm_sums(%dy: tensor<4x8x14x14xf32>, %x: tensor<4x8x14x14xf32>,
                          %mean: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %s:2 = linalg.generic {indexing_maps = [#nchw, #nchw, #chan, #chan, #chan],
                         iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%dy, %x, %mean : tensor<4x8x14x14xf32>, tensor<4x8x14x14xf32>, tensor<8xf32>)
      outs(%f, %f : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%g: f32, %v: f32, %m: f32, %sum: f32, %dot: f32):
    %c = arith.subf %v, %m : f32
    %p = arith.mulf %g, %c : f32
    %a = arith.addf %sum, %g : f32
    %b = arith.addf %p, %dot : f32
    linalg.yield %a, %b : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  return %s#0, %s#1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// Rows read transposed (h and w swapped in the input's map) do not run
// contiguously: no collapse; the lanes are w's 14.
// CHECK-LABEL: func.func @transposed_rows(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         tensor.empty() : tensor<8x14xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [0, 2] : vector<1x1x14x14xf32> to vector<1x14xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1] : vector<1x14xf32> to vector<1xf32>

#transposed = affine_map<(n, c, h, w) -> (n, c, w, h)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @transposed_rows(%x: tensor<4x8x14x14xf32>) -> tensor<8xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.generic {indexing_maps = [#transposed, #chan],
                       iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x : tensor<4x8x14x14xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%v: f32, %sum: f32):
    %a = arith.addf %v, %sum : f32
    linalg.yield %a : f32
  } -> tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// A sum over the innermost loop only (a softmax's row sums): nothing to add
// lanes across; each row is reduced as before.
// CHECK-LABEL: func.func @row_sums(
// CHECK-NOT:     tensor.empty() : tensor<64x10xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1] : vector<1x10xf32> to vector<1xf32>

func.func @row_sums(%x: tensor<64x10xf32>) -> tensor<64xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %r = linalg.reduce ins(%x : tensor<64x10xf32>) outs(%f : tensor<64xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<64xf32>
}

// -----

// Not a sum (the maximum of each channel): as before.
// CHECK-LABEL: func.func @channel_max(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         vector.multi_reduction <maximumf>, %{{.+}}, %{{.+}} [0, 2, 3] : vector<1x1x1x26xf32> to vector<1xf32>

func.func @channel_max(%x: tensor<4x32x26x26xf32>) -> tensor<32xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<32xf32>) -> tensor<32xf32>
  %r = linalg.reduce ins(%x : tensor<4x32x26x26xf32>) outs(%f : tensor<32xf32>) dimensions = [0, 2, 3]
    (%in: f32, %acc: f32) {
      %s = arith.maximumf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<32xf32>
}

// -----

// Lanes of whole vectors (a 28x28 image: 784 lanes, 49 vectors) go in
// blocks of 7 x 16, sample-major: loops (chunk, n, c, block) around a
// [7, 16] tile, so that each sample's [c, h, w] is read as one stream; the
// 16 samples in 8 chunks of 2 with partial sums of their own ([8, 8, 7, 16];
// the same in serial code as in parallel chunks); then the chunks and 7 x 16
// lanes of each channel summed. The mask of the per-sample weight (a partial
// batch) as before, its samples split like the input's.
// CHECK-LABEL: func.func @block_sums(
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0, 1], [2], [3, 4, 5]] output_shape [8, 2, 8, 7, 7, 16] : tensor<16x8x784xf32> into tensor<8x2x8x7x7x16xf32>
// CHECK:         tensor.expand_shape %{{.+}} {{\[}}[0, 1]] output_shape [8, 2] : tensor<16xf32> into tensor<8x2xf32>
// CHECK:         scf.for %[[K:.+]] = %{{.+}} to %c8
// CHECK:           scf.for %[[N:.+]] = %{{.+}} to %c2
// CHECK:             scf.for %[[C:.+]] = %{{.+}} to %c8
// CHECK:               scf.for %[[B:.+]] = %{{.+}} to %c7
// CHECK:                 vector.transfer_read %{{.+}}[%[[K]], %[[N]], %[[C]], %[[B]], %{{.+}}, %{{.+}}]{{.*}} : tensor<8x2x8x7x7x16xf32>, vector<1x1x1x1x7x16xf32>
// CHECK:                 arith.select
// CHECK:                 vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 3] : vector<1x1x1x1x7x16xf32> to vector<1x1x7x16xf32>
// CHECK:         vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 2, 3] : vector<1x1x1x16xf32> to vector<1xf32>
// Once the loop-invariant reads and writes of the tile are hoisted (as in
// nnc-cpu-codegen), the tile is carried in registers through the blocks:
// read and written once per sample and channel (in L1).
// HOIST-LABEL: func.func @block_sums(
// HOIST:           vector.transfer_read {{.*}} : tensor<8x8x7x16xf32>, vector<1x1x7x16xf32>
// HOIST-NEXT:      scf.for {{.*}} -> (tensor<8x8x7x16xf32>, vector<1x1x7x16xf32>)
// HOIST-NOT:         vector.transfer_write
// HOIST:           vector.transfer_write {{.*}} : vector<1x1x7x16xf32>, tensor<8x8x7x16xf32>
// With parallel chunks, the chunks of samples are the tasks: each computes
// its own partial sums; the chunks' sums are added after them, the same on
// any number of threads.
// CHUNK-LABEL: func.func @block_sums(
// CHUNK:         tensor.expand_shape %{{.+}} output_shape [8, 2, 8, 7, 7, 16] : tensor<16x8x784xf32> into tensor<8x2x8x7x7x16xf32>
// CHUNK:         tensor.empty() : tensor<8x8x7x16xf32>
// CHUNK:         scf.forall (%{{.+}}) in (8) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x8x7x16xf32>)
// CHUNK:         scf.forall (%[[K:.+]]) in (8) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<8x8x7x16xf32>)
// CHUNK:           scf.for %[[N:.+]] = %{{.+}} to %c2
// CHUNK:             scf.for %{{.+}} = %{{.+}} to %c8
// CHUNK:               scf.for %{{.+}} = %{{.+}} to %c7
// CHUNK:                 vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 3] : vector<1x1x1x1x7x16xf32> to vector<1x1x7x16xf32>
// CHUNK:         scf.forall
// CHUNK:               vector.transfer_read %{{.+}} : tensor<8x8x7x16xf32>, vector<1x1x1x16xf32>
// CHUNK:               vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1, 2, 3] : vector<1x1x1x16xf32> to vector<1xf32>

#nchw = affine_map<(n, c, h, w) -> (n, c, h, w)>
#sample = affine_map<(n, c, h, w) -> (n)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @block_sums(%x: tensor<16x8x28x28xf32>, %weight: tensor<16xf32>) -> tensor<8xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.generic {indexing_maps = [#nchw, #sample, #chan],
                       iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%x, %weight : tensor<16x8x28x28xf32>, tensor<16xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%v: f32, %w: f32, %sum: f32):
    %zero = arith.cmpf oeq, %w, %cst : f32
    %p = arith.mulf %w, %v : f32
    %m = arith.select %zero, %cst, %p : f32
    %a = arith.addf %sum, %m : f32
    linalg.yield %a : f32
  } -> tensor<8xf32>
  return %s : tensor<8xf32>
}
