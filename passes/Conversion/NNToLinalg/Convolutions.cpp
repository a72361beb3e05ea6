//===- Convolutions.cpp - nn -> linalg patterns for conv2d and the pools --===//
//
// Convolutions become GEMMs, the form nnc-cpu-codegen tiles and vectorizes
// best (outer-product FMA kernels):
//   forward      y^T[F, N OH OW] = W[F, C kh kw] x col[C kh kw, N OH OW]
//   grad_weight  dW^T[C kh kw, F] = col x dy[N OH OW, F] (dy channels-last)
//   grad_input   dcol            = W^T x dy^T, then col2im
// where col (im2col) holds, for every kernel offset (i, j), the strided view
// xpad[:, :, i :: sh, j :: sw] of the padded input. im2col, col2im and the
// pools are all written as kh kw "shifted window" steps: one elementwise
// linalg.generic per kernel offset between a [N, C, OH, OW] strided slice of
// the padded tensor and an [N, C, OH, OW] (or [C, N, OH, OW]) tensor, whose
// maps are projected permutations, so that each step vectorizes along OW.
// Padding is a fill of the padded shape whose interior is overwritten by a
// copy of the input (zeros for convolutions and avgpool, -inf for maxpool).
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Transforms/DialectConversion.h"

#include <limits>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

/// A conv or pool window: kernel, stride and [top, left, bottom, right].
struct Window {
  int64_t kh, kw, sh, sw, top, left, bottom, right;
  bool padded() const { return top || left || bottom || right; }
};

Window window(ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
              ArrayRef<int64_t> padding) {
  return {kernel[0],  kernel[1],  stride[0],  stride[1],
          padding[0], padding[1], padding[2], padding[3]};
}

SmallVector<OpFoldResult> indices(OpBuilder &b, ArrayRef<int64_t> v) {
  return getAsIndexOpFoldResult(b.getContext(), v);
}

using StepFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

/// A linalg.generic of all-parallel loops over `outs`' (common) shape: the
/// inputs are read through `inMaps`, the outputs through the identity, and
/// the body gets the input elements then the output elements.
SmallVector<Value> generic(OpBuilder &b, Location loc, ValueRange ins,
                           ArrayRef<AffineMap> inMaps, ValueRange outs,
                           StepFn body) {
  unsigned rank = tensorType(outs[0]).getRank();
  SmallVector<AffineMap> maps(inMaps.begin(), inMaps.end());
  maps.append(outs.size(), b.getMultiDimIdentityMap(rank));
  SmallVector<Type> types;
  for (Value o : outs)
    types.push_back(o.getType());
  auto op = b.create<linalg::GenericOp>(
      loc, types, ins, outs, maps, parallel(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(nl, body(nb, nl, args));
      });
  return SmallVector<Value>(op.getResults());
}

/// The body of a copy: the (only) input element.
SmallVector<Value> copyElement(OpBuilder &, Location, ValueRange a) {
  return {a[0]};
}

/// The [N, C, OH, OW] view of the padded `xp` seen by kernel offset (i, j):
/// xp[:, :, i + oh sh, j + ow sw].
struct WindowView {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  RankedTensorType type;
};

WindowView windowView(OpBuilder &b, RankedTensorType xp, RankedTensorType y,
                      const Window &w, int64_t i, int64_t j) {
  int64_t n = xp.getDimSize(0), c = xp.getDimSize(1);
  int64_t oh = y.getDimSize(2), ow = y.getDimSize(3);
  return {indices(b, {0, 0, i, j}), indices(b, {n, c, oh, ow}),
          indices(b, {1, 1, w.sh, w.sw}),
          RankedTensorType::get({n, c, oh, ow}, xp.getElementType())};
}

Value extract(OpBuilder &b, Location loc, Value from, const WindowView &v) {
  return b.create<tensor::ExtractSliceOp>(loc, v.type, from, v.offsets, v.sizes,
                                          v.strides);
}

Value insert(OpBuilder &b, Location loc, Value part, Value into,
             const WindowView &v) {
  return b.create<tensor::InsertSliceOp>(loc, part, into, v.offsets, v.sizes,
                                         v.strides);
}

