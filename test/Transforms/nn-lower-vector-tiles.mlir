// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s --check-prefix=TILES
// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -nn-lower-vector-tiles | FileCheck %s

// nn-tile-and-vectorize leaves one vector.transpose per tile
// TILES-LABEL: func.func @transpose_nchw_to_nhwc(
// TILES:         vector.transpose %{{.+}}, [0, 2, 3, 1] : vector<1x16x1x7xf32> to vector<1x1x7x16xf32>
// TILES-NOT:     vector.shuffle

// The conv weight gradient's dy transpose [N, F, OH, OW] -> [N, OH, OW, F]
// with OW = 7: its 7x16 tiles are not 16x16 (and too thin to pad, see
// @transpose_padded), so the transpose becomes one 1-D shuffle, and the
// shape_casts around it (the tile has unit dimensions: vector<1x16x1x7>)
// move whole rows: extract + insert_strided_slice in, extract_strided_slice
// + insert out, never one element at a time.
// CHECK-LABEL: func.func @transpose_nchw_to_nhwc(
// CHECK: vector.transfer_read {{.*}} vector<1x16x1x7xf32>
// CHECK-COUNT-16: vector.insert_strided_slice {{.*}} : vector<7xf32> into vector<112xf32>
// CHECK: vector.shuffle {{.*}} : vector<112xf32>, vector<112xf32>
// CHECK-COUNT-7: vector.extract_strided_slice {{.*}} {offsets = [{{[0-9]+}}], sizes = [16], strides = [1]} : vector<112xf32> to vector<16xf32>
// CHECK-NOT: vector.shape_cast
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.transfer_write {{.*}} vector<1x1x7x16xf32>
func.func @transpose_nchw_to_nhwc(%dy: tensor<64x64x7x7xf32>) -> tensor<64x7x7x64xf32> {
  %e = tensor.empty() : tensor<64x7x7x64xf32>
  %t = linalg.transpose ins(%dy : tensor<64x64x7x7xf32>) outs(%e : tensor<64x7x7x64xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x7x7x64xf32>
}

// -----

// The same with OW = 11 (tiles of 11x16): rows of 8 to 16 lanes are
// widened to 16 (a shuffle each), the tile transposed as 16 x 16 (64
// two-source shuffles of vector<16>, 59 once the 5 last-stage shuffles of
// dropped rows die), and the first 11 rows of the result kept; no vector of
// 176 lanes, no element extracted.
// TILES-LABEL: func.func @transpose_padded(
// TILES:         vector.transpose %{{.+}}, [0, 2, 3, 1] : vector<1x16x1x11xf32> to vector<1x1x11x16xf32>
// CHECK-LABEL: func.func @transpose_padded(
// CHECK: vector.transfer_read {{.*}} vector<1x16x1x11xf32>
// CHECK-COUNT-16: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0] : vector<11xf32>, vector<11xf32>
// CHECK-COUNT-59: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-NOT: vector.shuffle
// CHECK-COUNT-11: vector.insert {{.*}} : vector<16xf32> into vector<1x1x11x16xf32>
// CHECK-NOT: vector<176xf32>
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.transfer_write {{.*}} vector<1x1x11x16xf32>
func.func @transpose_padded(%dy: tensor<64x64x11x11xf32>) -> tensor<64x11x11x64xf32> {
  %e = tensor.empty() : tensor<64x11x11x64xf32>
  %t = linalg.transpose ins(%dy : tensor<64x64x11x11xf32>) outs(%e : tensor<64x11x11x64xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<64x11x11x64xf32>
}

// -----

// The other way, channels-last back to NCHW in 14x16 tiles (a 14x14
// convolution's output, h w collapsed to 196 = 14 x 14): 14 rows of 16
// lanes padded to 16 rows (copies of the first), transposed as 16 x 16, and
// each of the 16 result rows cut to its first 14 lanes.
// CHECK-LABEL: func.func @transpose_padded_rows(
// CHECK: vector.transfer_read {{.*}} vector<14x16xf32>
// CHECK-NOT: vector<224xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-COUNT-16: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [14], strides = [1]} : vector<16xf32> to vector<14xf32>
// CHECK-NOT: vector<224xf32>
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.transfer_write {{.*}} : vector<16x14xf32>
func.func @transpose_padded_rows(%x: memref<196x64xf32>, %y: memref<64x196xf32>) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%c0, %c0], %z {in_bounds = [true, true]} : memref<196x64xf32>, vector<14x16xf32>
  %t = vector.transpose %v, [1, 0] : vector<14x16xf32> to vector<16x14xf32>
  vector.transfer_write %t, %y[%c0, %c0] {in_bounds = [true, true]} : vector<16x14xf32>, memref<64x196xf32>
  return
}

