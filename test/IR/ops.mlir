// RUN: nnc-opt %s -split-input-file | FileCheck %s
// RUN: nnc-opt %s -split-input-file | nnc-opt -split-input-file | FileCheck %s
// Every nn op parses, verifies and prints back in its assembly format.

// CHECK-LABEL: func @layers
func.func @layers(%x: tensor<4x1x2x3xf32>, %w: tensor<5x6xf32>, %b: tensor<5xf32>) -> tensor<4x5xf32> {
  // CHECK: %[[F:.+]] = nn.reshape %{{.+}} : tensor<4x1x2x3xf32> to tensor<4x6xf32>
  %f = nn.reshape %x : tensor<4x1x2x3xf32> to tensor<4x6xf32>
  // CHECK: %[[D:.+]] = nn.dense %[[F]], %{{.+}}, %{{.+}} : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %d = nn.dense %f, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  // CHECK: nn.dense %[[F]], %{{.+}} : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  %n = nn.dense %f, %w : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  // CHECK: nn.relu %[[D]] : tensor<4x5xf32>
  %r = nn.relu %d : tensor<4x5xf32>
  // CHECK: nn.leaky_relu %{{.+}} {alpha = 2.000000e-01 : f32} : tensor<4x5xf32>
  %l = nn.leaky_relu %r {alpha = 0.2 : f32} : tensor<4x5xf32>
  // CHECK: nn.sigmoid
  %s = nn.sigmoid %l : tensor<4x5xf32>
  // CHECK: nn.tanh
  %t = nn.tanh %s : tensor<4x5xf32>
  // CHECK: nn.gelu
  %g = nn.gelu %t : tensor<4x5xf32>
  // CHECK: nn.softmax
  %sm = nn.softmax %g : tensor<4x5xf32>
  // CHECK: %[[A:.+]] = nn.add %{{.+}}, %{{.+}} : tensor<4x5xf32>
  %a = nn.add %sm, %n : tensor<4x5xf32>
  // CHECK: nn.mul %[[A]], %{{.+}} : tensor<4x5xf32>
  %m = nn.mul %a, %sm : tensor<4x5xf32>
  return %m : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func @gradients
func.func @gradients(%dy: tensor<4x5xf32>, %x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %y: tensor<4x5xf32>) {
  // CHECK: nn.matmul %{{.+}}, %{{.+}} : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  %dx = nn.matmul %dy, %w : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  // CHECK: nn.matmul %{{.+}}, %{{.+}} {transpose_lhs} : (tensor<4x5xf32>, tensor<4x6xf32>) -> tensor<5x6xf32>
  %dw = nn.matmul %dy, %x {transpose_lhs} : (tensor<4x5xf32>, tensor<4x6xf32>) -> tensor<5x6xf32>
  // CHECK: nn.reduce_sum %{{.+}} {dims = array<i64: 0>} : tensor<4x5xf32> -> tensor<5xf32>
  %db = nn.reduce_sum %dy {dims = array<i64: 0>} : tensor<4x5xf32> -> tensor<5xf32>
  // CHECK: nn.broadcast %{{.+}} {dims = array<i64: 0>} : tensor<5xf32> -> tensor<4x5xf32>
  %bc = nn.broadcast %db {dims = array<i64: 0>} : tensor<5xf32> -> tensor<4x5xf32>
  // CHECK: nn.relu_grad
  %0 = nn.relu_grad %dy, %y : tensor<4x5xf32>
  // CHECK: nn.leaky_relu_grad %{{.+}}, %{{.+}} {alpha = 1.000000e-01 : f32}
  %1 = nn.leaky_relu_grad %dy, %y {alpha = 0.1 : f32} : tensor<4x5xf32>
  // CHECK: nn.sigmoid_grad
  %2 = nn.sigmoid_grad %dy, %y : tensor<4x5xf32>
  // CHECK: nn.tanh_grad
  %3 = nn.tanh_grad %dy, %y : tensor<4x5xf32>
  // CHECK: nn.gelu_grad
  %4 = nn.gelu_grad %dy, %y : tensor<4x5xf32>
  // CHECK: nn.softmax_grad
  %5 = nn.softmax_grad %dy, %y : tensor<4x5xf32>
  return
}

// -----

// CHECK-LABEL: func @losses
func.func @losses(%p: tensor<4x1xf32>, %t: tensor<4x1xf32>, %z: tensor<4x10xf32>, %c: tensor<4xi32>, %m: tensor<4xf32>, %g: tensor<f32>) {
  // CHECK: nn.mse_loss %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  %0 = nn.mse_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  // CHECK: nn.mae_loss
  %1 = nn.mae_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  // CHECK: nn.huber_loss {{.+}} {delta = 5.000000e-01 : f32}
  %2 = nn.huber_loss %p, %t, %m {delta = 0.5 : f32} : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  // CHECK: nn.cross_entropy_loss {{.+}} {label_smoothing = 1.000000e-01 : f32} : tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  %3 = nn.cross_entropy_loss %z, %c, %m {label_smoothing = 0.1 : f32} : tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  // CHECK: nn.bce_loss
  %4 = nn.bce_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  // CHECK: nn.cross_entropy_loss_grad {{.+}} : tensor<f32>, tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<4x10xf32>
  %5 = nn.cross_entropy_loss_grad %g, %z, %c, %m : tensor<f32>, tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<4x10xf32>
  // CHECK: nn.mse_loss_grad
  %6 = nn.mse_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<4x1xf32>
  // CHECK: nn.mae_loss_grad
  %7 = nn.mae_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<4x1xf32>
  // CHECK: nn.huber_loss_grad
  %8 = nn.huber_loss_grad %g, %p, %t, %m {delta = 2.0 : f32} : tensor<f32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<4x1xf32>
  // CHECK: nn.bce_loss_grad
  %9 = nn.bce_loss_grad %g, %p, %t, %m : tensor<f32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<4x1xf32>
  return
}

// -----

// CHECK-LABEL: func @optimizers
func.func @optimizers(%p: tensor<5x6xf32>, %g: tensor<5x6xf32>, %s1: tensor<5x6xf32>, %s2: tensor<5x6xf32>, %step: tensor<i64>, %spe: tensor<i64>, %epochs: tensor<i64>) {
  // CHECK: %[[LR:.+]] = nn.lr_schedule %{{.+}}, %{{.+}}, %{{.+}} {base_lr = 1.000000e-03 : f64, schedule = #nn.schedule<kind = cosine, warmup = 1.0, min_lr = 1.0e-05>} : tensor<f32>
  %lr = nn.lr_schedule %step, %spe, %epochs {schedule = #nn.schedule<kind = cosine, min_lr = 1.0e-5, warmup = 1.0>, base_lr = 1.0e-3 : f64} : tensor<f32>
  // CHECK: nn.sgd_update %{{.+}}, %{{.+}}, %{{.+}}, %[[LR]], %{{.+}} {momentum = 0.899999976 : f32, nesterov} : tensor<5x6xf32>
  %0:2 = nn.sgd_update %p, %g, %s1, %lr, %step {momentum = 0.9 : f32, nesterov} : tensor<5x6xf32>
  // CHECK: nn.adam_update %{{.+}} {decoupled, weight_decay = 0.00999999977 : f32} : tensor<5x6xf32>
  %1:3 = nn.adam_update %p, %g, %s1, %s2, %lr, %step {decoupled, weight_decay = 0.01 : f32} : tensor<5x6xf32>
  // CHECK: nn.rmsprop_update
  %2:3 = nn.rmsprop_update %p, %g, %s1, %s2, %lr {alpha = 0.9 : f32} : tensor<5x6xf32>
  // CHECK: nn.magnitude_prune %{{.+}}, %{{.+}}, %{{.+}} {end = 4 : i64, sparsity = 5.000000e-01 : f64, start = 2 : i64} : tensor<5x6xf32>
  %3:2 = nn.magnitude_prune %p, %s1, %epochs {sparsity = 0.5 : f64, start = 2 : i64, end = 4 : i64} : tensor<5x6xf32>
  return
}
