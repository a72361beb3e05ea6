// RUN: nnc-opt %s -nn-autodiff -nn-build-train-step -nn-export-abi | FileCheck %s

// The state arena: parameters first, then each optimizer state kind.
// CHECK: module attributes {nn.abi = {b = array<i64: 6, 3>, optimizer.b.momentum_buffer = array<i64: 15, 3>, optimizer.w.momentum_buffer = array<i64: 9, 6>, w = array<i64: 0, 6>}, nn.abi_state_size = 18 : i64

// CHECK: func.func private @loss(
// CHECK: func.func private @loss_grad(
// CHECK: func.func private @predict(
// CHECK: func.func private @train_step(

// CHECK-LABEL: func.func @nnc_train(
// CHECK-SAME: %[[S:[^:]+]]: memref<18xf32>, %{{[^:]+}}: memref<4x2xf32>, %{{[^:]+}}: memref<4xi32>, %{{[^:]+}}: memref<4xf32>, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: i64, %{{[^:]+}}: f32, %[[OUT:[^:]+]]: memref<14xf32>)
// CHECK: %[[WV:.+]] = memref.reinterpret_cast %[[S]] to offset: [0], sizes: [3, 2], strides: [2, 1]
// CHECK: %[[W:.+]] = bufferization.to_tensor %[[WV]] restrict
// CHECK: %[[BV:.+]] = memref.reinterpret_cast %[[S]] to offset: [6], sizes: [3], strides: [1]
// CHECK: %[[R:.+]]:7 = call @train_step(
// Slots are written back `restrict`: empty-tensor elimination may make the
// optimizer's update write straight into them (see nn-export-abi).
// CHECK: bufferization.materialize_in_destination %[[R]]#0 in restrict writable %[[WV]]
// CHECK: bufferization.materialize_in_destination %[[R]]#1 in restrict writable %[[BV]]
// CHECK: %[[LOSS:.+]] = tensor.extract %[[R]]#4[]
// CHECK: memref.store %[[LOSS]], %[[OUT]][%{{.+}}]
// CHECK: %[[LR:.+]] = tensor.extract %[[R]]#6[]
// CHECK: %[[PV:.+]] = memref.reinterpret_cast %[[OUT]] to offset: [2], sizes: [4, 3], strides: [3, 1]
// CHECK: bufferization.materialize_in_destination %[[R]]#5 in writable %[[PV]]

// CHECK-LABEL: func.func @nnc_eval(
// CHECK-SAME: %{{.+}}: memref<18xf32>, %{{.+}}: memref<4x2xf32>, %{{.+}}: memref<4xi32>, %{{.+}}: memref<4xf32>, %{{.+}}: memref<13xf32>)
// CHECK: call @loss(

// CHECK-LABEL: func.func @nnc_predict(
// CHECK-SAME: %{{.+}}: memref<18xf32>, %{{.+}}: memref<4x2xf32>, %{{.+}}: memref<12xf32>)
// CHECK: call @predict(
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, momentum = 0.9, schedule = <kind = constant>>} {
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
