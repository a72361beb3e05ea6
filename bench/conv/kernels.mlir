// Kernels timed by bench/conv/run.sh: the convolutions and pools of
// examples/fashion_cnn_plain.nn at batch 64 (nn dialect; run.sh lowers them).
func.func @conv1(%x: tensor<64x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32xf32>) -> tensor<64x32x26x26xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<64x32x26x26xf32>
  return %y : tensor<64x32x26x26xf32>
}
func.func @conv2(%x: tensor<64x32x13x13xf32>, %w: tensor<64x32x3x3xf32>, %b: tensor<64xf32>) -> tensor<64x64x11x11xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x32x13x13xf32>, tensor<64x32x3x3xf32>, tensor<64xf32>) -> tensor<64x64x11x11xf32>
  return %y : tensor<64x64x11x11xf32>
}
func.func @conv2_dw(%dy: tensor<64x64x11x11xf32>, %x: tensor<64x32x13x13xf32>) -> tensor<64x32x3x3xf32> {
  %y = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x64x11x11xf32>, tensor<64x32x13x13xf32>) -> tensor<64x32x3x3xf32>
  return %y : tensor<64x32x3x3xf32>
}
func.func @conv2_dx(%dy: tensor<64x64x11x11xf32>, %w: tensor<64x32x3x3xf32>) -> tensor<64x32x13x13xf32> {
  %y = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x64x11x11xf32>, tensor<64x32x3x3xf32>) -> tensor<64x32x13x13xf32>
  return %y : tensor<64x32x13x13xf32>
}
func.func @conv1_dw(%dy: tensor<64x32x26x26xf32>, %x: tensor<64x1x28x28xf32>) -> tensor<32x1x3x3xf32> {
  %y = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x32x26x26xf32>, tensor<64x1x28x28xf32>) -> tensor<32x1x3x3xf32>
  return %y : tensor<32x1x3x3xf32>
}
func.func @pool1(%x: tensor<64x32x26x26xf32>) -> tensor<64x32x13x13xf32> {
  %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<64x32x26x26xf32> -> tensor<64x32x13x13xf32>
  return %y : tensor<64x32x13x13xf32>
}
func.func @pool1_dx(%dy: tensor<64x32x13x13xf32>, %x: tensor<64x32x26x26xf32>) -> tensor<64x32x26x26xf32> {
  %y = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<64x32x13x13xf32>, tensor<64x32x26x26xf32>
  return %y : tensor<64x32x26x26xf32>
}
// resnet_mini's 3x3 convolution (32 -> 32 channels, 28x28, padding 1) and its gradients
func.func @rconv(%x: tensor<64x32x28x28xf32>, %w: tensor<32x32x3x3xf32>, %b: tensor<32xf32>) -> tensor<64x32x28x28xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x32x28x28xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>) -> tensor<64x32x28x28xf32>
  return %y : tensor<64x32x28x28xf32>
}
func.func @rconv_dw(%dy: tensor<64x32x28x28xf32>, %x: tensor<64x32x28x28xf32>) -> tensor<32x32x3x3xf32> {
  %y = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x32x28x28xf32>, tensor<64x32x28x28xf32>) -> tensor<32x32x3x3xf32>
  return %y : tensor<32x32x3x3xf32>
}
func.func @rconv_dx(%dy: tensor<64x32x28x28xf32>, %w: tensor<32x32x3x3xf32>) -> tensor<64x32x28x28xf32> {
  %y = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x32x28x28xf32>, tensor<32x32x3x3xf32>) -> tensor<64x32x28x28xf32>
  return %y : tensor<64x32x28x28xf32>
}
// SPEC 2.3's second convolution (32 -> 64 channels, 14x14, padding 1) and its gradients
func.func @sconv(%x: tensor<64x32x14x14xf32>, %w: tensor<64x32x3x3xf32>, %b: tensor<64xf32>) -> tensor<64x64x14x14xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x32x14x14xf32>, tensor<64x32x3x3xf32>, tensor<64xf32>) -> tensor<64x64x14x14xf32>
  return %y : tensor<64x64x14x14xf32>
}
func.func @sconv_dw(%dy: tensor<64x64x14x14xf32>, %x: tensor<64x32x14x14xf32>) -> tensor<64x32x3x3xf32> {
  %y = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x64x14x14xf32>, tensor<64x32x14x14xf32>) -> tensor<64x32x3x3xf32>
  return %y : tensor<64x32x3x3xf32>
}
func.func @sconv_dx(%dy: tensor<64x64x14x14xf32>, %w: tensor<64x32x3x3xf32>) -> tensor<64x32x14x14xf32> {
  %y = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<64x64x14x14xf32>, tensor<64x32x3x3xf32>) -> tensor<64x32x14x14xf32>
  return %y : tensor<64x32x14x14xf32>
}
// The sweep's wide CNN's second convolution (128 -> 256 channels, 13x13, no
// padding) and its gradients
func.func @wconv(%x: tensor<64x128x13x13xf32>, %w: tensor<256x128x3x3xf32>, %b: tensor<256xf32>) -> tensor<64x256x11x11xf32> {
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x128x13x13xf32>, tensor<256x128x3x3xf32>, tensor<256xf32>) -> tensor<64x256x11x11xf32>
  return %y : tensor<64x256x11x11xf32>
}
func.func @wconv_dw(%dy: tensor<64x256x11x11xf32>, %x: tensor<64x128x13x13xf32>) -> tensor<256x128x3x3xf32> {
  %y = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x256x11x11xf32>, tensor<64x128x13x13xf32>) -> tensor<256x128x3x3xf32>
  return %y : tensor<256x128x3x3xf32>
}
func.func @wconv_dx(%dy: tensor<64x256x11x11xf32>, %w: tensor<256x128x3x3xf32>) -> tensor<64x128x13x13xf32> {
  %y = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>} : (tensor<64x256x11x11xf32>, tensor<256x128x3x3xf32>) -> tensor<64x128x13x13xf32>
  return %y : tensor<64x128x13x13xf32>
}
