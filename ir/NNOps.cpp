//===- NNOps.cpp - Verifiers of the nn dialect's ops
//-----------------------===//
//
// Only checks across operands live here; single-operand constraints are ODS
// traits in NNOps.td.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace nnc::nn;

#include "ir/NNInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "ir/NNOps.cpp.inc"

LogicalResult DenseOp::verify() {
  RankedTensorType x = tensorType(getInput()), w = tensorType(getWeight()),
                   y = tensorType(getResult());
  if (x.getRank() != 2 || w.getRank() != 2 || y.getRank() != 2)
    return emitOpError() << "expects rank-2 input, weight and result, got " << x
                         << ", " << w << " and " << y;
  if (x.getDimSize(1) != w.getDimSize(1))
    return emitOpError() << "input features (" << x.getDimSize(1)
                         << ") do not match the weight's [out, in] = " << w;
  if (y.getDimSize(0) != x.getDimSize(0) || y.getDimSize(1) != w.getDimSize(0))
    return emitOpError() << "result must be [" << x.getDimSize(0) << ", "
                         << w.getDimSize(0) << "], got " << y;
  if (Value b = getBias()) {
    RankedTensorType bt = tensorType(b);
    if (bt.getRank() != 1 || bt.getDimSize(0) != w.getDimSize(0))
      return emitOpError() << "bias must be [" << w.getDimSize(0) << "], got "
                           << bt;
  }
  return success();
}

LogicalResult TransposeOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<bool> seen(in.getRank(), false);
  bool valid = static_cast<int64_t>(perm.size()) == in.getRank();
  for (int64_t d : perm) {
    valid = valid && d >= 0 && d < in.getRank() && !seen[d];
    if (valid)
      seen[d] = true;
  }
  if (!valid)
    return emitOpError() << "permutation must order the " << in.getRank()
                         << " dimensions of the input";
  SmallVector<int64_t> shape;
  for (int64_t d : perm)
    shape.push_back(in.getDimSize(d));
  if (out.getShape() != ArrayRef<int64_t>(shape))
    return emitOpError() << "result must be the permuted input "
                         << RankedTensorType::get(shape, in.getElementType())
                         << ", got " << out;
  return success();
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << in << " ("
                         << in.getNumElements() << " elements) to " << out
                         << " (" << out.getNumElements() << " elements)";
  return success();
}

LogicalResult MatmulOp::verify() {
  RankedTensorType a = tensorType(getLhs()), b = tensorType(getRhs()),
                   c = tensorType(getResult());
  if (a.getRank() != 2 || b.getRank() != 2 || c.getRank() != 2)
    return emitOpError() << "expects rank-2 operands and result";
  int64_t m = getTransposeLhs() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = getTransposeLhs() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = getTransposeRhs() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransposeRhs() ? b.getDimSize(0) : b.getDimSize(1);
  if (ka != kb)
    return emitOpError() << "contraction sizes differ: " << ka << " vs " << kb;
  if (c.getDimSize(0) != m || c.getDimSize(1) != n)
    return emitOpError() << "result must be [" << m << ", " << n << "], got "
                         << c;
  return success();
}

LogicalResult MagnitudePruneOp::verify() {
  double s = getSparsity().convertToDouble();
  if (!(s > 0.0 && s < 1.0))
    return emitOpError() << "sparsity must be in (0, 1), got " << s;
  if (getStart() < 1 || getEnd() < getStart())
    return emitOpError() << "needs 1 <= start <= end, got start " << getStart()
                         << " and end " << getEnd();
  if (tensorType(getWeight()).getNumElements() >= (int64_t(1) << 31))
    return emitOpError() << "weights of 2^31 elements or more are not supported";
  return success();
}

LogicalResult ReduceSumOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  SmallVector<int64_t> expected;
  ArrayRef<int64_t> dims = getDims();
  for (int64_t d : dims)
    if (d < 0 || d >= in.getRank())
      return emitOpError() << "dimension " << d << " is out of range for "
                           << in;
  for (int64_t i = 0; i < in.getRank(); ++i)
    if (!llvm::is_contained(dims, i))
      expected.push_back(in.getDimSize(i));
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result shape must drop the reduced dimensions of "
                         << in << ", got " << out;
  return success();
}

LogicalResult BroadcastOp::verify() {
  RankedTensorType in = tensorType(getInput()), out = tensorType(getResult());
  ArrayRef<int64_t> dims = getDims();
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= out.getRank())
      return emitOpError() << "dimension " << d << " is out of range for "
                           << out;
    if (i > 0 && d <= dims[i - 1])
      return emitOpError() << "dimensions must be strictly increasing";
  }
  SmallVector<int64_t> kept;
  for (int64_t i = 0; i < out.getRank(); ++i)
    if (!llvm::is_contained(dims, i))
      kept.push_back(out.getDimSize(i));
  if (in.getShape() != ArrayRef<int64_t>(kept))
    return emitOpError() << "result " << out << " without the broadcast "
                         << "dimensions must be the input " << in;
  return success();
}

/// Shared by every loss: the mask is [batch], the prediction's leading
/// dimension is the batch, and the target matches the prediction (float
/// targets) or is [batch] (class labels).
static LogicalResult verifyLoss(Operation *op, Value prediction, Value target,
                                Value mask) {
  RankedTensorType p = tensorType(prediction), t = tensorType(target),
                   m = tensorType(mask);
  if (p.getRank() < 1)
    return op->emitOpError() << "prediction must have a batch dimension";
  int64_t batch = p.getDimSize(0);
  if (m.getRank() != 1 || m.getDimSize(0) != batch)
    return op->emitOpError() << "mask must be [" << batch << "], got " << m;
  if (t.getElementType().isInteger(32)) {
    // [batch, classes] logits take [batch] labels; [batch, T, classes]
    // logits (a label per position) take [batch, T].
    if (p.getRank() == 3) {
      if (t.getRank() != 2 || t.getDimSize(0) != batch ||
          t.getDimSize(1) != p.getDimSize(1))
        return op->emitOpError()
               << "class labels must be [" << batch << ", " << p.getDimSize(1)
               << "] for [batch, positions, classes] logits, got " << t
               << " for " << p;
      return success();
    }
    if (p.getRank() != 2 || t.getRank() != 1 || t.getDimSize(0) != batch)
      return op->emitOpError()
             << "class labels must be [" << batch
             << "] for [batch, classes] logits, got " << t << " for " << p;
    return success();
  }
  if (t.getShape() != p.getShape())
    return op->emitOpError()
           << "target " << t << " does not match prediction " << p;
  return success();
}

LogicalResult MSELossOp::verify() {
  return verifyLoss(*this, getPrediction(), getTarget(), getMask());
}
LogicalResult MAELossOp::verify() {
  return verifyLoss(*this, getPrediction(), getTarget(), getMask());
}
LogicalResult HuberLossOp::verify() {
  if (getDelta().convertToFloat() <= 0)
    return emitOpError() << "delta must be positive";
  return verifyLoss(*this, getPrediction(), getTarget(), getMask());
}
LogicalResult CrossEntropyLossOp::verify() {
  float e = getLabelSmoothing().convertToFloat();
  if (e < 0 || e > 1)
    return emitOpError() << "label_smoothing must be in [0, 1], got " << e;
  return verifyLoss(*this, getPrediction(), getTarget(), getMask());
}
LogicalResult BCELossOp::verify() {
  return verifyLoss(*this, getPrediction(), getTarget(), getMask());
}
