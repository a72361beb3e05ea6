//===- ContiguousStridedTransfers.cpp - Strided rows as spans + shuffles --===//
//
// Pooling reads every kernel offset's view of its input: rows with stride 2.
// A vector transfer along such a dimension lowers to one scalar load (or
// store) per lane; here it becomes one contiguous access of the span the
// lanes cover and a vector.shuffle, which LLVM turns into a few permutes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_NNCONTIGUOUSSTRIDEDTRANSFERSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// What a rewritable transfer accesses: `lanes` elements `stride` apart
/// along the last dimension of `memref`.
struct StridedRow {
  MemRefType type;
  int64_t stride = 0, lanes = 0, offset = 0;
  SmallVector<int64_t> strides;
};

/// A 1-D (after leading unit dimensions) in-bounds, unmasked transfer along
/// the innermost dimension of a statically laid-out memref whose innermost
/// stride is greater than 1.
static std::optional<StridedRow> stridedRow(VectorTransferOpInterface op) {
  auto type = dyn_cast<MemRefType>(op.getSource().getType());
  VectorType vec = op.getVectorType();
  if (!type || op.getMask() || vec.getRank() == 0 || vec.isScalable() ||
      !op.getPermutationMap().isMinorIdentity() ||
      llvm::any_of(vec.getShape().drop_back(),
                   [](int64_t d) { return d != 1; }))
    return std::nullopt;
  for (unsigned i = 0; i < vec.getRank(); ++i)
    if (!op.isDimInBounds(i))
      return std::nullopt;
  StridedRow row;
  row.type = type;
  if (failed(getStridesAndOffset(type, row.strides, row.offset)) ||
      ShapedType::isDynamic(row.offset) ||
      llvm::any_of(row.strides, ShapedType::isDynamic) ||
      !type.hasStaticShape())
    return std::nullopt;
  row.stride = row.strides.back();
  row.lanes = vec.getShape().back();
  if (row.stride <= 1 || row.lanes <= 1)
    return std::nullopt;
  return row;
}

/// The memory of `source` seen with an innermost stride of 1 (the last
/// dimension spans the strided one's elements and those between them), and
/// the indices of the transfer's first lane in it.
static std::pair<Value, SmallVector<Value>>
contiguousView(PatternRewriter &rewriter, Location loc, Value source,
               ValueRange indices, const StridedRow &row) {
  SmallVector<int64_t> sizes(row.type.getShape());
  sizes.back() = (sizes.back() - 1) * row.stride + 1;
  SmallVector<int64_t> strides(row.strides);
  strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(rewriter.getContext(), row.offset, strides);
  auto viewType = MemRefType::get(sizes, row.type.getElementType(), layout,
                                  row.type.getMemorySpace());
  Value view = rewriter.create<memref::ReinterpretCastOp>(
      loc, viewType, source, row.offset, sizes, strides);
  SmallVector<Value> at(indices);
  at.back() = rewriter.create<arith::MulIOp>(
      loc, at.back(), rewriter.create<arith::ConstantIndexOp>(loc, row.stride));
  return {view, at};
}

/// The span a rewritable transfer covers, read contiguously.
struct Span {
  StridedRow row;
  Value view;             ///< the stride-1 view
  SmallVector<Value> at;  ///< the first lane's indices in it
  AffineMap map;          ///< the 1-D access along the view's last dimension
  Value values;           ///< vector<(lanes - 1) stride + 1>
};

static std::optional<Span> readSpan(VectorTransferOpInterface op,
                                    PatternRewriter &rewriter) {
  std::optional<StridedRow> row = stridedRow(op);
  if (!row)
    return std::nullopt;
  Location loc = op.getLoc();
  auto [view, at] =
      contiguousView(rewriter, loc, op.getSource(), op.getIndices(), *row);
  int64_t size = (row->lanes - 1) * row->stride + 1;
  auto type = VectorType::get({size}, row->type.getElementType());
  AffineMap map = AffineMap::getMinorIdentityMap(row->type.getRank(), 1,
                                                 rewriter.getContext());
  Value values = rewriter.create<vector::TransferReadOp>(
      loc, type, view, at, map, ArrayRef<bool>{true});
  return Span{*row, view, at, map, values};
}

struct ContiguousStridedRead : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<Span> span = readSpan(op, rewriter);
    if (!span)
      return failure();
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < span->row.lanes; ++l)
      mask.push_back(l * span->row.stride);
    Value lanes = rewriter.create<vector::ShuffleOp>(op.getLoc(), span->values,
                                                     span->values, mask);
    // Leading unit dimensions by a broadcast: a shape_cast would lower to
    // one extract + insert per lane.
    if (op.getVectorType().getRank() > 1)
      lanes = rewriter.create<vector::BroadcastOp>(op.getLoc(),
                                                   op.getVectorType(), lanes);
    rewriter.replaceOp(op, lanes);
    return success();
  }
};

struct ContiguousStridedWrite : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<Span> span = readSpan(op, rewriter);
    if (!span)
      return failure();
    Location loc = op.getLoc();
    const StridedRow &row = span->row;
    // The 1-D vector inside the leading unit dimensions.
    Value lanes = op.getVector();
    if (op.getVectorType().getRank() > 1)
      lanes = rewriter.create<vector::ExtractOp>(
          loc, lanes,
          SmallVector<int64_t>(op.getVectorType().getRank() - 1, 0));
    // Lane l of the span: the new value where it is a transfer lane, else
    // what the memory holds.
    int64_t size = cast<VectorType>(span->values.getType()).getDimSize(0);
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < size; ++l)
      mask.push_back(l % row.stride == 0 ? size + l / row.stride : l);
    Value merged =
        rewriter.create<vector::ShuffleOp>(loc, span->values, lanes, mask);
    rewriter.create<vector::TransferWriteOp>(loc, merged, span->view, span->at,
                                             span->map, ArrayRef<bool>{true});
    rewriter.eraseOp(op);
    return success();
  }
};

struct NNContiguousStridedTransfersPass
    : nnc::impl::NNContiguousStridedTransfersPassBase<
          NNContiguousStridedTransfersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ContiguousStridedRead, ContiguousStridedWrite>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
