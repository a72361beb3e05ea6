//===- NNAttentionOps.cpp - Verifiers and gradient of nn.attention -------===//
//
// Shapes: the packed q, k, v [N, T, 3D] (and its gradient), the output
// [N, T, D], the key mask [N, T], the row log-sum-exp [N, heads, T]; heads
// divides D. The gradient rule's math is written above it, as in
// NNGradients.cpp.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

namespace {
/// The checks both ops share, from the output [N, T, D] and the attributes;
/// `sameAsOut` are more values of the output's type (dout).
LogicalResult verifyAttention(Operation *op, Value qkv, Value out,
                              ArrayRef<Value> sameAsOut, Value mask, Value lse,
                              Value seed, int64_t heads, float p) {
  RankedTensorType ot = tensorType(out);
  if (ot.getRank() != 3)
    return op->emitOpError() << "expects an output [N, T, D], got " << ot;
  int64_t n = ot.getDimSize(0), t = ot.getDimSize(1), d = ot.getDimSize(2);
  if (heads < 1 || d % heads != 0)
    return op->emitOpError()
           << "expects heads (" << heads << ") to divide the width D = " << d;
  if (tensorType(qkv).getShape() != ArrayRef<int64_t>{n, t, 3 * d})
    return op->emitOpError()
           << "expects q, k, v packed as [N, T, 3D] = [" << n << ", " << t
           << ", " << 3 * d << "], got " << qkv.getType();
  for (Value v : sameAsOut)
    if (v.getType() != out.getType())
      return op->emitOpError() << "expects a gradient of the output's type "
                               << ot << ", got " << v.getType();
  if (tensorType(mask).getShape() != ArrayRef<int64_t>{n, t})
    return op->emitOpError() << "expects a key mask [N, T] = [" << n << ", "
                             << t << "], got " << mask.getType();
  if (tensorType(lse).getShape() != ArrayRef<int64_t>{n, heads, t})
    return op->emitOpError()
           << "expects lse [N, heads, T] = [" << n << ", " << heads << ", " << t
           << "], got " << lse.getType();
  if (p < 0.0f || p >= 1.0f)
    return op->emitOpError() << "expects a dropout p in [0, 1), got " << p;
  if ((p > 0.0f) != static_cast<bool>(seed))
    return op->emitOpError()
           << (seed ? "has a seed but no dropout (p = 0)"
                    : "needs a seed operand for dropout p > 0");
  return success();
}
} // namespace

LogicalResult AttentionOp::verify() {
  return verifyAttention(*this, getQkv(), getOut(), {}, getMask(), getLse(),
                         getSeed(), getHeads(), getP().convertToFloat());
}

LogicalResult AttentionGradOp::verify() {
  if (getDqkv().getType() != getQkv().getType())
    return emitOpError() << "expects dqkv of qkv's type " << getQkv().getType()
                         << ", got " << getDqkv().getType();
  return verifyAttention(*this, getQkv(), getOut(), {getDout()}, getMask(),
                         getLse(), getSeed(), getHeads(),
                         getP().convertToFloat());
}

// Per head, with s = 1 / sqrt(d), P = softmax(s Q K^T + masks), Z the
// dropout's keep / (1 - p) (1 without dropout):
//   O = (P Z) V  =>  dV = (P Z)^T dO, dP' = (dO V^T) Z,
//   dS = P (dP' - rowsum(dO O)), dQ = s dS K, dK = s dS^T Q
// (nn.attention_grad, packed as [dQ, dK, dV]). The mask and the seed are
// data; lse is an internal result that nothing differentiates.
LogicalResult AttentionOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  auto grad = b.create<AttentionGradOp>(
      getLoc(), getQkv().getType(), resultGrads[0], getQkv(), getMask(),
      getOut(), getLse(), getSeed(), getHeadsAttr(), getCausalAttr(),
      getPAttr(), getStreamAttr());
  operandGrads.push_back(grad.getDqkv());
  operandGrads.append(getNumOperands() - 1, Value());
  return success();
}
