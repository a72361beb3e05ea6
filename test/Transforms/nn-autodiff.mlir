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
// CHECK: %[[DH:.+]] = nn.relu_grad %[[DR]], %[[R]]
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

// -----

// Buffers are not differentiated: the gradient function returns the loss's
// results (loss, predictions, new buffers) and then one gradient per
// parameter only; the batch statistics feed the running averages and the
// batchnorm gradient (torch's saved mean and invstd) without a gradient,
// and dropout's gradient is the same mask (same seed) on dy.
// CHECK-LABEL: func.func @bn_grad
// CHECK-SAME: (%[[W:.+]]: tensor<3x2xf32> {nn.param = "w"}, %[[G:.+]]: tensor<3xf32> {nn.param = "bn.weight"}, %[[B:.+]]: tensor<3xf32> {nn.param = "bn.bias"}, %[[RM:.+]]: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %[[X:.+]]: tensor<4x2xf32>, %[[Y:.+]]: tensor<4xi32>, %[[M:.+]]: tensor<4xf32>, %[[SEED:.+]]: tensor<i64> {nn.seed})
// CHECK-SAME: -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3x2xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-SAME: nn.buffer_results = ["bn.running_mean"], nn.grad
// CHECK: %[[Z:.+]] = nn.dense %[[X]], %[[W]]
// CHECK: %[[H:.+]], %[[MEAN:.+]], %{{.+}}, %[[ISTD:.+]] = nn.batchnorm %[[Z]], %[[G]], %[[B]], %[[M]]
// CHECK: %[[D:.+]] = nn.dropout %[[H]], %[[SEED]] {p = 2.500000e-01 : f32}
// CHECK: %[[RM2:.+]] = nn.running_average %[[RM]], %[[MEAN]]
// CHECK: %[[L:.+]] = nn.cross_entropy_loss %[[D]]
// CHECK: %[[DZ:.+]] = nn.cross_entropy_loss_grad
// CHECK: %[[DH:.+]] = nn.dropout %[[DZ]], %[[SEED]] {p = 2.500000e-01 : f32}
// CHECK: %[[DX:.+]], %[[DG:.+]], %[[DB:.+]] = nn.batchnorm_grad %[[DH]], %[[Z]], %[[G]], %[[MEAN]], %[[ISTD]], %[[M]]
// CHECK: %[[DW:.+]] = nn.matmul %[[DX]], %[[X]] {transpose_lhs}
// CHECK: return %[[L]], %[[D]], %[[RM2]], %[[DW]], %[[DG]], %[[DB]]
func.func @bn(%w: tensor<3x2xf32> {nn.param = "w"}, %g: tensor<3xf32> {nn.param = "bn.weight"}, %b: tensor<3xf32> {nn.param = "bn.bias"}, %rm: tensor<3xf32> {nn.buffer = "bn.running_mean"}, %x: tensor<4x2xf32>, %y: tensor<4xi32>, %m: tensor<4xf32>, %seed: tensor<i64> {nn.seed}) -> (tensor<f32>, tensor<4x3xf32>, tensor<3xf32>) attributes {nn.loss, nn.buffer_results = ["bn.running_mean"]} {
  %z = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
  %h, %mean, %var, %istd = nn.batchnorm %z, %g, %b, %m : tensor<4x3xf32>, tensor<3xf32>, tensor<4xf32>
  %d = nn.dropout %h, %seed {p = 2.500000e-01 : f32} : tensor<4x3xf32>
  %rm2 = nn.running_average %rm, %mean : tensor<3xf32>
  %l = nn.cross_entropy_loss %d, %y, %m : tensor<4x3xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  return %l, %d, %rm2 : tensor<f32>, tensor<4x3xf32>, tensor<3xf32>
}

// -----

