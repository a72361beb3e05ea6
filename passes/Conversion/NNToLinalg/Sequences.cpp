//===- Sequences.cpp - nn -> linalg patterns for tokens and sequences ----===//
//
// token_mask and the masked pools over time are linalg.generic ops over
// [N, T, F]; embedding is a gather (tensor.extract of the table in the body
// of a generic); its gradient is a scatter-add: a loop over the N T ids,
// each adding its gradient row into the zeroed table gradient in place.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

/// An id as a row index of a table of `count` rows, clamped into range so
/// that no input can read or write outside the table.
Value rowIndex(OpBuilder &b, Location loc, Value id, int64_t count) {
  Value lo = b.create<arith::ConstantIntOp>(loc, 0, 32);
  Value hi = b.create<arith::ConstantIntOp>(loc, count - 1, 32);
  Value clamped =
      b.create<arith::MinSIOp>(loc, b.create<arith::MaxSIOp>(loc, id, lo), hi);
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), clamped);
}

/// Maps of the loops (n, t, f) of a pool: the sequence, the [N, T] mask and
/// the pooled [N, F] value.
struct TimeMaps {
  AffineMap seq, mask, pooled, row;
  explicit TimeMaps(MLIRContext *ctx) {
    AffineExpr n = getAffineDimExpr(0, ctx), t = getAffineDimExpr(1, ctx),
               f = getAffineDimExpr(2, ctx);
    seq = AffineMap::get(3, 0, {n, t, f}, ctx);
    mask = AffineMap::get(3, 0, {n, t}, ctx);
    pooled = AffineMap::get(3, 0, {n, f}, ctx);
    row = AffineMap::get(3, 0, {n}, ctx);
  }
};

/// The number of real steps of each sequence, at least 1: [N].
Value stepCounts(OpBuilder &b, Location loc, Value mask) {
  RankedTensorType m = tensorType(mask);
  auto counts = RankedTensorType::get({m.getDimSize(0)}, b.getF32Type());
  Value sum =
      b.create<linalg::ReduceOp>(
           loc, ValueRange{mask}, ValueRange{filled(b, loc, counts, 0.0)},
           ArrayRef<int64_t>{1},
           [](OpBuilder &nb, Location nl, ValueRange a) {
             Value s = nb.create<arith::AddFOp>(nl, a[0], a[1]);
             nb.create<linalg::YieldOp>(nl, s);
           })
          .getResult(0);
  return elementwise(b, loc, counts, sum,
                     [](OpBuilder &nb, Location nl, ValueRange a) {
                       Value one = f32(nb, nl, 1.0);
                       return nb.create<arith::MaximumFOp>(nl, a[0], one);
                     });
}

/// token_mask: m = id != 0 ? 1 : 0.
struct TokenMaskLowering : OpConversionPattern<nn::TokenMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::TokenMaskOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                        adaptor.getIds(),
                        [](OpBuilder &b, Location l, ValueRange a) {
                          Value zero = b.create<arith::ConstantIntOp>(l, 0, 32);
                          Value real = b.create<arith::CmpIOp>(
                              l, arith::CmpIPredicate::ne, a[0], zero);
                          return b.create<arith::SelectOp>(
                              l, real, f32(b, l, 1.0), f32(b, l, 0.0));
                        }));
    return success();
  }
};

/// embedding: y[n, t, d] = W[ids[n, t], d].
struct EmbeddingLowering : OpConversionPattern<nn::EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType y = tensorType(op.getResult());
    Value table = adaptor.getWeight();
    int64_t count = tensorType(table).getDimSize(0);
    AffineMap ids = TimeMaps(rewriter.getContext()).mask;
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, y, adaptor.getIds(),
                        [&](OpBuilder &b, Location l, ValueRange a) {
                          Value row = rowIndex(b, l, a[0], count);
                          Value col = b.create<linalg::IndexOp>(l, 2);
                          return b.create<tensor::ExtractOp>(
                              l, table, ValueRange{row, col});
                        },
                        {ids}));
    return success();
  }
};

