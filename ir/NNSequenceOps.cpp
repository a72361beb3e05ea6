//===- NNSequenceOps.cpp - Verifiers and gradients of sequence ops -------===//
//
// Shapes: ids and masks [N, T], sequences [N, T, F], pooled [N, F], the
// embedding table [count, dim]. The math of each gradient rule is written
// above it, as in NNGradients.cpp.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

LogicalResult TokenMaskOp::verify() {
  if (getIds().getType().getShape() != getResult().getType().getShape())
    return emitOpError() << "expects a mask of the ids' shape, got "
                         << getIds().getType() << " and "
                         << getResult().getType();
  return success();
}

/// `ids` [N, T] and `table` [count, dim] with `seq` [N, T, dim].
static LogicalResult verifyEmbedding(Operation *op, RankedTensorType ids,
                                     RankedTensorType table,
                                     RankedTensorType seq) {
  if (ids.getRank() != 2 || table.getRank() != 2 || seq.getRank() != 3 ||
      seq.getDimSize(0) != ids.getDimSize(0) ||
      seq.getDimSize(1) != ids.getDimSize(1) ||
      seq.getDimSize(2) != table.getDimSize(1))
    return op->emitOpError()
           << "expects ids [N, T], a table [count, dim] and a sequence "
              "[N, T, dim], got "
           << ids << ", " << table << " and " << seq;
  return success();
}

LogicalResult EmbeddingOp::verify() {
  return verifyEmbedding(*this, tensorType(getIds()), tensorType(getWeight()),
                         tensorType(getResult()));
}

LogicalResult EmbeddingGradOp::verify() {
  return verifyEmbedding(*this, tensorType(getIds()), tensorType(getResult()),
                         tensorType(getGrad()));
}

// y[n, t, :] = W[ids[n, t], :]  =>  dW[i, :] = sum_{ids[n, t] = i} dy[n, t, :]
LogicalResult EmbeddingOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(Value()); // ids
  operandGrads.push_back(b.create<EmbeddingGradOp>(
      getLoc(), getWeight().getType(), resultGrads[0], getIds()));
  return success();
}

/// `seq` [N, T, F], `mask` [N, T] (or, for the max gradient, the indices
/// [N, F]) and `pooled` [N, F].
static LogicalResult verifyTimePool(Operation *op, RankedTensorType seq,
                                    RankedTensorType mask,
                                    RankedTensorType pooled,
                                    bool indices = false) {
  StringRef maskName = indices ? "indices [N, F]" : "a mask [N, T]";
  if (seq.getRank() != 3 || mask.getRank() != 2 || pooled.getRank() != 2 ||
      mask.getDimSize(0) != seq.getDimSize(0) ||
      pooled.getDimSize(0) != seq.getDimSize(0) ||
      pooled.getDimSize(1) != seq.getDimSize(2))
    return op->emitOpError() << "expects a sequence [N, T, F], " << maskName
                             << " and a pooled value [N, F], got " << seq
                             << ", " << mask << " and " << pooled;
  if (!indices && mask.getDimSize(1) != seq.getDimSize(1))
    return op->emitOpError() << "expects a mask [N, T] for the sequence " << seq
                             << ", got " << mask;
  return success();
}

LogicalResult MaskedAvgPoolOp::verify() {
  return verifyTimePool(*this, tensorType(getInput()), tensorType(getMask()),
                        tensorType(getResult()));
}

LogicalResult MaskedAvgPoolGradOp::verify() {
  return verifyTimePool(*this, tensorType(getResult()), tensorType(getMask()),
                        tensorType(getGrad()));
}

LogicalResult MaskedMaxPoolOp::verify() {
  if (getResult().getType() !=
      RankedTensorType::get(getIndices().getType().getShape(),
                            getResult().getType().getElementType()))
    return emitOpError() << "expects indices of the result's shape, got "
                         << getIndices().getType();
  return verifyTimePool(*this, tensorType(getInput()), tensorType(getMask()),
                        tensorType(getResult()));
}

LogicalResult MaskedMaxPoolGradOp::verify() {
  if (getGrad().getType().getShape() != getIndices().getType().getShape())
    return emitOpError() << "expects indices of the gradient's shape, got "
                         << getIndices().getType();
  return verifyTimePool(*this, tensorType(getResult()),
                        tensorType(getIndices()), tensorType(getGrad()),
                        "indices [N, F]");
}

// y[n, f] = sum_t m[n, t] x[n, t, f] / c[n], c = max(sum_t m[n, t], 1)
//   =>  dx[n, t, f] = dy[n, f] m[n, t] / c[n]
LogicalResult
MaskedAvgPoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<MaskedAvgPoolGradOp>(
      getLoc(), getInput().getType(), resultGrads[0], getMask()));
  operandGrads.push_back(Value()); // the mask is data
  return success();
}

// y[n, f] = x[n, i[n, f], f]  =>  dx[n, t, f] = dy[n, f] if t = i[n, f]
LogicalResult
MaskedMaxPoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  if (noGradient(resultGrads, *this, operandGrads))
    return success();
  operandGrads.push_back(b.create<MaskedMaxPoolGradOp>(
      getLoc(), getInput().getType(), resultGrads[0], getIndices()));
  operandGrads.push_back(Value());
  return success();
}