// -----

// 7x16 tiles (a 7x7 image channels-last back to NCHW, h w collapsed to 49)
// are padded the same way: 64 shuffles of vector<16>, no shuffle of 112
// lanes (which x86's instruction selection lowers in more code).
// CHECK-LABEL: func.func @transpose_padded_7_rows(
// CHECK: vector.transfer_read {{.*}} vector<7x16xf32>
// CHECK-NOT: vector<112xf32>
// CHECK-COUNT-64: vector.shuffle {{.*}} : vector<16xf32>, vector<16xf32>
// CHECK-COUNT-16: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [7], strides = [1]} : vector<16xf32> to vector<7xf32>
// CHECK-NOT: vector<112xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16x7xf32>
func.func @transpose_padded_7_rows(%x: memref<49x64xf32>, %y: memref<64x49xf32>) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  %v = vector.transfer_read %x[%c0, %c0], %z {in_bounds = [true, true]} : memref<49x64xf32>, vector<7x16xf32>
  %t = vector.transpose %v, [1, 0] : vector<7x16xf32> to vector<16x7xf32>
  vector.transfer_write %t, %y[%c0, %c0] {in_bounds = [true, true]} : vector<16x7xf32>, memref<64x49xf32>
  return
}

// -----

// Only tiles of 32-bit elements are padded: an index tile (and an i1 mask)
// keeps MLIR's lowering.
// CHECK-LABEL: func.func @transpose_not_padded(
// CHECK-NOT: vector<16x16x
// CHECK: return
func.func @transpose_not_padded(%v: vector<14x16xindex>, %m: vector<14x16xi1>) -> (vector<16x14xindex>, vector<16x14xi1>) {
  %t = vector.transpose %v, [1, 0] : vector<14x16xindex> to vector<16x14xindex>
  %u = vector.transpose %m, [1, 0] : vector<14x16xi1> to vector<16x14xi1>
  return %t, %u : vector<16x14xindex>, vector<16x14xi1>
}

// -----

// A matmul register tile after bufferization (as the kernels have it): one
// 8x16 x 16x32 vector.contract becomes 16 outer products, i.e. 8 broadcast +
// FMA rows each, 128 FMAs of vector<32xf32> in all, and no contract is left.
// CHECK-LABEL: func.func @tile(
// CHECK-NOT:     vector.contract
// CHECK-COUNT-128: vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT:     vector.fma
// CHECK:         vector.transfer_write {{.*}} : vector<8x32xf32>, memref<8x32xf32>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @tile(%a: memref<8x16xf32>, %b: memref<16x32xf32>, %c: memref<8x32xf32>) {
  %i = arith.constant 0 : index
  %z = arith.constant 0.0 : f32
  %va = vector.transfer_read %a[%i, %i], %z {in_bounds = [true, true]} : memref<8x16xf32>, vector<8x16xf32>
  %vb = vector.transfer_read %b[%i, %i], %z {in_bounds = [true, true]} : memref<16x32xf32>, vector<16x32xf32>
  %vc = vector.transfer_read %c[%i, %i], %z {in_bounds = [true, true]} : memref<8x32xf32>, vector<8x32xf32>
  %r = vector.contract {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %va, %vb, %vc : vector<8x16xf32>, vector<16x32xf32> into vector<8x32xf32>
  vector.transfer_write %r, %c[%i, %i] {in_bounds = [true, true]} : vector<8x32xf32>, memref<8x32xf32>
  return
}

// -----