/// embedding_grad: dW = 0; for each (n, t): dW[ids[n, t], :] += dy[n, t, :].
struct EmbeddingGradLowering : OpConversionPattern<nn::EmbeddingGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::EmbeddingGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType dw = tensorType(op.getResult());
    RankedTensorType dy = tensorType(op.getGrad());
    int64_t count = dw.getDimSize(0), dim = dw.getDimSize(1);
    int64_t steps = dy.getDimSize(1);
    Value ids = adaptor.getIds(), grad = adaptor.getGrad();
    auto rowType = RankedTensorType::get({dim}, rewriter.getF32Type());
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value total =
        rewriter.create<arith::ConstantIndexOp>(loc, dy.getDimSize(0) * steps);
    Value stepsV = rewriter.create<arith::ConstantIndexOp>(loc, steps);
    auto loop = rewriter.create<scf::ForOp>(
        loc, c0, total, c1, ValueRange{filled(rewriter, loc, dw, 0.0)},
        [&](OpBuilder &b, Location l, Value i, ValueRange acc) {
          Value n = b.create<arith::DivUIOp>(l, i, stepsV);
          Value t = b.create<arith::RemUIOp>(l, i, stepsV);
          Value id = b.create<tensor::ExtractOp>(l, ids, ValueRange{n, t});
          Value row = rowIndex(b, l, id, count);
          SmallVector<OpFoldResult> one = {b.getIndexAttr(1)};
          Value dst = b.create<tensor::ExtractSliceOp>(
              l, rowType, acc[0],
              ArrayRef<OpFoldResult>{row, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(dim)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
          Value src = b.create<tensor::ExtractSliceOp>(
              l, rowType, grad, ArrayRef<OpFoldResult>{n, t, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                     b.getIndexAttr(dim)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                                     b.getIndexAttr(1)});
          AffineMap id1 = b.getMultiDimIdentityMap(1);
          Value sum =
              b.create<linalg::GenericOp>(
                   l, TypeRange{rowType}, ValueRange{src}, ValueRange{dst},
                   ArrayRef<AffineMap>{id1, id1}, parallel(1),
                   [](OpBuilder &nb, Location nl, ValueRange a) {
                     Value s = nb.create<arith::AddFOp>(nl, a[1], a[0]);
                     nb.create<linalg::YieldOp>(nl, s);
                   })
                  .getResult(0);
          Value updated = b.create<tensor::InsertSliceOp>(
              l, sum, acc[0], ArrayRef<OpFoldResult>{row, b.getIndexAttr(0)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(dim)},
              ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
          b.create<scf::YieldOp>(l, updated);
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

/// masked_avgpool: y[n, f] = sum_t m x / c[n], c = max(sum_t m, 1).
struct MaskedAvgPoolLowering : OpConversionPattern<nn::MaskedAvgPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaskedAvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType y = tensorType(op.getResult());
    TimeMaps maps(rewriter.getContext());
    Value mask = adaptor.getMask();
    SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                              utils::IteratorType::reduction,
                                              utils::IteratorType::parallel};
    Value sum =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{y}, ValueRange{adaptor.getInput(), mask},
                ValueRange{filled(rewriter, loc, y, 0.0)},
                ArrayRef<AffineMap>{maps.seq, maps.mask, maps.pooled}, iters,
                [](OpBuilder &b, Location l, ValueRange a) {
                  Value s = b.create<arith::AddFOp>(l, a[2],
                                                    masked(b, l, a[1], a[0]));
                  b.create<linalg::YieldOp>(l, s);
                })
            .getResult(0);
    Value counts = stepCounts(rewriter, loc, mask);
    AffineMap row = rowMap(rewriter.getContext(), 2);
    rewriter.replaceOp(
        op, elementwise(rewriter, loc, y, ValueRange{sum, counts},
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return b.create<arith::DivFOp>(l, a[0], a[1]);
                        },
                        {rewriter.getMultiDimIdentityMap(2), row}));
    return success();
  }
};

