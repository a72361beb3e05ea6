// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// Every verifier of the nn dialect, with its message.

func.func @dense_features(%x: tensor<4x6xf32>, %w: tensor<5x7xf32>) {
  // expected-error @+1 {{'nn.dense' op input features (6) do not match the weight's [out, in] = 'tensor<5x7xf32>'}}
  %0 = nn.dense %x, %w : (tensor<4x6xf32>, tensor<5x7xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @dense_rank(%x: tensor<4x2x3xf32>, %w: tensor<5x6xf32>) {
  // expected-error @+1 {{'nn.dense' op expects rank-2 input, weight and result}}
  %0 = nn.dense %x, %w : (tensor<4x2x3xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @dense_result(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>) {
  // expected-error @+1 {{'nn.dense' op result must be [4, 5], got 'tensor<4x6xf32>'}}
  %0 = nn.dense %x, %w : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @dense_bias(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %b: tensor<6xf32>) {
  // expected-error @+1 {{'nn.dense' op bias must be [5], got 'tensor<6xf32>'}}
  %0 = nn.dense %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<6xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @reshape_size(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'nn.reshape' op cannot reshape 'tensor<4x6xf32>' (24 elements) to 'tensor<4x5xf32>' (20 elements)}}
  %0 = nn.reshape %x : tensor<4x6xf32> to tensor<4x5xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x5xf32>, %b: tensor<6x7xf32>) {
  // expected-error @+1 {{'nn.matmul' op contraction sizes differ: 5 vs 6}}
  %0 = nn.matmul %a, %b : (tensor<4x5xf32>, tensor<6x7xf32>) -> tensor<4x7xf32>
  return
}

// -----

func.func @matmul_result(%a: tensor<4x5xf32>, %b: tensor<4x7xf32>) {
  // expected-error @+1 {{'nn.matmul' op result must be [5, 7], got 'tensor<4x7xf32>'}}
  %0 = nn.matmul %a, %b {transpose_lhs} : (tensor<4x5xf32>, tensor<4x7xf32>) -> tensor<4x7xf32>
  return
}

// -----

func.func @reduce_dim(%a: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.reduce_sum' op dimension 2 is out of range for 'tensor<4x5xf32>'}}
  %0 = nn.reduce_sum %a {dims = array<i64: 2>} : tensor<4x5xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_shape(%a: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.reduce_sum' op result shape must drop the reduced dimensions of 'tensor<4x5xf32>', got 'tensor<4xf32>'}}
  %0 = nn.reduce_sum %a {dims = array<i64: 0>} : tensor<4x5xf32> -> tensor<4xf32>
  return
}

// -----

func.func @broadcast_dim(%a: tensor<5xf32>) {
  // expected-error @+1 {{'nn.broadcast' op dimension 2 is out of range for 'tensor<4x5xf32>'}}
  %0 = nn.broadcast %a {dims = array<i64: 2>} : tensor<5xf32> -> tensor<4x5xf32>
  return
}

// -----

func.func @broadcast_order(%a: tensor<f32>) {
  // expected-error @+1 {{'nn.broadcast' op dimensions must be strictly increasing}}
  %0 = nn.broadcast %a {dims = array<i64: 1, 0>} : tensor<f32> -> tensor<4x5xf32>
  return
}

// -----

func.func @broadcast_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{'nn.broadcast' op result 'tensor<4x5xf32>' without the broadcast dimensions must be the input 'tensor<4xf32>'}}
  %0 = nn.broadcast %a {dims = array<i64: 0>} : tensor<4xf32> -> tensor<4x5xf32>
  return
}

// -----

func.func @loss_mask(%p: tensor<4x1xf32>, %t: tensor<4x1xf32>, %m: tensor<3xf32>) {
  // expected-error @+1 {{'nn.mse_loss' op mask must be [4], got 'tensor<3xf32>'}}
  %0 = nn.mse_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x1xf32>, tensor<3xf32> -> tensor<f32>
  return
}

// -----

func.func @loss_target(%p: tensor<4x1xf32>, %t: tensor<4x2xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.mae_loss' op target 'tensor<4x2xf32>' does not match prediction 'tensor<4x1xf32>'}}
  %0 = nn.mae_loss %p, %t, %m : tensor<4x1xf32>, tensor<4x2xf32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @loss_labels(%z: tensor<4x10xf32>, %c: tensor<5xi32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.cross_entropy_loss' op class labels must be [4] for [batch, classes] logits, got 'tensor<5xi32>' for 'tensor<4x10xf32>'}}
  %0 = nn.cross_entropy_loss %z, %c, %m : tensor<4x10xf32>, tensor<5xi32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @loss_smoothing(%z: tensor<4x10xf32>, %c: tensor<4xi32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.cross_entropy_loss' op label_smoothing must be in [0, 1], got 1.5}}
  %0 = nn.cross_entropy_loss %z, %c, %m {label_smoothing = 1.5 : f32} : tensor<4x10xf32>, tensor<4xi32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @huber_delta(%p: tensor<4x1xf32>, %t: tensor<4x1xf32>, %m: tensor<4xf32>) {
  // expected-error @+1 {{'nn.huber_loss' op delta must be positive}}
  %0 = nn.huber_loss %p, %t, %m {delta = 0.0 : f32} : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4xf32> -> tensor<f32>
  return
}

// -----

func.func @eltwise_types(%x: tensor<4x5xf32>) {
  // expected-error @+1 {{'nn.relu_grad' op requires the same type for all operands and results}}
  %0 = "nn.relu_grad"(%x, %x) : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @dynamic_shape(%x: tensor<?x5xf32>) {
  // expected-error @+1 {{'nn.relu' op operand #0 must be statically shaped tensor of 32-bit float values}}
  %0 = "nn.relu"(%x) : (tensor<?x5xf32>) -> tensor<?x5xf32>
  return
}

// -----

func.func @prune_sparsity(%w: tensor<4x5xf32>, %e: tensor<i64>) {
  // expected-error @+1 {{'nn.magnitude_prune' op sparsity must be in (0, 1), got 1}}
  %0:2 = nn.magnitude_prune %w, %w, %e {sparsity = 1.0 : f64, start = 1 : i64, end = 2 : i64} : tensor<4x5xf32>
  return
}

// -----

func.func @prune_epochs(%w: tensor<4x5xf32>, %e: tensor<i64>) {
  // expected-error @+1 {{'nn.magnitude_prune' op needs 1 <= start <= end, got start 3 and end 2}}
  %0:2 = nn.magnitude_prune %w, %w, %e {sparsity = 0.5 : f64, start = 3 : i64, end = 2 : i64} : tensor<4x5xf32>
  return
}

// -----

func.func @prune_types(%w: tensor<4x5xf32>, %m: tensor<5x4xf32>, %e: tensor<i64>) {
  // expected-error @+1 {{'nn.magnitude_prune' op failed to verify that all of {weight, mask, new_weight, new_mask} have same type}}
  %0:2 = "nn.magnitude_prune"(%w, %m, %e) {sparsity = 0.5 : f64, start = 1 : i64, end = 2 : i64} : (tensor<4x5xf32>, tensor<5x4xf32>, tensor<i64>) -> (tensor<4x5xf32>, tensor<4x5xf32>)
  return
}