// A pooling gradient's interleaved windows (nn-tile-and-vectorize: a 1-D
// shuffle shape_cast to the [OW, kw] tile): one write of the 26 floats into
// the memref with its last two dimensions collapsed (they are one run),
// not one write of 2 floats per window.
// CHECK-LABEL: func.func @interleaved_windows(
// CHECK-SAME:    %[[V:.+]]: vector<26xf32>, %[[M:.+]]: memref<4x2x13x2xf32, strided<[104, 52, 2, 1], offset: ?>>, %[[I:.+]]: index, %[[K:.+]]: index)
// CHECK:         %[[C:.+]] = memref.collapse_shape %[[M]] {{\[}}[0], [1], [2, 3]] : memref<4x2x13x2xf32, strided<[104, 52, 2, 1], offset: ?>> into memref<4x2x26xf32, strided<[104, 52, 1], offset: ?>>
// CHECK:         %[[F:.+]] = vector.insert %[[V]], %{{.+}} [0, 0] : vector<26xf32> into vector<1x1x26xf32>
// CHECK:         vector.transfer_write %[[F]], %[[C]][%[[I]], %[[K]], %{{.+}}] {in_bounds = [true, true, true]} : vector<1x1x26xf32>
// CHECK-NOT:     vector.transfer_write
func.func @interleaved_windows(%v: vector<26xf32>, %m: memref<4x2x13x2xf32, strided<[104, 52, 2, 1], offset: ?>>, %i: index, %k: index) {
  %c0 = arith.constant 0 : index
  %t = vector.shape_cast %v : vector<26xf32> to vector<1x1x13x2xf32>
  vector.transfer_write %t, %m[%i, %k, %c0, %c0] {in_bounds = [true, true, true, true]} : vector<1x1x13x2xf32>, memref<4x2x13x2xf32, strided<[104, 52, 2, 1], offset: ?>>
  return
}

// -----

// The same tile into rows that are not one run (a padded last dimension):
// written row by row as before, no collapse.
// CHECK-LABEL: func.func @padded_windows(
// CHECK-NOT:     memref.collapse_shape
// CHECK:         vector.transfer_write {{.*}} : vector<1x1x13x2xf32>, memref<4x2x13x2xf32, strided<[104, 52, 3, 1]>>
func.func @padded_windows(%v: vector<26xf32>, %m: memref<4x2x13x2xf32, strided<[104, 52, 3, 1]>>, %i: index, %k: index) {
  %c0 = arith.constant 0 : index
  %t = vector.shape_cast %v : vector<26xf32> to vector<1x1x13x2xf32>
  vector.transfer_write %t, %m[%i, %k, %c0, %c0] {in_bounds = [true, true, true, true]} : vector<1x1x13x2xf32>, memref<4x2x13x2xf32, strided<[104, 52, 3, 1]>>
  return
}

// -----

// A sum by lanes' tile (nn-tile-and-vectorize's blocks of 7 x 16 lanes):
// the per-sample weight's mask, all lanes equal, is computed once on
// scalars and broadcast, not compared in one layout and transposed lane by
// lane into another; the tile's unit dimensions go by one extract and one
// broadcast of its [7, 16] rows, not element by element.
// CHECK-LABEL: func.func @uniform_mask(
// CHECK:         %[[W:.+]] = vector.extract %{{.+}}[0] : f32 from vector<1xf32>
// CHECK:         %[[Z:.+]] = arith.cmpf oeq, %[[W]], %{{.+}} : f32
// CHECK:         vector.broadcast %[[Z]] : i1 to vector<1x1x1x7x16xi1>
// CHECK-NOT:     vector.transpose
// CHECK-NOT:     vector.shuffle
// CHECK:         vector.extract %{{.+}}[0, 0, 0] : vector<7x16xf32> from vector<1x1x1x7x16xf32>
// CHECK-NOT:     f32 from vector<1x1x1x7x16xf32>
func.func @uniform_mask(%x: vector<1x1x1x7x16xf32>, %w: vector<1xf32>, %acc: vector<1x7x16xf32>) -> vector<1x7x16xf32> {
  %zero = arith.constant dense<0.000000e+00> : vector<1x1x7x16x1xf32>
  %zeros = arith.constant dense<0.000000e+00> : vector<1x1x1x7x16xf32>
  %wb = vector.broadcast %w : vector<1xf32> to vector<1x1x7x16x1xf32>
  %wr = vector.broadcast %w : vector<1xf32> to vector<1x1x1x7x16xf32>
  %c = arith.cmpf oeq, %wb, %zero : vector<1x1x7x16x1xf32>
  %ct = vector.transpose %c, [0, 4, 1, 2, 3] : vector<1x1x7x16x1xi1> to vector<1x1x1x7x16xi1>
  %p = arith.mulf %wr, %x : vector<1x1x1x7x16xf32>
  %m = arith.select %ct, %zeros, %p : vector<1x1x1x7x16xi1>, vector<1x1x1x7x16xf32>
  %r = vector.shape_cast %m : vector<1x1x1x7x16xf32> to vector<1x7x16xf32>
  %s = arith.addf %acc, %r : vector<1x7x16xf32>
  return %s : vector<1x7x16xf32>
}
