//===- NNOps.td - Operations of the nn dialect ---------------*- tablegen -*-===//
//
// Forward layers and losses (each with its gradient rule through
// NN_GradientOpInterface), the ops the gradient rules emit, optimizer updates
// and the learning-rate schedule. Every op works on whole batches: the leading
// dimension of activations is the batch.
//
//===----------------------------------------------------------------------===//
#ifndef NN_OPS
#define NN_OPS

include "ir/NNAttrs.td"
include "ir/NNBase.td"
include "ir/NNInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "ir/NNConvOps.td"
include "ir/NNSequenceOps.td"
include "ir/NNAttentionOps.td"

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def NN_DenseOp : NN_Op<"dense",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "fully connected layer: y = x W^T + b";
  let description = [{
    `input` is `[batch, in]`, `weight` is `[out, in]` (PyTorch's layout) and
    the optional `bias` is `[out]`.

    ```mlir
    %y = nn.dense %x, %w, %b : (tensor<64x784xf32>, tensor<128x784xf32>, tensor<128xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       Optional<NN_F32Tensor>:$bias);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class NN_UnaryEltwiseOp<string mnemonic, string opSummary>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType,
                       DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = opSummary;
  let description = [{
    Applies the function to every element; the shape is unchanged.

    ```mlir
    %y = nn.relu %x : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def NN_ReluOp : NN_UnaryEltwiseOp<"relu", "rectified linear unit: max(x, 0)">;
def NN_SigmoidOp : NN_UnaryEltwiseOp<"sigmoid", "logistic sigmoid: 1 / (1 + exp(-x))">;
def NN_TanhOp : NN_UnaryEltwiseOp<"tanh", "hyperbolic tangent">;
def NN_GeluOp : NN_UnaryEltwiseOp<"gelu",
    "Gaussian error linear unit, exact form: x * (1 + erf(x / sqrt(2))) / 2">;
def NN_SoftmaxOp : NN_UnaryEltwiseOp<"softmax",
    "softmax over the last dimension: exp(x - max) / sum(exp(x - max))">;

def NN_LeakyReluOp : NN_UnaryEltwiseOp<"leaky_relu",
    "leaky rectified linear unit: x if x > 0 else alpha * x"> {
  let arguments = (ins NN_F32Tensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}

def NN_ReshapeOp : NN_Op<"reshape",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "reinterprets a tensor with another shape of the same size";
  let description = [{
    Row-major, like `torch.reshape`; `flatten` is a reshape to `[batch, n]`.

    ```mlir
    %y = nn.reshape %x : tensor<64x1x28x28xf32> to tensor<64x784xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def NN_TransposeOp : NN_Op<"transpose",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "permutes the dimensions: result dim i = input dim perm[i]";
  let description = [{
    `torch.permute`; sequences [N, T, F] become conv1d's [N, F, T] and back.

    ```mlir
    %y = nn.transpose %x {permutation = array<i64: 0, 2, 1>} : tensor<8x16x32xf32> -> tensor<8x32x16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_AddOp : NN_Op<"add",
    [Pure, Commutative, SameOperandsAndResultType,
     DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise sum of two tensors of the same type";
  let description = [{
    Residual connections, and the sum of the gradients of a value used twice.

    ```mlir
    %y = nn.add %a, %b : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def NN_MulOp : NN_Op<"mul",
    [Pure, Commutative, SameOperandsAndResultType,
     DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "elementwise product of two tensors of the same type";
  let description = [{
    Scales the learning rate by the runtime's factor, and serves gating.

    ```mlir
    %y = nn.mul %a, %b : tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Ops emitted by gradient rules
//===----------------------------------------------------------------------===//

def NN_MatmulOp : NN_Op<"matmul", [Pure]> {
  let summary = "matrix product with optionally transposed operands";
  let description = [{
    `op(lhs) x op(rhs)` where `op` transposes when the matching unit attribute
    is present. The gradient rule of `nn.dense` uses it.

    ```mlir
    %dw = nn.matmul %dy, %x {transpose_lhs} : (tensor<64x128xf32>, tensor<64x784xf32>) -> tensor<128x784xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_ReduceSumOp : NN_Op<"reduce_sum",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "sum over the given dimensions, which are dropped";
  let description = [{
    The bias gradient of `nn.dense` sums over the batch; a layer's `l2`
    penalty sums the squared weight over all dimensions to a scalar.

    ```mlir
    %db = nn.reduce_sum %dy {dims = array<i64: 0>} : tensor<64x128xf32> -> tensor<128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_BroadcastOp : NN_Op<"broadcast",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "copies a tensor along new dimensions of the result";
  let description = [{
    The inverse of `nn.reduce_sum`: `dims` (strictly increasing) are the
    dimensions of the result that the input lacks; the result's other
    dimensions are the input's, in order. The gradient of `nn.reduce_sum`.

    ```mlir
    %g = nn.broadcast %dy {dims = array<i64: 0, 1>} : tensor<f32> -> tensor<128x784xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

class NN_EltwiseGradOp<string mnemonic, string opSummary>
    : NN_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = opSummary;
  let description = [{
    The vector-Jacobian product of an activation: the incoming gradient and
    the value saved from the forward pass, of the same type.

    ```mlir
    %dx = nn.relu_grad %dy, %x : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$saved);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $saved attr-dict `:` type($result)";
}

def NN_ReluGradOp : NN_EltwiseGradOp<"relu_grad",
    "relu gradient: dy * (y > 0), saved = y (as PyTorch's threshold_backward)">;
def NN_SigmoidGradOp : NN_EltwiseGradOp<"sigmoid_grad",
    "sigmoid gradient: dy * y * (1 - y), saved = y">;
def NN_TanhGradOp : NN_EltwiseGradOp<"tanh_grad",
    "tanh gradient: dy * (1 - y^2), saved = y">;
def NN_GeluGradOp : NN_EltwiseGradOp<"gelu_grad",
    "gelu gradient: dy * (Phi(x) + x phi(x)), saved = x">;
def NN_SoftmaxGradOp : NN_EltwiseGradOp<"softmax_grad",
    "softmax gradient: y * (dy - sum(dy * y, last)), saved = y">;
def NN_LeakyReluGradOp : NN_EltwiseGradOp<"leaky_relu_grad",
    "leaky relu gradient: dy if x > 0 else alpha * dy, saved = x"> {
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$saved,
                       DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

// Every loss is a mean over the real rows of the batch (`mask` is 1 for a
// real row and 0 for padding of the last partial batch), and over elements
// for mse/mae/huber: PyTorch's default reduction on the unpadded batch.
class NN_LossOp<string mnemonic, string opSummary, TypeConstraint targetType>
    : NN_Op<mnemonic, [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = opSummary;
  let arguments = (ins NN_F32Tensor:$prediction, targetType:$target,
                       NN_F32Tensor:$mask);
  let results = (outs NN_F32Scalar:$loss);
  let assemblyFormat = [{
    $prediction `,` $target `,` $mask attr-dict `:` type($prediction) `,`
    type($target) `,` type($mask) `->` type($loss)
  }];
  let hasVerifier = 1;
}

def NN_MSELossOp : NN_LossOp<"mse_loss",
    "mean squared error: mean((p - t)^2)", NN_F32Tensor> {
  let description = [{
    ```mlir
    %l = nn.mse_loss %p, %t, %m : tensor<32x1xf32>, tensor<32x1xf32>, tensor<32xf32> -> tensor<f32>
    ```
  }];
}
def NN_MAELossOp : NN_LossOp<"mae_loss",
    "mean absolute error: mean(|p - t|)", NN_F32Tensor> {
  let description = [{
    ```mlir
    %l = nn.mae_loss %p, %t, %m : tensor<32x1xf32>, tensor<32x1xf32>, tensor<32xf32> -> tensor<f32>
    ```
  }];
}
def NN_HuberLossOp : NN_LossOp<"huber_loss",
    "Huber loss: 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)", NN_F32Tensor> {
  let description = [{
    ```mlir
    %l = nn.huber_loss %p, %t, %m {delta = 1.0 : f32} : tensor<32x1xf32>, tensor<32x1xf32>, tensor<32xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$prediction, NN_F32Tensor:$target,
                       NN_F32Tensor:$mask,
                       DefaultValuedAttr<F32Attr, "1.0">:$delta);
}
def NN_CrossEntropyLossOp : NN_LossOp<"cross_entropy_loss",
    "softmax cross entropy of logits against class labels", NN_LabelTensor> {
  let description = [{
    `prediction` holds logits `[batch, classes]`, `target` class indices
    `[batch]`; or, for a label per position (a language model's next
    tokens), logits `[batch, T, classes]` and labels `[batch, T]`, the mean
    then being over every position of the real rows (PyTorch's
    `cross_entropy(z.view(-1, C), y.view(-1))`). With label smoothing e, the target distribution is
    `(1 - e) onehot + e / classes`, as `torch.nn.CrossEntropyLoss`.

    ```mlir
    %l = nn.cross_entropy_loss %z, %y, %m {label_smoothing = 0.1 : f32} : tensor<64x10xf32>, tensor<64xi32>, tensor<64xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$prediction, NN_LabelTensor:$target,
                       NN_F32Tensor:$mask,
                       DefaultValuedAttr<F32Attr, "0.0">:$label_smoothing);
}
def NN_BCELossOp : NN_LossOp<"bce_loss",
    "binary cross entropy of logits (sigmoid fused)", NN_F32Tensor> {
  let description = [{
    `max(z, 0) - z t + log(1 + exp(-|z|))`, as `torch.nn.BCEWithLogitsLoss`.

    ```mlir
    %l = nn.bce_loss %z, %t, %m : tensor<32x1xf32>, tensor<32x1xf32>, tensor<32xf32> -> tensor<f32>
    ```
  }];
}

// The gradient of a loss with respect to its prediction, scaled by the
// incoming scalar gradient `grad`.
class NN_LossGradOp<string mnemonic, string opSummary, TypeConstraint targetType>
    : NN_Op<mnemonic, [Pure, AllTypesMatch<["prediction", "result"]>]> {
  let summary = opSummary;
  let description = [{
    ```mlir
    %dz = nn.cross_entropy_loss_grad %g, %z, %y, %m : tensor<f32>, tensor<64x10xf32>, tensor<64xi32>, tensor<64xf32> -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins NN_F32Scalar:$grad, NN_F32Tensor:$prediction,
                       targetType:$target, NN_F32Tensor:$mask);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $grad `,` $prediction `,` $target `,` $mask attr-dict `:` type($grad) `,`
    type($prediction) `,` type($target) `,` type($mask) `->` type($result)
  }];
}

def NN_MSELossGradOp : NN_LossGradOp<"mse_loss_grad",
    "mse gradient: 2 (p - t) m / (count n)", NN_F32Tensor>;
def NN_MAELossGradOp : NN_LossGradOp<"mae_loss_grad",
    "mae gradient: sign(p - t) m / (count n)", NN_F32Tensor>;
def NN_HuberLossGradOp : NN_LossGradOp<"huber_loss_grad",
    "huber gradient: clamp(p - t, -delta, delta) m / (count n)", NN_F32Tensor> {
  let arguments = (ins NN_F32Scalar:$grad, NN_F32Tensor:$prediction,
                       NN_F32Tensor:$target, NN_F32Tensor:$mask,
                       DefaultValuedAttr<F32Attr, "1.0">:$delta);
}
def NN_CrossEntropyLossGradOp : NN_LossGradOp<"cross_entropy_loss_grad",
    "cross entropy gradient: (softmax(z) - smoothed onehot) m / count",
    NN_LabelTensor> {
  let arguments = (ins NN_F32Scalar:$grad, NN_F32Tensor:$prediction,
                       NN_LabelTensor:$target, NN_F32Tensor:$mask,
                       DefaultValuedAttr<F32Attr, "0.0">:$label_smoothing);
}
def NN_BCELossGradOp : NN_LossGradOp<"bce_loss_grad",
    "binary cross entropy gradient: (sigmoid(z) - t) m / (count n)", NN_F32Tensor>;

//===----------------------------------------------------------------------===//
// Optimizer updates and the learning-rate schedule
//===----------------------------------------------------------------------===//

def NN_SGDUpdateOp : NN_Op<"sgd_update",
    [Pure, AllTypesMatch<["param", "grad", "momentum_buffer", "new_param",
                          "new_momentum_buffer"]>]> {
  let summary = "one torch.optim.SGD step for one parameter";
  let description = [{
    `g = grad + weight_decay p; b = momentum b + (1 - dampening) g` (the
    first step takes `b = g`); `g = g + momentum b` with Nesterov, else
    `g = b`; `p = p - lr g`. Without momentum the buffer is unchanged.

    ```mlir
    %p2, %b2 = nn.sgd_update %p, %g, %b, %lr, %step {momentum = 0.9 : f32} : tensor<128x784xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$momentum_buffer, NN_F32Scalar:$lr,
                       NN_I64Scalar:$step,
                       DefaultValuedAttr<F32Attr, "0.0">:$momentum,
                       DefaultValuedAttr<F32Attr, "0.0">:$dampening,
                       DefaultValuedAttr<F32Attr, "0.0">:$weight_decay,
                       UnitAttr:$nesterov);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $momentum_buffer `,` $lr `,` $step attr-dict `:` type($param)
  }];
}

def NN_AdamUpdateOp : NN_Op<"adam_update",
    [Pure, AllTypesMatch<["param", "grad", "exp_avg", "exp_avg_sq",
                          "new_param", "new_exp_avg", "new_exp_avg_sq"]>]> {
  let summary = "one torch.optim.Adam (or AdamW, decoupled) step for one parameter";
  let description = [{
    Adam: `g = grad + wd p`; AdamW: `p = p (1 - lr wd)`. Then
    `m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2`,
    `p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)` with
    `t = step + 1`: `step` counts the optimizer steps taken before this one.

    ```mlir
    %p2, %m2, %v2 = nn.adam_update %p, %g, %m, %v, %lr, %step {beta1 = 0.9 : f32, beta2 = 0.999 : f32, eps = 1.0e-08 : f32} : tensor<128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$exp_avg, NN_F32Tensor:$exp_avg_sq,
                       NN_F32Scalar:$lr, NN_I64Scalar:$step,
                       DefaultValuedAttr<F32Attr, "0.9">:$beta1,
                       DefaultValuedAttr<F32Attr, "0.999">:$beta2,
                       DefaultValuedAttr<F32Attr, "1.0e-8">:$eps,
                       DefaultValuedAttr<F32Attr, "0.0">:$weight_decay,
                       UnitAttr:$decoupled);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_exp_avg,
                      NN_F32Tensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq `,` $lr `,` $step attr-dict `:` type($param)
  }];
}

def NN_RMSpropUpdateOp : NN_Op<"rmsprop_update",
    [Pure, AllTypesMatch<["param", "grad", "square_avg", "momentum_buffer",
                          "new_param", "new_square_avg", "new_momentum_buffer"]>]> {
  let summary = "one torch.optim.RMSprop step for one parameter";
  let description = [{
    `g = grad + wd p; s = alpha s + (1 - alpha) g^2; a = sqrt(s) + eps`;
    with momentum `b = momentum b + g / a; p = p - lr b`, else
    `p = p - lr g / a`.

    ```mlir
    %p2, %s2, %b2 = nn.rmsprop_update %p, %g, %s, %b, %lr {alpha = 0.99 : f32} : tensor<128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$square_avg, NN_F32Tensor:$momentum_buffer,
                       NN_F32Scalar:$lr,
                       DefaultValuedAttr<F32Attr, "0.99">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0e-8">:$eps,
                       DefaultValuedAttr<F32Attr, "0.0">:$momentum,
                       DefaultValuedAttr<F32Attr, "0.0">:$weight_decay);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_square_avg,
                      NN_F32Tensor:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $square_avg `,` $momentum_buffer `,` $lr attr-dict `:` type($param)
  }];
}

def NN_LRScheduleOp : NN_Op<"lr_schedule", [Pure]> {
  let summary = "the learning rate at an optimizer step";
  let description = [{
    `step` counts optimizer steps from 0. Periods are in epochs and
    `steps_per_epoch` converts them, so warmup rises and cosine decays step
    by step. Of the `schedule`: `warmup` epochs rise linearly from
    `base_lr / warmup_steps` to `base_lr`; then `cosine` decays to `min_lr`
    over the remaining steps of `epochs`, `linear` to `end_lr`; `step`
    multiplies by `gamma` every `every` epochs, `exponential` by `gamma`
    every epoch. `steps_per_epoch` and `epochs` are run-time values (the
    data set's size, `--epochs`).

    ```mlir
    %lr = nn.lr_schedule %step, %spe, %epochs {base_lr = 1.0e-3 : f64, schedule = #nn.schedule<kind = cosine, warmup = 1.0, min_lr = 1.0e-5>} : tensor<f32>
    ```
  }];
  let arguments = (ins NN_I64Scalar:$step, NN_I64Scalar:$steps_per_epoch,
                       NN_I64Scalar:$epochs, NN_ScheduleAttr:$schedule,
                       F64Attr:$base_lr);
  let results = (outs NN_F32Scalar:$lr);
  let assemblyFormat =
      "$step `,` $steps_per_epoch `,` $epochs attr-dict `:` type($lr)";
}

def NN_MagnitudePruneOp : NN_Op<"magnitude_prune",
    [Pure, AllTypesMatch<["weight", "mask", "new_weight", "new_mask"]>]> {
  let summary = "gradual magnitude pruning (Zhu & Gupta) at the end of an epoch";
  let description = [{
    At the end of `epoch` (1-based) of pruning over epochs `start`..`end`,
    the weight's target sparsity is Zhu & Gupta's cubic schedule
    `s = sparsity (1 - (1 - p)^3)`, `p = clamp((epoch - start + 1) /
    (end - start + 1), 0, 1)`, and `k = round(s n)` (ties to even, as
    torch.nn.utils.prune) of its `n` elements are pruned: the new mask keeps
    the mask's elements whose magnitude is above the k-th smallest, found
    exactly by bisection on the magnitudes' bit patterns; the new weight is
    the weight times the new mask. Pruned weights are zero, so they stay
    pruned.

    ```mlir
    %w2, %m2 = nn.magnitude_prune %w, %m, %epoch {sparsity = 5.0e-01 : f64, start = 2 : i64, end = 4 : i64} : tensor<128x784xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$weight, NN_F32Tensor:$mask,
                       NN_I64Scalar:$epoch, F64Attr:$sparsity, I64Attr:$start,
                       I64Attr:$end);
  let results = (outs NN_F32Tensor:$new_weight, NN_F32Tensor:$new_mask);
  let assemblyFormat =
      "$weight `,` $mask `,` $epoch attr-dict `:` type($weight)";
  let hasVerifier = 1;
}

include "ir/NNNormOps.td"

#endif // NN_OPS
