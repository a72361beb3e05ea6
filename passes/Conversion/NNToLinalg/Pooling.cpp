//===- Pooling.cpp - nn -> linalg patterns for the pools ------------------===//
//
// maxpool2d, avgpool2d and their gradients are kh kw "shifted window" steps
// (Windows.h) over the padded input: -inf padding for maxpool, whose window
// maximum reads the kh kw strided views in one elementwise op; zeros for
// avgpool, whose window sum adds one view per step. global_avgpool is a
// reduction over H and W.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"
#include "passes/Conversion/NNToLinalg/Windows.h"

#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

/// The max over each window of the padded `xp` and, with `withIndex`, the
/// first kernel offset (i kw + j, PyTorch's row-major scan order) holding
/// it, as f32: one pass reading the kh kw strided views together, the
/// running maximum and its offset kept in registers. As PyTorch's, an
/// element replaces the maximum when it is greater or NaN (NaN propagates;
/// among equal values, -0 and +0 included, the first wins).
SmallVector<Value> nnc::lowering::windowMax(OpBuilder &b, Location loc,
                                            Value xp, RankedTensorType y,
                                            const Window &w, bool withIndex) {
  RankedTensorType xt = tensorType(xp);
  SmallVector<Value> views;
  for (int64_t i = 0; i < w.kh; ++i)
    for (int64_t j = 0; j < w.kw; ++j)
      views.push_back(extract(b, loc, xp, windowView(b, xt, y, w, i, j)));
  SmallVector<AffineMap> maps(views.size(), b.getMultiDimIdentityMap(4));
  SmallVector<Value> outs{emptyLike(b, loc, y)};
  if (withIndex)
    outs.push_back(emptyLike(b, loc, y));
  size_t k = views.size();
  return generic(b, loc, views, maps, outs,
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   return maxOf(nb, l, a.take_front(k), withIndex);
                 });
}

SmallVector<Value> nnc::lowering::maxOf(OpBuilder &b, Location loc,
                                        ValueRange v, bool withIndex) {
  Value m = v[0], index = f32(b, loc, 0.0);
  for (size_t t = 1; t < v.size(); ++t) {
    Value greater = b.create<arith::OrIOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v[t], m),
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, v[t], v[t]));
    m = b.create<arith::SelectOp>(loc, greater, v[t], m);
    if (withIndex)
      index = b.create<arith::SelectOp>(
          loc, greater, f32(b, loc, static_cast<double>(t)), index);
  }
  SmallVector<Value> r{m};
  if (withIndex)
    r.push_back(index);
  return r;
}

/// Whether a pooling (or its gradient) over the batch `x` goes sample by
/// sample: more than one sample, and `count` padded samples of
/// `paddedSample` fit a parallel loop's body (padded in the core's cache
/// instead of in memory).
static bool bySample(RankedTensorType x, RankedTensorType paddedSample,
                     int64_t count) {
  return x.getDimSize(0) > 1 &&
         count * paddedSample.getNumElements() * 4 <= kBodyBytes;
}

/// The window maxima of `x` for an output of type `y` (and with
/// `withIndex` their offsets): windowMax over x padded with -inf; sample by
/// sample where x is padded and a padded sample fits a parallel loop's
/// body, so that the padding is written in the core's cache instead of to
/// memory. The forward pass and the gradient build the same ops, which CSE
/// merges.
static SmallVector<Value> paddedWindowMax(OpBuilder &b, Location loc, Value x,
                                          RankedTensorType y, const Window &w,
                                          bool withIndex) {
  auto max = [&](Value part, RankedTensorType partY) {
    return windowMax(
        b, loc, pad(b, loc, part, w, -std::numeric_limits<double>::infinity()),
        partY, w, withIndex);
  };
  RankedTensorType xt = tensorType(x);
  if (!w.padded() || !bySample(xt, paddedType(partOf(xt), w), 1))
    return max(x, y);
  SmallVector<RankedTensorType> outs(withIndex ? 2 : 1, y);
  return forEachPart(b, loc, outs, 1, [&](Value n) {
    return max(samplesOf(b, loc, x, n), partOf(y));
  });
}

