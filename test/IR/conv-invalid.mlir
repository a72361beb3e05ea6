// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// Every verifier of conv2d, the pools and their gradient ops, with its message.

func.func @conv_channels(%x: tensor<2x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op input channels (3) do not match the filters' [F, C, kh, kw] = 'tensor<4x2x3x3xf32>'}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_result(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op result must be [2, 4, 6, 6] for input 'tensor<2x3x8x8xf32>', got 'tensor<2x4x8x8xf32>'}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op bias must be [4], got 'tensor<3xf32>'}}
  %0 = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op expects NCHW (rank-4) input and result, got 'tensor<3x8x8xf32>' and 'tensor<4x6x6xf32>'}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  return
}

// -----

func.func @conv_filters(%x: tensor<2x3x8x8xf32>, %w: tensor<4x27xf32>) {
  // expected-error @+1 {{'nn.conv2d' op expects [F, C, kh, kw] filters, got 'tensor<4x27xf32>'}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x27xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op stride must be two positive values [sh, sw]}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 0, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op padding must be four non-negative values [top, left, bottom, right]}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

func.func @conv_too_small(%x: tensor<2x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d' op window 3x3 is larger than the padded input 'tensor<2x3x2x2xf32>'}}
  %0 = nn.conv2d %x, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x1x1xf32>
  return
}

// -----

func.func @conv_grad_input(%dy: tensor<2x4x6x6xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'nn.conv2d_grad_input' op gradient must be [2, 4, 8, 8] for result 'tensor<2x3x8x8xf32>', got 'tensor<2x4x6x6xf32>'}}
  %0 = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x4x6x6xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return
}

// -----

func.func @conv_grad_weight(%dy: tensor<2x4x6x6xf32>, %x: tensor<2x2x8x8xf32>) {
  // expected-error @+1 {{'nn.conv2d_grad_weight' op input channels (2) do not match the filters' [F, C, kh, kw] = 'tensor<4x3x3x3xf32>'}}
  %0 = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<2x4x6x6xf32>, tensor<2x2x8x8xf32>) -> tensor<4x3x3x3xf32>
  return
}

// -----

func.func @maxpool_result(%x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.maxpool2d' op result must be [2, 3, 4, 4] for input 'tensor<2x3x8x8xf32>', got 'tensor<2x3x3x3xf32>'}}
  %0 = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x8x8xf32> -> tensor<2x3x3x3xf32>
  return
}

// -----

func.func @maxpool_kernel(%x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.maxpool2d' op kernel must be two positive sizes [kh, kw]}}
  %0 = nn.maxpool2d %x {kernel = array<i64: 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x8x8xf32> -> tensor<2x3x4x4xf32>
  return
}

// -----

func.func @maxpool_padding(%x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.maxpool2d' op padding must be smaller than the kernel 2x2}}
  %0 = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 2, 0, 0, 0>} : tensor<2x3x8x8xf32> -> tensor<2x3x5x4xf32>
  return
}

// -----

func.func @maxpool_grad(%dy: tensor<2x3x3x3xf32>, %x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.maxpool2d_grad' op gradient must be [2, 3, 4, 4] for input 'tensor<2x3x8x8xf32>', got 'tensor<2x3x3x3xf32>'}}
  %0 = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x3x3xf32>, tensor<2x3x8x8xf32>
  return
}

// -----

func.func @avgpool_channels(%x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.avgpool2d' op result must be [2, 3, 4, 4] for input 'tensor<2x3x8x8xf32>', got 'tensor<2x4x4x4xf32>'}}
  %0 = nn.avgpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x8x8xf32> -> tensor<2x4x4x4xf32>
  return
}

// -----

func.func @avgpool_grad(%dy: tensor<2x3x4x4xf32>) {
  // expected-error @+1 {{'nn.avgpool2d_grad' op gradient must be [2, 3, 5, 5] for result 'tensor<2x3x10x10xf32>', got 'tensor<2x3x4x4xf32>'}}
  %0 = nn.avgpool2d_grad %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x4x4xf32> -> tensor<2x3x10x10xf32>
  return
}

// -----

func.func @global_avgpool(%x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'nn.global_avgpool' op expects [N, C, H, W] and [N, C], got 'tensor<2x3x8x8xf32>' and 'tensor<2x8xf32>'}}
  %0 = nn.global_avgpool %x : tensor<2x3x8x8xf32> -> tensor<2x8xf32>
  return
}

// -----

func.func @global_avgpool_grad(%dy: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.global_avgpool_grad' op expects [N, C, H, W] and [N, C], got 'tensor<3x8x8xf32>' and 'tensor<2x3xf32>'}}
  %0 = nn.global_avgpool_grad %dy : tensor<2x3xf32> -> tensor<3x8x8xf32>
  return
}
