// RUN: nnc-opt %s -split-input-file -nn-autodiff | FileCheck %s

// An MLP: dense -> relu -> dense -> cross entropy. The gradient function
// returns the loss and logits, then one gradient per parameter in order.
// CHECK-LABEL: func.func @loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<4x3xf32>, tensor<5x6xf32>, tensor<5xf32>, tensor<3x5xf32>, tensor<3xf32>)
// CHECK: %[[H:.+]] = nn.dense %arg4, %arg0, %arg1
// CHECK: %[[R:.+]] = nn.relu %[[H]]
// CHECK: %[[Z:.+]] = nn.dense %[[R]], %arg2, %arg3
// CHECK: %[[L:.+]] = nn.cross_entropy_loss %[[Z]]
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DZ:.+]] = nn.cross_entropy_loss_grad %[[ONE]], %[[Z]], %arg5, %arg6
// CHECK: %[[DR:.+]] = nn.matmul %[[DZ]], %arg2 :
// CHECK: %[[DW2:.+]] = nn.matmul %[[DZ]], %[[R]] {transpose_lhs}
// CHECK: %[[DB2:.+]] = nn.reduce_sum %[[DZ]] {dims = array<i64: 0>}
// CHECK: %[[DH:.+]] = nn.relu_grad %[[DR]], %[[H]]
// The input's gradient is never needed: x is data, not a parameter.
// CHECK-NOT: nn.matmul %[[DH]], %arg0 :
// CHECK: %[[DW1:.+]] = nn.matmul %[[DH]], %arg4 {transpose_lhs}
// CHECK: %[[DB1:.+]] = nn.reduce_sum %[[DH]]
// CHECK: return %[[L]], %[[Z]], %[[DW1]], %[[DB1]], %[[DW2]], %[[DB2]]
func.func @loss(%w1: tensor<5x6xf32> {nn.param = "dense_0.weight"}, %b1: tensor<5xf32> {nn.param = "dense_0.bias"},
                %w2: tensor<3x5xf32> {nn.param = "dense_1.weight"}, %b2: tensor<3xf32> {nn.param = "dense_1.bias"},
                %x: tensor<4x6xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>) -> (tensor<f32>, tensor<4x3xf32>) attributes {nn.loss} {
  %h = nn.dense %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %r = nn.relu %h : tensor<4x5xf32>
  %z = nn.dense %r, %w2, %b2 : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %l = nn.cross_entropy_loss %z, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  return %l, %z : tensor<f32>, tensor<4x3xf32>
}

// -----

// A value used twice gets the sum of both gradients.
// CHECK-LABEL: func.func @twice_grad
// CHECK: %[[A:.+]] = nn.relu_grad
// CHECK: %[[S:.+]] = nn.add %{{.+}}, %[[A]]
// CHECK: nn.matmul %[[S]], %arg1 {transpose_lhs}
func.func @twice(%w: tensor<2x2xf32> {nn.param = "w"}, %x: tensor<4x2xf32>, %t: tensor<4x2xf32>, %m: tensor<4xf32>) -> tensor<f32> attributes {nn.loss} {
  %h = nn.dense %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %r = nn.relu %h : tensor<4x2xf32>
  %s = nn.add %h, %r : tensor<4x2xf32>
  %l = nn.mse_loss %s, %t, %m : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A parameter the loss does not use gets a zero gradient.
// CHECK-LABEL: func.func @unused_grad
// CHECK: %[[Z:.+]] = arith.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: return %{{.+}}, %{{.+}}, %[[Z]]
func.func @unused(%w: tensor<1x1xf32> {nn.param = "w"}, %u: tensor<3xf32> {nn.param = "u"}, %x: tensor<4x1xf32>, %t: tensor<4x1xf32>, %m: tensor<4xf32>) -> tensor<f32> attributes {nn.loss} {
  %p = nn.dense %x, %w : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
  %l = nn.mse_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}
