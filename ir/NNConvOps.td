//===- NNConvOps.td - Convolution and pooling ops ------------*- tablegen -*-===//
//
// conv2d, the pools and the ops their gradient rules emit. Activations are
// NCHW, conv weights [F, C, kh, kw] (PyTorch's layouts). Windows are described
// by `stride = [sh, sw]` and `padding = [top, left, bottom, right]`; the pools
// also by `kernel = [kh, kw]`. Output sizes follow PyTorch's floor mode:
// OH = (H + top + bottom - kh) / sh + 1.
//
//===----------------------------------------------------------------------===//
#ifndef NN_CONV_OPS
#define NN_CONV_OPS

def NN_Conv2dOp : NN_Op<"conv2d",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "2-d cross-correlation of NCHW input with [F, C, kh, kw] filters";
  let description = [{
    `y[n, f, oh, ow] = b[f] + sum_{c,i,j} w[f, c, i, j] *
    xpad[n, c, oh sh + i, ow sw + j]` where `xpad` is the input padded with
    zeros (`torch.nn.functional.conv2d`, no dilation or groups).

    ```mlir
    %y = nn.conv2d %x, %w, %b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>) -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$weight,
                       Optional<NN_F32Tensor>:$bias,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NN_Conv2dGradInputOp : NN_Op<"conv2d_grad_input", [Pure]> {
  let summary = "gradient of conv2d with respect to its input";
  let description = [{
    `dx = conv_transpose(dy, w)`: every output gradient is spread back over
    its window, `dx[n, c, oh sh + i - top, ow sw + j - left] += w[f, c, i, j]
    dy[n, f, oh, ow]`. The result type gives the input's shape.

    ```mlir
    %dx = nn.conv2d_grad_input %dy, %w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x32x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<8x1x28x28xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$weight,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def NN_Conv2dGradWeightOp : NN_Op<"conv2d_grad_weight", [Pure]> {
  let summary = "gradient of conv2d with respect to its filters";
  let description = [{
    `dw[f, c, i, j] = sum_{n,oh,ow} dy[n, f, oh, ow] xpad[n, c, oh sh + i,
    ow sw + j]`. The result type gives the filters' shape.

    ```mlir
    %dw = nn.conv2d_grad_weight %dy, %x {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>} : (tensor<8x32x28x28xf32>, tensor<8x1x28x28xf32>) -> tensor<32x1x3x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class NN_Pool2dOp<string mnemonic, string opSummary>
    : NN_Op<mnemonic, [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = opSummary;
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_MaxPool2dOp : NN_Pool2dOp<"maxpool2d",
    "maximum over each window; padding counts as -inf"> {
  let description = [{
    `torch.nn.functional.max_pool2d` (floor mode, no dilation).

    ```mlir
    %y = nn.maxpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<8x32x28x28xf32> -> tensor<8x32x14x14xf32>
    ```
  }];
}

def NN_AvgPool2dOp : NN_Pool2dOp<"avgpool2d",
    "mean over each window; padding counts as zeros (count_include_pad)"> {
  let description = [{
    `torch.nn.functional.avg_pool2d` with its defaults: the divisor is always
    `kh kw`.

    ```mlir
    %y = nn.avgpool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<8x32x28x28xf32> -> tensor<8x32x14x14xf32>
    ```
  }];
}

def NN_MaxPool2dGradOp : NN_Op<"maxpool2d_grad", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "gradient of maxpool2d: dy routed to the first maximum of each window";
  let description = [{
    Each window's gradient goes to the first element (row-major within the
    window) equal to the window's maximum, as PyTorch's CPU kernel does;
    overlapping windows accumulate.

    ```mlir
    %dx = nn.maxpool2d_grad %dy, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<8x32x14x14xf32>, tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, NN_F32Tensor:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad) `,` type($input)";
  let hasVerifier = 1;
}

def NN_AvgPool2dGradOp : NN_Op<"avgpool2d_grad", [Pure]> {
  let summary = "gradient of avgpool2d: dy / (kh kw) spread over each window";
  let description = [{
    ```mlir
    %dx = nn.avgpool2d_grad %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>} : tensor<8x32x14x14xf32> -> tensor<8x32x28x28xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def NN_GlobalAvgPoolOp : NN_Op<"global_avgpool",
    [Pure, DeclareOpInterfaceMethods<NN_GradientOpInterface>]> {
  let summary = "mean over the spatial dimensions: [N, C, H, W] -> [N, C]";
  let description = [{
    ```mlir
    %y = nn.global_avgpool %x : tensor<8x64x7x7xf32> -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_GlobalAvgPoolGradOp : NN_Op<"global_avgpool_grad", [Pure]> {
  let summary = "gradient of global_avgpool: dy / (H W) broadcast over H, W";
  let description = [{
    ```mlir
    %dx = nn.global_avgpool_grad %dy : tensor<8x64xf32> -> tensor<8x64x7x7xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

#endif // NN_CONV_OPS
