//===- ContiguousStridedTransfers.cpp - Strided rows as spans + shuffles --===//
//
// Pooling reads every kernel offset's view of its input: rows with stride 2.
// A vector transfer along such a dimension lowers to one scalar load (or
// store) per lane; here it becomes one contiguous access of the span the
// lanes cover and a vector.shuffle, which LLVM turns into a few permutes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace nnc {
#define GEN_PASS_DEF_NNCONTIGUOUSSTRIDEDTRANSFERSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// The largest stride turned into a span (of (lanes - 1) stride + 1
/// elements).
constexpr int64_t kMaxStride = 8;

/// What a rewritable transfer accesses: `lanes` elements `stride` apart
/// along dimension `dim` of `memref`; the dimensions after it (of unit
/// vector size) are folded into that one in the contiguous view.
struct StridedRow {
  MemRefType type;
  int64_t stride = 0, lanes = 0, offset = 0;
  unsigned dim = 0;
  SmallVector<int64_t> strides;
};

/// Whether `op` is an in-bounds, unmasked, minor-identity transfer of a
/// fixed-size vector from a memref of static shape and strides (the offset
/// may be dynamic), whose strides and offset it returns.
static std::optional<std::pair<SmallVector<int64_t>, int64_t>>
staticTransfer(VectorTransferOpInterface op) {
  auto type = dyn_cast<MemRefType>(op.getSource().getType());
  VectorType vec = op.getVectorType();
  if (!type || op.getMask() || vec.getRank() == 0 || vec.isScalable() ||
      !op.getPermutationMap().isMinorIdentity() || !type.hasStaticShape())
    return std::nullopt;
  for (unsigned i = 0; i < vec.getRank(); ++i)
    if (!op.isDimInBounds(i))
      return std::nullopt;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  return std::make_pair(strides, offset);
}

/// Spans of small strides only (pooling's 2 and 3): a transposing copy's
/// rows (stride H W) would read thousands of elements for a few lanes, and
/// LLVM's instruction selection takes seconds over such shuffles.
static bool spannable(int64_t stride) {
  return stride > 1 && stride <= kMaxStride;
}

/// A transfer of a vector with one non-unit dimension (leading and trailing
/// unit dimensions allowed) along a memref dimension of a stride that
/// `accept`s (by default a spannable one; see staticTransfer).
static std::optional<StridedRow>
stridedRow(VectorTransferOpInterface op,
           function_ref<bool(int64_t)> accept = spannable) {
  VectorType vec = op.getVectorType();
  auto layout = staticTransfer(op);
  if (!layout ||
      llvm::count_if(vec.getShape(), [](int64_t d) { return d != 1; }) != 1)
    return std::nullopt;
  StridedRow row;
  row.type = cast<MemRefType>(op.getSource().getType());
  std::tie(row.strides, row.offset) = *layout;
  unsigned lanesDim =
      llvm::find_if(vec.getShape(), [](int64_t d) { return d != 1; }) -
      vec.getShape().begin();
  row.dim = row.type.getRank() - vec.getRank() + lanesDim;
  row.stride = row.strides[row.dim];
  row.lanes = vec.getShape()[lanesDim];
  if (!accept(row.stride))
    return std::nullopt;
  return row;
}