/// The interior [N, C, H, W] of a padded tensor.
WindowView interior(OpBuilder &b, RankedTensorType x, const Window &w) {
  int64_t n = x.getDimSize(0), c = x.getDimSize(1), h = x.getDimSize(2),
          wd = x.getDimSize(3);
  return {indices(b, {0, 0, w.top, w.left}), indices(b, {n, c, h, wd}),
          indices(b, {1, 1, 1, 1}), x};
}

RankedTensorType paddedType(RankedTensorType x, const Window &w) {
  return RankedTensorType::get({x.getDimSize(0), x.getDimSize(1),
                                x.getDimSize(2) + w.top + w.bottom,
                                x.getDimSize(3) + w.left + w.right},
                               x.getElementType());
}

/// `x` padded with `value` (a fill whose interior is overwritten by a
/// vectorizable copy of `x`).
Value pad(OpBuilder &b, Location loc, Value x, const Window &w, double value) {
  if (!w.padded())
    return x;
  RankedTensorType xt = tensorType(x);
  Value full = filled(b, loc, paddedType(xt, w), value);
  WindowView in = interior(b, xt, w);
  Value copy =
      generic(b, loc, x, b.getMultiDimIdentityMap(4), extract(b, loc, full, in),
              copyElement)[0];
  return insert(b, loc, copy, full, in);
}

/// The interior of a padded gradient, i.e. the gradient of the unpadded
/// tensor of type `x`.
Value crop(OpBuilder &b, Location loc, Value xp, RankedTensorType x,
           const Window &w) {
  if (!w.padded())
    return xp;
  return extract(b, loc, xp, interior(b, x, w));
}

/// The kernel-offset slice [C, N, OH, OW] of col [C, kh, kw, N, OH, OW].
WindowView colView(OpBuilder &b, RankedTensorType col, int64_t i, int64_t j) {
  int64_t c = col.getDimSize(0), n = col.getDimSize(3), oh = col.getDimSize(4),
          ow = col.getDimSize(5);
  return {indices(b, {0, i, j, 0, 0, 0}), indices(b, {c, 1, 1, n, oh, ow}),
          indices(b, {1, 1, 1, 1, 1, 1}),
          RankedTensorType::get({c, n, oh, ow}, col.getElementType())};
}

/// (c, n, oh, ow) -> (n, c, oh, ow): NCHW read in the loops of a CNHW tensor.
AffineMap swapNC(MLIRContext *ctx) {
  return AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0, 2, 3}, ctx);
}

