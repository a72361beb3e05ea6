//===- NNNormOps.cpp - Verifiers and gradient rules of NNNormOps.td ------===//
//
// Batchnorm, layernorm, dropout and concat: the checks across operands and
// each op's vector-Jacobian product (the math above every rule).
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::verify() {
  RankedTensorType x = tensorType(getInput());
  if (x.getRank() != 2 && x.getRank() != 4)
    return emitOpError() << "expects a [N, C] or [N, C, H, W] input, got " << x;
  auto channels = RankedTensorType::get({x.getDimSize(1)}, x.getElementType());
  for (Value v : {getWeight(), getBias(), getMean(), getVar(), getInvstd()})
    if (v.getType() != channels)
      return emitOpError() << "weight, bias and statistics must be " << channels
                           << ", got " << v.getType();
  auto mask = RankedTensorType::get({x.getDimSize(0)}, x.getElementType());
  if (getMask().getType() != mask)
    return emitOpError() << "mask must be " << mask << ", got "
                         << getMask().getType();
  if (getResult().getType() != x)
    return emitOpError() << "result must be " << x;
  return success();
}

LogicalResult LayerNormOp::verify() {
  RankedTensorType x = tensorType(getInput());
  if (x.getRank() < 1)
    return emitOpError() << "expects a tensor input, got " << x;
  auto last = RankedTensorType::get({x.getShape().back()}, x.getElementType());
  if (getWeight().getType() != last || getBias().getType() != last)
    return emitOpError() << "weight and bias must be " << last;
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "expects at least one input";
  RankedTensorType y = tensorType(getResult());
  int64_t axis = getDim();
  if (y.getRank() < 2 || axis < 1 || axis >= y.getRank())
    return emitOpError() << "expects inputs of rank >= 2 (batch, channels) "
                            "and an axis in [1, rank), got axis "
                         << axis << " for " << y;
  int64_t channels = 0;
  for (Value v : getInputs()) {
    RankedTensorType t = tensorType(v);
    bool ok = t.getRank() == y.getRank();
    for (int64_t d = 0; ok && d < t.getRank(); ++d)
      ok = d == axis || t.getDimSize(d) == y.getDimSize(d);
    if (!ok)
      return emitOpError() << "input " << t << " does not fit result " << y
                           << " along dimension " << axis;
    channels += t.getDimSize(axis);
  }
  if (channels != y.getDimSize(axis))
    return emitOpError() << "result has " << y.getDimSize(axis)
                         << (axis == 1 ? " channels"
                                       : " elements along "
                                         "dimension " +
                                             std::to_string(axis))
                         << ", the inputs " << channels;
  return success();
}

LogicalResult SliceOp::verify() {
  RankedTensorType x = tensorType(getInput()), y = tensorType(getResult());
  ArrayRef<int64_t> offsets = getOffsets();
  if (x.getRank() != y.getRank() ||
      static_cast<int64_t>(offsets.size()) != x.getRank())
    return emitOpError() << "expects one offset per dimension and results of "
                            "the input's rank";
  for (int64_t d = 0; d < x.getRank(); ++d)
    if (offsets[d] < 0 || offsets[d] + y.getDimSize(d) > x.getDimSize(d))
      return emitOpError() << "box leaves the input in dimension " << d;
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient rules
//===----------------------------------------------------------------------===//

// y = (x - mean) invstd w + b, invstd = 1 / sqrt(var + eps), statistics
// over the real rows
//   =>  dx = m w invstd (dy - sum(m dy) / M - xhat sum(m dy xhat) / M),
//       dw = sum(m dy xhat), db = sum(m dy)
// with the forward pass's mean and invstd (torch's save_mean, save_invstd).
// The statistics results feed only the running statistics, which are
// buffers, and this rule: their gradients are ignored.
LogicalResult BatchNormOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  Type xType = getInput().getType(), wType = getWeight().getType();
  auto g = b.create<BatchNormGradOp>(
      getLoc(), xType, wType, wType, resultGrads[0], getInput(), getWeight(),
      getMean(), getInvstd(), getMask(), getSyncAttr());
  operandGrads.append(
      {g.getInputGrad(), g.getWeightGrad(), g.getBiasGrad(), Value()});
  return success();
}

// y = (x - mean) / sqrt(var + eps) w + b over the last dimension D
//   =>  g = dy w, dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps),
//       dw = sum_rows(dy xhat), db = sum_rows(dy)
LogicalResult LayerNormOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  Type xType = getInput().getType(), wType = getWeight().getType();
  auto g =
      b.create<LayerNormGradOp>(getLoc(), xType, wType, wType, resultGrads[0],
                                getInput(), getWeight(), getEpsAttr());
  operandGrads.append({g.getInputGrad(), g.getWeightGrad(), g.getBiasGrad()});
  return success();
}

// y = x keep(seed) / (1 - p)  =>  dx = dy keep(seed) / (1 - p): the same op,
// same seed and stream, on dy.
LogicalResult DropoutOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<DropoutOp>(getLoc(), getType(),
                                             resultGrads[0], getSeed(),
                                             getPAttr(), getStreamAttr()));
  operandGrads.push_back(Value());
  return success();
}

// y = cat(a_0, a_1, ..., dim 1)  =>  da_k = dy[:, o_k : o_k + c_k]
LogicalResult ConcatOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  int64_t offset = 0;
  for (Value v : getInputs()) {
    RankedTensorType t = tensorType(v);
    SmallVector<int64_t> offsets(t.getRank(), 0);
    offsets[getDim()] = offset;
    operandGrads.push_back(b.create<SliceOp>(getLoc(), t, resultGrads[0],
                                             b.getDenseI64ArrayAttr(offsets)));
    offset += t.getDimSize(getDim());
  }
  return success();
}