/// The memory of `source` seen with a stride of 1 along the row's dimension
/// (which spans the strided elements, those between them, and the
/// dimensions after it), and the indices of the transfer's first lane in it.
static std::pair<Value, SmallVector<Value>>
contiguousView(PatternRewriter &rewriter, Location loc, Value source,
               ValueRange indices, const StridedRow &row) {
  ArrayRef<int64_t> shape = row.type.getShape();
  SmallVector<int64_t> sizes(shape.take_front(row.dim + 1));
  SmallVector<int64_t> strides(ArrayRef<int64_t>(row.strides)
                                   .take_front(row.dim + 1));
  int64_t extent = 1;
  for (unsigned d = row.dim; d < shape.size(); ++d)
    extent += (shape[d] - 1) * row.strides[d];
  sizes.back() = extent;
  strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(rewriter.getContext(), row.offset, strides);
  auto viewType = MemRefType::get(sizes, row.type.getElementType(), layout,
                                  row.type.getMemorySpace());
  // A dynamic offset (a parallel chunk's part of a buffer) is read from the
  // source's descriptor.
  OpFoldResult offset = rewriter.getIndexAttr(row.offset);
  if (ShapedType::isDynamic(row.offset))
    offset = rewriter.create<memref::ExtractStridedMetadataOp>(loc, source)
                 .getOffset();
  SmallVector<OpFoldResult> sizeFolds =
      getAsIndexOpFoldResult(rewriter.getContext(), sizes);
  SmallVector<OpFoldResult> strideFolds =
      getAsIndexOpFoldResult(rewriter.getContext(), strides);
  Value view = rewriter.create<memref::ReinterpretCastOp>(
      loc, viewType, source, offset, sizeFolds, strideFolds);
  SmallVector<Value> at(indices.take_front(row.dim + 1));
  at.back() = nullptr;
  for (unsigned d = row.dim; d < shape.size(); ++d) {
    Value term = rewriter.create<arith::MulIOp>(
        loc, indices[d],
        rewriter.create<arith::ConstantIndexOp>(loc, row.strides[d]));
    at.back() = at.back() ? rewriter.create<arith::AddIOp>(loc, at.back(), term)
                          : term;
  }
  return {view, at};
}

/// The span a rewritable transfer covers, read contiguously.
struct Span {
  StridedRow row;
  Value view;             ///< the stride-1 view
  SmallVector<Value> at;  ///< the first lane's indices in it
  AffineMap map;          ///< the 1-D access along the view's last dimension
  int64_t size = 0;       ///< (lanes - 1) stride + 1 elements
  Value values;           ///< vector<size>, or vector<padded> (see below)
  Value mask;             ///< the first `size` lanes of vector<padded>, or null
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
  AffineMap map = AffineMap::getMinorIdentityMap(row->dim + 1, 1,
                                                 rewriter.getContext());
  // A span that is not whole vectors (14 lanes of stride 2: 27 elements)
  // is read as the next whole vectors (32) under a constant mask: LLVM
  // splits a load of vector<27> into pieces of 16, 8, 2 and 1 and inserts
  // (a kernel of them took 3x the code generation time), a masked one of
  // vector<32> into a load and a masked load that cannot fault.
  int64_t padded =
      size <= 16 ? int64_t(llvm::PowerOf2Ceil(size)) : llvm::alignTo(size, 16);
  Type elem = row->type.getElementType();
  if (padded == size) {
    Value values = rewriter.create<vector::TransferReadOp>(
        loc, VectorType::get({size}, elem), view, at, map,
        ArrayRef<bool>{true});
    return Span{*row, view, at, map, size, values, Value()};
  }
  Value mask = rewriter.create<vector::ConstantMaskOp>(
      loc, VectorType::get({padded}, rewriter.getI1Type()),
      rewriter.getI64ArrayAttr({size}));
  auto type = VectorType::get({padded}, elem);
  Value zeros =
      rewriter.create<arith::ConstantOp>(loc, type, rewriter.getZeroAttr(type));
  Value values =
      rewriter.create<vector::MaskedLoadOp>(loc, type, view, at, mask, zeros);
  return Span{*row, view, at, map, size, values, mask};
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
    // one extract + insert per lane (needed for trailing ones only). A
    // shape_cast that moves the trailing ones to the front (the read of a
    // dimension that is not the loop nest's last, see
    // nn-tile-and-vectorize) becomes that broadcast.
    VectorType type = op.getVectorType();
    if (type.getShape().back() != span->row.lanes && op->hasOneUse())
      if (auto cast = dyn_cast<vector::ShapeCastOp>(*op->user_begin());
          cast &&
          cast.getResultVectorType().getShape().back() == span->row.lanes) {
        rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
            cast, cast.getResultVectorType(), lanes);
        rewriter.eraseOp(op);
        return success();
      }
    if (type.getRank() > 1)
      lanes = type.getShape().back() == span->row.lanes
                  ? rewriter.create<vector::BroadcastOp>(op.getLoc(), type,
                                                         lanes)
                  : rewriter.create<vector::ShapeCastOp>(op.getLoc(), type,
                                                         lanes)
                        .getResult();
    rewriter.replaceOp(op, lanes);
    return success();
  }
};

