//===- ArenaViews.h - Views of an entry point's state arena ------*- C++ -*-===//
//
// nn-export-abi gives each entry point one state arena (parameters,
// gradients, optimizer state) and reads and writes each slot of it through a
// static view of the arena argument. nn-outline-layers passes such views to
// layer functions as the arena and an offset; nn-tile-and-vectorize writes
// an optimizer update in place when nothing reads its slot after it.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_TRANSFORMS_ARENAVIEWS_H
#define NNC_PASSES_TRANSFORMS_ARENAVIEWS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace nnc {

/// A view of an entry point's arena argument at a static offset:
/// `reinterpret_cast` of the argument (of the identity layout) with static
/// offset, sizes and strides; else null.
inline mlir::memref::ReinterpretCastOp arenaCast(mlir::Value v) {
  auto cast = v.getDefiningOp<mlir::memref::ReinterpretCastOp>();
  if (!cast || !mlir::isa<mlir::BlockArgument>(cast.getSource()) ||
      !cast.getOffsets().empty() || !cast.getSizes().empty() ||
      !cast.getStrides().empty())
    return {};
  auto source = mlir::dyn_cast<mlir::MemRefType>(cast.getSource().getType());
  if (!source || !source.getLayout().isIdentity())
    return {};
  return cast;
}

} // namespace nnc

#endif // NNC_PASSES_TRANSFORMS_ARENAVIEWS_H