namespace {

/// Whether the same window's gradient is taken of `x` (a training step).
bool hasPoolGradient(nn::MaxPool2dOp op) {
  return llvm::any_of(op.getInput().getUsers(), [&](Operation *user) {
    auto grad = dyn_cast<nn::MaxPool2dGradOp>(user);
    return grad && grad.getInput() == op.getInput() && sameWindows(grad, op);
  });
}

/// maxpool2d: the input padded with -inf, then the window maximum. When the
/// gradient of the same pooling is taken, the maximum's offset is computed
/// along: the gradient's lowering builds the identical op, which CSE then
/// merges (the backward pass reuses the forward's offsets).
struct MaxPool2dLowering : OpConversionPattern<nn::MaxPool2dOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaxPool2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Window w = poolWindow(op);
    rewriter.replaceOp(op,
                       paddedWindowMax(rewriter, loc, adaptor.getInput(),
                                       tensorType(op.getResult()), w,
                                       /*withIndex=*/hasPoolGradient(op))[0]);
    return success();
  }
};

} // namespace

/// The gradient of a pooling whose windows tile the padded input without
/// overlap (stride = kernel): every element of dxp belongs to at most one
/// window, so dxp is written once, in one op over the [N, C, OH, kh, OW, kw]
/// view of its windows' region: dy where the offset (i, j) holds the
/// window's maximum, else 0. Rows and columns past the last window are 0
/// (two strips filled; the windows' op writes the rest in place through an
/// expand_shape of its slice). The loops run (n, c, oh, i, j, ow): vectors
/// along ow (a row of windows, written with stride kw), not along the
/// kernel's few columns.
Value nnc::lowering::disjointWindowsGrad(OpBuilder &b, Location loc,
                                         Value argmax, Value dy,
                                         RankedTensorType xpType,
                                         const Window &w) {
  RankedTensorType y = tensorType(dy);
  int64_t n = y.getDimSize(0), c = y.getDimSize(1), oh = y.getDimSize(2),
          ow = y.getDimSize(3);
  Type f32Type = b.getF32Type();
  auto windows = RankedTensorType::get({n, c, oh, w.kh, ow, w.kw}, f32Type);
  int64_t rows = oh * w.kh, cols = ow * w.kw;
  int64_t hp = xpType.getDimSize(2), wp = xpType.getDimSize(3);
  auto regionType = RankedTensorType::get({n, c, rows, cols}, f32Type);
  SmallVector<ReassociationIndices> windowDims{{0}, {1}, {2, 3}, {4, 5}};
  // dxp: the zero strips past the windows, then the windows' region.
  Value dxp = emptyLike(b, loc, xpType);
  auto strip = [&](int64_t row, int64_t col, int64_t h, int64_t wd) {
    auto type = RankedTensorType::get({n, c, h, wd}, f32Type);
    WindowView v = {indices(b, {0, 0, row, col}), indices(b, {n, c, h, wd}),
                    indices(b, {1, 1, 1, 1}), type};
    dxp = insert(b, loc, filled(b, loc, type, 0.0), dxp, v);
  };
  if (rows < hp)
    strip(rows, 0, hp - rows, wp);
  if (cols < wp)
    strip(0, cols, rows, wp - cols);
  WindowView covered = {indices(b, {0, 0, 0, 0}),
                        indices(b, regionType.getShape()),
                        indices(b, {1, 1, 1, 1}), regionType};
  Value init = b.create<tensor::ExpandShapeOp>(
      loc, windows, extract(b, loc, dxp, covered), windowDims);
  MLIRContext *ctx = b.getContext();
  auto dims = [&](ArrayRef<unsigned> d) {
    SmallVector<AffineExpr> exprs;
    for (unsigned i : d)
      exprs.push_back(getAffineDimExpr(i, ctx));
    return AffineMap::get(6, 0, exprs, ctx);
  };
  AffineMap outer = dims({0, 1, 2, 5});
  auto op = b.create<linalg::GenericOp>(
      loc, TypeRange{windows}, ValueRange{argmax, dy}, ValueRange{init},
      ArrayRef<AffineMap>{outer, outer, dims({0, 1, 2, 3, 5, 4})}, parallel(6),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        // a = argmax (as f32), dy, dx; the offset i kw + j of this element.
        Value i = nb.create<linalg::IndexOp>(l, 3);
        Value j = nb.create<linalg::IndexOp>(l, 4);
        Value offset = nb.create<arith::AddIOp>(
            l,
            nb.create<arith::MulIOp>(
                l, i, nb.create<arith::ConstantIndexOp>(l, w.kw)),
            j);
        Value asF32 = nb.create<arith::SIToFPOp>(
            l, f32Type,
            nb.create<arith::IndexCastOp>(l, nb.getI32Type(), offset));
        Value hit =
            nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], asF32);
        nb.create<linalg::YieldOp>(l, ValueRange{nb.create<arith::SelectOp>(
                                          l, hit, a[1], f32(nb, l, 0.0))});
      });
  Value region = b.create<tensor::CollapseShapeOp>(loc, regionType,
                                                   op.getResult(0), windowDims);
  if (regionType == xpType)
    return region;
  return insert(b, loc, region, dxp, covered);
}

