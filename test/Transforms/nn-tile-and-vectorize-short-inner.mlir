// RUN: nnc-opt %s -nn-tile-and-vectorize | FileCheck %s

// A max-pooling gradient over its windows' view [N, C, OH, kh, OW, kw] with
// the kernel column j innermost (as elementwise fusion leaves it): the short
// j loop (2) and the row of windows (16) are interchanged, so vectors run
// along the windows (16 lanes; the loop over j is scalar), not along j (2
// lanes). The write, whose map then permutes a unit dimension, is the same
// transfer in the tensor's order after a shape_cast (no transpose, whose
// lowering would move the elementwise ops onto <16x1> vectors).
// CHECK-LABEL: func.func @pool_grad_windows(
// CHECK:         scf.for %[[I:.+]] = %c0 to %c2
// CHECK:           scf.for %[[J:.+]] = %c0 to %c2
// CHECK:             vector.transfer_read {{.*}} vector<1x1x1x16xf32>
// CHECK:             vector.transfer_read {{.*}} vector<1x1x1x16xf32>
// CHECK:             arith.index_cast %[[J]]
// CHECK:             %[[SEL:.+]] = arith.select {{.*}} vector<1x1x1x1x1x16xf32>
// CHECK:             %[[T:.+]] = vector.shape_cast %[[SEL]] : vector<1x1x1x1x1x16xf32> to vector<1x1x1x1x16x1xf32>
// CHECK:             vector.transfer_write %[[T]], %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[I]], %c0, %[[J]]] {in_bounds = [true, true, true, true, true, true]} : vector<1x1x1x1x16x1xf32>
// CHECK-NOT:   vector.transpose
// CHECK-NOT:   vector<{{.*}}x2xf32>
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
