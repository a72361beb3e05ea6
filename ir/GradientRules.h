//===- GradientRules.h - Shared helpers of the gradient rules ----*- C++ -*-===//
//
// Private to ir/: used by NNGradients.cpp, NNConvGradients.cpp and
// NNNormOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_IR_GRADIENTRULES_H
#define NNC_IR_GRADIENTRULES_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

namespace nnc::nn {

/// A rule whose result gradient is missing contributes nothing: appends a
/// null gradient per operand and returns true.
inline bool noGradient(llvm::ArrayRef<mlir::Value> resultGrads,
                       mlir::Operation *op,
                       llvm::SmallVectorImpl<mlir::Value> &operandGrads) {
  if (resultGrads.empty() || !resultGrads[0]) {
    operandGrads.append(op->getNumOperands(), mlir::Value());
    return true;
  }
  return false;
}

} // namespace nnc::nn

#endif // NNC_IR_GRADIENTRULES_H