/// The padding of argmax and dy for gatheredWindowsGrad: kh - 1 rows above
/// and kw - 1 columns left; below and right, h + top - oh rows (and
/// columns) when positive, so that the views of dx's last row and column
/// stay inside.
static Window gatheredWindow(RankedTensorType x, RankedTensorType y,
                             const Window &w) {
  int64_t oh = y.getDimSize(2), ow = y.getDimSize(3), h = x.getDimSize(2),
          wd = x.getDimSize(3);
  return {w.kh,
          w.kw,
          1,
          1,
          w.kh - 1,
          w.kw - 1,
          std::max<int64_t>(0, h + w.top - oh),
          std::max<int64_t>(0, wd + w.left - ow)};
}

/// The gradient dx (of type `x`) of a stride-1 max pooling whose windows
/// overlap, gathered: each element of dx sums, over the kh kw windows that
/// hold it, dy of those whose maximum it is. With the offsets `argmax` and
/// `dy` padded by kh - 1 rows and kw - 1 columns (offset -1 and gradient 0:
/// no window), the window of kernel offset (i, j) holding padded element
/// (r, c) is output (r - i, c - j), so that one elementwise op over dx reads
/// the 2 kh kw shifted views of the two: one pass writing dx, where adding
/// each offset's view of dy into a zero-filled dxp took kh kw passes over it
/// (a read and a write of dxp and reads of argmax and dy each: 9 of them
/// for resnet_mini's inception block, 3.6 ms of a step on one core). The
/// offsets go in decreasing order, so that an element gets its windows'
/// gradients in PyTorch's order (its backward adds dy into dx[argmax]
/// output by output): the same sums, bit for bit.
static Value gatheredWindowsGradOf(OpBuilder &b, Location loc, Value argmax,
                                   Value dy, RankedTensorType x,
                                   const Window &w) {
  RankedTensorType y = tensorType(dy);
  Window around = gatheredWindow(x, y, w);
  Value argmaxP = pad(b, loc, argmax, around, -1.0);
  Value dyP = pad(b, loc, dy, around, 0.0);
  RankedTensorType pt = tensorType(argmaxP);
  SmallVector<Value> views;
  SmallVector<double> offsets;
  for (int64_t i = w.kh - 1; i >= 0; --i)
    for (int64_t j = w.kw - 1; j >= 0; --j) {
      // dx[r, c] (padded r + top, c + left) in window (r + top - i, ...),
      // at row r + top - i + kh - 1 of the padded offsets.
      WindowView v = {
          indices(b, {0, 0, w.top - i + w.kh - 1, w.left - j + w.kw - 1}),
          indices(b, x.getShape()), indices(b, {1, 1, 1, 1}),
          RankedTensorType::get(x.getShape(), pt.getElementType())};
      views.push_back(extract(b, loc, argmaxP, v));
      views.push_back(extract(b, loc, dyP, v));
      offsets.push_back(static_cast<double>(i * w.kw + j));
    }
  SmallVector<AffineMap> maps(views.size(), b.getMultiDimIdentityMap(4));
  return generic(b, loc, views, maps, ValueRange{emptyLike(b, loc, x)},
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   Value zero = f32(nb, l, 0.0), sum = zero;
                   for (size_t t = 0; t < offsets.size(); ++t) {
                     Value hit = nb.create<arith::CmpFOp>(
                         l, arith::CmpFPredicate::OEQ, a[2 * t],
                         f32(nb, l, offsets[t]));
                     sum = nb.create<arith::AddFOp>(
                         l, sum,
                         nb.create<arith::SelectOp>(l, hit, a[2 * t + 1],
                                                    zero));
                   }
                   return SmallVector<Value>{sum};
                 })[0];
}

