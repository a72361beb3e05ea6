// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// Every verifier message of nn.attention and nn.attention_grad.

func.func @out_rank(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.attention' op expects an output [N, T, D], got 'tensor<10x8xf32>'}}
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<10x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @heads_divide(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.attention' op expects heads (3) to divide the width D = 8}}
  %o, %l = nn.attention %qkv, %m {heads = 3 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x3x5xf32>)
  return
}

// -----

func.func @packed(%qkv: tensor<2x5x16xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.attention' op expects q, k, v packed as [N, T, 3D] = [2, 5, 24], got 'tensor<2x5x16xf32>'}}
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64} : (tensor<2x5x16xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @mask(%qkv: tensor<2x5x24xf32>, %m: tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.attention' op expects a key mask [N, T] = [2, 5], got 'tensor<2x4xf32>'}}
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64} : (tensor<2x5x24xf32>, tensor<2x4xf32>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @lse(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.attention' op expects lse [N, heads, T] = [2, 2, 5], got 'tensor<2x5xf32>'}}
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x5xf32>)
  return
}

// -----

func.func @p_range(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{'nn.attention' op expects a dropout p in [0, 1), got 1}}
  %o, %l = nn.attention %qkv, %m, %s {heads = 2 : i64, p = 1.0 : f32} : (tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<i64>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @seed_missing(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.attention' op needs a seed operand for dropout p > 0}}
  %o, %l = nn.attention %qkv, %m {heads = 2 : i64, p = 0.5 : f32} : (tensor<2x5x24xf32>, tensor<2x5xf32>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @seed_unused(%qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{'nn.attention' op has a seed but no dropout (p = 0)}}
  %o, %l = nn.attention %qkv, %m, %s {heads = 2 : i64} : (tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<i64>) -> (tensor<2x5x8xf32>, tensor<2x2x5xf32>)
  return
}

// -----

func.func @grad_dout(%do: tensor<2x5x4xf32>, %qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>, %o: tensor<2x5x8xf32>, %l: tensor<2x2x5xf32>) {
  // expected-error @+1 {{'nn.attention_grad' op expects a gradient of the output's type 'tensor<2x5x8xf32>', got 'tensor<2x5x4xf32>'}}
  %d = nn.attention_grad %do, %qkv, %m, %o, %l {heads = 2 : i64} : (tensor<2x5x4xf32>, tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x2x5xf32>) -> tensor<2x5x24xf32>
  return
}

// -----

func.func @grad_result(%do: tensor<2x5x8xf32>, %qkv: tensor<2x5x24xf32>, %m: tensor<2x5xf32>, %o: tensor<2x5x8xf32>, %l: tensor<2x2x5xf32>) {
  // expected-error @+1 {{'nn.attention_grad' op expects dqkv of qkv's type 'tensor<2x5x24xf32>', got 'tensor<2x5x8xf32>'}}
  %d = nn.attention_grad %do, %qkv, %m, %o, %l {heads = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x24xf32>, tensor<2x5xf32>, tensor<2x5x8xf32>, tensor<2x2x5xf32>) -> tensor<2x5x8xf32>
  return
}
