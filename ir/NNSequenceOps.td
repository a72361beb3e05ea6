//===- NNSequenceOps.td - Token and sequence ops -------------*- tablegen -*-===//
//
// Embeddings and the ops over the time axis of sequences. A sequence value is
// [N, T, F] (PyTorch's batch_first); token ids are i32 [N, T], where id 0 is
// padding: `nn.token_mask` turns ids into the f32 mask [N, T] (1 for a real
// step) that the masked pools read, so padding never changes a result.
//
//===----------------------------------------------------------------------===//
#ifndef NN_SEQUENCE_OPS
#define NN_SEQUENCE_OPS

def NN_TokenMaskOp : NN_Op<"token_mask", [Pure]> {
  let summary = "1.0 for a real token (id != 0), 0.0 for padding";
  let description = [{
    ```mlir
    %m = nn.token_mask %ids : tensor<8x16xi32> -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins NN_LabelTensor:$ids);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$ids attr-dict `:` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def NN_EmbeddingOp : NN_Op<"embedding",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "looks up rows of a table: y[n, t, :] = weight[ids[n, t], :]";
  let description = [{
    `torch.nn.Embedding`: `ids` is i32 [N, T], `weight` [count, dim] and the
    result [N, T, dim]. Ids outside [0, count) read the nearest row (the
    runtime rejects such inputs before they reach the program).

    ```mlir
    %y = nn.embedding %ids, %w : (tensor<8x16xi32>, tensor<257x32xf32>) -> tensor<8x16x32xf32>
    ```
  }];
  let arguments = (ins NN_LabelTensor:$ids, NN_F32Tensor:$weight);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $ids `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_EmbeddingGradOp : NN_Op<"embedding_grad", [Pure]> {
  let summary = "gradient of embedding's table: a scatter-add of the rows";
  let description = [{
    `dweight[ids[n, t], :] += grad[n, t, :]` over all n, t, starting from
    zeros (no one-hot matmul).

    ```mlir
    %dw = nn.embedding_grad %dy, %ids : (tensor<8x16x32xf32>, tensor<8x16xi32>) -> tensor<257x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_LabelTensor:$ids);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $ids attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MaskedAvgPoolOp : NN_Op<"masked_avgpool",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "mean over the real steps: [N, T, F] -> [N, F]";
  let description = [{
    `y[n, f] = sum_t m[n, t] x[n, t, f] / max(sum_t m[n, t], 1)`; a sequence
    without real steps pools to 0.

    ```mlir
    %y = nn.masked_avgpool %x, %m : (tensor<8x16x32xf32>, tensor<8x16xf32>) -> tensor<8x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$mask);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MaskedAvgPoolGradOp : NN_Op<"masked_avgpool_grad", [Pure]> {
  let summary = "gradient of masked_avgpool: dy m / max(sum_t m, 1)";
  let description = [{
    ```mlir
    %dx = nn.masked_avgpool_grad %dy, %m : (tensor<8x32xf32>, tensor<8x16xf32>) -> tensor<8x16x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$mask);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MaskedMaxPoolOp : NN_Op<"masked_maxpool",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "maximum over the real steps: [N, T, F] -> [N, F]";
  let description = [{
    `y[n, f] = max over t with m[n, t] != 0 of x[n, t, f]`, and `indices`
    the first step holding it (torch.max's choice among ties); a sequence
    without real steps pools to 0 with index -1.

    ```mlir
    %y, %i = nn.masked_maxpool %x, %m : (tensor<8x16x32xf32>, tensor<8x16xf32>) -> (tensor<8x32xf32>, tensor<8x32xi32>)
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$mask);
  let results = (outs NN_F32Tensor:$result, NN_LabelTensor:$indices);
  let assemblyFormat = [{
    $input `,` $mask attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_MaskedMaxPoolGradOp : NN_Op<"masked_maxpool_grad", [Pure]> {
  let summary = "gradient of masked_maxpool: dy at the step of the maximum";
  let description = [{
    `dx[n, t, f] = dy[n, f] if t == indices[n, f] else 0`.

    ```mlir
    %dx = nn.masked_maxpool_grad %dy, %i : (tensor<8x32xf32>, tensor<8x32xi32>) -> tensor<8x16x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_LabelTensor:$indices);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $indices attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // NN_SEQUENCE_OPS
