//===- LowerVectorTiles.cpp - The vector ops of register tiles to FMAs ----===//
//
// nn-tile-and-vectorize leaves each register tile as a few n-D vector ops
// (vector.contract, multi_reduction, transpose); this pass lowers them to
// broadcast + FMA and shuffles, kernel by kernel, after bufferization and
// kernel outlining, so that the passes in between work on one op per tile
// instead of hundreds.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_NNLOWERVECTORTILESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// vector.shape_cast between an n-D vector and a 1-D one, row by row: the
/// n-D vector's innermost rows are extracted and inserted as slices of the
/// 1-D one (or the reverse). MLIR's own lowering handles 2-D <-> 1-D that way
/// but any other rank (a transpose's 2-D slice with unit dimensions around
/// it, as in <1x16x1x11>) one element at a time.
struct ShapeCastByRows : OpRewritePattern<vector::ShapeCastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::ShapeCastOp op,
                                PatternRewriter &rewriter) const override {
    VectorType src = op.getSourceVectorType(), dst = op.getResultVectorType();
    // Only leading unit dimensions differ (<1x1x1x7x16> to <1x7x16>, the
    // tile of a sum by lanes' block): the inner vector, extracted and
    // broadcast (not element by element).
    auto inner = [](VectorType t) {
      ArrayRef<int64_t> shape = t.getShape();
      while (shape.size() > 1 && shape.front() == 1)
        shape = shape.drop_front();
      return shape;
    };
    if (!src.isScalable() && !dst.isScalable() && src.getRank() > 1 &&
        dst.getRank() > 1 && inner(src) == inner(dst)) {
      Value core = rewriter.create<vector::ExtractOp>(
          op.getLoc(), op.getSource(),
          SmallVector<int64_t>(src.getRank() - inner(src).size(), 0));
      rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, dst, core);
      return success();
    }
    bool down = dst.getRank() == 1 && src.getRank() > 1;
    bool up = src.getRank() == 1 && dst.getRank() > 1;
    VectorType nd = down ? src : dst;
    if ((!down && !up) || src.isScalable() || dst.isScalable() ||
        nd.getShape().back() < 2)
      return failure();
    Location loc = op.getLoc();
    int64_t width = nd.getShape().back();
    ArrayRef<int64_t> outer = nd.getShape().drop_back();
    int64_t rows = ShapedType::getNumElements(outer);
    Value result =
        rewriter.create<arith::ConstantOp>(loc, dst, rewriter.getZeroAttr(dst));
    for (int64_t r = 0; r < rows; ++r) {
      SmallVector<int64_t> index(outer.size());
      for (int64_t i = outer.size() - 1, rest = r; i >= 0; --i) {
        index[i] = rest % outer[i];
        rest /= outer[i];
      }
      if (down) {
        Value row =
            rewriter.create<vector::ExtractOp>(loc, op.getSource(), index);
        result = rewriter.create<vector::InsertStridedSliceOp>(
            loc, row, result, ArrayRef<int64_t>{r * width},
            ArrayRef<int64_t>{1});
      } else {
        Value row = rewriter.create<vector::ExtractStridedSliceOp>(
            loc, op.getSource(), ArrayRef<int64_t>{r * width},
            ArrayRef<int64_t>{width}, ArrayRef<int64_t>{1});
        result = rewriter.create<vector::InsertOp>(loc, row, result, index);
      }
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A write of vector<1.. x a x b> made by a vector.shape_cast of a 1-D
/// vector (the interleaved windows of a pooling gradient, see
/// nn-tile-and-vectorize) into a memref whose last two dimensions are one
/// run of memory and whose last one the vector covers whole: one write of
/// the 1-D vector into the memref with those dimensions collapsed, instead
/// of a write per row of b elements.
struct FlatRunWrite : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp op,
                                PatternRewriter &rewriter) const override {
    auto cast = op.getVector().getDefiningOp<vector::ShapeCastOp>();
    auto type = dyn_cast<MemRefType>(op.getSource().getType());
    VectorType vec = op.getVectorType();
    unsigned rank = vec.getRank();
    if (!cast || cast.getSourceVectorType().getRank() != 1 || !type ||
        op.getMask() || rank < 2 || type.getRank() != rank ||
        !op.getPermutationMap().isIdentity() || !type.hasStaticShape() ||
        llvm::any_of(vec.getShape().drop_back(2),
                     [](int64_t d) { return d != 1; }))
      return failure();
    for (unsigned r = 0; r < rank; ++r)
      if (!op.isDimInBounds(r))
        return failure();
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(getStridesAndOffset(type, strides, offset)))
      return failure();
    int64_t inner = type.getDimSize(rank - 1);
    if (vec.getDimSize(rank - 1) != inner || strides[rank - 1] != 1 ||
        strides[rank - 2] != inner)
      return failure();
    SmallVector<ReassociationIndices> groups;
    for (unsigned d = 0; d + 2 < rank; ++d)
      groups.push_back({int64_t(d)});
    groups.push_back({int64_t(rank - 2), int64_t(rank - 1)});
    if (!memref::CollapseShapeOp::isGuaranteedCollapsible(type, groups))
      return failure();
    Location loc = op.getLoc();
    Value collapsed =
        rewriter.create<memref::CollapseShapeOp>(loc, op.getSource(), groups);
    SmallVector<Value> indices(op.getIndices().drop_back(2));
    Value row = rewriter.create<arith::MulIOp>(
        loc, op.getIndices()[rank - 2],
        rewriter.create<arith::ConstantIndexOp>(loc, inner));
    indices.push_back(
        rewriter.create<arith::AddIOp>(loc, row, op.getIndices()[rank - 1]));
    SmallVector<int64_t> flatShape(rank - 2, 1);
    flatShape.push_back(vec.getDimSize(rank - 2) * inner);
    Value flat = rewriter.create<vector::ShapeCastOp>(
        loc, VectorType::get(flatShape, vec.getElementType()),
        cast.getSource());
    SmallVector<bool> inBounds(rank - 1, true);
    rewriter.replaceOpWithNewOp<vector::TransferWriteOp>(
        op, flat, collapsed, indices,
        AffineMap::getMultiDimIdentityMap(rank - 1, op.getContext()),
        ArrayRef<bool>(inBounds));
    return success();
  }
};