/// The 1-D vector of the `lanes` elements of `v`, whose other dimensions
/// are units: extracted from inside leading unit dimensions. Trailing ones
/// come from a vector.shape_cast (a write along a dimension that is not the
/// loop nest's last, see nn-tile-and-vectorize): its source is read
/// instead, else a shape_cast to 1-D is needed (lowered lane by lane).
static Value oneDimensional(PatternRewriter &rewriter, Location loc, Value v,
                            int64_t lanes) {
  auto type = cast<VectorType>(v.getType());
  if (type.getShape().back() != lanes) {
    auto cast = v.getDefiningOp<vector::ShapeCastOp>();
    if (!cast || cast.getSourceVectorType().getShape().back() != lanes)
      return rewriter.create<vector::ShapeCastOp>(
          loc, VectorType::get({lanes}, type.getElementType()), v);
    v = cast.getSource();
    type = cast.getSourceVectorType();
  }
  if (type.getRank() == 1)
    return v;
  return rewriter.create<vector::ExtractOp>(
      loc, v, SmallVector<int64_t>(type.getRank() - 1, 0));
}

struct ContiguousStridedWrite : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<Span> span = readSpan(op, rewriter);
    if (!span)
      return failure();
    Location loc = op.getLoc();
    const StridedRow &row = span->row;
    Value lanes = oneDimensional(rewriter, loc, op.getVector(), row.lanes);
    // Lane l of the span: the new value where it is a transfer lane, else
    // what the memory holds (or held: the padding, stored under the mask).
    int64_t padded = cast<VectorType>(span->values.getType()).getDimSize(0);
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < padded; ++l)
      mask.push_back(
          l < span->size && l % row.stride == 0 ? padded + l / row.stride : l);
    Value merged =
        rewriter.create<vector::ShuffleOp>(loc, span->values, lanes, mask);
    if (span->mask)
      rewriter.create<vector::MaskedStoreOp>(loc, span->view, span->at,
                                             span->mask, merged);
    else
      rewriter.create<vector::TransferWriteOp>(
          loc, merged, span->view, span->at, span->map, ArrayRef<bool>{true});
    rewriter.eraseOp(op);
    return success();
  }
};

/// The rows of a transfer of a vector with more than one non-unit
/// dimension whose innermost one runs along a memref dimension of a small
/// stride (batchnorm, relu and a 2x2 max pool fused into the transpose that
/// puts the pooled image channels-last: vector<1x16x1x14> read with stride
/// 2): one 1-D transfer per row at the row's indices, which the patterns
/// above then make a contiguous span and a shuffle. ConvertVectorToSCF
/// would read or write the whole tile one element at a time.
static std::optional<SmallVector<SmallVector<int64_t>>>
stridedRows(VectorTransferOpInterface op) {
  VectorType vec = op.getVectorType();
  auto layout = staticTransfer(op);
  if (!layout || vec.getRank() < 2 || vec.getShape().back() < 2 ||
      llvm::count_if(vec.getShape(), [](int64_t d) { return d != 1; }) < 2 ||
      !spannable(layout->first.back()))
    return std::nullopt;
  ArrayRef<int64_t> outer = vec.getShape().drop_back();
  int64_t rows = ShapedType::getNumElements(outer);
  if (rows > 64)
    return std::nullopt;
  SmallVector<int64_t> suffix = computeSuffixProduct(outer);
  SmallVector<SmallVector<int64_t>> positions;
  for (int64_t r = 0; r < rows; ++r)
    positions.push_back(delinearize(r, suffix));
  return positions;
}

/// The memref indices of the row at `at` (positions in the vector's outer
/// dimensions) of `op`.
static SmallVector<Value> rowIndices(PatternRewriter &rewriter,
                                     VectorTransferOpInterface op,
                                     ArrayRef<int64_t> at) {
  SmallVector<Value> indices(op.getIndices());
  unsigned first = indices.size() - op.getVectorType().getRank();
  for (auto [k, p] : llvm::enumerate(at))
    if (p != 0)
      indices[first + k] = rewriter.create<arith::AddIOp>(
          op.getLoc(), indices[first + k],
          rewriter.create<arith::ConstantIndexOp>(op.getLoc(), p));
  return indices;
}

/// The minor identity map of a 1-D transfer along the last dimension of
/// `op`'s memref.
static AffineMap rowMap(VectorTransferOpInterface op) {
  return AffineMap::getMinorIdentityMap(
      cast<MemRefType>(op.getSource().getType()).getRank(), 1, op.getContext());
}

