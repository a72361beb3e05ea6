//===- ModelParameters.h - A model function's parameter arguments -*- C++
//-*-===//
//
// nn-fold-batchnorm's `fold` and nn-quantize's `quantize` are functions of
// the parameters and buffers `predict` takes: its leading arguments named by
// `nn.param` or `nn.buffer`, in the state arena's order (nn-export-abi reads
// them from the state as it does for `predict`).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H
#define NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H

#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace nnc {

/// A new function `name` after `predict` (its builder `b` left at the
/// start of the body): `predict`'s leading parameter and buffer arguments
/// (types and attributes), then `extra` arguments, returning `results`.
inline mlir::func::FuncOp
parameterFunction(mlir::OpBuilder &b, mlir::func::FuncOp predict,
                  llvm::StringRef name, llvm::ArrayRef<mlir::Type> extra,
                  llvm::ArrayRef<mlir::Type> results) {
  llvm::SmallVector<mlir::Type> types;
  llvm::SmallVector<mlir::DictionaryAttr> attrs;
  for (unsigned i = 0; i < predict.getNumArguments(); ++i) {
    if (!predict.getArgAttr(i, nn::NNDialect::ParamAttrHelper::getNameStr()) &&
        !predict.getArgAttr(i, nn::NNDialect::BufferAttrHelper::getNameStr()))
      break;
    types.push_back(predict.getArgumentTypes()[i]);
    attrs.push_back(predict.getArgAttrDict(i));
  }
  types.append(extra.begin(), extra.end());
  attrs.append(extra.size(), b.getDictionaryAttr({}));
  b.setInsertionPointAfter(predict);
  auto fn = b.create<mlir::func::FuncOp>(predict.getLoc(), name,
                                         b.getFunctionType(types, results));
  fn.setAllArgAttrs(attrs);
  b.setInsertionPointToStart(fn.addEntryBlock());
  return fn;
}

} // namespace nnc

#endif // NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H