/// im2col of the padded `xp` for an output of type `y`: col[(c, i, j),
/// (n, oh, ow)] = xp[n, c, oh sh + i, ow sw + j], as a [C kh kw, N OH OW]
/// matrix.
Value im2col(OpBuilder &b, Location loc, Value xp, RankedTensorType y,
             const Window &w) {
  RankedTensorType xt = tensorType(xp);
  int64_t n = xt.getDimSize(0), c = xt.getDimSize(1), oh = y.getDimSize(2),
          ow = y.getDimSize(3);
  auto colType =
      RankedTensorType::get({c, w.kh, w.kw, n, oh, ow}, b.getF32Type());
  Value col = emptyLike(b, loc, colType);
  for (int64_t i = 0; i < w.kh; ++i)
    for (int64_t j = 0; j < w.kw; ++j) {
      WindowView src = windowView(b, xt, y, w, i, j);
      WindowView dst = colView(b, colType, i, j);
      Value part = generic(b, loc, extract(b, loc, xp, src),
                           swapNC(b.getContext()), extract(b, loc, col, dst),
                           copyElement)[0];
      col = insert(b, loc, part, col, dst);
    }
  return b.create<tensor::CollapseShapeOp>(
      loc, col, SmallVector<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
}

/// dy [N, F, OH, OW] as the matrix dy^T [F, N OH OW].
Value transposedGrad(OpBuilder &b, Location loc, Value dy) {
  RankedTensorType t = tensorType(dy);
  auto tt = RankedTensorType::get(
      {t.getDimSize(1), t.getDimSize(0), t.getDimSize(2), t.getDimSize(3)},
      t.getElementType());
  Value dyT = generic(b, loc, dy, swapNC(b.getContext()), emptyLike(b, loc, tt),
                      copyElement)[0];
  return b.create<tensor::CollapseShapeOp>(
      loc, dyT, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
}

/// Filters [F, C, kh, kw] as the matrix [F, C kh kw].
Value filterMatrix(OpBuilder &b, Location loc, Value w) {
  return b.create<tensor::CollapseShapeOp>(
      loc, w, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
}

/// A convolution's GEMM result `z` [F, N OH OW] as the NCHW tensor of type
/// `out`: row blocks of `z` are expanded and copied, transposed, into `out`,
/// plus `bias[f]` when given (added in the copy: the GEMM then accumulates
/// from zero in registers, see nn-tile-and-vectorize, instead of from a
/// broadcast of the bias written to memory first). Taking two row blocks
/// matters: linalg-fuse-elementwise-ops folds an expand_shape into a
/// producer with a single use, which would turn the GEMM into a generic
/// contraction that nn-tile-and-vectorize does not tile as a matmul.
Value gemmResultToNCHW(OpBuilder &b, Location loc, Value z,
                       RankedTensorType out, Value bias) {
  RankedTensorType zt = tensorType(z);
  int64_t rows = zt.getDimSize(0), cols = zt.getDimSize(1);
  int64_t half = rows > 1 ? rows / 2 : rows;
  Value result = emptyLike(b, loc, out);
  for (int64_t r0 = 0; r0 < rows; r0 += half) {
    int64_t n = std::min(half, rows - r0);
    if (r0 + n < rows && rows - (r0 + n) < half)
      n = rows - r0; // odd remainder joins the last block
    auto sliceType = RankedTensorType::get({n, cols}, zt.getElementType());
    Value zs = b.create<tensor::ExtractSliceOp>(
        loc, sliceType, z, indices(b, {r0, 0}), indices(b, {n, cols}),
        indices(b, {1, 1}));
    SmallVector<int64_t> zShape = {n, out.getDimSize(0), out.getDimSize(2),
                                   out.getDimSize(3)};
    SmallVector<int64_t> dstShape(out.getShape()), offs(4, 0);
    dstShape[1] = n;
    offs[1] = r0;
    Value z4 = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(zShape, zt.getElementType()), zs,
        SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    WindowView dst = {indices(b, offs), indices(b, dstShape),
                      indices(b, {1, 1, 1, 1}),
                      RankedTensorType::get(dstShape, out.getElementType())};
    SmallVector<Value> ins{z4};
    SmallVector<AffineMap> maps{swapNC(b.getContext())};
    if (bias) {
      ins.push_back(b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get({n}, zt.getElementType()), bias,
          indices(b, {r0}), indices(b, {n}), indices(b, {1})));
      maps.push_back(AffineMap::get(4, 0, getAffineDimExpr(1, b.getContext())));
    }
    Value part = generic(b, loc, ins, maps, extract(b, loc, result, dst),
                         [&](OpBuilder &nb, Location l, ValueRange a) {
                           if (!bias)
                             return SmallVector<Value>{a[0]};
                           return SmallVector<Value>{
                               nb.create<arith::AddFOp>(l, a[0], a[1])};
                         })[0];
    result = insert(b, loc, part, result, dst);
  }
  return result;
}

Window convWindow(Value weight, ArrayRef<int64_t> stride,
                  ArrayRef<int64_t> padding) {
  RankedTensorType w = tensorType(weight);
  return window({w.getDimSize(2), w.getDimSize(3)}, stride, padding);
}

/// conv2d: y^T = W x im2col(xpad) as one linalg.matmul, then y^T
/// [F, N, OH, OW] transposed to NCHW with the bias added.
struct Conv2dLowering : OpConversionPattern<nn::Conv2dOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType y = tensorType(op.getResult());
    Window w = convWindow(op.getWeight(), op.getStride(), op.getPadding());
    Value xp = pad(rewriter, loc, adaptor.getInput(), w, 0.0);
    Value col = im2col(rewriter, loc, xp, y, w);
    Value wm = filterMatrix(rewriter, loc, adaptor.getWeight());
    int64_t n = y.getDimSize(0), f = y.getDimSize(1), oh = y.getDimSize(2),
            ow = y.getDimSize(3);
    auto zType = RankedTensorType::get({f, n * oh * ow}, y.getElementType());
    Value z = rewriter
                  .create<linalg::MatmulOp>(
                      loc, TypeRange{zType}, ValueRange{wm, col},
                      ValueRange{filled(rewriter, loc, zType, 0.0)})
                  .getResult(0);
    Value out = gemmResultToNCHW(rewriter, loc, z, y, adaptor.getBias());
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// conv2d_grad_weight: dW^T [C kh kw, F] = im2col(xpad) x dy_nhwc, with
/// dy_nhwc [N OH OW, F] the gradient transposed to channels-last, then dW
/// transposed back. This orientation reads the large col matrix in place,
/// row by row; dy^T x col^T would transpose all of col first.
struct Conv2dGradWeightLowering : OpConversionPattern<nn::Conv2dGradWeightOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dGradWeightOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType dwType = tensorType(op.getResult());
    RankedTensorType dy = tensorType(op.getGrad());
    Window w = convWindow(op.getResult(), op.getStride(), op.getPadding());
    Value xp = pad(rewriter, loc, adaptor.getInput(), w, 0.0);
    Value col = im2col(rewriter, loc, xp, dy, w);
    int64_t n = dy.getDimSize(0), f = dy.getDimSize(1), oh = dy.getDimSize(2),
            ow = dy.getDimSize(3), k = dwType.getNumElements() / f;
    Type elt = dy.getElementType();
    // dy [N, F, OH, OW] -> [N, OH, OW, F] -> [N OH OW, F].
    auto nhwc = RankedTensorType::get({n, oh, ow, f}, elt);
    Value dyN =
        rewriter
            .create<linalg::TransposeOp>(loc, adaptor.getGrad(),
                                         emptyLike(rewriter, loc, nhwc),
                                         ArrayRef<int64_t>{0, 2, 3, 1})
            ->getResult(0);
    dyN = rewriter.create<tensor::CollapseShapeOp>(
        loc, dyN, SmallVector<ReassociationIndices>{{0, 1, 2}, {3}});
    auto tType = RankedTensorType::get({k, f}, elt);
    Value dwT = rewriter
                    .create<linalg::MatmulOp>(
                        loc, TypeRange{tType}, ValueRange{col, dyN},
                        ValueRange{filled(rewriter, loc, tType, 0.0)})
                    .getResult(0);
    // dW[f, c, i, j] = dW^T[(c kh + i) kw + j, f]: read through an affine
    // map, not a transpose + expand_shape, which linalg-fuse-elementwise-ops
    // would propagate into the matmul (a contraction it no longer tiles).
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr d0, d1, d2, d3;
    bindDims(ctx, d0, d1, d2, d3);
    AffineMap read = AffineMap::get(
        4, 0, {(d1 * w.kh + d2) * w.kw + d3, d0}, ctx);
    Value dw = generic(rewriter, loc, dwT, read,
                       emptyLike(rewriter, loc, dwType),
                       copyElement)[0];
    rewriter.replaceOp(op, dw);
    return success();
  }
};

