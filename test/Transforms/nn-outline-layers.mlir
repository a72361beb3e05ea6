// RUN: nnc-opt %s --nn-outline-layers=min-ops=0 | FileCheck %s
// RUN: nnc-opt %s --nn-outline-layers | FileCheck %s --check-prefix=SMALL
//
// nn-outline-layers: each layer's run of tensor ops (one location) becomes a
// call; identical runs share one function. Here dense_0 and dense_1 differ
// only in where their weight lies in the arena: one function, called with
// the arena and each offset. The constant fill both matmuls accumulate into
// (one value after CSE) is recomputed in the function, not passed. The
// relu's input reshapes stay views: cloned into its function, which takes
// the matmul's result. The weight update writes back into the arena inside
// its function. A run using a tensor whose buffer may have a non-identity
// layout (a subview of an entry argument) stays in the entry point. Below min-ops (default 2000) nothing changes.

// SMALL-NOT: call @
// SMALL-NOT: nn.layer_calls

// CHECK-LABEL: func.func @nnc_train(
// CHECK-SAME: attributes {nn.layer_calls}
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[D0:.*]] = call @[[DENSE:__nnc_layer_[0-9]+]](%{{.*}}, %arg0, %[[C0]]) : (tensor<4x2xf32>, memref<8xf32>, index) -> tensor<4x2xf32>
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[D1:.*]] = call @[[DENSE]](%[[D0]], %arg0, %[[C4]])
// CHECK: %[[R:.*]] = call @[[RELU:__nnc_layer_[0-9]+]](%[[D1]]) : (tensor<4x2xf32>) -> tensor<4x2xf32>
// CHECK: call @[[UPDATE:__nnc_layer_[0-9]+]](%arg0, %{{.*}}) : (memref<8xf32>, index) -> ()
// CHECK: %[[SUB:.*]] = bufferization.to_tensor %subview
// CHECK: linalg.generic {{.*}} ins(%[[SUB]] :
// CHECK: arith.subf
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %subview
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %arg2
// CHECK-NOT: materialize_in_destination
// CHECK: return

// CHECK: func.func private @[[DENSE]](%[[X:.*]]: tensor<4x2xf32>, %[[ARENA:.*]]: memref<8xf32>, %[[OFF:.*]]: index) -> tensor<4x2xf32> attributes {no_inline}
// CHECK: %[[W:.*]] = memref.reinterpret_cast %[[ARENA]] to offset: [%[[OFF]]], sizes: [2, 2], strides: [2, 1] : memref<8xf32> to memref<2x2xf32, strided<[2, 1], offset: ?>>
// CHECK: %[[WT:.*]] = bufferization.to_tensor %[[W]] restrict
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %[[WT]] : {{.*}}) outs(%[[ACC]] : {{.*}})
// CHECK: return %[[M]]

// CHECK: func.func private @[[RELU]](%[[IN:.*]]: tensor<4x2xf32>) -> tensor<4x2xf32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[IN]]
// CHECK: %[[BACK:.*]] = tensor.expand_shape %[[FLAT]]
// CHECK: linalg.generic {{.*}} ins(%[[BACK]] :
// CHECK: arith.maximumf

// CHECK: func.func private @[[UPDATE]](%[[ARENA2:.*]]: memref<8xf32>, %[[OFF2:.*]]: index) attributes {no_inline}
// CHECK: %[[V:.*]] = memref.reinterpret_cast %[[ARENA2]] to offset: [%[[OFF2]]]
// CHECK: %[[NEW:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: bufferization.materialize_in_destination %[[NEW]] in restrict writable %[[V]]
// CHECK-NOT: func.func private

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @nnc_train(%arena: memref<8xf32>, %x: memref<4x2xf32>, %out: memref<4x2xf32>) {
  %w0v = memref.reinterpret_cast %arena to offset: [0], sizes: [2, 2], strides: [2, 1] : memref<8xf32> to memref<2x2xf32, strided<[2, 1]>>
  %w0 = bufferization.to_tensor %w0v restrict : memref<2x2xf32, strided<[2, 1]>>
  %w1v = memref.reinterpret_cast %arena to offset: [4], sizes: [2, 2], strides: [2, 1] : memref<8xf32> to memref<2x2xf32, strided<[2, 1], offset: 4>>
  %w1 = bufferization.to_tensor %w1v restrict : memref<2x2xf32, strided<[2, 1], offset: 4>>
  %xt = bufferization.to_tensor %x restrict : memref<4x2xf32>
  %cst = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<4x2xf32> loc(#l0)
  %f0 = linalg.fill ins(%cst : f32) outs(%e0 : tensor<4x2xf32>) -> tensor<4x2xf32> loc(#l0)
  %m0 = linalg.matmul ins(%xt, %w0 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f0 : tensor<4x2xf32>) -> tensor<4x2xf32> loc(#l0)
  %m1 = linalg.matmul ins(%m0, %w1 : tensor<4x2xf32>, tensor<2x2xf32>) outs(%f0 : tensor<4x2xf32>) -> tensor<4x2xf32> loc(#l1)
  %c = tensor.collapse_shape %m1 [[0, 1]] : tensor<4x2xf32> into tensor<8xf32> loc(#l2)
  %ex = tensor.expand_shape %c [[0, 1]] output_shape [4, 2] : tensor<8xf32> into tensor<4x2xf32> loc(#l2)
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ex : tensor<4x2xf32>) outs(%e0 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.maximumf %in, %cst : f32
    linalg.yield %v : f32
  } -> tensor<4x2xf32> loc(#l2)
  %e1 = tensor.empty() : tensor<2x2xf32> loc(#l3)
  %u = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w1 : tensor<2x2xf32>) outs(%e1 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.mulf %in, %in : f32
    linalg.yield %v : f32
  } -> tensor<2x2xf32> loc(#l3)
  %sv = memref.subview %x[1, 0] [2, 2] [1, 1] : memref<4x2xf32> to memref<2x2xf32, strided<[2, 1], offset: 2>>
  %svt = bufferization.to_tensor %sv restrict : memref<2x2xf32, strided<[2, 1], offset: 2>>
  %z = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%svt : tensor<2x2xf32>) outs(%e1 : tensor<2x2xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.subf %in, %cst : f32
    linalg.yield %v : f32
  } -> tensor<2x2xf32> loc(#l4)
  bufferization.materialize_in_destination %z in restrict writable %sv : (tensor<2x2xf32>, memref<2x2xf32, strided<[2, 1], offset: 2>>) -> ()
  bufferization.materialize_in_destination %u in restrict writable %w1v : (tensor<2x2xf32>, memref<2x2xf32, strided<[2, 1], offset: 4>>) -> ()
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<4x2xf32>, memref<4x2xf32>) -> ()
  return
}
#l0 = loc("dense_0")
#l1 = loc("dense_1")
#l2 = loc("relu_0")
#l3 = loc("dense_1.weight")
#l4 = loc("other_0")
