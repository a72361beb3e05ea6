//===- NNGradients.cpp - Vector-Jacobian products of nn ops
//----------------===//
//
// Each rule receives dL/d(result) and appends dL/d(operand) for every operand
// (null where an operand has no gradient). The math is written above each
// rule; the Autodiff pass only walks the graph backwards and sums.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

// y = x W^T + b  =>  dx = dy W,  dW = dy^T x,  db = sum_batch dy
LogicalResult DenseOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value x = getInput(), w = getWeight();
  operandGrads.push_back(b.create<MatmulOp>(loc, x.getType(), dy, w,
                                            /*transpose_lhs=*/false,
                                            /*transpose_rhs=*/false));
  operandGrads.push_back(b.create<MatmulOp>(loc, w.getType(), dy, x,
                                            /*transpose_lhs=*/true,
                                            /*transpose_rhs=*/false));
  if (Value bias = getBias())
    operandGrads.push_back(b.create<ReduceSumOp>(loc, bias.getType(), dy,
                                                 b.getDenseI64ArrayAttr({0})));
  return success();
}

// y = max(x, 0)  =>  dx = dy * (y > 0), the same as dy * (x > 0). Saving
// y (as PyTorch does) leaves x a single use when the relu follows a
// convolution, whose result halves then fuse the relu (see
// nn-fuse-elementwise).
LogicalResult ReluOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<ReluGradOp>(getLoc(), resultGrads[0], getResult()));
  return success();
}

// y = x if x > 0 else a x  =>  dx = dy if x > 0 else a dy
LogicalResult LeakyReluOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<LeakyReluGradOp>(getLoc(), resultGrads[0],
                                                   getInput(), getAlphaAttr()));
  return success();
}

// y = 1 / (1 + e^-x)  =>  dx = dy y (1 - y)
LogicalResult SigmoidOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<SigmoidGradOp>(getLoc(), resultGrads[0], getResult()));
  return success();
}

// y = tanh x  =>  dx = dy (1 - y^2)
LogicalResult TanhOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<TanhGradOp>(getLoc(), resultGrads[0], getResult()));
  return success();
}

// y = x Phi(x)  =>  dx = dy (Phi(x) + x phi(x))
LogicalResult GeluOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<GeluGradOp>(getLoc(), resultGrads[0], getInput()));
  return success();
}

// y = softmax(x)  =>  dx = y (dy - sum(dy y))   (sum over the last axis)
LogicalResult SoftmaxOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<SoftmaxGradOp>(getLoc(), resultGrads[0], getResult()));
  return success();
}

// y = reshape(x)  =>  dx = reshape(dy) back to x's shape
// y = permute(x, p)  =>  dx = permute(dy, p^-1)
LogicalResult TransposeOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, d] : llvm::enumerate(perm))
    inverse[d] = static_cast<int64_t>(i);
  operandGrads.push_back(
      b.create<TransposeOp>(getLoc(), getInput().getType(), resultGrads[0],
                            b.getDenseI64ArrayAttr(inverse)));
  return success();
}

LogicalResult ReshapeOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(
      b.create<ReshapeOp>(getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}

// y = a + b  =>  da = dy, db = dy
LogicalResult AddOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(resultGrads[0]);
  operandGrads.push_back(resultGrads[0]);
  return success();
}

// y = a b  =>  da = dy b, db = dy a
LogicalResult MulOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<MulOp>(getLoc(), resultGrads[0], getRhs()));
  operandGrads.push_back(b.create<MulOp>(getLoc(), resultGrads[0], getLhs()));
  return success();
}

// y = sum_dims x  =>  dx = dy broadcast back along dims
LogicalResult ReduceSumOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  SmallVector<int64_t> dims(getDims());
  llvm::sort(dims);
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  operandGrads.push_back(b.create<BroadcastOp>(getLoc(), getInput().getType(),
                                               resultGrads[0],
                                               b.getDenseI64ArrayAttr(dims)));
  return success();
}

// y = x broadcast along dims  =>  dx = sum_dims dy
LogicalResult BroadcastOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<ReduceSumOp>(getLoc(), getInput().getType(),
                                               resultGrads[0], getDimsAttr()));
  return success();
}

// Losses: dL/dprediction from the loss's own gradient op; the target and the
// mask are data and get no gradient.
template <typename GradOp, typename LossOp, typename... Attrs>
static LogicalResult
lossGradient(LossOp op, OpBuilder &b, ArrayRef<Value> resultGrads,
             SmallVectorImpl<Value> &operandGrads, Attrs... attrs) {
  if (noGradient(resultGrads, op, operandGrads))
    return success();
  operandGrads.push_back(b.create<GradOp>(
      op.getLoc(), op.getPrediction().getType(), resultGrads[0],
      op.getPrediction(), op.getTarget(), op.getMask(), attrs...));
  operandGrads.push_back(Value());
  operandGrads.push_back(Value());
  return success();
}

// L = sum_b m_b sum_i (p - t)^2 / (count n)  =>  dp = 2 (p - t) m / (count n)
LogicalResult MSELossOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return lossGradient<MSELossGradOp>(*this, b, resultGrads, operandGrads);
}

// L = sum_b m_b sum_i |p - t| / (count n)  =>  dp = sign(p - t) m / (count n)
LogicalResult MAELossOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return lossGradient<MAELossGradOp>(*this, b, resultGrads, operandGrads);
}

// dp = clamp(p - t, -delta, delta) m / (count n)
LogicalResult HuberLossOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  return lossGradient<HuberLossGradOp>(*this, b, resultGrads, operandGrads,
                                       getDeltaAttr());
}

// L = -sum_b m_b sum_c q_c log softmax(z)_c / count, q = (1-e) onehot + e/C
//   =>  dz = (softmax(z) - q) m / count
LogicalResult
CrossEntropyLossOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  return lossGradient<CrossEntropyLossGradOp>(
      *this, b, resultGrads, operandGrads, getLabelSmoothingAttr());
}

// L = mean(max(z, 0) - z t + log(1 + e^-|z|))  =>  dz = (sigmoid(z) - t) m /
// (count n)
LogicalResult BCELossOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  return lossGradient<BCELossGradOp>(*this, b, resultGrads, operandGrads);
}