/// masked_avgpool_grad: dx[n, t, f] = dy[n, f] m[n, t] / c[n].
struct MaskedAvgPoolGradLowering
    : OpConversionPattern<nn::MaskedAvgPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaskedAvgPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    TimeMaps maps(rewriter.getContext());
    Value mask = adaptor.getMask();
    Value counts = stepCounts(rewriter, loc, mask);
    rewriter.replaceOp(op,
                       elementwise(rewriter, loc, tensorType(op.getResult()),
                                   ValueRange{adaptor.getGrad(), mask, counts},
                                   [](OpBuilder &b, Location l, ValueRange a) {
                                     Value g = masked(b, l, a[1], a[0]);
                                     return b.create<arith::DivFOp>(l, g, a[2]);
                                   },
                                   {maps.pooled, maps.mask, maps.row}));
    return success();
  }
};

/// masked_maxpool: one reduction over t keeping the running maximum of the
/// real steps and its first step; steps replace it only when strictly
/// greater, so the first of equal values wins (torch.max). A sequence with
/// no real step gives 0 and index -1.
struct MaskedMaxPoolLowering : OpConversionPattern<nn::MaskedMaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaskedMaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType y = tensorType(op.getResult());
    RankedTensorType iy = tensorType(op.getIndices());
    TimeMaps maps(rewriter.getContext());
    Value minusOne = rewriter.create<arith::ConstantIntOp>(loc, -1, 32);
    Value indexInit =
        rewriter
            .create<linalg::FillOp>(loc, minusOne, emptyLike(rewriter, loc, iy))
            .getResult(0);
    SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                              utils::IteratorType::reduction,
                                              utils::IteratorType::parallel};
    auto reduce = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{y, iy},
        ValueRange{adaptor.getInput(), adaptor.getMask()},
        ValueRange{filled(rewriter, loc, y, 0.0), indexInit},
        ArrayRef<AffineMap>{maps.seq, maps.mask, maps.pooled, maps.pooled},
        iters, [](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0], m = a[1], best = a[2], index = a[3];
          Value none = b.create<arith::ConstantIntOp>(l, -1, 32);
          Value first =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, index, none);
          Value greater =
              b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, x, best);
          Value real = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::ONE, m,
                                               f32(b, l, 0.0));
          Value take = b.create<arith::AndIOp>(
              l, real, b.create<arith::OrIOp>(l, first, greater));
          Value t = b.create<arith::IndexCastOp>(
              l, b.getI32Type(), b.create<linalg::IndexOp>(l, 1));
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, take, x, best),
                            b.create<arith::SelectOp>(l, take, t, index)});
        });
    rewriter.replaceOp(op, reduce.getResults());
    return success();
  }
};

/// masked_maxpool_grad: dx[n, t, f] = t == i[n, f] ? dy[n, f] : 0.
struct MaskedMaxPoolGradLowering
    : OpConversionPattern<nn::MaskedMaxPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaskedMaxPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    TimeMaps maps(rewriter.getContext());
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                        ValueRange{adaptor.getGrad(), adaptor.getIndices()},
                        [](OpBuilder &b, Location l, ValueRange a) {
                          Value t = b.create<arith::IndexCastOp>(
                              l, b.getI32Type(),
                              b.create<linalg::IndexOp>(l, 1));
                          Value hit = b.create<arith::CmpIOp>(
                              l, arith::CmpIPredicate::eq, a[1], t);
                          return b.create<arith::SelectOp>(l, hit, a[0],
                                                           f32(b, l, 0.0));
                        },
                        {maps.pooled, maps.pooled}));
    return success();
  }
};

} // namespace

void nnc::populateNNSequencePatterns(RewritePatternSet &patterns) {
  patterns.add<TokenMaskLowering, EmbeddingLowering, EmbeddingGradLowering,
               MaskedAvgPoolLowering, MaskedAvgPoolGradLowering,
               MaskedMaxPoolLowering, MaskedMaxPoolGradLowering>(
      patterns.getContext());
}