/// Whether every lane of vector `v` holds the same value: a splat constant,
/// a broadcast of one element, or elementwise ops of such (a few levels).
static bool isUniform(Value v, unsigned depth = 4) {
  if (!isa<VectorType>(v.getType()))
    return true; // a scalar operand of an elementwise op
  Operation *def = v.getDefiningOp();
  if (!def || depth == 0)
    return false;
  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    return dense && dense.isSplat();
  }
  if (isa<vector::SplatOp>(def))
    return true;
  if (auto b = dyn_cast<vector::BroadcastOp>(def)) {
    auto src = dyn_cast<VectorType>(b.getSourceType());
    return !src || src.getNumElements() == 1;
  }
  if (def->getNumResults() != 1 || !def->hasTrait<OpTrait::Elementwise>() ||
      def->getNumRegions() != 0)
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value o) { return isUniform(o, depth - 1); });
}

/// A transpose of a vector whose lanes are all equal (the mask of a
/// per-sample weight, compared in one layout and selected in another, see
/// nn-tile-and-vectorize's sums by lanes): a broadcast of its first lane,
/// not a shuffle of every lane (Shuffle16x16 or element by element).
struct UniformTranspose : OpRewritePattern<vector::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSourceVectorType().isScalable() || !isUniform(op.getVector()))
      return failure();
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(
        op, op.getResultVectorType(),
        scalarOf(rewriter, op.getLoc(), op.getVector()));
    return success();
  }

  /// The value of every lane of the uniform `v`, computed on scalars (the
  /// vector ops computing `v` then die: lowered, a vector<1x1x112x1> is an
  /// array of 112 one-element vectors, built lane by lane).
  static Value scalarOf(PatternRewriter &rewriter, Location loc, Value v) {
    auto type = dyn_cast<VectorType>(v.getType());
    if (!type)
      return v;
    Operation *def = v.getDefiningOp();
    if (auto c = dyn_cast<arith::ConstantOp>(def))
      return rewriter.create<arith::ConstantOp>(
          loc, cast<TypedAttr>(cast<DenseElementsAttr>(c.getValue())
                                   .getSplatValue<Attribute>()));
    if (auto splat = dyn_cast<vector::SplatOp>(def))
      return splat.getInput();
    if (auto b = dyn_cast<vector::BroadcastOp>(def)) {
      auto src = dyn_cast<VectorType>(b.getSourceType());
      if (!src)
        return b.getSource();
      return rewriter.create<vector::ExtractOp>(
          loc, b.getSource(), SmallVector<int64_t>(src.getRank(), 0));
    }
    SmallVector<Value> operands;
    for (Value o : def->getOperands())
      operands.push_back(scalarOf(rewriter, loc, o));
    OperationState state(loc, def->getName().getStringRef(), operands,
                         TypeRange{type.getElementType()}, def->getAttrs());
    return rewriter.create(state)->getResult(0);
  }
};

