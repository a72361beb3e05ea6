// RUN: nnc-opt %s -split-input-file -convert-nn-to-linalg -cse | FileCheck %s

// relu_grad(maxpool2d_grad(dy, x), x) with the forward pass's maxpool2d(x)
// in the function: relu's mask is applied to dy where each window's
// maximum is positive (y = maxpool2d(x), a quarter of x's elements), before
// the gradient routes dy to the maximum; no pass over x and dx follows the
// gradient. The window maximum and its offset are the forward pass's (one
// op, CSE).
// CHECK-LABEL: func.func @relu_then_pool(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<1x2x4x4xf32>, %[[DY:[^:]+]]: tensor<1x2x2x2xf32>
// CHECK:         %[[MAX:.+]]:2 = linalg.generic
// CHECK:         } -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK:         %[[MASKED:.+]] = linalg.generic {{.*}} ins(%[[DY]], %[[MAX]]#0 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK:           arith.cmpf ogt
// CHECK:           arith.select
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}} ins(%[[MAX]]#1, %[[MASKED]] : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) outs(%{{.+}} : tensor<1x2x2x2x2x2xf32>)
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[DX]]
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[MAX]]#0, %[[C]]
func.func @relu_then_pool(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>) {
  %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
  %dx = nn.relu_grad %g, %x : tensor<1x2x4x4xf32>
  return %y, %dx : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
}

// -----

// Without the forward pass's maxpool2d of the same windows (here: other
// windows) the relu's gradient stays after the pooling's, over all of dx.
// CHECK-LABEL: func.func @no_forward_pool(
// CHECK:         %[[DX:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<1x2x2x2x2x2xf32>)
// CHECK:         %[[C:.+]] = tensor.collapse_shape %[[DX]]
// CHECK:         linalg.generic {{.*}} ins(%[[C]], %{{.+}} : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>)
// CHECK:           arith.cmpf ogt
func.func @no_forward_pool(%x: tensor<1x2x4x4xf32>, %dy: tensor<1x2x2x2xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x4x4xf32>) {
  %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x3x3xf32>
  %g = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>
  %dx = nn.relu_grad %g, %x : tensor<1x2x4x4xf32>
  return %y, %dx : tensor<1x2x3x3xf32>, tensor<1x2x4x4xf32>
}
