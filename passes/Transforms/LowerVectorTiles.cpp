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
