//===- NNNormOps.td - Normalization, dropout and concat ops --*- tablegen -*-===//
//
// Layers whose training and evaluation behaviour differ (batchnorm, dropout),
// layer normalization, channel concatenation, and the ops their gradient
// rules emit. Included from NNOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef NN_NORM_OPS
#define NN_NORM_OPS

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

def NN_BatchNormOp : NN_Op<"batchnorm",
    [Pure, AllTypesMatch<["input", "result"]>,
     AllTypesMatch<["weight", "bias", "mean", "var", "invstd"]>,
     DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "batch normalization with batch statistics (training mode)";
  let description = [{
    `input` is `[N, C]` or `[N, C, H, W]`; `weight` and `bias` are `[C]`.
    Statistics per channel over N (and H, W), counting only the rows whose
    `mask` is non-zero (padding rows of the last partial batch change
    nothing): `y = (x - mean) / sqrt(var + eps) weight + bias` with the
    biased variance, as torch.nn.BatchNorm1d/2d in training mode. The other
    results are the batch mean and the UNBIASED batch variance, what the
    running statistics track (see `nn.running_average`), and
    `invstd = 1 / sqrt(var + eps)` of the biased variance: with the mean,
    what torch saves for the backward pass (`save_mean`, `save_invstd`) and
    `nn.batchnorm_grad` takes, so that the gradient does not read the input
    twice more to recompute them.

    `sync` (`sync_batchnorm = true`, data-parallel training): the statistics
    are those of every rank's batch together, as torch.nn.SyncBatchNorm's:
    the real rows, the per-channel sums and then the squared deviations
    from the global mean are summed over the ranks (the runtime's
    `nnrt_allreduce_f32(data, n)`, the identity in one process), so that
    ranks in lockstep normalize and track exactly what one process with
    the global batch would.
    ```mlir
    %y, %mean, %var, %invstd = nn.batchnorm %x, %w, %b, %m {eps = 1.0e-05 : f32} : tensor<32x16xf32>, tensor<16xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       NN_F32Tensor:$bias, NN_F32Tensor:$mask,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$eps,
                       UnitAttr:$sync);
  let results = (outs NN_F32Tensor:$result, NN_F32Tensor:$mean,
                      NN_F32Tensor:$var, NN_F32Tensor:$invstd);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $mask attr-dict `:` type($input) `,`
    type($weight) `,` type($mask)
  }];
  let hasVerifier = 1;
}

def NN_BatchNormGradOp : NN_Op<"batchnorm_grad",
    [Pure, AllTypesMatch<["grad", "input", "input_grad"]>,
     AllTypesMatch<["weight", "weight_grad", "bias_grad", "mean",
                    "invstd"]>]> {
  let summary = "batch normalization backward (batch statistics)";
  let description = [{
    With the forward pass's statistics of `input` (`nn.batchnorm`'s `mean`
    and `invstd = 1 / sqrt(var + eps)`, as torch's backward takes
    `save_mean` and `save_invstd`), `xhat = (x - mean) invstd` and M the
    number of real elements per channel, returns
    `dx = m weight invstd (dy - sum(m dy) / M - xhat sum(m dy xhat) / M)`,
    `dweight = sum(m dy xhat)`, `dbias = sum(m dy)`.

    `sync`: M and the two sums in `dx` are every rank's together, as the
    statistics are (see `nn.batchnorm`); `dweight` and `dbias` stay this
    rank's, being parameter gradients that the runtime sums. Each rank's `dy` is
    that of its own mean loss (over its R real rows), so the sums in `dx`
    are all-reduced weighted by R and divided by this rank's R: the
    gradient that, weighted by R like every rank's, sums to the global
    batch's.
    ```mlir
    %dx, %dw, %db = nn.batchnorm_grad %dy, %x, %w, %mean, %invstd, %m : tensor<32x16xf32>, tensor<16xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       NN_F32Tensor:$weight, NN_F32Tensor:$mean,
                       NN_F32Tensor:$invstd, NN_F32Tensor:$mask,
                       UnitAttr:$sync);
  let results = (outs NN_F32Tensor:$input_grad, NN_F32Tensor:$weight_grad,
                      NN_F32Tensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight `,` $mean `,` $invstd `,` $mask attr-dict `:`
    type($input) `,` type($weight) `,` type($mask)
  }];
}

