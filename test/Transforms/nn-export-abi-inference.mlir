// RUN: nnc-opt %s -nn-export-abi=inference=true | FileCheck %s
// The inference library's entry point: nnc_infer(weights, x, out), weights
// = the parameters and buffers as in the state arena (w: 6, b: 3), then the
// preprocessing's scale and shift per feature (2 + 2); x' = x scale + shift
// feeds nn.predict. Nothing but nnc_infer and predict stays.

// CHECK: module attributes {nn.abi = {b = array<i64: 6, 3>, preprocess.scale = array<i64: 9, 2>, preprocess.shift = array<i64: 11, 2>, w = array<i64: 0, 6>}, nn.abi_state_size = 13 : i64
// CHECK-NOT: @loss
// CHECK: func.func private @predict(
// CHECK-LABEL: func.func @nnc_infer(
// CHECK-SAME: %[[WTS:[^:]+]]: memref<13xf32>, %[[X:[^:]+]]: memref<4x2xf32>, %[[OUT:[^:]+]]: memref<12xf32>) attributes {nn.entry}
// CHECK: %[[WV:.+]] = memref.reinterpret_cast %[[WTS]] to offset: [0], sizes: [3, 2], strides: [2, 1]
// CHECK: %[[SV:.+]] = memref.reinterpret_cast %[[WTS]] to offset: [9], sizes: [2], strides: [1]
// CHECK: %[[SCALE:.+]] = bufferization.to_tensor %[[SV]] restrict
// CHECK: %[[HV:.+]] = memref.reinterpret_cast %[[WTS]] to offset: [11], sizes: [2], strides: [1]
// CHECK: %[[SHIFT:.+]] = bufferization.to_tensor %[[HV]] restrict
// CHECK: %[[RAW:.+]] = bufferization.to_tensor %[[X]] restrict
// CHECK: %[[IN:.+]] = linalg.generic {{.+}} ins(%[[RAW]], %[[SCALE]], %[[SHIFT]] : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[P:.+]] = call @predict(%{{.+}}, %{{.+}}, %[[IN]])
// CHECK: bufferization.materialize_in_destination %[[P]] in writable
// CHECK-NOT: func.func @nnc_

module {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %b: tensor<3xf32> {nn.param = "b"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
  func.func @predict(%w: tensor<3x2xf32> {nn.param = "w"}, %b: tensor<3xf32> {nn.param = "b"}, %x: tensor<4x2xf32>) -> tensor<4x3xf32> attributes {nn.predict} {
    %z = nn.dense %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    return %z : tensor<4x3xf32>
  }
}
