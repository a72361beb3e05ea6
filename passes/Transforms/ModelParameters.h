//===- ModelParameters.h - A model function's parameter arguments -*- C++
//-*-===//
//
// nn-fold-batchnorm's `fold` and nn-quantize's `quantize` are functions of
// the parameters and buffers `predict` takes: its leading arguments named by
// `nn.param` or `nn.buffer`, in the state arena's order.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H
#define NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H

#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace nnc {

/// The types and attributes of `fn`'s leading parameter and buffer
/// arguments (up to its first other argument: the input).
inline void
parameterArguments(mlir::func::FuncOp fn,
                   llvm::SmallVectorImpl<mlir::Type> &types,
                   llvm::SmallVectorImpl<mlir::DictionaryAttr> &attrs) {
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    if (!fn.getArgAttr(i, nn::NNDialect::ParamAttrHelper::getNameStr()) &&
        !fn.getArgAttr(i, nn::NNDialect::BufferAttrHelper::getNameStr()))
      break;
    types.push_back(fn.getArgumentTypes()[i]);
    attrs.push_back(fn.getArgAttrDict(i));
  }
}

} // namespace nnc

#endif // NNC_PASSES_TRANSFORMS_MODELPARAMETERS_H