def NN_BatchNormInferenceOp : NN_Op<"batchnorm_inference",
    [Pure, AllTypesMatch<["input", "result"]>,
     AllTypesMatch<["weight", "bias", "running_mean", "running_var"]>]> {
  let summary = "batch normalization with running statistics (eval mode)";
  let description = [{
    `y = (x - running_mean) / sqrt(running_var + eps) weight + bias`, per
    channel (dimension 1), as torch's BatchNorm in eval mode.
    ```mlir
    %y = nn.batchnorm_inference %x, %w, %b, %rm, %rv {eps = 1.0e-05 : f32} : tensor<32x16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       NN_F32Tensor:$bias, NN_F32Tensor:$running_mean,
                       NN_F32Tensor:$running_var,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$eps);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict
    `:` type($input) `,` type($weight)
  }];
}

def NN_RunningAverageOp : NN_Op<"running_average",
    [Pure, SameOperandsAndResultType]> {
  let summary = "exponential running average: (1 - momentum) old + momentum new";
  let description = [{
    How batchnorm's running_mean and running_var follow the batch statistics
    (torch's momentum convention).
    ```mlir
    %rm2 = nn.running_average %rm, %mean {momentum = 1.0e-01 : f32} : tensor<16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$old, NN_F32Tensor:$new_value,
                       DefaultValuedAttr<F32Attr, "0.1">:$momentum);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$old `,` $new_value attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

def NN_LayerNormOp : NN_Op<"layernorm",
    [Pure, AllTypesMatch<["input", "result"]>,
     AllTypesMatch<["weight", "bias"]>,
     DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `y = (x - mean) / sqrt(var + eps) weight + bias` with the mean and the
    biased variance over the last dimension D; `weight`, `bias` are `[D]`:
    torch.nn.LayerNorm(normalized_shape = D).
    ```mlir
    %y = nn.layernorm %x, %w, %b {eps = 1.0e-05 : f32} : tensor<32x16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       NN_F32Tensor:$bias,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$eps);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def NN_LayerNormGradOp : NN_Op<"layernorm_grad",
    [Pure, AllTypesMatch<["grad", "input", "input_grad"]>,
     AllTypesMatch<["weight", "weight_grad", "bias_grad"]>]> {
  let summary = "layer normalization backward";
  let description = [{
    With `g = dy weight` and `xhat` per row over the last dimension D:
    `dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps)`,
    `dweight = sum_rows(dy xhat)`, `dbias = sum_rows(dy)`.
    ```mlir
    %dx, %dw, %db = nn.layernorm_grad %dy, %x, %w {eps = 1.0e-05 : f32} : tensor<32x16xf32>, tensor<16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       NN_F32Tensor:$weight,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$eps);
  let results = (outs NN_F32Tensor:$input_grad, NN_F32Tensor:$weight_grad,
                      NN_F32Tensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

def NN_DropoutOp : NN_Op<"dropout",
    [Pure, AllTypesMatch<["input", "result"]>,
     DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "inverted dropout with a counter-based mask (training mode)";
  let description = [{
    `y = x keep / (1 - p)`. The mask is a pure function of the i64 `seed`,
    the op's `stream` and each element's row-major index i:
    `h = splitmix64(seed + (stream + 1) * 0xD1B54A32D192ED03 + i * 0x9E3779B97F4A7C15)`
    (splitmix64's finalizer: `z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
    z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31`), `u = (h >> 40) /
    2^24` in [0, 1), `keep = u >= p`. The same seed gives the same mask, so
    the gradient is the same op applied to dy. Evaluation functions do not
    emit it (identity).
    ```mlir
    %y = nn.dropout %x, %seed {p = 5.0e-01 : f32, stream = 0 : i64} : tensor<32x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_I64Scalar:$seed,
                       DefaultValuedAttr<F32Attr, "0.5">:$p,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $seed attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Concatenation
//===----------------------------------------------------------------------===//

def NN_ConcatOp : NN_Op<"concat",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "concatenation along a dimension (default 1: channels)";
  let description = [{
    torch.cat(dim = axis): every input has the same shape but for dimension
    `axis` (1 when absent; 2 joins the features of sequences [N, T, F]).
    ```mlir
    %y = nn.concat %a, %b : (tensor<8x3x4x4xf32>, tensor<8x5x4x4xf32>) -> tensor<8x8x4x4xf32>
    %s = nn.concat %f, %r {axis = 2 : i64} : (tensor<8x16x4xf32>, tensor<8x16x4xf32>) -> tensor<8x16x8xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$inputs,
                       OptionalAttr<I64Attr>:$axis);
  let extraClassDeclaration = [{
    /// The dimension joined: `axis`, else 1.
    int64_t getDim() { return getAxis().value_or(1); }
  }];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
}

def NN_SliceOp : NN_Op<"slice", [Pure]> {
  let summary = "a static box of a tensor: the gradient of a concat input";
  let description = [{
    The result's shape is the box's size; `offsets` holds its start in every
    dimension (unit strides).
    ```mlir
    %da = nn.slice %dy {offsets = array<i64: 0, 3, 0, 0>} : tensor<8x8x4x4xf32> to tensor<8x5x4x4xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

#endif // NN_NORM_OPS
