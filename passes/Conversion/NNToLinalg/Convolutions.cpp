//===- Convolutions.cpp - nn -> linalg patterns for conv2d ----------------===//
//
// Convolutions become GEMMs, the form nnc-cpu-codegen tiles and vectorizes
// best (outer-product FMA kernels):
//   forward      y^T[F, N OH OW] = W[F, C kh kw] x col[C kh kw, N OH OW]
//   grad_weight  dW^T[C kh kw, F] = col x dy[N OH OW, F] (dy channels-last)
//   grad_input   dcol            = W^T x dy^T, then col2im
// where col (im2col) holds, for every kernel offset (i, j), the strided view
// xpad[:, :, i :: sh, j :: sw] of the padded input. im2col and col2im are
// written as kh kw "shifted window" steps (Windows.h): one elementwise
// linalg.generic per kernel offset between a [N, C, OH, OW] strided slice of
// the padded tensor and a [C, N, OH, OW] slice of col, whose maps are
// projected permutations, so that each step vectorizes along OW. Padding is
// a fill of zeros whose interior is overwritten by a copy of the input.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"
#include "passes/Conversion/NNToLinalg/Windows.h"

#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

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
    Value z = gemm<linalg::MatmulOp>(rewriter, loc, wm, col,
                                     filled(rewriter, loc, zType, 0.0),
                                     bf16Products(op));
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
    Value dwT = gemm<linalg::MatmulOp>(rewriter, loc, col, dyN,
                                       filled(rewriter, loc, tType, 0.0),
                                       bf16Products(op));
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
    Value dcol = gemm<linalg::MatmulTransposeAOp>(
        rewriter, loc, wm, dyT, filled(rewriter, loc, mType, 0.0),
        bf16Products(op));
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

} // namespace

void nnc::populateNNConvPatterns(RewritePatternSet &patterns) {
  patterns
      .add<Conv2dLowering, Conv2dGradInputLowering, Conv2dGradWeightLowering>(
          patterns.getContext());
}
