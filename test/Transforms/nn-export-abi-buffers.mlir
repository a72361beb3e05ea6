// RUN: nnc-opt %s -nn-autodiff -nn-build-train-step -nn-export-abi | FileCheck %s

// Buffers (batchnorm running statistics, nn.buffer) sit in the state arena
// after the parameters and before the optimizer states.
// CHECK: module attributes {nn.abi = {bn.bias = array<i64: 9, 3>, bn.num_batches_tracked = array<i64: 18, 1>, bn.running_mean = array<i64: 12, 3>, bn.running_var = array<i64: 15, 3>, bn.weight = array<i64: 6, 3>, w = array<i64: 0, 6>}, nn.abi_state_size = 19 : i64

// nnc_train passes params and buffers to train_step and writes the new
// buffers back into their slots.
// CHECK-LABEL: func.func @nnc_train(
// CHECK-SAME: %[[S:[^:]+]]: memref<19xf32>
// CHECK: %[[RMV:.+]] = memref.reinterpret_cast %[[S]] to offset: [12], sizes: [3], strides: [1]
// CHECK: %[[RVV:.+]] = memref.reinterpret_cast %[[S]] to offset: [15], sizes: [3], strides: [1]
// CHECK: %[[NV:.+]] = memref.reinterpret_cast %[[S]] to offset: [18], sizes: [], strides: []
// CHECK: %[[R:.+]]:9 = call @train_step(
// CHECK: bufferization.materialize_in_destination %[[R]]#3 in restrict writable %[[RMV]]
// CHECK: bufferization.materialize_in_destination %[[R]]#4 in restrict writable %[[RVV]]
// CHECK: bufferization.materialize_in_destination %[[R]]#5 in restrict writable %[[NV]]

// nnc_eval runs the evaluation-mode function (running statistics), with
// params and buffers read from the arena.
// CHECK-LABEL: func.func @nnc_eval(
// CHECK-SAME: %{{.+}}: memref<19xf32>, %{{.+}}: memref<4x2xf32>, %{{.+}}: memref<4xi32>, %{{.+}}: memref<4xf32>, %{{.+}}: memref<13xf32>)
// CHECK: call @eval_loss(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) : (tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<4x2xf32>, tensor<4xi32>, tensor<4xf32>)
// CHECK-NOT: call @loss(
module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, schedule = <kind = constant>>} {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %rm: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %rv: tensor<3xf32> {nn.buffer = "bn.running_var"}, %n: tensor<f32> {nn.buffer = "bn.num_batches_tracked"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>, %seed: tensor<i64> {nn.seed}) -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>) attributes {nn.loss, nn.buffer_results = ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %h, %mean, %var, %istd = nn.batchnorm %z, %g, %b, %m : tensor<4x3xf32>, tensor<3xf32>, tensor<4xf32>
    %d = nn.dropout %h, %seed {p = 2.500000e-01 : f32} : tensor<4x3xf32>
    %rm2 = nn.running_average %rm, %mean : tensor<3xf32>
    %rv2 = nn.running_average %rv, %var : tensor<3xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %n2 = nn.add %n, %one : tensor<f32>
    %l = nn.cross_entropy_loss %d, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %d, %rm2, %rv2, %n2 : tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>
  }
  func.func @eval_loss(%w: tensor<3x2xf32> {nn.param = "w"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %rm: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %rv: tensor<3xf32> {nn.buffer = "bn.running_var"}, %n: tensor<f32> {nn.buffer = "bn.num_batches_tracked"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.eval_loss} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %h = nn.batchnorm_inference %z, %g, %b, %rm, %rv : tensor<4x3xf32>, tensor<3xf32>
    %l = nn.cross_entropy_loss %h, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %h : tensor<f32>, tensor<4x3xf32>
  }
}