/// conv2d_grad_input: dcol = W^T x dy^T as linalg.matmul_transpose_a, then
/// col2im: every kernel offset adds its [C, N, OH, OW] slice of dcol into its
/// strided window of the padded gradient, which is finally cropped.
struct Conv2dGradInputLowering : OpConversionPattern<nn::Conv2dGradInputOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dGradInputOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType x = tensorType(op.getResult()),
                     dy = tensorType(op.getGrad()),
                     wt = tensorType(op.getWeight());
    Window w = convWindow(op.getWeight(), op.getStride(), op.getPadding());
    int64_t n = dy.getDimSize(0), oh = dy.getDimSize(2), ow = dy.getDimSize(3);
    int64_t c = wt.getDimSize(1), k = c * w.kh * w.kw;
    Value dyT = transposedGrad(rewriter, loc, adaptor.getGrad());
    Value wm = filterMatrix(rewriter, loc, adaptor.getWeight());
    auto mType = RankedTensorType::get({k, n * oh * ow}, x.getElementType());
    Value dcol = rewriter
                     .create<linalg::MatmulTransposeAOp>(
                         loc, TypeRange{mType}, ValueRange{wm, dyT},
                         ValueRange{filled(rewriter, loc, mType, 0.0)})
                     .getResult(0);
    // The rows (c, i, j) of dcol for one kernel offset: a strided row slice
    // of the 2-d GEMM result, expanded to [C, N, OH, OW] (an expand_shape of
    // the GEMM itself would be folded into it, see gemmResultToNCHW).
    auto rowsType = RankedTensorType::get({c, n * oh * ow}, x.getElementType());
    auto partType = RankedTensorType::get({c, n, oh, ow}, x.getElementType());
    RankedTensorType xpType = paddedType(x, w);
    Value dxp = filled(rewriter, loc, xpType, 0.0);
    for (int64_t i = 0; i < w.kh; ++i)
      for (int64_t j = 0; j < w.kw; ++j) {
        WindowView dst = windowView(rewriter, xpType, dy, w, i, j);
        Value rows = rewriter.create<tensor::ExtractSliceOp>(
            loc, rowsType, dcol, indices(rewriter, {i * w.kw + j, 0}),
            indices(rewriter, {c, n * oh * ow}),
            indices(rewriter, {w.kh * w.kw, 1}));
        Value part = rewriter.create<tensor::ExpandShapeOp>(
            loc, partType, rows,
            SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
        Value sum = generic(rewriter, loc, part, swapNC(rewriter.getContext()),
                            extract(rewriter, loc, dxp, dst),
                            [](OpBuilder &b, Location l, ValueRange a) {
                              return SmallVector<Value>{
                                  b.create<arith::AddFOp>(l, a[1], a[0])};
                            })[0];
        dxp = insert(rewriter, loc, sum, dxp, dst);
      }
    rewriter.replaceOp(op, crop(rewriter, loc, dxp, x, w));
    return success();
  }
};

