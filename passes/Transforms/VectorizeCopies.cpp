//===- VectorizeCopies.cpp - Copies as rows of vector loads and stores ----===//
//
// Bufferization leaves linalg.copy ops (a convolution's input copied into
// its zero-padded buffer, results into the state arena, a batch into a
// chunk's slice) that convert-linalg-to-loops makes scalar loop nests, which
// LLVM's loop and SLP vectorizers then vectorize again, with a scalar
// remainder loop per row of 28. Here a copy whose innermost dimension is
// contiguous on both sides becomes a loop nest over its rows whose body
// copies a row as whole vectors: no remainder loops, nothing left for LLVM
// to vectorize.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace nnc {
#define GEN_PASS_DEF_NNVECTORIZECOPIESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// The bytes one vector load or store of a row's chunk moves (four AVX-512
/// registers): a row of at most this many bytes is copied by one vector.
constexpr int64_t kChunkBytes = 256;

/// Whether a memref has a static shape and static strides (its offset may
/// be dynamic).
bool staticLayout(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return type.hasStaticShape() &&
         succeeded(getStridesAndOffset(type, strides, offset)) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// How many trailing dimensions of a copy between memrefs of these types
/// form one contiguous row on both sides (0 when the last dimension's
/// stride is not 1 on one of them).
int64_t contiguousTail(MemRefType a, MemRefType b) {
  int64_t tail = 0;
  while (tail < a.getRank() && trailingNDimsContiguous(a, tail + 1) &&
         trailingNDimsContiguous(b, tail + 1))
    ++tail;
  return tail;
}

/// Rewrites `op` (see the file's comment); fails, changing nothing, on a
/// copy it does not apply to.
LogicalResult vectorizeCopy(RewriterBase &rewriter, linalg::CopyOp op) {
  if (!op.hasPureBufferSemantics())
    return failure();
  Value from = op.getInputs()[0], to = op.getOutputs()[0];
  auto fromType = dyn_cast<MemRefType>(from.getType());
  auto toType = dyn_cast<MemRefType>(to.getType());
  if (!fromType || !toType || fromType.getRank() == 0 ||
      fromType.getShape() != toType.getShape() ||
      fromType.getElementType() != toType.getElementType() ||
      !fromType.getElementType().isIntOrFloat() ||
      fromType.getElementTypeBitWidth() % 8 != 0)
    return failure();
  if (!staticLayout(fromType) || !staticLayout(toType))
    return failure();
  ArrayRef<int64_t> shape = fromType.getShape();
  int64_t tail = contiguousTail(fromType, toType);
  if (tail == 0)
    return failure();
  int64_t rank = shape.size();
  int64_t row = 1;
  for (int64_t d = rank - tail; d < rank; ++d)
    row *= shape[d];
  if (row < 2 || ShapedType::getNumElements(shape) == 0)
    return failure();

  // Both sides with the contiguous tail collapsed into one dimension.
  Location loc = op.getLoc();
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank - tail; ++d)
    groups.push_back({d});
  ReassociationIndices last;
  for (int64_t d = rank - tail; d < rank; ++d)
    last.push_back(d);
  groups.push_back(last);
  if (tail > 1) {
    from = rewriter.create<memref::CollapseShapeOp>(loc, from, groups);
    to = rewriter.create<memref::CollapseShapeOp>(loc, to, groups);
  }

  // A loop per outer dimension of more than one element.
  SmallVector<Value> indices;
  Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
  Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
  OpBuilder::InsertionGuard guard(rewriter);
  for (int64_t d = 0; d < rank - tail; ++d) {
    if (shape[d] == 1) {
      indices.push_back(zero);
      continue;
    }
    auto loop = rewriter.create<scf::ForOp>(
        loc, zero, rewriter.create<arith::ConstantIndexOp>(loc, shape[d]), one);
    rewriter.setInsertionPointToStart(loop.getBody());
    indices.push_back(loop.getInductionVar());
  }

  // The row: whole chunks in a loop, then what is left as one vector.
  Type elem = fromType.getElementType();
  int64_t chunk = std::max<int64_t>(
      1, kChunkBytes / (fromType.getElementTypeBitWidth() / 8));
  auto copyAt = [&](Value column, int64_t lanes) {
    SmallVector<Value> at(indices);
    at.push_back(column);
    auto type = VectorType::get({lanes}, elem);
    Value v = rewriter.create<vector::LoadOp>(loc, type, from, at);
    rewriter.create<vector::StoreOp>(loc, v, to, at);
  };
  int64_t whole = row / chunk * chunk;
  Value end =
      whole == 0 ? zero : rewriter.create<arith::ConstantIndexOp>(loc, whole);
  if (whole == chunk) {
    copyAt(zero, chunk);
  } else if (whole > chunk) {
    auto loop = rewriter.create<scf::ForOp>(
        loc, zero, end, rewriter.create<arith::ConstantIndexOp>(loc, chunk));
    OpBuilder::InsertionGuard inner(rewriter);
    rewriter.setInsertionPointToStart(loop.getBody());
    copyAt(loop.getInductionVar(), chunk);
  }
  if (row > whole)
    copyAt(end, row - whole);
  rewriter.eraseOp(op);
  return success();
}

struct NNVectorizeCopiesPass
    : nnc::impl::NNVectorizeCopiesPassBase<NNVectorizeCopiesPass> {
  void runOnOperation() override {
    SmallVector<linalg::CopyOp> copies;
    getOperation().walk([&](linalg::CopyOp op) { copies.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::CopyOp op : copies) {
      rewriter.setInsertionPoint(op);
      (void)vectorizeCopy(rewriter, op);
    }
  }
};

} // namespace