/// gatheredWindowsGradOf, per sample where its padded tensors fit.
static Value gatheredWindowsGrad(OpBuilder &b, Location loc, Value argmax,
                                 Value dy, RankedTensorType x,
                                 const Window &w) {
  RankedTensorType y = tensorType(dy);
  // Sample by sample when a sample's two padded tensors fit a parallel
  // loop's body: they are then filled and copied in the core's cache, where
  // padding the batch's wrote two tensors of the batch's size to memory and
  // read them back (resnet_mini's inception block: ~40 MB a step).
  if (bySample(x, paddedType(partOf(x), gatheredWindow(x, y, w)), 2))
    return forEachPart(b, loc, x, 1, [&](Value n) {
      return gatheredWindowsGradOf(b, loc, samplesOf(b, loc, argmax, n),
                                   samplesOf(b, loc, dy, n), partOf(x), w);
    });
  return gatheredWindowsGradOf(b, loc, argmax, dy, x, w);
}

namespace {

/// maxpool2d_grad: the offset of each window's maximum (one pass, see
/// windowMax; the forward pass's when it is in the same function); then,
/// for windows that do not overlap, one write of every element (see
/// disjointWindowsGrad), for stride 1 one gathering pass (see
/// gatheredWindowsGrad), else every kernel offset adds dy to its strided
/// view of the gradient where it holds the window's maximum.
struct MaxPool2dGradLowering : OpConversionPattern<nn::MaxPool2dGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MaxPool2dGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Window w = poolWindow(op);
    RankedTensorType x = tensorType(op.getInput()),
                     y = tensorType(op.getGrad());
    Value argmax = paddedWindowMax(rewriter, loc, adaptor.getInput(), y, w,
                                   /*withIndex=*/true)[1];
    RankedTensorType xpType = paddedType(x, w);
    if (w.sh == w.kh && w.sw == w.kw) {
      rewriter.replaceOp(op,
                         crop(rewriter, loc,
                              disjointWindowsGrad(rewriter, loc, argmax,
                                                  adaptor.getGrad(), xpType, w),
                              x, w));
      return success();
    }
    if (w.sh == 1 && w.sw == 1) {
      rewriter.replaceOp(op, gatheredWindowsGrad(rewriter, loc, argmax,
                                                 adaptor.getGrad(), x, w));
      return success();
    }
    Value dxp = filled(rewriter, loc, xpType, 0.0);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j) {
        WindowView v = windowView(rewriter, xpType, y, w, i, j);
        double offset = static_cast<double>(i * w.kw + j);
        Value dx = generic(
            rewriter, loc, ValueRange{argmax, adaptor.getGrad()}, {id, id},
            ValueRange{extract(rewriter, loc, dxp, v)},
            [&](OpBuilder &b, Location l, ValueRange a) {
              // a = argmax, dy, dx
              Value hit = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                  a[0], f32(b, l, offset));
              Value add =
                  b.create<arith::SelectOp>(l, hit, a[1], f32(b, l, 0.0));
              return SmallVector<Value>{b.create<arith::AddFOp>(l, a[2], add)};
            })[0];
        dxp = insert(rewriter, loc, dx, dxp, v);
      }
    rewriter.replaceOp(op, crop(rewriter, loc, dxp, x, w));
    return success();
  }
};

/// avgpool2d: the zero-padded input summed over each window's offsets, then
/// divided by kh kw (count_include_pad).
struct AvgPool2dLowering : OpConversionPattern<nn::AvgPool2dOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::AvgPool2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Window w = poolWindow(op);
    RankedTensorType y = tensorType(op.getResult());
    Value xp = pad(rewriter, loc, adaptor.getInput(), w, 0.0);
    RankedTensorType xt = tensorType(xp);
    Value acc = filled(rewriter, loc, y, 0.0);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j)
        acc = generic(
            rewriter, loc,
            extract(rewriter, loc, xp, windowView(rewriter, xt, y, w, i, j)),
            id, acc, [](OpBuilder &b, Location l, ValueRange a) {
              return SmallVector<Value>{b.create<arith::AddFOp>(l, a[1], a[0])};
            })[0];
    double count = static_cast<double>(w.kh * w.kw);
    Value out = elementwise(
        rewriter, loc, y, acc, [&](OpBuilder &b, Location l, ValueRange a) {
          return b.create<arith::DivFOp>(l, a[0], f32(b, l, count));
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// avgpool2d_grad: dy / (kh kw) added into every offset's window of a zero
/// padded gradient, which is then cropped.
struct AvgPool2dGradLowering : OpConversionPattern<nn::AvgPool2dGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::AvgPool2dGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Window w = poolWindow(op);
    RankedTensorType x = tensorType(op.getResult()),
                     y = tensorType(op.getGrad());
    double count = static_cast<double>(w.kh * w.kw);
    Value g =
        elementwise(rewriter, loc, y, adaptor.getGrad(),
                    [&](OpBuilder &b, Location l, ValueRange a) {
                      return b.create<arith::DivFOp>(l, a[0], f32(b, l, count));
                    });
    RankedTensorType xpType = paddedType(x, w);
    Value dxp = filled(rewriter, loc, xpType, 0.0);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j) {
        WindowView v = windowView(rewriter, xpType, y, w, i, j);
        Value sum = generic(
            rewriter, loc, g, id, extract(rewriter, loc, dxp, v),
            [](OpBuilder &b, Location l, ValueRange a) {
              return SmallVector<Value>{b.create<arith::AddFOp>(l, a[1], a[0])};
            })[0];
        dxp = insert(rewriter, loc, sum, dxp, v);
      }
    rewriter.replaceOp(op, crop(rewriter, loc, dxp, x, w));
    return success();
  }
};