/// The max over each window of the padded `xp` and, with `withIndex`, the
/// first kernel offset (i kw + j, PyTorch's row-major scan order) holding
/// it, as f32: one pass reading the kh kw strided views together, the
/// running maximum and its offset kept in registers. As PyTorch's, an
/// element replaces the maximum when it is greater or NaN (NaN propagates;
/// among equal values, -0 and +0 included, the first wins).
SmallVector<Value> windowMax(OpBuilder &b, Location loc, Value xp,
                             RankedTensorType y, const Window &w,
                             bool withIndex) {
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
                   Value m = a[0], index = f32(nb, l, 0.0);
                   for (size_t t = 1; t < k; ++t) {
                     Value greater = nb.create<arith::OrIOp>(
                         l,
                         nb.create<arith::CmpFOp>(
                             l, arith::CmpFPredicate::OGT, a[t], m),
                         nb.create<arith::CmpFOp>(
                             l, arith::CmpFPredicate::UNO, a[t], a[t]));
                     m = nb.create<arith::SelectOp>(l, greater, a[t], m);
                     if (withIndex)
                       index = nb.create<arith::SelectOp>(
                           l, greater, f32(nb, l, static_cast<double>(t)),
                           index);
                   }
                   SmallVector<Value> r{m};
                   if (withIndex)
                     r.push_back(index);
                   return r;
                 });
}

Window poolWindow(Operation *op) {
  auto get = [&](StringRef name) {
    return cast<DenseI64ArrayAttr>(op->getAttr(name)).asArrayRef();
  };
  return window(get("kernel"), get("stride"), get("padding"));
}

