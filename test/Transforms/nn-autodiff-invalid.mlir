// RUN: nnc-opt %s -split-input-file -nn-autodiff -verify-diagnostics

// expected-error @+1 {{'func.func' op the first result of a loss function must be tensor<f32>, got 'tensor<4xf32>'}}
func.func @bad_result(%w: tensor<1x1xf32> {nn.param = "w"}, %m: tensor<4xf32>) -> tensor<4xf32> attributes {nn.loss} {
  return %m : tensor<4xf32>
}

// -----

func.func @no_rule(%w: tensor<4x1xf32> {nn.param = "w"}, %t: tensor<4x1xf32>, %m: tensor<4xf32>) -> tensor<f32> attributes {nn.loss} {
  // expected-error @+1 {{'nn.relu_grad' op cannot be differentiated: it has no gradient rule}}
  %g = nn.relu_grad %w, %w : tensor<4x1xf32>
  %l = nn.mse_loss %g, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}