// Layernorm and concat: the concat gradient is one slice per input.
// CHECK-LABEL: func.func @ln_cat_grad
// CHECK: %[[DY:.+]] = nn.mse_loss_grad
// CHECK: %[[DX:.+]], %[[DW:.+]], %[[DB:.+]] = nn.layernorm_grad %[[DY]], %{{.+}}, %{{.+}} : tensor<4x5xf32>, tensor<5xf32>
// CHECK: %[[DA:.+]] = nn.slice %[[DX]] {offsets = array<i64: 0, 0>} : tensor<4x5xf32> to tensor<4x2xf32>
// CHECK: %[[DC:.+]] = nn.slice %[[DX]] {offsets = array<i64: 0, 2>} : tensor<4x5xf32> to tensor<4x3xf32>
// CHECK: return %{{.+}}, %[[DA]], %[[DC]], %[[DW]], %[[DB]]
func.func @ln_cat(%a: tensor<4x2xf32> {nn.param = "a"}, %c: tensor<4x3xf32> {nn.param = "c"}, %w: tensor<5xf32> {nn.param = "ln.weight"}, %b: tensor<5xf32> {nn.param = "ln.bias"}, %t: tensor<4x5xf32>, %m: tensor<4xf32>) -> tensor<f32> attributes {nn.loss} {
  %x = nn.concat %a, %c : (tensor<4x2xf32>, tensor<4x3xf32>) -> tensor<4x5xf32>
  %y = nn.layernorm %x, %w, %b : tensor<4x5xf32>, tensor<5xf32>
  %l = nn.mse_loss %y, %t, %m : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// An l2 penalty k * sum(w^2) (MLIRGen's for `l2 = k`): reduce_sum's gradient
// broadcasts back to w's shape; w gets 2 k w (the two operands of w * w) on
// top of the data loss's gradient.
// CHECK-LABEL: func.func @l2_grad
// CHECK: %[[SQ:.+]] = nn.mul %arg0, %arg0 : tensor<3x2xf32>
// CHECK: %[[S:.+]] = nn.reduce_sum %[[SQ]] {dims = array<i64: 0, 1>} : tensor<3x2xf32> -> tensor<f32>
// CHECK: %[[K:.+]] = arith.constant dense<0.00999999977> : tensor<f32>
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DS:.+]] = nn.mul %[[ONE]], %[[K]] : tensor<f32>
// CHECK: %[[DSQ:.+]] = nn.broadcast %[[DS]] {dims = array<i64: 0, 1>} : tensor<f32> -> tensor<3x2xf32>
// CHECK: %[[A:.+]] = nn.mul %[[DSQ]], %arg0 : tensor<3x2xf32>
// CHECK: %[[B:.+]] = nn.mul %[[DSQ]], %arg0 : tensor<3x2xf32>
// CHECK: %[[TWO:.+]] = nn.add %[[A]], %[[B]] : tensor<3x2xf32>
// CHECK: %[[DW:.+]] = nn.matmul %{{.+}}, %arg1 {transpose_lhs}
// CHECK: %[[G:.+]] = nn.add %[[TWO]], %[[DW]] : tensor<3x2xf32>
// CHECK: return %{{.+}}, %[[G]]
func.func @l2(%w: tensor<3x2xf32> {nn.param = "w"}, %x: tensor<4x2xf32>, %t: tensor<4x3xf32>, %m: tensor<4xf32>) -> tensor<f32> attributes {nn.loss} {
  %p = nn.dense %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
  %l = nn.mse_loss %p, %t, %m : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4xf32> -> tensor<f32>
  %sq = nn.mul %w, %w : tensor<3x2xf32>
  %s = nn.reduce_sum %sq {dims = array<i64: 0, 1>} : tensor<3x2xf32> -> tensor<f32>
  %k = arith.constant dense<0.01> : tensor<f32>
  %pen = nn.mul %s, %k : tensor<f32>
  %total = nn.add %l, %pen : tensor<f32>
  return %total : tensor<f32>
}