/// Whether the same window's gradient is taken of `x` (a training step).
bool hasPoolGradient(nn::MaxPool2dOp op) {
  return llvm::any_of(op.getInput().getUsers(), [&](Operation *user) {
    auto grad = dyn_cast<nn::MaxPool2dGradOp>(user);
    return grad && grad.getInput() == op.getInput() &&
           grad->getAttr("kernel") == op->getAttr("kernel") &&
           grad->getAttr("stride") == op->getAttr("stride") &&
           grad->getAttr("padding") == op->getAttr("padding");
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
    Value xp = pad(rewriter, loc, adaptor.getInput(), w,
                   -std::numeric_limits<double>::infinity());
    rewriter.replaceOp(op, windowMax(rewriter, loc, xp,
                                     tensorType(op.getResult()), w,
                                     /*withIndex=*/hasPoolGradient(op))[0]);
    return success();
  }
};

/// The gradient of a pooling whose windows tile the padded input without
/// overlap (stride = kernel): every element of dxp belongs to at most one
/// window, so dxp is written once, in one op over the [N, C, OH, kh, OW, kw]
/// view of its windows' region: dy where the offset (i, j) holds the
/// window's maximum, else 0. Rows and columns past the last window are 0
/// (two strips filled; the windows' op writes the rest in place through an
/// expand_shape of its slice). The loops run (n, c, oh, i, j, ow): vectors
/// along ow (a row of windows, written with stride kw), not along the
/// kernel's few columns.
Value disjointWindowsGrad(OpBuilder &b, Location loc, Value argmax, Value dy,
                          RankedTensorType xpType, const Window &w) {
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
      loc, TypeRange{windows}, ValueRange{argmax, dy},
      ValueRange{init},
      ArrayRef<AffineMap>{outer, outer, dims({0, 1, 2, 3, 5, 4})}, parallel(6),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        // a = argmax (as f32), dy, dx; the offset i kw + j of this element.
        Value i = nb.create<linalg::IndexOp>(l, 3);
        Value j = nb.create<linalg::IndexOp>(l, 4);
        Value offset = nb.create<arith::AddIOp>(
            l, nb.create<arith::MulIOp>(
                   l, i, nb.create<arith::ConstantIndexOp>(l, w.kw)),
            j);
        Value asF32 = nb.create<arith::SIToFPOp>(
            l, f32Type,
            nb.create<arith::IndexCastOp>(l, nb.getI32Type(), offset));
        Value hit = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                             a[0], asF32);
        nb.create<linalg::YieldOp>(
            l, ValueRange{
                   nb.create<arith::SelectOp>(l, hit, a[1], f32(nb, l, 0.0))});
      });
  Value region = b.create<tensor::CollapseShapeOp>(loc, regionType,
                                                  op.getResult(0), windowDims);
  if (regionType == xpType)
    return region;
  return insert(b, loc, region, dxp, covered);
}

/// maxpool2d_grad: the offset of each window's maximum (one pass, see
/// windowMax; the forward pass's when it is in the same function); then,
/// for windows that do not overlap, one write of every element (see
/// disjointWindowsGrad), else every kernel offset adds dy to its strided
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
    Value xp = pad(rewriter, loc, adaptor.getInput(), w,
                   -std::numeric_limits<double>::infinity());
    Value argmax = windowMax(rewriter, loc, xp, y, w, /*withIndex=*/true)[1];
    RankedTensorType xpType = tensorType(xp);
    if (w.sh == w.kh && w.sw == w.kw) {
      rewriter.replaceOp(
          op, crop(rewriter, loc,
                   disjointWindowsGrad(rewriter, loc, argmax,
                                       adaptor.getGrad(), xpType, w),
                   x, w));
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
              Value hit = b.create<arith::CmpFOp>(
                  l, arith::CmpFPredicate::OEQ, a[0], f32(b, l, offset));
              Value add = b.create<arith::SelectOp>(l, hit, a[1],
                                                    f32(b, l, 0.0));
              return SmallVector<Value>{
                  b.create<arith::AddFOp>(l, a[2], add)};
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

void nnc::populateNNConvPatterns(RewritePatternSet &patterns) {
  patterns.add<Conv2dLowering, Conv2dGradInputLowering,
               Conv2dGradWeightLowering, MaxPool2dLowering,
               MaxPool2dGradLowering, AvgPool2dLowering, AvgPool2dGradLowering,
               GlobalAvgPoolLowering, GlobalAvgPoolGradLowering>(
      patterns.getContext());
}
