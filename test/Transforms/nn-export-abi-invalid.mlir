// RUN: nnc-opt %s -nn-export-abi -verify-diagnostics
// A training loss with dropout (an nn.seed argument) and no evaluation-mode
// function: nnc_eval would have no seed to pass.

module {
  // expected-error @+1 {{'func.func' op takes a dropout seed; nnc_eval needs an evaluation-mode function marked 'nn.eval_loss'}}
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>, %seed: tensor<i64> {nn.seed}) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %d = nn.dropout %z, %seed {p = 2.500000e-01 : f32} : tensor<4x3xf32>
    %l = nn.cross_entropy_loss %d, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %d : tensor<f32>, tensor<4x3xf32>
  }
}
