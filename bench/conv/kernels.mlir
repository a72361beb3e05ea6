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
