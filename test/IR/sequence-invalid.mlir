// RUN: nnc-opt %s -split-input-file -verify-diagnostics
// Every verifier of the token and sequence ops, with its message.

func.func @mask_shape(%ids: tensor<2x5xi32>) {
  // expected-error @+1 {{'nn.token_mask' op expects a mask of the ids' shape, got 'tensor<2x5xi32>' and 'tensor<2x4xf32>'}}
  %m = nn.token_mask %ids : tensor<2x5xi32> -> tensor<2x4xf32>
  return
}

// -----

func.func @embedding_dim(%ids: tensor<2x5xi32>, %w: tensor<10x3xf32>) {
  // expected-error @+1 {{'nn.embedding' op expects ids [N, T], a table [count, dim] and a sequence [N, T, dim], got 'tensor<2x5xi32>', 'tensor<10x3xf32>' and 'tensor<2x5x4xf32>'}}
  %y = nn.embedding %ids, %w : (tensor<2x5xi32>, tensor<10x3xf32>) -> tensor<2x5x4xf32>
  return
}

// -----

func.func @embedding_ids(%ids: tensor<2x5xf32>, %w: tensor<10x3xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 32-bit signless integer values}}
  %y = nn.embedding %ids, %w : (tensor<2x5xf32>, tensor<10x3xf32>) -> tensor<2x5x3xf32>
  return
}

// -----

func.func @embedding_grad_table(%dy: tensor<2x5x3xf32>, %ids: tensor<2x5xi32>) {
  // expected-error @+1 {{'nn.embedding_grad' op expects ids [N, T], a table [count, dim] and a sequence [N, T, dim], got 'tensor<2x5xi32>', 'tensor<10x4xf32>' and 'tensor<2x5x3xf32>'}}
  %dw = nn.embedding_grad %dy, %ids : (tensor<2x5x3xf32>, tensor<2x5xi32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @avgpool_mask(%x: tensor<2x5x3xf32>, %m: tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.masked_avgpool' op expects a mask [N, T] for the sequence 'tensor<2x5x3xf32>', got 'tensor<2x4xf32>'}}
  %y = nn.masked_avgpool %x, %m : (tensor<2x5x3xf32>, tensor<2x4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @avgpool_result(%x: tensor<2x5x3xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.masked_avgpool' op expects a sequence [N, T, F], a mask [N, T] and a pooled value [N, F], got 'tensor<2x5x3xf32>', 'tensor<2x5xf32>' and 'tensor<2x5xf32>'}}
  %y = nn.masked_avgpool %x, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @avgpool_grad(%g: tensor<2x3xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.masked_avgpool_grad' op expects a mask [N, T] for the sequence 'tensor<2x6x3xf32>', got 'tensor<2x5xf32>'}}
  %dx = nn.masked_avgpool_grad %g, %m : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x6x3xf32>
  return
}

// -----

func.func @maxpool_indices(%x: tensor<2x5x3xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'nn.masked_maxpool' op expects indices of the result's shape, got 'tensor<2x4xi32>'}}
  %y, %i = nn.masked_maxpool %x, %m : (tensor<2x5x3xf32>, tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x4xi32>)
  return
}

// -----

func.func @maxpool_grad(%g: tensor<2x3xf32>, %i: tensor<2x4xi32>) {
  // expected-error @+1 {{'nn.masked_maxpool_grad' op expects indices of the gradient's shape, got 'tensor<2x4xi32>'}}
  %dx = nn.masked_maxpool_grad %g, %i : (tensor<2x3xf32>, tensor<2x4xi32>) -> tensor<2x5x3xf32>
  return
}

// -----

func.func @maxpool_grad_rank(%g: tensor<2x3xf32>, %i: tensor<2x3xi32>) {
  // expected-error @+1 {{'nn.masked_maxpool_grad' op expects a sequence [N, T, F], indices [N, F] and a pooled value [N, F], got 'tensor<2x5xf32>', 'tensor<2x3xi32>' and 'tensor<2x3xf32>'}}
  %dx = nn.masked_maxpool_grad %g, %i : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x5x3xf32>) {
  // expected-error @+1 {{'nn.transpose' op permutation must order the 3 dimensions of the input}}
  %y = nn.transpose %x {permutation = array<i64: 0, 1, 1>} : tensor<2x5x3xf32> -> tensor<2x5x5xf32>
  return
}

// -----

func.func @transpose_result(%x: tensor<2x5x3xf32>) {
  // expected-error @+1 {{'nn.transpose' op result must be the permuted input 'tensor<2x3x5xf32>', got 'tensor<2x5x3xf32>'}}
  %y = nn.transpose %x {permutation = array<i64: 0, 2, 1>} : tensor<2x5x3xf32> -> tensor<2x5x3xf32>
  return
}
