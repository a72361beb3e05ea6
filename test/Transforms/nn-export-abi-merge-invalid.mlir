// RUN: nnc-opt %s -split-input-file -nn-export-abi -verify-diagnostics
// nnc_merge writes each result of `nn.merge` over the parameter its
// `nn.param` result attribute names: a result naming no parameter, or one
// of another type, is refused.

module {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %a: tensor<1x2xf32> {nn.param = "w_A"}, %b: tensor<3x1xf32> {nn.param = "w_B"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
  // expected-error @+1 {{'func.func' op result 0 names no parameter or buffer of its type}}
  func.func @merge(%w: tensor<3x2xf32> {nn.param = "w"}, %a: tensor<1x2xf32> {nn.param = "w_A"}, %b: tensor<3x1xf32> {nn.param = "w_B"}) -> (tensor<3x2xf32> {nn.param = "v"}) attributes {nn.merge} {
    %ba = nn.matmul %b, %a : (tensor<3x1xf32>, tensor<1x2xf32>) -> tensor<3x2xf32>
    %r = nn.add %w, %ba : tensor<3x2xf32>
    return %r : tensor<3x2xf32>
  }
}

// -----

module {
  func.func @loss(%w: tensor<3x2xf32> {nn.param = "w"}, %a: tensor<1x2xf32> {nn.param = "w_A"}, %b: tensor<3x1xf32> {nn.param = "w_B"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
    %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
    return %l, %z : tensor<f32>, tensor<4x3xf32>
  }
  // expected-error @+1 {{'func.func' op result 0 names no parameter or buffer of its type}}
  func.func @merge(%w: tensor<3x2xf32> {nn.param = "w"}, %a: tensor<1x2xf32> {nn.param = "w_A"}, %b: tensor<3x1xf32> {nn.param = "w_B"}) -> (tensor<1x2xf32> {nn.param = "w"}) attributes {nn.merge} {
    return %a : tensor<1x2xf32>
  }
}
