// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize | FileCheck %s

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// An optimizer's update of a 3x3 convolution's filters [8, 2, 3, 3] (144
// floats), written into its slot of the state arena: one loop of whole
// vectors instead of rows of 3 (of one vector each: 144 is no multiple of
// two or four vectors, and three are not a tile), written into the
// collapsed slot (defined right after the slot, so that empty-tensor
// elimination can still make the update write in place).
// CHECK-LABEL: func.func @filters_update(
// CHECK:         %[[SLOT:.+]] = memref.reinterpret_cast
// CHECK-NEXT:    %[[FLAT:.+]] = memref.collapse_shape %[[SLOT]] {{\[}}[0, 1, 2, 3]] : memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>> into memref<144xf32, strided<[1], offset: 16>>
// CHECK-NOT:     linalg.generic
// CHECK:         vector.transfer_read %{{.+}} : tensor<144xf32>, vector<16xf32>
// CHECK:         bufferization.materialize_in_destination %{{.+}} in restrict writable %[[FLAT]] : (tensor<144xf32>, memref<144xf32, strided<[1], offset: 16>>) -> ()
func.func @filters_update(%arena: memref<400xf32>, %g: tensor<8x2x3x3xf32>) {
  %slot = memref.reinterpret_cast %arena to offset: [16], sizes: [8, 2, 3, 3], strides: [18, 9, 3, 1] : memref<400xf32> to memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %p = bufferization.to_tensor %slot restrict : memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %e = tensor.empty() : tensor<8x2x3x3xf32>
  %lr = arith.constant 0.1 : f32
  %new = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g, %p : tensor<8x2x3x3xf32>, tensor<8x2x3x3xf32>) outs(%e : tensor<8x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %lr : f32
    %s = arith.subf %b, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x2x3x3xf32>
  bufferization.materialize_in_destination %new in restrict writable %slot : (tensor<8x2x3x3xf32>, memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>) -> ()
  return
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Not when a result has another use (here returned): the generic keeps its
// loops.
// CHECK-LABEL: func.func @used_elsewhere(
// CHECK-NOT:     memref.collapse_shape
// CHECK:         bufferization.materialize_in_destination %{{.+}} in restrict writable %{{.+}} : (tensor<8x2x3x3xf32>,
func.func @used_elsewhere(%arena: memref<400xf32>, %g: tensor<8x2x3x3xf32>) -> tensor<8x2x3x3xf32> {
  %slot = memref.reinterpret_cast %arena to offset: [16], sizes: [8, 2, 3, 3], strides: [18, 9, 3, 1] : memref<400xf32> to memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %p = bufferization.to_tensor %slot restrict : memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %e = tensor.empty() : tensor<8x2x3x3xf32>
  %new = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g, %p : tensor<8x2x3x3xf32>, tensor<8x2x3x3xf32>) outs(%e : tensor<8x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %b, %a : f32
    linalg.yield %s : f32
  } -> tensor<8x2x3x3xf32>
  bufferization.materialize_in_destination %new in restrict writable %slot : (tensor<8x2x3x3xf32>, memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>) -> ()
  return %new : tensor<8x2x3x3xf32>
}
