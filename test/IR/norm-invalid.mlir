// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// The verifiers of NNNormOps.td, with their messages.

func.func @batchnorm_rank(%x: tensor<4x3x2xf32>, %w: tensor<3xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.batchnorm' op expects a [N, C] or [N, C, H, W] input, got 'tensor<4x3x2xf32>'}}
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %w, %m : tensor<4x3x2xf32>, tensor<3xf32>, tensor<4xf32>
  return
}

// -----

func.func @batchnorm_channels(%x: tensor<4x3xf32>, %w: tensor<5xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.batchnorm' op weight, bias and statistics must be 'tensor<3xf32>', got 'tensor<5xf32>'}}
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %w, %m : tensor<4x3xf32>, tensor<5xf32>, tensor<4xf32>
  return
}

// -----

func.func @batchnorm_mask(%x: tensor<4x3xf32>, %w: tensor<3xf32>, %m: tensor<8xf32>) {
  // expected-error @+1 {{'nn.batchnorm' op mask must be 'tensor<4xf32>', got 'tensor<8xf32>'}}
  %y, %mean, %var, %istd = nn.batchnorm %x, %w, %w, %m : tensor<4x3xf32>, tensor<3xf32>, tensor<8xf32>
  return
}

// -----

func.func @layernorm_weight(%x: tensor<4x3xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'nn.layernorm' op weight and bias must be 'tensor<3xf32>'}}
  %y = nn.layernorm %x, %w, %w : tensor<4x3xf32>, tensor<4xf32>
  return
}

// -----

func.func @concat_shape(%a: tensor<4x3xf32>, %b: tensor<5x2xf32>) {
  // expected-error @+1 {{'nn.concat' op input 'tensor<5x2xf32>' does not fit result 'tensor<4x5xf32>' along dimension 1}}
  %y = nn.concat %a, %b : (tensor<4x3xf32>, tensor<5x2xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @concat_channels(%a: tensor<4x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+1 {{'nn.concat' op result has 6 channels, the inputs 5}}
  %y = nn.concat %a, %b : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @slice_box(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{'nn.slice' op box leaves the input in dimension 1}}
  %y = nn.slice %a {offsets = array<i64: 0, 2>} : tensor<4x3xf32> to tensor<4x2xf32>
  return
}
