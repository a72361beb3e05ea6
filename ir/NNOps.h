//===- NNOps.h - Operations of the nn dialect ----------------------*- C++ -*-===//
#ifndef NNC_IR_NNOPS_H
#define NNC_IR_NNOPS_H

#include "ir/NNDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "ir/NNOps.h.inc"

namespace nnc::nn {
/// The type of `v`, a ranked tensor as every nn operand and result is.
inline mlir::RankedTensorType tensorType(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}
} // namespace nnc::nn

#endif // NNC_IR_NNOPS_H