/// global_avgpool: linalg.reduce over H and W, then / (H W).
struct GlobalAvgPoolLowering : OpConversionPattern<nn::GlobalAvgPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::GlobalAvgPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType x = tensorType(op.getInput()),
                     y = tensorType(op.getResult());
    Value sum = rewriter
                    .create<linalg::ReduceOp>(
                        loc, ValueRange{adaptor.getInput()},
                        ValueRange{filled(rewriter, loc, y, 0.0)},
                        ArrayRef<int64_t>{2, 3},
                        [](OpBuilder &b, Location l, ValueRange a) {
                          Value s = b.create<arith::AddFOp>(l, a[0], a[1]);
                          b.create<linalg::YieldOp>(l, s);
                        })
                    .getResult(0);
    double count = static_cast<double>(x.getDimSize(2) * x.getDimSize(3));
    rewriter.replaceOp(op,
                       elementwise(rewriter, loc, y, sum,
                                   [&](OpBuilder &b, Location l, ValueRange a) {
                                     return b.create<arith::DivFOp>(
                                         l, a[0], f32(b, l, count));
                                   }));
    return success();
  }
};

/// global_avgpool_grad: dx[n, c, h, w] = dy[n, c] / (H W).
struct GlobalAvgPoolGradLowering
    : OpConversionPattern<nn::GlobalAvgPoolGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::GlobalAvgPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType x = tensorType(op.getResult());
    MLIRContext *ctx = rewriter.getContext();
    AffineMap nc = AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    double count = static_cast<double>(x.getDimSize(2) * x.getDimSize(3));
    rewriter.replaceOp(op,
                       elementwise(rewriter, op.getLoc(), x, adaptor.getGrad(),
                                   [&](OpBuilder &b, Location l, ValueRange a) {
                                     return b.create<arith::DivFOp>(
                                         l, a[0], f32(b, l, count));
                                   },
                                   {nc}));
    return success();
  }
};

} // namespace

void nnc::maskMaxPoolGradients(Operation *root) {
  SmallVector<nn::ReluGradOp> reluGrads;
  root->walk([&](nn::ReluGradOp op) { reluGrads.push_back(op); });
  for (nn::ReluGradOp op : reluGrads) {
    auto grad = op.getGrad().getDefiningOp<nn::MaxPool2dGradOp>();
    if (!grad || !grad->hasOneUse() || grad.getInput() != op.getSaved())
      continue;
    // The forward pass's maximum of the same windows, computed before.
    nn::MaxPool2dOp pool;
    for (Operation *user : grad.getInput().getUsers()) {
      auto p = dyn_cast<nn::MaxPool2dOp>(user);
      if (p && p->getBlock() == grad->getBlock() && p->isBeforeInBlock(grad) &&
          sameWindows(p, grad)) {
        pool = p;
        break;
      }
    }
    if (!pool)
      continue;
    OpBuilder b(grad);
    Value masked =
        b.create<nn::ReluGradOp>(op.getLoc(), grad.getGrad().getType(),
                                 grad.getGrad(), pool.getResult());
    grad.getGradMutable().assign(masked);
    op.replaceAllUsesWith(grad.getResult());
    op.erase();
  }
}

void nnc::populateNNPoolingPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPool2dLowering, MaxPool2dGradLowering, AvgPool2dLowering,
               AvgPool2dGradLowering, GlobalAvgPoolLowering,
               GlobalAvgPoolGradLowering>(patterns.getContext());
}
