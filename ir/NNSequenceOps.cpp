//===- NNSequenceOps.cpp - Verifiers and gradients of sequence ops -------===//
//
// Shapes: ids and masks [N, T], sequences [N, T, F], pooled [N, F], the
// embedding table [count, dim]. The math of each gradient rule is written
// above it, as in NNGradients.cpp.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientRules.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringSwitch.h"

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

int64_t RecurrentOp::gatesOf(StringRef cell) {
  return llvm::StringSwitch<int64_t>(cell)
      .Cases("rnn_tanh", "rnn_relu", 1)
      .Case("lstm", 4)
      .Case("gru", 3)
      .Default(0);
}

int64_t RecurrentOp::savedOf(StringRef cell) {
  return llvm::StringSwitch<int64_t>(cell)
      .Cases("rnn_tanh", "rnn_relu", 1)
      .Case("lstm", 5)
      .Case("gru", 4)
      .Default(0);
}

namespace {
/// The shapes every recurrent op agrees on, from the state sequence
/// [N, T, H]; `check` names the first operand or result that disagrees.
struct RecurrentShapes {
  int64_t n, t, h, g, a;
  RecurrentShapes(RankedTensorType states, StringRef cell)
      : n(states.getDimSize(0)), t(states.getDimSize(1)),
        h(states.getDimSize(2)), g(RecurrentOp::gatesOf(cell)),
        a(RecurrentOp::savedOf(cell)) {}
  LogicalResult check(Operation *op, StringRef what, Value v,
                      ArrayRef<int64_t> want) const {
    RankedTensorType type = tensorType(v);
    if (type.getShape() == want)
      return success();
    return op->emitOpError()
           << what << " must be "
           << RankedTensorType::get(want, type.getElementType()) << ", got "
           << type;
  }
};

LogicalResult verifyCell(Operation *op, StringRef cell, Value states) {
  if (RecurrentOp::gatesOf(cell) == 0)
    return op->emitOpError()
           << "unknown cell '" << cell << "' (rnn_tanh, rnn_relu, lstm or gru)";
  if (tensorType(states).getRank() != 3)
    return op->emitOpError()
           << "expects states [N, T, H], got " << states.getType();
  return success();
}
} // namespace

LogicalResult RecurrentOp::verify() {
  if (failed(verifyCell(*this, getCell(), getStates())))
    return failure();
  RecurrentShapes s(tensorType(getStates()), getCell());
  RankedTensorType x = tensorType(getInput());
  if (x.getRank() != 3 || x.getDimSize(0) != s.n || x.getDimSize(1) != s.t)
    return emitOpError() << "expects an input [N, T, F] of the states' N and "
                            "T, got "
                         << x << " for states " << getStates().getType();
  int64_t f = x.getDimSize(2);
  if (failed(s.check(*this, "mask", getMask(), {s.n, s.t})) ||
      failed(s.check(*this, "w_ih", getWIh(), {s.g * s.h, f})) ||
      failed(s.check(*this, "w_hh", getWHh(), {s.g * s.h, s.h})) ||
      failed(s.check(*this, "b_ih", getBIh(), {s.g * s.h})) ||
      failed(s.check(*this, "b_hh", getBHh(), {s.g * s.h})) ||
      failed(s.check(*this, "final", getFinal(), {s.n, s.h})) ||
      failed(s.check(*this, "saved", getSaved(), {s.n, s.t, s.a * s.h})))
    return failure();
  return success();
}

LogicalResult RecurrentGradOp::verify() {
  if (failed(verifyCell(*this, getCell(), getStates())))
    return failure();
  RecurrentShapes s(tensorType(getStates()), getCell());
  if (failed(s.check(*this, "dstates", getDstates(), {s.n, s.t, s.h})) ||
      failed(s.check(*this, "dfinal", getDfinal(), {s.n, s.h})) ||
      failed(s.check(*this, "mask", getMask(), {s.n, s.t})) ||
      failed(s.check(*this, "w_hh", getWHh(), {s.g * s.h, s.h})) ||
      failed(s.check(*this, "saved", getSaved(), {s.n, s.t, s.a * s.h})) ||
      failed(s.check(*this, "dx_gates", getDxGates(), {s.n, s.t, s.g * s.h})) ||
      failed(s.check(*this, "dh_gates", getDhGates(), {s.n, s.t, s.g * s.h})) ||
      failed(s.check(*this, "dw_hh", getDwHh(), {s.g * s.h, s.h})))
    return failure();
  return success();
}

// Pre-activations a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (gru's n
// gate: r * (h W_hn^T + b_hn)). recurrent_grad gives dA_x and dA_h per step;
// then dx = dA_x W_ih, dW_ih = sum_{n,t} dA_x^T x, db_ih = sum dA_x,
// db_hh = sum dA_h, and dW_hh = sum_t dA_h^T h_{t-1} (from the loop).
LogicalResult RecurrentOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  Value dstates = resultGrads.size() > 0 ? resultGrads[0] : Value();
  Value dfinal = resultGrads.size() > 1 ? resultGrads[1] : Value();
  if (!dstates && !dfinal) {
    operandGrads.append(getNumOperands(), Value());
    return success();
  }
  Location loc = getLoc();
  auto zeros = [&](Type type) -> Value {
    auto t = cast<RankedTensorType>(type);
    return b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(t, b.getF32FloatAttr(0.0f)));
  };
  if (!dstates)
    dstates = zeros(getStates().getType());
  if (!dfinal)
    dfinal = zeros(getFinal().getType());
  RankedTensorType x = tensorType(getInput());
  RankedTensorType wih = tensorType(getWIh());
  int64_t n = x.getDimSize(0), t = x.getDimSize(1), f = x.getDimSize(2);
  int64_t gh = wih.getDimSize(0);
  Type f32 = b.getF32Type();
  auto gatesType = RankedTensorType::get({n, t, gh}, f32);
  auto grad = b.create<RecurrentGradOp>(
      loc, gatesType, gatesType, getWHh().getType(), dstates, dfinal, getMask(),
      getWHh(), getStates(), getSaved(), getCellAttr(), getReverseAttr());
  auto flatGates = RankedTensorType::get({n * t, gh}, f32);
  auto flatX = RankedTensorType::get({n * t, f}, f32);
  Value dxg = b.create<ReshapeOp>(loc, flatGates, grad.getDxGates());
  Value xs = b.create<ReshapeOp>(loc, flatX, getInput());
  Value dx = b.create<ReshapeOp>(loc, x,
                                 b.create<MatmulOp>(loc, flatX, dxg, getWIh(),
                                                    /*transpose_lhs=*/false,
                                                    /*transpose_rhs=*/false));
  Value dwih = b.create<MatmulOp>(loc, wih, dxg, xs, /*transpose_lhs=*/true,
                                  /*transpose_rhs=*/false);
  auto sumSteps = [&](Value gates) -> Value {
    return b.create<ReduceSumOp>(loc, getBIh().getType(), gates,
                                 b.getDenseI64ArrayAttr({0, 1}));
  };
  operandGrads.push_back(dx);
  operandGrads.push_back(Value()); // the mask is data
  operandGrads.push_back(dwih);
  operandGrads.push_back(grad.getDwHh());
  operandGrads.push_back(sumSteps(grad.getDxGates()));
  operandGrads.push_back(sumSteps(grad.getDhGates()));
  return success();
}