/// A transpose of an r x c tile of 32-bit elements (unit dimensions around
/// it) with 7 <= r <= 16 and 8 <= c <= 16, not 16 x 16: the transposed rows
/// of 14x14 and 7x7 images (a convolution's output put back in NCHW, an
/// input put channels-last). MLIR lowers it through one flat vector of r * c
/// lanes (Shuffle1D), which LLVM breaks into per-element inserts and extracts
/// (a 14 x 16 tile: ~260 instructions, and the largest kernels' code
/// generation time; a 7 x 16 tile: one shuffle of 112 lanes, which x86's
/// instruction selection turns into 3 KB more code than the padded network
/// in SPEC 2.3's CNN's program, and more slowly). Instead the rows are widened
/// to 16 lanes and the tile padded to 16 x 16 with copies of its first row,
/// transposed with Shuffle16x16 (64 two-source shuffles), and the first c rows'
/// first r lanes taken: the padding lands only in lanes and rows that are
/// dropped. The tile's rows must be its innermost dimension, and the result's
/// too.
struct PaddedTranspose : OpRewritePattern<vector::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  static constexpr int64_t kTile = 16;
  LogicalResult matchAndRewrite(vector::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    VectorType src = op.getSourceVectorType(), dst = op.getResultVectorType();
    int64_t rank = src.getRank();
    if (src.isScalable() || rank < 2 || !src.getElementType().isIntOrFloat() ||
        src.getElementType().getIntOrFloatBitWidth() != 32)
      return failure();
    // The two non-unit dimensions: i (rows) before j (columns) in the
    // source; j and, in the result, i's new place must be innermost.
    SmallVector<int64_t> big;
    for (int64_t d = 0; d < rank; ++d)
      if (src.getDimSize(d) != 1)
        big.push_back(d);
    ArrayRef<int64_t> perm = op.getPermutation();
    if (big.size() != 2 || big[1] != rank - 1 || perm[rank - 1] != big[0])
      return failure();
    int64_t r = src.getDimSize(big[0]), c = src.getDimSize(big[1]);
    if (r < 7 || c < 8 || r > kTile || c > kTile || (r == kTile && c == kTile))
      return failure();
    // Where the source's column dimension lands in the result.
    int64_t cAt = llvm::find(perm, big[1]) - perm.begin();
    Location loc = op.getLoc();
    Type elem = src.getElementType();
    SmallVector<int64_t> widen(kTile, 0);
    for (int64_t k = 0; k < c; ++k)
      widen[k] = k;
    Value tile = rewriter.create<arith::ConstantOp>(
        loc, VectorType::get({kTile, kTile}, elem),
        rewriter.getZeroAttr(VectorType::get({kTile, kTile}, elem)));
    Value first;
    for (int64_t a = 0; a < kTile; ++a) {
      Value row = first;
      if (a < r) {
        SmallVector<int64_t> at(rank - 1, 0);
        at[big[0]] = a;
        row = rewriter.create<vector::ExtractOp>(loc, op.getVector(), at);
        if (c < kTile)
          row = rewriter.create<vector::ShuffleOp>(loc, row, row, widen);
        if (a == 0)
          first = row;
      }
      tile = rewriter.create<vector::InsertOp>(loc, row, tile,
                                               ArrayRef<int64_t>{a});
    }
    Value transposed = rewriter.create<vector::TransposeOp>(
        loc, tile, ArrayRef<int64_t>{1, 0});
    Value result =
        rewriter.create<arith::ConstantOp>(loc, dst, rewriter.getZeroAttr(dst));
    for (int64_t b = 0; b < c; ++b) {
      Value row = rewriter.create<vector::ExtractOp>(loc, transposed,
                                                     ArrayRef<int64_t>{b});
      if (r < kTile)
        row = rewriter.create<vector::ExtractStridedSliceOp>(
            loc, row, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{r},
            ArrayRef<int64_t>{1});
      SmallVector<int64_t> at(rank - 1, 0);
      at[cAt] = b;
      result = rewriter.create<vector::InsertOp>(loc, row, result, at);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct NNLowerVectorTilesPass
    : nnc::impl::NNLowerVectorTilesPassBase<NNLowerVectorTilesPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // Before the shape_casts are lowered.
    {
      RewritePatternSet flat(ctx);
      flat.add<FlatRunWrite>(ctx);
      if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(flat))))
        return signalPassFailure();
    }
    RewritePatternSet patterns(ctx);
    patterns.add<UniformTranspose>(ctx, /*benefit=*/3);
    patterns.add<PaddedTranspose>(ctx, /*benefit=*/2);
    vector::VectorTransformsOptions vopts;
    vopts.setVectorTransformsOptions(
        vector::VectorContractLowering::OuterProduct);
    vopts.setVectorMultiReductionLowering(
        vector::VectorMultiReductionLowering::InnerReduction);
    vopts.setVectorTransposeLowering(
        vector::VectorTransposeLowering::Shuffle16x16);
    vector::populateVectorContractLoweringPatterns(patterns, vopts);
    vector::populateVectorOuterProductLoweringPatterns(patterns);
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vopts.vectorMultiReductionLowering);
    vector::populateVectorTransposeLoweringPatterns(patterns, vopts);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    // The shape_casts of transposes that are not 16x16 (Shuffle1D).
    patterns.add<ShapeCastByRows>(ctx);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
