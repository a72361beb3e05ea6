// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// conv2d, the pools and their gradient ops parse, verify and print back in
// their assembly formats.

// CHECK-LABEL: func @conv
func.func @conv(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>, %dy: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) {
  // CHECK: nn.conv2d %{{.+}}, %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: nn.conv2d %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
  %s = nn.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: nn.conv2d_grad_input %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>} : (tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: nn.conv2d_grad_weight %{{.+}}, %{{.+}} {padding = array<i64: 1, 1, 0, 0>, stride = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>} : (tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %y, %s, %dx, %dw : tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>
}

// -----

// CHECK-LABEL: func @pools
func.func @pools(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x3x4x4xf32>, %g: tensor<2x3xf32>)
    -> (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3xf32>, tensor<2x3x8x8xf32>) {
  // CHECK: nn.maxpool2d %{{.+}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x8x8xf32> -> tensor<2x3x4x4xf32>
  %m = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x8x8xf32> -> tensor<2x3x4x4xf32>
  // CHECK: nn.maxpool2d %{{.+}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x3x8x8xf32>
  %i = nn.maxpool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x3x8x8xf32>
  // CHECK: nn.maxpool2d_grad %{{.+}}, %{{.+}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>
  %dm = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>
  // CHECK: nn.avgpool2d %{{.+}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x3x8x8xf32>
  %a = nn.avgpool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : tensor<2x3x8x8xf32> -> tensor<2x3x8x8xf32>
  // CHECK: nn.avgpool2d_grad %{{.+}} {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<2x3x4x4xf32> -> tensor<2x3x8x8xf32>
  %da = nn.avgpool2d_grad %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<2x3x4x4xf32> -> tensor<2x3x8x8xf32>
  // CHECK: nn.global_avgpool %{{.+}} : tensor<2x3x8x8xf32> -> tensor<2x3xf32>
  %gp = nn.global_avgpool %x : tensor<2x3x8x8xf32> -> tensor<2x3xf32>
  // CHECK: nn.global_avgpool_grad %{{.+}} : tensor<2x3xf32> -> tensor<2x3x8x8xf32>
  %dg = nn.global_avgpool_grad %g : tensor<2x3xf32> -> tensor<2x3x8x8xf32>
  return %m, %i, %dm, %da, %gp, %dg : tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3xf32>, tensor<2x3x8x8xf32>
}
