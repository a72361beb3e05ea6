// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize | FileCheck %s

// An optimizer's update of a [64, 32, 3, 3] convolution weight reading its
// gradient from the [C 3 3, F] = [288, 64] matrix (a row-major map): the
// innermost loop (3) is shorter than a vector and reads the gradient across
// it, so its tiles were scalar code. The loops (32, 3, 3) become one loop
// of 288: a [64, 288] transpose in 16 x 16 tiles of vectors; the weight and
// the results collapse to [64, 288] (views of the same memory) and the
// results expand back. The tiles go down the gradient's rows, 16 at a time
// (the tile loop of the innermost loop, k, outermost): each row of G is
// read from start to end while 16 are read abreast.
// CHECK-LABEL: func.func @row_major_gradient(
// CHECK-SAME:    %[[G:[^:]+]]: tensor<288x64xf32>, %[[W:[^:]+]]: tensor<64x32x3x3xf32>
// CHECK-DAG:     %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG:     %[[C288:.+]] = arith.constant 288 : index
// CHECK-DAG:     %[[WC:.+]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1, 2, 3]] : tensor<64x32x3x3xf32> into tensor<64x288xf32>
// CHECK:         scf.for %[[K:.+]] = %{{.+}} to %[[C288]] step %{{.+}} iter_args
// CHECK:           scf.for %[[F:.+]] = %{{.+}} to %[[C64]] step %{{.+}} iter_args
// CHECK:             %[[GT:.+]] = vector.transfer_read %[[G]][%[[K]], %[[F]]]{{.*}} : tensor<288x64xf32>, vector<16x16xf32>
// CHECK:             vector.transpose %[[GT]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK:             vector.transfer_read %[[WC]][%[[F]], %[[K]]]{{.*}} : tensor<64x288xf32>, vector<16x16xf32>
// CHECK-COUNT-2: tensor.expand_shape %{{.+}} {{\[}}[0], [1, 2, 3]] output_shape [64, 32, 3, 3] : tensor<64x288xf32> into tensor<64x32x3x3xf32>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#rowmajor = affine_map<(d0, d1, d2, d3) -> ((d1 * 3 + d2) * 3 + d3, d0)>
func.func @row_major_gradient(%g: tensor<288x64xf32>, %w: tensor<64x32x3x3xf32>)
    -> (tensor<64x32x3x3xf32>, tensor<64x32x3x3xf32>) {
  %e = tensor.empty() : tensor<64x32x3x3xf32>
  %y:2 = linalg.generic {indexing_maps = [#rowmajor, #id, #id, #id],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%g, %w : tensor<288x64xf32>, tensor<64x32x3x3xf32>)
      outs(%e, %e : tensor<64x32x3x3xf32>, tensor<64x32x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32, %o2: f32):
    %r = arith.subf %b, %a : f32
    %r2 = arith.mulf %r, %a : f32
    linalg.yield %r, %r2 : f32, f32
  } -> (tensor<64x32x3x3xf32>, tensor<64x32x3x3xf32>)
  return %y#0, %y#1 : tensor<64x32x3x3xf32>, tensor<64x32x3x3xf32>
}

// -----

// The same gradient as a [32, 3, 3, 64] tensor read through a permutation:
// both operands collapse.
// CHECK-LABEL: func.func @permuted_gradient(
// CHECK-SAME:    %[[G:[^:]+]]: tensor<32x3x3x64xf32>
// CHECK:         %[[GC:.+]] = tensor.collapse_shape %[[G]] {{\[}}[0, 1, 2], [3]] : tensor<32x3x3x64xf32> into tensor<288x64xf32>
// CHECK:         vector.transfer_read %[[GC]]{{.*}} : tensor<288x64xf32>, vector<16x16xf32>
// CHECK:         vector.transpose
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#perm = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3, d0)>
func.func @permuted_gradient(%g: tensor<32x3x3x64xf32>, %w: tensor<64x32x3x3xf32>)
    -> tensor<64x32x3x3xf32> {
  %e = tensor.empty() : tensor<64x32x3x3xf32>
  %y = linalg.generic {indexing_maps = [#perm, #id, #id],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%g, %w : tensor<32x3x3x64xf32>, tensor<64x32x3x3xf32>)
      outs(%e : tensor<64x32x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %b, %a : f32
    linalg.yield %r : f32
  } -> tensor<64x32x3x3xf32>
  return %y : tensor<64x32x3x3xf32>
}

// -----

// Not when an operand's dimensions are not one run in memory (a strided
// slice: collapsing it would copy it), nor when the innermost loop is as
// long as a vector (its transposed tiles are already vectors).
// CHECK-LABEL: func.func @strided_weight(
// CHECK-NOT:     tensor.collapse_shape
// CHECK-LABEL: func.func @long_innermost(
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         return
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#rowmajor = affine_map<(d0, d1, d2, d3) -> ((d1 * 3 + d2) * 3 + d3, d0)>
#rowmajor16 = affine_map<(d0, d1, d2, d3) -> ((d1 * 2 + d2) * 16 + d3, d0)>
func.func @strided_weight(%g: tensor<288x64xf32>, %big: tensor<64x32x3x6xf32>)
    -> tensor<64x32x3x3xf32> {
  %w = tensor.extract_slice %big[0, 0, 0, 0] [64, 32, 3, 3] [1, 1, 1, 2]
      : tensor<64x32x3x6xf32> to tensor<64x32x3x3xf32>
  %e = tensor.empty() : tensor<64x32x3x3xf32>
  %y = linalg.generic {indexing_maps = [#rowmajor, #id, #id],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%g, %w : tensor<288x64xf32>, tensor<64x32x3x3xf32>)
      outs(%e : tensor<64x32x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %b, %a : f32
    linalg.yield %r : f32
  } -> tensor<64x32x3x3xf32>
  return %y : tensor<64x32x3x3xf32>
}
func.func @long_innermost(%g: tensor<1024x64xf32>, %w: tensor<64x32x2x16xf32>)
    -> tensor<64x32x2x16xf32> {
  %e = tensor.empty() : tensor<64x32x2x16xf32>
  %y = linalg.generic {indexing_maps = [#rowmajor16, #id, #id],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%g, %w : tensor<1024x64xf32>, tensor<64x32x2x16xf32>)
      outs(%e : tensor<64x32x2x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %b, %a : f32
    linalg.yield %r : f32
  } -> tensor<64x32x2x16xf32>
  return %y : tensor<64x32x2x16xf32>
}
