// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize | FileCheck %s
// RUN: nnc-opt %s -split-input-file -nn-tile-and-vectorize -canonicalize -eliminate-empty-tensors | FileCheck %s --check-prefix=ETE

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
// The update's destination is a tensor.empty of the collapsed shape (not a
// collapse_shape of one, which empty-tensor elimination does not follow):
// the update writes the slot in place, with no copy into it after.
// ETE-LABEL: func.func @filters_update(
// ETE:         %[[FLAT:.+]] = memref.collapse_shape
// ETE:         %[[IN:.+]] = bufferization.to_tensor %[[FLAT]] restrict writable : memref<144xf32, strided<[1], offset: 16>>
// ETE:         %[[NEW:.+]] = scf.for {{.*}} iter_args(%{{.+}} = %[[IN]]) -> (tensor<144xf32>)
// ETE:         bufferization.materialize_in_destination %[[NEW]] in writable %[[FLAT]]
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

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// The slot's old value is also read after the update (here an element of
// it returned): written in place, the update would change what that read
// sees (the slot's reads are `restrict`, bufferization does not see the
// write under them). Flattened all the same, but into a buffer of its own
// (a collapse_shape of a tensor.empty, which empty-tensor elimination
// leaves), copied into the slot by the materialization at the end.
// ETE-LABEL: func.func @read_after_update(
// ETE:         %[[E:.+]] = tensor.empty() : tensor<8x2x3x3xf32>
// ETE:         tensor.collapse_shape %[[E]] {{\[}}[0, 1, 2, 3]] : tensor<8x2x3x3xf32> into tensor<144xf32>
// ETE-NOT:     restrict writable : memref<144xf32
// ETE:         bufferization.materialize_in_destination %{{.+}} in restrict writable %{{.+}} : (tensor<144xf32>,
func.func @read_after_update(%arena: memref<400xf32>, %g: tensor<8x2x3x3xf32>) -> f32 {
  %slot = memref.reinterpret_cast %arena to offset: [16], sizes: [8, 2, 3, 3], strides: [18, 9, 3, 1] : memref<400xf32> to memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %p = bufferization.to_tensor %slot restrict : memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>
  %e = tensor.empty() : tensor<8x2x3x3xf32>
  %new = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g, %p : tensor<8x2x3x3xf32>, tensor<8x2x3x3xf32>) outs(%e : tensor<8x2x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %b, %a : f32
    linalg.yield %s : f32
  } -> tensor<8x2x3x3xf32>
  bufferization.materialize_in_destination %new in restrict writable %slot : (tensor<8x2x3x3xf32>, memref<8x2x3x3xf32, strided<[18, 9, 3, 1], offset: 16>>) -> ()
  %c0 = arith.constant 0 : index
  %old = tensor.extract %p[%c0, %c0, %c0, %c0] : tensor<8x2x3x3xf32>
  return %old : f32
}
