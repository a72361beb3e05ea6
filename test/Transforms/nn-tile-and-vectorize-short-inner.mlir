// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s

// A max-pooling gradient over its windows' view [N, C, OH, kh, OW, kw] with
// the kernel column j innermost (as elementwise fusion leaves it): the short
// j loop (2) and the row of windows (16) are interchanged, so that vectors
// run along the windows (16 lanes), not along j (2 lanes). The tile then
// takes the whole j loop: a [2, 16] vector whose transposed write is the two
// rows interleaved by one shuffle and written in the tensor's order, one
// contiguous run of 32 floats (nn-lower-vector-tiles flattens it), instead
// of a strided write per j (a read, merge and write of the same span twice,
// the second read stalled on the first write). No vector.transpose of the
// result: elementwise ops would be moved after it, onto vectors of 2 lanes.
// CHECK-LABEL: func.func @pool_grad_windows(
// CHECK:         scf.for %[[I:.+]] = %c0 to %c2
// CHECK-NOT:       scf.for
// CHECK:           vector.transfer_read {{.*}} vector<1x1x1x16xf32>
// CHECK:           vector.transfer_read {{.*}} vector<1x1x1x16xf32>
// CHECK:           %[[SEL:.+]] = arith.select {{.*}} vector<1x1x1x1x2x16xf32>
// CHECK:           %[[FLAT:.+]] = vector.shape_cast %[[SEL]] : vector<1x1x1x1x2x16xf32> to vector<32xf32>
// CHECK:           %[[MIX:.+]] = vector.shuffle %[[FLAT]], %[[FLAT]] [0, 16, 1, 17, 2, 18, {{.*}}, 15, 31] : vector<32xf32>, vector<32xf32>
// CHECK:           %[[T:.+]] = vector.shape_cast %[[MIX]] : vector<32xf32> to vector<1x1x1x1x16x2xf32>
// CHECK:           vector.transfer_write %[[T]], %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[I]], %c0, %c0] {in_bounds = [true, true, true, true, true, true]} : vector<1x1x1x1x16x2xf32>
// CHECK-NOT:   vector.transpose %[[SEL]]
#in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @pool_grad_windows(%idx: tensor<1x4x3x16xf32>, %dy: tensor<1x4x3x16xf32>) -> tensor<1x4x3x2x16x2xf32> {
  %e = tensor.empty() : tensor<1x4x3x2x16x2xf32>
  %r = linalg.generic {indexing_maps = [#in, #in, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%idx, %dy : tensor<1x4x3x16xf32>, tensor<1x4x3x16xf32>) outs(%e : tensor<1x4x3x2x16x2xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %j = linalg.index 5 : index
    %ji = arith.index_cast %j : index to i32
    %jf = arith.sitofp %ji : i32 to f32
    %hit = arith.cmpf oeq, %a, %jf : f32
    %zero = arith.constant 0.0 : f32
    %v = arith.select %hit, %g, %zero : f32
    linalg.yield %v : f32
  } -> tensor<1x4x3x2x16x2xf32>
  return %r : tensor<1x4x3x2x16x2xf32>
}

// -----

// An input read along j (the window's own offsets): the tile stays one j
// wide, vectors along the windows with a strided write per j.
// CHECK-LABEL: func.func @pool_grad_reads_columns(
// CHECK:         scf.for %[[I:.+]] = %c0 to %c2
// CHECK:           scf.for %[[J:.+]] = %c0 to %c2
// CHECK:             %[[SEL:.+]] = arith.select {{.*}} vector<1x1x1x1x1x16xf32>
// CHECK:             %[[T:.+]] = vector.shape_cast %[[SEL]] : vector<1x1x1x1x1x16xf32> to vector<1x1x1x1x16x1xf32>
// CHECK:             vector.transfer_write %[[T]], %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[I]], %c0, %[[J]]]
// CHECK-NOT:   vector.shuffle
#cols = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4, d5)>
#in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @pool_grad_reads_columns(%idx: tensor<1x4x3x16x2xf32>, %dy: tensor<1x4x3x16xf32>) -> tensor<1x4x3x2x16x2xf32> {
  %e = tensor.empty() : tensor<1x4x3x2x16x2xf32>
  %r = linalg.generic {indexing_maps = [#cols, #in, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%idx, %dy : tensor<1x4x3x16x2xf32>, tensor<1x4x3x16xf32>) outs(%e : tensor<1x4x3x2x16x2xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %hit = arith.cmpf oeq, %a, %zero : f32
    %v = arith.select %hit, %g, %zero : f32
    linalg.yield %v : f32
  } -> tensor<1x4x3x2x16x2xf32>
  return %r : tensor<1x4x3x2x16x2xf32>
}