struct StridedReadRows : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp op,
                                PatternRewriter &rewriter) const override {
    auto positions = stridedRows(op);
    if (!positions)
      return failure();
    Location loc = op.getLoc();
    VectorType type = op.getVectorType();
    auto rowType =
        VectorType::get({type.getShape().back()}, type.getElementType());
    Value result = rewriter.create<arith::ConstantOp>(
        loc, type, rewriter.getZeroAttr(type));
    for (ArrayRef<int64_t> at : *positions) {
      Value row = rewriter.create<vector::TransferReadOp>(
          loc, rowType, op.getSource(), rowIndices(rewriter, op, at),
          rowMap(op), ArrayRef<bool>{true});
      result = rewriter.create<vector::InsertOp>(loc, row, result, at);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct StridedWriteRows : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp op,
                                PatternRewriter &rewriter) const override {
    auto positions = stridedRows(op);
    if (!positions || !op->getResults().empty())
      return failure();
    Location loc = op.getLoc();
    for (ArrayRef<int64_t> at : *positions) {
      Value row = rewriter.create<vector::ExtractOp>(loc, op.getVector(), at);
      rewriter.create<vector::TransferWriteOp>(
          loc, row, op.getSource(), rowIndices(rewriter, op, at), rowMap(op),
          ArrayRef<bool>{true});
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// A read along a memref dimension of a large stride (a transposing copy:
/// a [F, C, 3, 3] weight put in [3, 3, C, F] order reads F at a stride of
/// 288, as vector<64x1x1x1>): one vector.gather of the lanes at offsets
/// 0, s, 2s, ... from the first lane's element, instead of a load and an
/// insert per lane, which LLVM's SLP vectorizer then searched for the same
/// gather (a sixth of the -O pipeline's time on SPEC 2.3's CNN's program).
/// The lanes are a dimension before the vector's last (the memref's last has
/// stride 1, which vector.gather's lowering requires); every user must be a
/// shape_cast to a vector whose other dimensions are unit (the transpose's
/// write of vector<1x1x1x64>), which becomes a broadcast of the gather.
struct GatheredRead : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<StridedRow> row =
        stridedRow(op, [](int64_t stride) { return stride > kMaxStride; });
    if (!row || row->strides.back() != 1 || op->use_empty() ||
        (row->lanes - 1) * row->stride > std::numeric_limits<int32_t>::max())
      return failure();
    SmallVector<vector::ShapeCastOp> casts;
    for (Operation *user : op->getUsers()) {
      auto cast = dyn_cast<vector::ShapeCastOp>(user);
      if (!cast ||
          llvm::any_of(cast.getResultVectorType().getShape().drop_back(),
                       [](int64_t d) { return d != 1; }))
        return failure();
      casts.push_back(cast);
    }
    Location loc = op.getLoc();
    auto type = VectorType::get({row->lanes}, row->type.getElementType());
    SmallVector<int32_t> offsets;
    for (int64_t k = 0; k < row->lanes; ++k)
      offsets.push_back(int32_t(k * row->stride));
    auto offsetType = VectorType::get({row->lanes}, rewriter.getI32Type());
    Value index = rewriter.create<arith::ConstantOp>(
        loc, offsetType, DenseIntElementsAttr::get(offsetType, offsets));
    Value mask = rewriter.create<vector::ConstantMaskOp>(
        loc, VectorType::get({row->lanes}, rewriter.getI1Type()),
        rewriter.getI64ArrayAttr({row->lanes}));
    Value zeros = rewriter.create<arith::ConstantOp>(
        loc, type, rewriter.getZeroAttr(type));
    Value lanes = rewriter.create<vector::GatherOp>(
        loc, type, op.getSource(), op.getIndices(), index, mask, zeros);
    for (vector::ShapeCastOp cast : casts)
      rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
          cast, cast.getResultVectorType(), lanes);
    rewriter.eraseOp(op);
    return success();
  }
};

struct NNContiguousStridedTransfersPass
    : nnc::impl::NNContiguousStridedTransfersPassBase<
          NNContiguousStridedTransfersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ContiguousStridedRead, ContiguousStridedWrite, StridedReadRows,
                 StridedWriteRows, GatheredRead>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
