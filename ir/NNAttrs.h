//===- NNAttrs.h - Attributes and enums of the nn dialect -------*- C++ -*-===//
#ifndef NNC_IR_NNATTRS_H
#define NNC_IR_NNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/OpImplementation.h"

#include "ir/NNEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/NNAttrs.h.inc"

namespace nnc::nn {
/// Parameter parsers and printers of NNAttrs.td: an f64 literal, `true` or
/// `false`.
mlir::FailureOr<llvm::APFloat> parseF64(mlir::AsmParser &parser);
void printF64(mlir::AsmPrinter &printer, const llvm::APFloat &value);
mlir::FailureOr<bool> parseFlag(mlir::AsmParser &parser);
} // namespace nnc::nn

#endif // NNC_IR_NNATTRS_H
