//===- NNConvGradients.cpp - Vector-Jacobian products of conv and pools
//----===//
//
// The rules of conv2d, maxpool2d, avgpool2d and global_avgpool. The heavy
// lifting is in the gradient ops they emit (lowered in
// passes/Conversion/NNToLinalg/Convolutions.cpp).
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

// y = conv(x, w) + b  =>  dx = conv_transpose(dy, w),
//   dw[f, c, i, j] = sum_{n,oh,ow} dy[n, f, oh, ow] xpad[n, c, oh sh + i, ow sw
//   + j], db = sum_{n,oh,ow} dy
LogicalResult Conv2dOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value x = getInput(), w = getWeight();
  operandGrads.push_back(b.create<Conv2dGradInputOp>(
      loc, x.getType(), dy, w, getStrideAttr(), getPaddingAttr()));
  operandGrads.push_back(b.create<Conv2dGradWeightOp>(
      loc, w.getType(), dy, x, getStrideAttr(), getPaddingAttr()));
  if (Value bias = getBias())
    operandGrads.push_back(b.create<ReduceSumOp>(
        loc, bias.getType(), dy, b.getDenseI64ArrayAttr({0, 2, 3})));
  return success();
}

// y = max over each window of x  =>  dx[first argmax of the window] += dy
LogicalResult MaxPool2dOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<MaxPool2dGradOp>(
      getLoc(), getInput().getType(), resultGrads[0], getInput(),
      getKernelAttr(), getStrideAttr(), getPaddingAttr()));
  return success();
}

// y = sum over each window of xpad / (kh kw)  =>  dx += dy / (kh kw) over
// each window (the padding's share is dropped)
LogicalResult AvgPool2dOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<AvgPool2dGradOp>(
      getLoc(), getInput().getType(), resultGrads[0], getKernelAttr(),
      getStrideAttr(), getPaddingAttr()));
  return success();
}

// y[n, c] = sum_{h,w} x[n, c, h, w] / (H W)  =>  dx[n, c, h, w] = dy[n, c] / (H
// W)
LogicalResult
GlobalAvgPoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<GlobalAvgPoolGradOp>(
      getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}
