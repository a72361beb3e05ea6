// RUN: nnc-opt %s -nn-autodiff -nn-build-train-step -verify-diagnostics
// A parameter whose `nn.mask` names no buffer of the loss: the training step
// could not keep its pruned weights at zero.

module attributes {nn.optimizer = #nn.optimizer<kind = sgd, lr = 0.1, schedule = #nn.schedule<kind = constant>>} {
  // (the gradient function, a copy of the loss, reports at its location)
  // expected-error @+1 {{'func.func' op names mask 'v_mask' that is not one of its buffers}}
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w", nn.mask = "v_mask"}, %mw: tensor<3x2xf32> {nn.buffer = "w_mask"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
}
