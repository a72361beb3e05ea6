//===- NNAttentionOps.td - Multi-head self-attention ---------*- tablegen -*-===//
//
// The fused attention of `attention(heads, causal, dropout)`: the scaled
// dot-product softmax(Q K^T / sqrt(d)) V of every head, with the causal and
// key-padding masks and dropout on the attention weights, and its gradient.
// The projections around it (in_proj, out_proj) are ordinary dense ops; the
// op reads q, k and v where the in_proj GEMM put them, as the column blocks
// of one packed [N, T, 3D] value (no differentiable slice op is needed, and
// no copies of q, k, v forward or a concat of their gradients backward).
// The lowering is FlashAttention-2: the [T, T] scores are never
// materialized.
// Included from NNOps.td.
//
//===----------------------------------------------------------------------===//
#ifndef NN_ATTENTION_OPS
#define NN_ATTENTION_OPS

def NN_AttentionOp : NN_Op<"attention",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "scaled dot-product attention of every head, with masks";
  let description = [{
    `qkv` is [N, T, 3D]: q, k and v are its column blocks 0, D and 2D (the
    in_proj output of torch.nn.MultiheadAttention), each with the heads
    packed in D (head h is columns h d .. h d + d - 1, d = D / heads); the
    result is [N, T, D]. `mask` [N, T] is 1 for a real key and 0 for
    padding. Per sample
    and head: `out = softmax(Q K^T / sqrt(d) + masks) V`, where key j is
    hidden from query i when `mask[j] == 0` or (with `causal`) when j > i. A
    query that sees no key gives 0. `lse` [N, heads, T] is each row's
    log-sum-exp of the scaled scores (0 for such a row), what the gradient
    recomputes the weights from.

    With `p` > 0 (training), the weights get inverted dropout before the
    product with V: keep = u >= p, weight keep / (1 - p), u drawn as by
    `nn.dropout` from the `seed` operand, `stream` and the element's
    row-major index in [N, heads, T, T]. `seed` is present only when p > 0.

    ```mlir
    %o, %lse = nn.attention %qkv, %m {heads = 4 : i64, causal = true} : (tensor<2x16x96xf32>, tensor<2x16xf32>) -> (tensor<2x16x32xf32>, tensor<2x4x16xf32>)
    ```
  }];
  let arguments = (ins NN_F32Tensor:$qkv, NN_F32Tensor:$mask,
                       Optional<NN_I64Scalar>:$seed,
                       I64Attr:$heads,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<F32Attr, "0.0">:$p,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs NN_F32Tensor:$out, NN_F32Tensor:$lse);
  let assemblyFormat = [{
    $qkv `,` $mask (`,` $seed^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_AttentionGradOp : NN_Op<"attention_grad", [Pure]> {
  let summary = "gradient of nn.attention with respect to q, k and v";
  let description = [{
    From `dout` and the forward's operands and results, recomputes the
    weights of each tile from `lse` and gives `dqkv` [N, T, 3D], the
    gradients of q, k and v packed as in `qkv` (FlashAttention
    -2's backward: D_i = rowsum(dO * O), dV = P^T dO, dP = dO V^T,
    dS = P (dP - D_i), dQ = dS K / sqrt(d), dK = dS^T Q / sqrt(d), with the
    dropout mask regenerated from `seed`).

    ```mlir
    %dqkv = nn.attention_grad %do, %qkv, %m, %o, %lse {heads = 4 : i64, causal = true} : (tensor<2x16x32xf32>, tensor<2x16x96xf32>, tensor<2x16xf32>, tensor<2x16x32xf32>, tensor<2x4x16xf32>) -> tensor<2x16x96xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$dout, NN_F32Tensor:$qkv,
                       NN_F32Tensor:$mask, NN_F32Tensor:$out,
                       NN_F32Tensor:$lse,
                       Optional<NN_I64Scalar>:$seed,
                       I64Attr:$heads,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<F32Attr, "0.0">:$p,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs NN_F32Tensor:$dqkv);
  let assemblyFormat = [{
    $dout `,` $qkv `,` $mask `,` $out `,` $lse (`,` $seed^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // NN_ATTENTION_OPS
