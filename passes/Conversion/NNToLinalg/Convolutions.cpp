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
// Stride-1 convolutions with enough channels and pixels per sample skip
// im2col: the forward pass and the input gradient go sample by sample as
// kh kw GEMMs on shifted column windows of the flattened padded input
// (shiftedConv, an implicit GEMM), the input gradient as the convolution of
// dy with the filters transposed and rotated; the weight gradient as kh kw
// GEMMs of the same windows by dy channels-last (shiftedWeightGrad).
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"
#include "passes/Conversion/NNToLinalg/Windows.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <numeric>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

/// dy [N, F, OH, OW] as the matrix dy^T [F, N OH OW] (of one sample, a
/// reshape of dy).
Value transposedGrad(OpBuilder &b, Location loc, Value dy) {
  RankedTensorType t = tensorType(dy);
  if (t.getDimSize(0) == 1)
    return sampleMatrix(b, loc, dy);
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
/// With `rowWidth` (shiftedConv), z's first N OH rowWidth columns are
/// [N, OH, rowWidth], of which the first OW of each row are the output's.
Value gemmResultToNCHW(OpBuilder &b, Location loc, Value z,
                       RankedTensorType out, Value bias, int64_t rowWidth = 0) {
  RankedTensorType zt = tensorType(z);
  int64_t rows = zt.getDimSize(0), ow = out.getDimSize(3);
  if (rowWidth == 0)
    rowWidth = ow;
  // z's columns used (shiftedConv's may have more, rounded up).
  int64_t cols = out.getDimSize(0) * out.getDimSize(2) * rowWidth;
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
                                   rowWidth};
    SmallVector<int64_t> dstShape(out.getShape()), offs(4, 0);
    dstShape[1] = n;
    offs[1] = r0;
    Value z4 = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(zShape, zt.getElementType()), zs,
        SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    if (rowWidth != ow) {
      zShape[3] = ow;
      z4 = b.create<tensor::ExtractSliceOp>(
          loc, RankedTensorType::get(zShape, zt.getElementType()), z4,
          indices(b, {0, 0, 0, 0}), indices(b, zShape),
          indices(b, {1, 1, 1, 1}));
    }
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

/// How many samples a convolution's GEMMs take at a time (see forEachPart),
/// 0 for the whole batch at once. A part's im2col matrix [C kh kw, g OH OW]
/// must fit kBodyBytes (and its GEMM result [F, g OH OW] too, for g > 1),
/// and the batch must split into at least two parts. (With 1 MiB, the 3x3
/// convolution of 128 channels at 11x11 of the sweep's wide CNN, 0.53 MiB
/// per sample, took no parts, as no single 121-column sample has few
/// enough remainder columns: its whole batch's im2col matrix of 35.7 MB
/// went through memory. In parts of two, old and new kernels interleaved
/// on one core: forward 137-154 -> 163-176 GFLOP/s, input gradient 134-156
/// -> 159-164.) The forward and input-gradient GEMMs have
/// g OH OW columns, which their register tiles of whole vectors cover
/// except for a remainder of scalar loops (`wholeVectors`): the fewest
/// samples whose columns are whole vectors of 16, else the most samples
/// that fit, if their remainder is at most 1/64 of the columns. One 14x14
/// sample, 196 columns, ran at half the speed of the whole batch's GEMM;
/// with four (784 columns) SPEC 2.3's CNN trains 1.23-1.3x faster than with
/// the whole batch's GEMM, and with four 11x11 samples (484 columns,
/// remainder 4) the plain CNN 1.1x faster on one core. The weight
/// gradient's sums run along the columns (k), where a remainder costs
/// little (11x11 and 14x14: 1.35x faster than the whole batch's GEMM on one
/// core): it takes one sample at a time (wholeVectors false).
int64_t samplesPerPart(RankedTensorType x, RankedTensorType y, const Window &w,
                       bool wholeVectors) {
  int64_t n = y.getDimSize(0), c = x.getDimSize(1), f = y.getDimSize(1),
          p = y.getDimSize(2) * y.getDimSize(3);
  auto fits = [&](int64_t g) {
    return c * w.kh * w.kw * g * p * 4 <= kBodyBytes &&
           (g == 1 || f * g * p * 4 <= kBodyBytes);
  };
  if (!wholeVectors)
    return n > 1 && fits(1) ? 1 : 0;
  int64_t most = 0;
  for (int64_t g = 1; 2 * g <= n && fits(g); ++g) {
    if (n % g != 0)
      continue;
    if (g * p % 16 == 0)
      return g;
    most = g;
  }
  return most != 0 && (most * p % 16) * 64 <= most * p ? most : 0;
}

/// The `count` channels of sample `sample` of the NCHW tensor `x` from
/// channel `first` on, as a [1, count, H, W] tensor.
Value channelsOf(OpBuilder &b, Location loc, Value x, Value sample, Value first,
                 int64_t count) {
  RankedTensorType t = tensorType(x);
  auto part = RankedTensorType::get(
      {1, count, t.getDimSize(2), t.getDimSize(3)}, t.getElementType());
  return b.create<tensor::ExtractSliceOp>(
      loc, part, x,
      ArrayRef<OpFoldResult>{sample, first, b.getIndexAttr(0),
                             b.getIndexAttr(0)},
      indices(b, part.getShape()), indices(b, {1, 1, 1, 1}));
}

/// Sample `sample`'s `rows` rows of the matrix `m` [N rows, cols] (a
/// channels-last gradient), [rows, cols].
Value sampleRows(OpBuilder &b, Location loc, Value m, Value sample,
                 int64_t rows) {
  int64_t cols = tensorType(m).getDimSize(1);
  Value first =
      b.create<arith::MulIOp>(loc, sample, indexConstant(b, loc, rows));
  return b.create<tensor::ExtractSliceOp>(
      loc, RankedTensorType::get({rows, cols}, tensorType(m).getElementType()),
      m, ArrayRef<OpFoldResult>{first, b.getIndexAttr(0)},
      indices(b, {rows, cols}), indices(b, {1, 1}));
}

/// shiftedConv's layout for an input `in` [N, K, H, W] and output `out` [N,
/// M, OH, OW]: the padded input's width Wp and its rows with the zero rows
/// below it that keep the last window inside, and the GEMMs' columns, OH Wp
/// rounded up to whole register tiles of 32 (a remainder tile split the
/// GEMM in two, and the accumulator of the main part went through the loop
/// over the offsets as a copy: 2 x 105 KB copied per sample of resnet_mini).
/// Without `roundColumns`, exactly OH Wp columns (shiftedWeightGrad's sums
/// run along them, where a remainder costs little).
struct ShiftedLayout {
  int64_t width, extraRows, rows, cols;
};

ShiftedLayout shiftedLayout(RankedTensorType in, RankedTensorType out,
                            const Window &w, bool roundColumns = true) {
  int64_t wp = in.getDimSize(3) + w.left + w.right,
          used = out.getDimSize(2) * wp,
          cols = roundColumns ? llvm::alignTo(used, 32) : used,
          extra = llvm::divideCeil(cols - used + w.kw - 1, wp);
  return {wp, extra, in.getDimSize(2) + w.top + w.bottom + extra, cols};
}

/// Whether one sample's stride-1 convolution of `in` [N, K, H, W] into
/// `out` [N, M, OH, OW] goes as kh kw shifted GEMMs (shiftedConv) rather
/// than im2col + one GEMM (f32 only; bf16 products keep im2col): K >= 16
/// products per output element and offset (fewer make the accumulator's
/// loads and stores between offsets count), at least 512
/// columns per sample (narrower GEMMs run slower, see samplesPerPart), the
/// kw - 1 dropped columns per row at most 1/8 of them, and the padded input
/// and the GEMM result within kBodyBytes each. `w` may
/// have negative padding (an input gradient's, see
/// Conv2dGradInputLowering), which it does not take.
/// resnet_mini's 3x3 convolutions of 32 channels at 28x28 (30 columns per
/// row, 2 dropped), old and new kernels interleaved on one core: the
/// forward pass 146 -> 167 GFLOP/s, the input gradient (already faster, its
/// col2im adds in cache) +3%. Including K = 16 (the 3x3 of its inception
/// block) made the changed kernels take 13% fewer perf samples than K >= 32
/// only (a variant with the offsets unrolled).
bool shiftable(RankedTensorType in, RankedTensorType out, const Window &w,
               bool bf16) {
  ShiftedLayout l = shiftedLayout(in, out, w);
  int64_t k = in.getDimSize(1), m = out.getDimSize(1);
  return !bf16 && w.sh == 1 && w.sw == 1 && w.kh * w.kw > 1 && w.top >= 0 &&
         w.left >= 0 && w.bottom >= 0 && w.right >= 0 && in.getDimSize(0) > 1 &&
         k >= 16 && l.cols >= 512 && 8 * (w.kw - 1) <= l.width &&
         k * l.rows * l.width * 4 <= kBodyBytes && m * l.cols * 4 <= kBodyBytes;
}

/// The first column i Wp + j = s + (s / kw) (Wp - kw) of the window of
/// kernel offset s = i kw + j in a padded input flattened with rows of
/// `wp`.
Value windowOffset(OpBuilder &b, Location loc, Value s, const Window &w,
                   int64_t wp) {
  Value row = b.create<arith::DivUIOp>(loc, s, indexConstant(b, loc, w.kw));
  return b.create<arith::AddIOp>(
      loc, s,
      b.create<arith::MulIOp>(loc, row, indexConstant(b, loc, wp - w.kw)));
}

/// The padded input `xs` [1, K, H, W] of shiftedConv and shiftedWeightGrad
/// flattened, [K, rows Wp] (with `l`'s zero rows below).
Value flatPaddedInput(OpBuilder &b, Location loc, Value xs, const Window &w,
                      const ShiftedLayout &l) {
  Window below = w;
  below.bottom += l.extraRows;
  RankedTensorType xt = tensorType(xs);
  return b.create<tensor::CollapseShapeOp>(
      loc,
      RankedTensorType::get({xt.getDimSize(1), l.rows * l.width},
                            xt.getElementType()),
      pad(b, loc, xs, below, 0.0),
      SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
}

/// One sample's stride-1 convolution of `xs` [1, K, H, W] into `y` [1, M,
/// OH, OW] as kh kw GEMMs on shifted windows of its padded input (an
/// implicit GEMM: no im2col matrix). With the padded input flattened row by
/// row, xf [K, (Hp + e) Wp] (e zero rows more, so that the last windows
/// stay inside), output column p = oh Wp + ow is
///   z[:, p] = sum over s = (i, j) of A(s) [M, K] x xf[:, p + i Wp + j],
/// each offset's GEMM reading a column window of xf in place and adding into
/// z [M, cols] (a loop over the offsets: one GEMM's code, not kh kw; cols
/// >= OH Wp, see ShiftedLayout); the last kw - 1 columns of each row of z
/// wrap around into the next row of xf and are dropped, as are the columns
/// past OH Wp. `filters` [kh kw, M, K] holds A(s) for s = i kw + j, or
/// for s = kh kw - 1 - (i kw + j) when `flipped` (the filters rotated by 180
/// degrees).
Value shiftedConv(OpBuilder &b, Location loc, Value xs, Value filters,
                  bool flipped, RankedTensorType y, const Window &w,
                  Value bias) {
  ShiftedLayout l = shiftedLayout(tensorType(xs), y, w);
  int64_t k = tensorType(xs).getDimSize(1), m = y.getDimSize(1), wp = l.width,
          cols = l.cols, shifts = w.kh * w.kw;
  Type elt = y.getElementType();
  Value xf = flatPaddedInput(b, loc, xs, w, l);
  auto idx = [&](int64_t v) { return indexConstant(b, loc, v); };
  auto loop = b.create<scf::ForOp>(
      loc, idx(0), idx(shifts), idx(1),
      ValueRange{filled(b, loc, RankedTensorType::get({m, cols}, elt), 0.0)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value s = loop.getInductionVar();
    Value offset = windowOffset(b, loc, s, w, wp);
    Value slot = flipped ? b.create<arith::SubIOp>(loc, idx(shifts - 1), s) : s;
    Value a = b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({m, k}, elt), filters,
        ArrayRef<OpFoldResult>{slot, b.getIndexAttr(0), b.getIndexAttr(0)},
        indices(b, {1, m, k}), indices(b, {1, 1, 1}));
    Value window = b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({k, cols}, elt), xf,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), offset},
        indices(b, {k, cols}), indices(b, {1, 1}));
    b.create<scf::YieldOp>(loc,
                           gemm<linalg::MatmulOp>(b, loc, a, window,
                                                  loop.getRegionIterArgs()[0],
                                                  /*bf16=*/false));
  }
  return gemmResultToNCHW(b, loc, loop.getResult(0), y, bias, wp);
}

/// The filters `w` [F, C, kh, kw] as [kh kw, a, b] matrices, a b = F C
/// (`transposed` false) or C F, for shiftedConv.
Value offsetFilters(OpBuilder &b, Location loc, Value w, bool transposed) {
  RankedTensorType wt = tensorType(w);
  SmallVector<int64_t> perm = {2, 3, 0, 1};
  if (transposed)
    std::swap(perm[2], perm[3]);
  SmallVector<int64_t> shape;
  for (int64_t d : perm)
    shape.push_back(wt.getDimSize(d));
  Value t =
      b.create<linalg::TransposeOp>(
           loc, w,
           emptyLike(b, loc, RankedTensorType::get(shape, wt.getElementType())),
           perm)
          ->getResult(0);
  return b.create<tensor::CollapseShapeOp>(
      loc, t, SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
}

/// The stride-1 convolution of `in` [N, K, H, W] into `out` [N, M, OH, OW]
/// by `w` [F, C, kh, kw] sample by sample (in parallel) as shiftedConv: the
/// forward pass (M = F), or with `inputGradient` the input gradient of a
/// convolution, dy convolved with the filters transposed and rotated (M =
/// C; `window` the padding of dy, see Conv2dGradInputLowering).
Value shiftedConvBySample(OpBuilder &b, Location loc, Value in, Value w,
                          Value bias, RankedTensorType out,
                          const Window &window, bool inputGradient) {
  Value filters = offsetFilters(b, loc, w, /*transposed=*/inputGradient);
  return forEachPart(b, loc, out, 1, [&](Value n) {
    return shiftedConv(b, loc, samplesOf(b, loc, in, n), filters,
                       /*flipped=*/inputGradient, partOf(out), window, bias);
  });
}

/// Winograd F(m x m, 3x3) (Lavin and Gray, 2016): each m x m block of
/// outputs of a 3x3 stride-1 convolution from its alpha x alpha input tile
/// d (alpha = m + 2) with alpha^2 products per channel pair instead of 9
/// m^2,
///   y = A^T [ (G g G^T) (.) (B^T d B) ] A,
/// the elementwise product (.) summed over the input channels: for each of
/// the alpha^2 positions p of a transformed tile, a GEMM over the tiles,
///   M_p [T, M] = V_p [T, K] x U_p [K, M],
/// channels-last (the transforms then move whole vectors of channels).
/// B^T, A^T (and A, for the weight gradient's dy) are small matrices of
/// simple entries: their transforms are sums of one to five rows
/// (LinearSum), applied to the rows of a tile and then to its columns; G's
/// is a GEMM on the filters, once per step. F(2x2, 3x3) (16 products per 4
/// outputs) has entries 0 and +-1; F(4x4, 3x3) (36 per 16: 1.78x fewer)
/// entries up to 8 and float32 errors several times larger (a worst case
/// of 1.2e-5 for outputs of order 1 over 64 channels, against 1.4e-6;
/// within PyTorch parity), for forward passes and input gradients (see
/// convForm).
struct LinearSum {
  int64_t terms;
  int64_t index[6];
  float coef[6];
};
/// The rows of B^T (B^T d: on the rows of a 4x4 input tile).
constexpr LinearSum kWinograd2BT[4] = {{2, {0, 2}, {1, -1}},
                                       {2, {1, 2}, {1, 1}},
                                       {2, {2, 1}, {1, -1}},
                                       {2, {1, 3}, {1, -1}}};
/// The rows of A^T (A^T m: a 4x4 product tile to its 2x2 outputs).
constexpr LinearSum kWinograd2AT[2] = {{3, {0, 1, 2}, {1, 1, 1}},
                                       {3, {1, 2, 3}, {1, -1, -1}}};
/// The rows of A (A dy: a 2x2 output gradient to its 4x4 tile's).
constexpr LinearSum kWinograd2A[4] = {
    {1, {0}, {1}}, {2, {0, 1}, {1, 1}}, {2, {0, 1}, {1, -1}}, {1, {1}, {-1}}};
constexpr float kWinograd2G[4 * 3] = {1,   0,    0,   0.5, 0.5, 0.5,
                                      0.5, -0.5, 0.5, 0,   0,   1};
/// The same for F(4x4, 3x3): 6x6 input tiles, 4x4 outputs, from the points
/// 0, 1, -1, 2, -1/2 and infinity (Barabasz et al., 2020): the usual 0,
/// +-1, +-2 (B^T's entries up to 5, A^T's up to 8) gave errors twice as
/// large in float32 (a worst case of 2.3e-5 against 1.2e-5 for outputs of
/// order 1 summed over 64 channels; F(2x2, 3x3): 1.4e-6).
constexpr LinearSum kWinograd4BT[6] = {
    {5, {0, 1, 2, 3, 4}, {1, 1.5, -2, -1.5, 1}},
    {4, {1, 2, 3, 4}, {-1, -2.5, -0.5, 1}},
    {4, {1, 2, 3, 4}, {1, 0.5, -2.5, 1}},
    {4, {1, 2, 3, 4}, {-0.5, -1, 0.5, 1}},
    {4, {1, 2, 3, 4}, {2, -1, -2, 1}},
    {5, {1, 2, 3, 4, 5}, {1, 1.5, -2, -1.5, 1}}};
constexpr LinearSum kWinograd4AT[4] = {
    {5, {0, 1, 2, 3, 4}, {1, 1, 1, 1, 1}},
    {4, {1, 2, 3, 4}, {1, -1, 2, -0.5}},
    {4, {1, 2, 3, 4}, {1, 1, 4, 0.25}},
    {5, {1, 2, 3, 4, 5}, {1, -1, 8, -0.125, 1}}};
constexpr LinearSum kWinograd4A[6] = {
    {1, {0}, {1}},
    {4, {0, 1, 2, 3}, {1, 1, 1, 1}},
    {4, {0, 1, 2, 3}, {1, -1, 1, -1}},
    {4, {0, 1, 2, 3}, {1, 2, 4, 8}},
    {4, {0, 1, 2, 3}, {1, -0.5, 0.25, -0.125}},
    {1, {3}, {1}}};
constexpr float kWinograd4G[6 * 3] = {
    1,           0,         0,          -1.0f / 3, -1.0f / 3, -1.0f / 3,
    1.0f / 3,    -1.0f / 3, 1.0f / 3,   1.0f / 15, 2.0f / 15, 4.0f / 15,
    -16.0f / 15, 8.0f / 15, -4.0f / 15, 0,         0,         1};

/// One of the two forms: m outputs per tile side, alpha = m + 2 inputs, the
/// rows of B^T (alpha), A^T (m) and A (alpha), and G [alpha, 3].
struct WinogradForm {
  int64_t m, alpha;
  ArrayRef<LinearSum> bt, at, a;
  const float *g;
};
const WinogradForm kWinograd2 = {
    2, 4, kWinograd2BT, kWinograd2AT, kWinograd2A, kWinograd2G};
const WinogradForm kWinograd4 = {
    4, 6, kWinograd4BT, kWinograd4AT, kWinograd4A, kWinograd4G};

/// A view of a tensor of `t`'s element type at `offsets` of `sizes` with
/// `strides`, of type `shape` (sizes without the unit dimensions dropped).
WindowView viewOf(OpBuilder &b, RankedTensorType t, ArrayRef<int64_t> offsets,
                  ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> shape) {
  return {indices(b, offsets), indices(b, sizes), indices(b, strides),
          RankedTensorType::get(shape, t.getElementType())};
}

/// The tiles of winogradConv for an input [N, K, H, W] and output [N, M,
/// OH, OW]: TH x TW tiles of m x m outputs, read as the alpha x alpha
/// windows at stride m of the input padded to m TH + 2 rows and m TW + 2
/// columns.
struct WinogradLayout {
  const WinogradForm *form;
  int64_t th, tw, top, left, rows, cols;
  /// The positions of a transformed tile (alpha^2).
  int64_t positions() const { return form->alpha * form->alpha; }
};

WinogradLayout winogradLayout(RankedTensorType y, const Window &w,
                              const WinogradForm &f) {
  int64_t th = llvm::divideCeil(y.getDimSize(2), f.m),
          tw = llvm::divideCeil(y.getDimSize(3), f.m);
  return {&f, th, tw, w.top, w.left, f.m * th + 2, f.m * tw + 2};
}

/// The form of a convolution into `y` [N, M, OH, OW] (a forward pass, or
/// an input gradient as the convolution of dy): F(4x4, 3x3) where its
/// products are at most 3/4 of F(2x2, 3x3)'s (its transforms cost more per
/// tile; partial tiles waste more of its products: 5x5 outputs take as many
/// in both), else F(2x2, 3x3). Weight gradients keep F(2x2, 3x3)
/// (kWinograd2): with F(4x4, 3x3) dU is 36 [K, M] matrices instead of 16,
/// read and written per part of a few samples, and its float32 errors grew
/// tenfold. On one core, the wide CNN's forward pass ran 1.3-1.5x faster by
/// F(4x4, 3x3), its input gradient (13x13 outputs: 576 products per
/// channel pair against 784) 1.1-1.2x once the weight gradient's
/// transposes were gone (before, no faster: training took 0.978x the time
/// with F(4x4, 3x3) everywhere, 0.942x with it for the forward pass only).
const WinogradForm &convForm(RankedTensorType y) {
  auto products = [&](const WinogradForm &f) {
    return f.alpha * f.alpha * llvm::divideCeil(y.getDimSize(2), f.m) *
           llvm::divideCeil(y.getDimSize(3), f.m);
  };
  return 4 * products(kWinograd4) <= 3 * products(kWinograd2) ? kWinograd4
                                                              : kWinograd2;
}

/// How many samples winogradConv takes at a time for the stride-1 3x3
/// convolution of `x` [N, K, H, W] into `y` [N, M, OH, OW], 0 where it does
/// not apply: f32, at least 32 input and output channels, and each of a
/// part's buffers within kBodyBytes (for the form `f`). The
/// fewest samples whose g T tiles are whole register tiles of 8 rows, else
/// the most that fit (the most that fit, with or without whole tiles,
/// measured the same for the wide CNN's F(4x4, 3x3)). With the transforms
/// as transformLoop's loops, 32 channels train faster by Winograd:
/// resnet_mini's 32 -> 32 convolutions 1.3-1.4x the whole step, SPEC 2.3's
/// CNN and the plain CNN (32 -> 64) 1.2x (as linalg ops, the transforms
/// made resnet_mini 7% slower); they cost compile time (SPEC 2.3's CNN
/// ~0.5 s of CPU, resnet_mini ~0.9 s: more kernels, the channels-last
/// transposes above all). 16 channels (resnet_mini's inception block) gained
/// within the noise.
int64_t winogradPart(RankedTensorType x, RankedTensorType y, const Window &w,
                     bool bf16, const WinogradForm &f) {
  int64_t n = y.getDimSize(0), k = x.getDimSize(1), m = y.getDimSize(1);
  if (bf16 || w.kh != 3 || w.kw != 3 || w.sh != 1 || w.sw != 1 || w.top < 0 ||
      w.left < 0 || w.bottom < 0 || w.right < 0 || k < 32 || m < 32)
    return 0;
  WinogradLayout l = winogradLayout(y, w, f);
  int64_t tiles = l.th * l.tw, p = l.positions();
  int64_t most = 0;
  for (int64_t g = 1; 2 * g <= n; ++g) {
    if (n % g != 0)
      continue;
    if (std::max(
            {g * l.rows * l.cols * k, p * g * tiles * k, p * g * tiles * m}) *
            4 >
        kBodyBytes)
      break;
    if (g * tiles % 8 == 0)
      return g;
    most = g;
  }
  return most;
}

/// (G (x) G) [P, 9] for the form `f` (P = alpha^2 positions), (G (x)
/// G)[(p, q), (i, j)] = G[p][i] G[q][j], with `flipped` its columns
/// reversed (the filters rotated by 180 degrees).
Value ggMatrix(OpBuilder &b, Location loc, const WinogradForm &f,
               bool flipped) {
  int64_t positions = f.alpha * f.alpha;
  SmallVector<float> gg;
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t s = 0; s < 9; ++s) {
      int64_t q = flipped ? 8 - s : s;
      gg.push_back(f.g[p / f.alpha * 3 + q / 3] * f.g[p % f.alpha * 3 + q % 3]);
    }
  auto ggType = RankedTensorType::get({positions, 9}, b.getF32Type());
  return b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(ggType, ArrayRef<float>(gg)));
}

/// ggMatrix [P, 9] x `t` [9, a, b] as [P, a b].
Value timesGG(OpBuilder &b, Location loc, const WinogradForm &f, Value t,
              bool flipped) {
  RankedTensorType tt = tensorType(t);
  int64_t n = tt.getDimSize(1) * tt.getDimSize(2);
  Value flat = b.create<tensor::CollapseShapeOp>(
      loc, t, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  return gemm<linalg::MatmulOp>(
      b, loc, ggMatrix(b, loc, f, flipped), flat,
      filled(b, loc,
             RankedTensorType::get({f.alpha * f.alpha, n}, tt.getElementType()),
             0.0),
      false);
}

/// The filters `w` [F, C, 3, 3] transformed for the form `f`, U [P, C, F]
/// (or with `inputGradient` rotated by 180 degrees, [P, F, C], for the
/// input gradient as a convolution of dy: see Conv2dGradInputLowering; or
/// with `adjoint` U transposed, [P, F, C], for winogradAdjointGrad).
Value winogradFilters(OpBuilder &b, Location loc, const WinogradForm &f,
                      Value w, bool inputGradient, bool adjoint = false) {
  Value filters =
      offsetFilters(b, loc, w, /*transposed=*/!inputGradient && !adjoint);
  RankedTensorType ft = tensorType(filters);
  int64_t rows = ft.getDimSize(1), cols = ft.getDimSize(2);
  Type elt = ft.getElementType();
  Value u = timesGG(b, loc, f, filters, /*flipped=*/inputGradient);
  return b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get({f.alpha * f.alpha, rows, cols}, elt), u,
      SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

/// The samples `xs` [g, K, H, W] channels-last in a tensor of zeros [g,
/// rows, cols, K], at row `top` and column `left`.
Value channelsLastPadded(OpBuilder &b, Location loc, Value xs, int64_t rows,
                         int64_t cols, int64_t top, int64_t left) {
  RankedTensorType xt = tensorType(xs);
  int64_t g = xt.getDimSize(0), k = xt.getDimSize(1), h = xt.getDimSize(2),
          w = xt.getDimSize(3);
  auto type = RankedTensorType::get({g, rows, cols, k}, xt.getElementType());
  // Only the border is zeroed, the transposed input fills the rest: zeroing
  // all of it first wrote each part's buffer twice (resnet_mini's 4 x 30 x
  // 30 x 32 floats, 460 KB, in every forward and input-gradient part). The
  // border after the input: equal buffers of zeros would be one value
  // after CSE, and two inputs put into it, one of them into a copy.
  Value xh = emptyLike(b, loc, type);
  WindowView in = viewOf(b, type, {0, top, left, 0}, {g, h, w, k}, {1, 1, 1, 1},
                         {g, h, w, k});
  Value moved = b.create<linalg::TransposeOp>(loc, xs, extract(b, loc, xh, in),
                                              ArrayRef<int64_t>{0, 2, 3, 1})
                    ->getResult(0);
  xh = insert(b, loc, moved, xh, in);
  auto zero = [&](int64_t row, int64_t nrows, int64_t col, int64_t ncols) {
    if (nrows <= 0 || ncols <= 0)
      return;
    WindowView v = viewOf(b, type, {0, row, col, 0}, {g, nrows, ncols, k},
                          {1, 1, 1, 1}, {g, nrows, ncols, k});
    Value z =
        b.create<linalg::FillOp>(loc, f32(b, loc, 0.0), extract(b, loc, xh, v))
            .getResult(0);
    xh = insert(b, loc, z, xh, v);
  };
  zero(0, top, 0, cols);
  zero(top + h, rows - top - h, 0, cols);
  zero(top, h, 0, left);
  zero(top, h, left + w, cols - left - w);
  return xh;
}

/// The vector of type `vt` at `at` of the tensor `from` (whole: in bounds).
Value readVector(OpBuilder &b, Location loc, VectorType vt, Value from,
                 ArrayRef<Value> at) {
  return b.create<vector::TransferReadOp>(loc, vt, from, at,
                                          ArrayRef<bool>{true});
}

/// `into` with the vector `x` written at `at` (whole: in bounds).
Value writeVector(OpBuilder &b, Location loc, Value x, Value into,
                  ArrayRef<Value> at) {
  return b
      .create<vector::TransferWriteOp>(loc, x, into, at, ArrayRef<bool>{true})
      .getResult();
}

/// `row` applied to the values term(i) (i < the tile's side): sum over its
/// terms of coef * term(index), as adds and subtracts for the coefficients
/// +-1 and FMAs for the rest (starting from a +1 term where there is one).
Value linearSum(OpBuilder &b, Location loc, const LinearSum &row,
                function_ref<Value(int64_t)> term) {
  SmallVector<int64_t> order;
  for (int64_t t = 0; t < row.terms; ++t)
    order.push_back(t);
  auto first =
      llvm::find_if(order, [&](int64_t t) { return row.coef[t] == 1; });
  if (first != order.end())
    std::rotate(order.begin(), first, first + 1);
  Value r;
  for (int64_t t : order) {
    Value v = term(row.index[t]);
    float c = row.coef[t];
    auto splat = [&]() -> Value {
      return b.create<arith::ConstantOp>(
          loc,
          DenseElementsAttr::get(cast<ShapedType>(v.getType()),
                                 b.getFloatAttr(getElementTypeOrSelf(v), c)));
    };
    if (!r)
      r = c == 1    ? v
          : c == -1 ? b.create<arith::NegFOp>(loc, v).getResult()
                    : b.create<arith::MulFOp>(loc, splat(), v).getResult();
    else if (c == 1)
      r = b.create<arith::AddFOp>(loc, r, v);
    else if (c == -1)
      r = b.create<arith::SubFOp>(loc, r, v);
    else
      r = b.create<vector::FMAOp>(loc, splat(), v, r);
  }
  return r;
}

/// The side of the tiles that `rowsOf` transforms (the inputs its rows
/// combine).
int64_t tileSide(ArrayRef<LinearSum> rowsOf) {
  int64_t side = 0;
  for (const LinearSum &r : rowsOf)
    for (int64_t t = 0; t < r.terms; ++t)
      side = std::max(side, r.index[t] + 1);
  return side;
}

/// A loop over [0, n) whose body builds the next value of `init` from the
/// induction variable and the current one.
Value foldLoop(OpBuilder &b, Location loc, int64_t n, Value init,
               function_ref<Value(Value i, Value acc)> body) {
  auto loop = b.create<scf::ForOp>(loc, indexConstant(b, loc, 0),
                                   indexConstant(b, loc, n),
                                   indexConstant(b, loc, 1), ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  b.create<scf::YieldOp>(
      loc, body(loop.getInductionVar(), loop.getRegionIterArgs()[0]));
  return loop.getResult(0);
}

/// X = R d R^T for each tile d of s x s vectors of channels, R the n rows
/// `rowsOf`: a loop nest over `bounds` (g, TH, TW, then the channels, in
/// vectors of `lanes`) whose body reads d (`load` of (i, j) < s) column by
/// column, applies R to each (the n x s result in a scratch tensor of a few
/// KB), then R to the rows of that, row by row, and writes the n x n
/// vectors of X a row of n at a time (`storeRow`, into the loop's tensor
/// starting from `init`).
/// Each element of a tile is read once: as linalg ops, one per row of R and
/// stage, the transforms read each element as often as the rows use it
/// (4.3 times per stage for F(4x4, 3x3)'s B^T) and wrote the first stage's
/// result to memory (for 32 channels they took more time than the GEMMs
/// between them). A column or row at a time: the whole tile unrolled ran
/// no faster and took 2-3 times the compile time.
Value transformLoop(
    OpBuilder &b, Location loc, Value init, ArrayRef<int64_t> bounds,
    int64_t lanes, ArrayRef<LinearSum> rowsOf,
    function_ref<Value(ValueRange ivs, Value i, Value j, VectorType)> load,
    function_ref<Value(ValueRange ivs, Value a, ArrayRef<Value> row,
                       Value into)>
        storeRow) {
  auto idx = [&](int64_t v) { return indexConstant(b, loc, v); };
  SmallVector<Value> lbs(bounds.size(), idx(0)), ubs,
      steps(bounds.size(), idx(1));
  for (int64_t bound : bounds)
    ubs.push_back(idx(bound));
  steps.back() = idx(lanes);
  Type elt = tensorType(init).getElementType();
  auto vt = VectorType::get({lanes}, elt);
  int64_t side = tileSide(rowsOf), n = rowsOf.size();
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &, Location, ValueRange ivs,
          ValueRange acc) -> scf::ValueVector {
        // r[a][j] = sum over R's row a of d[i][j], by columns j.
        Value scratch = b.create<tensor::EmptyOp>(
            loc, ArrayRef<int64_t>{n, side, lanes}, elt);
        Value r = foldLoop(b, loc, side, scratch, [&](Value j, Value into) {
          SmallVector<Value> column;
          for (int64_t i = 0; i < side; ++i)
            column.push_back(load(ivs, idx(i), j, vt));
          for (int64_t a = 0; a < n; ++a) {
            Value x = linearSum(b, loc, rowsOf[a],
                                [&](int64_t i) { return column[i]; });
            into = writeVector(b, loc, x, into, {idx(a), j, idx(0)});
          }
          return into;
        });
        // X[a][c] = sum over R's row c of r[a][j], by rows a.
        return {foldLoop(b, loc, n, acc[0], [&](Value a, Value into) {
          SmallVector<Value> row;
          for (int64_t j = 0; j < side; ++j) {
            row.push_back(readVector(b, loc, vt, r, {a, idx(j), idx(0)}));
          }
          SmallVector<Value> x;
          for (int64_t c = 0; c < n; ++c)
            x.push_back(linearSum(b, loc, rowsOf[c],
                                  [&](int64_t j) { return row[j]; }));
          return storeRow(ivs, a, x, into);
        })};
      });
  return nest.results[0];
}

/// The channels of a vector in transformLoop: up to 16 (a 512-bit register
/// of f32), dividing `k`.
int64_t transformLanes(int64_t k) { return std::gcd<int64_t>(k, 16); }

/// i a + c (indices).
Value timesPlus(OpBuilder &b, Location loc, Value i, int64_t a, Value c) {
  return b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, i, indexConstant(b, loc, a)), c);
}

/// The row of tile (ty, tx) of sample s, (s TH + ty) TW + tx, from
/// transformLoop's induction variables (s, ty, tx, ...).
Value tileIndex(OpBuilder &b, Location loc, ValueRange ivs, int64_t th,
                int64_t tw) {
  return timesPlus(b, loc, timesPlus(b, loc, ivs[0], th, ivs[1]), tw, ivs[2]);
}

/// The tiles of the channels-last `xh` [g, rows, cols, K] transformed on
/// both sides by the matrix `rowsOf` of n rows (each a linear combination
/// of a tile's rows; tile (ty, tx) starts at row `stride` ty and column
/// `stride` tx) into [n^2, g TH TW, K] (position n a + c), by
/// transformLoop.
Value transformTiles(OpBuilder &b, Location loc, Value xh,
                     ArrayRef<LinearSum> rowsOf, int64_t stride, int64_t th,
                     int64_t tw) {
  RankedTensorType xt = tensorType(xh);
  int64_t g = xt.getDimSize(0), k = xt.getDimSize(3), n = rowsOf.size();
  auto type =
      RankedTensorType::get({n * n, g * th * tw, k}, xt.getElementType());
  auto offset = [&](Value tile, Value i) {
    return timesPlus(b, loc, tile, stride, i);
  };
  return transformLoop(
      b, loc, emptyLike(b, loc, type), {g, th, tw, k}, transformLanes(k),
      rowsOf,
      [&](ValueRange ivs, Value i, Value j, VectorType vt) -> Value {
        return readVector(
            b, loc, vt, xh,
            {ivs[0], offset(ivs[1], i), offset(ivs[2], j), ivs[3]});
      },
      [&](ValueRange ivs, Value a, ArrayRef<Value> row, Value into) -> Value {
        Value tile = tileIndex(b, loc, ivs, th, tw);
        for (auto [c, x] : llvm::enumerate(row))
          into = writeVector(b, loc, x, into,
                             {timesPlus(b, loc, a, n, indexConstant(b, loc, c)),
                              tile, ivs[3]});
        return into;
      });
}

/// The input tiles of the samples `xs` [g, K, H, W] for a convolution into
/// `y` [g, M, OH, OW] by the form `f`, transformed: V = (B^T (x) B^T) d as
/// [P, g T, K].
Value winogradInput(OpBuilder &b, Location loc, Value xs, RankedTensorType y,
                    const Window &w, const WinogradForm &f) {
  WinogradLayout l = winogradLayout(y, w, f);
  Value xh = channelsLastPadded(b, loc, xs, l.rows, l.cols, l.top, l.left);
  return transformTiles(b, loc, xh, f.bt, f.m, l.th, l.tw);
}

/// The n vectors of `row` (n a power of 2) of L lanes as L vectors of n,
/// the i-th of lane i of each: shuffles, concatenating the row and then
/// picking n lanes at a stride of L.
SmallVector<Value> transposeRow(OpBuilder &b, Location loc,
                                ArrayRef<Value> row) {
  int64_t n = row.size(),
          lanes = cast<VectorType>(row[0].getType()).getDimSize(0);
  assert(llvm::isPowerOf2_64(n) && "rows of 2 or 4 outputs");
  SmallVector<Value> parts(row);
  while (parts.size() > 1) {
    SmallVector<Value> joined;
    for (size_t i = 0; i < parts.size(); i += 2) {
      int64_t len = cast<VectorType>(parts[i].getType()).getDimSize(0);
      joined.push_back(b.create<vector::ShuffleOp>(
          loc, parts[i], parts[i + 1],
          llvm::to_vector(llvm::seq<int64_t>(0, 2 * len))));
    }
    parts = std::move(joined);
  }
  SmallVector<int64_t> mask;
  for (int64_t c = 0; c < lanes; ++c)
    for (int64_t j = 0; j < n; ++j)
      mask.push_back(j * lanes + c);
  Value all = b.create<vector::ShuffleOp>(loc, parts[0], parts[0], mask);
  SmallVector<Value> lanesOf;
  for (int64_t c = 0; c < lanes; ++c)
    lanesOf.push_back(b.create<vector::ShuffleOp>(
        loc, all, all, llvm::to_vector(llvm::seq<int64_t>(c * n, c * n + n))));
  return lanesOf;
}

/// The stride-1 3x3 convolution of the samples `xs` [g, K, H, W] into `y`
/// [g, M, OH, OW] by the transformed filters `u` [P, K, M]
/// (winogradFilters), channels-last and without the bias: Y [g, m TH, m TW,
/// M], whose first OH x OW are y's; or with `nchw` (where the tiles cover
/// y exactly) y itself, plus `bias[m]` when given. The input goes
/// channels-last and padded, xh [g, m TH + 2, m TW + 2, K]; B^T d B for each
/// tile, V [P, g T, K] (winogradInput); the P GEMMs as one batch matmul, Mt
/// [P, g T, M]; A^T Mt A for each tile into its m x m outputs
/// (transformLoop), for NCHW each output row of a vector of channels
/// transposed in registers (transposeRow) and written as a row of m values
/// per channel. By the form `f` (that of `u`). With `paddedInput`, `xs` is
/// xh already.
Value winogradTiles(OpBuilder &b, Location loc, Value xs, Value u,
                    RankedTensorType y, const Window &w, const WinogradForm &f,
                    bool nchw = false, Value bias = Value(),
                    bool paddedInput = false) {
  WinogradLayout l = winogradLayout(y, w, f);
  int64_t g = y.getDimSize(0), m = y.getDimSize(1), th = l.th, tw = l.tw,
          t = g * th * tw, alpha = f.alpha, lanes = transformLanes(m);
  Type elt = y.getElementType();
  auto type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elt);
  };
  Value v = paddedInput ? transformTiles(b, loc, xs, f.bt, f.m, th, tw)
                        : winogradInput(b, loc, xs, y, w, f);
  Value mt = gemm<linalg::BatchMatmulOp>(
      b, loc, v, u, filled(b, loc, type({l.positions(), t, m}), 0.0), false);
  // Y[:, m ty + i, m tx + j] = (A^T Mt A)[i][j] of the tile (ty, tx), Mt's
  // positions alpha a + c read at its row (of Mt [P, g T, M]). Written at
  // its place in Y, not in a [g, TH, m, TW, m, M] tensor collapsed after:
  // where no crop followed, elementwise fusion carried that expansion into
  // the NCHW transpose, whose result then went through a copy.
  auto offset = [&](Value tile, Value i) {
    return timesPlus(b, loc, tile, f.m, i);
  };
  return transformLoop(
      b, loc, emptyLike(b, loc, nchw ? y : type({g, f.m * th, f.m * tw, m})),
      {g, th, tw, m}, lanes, f.at,
      [&](ValueRange ivs, Value a, Value c, VectorType vt) -> Value {
        return readVector(b, loc, vt, mt,
                          {timesPlus(b, loc, a, alpha, c),
                           tileIndex(b, loc, ivs, th, tw), ivs[3]});
      },
      [&](ValueRange ivs, Value i, ArrayRef<Value> row, Value into) -> Value {
        if (!nchw) {
          for (auto [j, x] : llvm::enumerate(row))
            into =
                writeVector(b, loc, x, into,
                            {ivs[0], offset(ivs[1], i),
                             offset(ivs[2], indexConstant(b, loc, j)), ivs[3]});
          return into;
        }
        SmallVector<Value> biased(row);
        if (bias) {
          Value bv = readVector(b, loc, cast<VectorType>(row[0].getType()),
                                bias, {ivs[3]});
          for (Value &x : biased)
            x = b.create<arith::AddFOp>(loc, x, bv);
        }
        Value r = offset(ivs[1], i),
              col = offset(ivs[2], indexConstant(b, loc, 0));
        for (auto [c, x] : llvm::enumerate(transposeRow(b, loc, biased)))
          into = writeVector(
              b, loc, x, into,
              {ivs[0],
               b.create<arith::AddIOp>(loc, ivs[3], indexConstant(b, loc, c)),
               r, col});
        return into;
      });
}

/// The [g, OH, OW, M] window at row `top` and column `left` of the
/// channels-last `yh` [g, >= top + OH, >= left + OW, M] as `y` [g, M, OH,
/// OW], plus `bias[m]` when given.
Value channelsLastCropToNCHW(OpBuilder &b, Location loc, Value yh, int64_t top,
                             int64_t left, RankedTensorType y, Value bias) {
  int64_t g = y.getDimSize(0), m = y.getDimSize(1), oh = y.getDimSize(2),
          ow = y.getDimSize(3);
  auto type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, y.getElementType());
  };
  // Cropped into a tensor of its own: the transpose below then reads
  // contiguous rows (see nn-tile-and-vectorize's collapseTransposedRun),
  // not a strided view (gathers).
  yh = b.create<linalg::CopyOp>(
            loc,
            extract(b, loc, yh,
                    viewOf(b, tensorType(yh), {0, top, left, 0}, {g, oh, ow, m},
                           {1, 1, 1, 1}, {g, oh, ow, m})),
            emptyLike(b, loc, type({g, oh, ow, m})))
           ->getResult(0);
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  SmallVector<Value> ins{yh};
  SmallVector<AffineMap> maps{AffineMap::get(4, 0, {d0, d2, d3, d1}, ctx)};
  if (bias) {
    ins.push_back(bias);
    maps.push_back(AffineMap::get(4, 0, d1));
  }
  return generic(b, loc, ins, maps, emptyLike(b, loc, y),
                 [&](OpBuilder &nb, Location nl, ValueRange a) {
                   Value r = a[0];
                   if (bias)
                     r = nb.create<arith::AddFOp>(nl, r, a[1]);
                   return SmallVector<Value>{r};
                 })[0];
}

/// The convolution of winogradTiles for `y` [g, M, OH, OW], plus `bias[m]`
/// when given: written in NCHW by its output transform where the tiles
/// cover y exactly (resnet_mini's 28x28 outputs by F(4x4, 3x3); the
/// channels-last result's transpose took a quarter of its forward kernel,
/// as gathers of pairs of floats), else its Y's first OH x OW transposed to
/// NCHW. With `paddedInput`, `xs` is the input channels-last and padded
/// (see winogradTiles).
Value winogradConv(OpBuilder &b, Location loc, Value xs, Value u, Value bias,
                   RankedTensorType y, const Window &w, const WinogradForm &f,
                   bool paddedInput = false) {
  WinogradLayout l = winogradLayout(y, w, f);
  if (y.getDimSize(2) == f.m * l.th && y.getDimSize(3) == f.m * l.tw)
    return winogradTiles(b, loc, xs, u, y, w, f, /*nchw=*/true, bias,
                         paddedInput);
  Value yh = winogradTiles(b, loc, xs, u, y, w, f, /*nchw=*/false, Value(),
                           paddedInput);
  return channelsLastCropToNCHW(b, loc, yh, 0, 0, y, bias);
}

/// The input gradient `out` [N, C, H, W] of a convolution by `w` [F, C, 3,
/// 3] as the stride-1 convolution of dy `in` [N, F, OH, OW] (padded by
/// `window`, see Conv2dGradInputLowering) with the filters rotated and
/// transposed, by winogradConv in the form `f` (convForm(out)) in parts of
/// `part` samples (in parallel).
Value winogradInputGrad(OpBuilder &b, Location loc, Value in, Value w,
                        RankedTensorType out, const Window &window,
                        const WinogradForm &f, int64_t part) {
  Value u = winogradFilters(b, loc, f, w, /*inputGradient=*/true);
  return forEachPart(b, loc, out, part, [&](Value n) {
    return winogradConv(b, loc, samplesOf(b, loc, in, n, part), u, Value(),
                        partOf(out, part), window, f);
  });
}

/// The rows of R^T for the matrix R of rows `rows` (side n): R^T's row i
/// is R's column i.
SmallVector<LinearSum> transposedRows(ArrayRef<LinearSum> rows) {
  SmallVector<LinearSum> t(tileSide(rows), LinearSum{0, {}, {}});
  for (auto [r, row] : llvm::enumerate(rows))
    for (int64_t k = 0; k < row.terms; ++k) {
      LinearSum &col = t[row.index[k]];
      assert(col.terms < 6 && "a column of at most 6 entries");
      col.index[col.terms] = r;
      col.coef[col.terms++] = row.coef[k];
    }
  return t;
}

/// The input gradient `dx` [g, K, H, W] of the stride-1 3x3 convolution by
/// the window `w` of x into dy `dys` [g, M, OH, OW], as the gradient of its
/// Winograd form `f` (the forward pass's tiles, see winogradTiles): for
/// each tile, dZ = A dY A^T of its m x m outputs' gradient (zeros past OH
/// and OW), the P GEMMs dV_p [g T, K] = dZ_p [g T, M] x U_p^T (`ut` [P, M,
/// K], winogradFilters' adjoint), and dD = B dV B^T, its alpha x alpha
/// input tile's gradient, added into the padded input's gradient, whose
/// window at (top, left) is dx. Where the input gradient as a convolution
/// of dy has more tiles than the forward pass (valid convolutions: the
/// wide CNN's 13x13 dx from 11x11 dy by F(4x4, 3x3), 16 tiles against
/// 9), this does the forward pass's products (324 per channel pair and
/// sample against 576); the output transform's tiles overlap (alpha
/// inputs at a stride of m), so that it adds into dx instead of writing it.
/// Training on one core, old and new programs interleaved: the CNN of
/// 128/256 channels 1.15x as fast (707 -> 812 samples/s), of 64/128 1.13x,
/// the plain CNN (32/64) 1.09x; float32 errors against PyTorch below the
/// convolution of dy's (conv_parity.py's 11x11 case: 2.8e-7 against 4.5e-7).
Value winogradAdjointTiles(OpBuilder &b, Location loc, Value dys, Value ut,
                           RankedTensorType dx, const Window &w,
                           const WinogradForm &f) {
  RankedTensorType dy = tensorType(dys);
  WinogradLayout l = winogradLayout(dy, w, f);
  int64_t g = dy.getDimSize(0), k = dx.getDimSize(1), th = l.th, tw = l.tw,
          alpha = f.alpha;
  Type elt = dy.getElementType();
  auto type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elt);
  };
  Value dyh = channelsLastPadded(b, loc, dys, f.m * th, f.m * tw, 0, 0);
  Value dz = transformTiles(b, loc, dyh, f.a, f.m, th, tw);
  Value dv = gemm<linalg::BatchMatmulOp>(
      b, loc, dz, ut,
      filled(b, loc, type({l.positions(), g * th * tw, k}), 0.0), false);
  SmallVector<LinearSum> rowsB = transposedRows(f.bt);
  auto offset = [&](Value tile, Value i) {
    return timesPlus(b, loc, tile, f.m, i);
  };
  Value dxh = transformLoop(
      b, loc, filled(b, loc, type({g, l.rows, l.cols, k}), 0.0), {g, th, tw, k},
      transformLanes(k), rowsB,
      [&](ValueRange ivs, Value i, Value j, VectorType vt) -> Value {
        return readVector(b, loc, vt, dv,
                          {timesPlus(b, loc, i, alpha, j),
                           tileIndex(b, loc, ivs, th, tw), ivs[3]});
      },
      [&](ValueRange ivs, Value a, ArrayRef<Value> row, Value into) -> Value {
        for (auto [c, x] : llvm::enumerate(row)) {
          SmallVector<Value> at = {ivs[0], offset(ivs[1], a),
                                   offset(ivs[2], indexConstant(b, loc, c)),
                                   ivs[3]};
          Value sum = b.create<arith::AddFOp>(
              loc, readVector(b, loc, cast<VectorType>(x.getType()), into, at),
              x);
          into = writeVector(b, loc, sum, into, at);
        }
        return into;
      });
  return channelsLastCropToNCHW(b, loc, dxh, l.top, l.left, dx, Value());
}

/// The input gradient `out` [N, C, H, W] of the convolution by `w` [F, C,
/// 3, 3] with window `window` by winogradAdjointTiles in the form `f` (the
/// forward pass's, convForm(dy)) in parts of `part` samples (in parallel).
Value winogradAdjointGrad(OpBuilder &b, Location loc, Value dyIn, Value w,
                          RankedTensorType out, const Window &window,
                          const WinogradForm &f, int64_t part) {
  Value ut = winogradFilters(b, loc, f, w, /*inputGradient=*/false,
                             /*adjoint=*/true);
  return forEachPart(b, loc, out, part, [&](Value n) {
    return winogradAdjointTiles(b, loc, samplesOf(b, loc, dyIn, n, part), ut,
                                partOf(out, part), window, f);
  });
}

/// Whether the input gradient of the convolution of `x` into `y` by the
/// window `w` takes fewer products by winogradAdjointGrad (the forward
/// pass's form `forward` and tiles) than as the convolution of dy (the
/// window `full`) in the form `f`.
bool adjointIsCheaper(RankedTensorType x, RankedTensorType y, const Window &w,
                      const WinogradForm &forwardForm, const Window &full,
                      const WinogradForm &f) {
  WinogradLayout forward = winogradLayout(y, w, forwardForm),
                 asConv = winogradLayout(x, full, f);
  return forward.th * forward.tw * forward.positions() <
         asConv.th * asConv.tw * asConv.positions();
}

/// The convolution patterns: `bySample` says whether they may go sample by
/// sample, or a few samples at a time (not for GPUs, which want the whole
/// batch's GEMM).
template <typename Op> struct ConvPattern : OpConversionPattern<Op> {
  ConvPattern(MLIRContext *ctx, bool bySample)
      : OpConversionPattern<Op>(ctx), bySampleAllowed(bySample) {}
  /// samplesPerPart, or 0 where parts are not allowed.
  int64_t partSize(RankedTensorType x, RankedTensorType y, const Window &w,
                   bool wholeVectors = true) const {
    return bySampleAllowed ? samplesPerPart(x, y, w, wholeVectors) : 0;
  }
  bool bySampleAllowed;
};

/// y^T [F, N OH OW] = W x im2col(pad(x)) then transposed to NCHW with the
/// bias added (of a whole batch, or of the N samples of one part).
Value convGemm(OpBuilder &b, Location loc, Value x, Value wm, Value bias,
               RankedTensorType y, const Window &w, bool bf16) {
  Value col = im2col(b, loc, pad(b, loc, x, w, 0.0), y, w);
  int64_t n = y.getDimSize(0), f = y.getDimSize(1), oh = y.getDimSize(2),
          ow = y.getDimSize(3);
  auto zType = RankedTensorType::get({f, n * oh * ow}, y.getElementType());
  Value z =
      gemm<linalg::MatmulOp>(b, loc, wm, col, filled(b, loc, zType, 0.0), bf16);
  return gemmResultToNCHW(b, loc, z, y, bias);
}

/// The GEMM `lhs` x `rhs` (MatmulOp's form) of one sample's [A, H W] result
/// built in `into` ([A, H, W], the sample's part of the loop's output): it
/// accumulates there (from zero, in registers) instead of in a result of its
/// own copied in afterwards.
template <typename MatmulOp>
Value gemmInto(OpBuilder &b, Location loc, Value lhs, Value rhs, Value into,
               bool bf16) {
  SmallVector<ReassociationIndices> planes{{0}, {1, 2}};
  Value z = b.create<tensor::CollapseShapeOp>(loc, into, planes);
  z = b.create<linalg::FillOp>(loc, f32(b, loc, 0.0), z)->getResult(0);
  z = gemm<MatmulOp>(b, loc, lhs, rhs, z, bf16);
  return b.create<tensor::ExpandShapeOp>(loc, tensorType(into), z, planes);
}

/// convGemm of one sample `xs` built in `into` ([F, OH, OW], the sample's
/// part of the output; gemmInto), the bias added there.
Value convGemmInto(OpBuilder &b, Location loc, Value xs, Value wm, Value bias,
                   RankedTensorType y, const Window &w, bool bf16, Value into) {
  Value col = im2col(b, loc, pad(b, loc, xs, w, 0.0), y, w);
  Value out = gemmInto<linalg::MatmulOp>(b, loc, wm, col, into, bf16);
  if (!bias)
    return out;
  AffineMap channel = AffineMap::get(3, 0, b.getAffineDimExpr(0));
  return generic(
      b, loc, bias, channel, out, [](OpBuilder &nb, Location l, ValueRange a) {
        return SmallVector<Value>{nb.create<arith::AddFOp>(l, a[1], a[0])};
      })[0];
}

/// How a forward convolution of `x` into `y` goes where its samples may go
/// a few at a time (see ConvPattern): by Winograd in parts (winogradPart),
/// as shifted GEMMs sample by sample (shiftable), by im2col + one GEMM in
/// parts (samplesPerPart), or by the whole batch's GEMM.
struct ConvPlan {
  enum Kind { Whole, Parts, Winograd, Shifted } kind;
  int64_t size;                       ///< samples per part
  const WinogradForm *form = nullptr; ///< with Winograd
};

ConvPlan convPlan(RankedTensorType x, RankedTensorType y, const Window &w,
                  bool bf16) {
  const WinogradForm &f = convForm(y);
  if (int64_t g = winogradPart(x, y, w, bf16, f))
    return {ConvPlan::Winograd, g, &f};
  if (shiftable(x, y, w, bf16))
    return {ConvPlan::Shifted, 1};
  int64_t g = samplesPerPart(x, y, w, /*wholeVectors=*/true);
  return {g != 0 ? ConvPlan::Parts : ConvPlan::Whole, g};
}

/// The filters `w` as a plan's GEMMs take them: transformed for Winograd,
/// else the matrix [F, C kh kw].
Value planFilters(OpBuilder &b, Location loc, Value w, const ConvPlan &plan) {
  return plan.kind == ConvPlan::Winograd
             ? winogradFilters(b, loc, *plan.form, w, /*inputGradient=*/false)
             : filterMatrix(b, loc, w);
}

/// The convolution of the samples `xs` (a part, or with ConvPlan::Whole the
/// batch) into `y` by `filters` (planFilters) plus `bias` when given.
Value convByPlan(OpBuilder &b, Location loc, Value xs, Value filters,
                 Value bias, RankedTensorType y, const Window &w,
                 const ConvPlan &plan, bool bf16) {
  return plan.kind == ConvPlan::Winograd
             ? winogradConv(b, loc, xs, filters, bias, y, w, *plan.form)
             : convGemm(b, loc, xs, filters, bias, y, w, bf16);
}

/// conv2d: y^T = W x im2col(xpad) as one linalg.matmul, then y^T
/// [F, N, OH, OW] transposed to NCHW with the bias added. Small samples go
/// one or a few at a time (samplesPerPart, parts in parallel): each part's
/// padded input, im2col matrix and GEMM result then stay in the core's
/// caches, where the whole batch's im2col matrix (C kh kw times the input)
/// would stream through memory. Wide 3x3 convolutions go by Winograd, and
/// some stride-1 ones as shifted GEMMs (convPlan).
struct Conv2dLowering : ConvPattern<nn::Conv2dOp> {
  using ConvPattern::ConvPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType y = tensorType(op.getResult());
    Window w = convWindow(op.getWeight(), op.getStride(), op.getPadding());
    Value x = adaptor.getInput(), bias = adaptor.getBias();
    bool bf16 = bf16Products(op);
    ConvPlan plan = bySampleAllowed ? convPlan(tensorType(x), y, w, bf16)
                                    : ConvPlan{ConvPlan::Whole, 0};
    if (plan.kind == ConvPlan::Shifted) {
      rewriter.replaceOp(op, shiftedConvBySample(rewriter, loc, x,
                                                 adaptor.getWeight(), bias, y,
                                                 w, /*inputGradient=*/false));
      return success();
    }
    Value filters = planFilters(rewriter, loc, adaptor.getWeight(), plan);
    if (plan.kind == ConvPlan::Whole) {
      rewriter.replaceOp(
          op, convByPlan(rewriter, loc, x, filters, bias, y, w, plan, bf16));
      return success();
    }
    if (plan.kind == ConvPlan::Parts && plan.size == 1) {
      rewriter.replaceOp(
          op, forEachPart(rewriter, loc, {y}, 1,
                          [&](Value n, function_ref<Value(unsigned)> into) {
                            Value part = into(0);
                            return SmallVector<Value>{convGemmInto(
                                rewriter, loc, samplesOf(rewriter, loc, x, n),
                                filters, bias, partOf(y), w, bf16, part)};
                          }));
      return success();
    }
    rewriter.replaceOp(
        op, forEachPart(rewriter, loc, y, plan.size, [&](Value n) {
          return convByPlan(rewriter, loc,
                            samplesOf(rewriter, loc, x, n, plan.size), filters,
                            bias, partOf(y, plan.size), w, plan, bf16);
        }));
    return success();
  }
};

/// dy [N, F, OH, OW] as the channels-last matrix [N OH OW, F], or with a
/// `rowWidth` > OW as [N OH rowWidth, F], whose last rowWidth - OW rows of
/// each image row are zero (shiftedWeightGrad's).
Value channelsLastGrad(OpBuilder &b, Location loc, Value dyIn,
                       int64_t rowWidth = 0) {
  RankedTensorType dy = tensorType(dyIn);
  int64_t n = dy.getDimSize(0), f = dy.getDimSize(1), oh = dy.getDimSize(2),
          ow = dy.getDimSize(3);
  Type elt = dy.getElementType();
  auto nhwc = RankedTensorType::get({n, oh, ow, f}, elt);
  auto transposeInto = [&](Value init) {
    return b
        .create<linalg::TransposeOp>(loc, dyIn, init,
                                     ArrayRef<int64_t>{0, 2, 3, 1})
        ->getResult(0);
  };
  Value dyN;
  if (rowWidth == 0 || rowWidth == ow) {
    dyN = transposeInto(emptyLike(b, loc, nhwc));
  } else {
    // The pixels transposed into their place, then zeros in the gaps only
    // (not a fill of the whole batch's gradient first).
    auto view = [&](int64_t first, int64_t width) {
      return WindowView{indices(b, {0, 0, first, 0}),
                        indices(b, {n, oh, width, f}), indices(b, {1, 1, 1, 1}),
                        RankedTensorType::get({n, oh, width, f}, elt)};
    };
    dyN = emptyLike(b, loc, RankedTensorType::get({n, oh, rowWidth, f}, elt));
    WindowView pixels = view(0, ow), gap = view(ow, rowWidth - ow);
    dyN = insert(b, loc, transposeInto(extract(b, loc, dyN, pixels)), dyN,
                 pixels);
    Value zeros = b.create<linalg::FillOp>(loc, f32(b, loc, 0.0),
                                           extract(b, loc, dyN, gap))
                      ->getResult(0);
    dyN = insert(b, loc, zeros, dyN, gap);
  }
  return b.create<tensor::CollapseShapeOp>(
      loc, dyN, SmallVector<ReassociationIndices>{{0, 1, 2}, {3}});
}

/// The most groups g in [2, most] into which `n` splits evenly with
/// `fits(n / g)`; 0 when none does.
int64_t mostGroups(int64_t n, int64_t most,
                   function_ref<bool(int64_t perGroup)> fits) {
  for (int64_t g = std::min(most, n); g >= 2; --g)
    if (n % g == 0 && fits(n / g))
      return g;
  return 0;
}

/// The channel groups of a weight gradient computed sample by sample: the
/// most groups up to 8 (parallel iterations) into which the C input
/// channels split with whole register tiles of 8 rows of dW^T per group
/// (C / groups kh kw rows); 1 when none does.
int64_t channelGroups(int64_t c, const Window &w) {
  int64_t g =
      mostGroups(c, 8, [&](int64_t cg) { return cg * w.kh * w.kw % 8 == 0; });
  return g != 0 ? g : 1;
}

/// dW [F, C, kh, kw] from dW^T [C kh kw, F]: dW[f, c, i, j] = dW^T[(c kh +
/// i) kw + j, f], read through an affine map, not a transpose +
/// expand_shape, which linalg-fuse-elementwise-ops would propagate into the
/// matmul (a contraction it no longer tiles).
Value weightsFromTransposed(OpBuilder &b, Location loc, Value dwT,
                            RankedTensorType dwType, const Window &w) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  AffineMap read =
      AffineMap::get(4, 0, {(d1 * w.kh + d2) * w.kw + d3, d0}, ctx);
  return generic(b, loc, dwT, read, emptyLike(b, loc, dwType), copyElement)[0];
}

/// `v` [d0, ...] as [1, d0, ...] (a group's result of forEachPart).
Value withLeadingUnit(OpBuilder &b, Location loc, Value v) {
  RankedTensorType t = tensorType(v);
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, t.getShape());
  SmallVector<ReassociationIndices> dims = {{0, 1}};
  for (int64_t d = 2; d <= t.getRank(); ++d)
    dims.push_back({d});
  return b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(shape, t.getElementType()), v, dims);
}

/// The parts of a weight gradient computed in parallel (by groups of input
/// channels or of filters), each going through the n samples in order:
/// `step(first, sample, acc)` adds the sample's products for the part
/// whose first channel or filter is `first` (part x `stride`) into the
/// part's accumulator `acc` (of `partType`, from zero) and returns it.
/// Returns the parts as [parts, partType...].
Value accumulateBySample(
    OpBuilder &b, Location loc, int64_t parts, int64_t stride, int64_t n,
    RankedTensorType partType,
    function_ref<Value(Value first, Value sample, Value acc)> step) {
  SmallVector<int64_t> shape = {parts};
  llvm::append_range(shape, partType.getShape());
  Type elt = partType.getElementType();
  return forEachPart(
      b, loc, RankedTensorType::get(shape, elt), 1, [&](Value part) -> Value {
        auto idx = [&](int64_t v) { return indexConstant(b, loc, v); };
        Value first = b.create<arith::MulIOp>(loc, part, idx(stride));
        auto loop =
            b.create<scf::ForOp>(loc, idx(0), idx(n), idx(1),
                                 ValueRange{filled(b, loc, partType, 0.0)});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        b.create<scf::YieldOp>(loc, step(first, loop.getInductionVar(),
                                         loop.getRegionIterArgs()[0]));
        b.setInsertionPointAfter(loop);
        return withLeadingUnit(b, loc, loop.getResult(0));
      });
}

/// accumulateBySample of dW^T's [kp, fp] blocks (`partType`): `operands(
/// first, sample)` gives the sample's im2col rows [kp, P] and gradient rows
/// [P, fp] for the part, whose product is added. Returns [parts, kp, fp].
Value partsBySample(
    OpBuilder &b, Location loc, int64_t parts, int64_t stride, int64_t n,
    RankedTensorType partType, bool bf16,
    function_ref<std::pair<Value, Value>(Value first, Value sample)> operands) {
  return accumulateBySample(b, loc, parts, stride, n, partType,
                            [&](Value first, Value sample, Value acc) {
                              auto [col, rows] = operands(first, sample);
                              return gemm<linalg::MatmulOp>(b, loc, col, rows,
                                                            acc, bf16);
                            });
}

/// The filter groups of a weight gradient whose input channels do not
/// split into groups (channelGroups: one input channel, the first layer of
/// an image model) computed in parallel: groups of 16 filters (a vector of
/// dW^T's columns), at least two; 0 where the filters are not that many.
int64_t filterGroups(int64_t f, int64_t vectorWidth = 16) {
  return f % vectorWidth == 0 && f >= 2 * vectorWidth ? f / vectorWidth : 0;
}

/// conv2d_grad_weight by groups of filters (see filterGroups): each group,
/// in parallel, goes through the samples in order, computing each one's
/// padded input, im2col matrix [C kh kw, OH OW] and its group's gradient
/// channels-last [OH OW, 16] in cache, and accumulates their product into
/// its columns of dW^T [C kh kw, F]. Every element of dW is the same sum in
/// the same order as the whole batch's GEMM (bit-identical, on any number
/// of threads), without the whole batch's im2col matrix and NHWC gradient
/// (5.5 MB for the first layer of SPEC 2.3's CNN) and the serial copies
/// that built them; each group builds the im2col matrix (of one channel)
/// again.
Value weightGradByFilterGroups(OpBuilder &b, Location loc, Value x, Value dyIn,
                               RankedTensorType dwType, const Window &w,
                               int64_t groups, bool bf16) {
  RankedTensorType dy = tensorType(dyIn);
  int64_t n = dy.getDimSize(0), f = dy.getDimSize(1),
          k = dwType.getNumElements() / f, fg = f / groups;
  Type elt = dy.getElementType();
  Value parts = partsBySample(
      b, loc, groups, fg, n, RankedTensorType::get({k, fg}, elt), bf16,
      [&](Value firstFilter, Value s) -> std::pair<Value, Value> {
        Value col = im2col(b, loc, pad(b, loc, samplesOf(b, loc, x, s), w, 0.0),
                           partOf(dy), w);
        return {col, channelsLastGrad(
                         b, loc, channelsOf(b, loc, dyIn, s, firstFilter, fg))};
      });
  // dW^T [C kh kw, F] from the groups' columns [groups, C kh kw, 16].
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2;
  bindDims(ctx, d0, d1, d2);
  Value dwT =
      generic(b, loc, parts, AffineMap::get(3, 0, {d1, d0, d2}, ctx),
              emptyLike(b, loc, RankedTensorType::get({k, groups, fg}, elt)),
              copyElement)[0];
  dwT = b.create<tensor::CollapseShapeOp>(
      loc, dwT, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  return weightsFromTransposed(b, loc, dwT, dwType, w);
}

/// The groups of input channels of shiftedWeightGrad computed in parallel:
/// the most, 2 to 8, with whole register tiles of 8 rows of dW_s^T each;
/// 0 when none.
int64_t shiftedChannelGroups(int64_t c) {
  return mostGroups(c, 8, [](int64_t cg) { return cg % 8 == 0; });
}

/// conv2d_grad_weight of a convolution that shiftable takes, without
/// im2col: with each sample's input padded and flattened as in shiftedConv,
/// xf [C, (Hp + e) Wp], and dy channels-last in rows of Wp pixels, dyW
/// [OH Wp, F] (zero at the kw - 1 wrapped columns of each row),
///   dW_s^T [C, F] = sum over the samples of xf[:, window s] x dyW
/// for each kernel offset s = (i, j), window s the OH Wp columns from
/// i Wp + j: plain matmuls that read the input's windows in place. The
/// extra terms are exact zeros, so every element of dW is the same sum in
/// the same order as with im2col's GEMM (see partsBySample). Groups of
/// input channels (shiftedChannelGroups) in parallel, each going through
/// the samples in order and per sample through the offsets (its xf and dyW
/// in cache), give [groups, kh kw, C / groups, F], rearranged into dW.
Value shiftedWeightGrad(OpBuilder &b, Location loc, Value x, Value dyIn,
                        RankedTensorType dwType, const Window &w,
                        int64_t groups) {
  RankedTensorType xt = tensorType(x), dy = tensorType(dyIn);
  ShiftedLayout l = shiftedLayout(xt, dy, w, /*roundColumns=*/false);
  int64_t n = dy.getDimSize(0), f = dy.getDimSize(1),
          cg = xt.getDimSize(1) / groups, shifts = w.kh * w.kw, cols = l.cols;
  Type elt = dy.getElementType();
  Value dyW = channelsLastGrad(b, loc, dyIn, l.width);
  auto accType = RankedTensorType::get({shifts, cg, f}, elt);
  auto idx = [&](int64_t v) { return indexConstant(b, loc, v); };
  auto one = b.getIndexAttr(1), zero = b.getIndexAttr(0);
  Value parts = accumulateBySample(
      b, loc, groups, cg, n, accType,
      [&](Value first, Value sample, Value sampleAcc) -> Value {
        Value xf = flatPaddedInput(
            b, loc, channelsOf(b, loc, x, sample, first, cg), w, l);
        Value rows = sampleRows(b, loc, dyW, sample, cols);
        auto offsets = b.create<scf::ForOp>(loc, idx(0), idx(shifts), idx(1),
                                            ValueRange{sampleAcc});
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(offsets.getBody());
        Value s = offsets.getInductionVar(),
              acc = offsets.getRegionIterArgs()[0];
        Value window = b.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get({cg, cols}, elt), xf,
            ArrayRef<OpFoldResult>{zero, windowOffset(b, loc, s, w, l.width)},
            indices(b, {cg, cols}), indices(b, {1, 1}));
        SmallVector<OpFoldResult> at = {s, zero, zero},
                                  sizes = indices(b, {1, cg, f}),
                                  strides = {one, one, one};
        Value accS = b.create<tensor::ExtractSliceOp>(
            loc, RankedTensorType::get({cg, f}, elt), acc, at, sizes, strides);
        Value sum = gemm<linalg::MatmulOp>(b, loc, window, rows, accS,
                                           /*bf16=*/false);
        b.create<scf::YieldOp>(loc, b.create<tensor::InsertSliceOp>(
                                         loc, sum, acc, at, sizes, strides)
                                        .getResult());
        return offsets.getResult(0);
      });
  // dW[f, g cg + r, i, j] = parts[g, i kw + j, r, f], written as [F,
  // groups, cg, kh, kw].
  MLIRContext *ctx = b.getContext();
  AffineExpr d0, d1, d2, d3, d4;
  bindDims(ctx, d0, d1, d2, d3, d4);
  Value dw = generic(
      b, loc, parts, AffineMap::get(5, 0, {d1, d3 * w.kw + d4, d2, d0}, ctx),
      emptyLike(b, loc,
                RankedTensorType::get({f, groups, cg, w.kh, w.kw}, elt)),
      copyElement)[0];
  return b.create<tensor::CollapseShapeOp>(
      loc, dwType, dw,
      SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
}

/// The groups of winogradWeightGrad for `parts` parts: up to 4.
int64_t weightGradGroups(int64_t parts) {
  return std::max<int64_t>(1,
                           mostGroups(parts, 4, [](int64_t) { return true; }));
}

/// One part's step of winogradWeightGrad: `acc` [P, M, K] plus dZ^T V for
/// the samples `xs` [g, K, H, W] and their gradient, of type `dyPart` [g,
/// M, OH, OW], channels-last as `dyh()` gives it: its tiles' rows from row
/// and column 0 ([g, 2 TH, 2 TW, M], zeros past OH and OW).
Value winogradWeightStep(OpBuilder &b, Location loc, Value xs,
                         function_ref<Value()> dyh, RankedTensorType dyPart,
                         const Window &w, Value acc) {
  const WinogradForm &f = kWinograd2;
  WinogradLayout l = winogradLayout(dyPart, w, f);
  Value v = winogradInput(b, loc, xs, dyPart, w, f);
  Value dz = transformTiles(b, loc, dyh(), f.a, f.m, l.th, l.tw);
  return gemm<linalg::BatchMatmulTransposeAOp>(b, loc, dz, v, acc, false);
}

/// dW of winogradWeightGrad from the groups' sums [groups, P, M, K]: their
/// sum dU, then dW = dU^T (G (x) G).
Value winogradWeightSum(OpBuilder &b, Location loc, Value sums,
                        RankedTensorType dwType) {
  MLIRContext *ctx = b.getContext();
  const WinogradForm &f = kWinograd2;
  RankedTensorType st = tensorType(sums);
  int64_t positions = st.getDimSize(1), m = st.getDimSize(2),
          k = st.getDimSize(3);
  auto type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, st.getElementType());
  };
  // dU: the groups' sums added.
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  Value du =
      b.create<linalg::GenericOp>(
           loc, TypeRange{type({positions, m, k})}, ValueRange{sums},
           ValueRange{filled(b, loc, type({positions, m, k}), 0.0)},
           ArrayRef<AffineMap>{AffineMap::get(4, 0, {d0, d1, d2, d3}, ctx),
                               AffineMap::get(4, 0, {d1, d2, d3}, ctx)},
           SmallVector<utils::IteratorType>{
               utils::IteratorType::reduction, utils::IteratorType::parallel,
               utils::IteratorType::parallel, utils::IteratorType::parallel},
           [](OpBuilder &nb, Location nl, ValueRange a) {
             nb.create<linalg::YieldOp>(
                 nl, nb.create<arith::AddFOp>(nl, a[1], a[0]).getResult());
           })
          .getResult(0);
  // dW [M K, 9] = dU^T [M K, P] x (G (x) G) [P, 9], already in dW's
  // layout [M, K, 3, 3].
  Value duFlat = b.create<tensor::CollapseShapeOp>(
      loc, du, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  Value d = gemm<linalg::MatmulTransposeAOp>(
      b, loc, duFlat, ggMatrix(b, loc, f, /*flipped=*/false),
      filled(b, loc, type({m * k, 9}), 0.0), false);
  return b.create<tensor::ExpandShapeOp>(
      loc, dwType, d, SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
}

/// conv2d_grad_weight of a convolution that winogradPart takes, as the
/// gradient of its Winograd form: with V the transformed input tiles
/// (winogradInput) and dZ = (A (x) A) dy the transformed output gradient
/// (of each tile's m x m outputs, zero outside),
///   dU_p [M, K] = sum over the tiles of dZ_p^T V_p,
///   dW[m, k, i, j] = sum over p of dU_p[m, k] (G (x) G)[p, (i, j)].
/// By F(2x2, 3x3), as weight gradients go (see convForm). V is computed again
/// from x (the forward pass's, kept for the whole batch, would take P T K
/// floats per sample: 19 MB for the wide CNN). dZ^T V is
/// linalg.batch_matmul_transpose_a of dZ [P, T, M] as it is (its rows, M
/// channels of a tile, are the outer-product kernel's columns of dZ^T), and
/// dW = dU^T (G (x) G) a matmul_transpose_a of dU [P, M K], whose result
/// [M K, 9] is dW in its layout: no transposed copies (V's per part took
/// 9% of the wide CNN's weight gradient), and the optimizer's update of the
/// filters reads the gradient in their own order (through a transposed
/// read, Adam ran as scalar code).
/// The batch's parts of `part` samples go in up to 4 groups in parallel,
/// each through its parts in order, adding into its own dU; the groups'
/// sums are added after (the same sums in the same order on any number of
/// threads). Each group zeroes its dU and the sum reads them all (2 MB each
/// for the wide CNN): 8 groups trained 2-3% slower on one core than 4, and
/// no faster on two.
Value winogradWeightGrad(OpBuilder &b, Location loc, Value x, Value dyIn,
                         RankedTensorType dwType, const Window &w,
                         int64_t part) {
  RankedTensorType xt = tensorType(x), dy = tensorType(dyIn);
  const WinogradForm &f = kWinograd2;
  WinogradLayout l = winogradLayout(dy, w, f);
  int64_t n = dy.getDimSize(0), m = dy.getDimSize(1), k = xt.getDimSize(1),
          parts = n / part, groups = weightGradGroups(parts),
          perGroup = parts / groups;
  auto partType =
      RankedTensorType::get({l.positions(), m, k}, dy.getElementType());
  Value sums = accumulateBySample(
      b, loc, groups, perGroup * part, perGroup, partType,
      [&](Value first, Value i, Value acc) -> Value {
        Value s = b.create<arith::AddIOp>(
            loc, first,
            b.create<arith::MulIOp>(loc, i, indexConstant(b, loc, part)));
        auto dyh = [&] {
          return channelsLastPadded(b, loc, samplesOf(b, loc, dyIn, s, part),
                                    f.m * l.th, f.m * l.tw, 0, 0);
        };
        return winogradWeightStep(b, loc, samplesOf(b, loc, x, s, part), dyh,
                                  partOf(dy, part), w, acc);
      });
  return winogradWeightSum(b, loc, sums, dwType);
}

/// Both gradients of a convolution that Winograd takes both ways (its input
/// gradient by winogradInputGrad's form `f`, its weight gradient by
/// winogradWeightGrad), in one pass over dy `dyIn` [N, M, OH, OW] in parts
/// of `part` samples: each part's dy goes channels-last and padded for the
/// input gradient (`full`, the window of that convolution of dy) once, and
/// the weight gradient's transform reads its interior (at row `full.top`,
/// column `full.left`, zeros past OH and OW) instead of making its own
/// channels-last copy. dy is a batchnorm's input gradient in residual
/// networks, fused into its readers: each copy recomputed it from two
/// tensors. The parts go in winogradWeightGrad's groups in parallel, each
/// through its parts in order. Returns {dx, dw}.
std::pair<Value, Value>
winogradGrads(OpBuilder &b, Location loc, Value x, Value dyIn, Value filters,
              RankedTensorType dxType, RankedTensorType dwType, const Window &w,
              const Window &full, const WinogradForm &f, int64_t part) {
  RankedTensorType dy = tensorType(dyIn);
  Type elt = dy.getElementType();
  WinogradLayout lx = winogradLayout(dxType, full, f),
                 lw = winogradLayout(dy, w, kWinograd2);
  int64_t n = dy.getDimSize(0), m = dy.getDimSize(1), k = dxType.getDimSize(1),
          parts = n / part, groups = weightGradGroups(parts),
          perGroup = parts / groups, samples = perGroup * part;
  auto type = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, elt);
  };
  RankedTensorType accType = type({lw.positions(), m, k});
  SmallVector<int64_t> grouped = {groups, samples};
  llvm::append_range(grouped, dxType.getShape().drop_front());
  SmallVector<int64_t> sumsShape = {groups};
  llvm::append_range(sumsShape, accType.getShape());
  Value u = winogradFilters(b, loc, f, filters, /*inputGradient=*/true);
  SmallVector<Value> results = forEachPart(
      b, loc, {type(sumsShape), type(grouped)}, 1,
      [&](Value group,
          function_ref<Value(unsigned)> into) -> SmallVector<Value> {
        auto idx = [&](int64_t v) { return indexConstant(b, loc, v); };
        Value first = b.create<arith::MulIOp>(loc, group, idx(samples));
        // The group's dx is built in its part of the result (into(1)).
        auto loop = b.create<scf::ForOp>(
            loc, idx(0), idx(perGroup), idx(1),
            ValueRange{filled(b, loc, accType, 0.0), into(1)});
        {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          Value i = loop.getInductionVar();
          Value at = b.create<arith::MulIOp>(loc, i, idx(part));
          Value s = b.create<arith::AddIOp>(loc, first, at);
          RankedTensorType dyPart = partOf(dy, part);
          Value dyh =
              channelsLastPadded(b, loc, samplesOf(b, loc, dyIn, s, part),
                                 lx.rows, lx.cols, lx.top, lx.left);
          Value dx = winogradConv(b, loc, dyh, u, Value(), partOf(dxType, part),
                                  full, f, /*paddedInput=*/true);
          auto interior = [&] {
            return extract(b, loc, dyh,
                           viewOf(b, tensorType(dyh), {0, lx.top, lx.left, 0},
                                  {part, 2 * lw.th, 2 * lw.tw, m}, {1, 1, 1, 1},
                                  {part, 2 * lw.th, 2 * lw.tw, m}));
          };
          Value acc = winogradWeightStep(b, loc, samplesOf(b, loc, x, s, part),
                                         interior, dyPart, w,
                                         loop.getRegionIterArgs()[0]);
          SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0)),
              sizes = getAsIndexOpFoldResult(b.getContext(),
                                             partOf(dxType, part).getShape()),
              strides(4, b.getIndexAttr(1));
          offsets[0] = at;
          Value dxs = b.create<tensor::InsertSliceOp>(
              loc, dx, loop.getRegionIterArgs()[1], offsets, sizes, strides);
          b.create<scf::YieldOp>(loc, ValueRange{acc, dxs});
        }
        return {withLeadingUnit(b, loc, loop.getResult(0)), loop.getResult(1)};
      });
  SmallVector<ReassociationIndices> batch = {{0, 1}};
  for (int64_t d = 2; d <= dxType.getRank(); ++d)
    batch.push_back({d});
  Value dx = b.create<tensor::CollapseShapeOp>(loc, dxType, results[1], batch);
  return {dx, winogradWeightSum(b, loc, results[0], dwType)};
}

/// The window of the stride-1 convolution of dy that is conv2d_grad_input
/// of a convolution by window `w`: dy padded by kh - 1 - top rows above
/// (and so on), dx[c, h, w] = sum of W[f, c, i, j] dy[f, h + top - i,
/// w + left - j].
Window inputGradWindow(const Window &w) {
  return {w.kh,
          w.kw,
          1,
          1,
          w.kh - 1 - w.top,
          w.kw - 1 - w.left,
          w.kh - 1 - w.bottom,
          w.kw - 1 - w.right};
}

/// The input and weight gradients of one convolution that winogradGrads
/// computes together, with its part size.
struct WinogradPair {
  nn::Conv2dGradInputOp input;
  nn::Conv2dGradWeightOp weight;
  Window w, full;
  const WinogradForm *form = nullptr;
  int64_t part = 0;
};

/// The pair of `input` and `weight` if they are the gradients of one
/// convolution (the same dy, stride and padding, the weight gradient's
/// input of the input gradient's type), each goes by Winograd, the weight
/// gradient's 2 TH x 2 TW tiles of dy lie within the input gradient's
/// padded dy, and one sample's tiles are many (see below).
std::optional<WinogradPair> winogradPair(nn::Conv2dGradInputOp input,
                                         nn::Conv2dGradWeightOp weight) {
  if (input.getGrad() != weight.getGrad() ||
      input.getStride() != weight.getStride() ||
      input.getPadding() != weight.getPadding() ||
      input.getType() != weight.getInput().getType() ||
      input.getWeight().getType() != weight.getType() || bf16Products(input) ||
      bf16Products(weight) || input->getBlock() != weight->getBlock())
    return std::nullopt;
  // Both are lowered before the first of them: their operands must be
  // defined before it.
  Operation *first =
      weight->isBeforeInBlock(input) ? weight.getOperation() : input;
  for (Operation *op : {input.getOperation(), weight.getOperation()})
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp();
          def && def->getBlock() == first->getBlock() &&
          !def->isBeforeInBlock(first))
        return std::nullopt;
  RankedTensorType dx = tensorType(input.getResult()),
                   dy = tensorType(input.getGrad());
  WinogradPair pair;
  pair.input = input;
  pair.weight = weight;
  pair.w = convWindow(input.getWeight(), input.getStride(), input.getPadding());
  pair.full = inputGradWindow(pair.w);
  pair.form = &convForm(dx);
  if (pair.w.sh != 1 || pair.w.sw != 1)
    return std::nullopt;
  int64_t inputPart = winogradPart(dy, dx, pair.full, false, *pair.form),
          weightPart = winogradPart(dx, dy, pair.w, false, kWinograd2);
  if (inputPart == 0 || weightPart == 0)
    return std::nullopt;
  WinogradLayout lx = winogradLayout(dx, pair.full, *pair.form),
                 lw = winogradLayout(dy, pair.w, kWinograd2);
  if (lx.top + 2 * lw.th > lx.rows || lx.left + 2 * lw.tw > lx.cols)
    return std::nullopt;
  // One sample at a time, and only where its input gradient's tiles fill
  // GEMMs of at least 32 rows (resnet_mini's 28x28: 49 tiles): a part's
  // buffers (the padded dy, both transforms' tiles, the GEMM results, ~1.5
  // MB there) then stay in or near L2, so that the weight gradient reads
  // the padded dy the input gradient just wrote. resnet_mini trained 3-5%
  // faster on one and two threads; in parts of 2 (the gradients' own parts'
  // common divisor) no faster than the gradients apart. SPEC 2.3's and the
  // plain and wide CNNs' 14x14 outputs (16 tiles a sample) ran 2-5% slower
  // in pairs of one sample, the same in parts of 2.
  if (lx.th * lx.tw < 32)
    return std::nullopt;
  pair.part = 1;
  return pair;
}

/// Lowers `pair` by winogradGrads in place of both ops, before whichever
/// comes first (winogradPair checked that their operands, x, dy and the
/// filters, are defined before it).
void lowerWinogradPair(ConversionPatternRewriter &rewriter, WinogradPair pair) {
  Operation *first = pair.input;
  if (pair.weight->isBeforeInBlock(pair.input))
    first = pair.weight;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(first);
  auto [dx, dw] = winogradGrads(
      rewriter, pair.input.getLoc(),
      rewriter.getRemappedValue(pair.weight.getInput()),
      rewriter.getRemappedValue(pair.input.getGrad()),
      rewriter.getRemappedValue(pair.input.getWeight()),
      tensorType(pair.input.getResult()), tensorType(pair.weight.getResult()),
      pair.w, pair.full, *pair.form, pair.part);
  rewriter.replaceOp(pair.input, dx);
  rewriter.replaceOp(pair.weight, dw);
}

/// The pair of `op` with a sibling of the other kind reading its dy (in the
/// same block), if any: see winogradPair.
template <typename Other, typename Op>
std::optional<WinogradPair> siblingPair(Op op) {
  for (Operation *user : op.getGrad().getUsers()) {
    auto other = dyn_cast<Other>(user);
    if (!other)
      continue;
    std::optional<WinogradPair> pair;
    if constexpr (std::is_same_v<Op, nn::Conv2dGradInputOp>)
      pair = winogradPair(op, other);
    else
      pair = winogradPair(other, op);
    if (pair)
      return pair;
  }
  return std::nullopt;
}

/// conv2d_grad_weight: dW^T [C kh kw, F] = im2col(xpad) x dy_nhwc, with
/// dy_nhwc [N OH OW, F] the gradient transposed to channels-last, then dW
/// transposed back. This orientation reads the large col matrix in place,
/// row by row; dy^T x col^T would transpose all of col first. Where one
/// sample's im2col matrix fits kBodyBytes (and the input channels split into
/// groups, see channelGroups), the groups' rows of dW^T are computed in
/// parallel, each group going through the samples in order: the im2col
/// rows of one sample (in cache) times its rows of dy_nhwc, accumulated.
/// Every element of dW is then the same sum in the same order as the whole
/// batch's GEMM, on any number of threads.
struct Conv2dGradWeightLowering : ConvPattern<nn::Conv2dGradWeightOp> {
  using ConvPattern::ConvPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dGradWeightOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType dwType = tensorType(op.getResult());
    RankedTensorType dy = tensorType(op.getGrad());
    RankedTensorType xt = tensorType(op.getInput());
    Window w = convWindow(op.getResult(), op.getStride(), op.getPadding());
    int64_t n = dy.getDimSize(0), f = dy.getDimSize(1),
            p = dy.getDimSize(2) * dy.getDimSize(3), c = xt.getDimSize(1),
            k = dwType.getNumElements() / f;
    Type elt = dy.getElementType();
    Value x = adaptor.getInput();
    bool bf16 = bf16Products(op);
    auto tType = RankedTensorType::get({k, f}, elt);
    if (bySampleAllowed) {
      if (auto pair = siblingPair<nn::Conv2dGradInputOp>(op)) {
        lowerWinogradPair(rewriter, *pair);
        return success();
      }
    }
    if (int64_t part =
            bySampleAllowed ? winogradPart(xt, dy, w, bf16, kWinograd2) : 0) {
      rewriter.replaceOp(op,
                         winogradWeightGrad(rewriter, loc, x, adaptor.getGrad(),
                                            dwType, w, part));
      return success();
    }
    int64_t shiftGroups = shiftedChannelGroups(c);
    if (bySampleAllowed && shiftGroups != 0 && shiftable(xt, dy, w, bf16)) {
      rewriter.replaceOp(op,
                         shiftedWeightGrad(rewriter, loc, x, adaptor.getGrad(),
                                           dwType, w, shiftGroups));
      return success();
    }
    int64_t groups = channelGroups(c, w);
    bool bySample = partSize(xt, dy, w, /*wholeVectors=*/false) == 1;
    int64_t filters = groups < 2 && bySample && n > 1 ? filterGroups(f) : 0;
    if (filters != 0) {
      rewriter.replaceOp(op, weightGradByFilterGroups(rewriter, loc, x,
                                                      adaptor.getGrad(), dwType,
                                                      w, filters, bf16));
      return success();
    }
    Value dyN = channelsLastGrad(rewriter, loc, adaptor.getGrad());
    Value dwT;
    if (groups < 2 || !bySample) {
      Value col = im2col(rewriter, loc, pad(rewriter, loc, x, w, 0.0), dy, w);
      dwT = gemm<linalg::MatmulOp>(rewriter, loc, col, dyN,
                                   filled(rewriter, loc, tType, 0.0), bf16);
    } else {
      int64_t cg = c / groups, kg = k / groups;
      dwT = partsBySample(
          rewriter, loc, groups, cg, n, RankedTensorType::get({kg, f}, elt),
          bf16, [&](Value firstChannel, Value s) -> std::pair<Value, Value> {
            Value xs = channelsOf(rewriter, loc, x, s, firstChannel, cg);
            Value col = im2col(rewriter, loc, pad(rewriter, loc, xs, w, 0.0),
                               partOf(dy), w);
            return {col, sampleRows(rewriter, loc, dyN, s, p)};
          });
      dwT = rewriter.create<tensor::CollapseShapeOp>(
          loc, dwT, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    }
    rewriter.replaceOp(op,
                       weightsFromTransposed(rewriter, loc, dwT, dwType, w));
    return success();
  }
};

/// dx = col2im(W^T x dy^T) (of a whole batch, or of the N samples of one
/// part): every kernel offset adds its [C, N, OH, OW] slice of dcol into
/// its strided window of the padded gradient, which is finally cropped.
Value convGradInputGemm(OpBuilder &b, Location loc, Value dyIn, Value wm,
                        RankedTensorType x, int64_t c, const Window &w,
                        bool bf16) {
  RankedTensorType dy = tensorType(dyIn);
  int64_t n = dy.getDimSize(0), oh = dy.getDimSize(2), ow = dy.getDimSize(3);
  int64_t k = c * w.kh * w.kw;
  Value dyT = transposedGrad(b, loc, dyIn);
  auto mType = RankedTensorType::get({k, n * oh * ow}, x.getElementType());
  Value dcol = gemm<linalg::MatmulTransposeAOp>(
      b, loc, wm, dyT, filled(b, loc, mType, 0.0), bf16);
  // A 1x1 kernel at stride 1 without padding (an inception block's 1x1
  // convolutions): col2im is dcol itself in NCHW order, one copy, not a
  // zero-filled dx plus an add of dcol into it.
  if (w.unit() && !w.padded())
    return gemmResultToNCHW(b, loc, dcol, x, Value());
  // The rows (c, i, j) of dcol for one kernel offset: a strided row slice
  // of the 2-d GEMM result, expanded to [C, N, OH, OW] (an expand_shape of
  // the GEMM itself would be folded into it, see gemmResultToNCHW).
  auto rowsType = RankedTensorType::get({c, n * oh * ow}, x.getElementType());
  auto partType = RankedTensorType::get({c, n, oh, ow}, x.getElementType());
  RankedTensorType xpType = paddedType(x, w);
  Value dxp = filled(b, loc, xpType, 0.0);
  for (int64_t i = 0; i < w.kh; ++i)
    for (int64_t j = 0; j < w.kw; ++j) {
      WindowView dst = windowView(b, xpType, dy, w, i, j);
      Value rows = b.create<tensor::ExtractSliceOp>(
          loc, rowsType, dcol, indices(b, {i * w.kw + j, 0}),
          indices(b, {c, n * oh * ow}), indices(b, {w.kh * w.kw, 1}));
      Value part = b.create<tensor::ExpandShapeOp>(
          loc, partType, rows,
          SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
      Value sum = generic(
          b, loc, part, swapNC(b.getContext()), extract(b, loc, dxp, dst),
          [](OpBuilder &nb, Location l, ValueRange a) {
            return SmallVector<Value>{nb.create<arith::AddFOp>(l, a[1], a[0])};
          })[0];
      dxp = insert(b, loc, sum, dxp, dst);
    }
  return crop(b, loc, dxp, x, w);
}

/// conv2d_grad_input: dcol = W^T x dy^T as linalg.matmul_transpose_a, then
/// col2im; in parts of the same samples as the forward pass (in parallel).
struct Conv2dGradInputLowering : ConvPattern<nn::Conv2dGradInputOp> {
  using ConvPattern::ConvPattern;
  LogicalResult
  matchAndRewrite(nn::Conv2dGradInputOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType x = tensorType(op.getResult()),
                     dy = tensorType(op.getGrad()),
                     wt = tensorType(op.getWeight());
    Window w = convWindow(op.getWeight(), op.getStride(), op.getPadding());
    int64_t c = wt.getDimSize(1);
    Value g = adaptor.getGrad();
    bool bf16 = bf16Products(op);
    // Stride 1: dx is the convolution of dy padded (inputGradWindow) with
    // the filters transposed and flipped.
    Window full = inputGradWindow(w);
    if (bySampleAllowed) {
      if (auto pair = siblingPair<nn::Conv2dGradWeightOp>(op)) {
        lowerWinogradPair(rewriter, *pair);
        return success();
      }
    }
    const WinogradForm &form = convForm(x), &forward = convForm(dy);
    bool stride1 = bySampleAllowed && w.sh == 1 && w.sw == 1;
    // By the gradient of the forward pass's Winograd form where that takes
    // fewer products, in the forward pass's parts (its buffers have the
    // sizes of the forward pass's).
    if (int64_t part = stride1 ? winogradPart(x, dy, w, bf16, forward) : 0;
        part && adjointIsCheaper(x, dy, w, forward, full, form)) {
      rewriter.replaceOp(op, winogradAdjointGrad(rewriter, loc, g,
                                                 adaptor.getWeight(), x, w,
                                                 forward, part));
      return success();
    }
    if (int64_t part = stride1 ? winogradPart(dy, x, full, bf16, form) : 0) {
      rewriter.replaceOp(op, winogradInputGrad(rewriter, loc, g,
                                               adaptor.getWeight(), x, full,
                                               form, part));
      return success();
    }
    if (stride1 && shiftable(dy, x, full, bf16)) {
      rewriter.replaceOp(op, shiftedConvBySample(rewriter, loc, g,
                                                 adaptor.getWeight(), Value(),
                                                 x, full,
                                                 /*inputGradient=*/true));
      return success();
    }
    Value wm = filterMatrix(rewriter, loc, adaptor.getWeight());
    int64_t part = partSize(x, dy, w);
    if (part == 0) {
      rewriter.replaceOp(
          op, convGradInputGemm(rewriter, loc, g, wm, x, c, w, bf16));
      return success();
    }
    // One sample through a 1x1 window at stride 1: dx's part is the GEMM
    // W^T x dy^T itself (no col2im), built in place.
    if (part == 1 && w.unit() && !w.padded()) {
      rewriter.replaceOp(
          op, forEachPart(rewriter, loc, {x}, 1,
                          [&](Value n, function_ref<Value(unsigned)> into) {
                            Value part = into(0);
                            Value dyT = transposedGrad(
                                rewriter, loc, samplesOf(rewriter, loc, g, n));
                            return SmallVector<Value>{
                                gemmInto<linalg::MatmulTransposeAOp>(
                                    rewriter, loc, wm, dyT, part, bf16)};
                          }));
      return success();
    }
    rewriter.replaceOp(op, forEachPart(rewriter, loc, x, part, [&](Value n) {
                         return convGradInputGemm(
                             rewriter, loc,
                             samplesOf(rewriter, loc, g, n, part), wm,
                             partOf(x, part), c, w, bf16);
                       }));
    return success();
  }
};

} // namespace

void nnc::populateNNConvPatterns(RewritePatternSet &patterns, bool bySample) {
  patterns
      .add<Conv2dLowering, Conv2dGradInputLowering, Conv2dGradWeightLowering>(
          patterns.getContext(), bySample);
}

namespace {
/// relu(y + bias) max-pooled by the windows `pw` (unpadded, stride =
/// kernel) into `pooled` [g, M, PH, PW], and with `withIndex` the windows'
/// offsets of the maxima (windowMax's), from winogradTiles' channels-last
/// `yh` [g, >= OH, >= OW, M]: one pass over the kh kw strided views of yh,
/// vectorized over the channels, then the pooled results (a quarter of y's
/// size for 2x2 windows) transposed to NCHW. Through NCHW, the bias and relu
/// would go over rows of OW (11 for the wide CNN's second convolution:
/// scalar code, a fifth of that convolution's time) and the pooling over
/// windows of such rows.
SmallVector<Value> reluMaxPoolChannelsLast(OpBuilder &b, Location loc, Value yh,
                                           Value bias, RankedTensorType pooled,
                                           const Window &pw, bool withIndex) {
  int64_t g = pooled.getDimSize(0), m = pooled.getDimSize(1),
          ph = pooled.getDimSize(2), pwid = pooled.getDimSize(3);
  RankedTensorType yt = tensorType(yh);
  SmallVector<Value> ins;
  for (int64_t i = 0; i < pw.kh; ++i)
    for (int64_t j = 0; j < pw.kw; ++j)
      ins.push_back(extract(b, loc, yh,
                            viewOf(b, yt, {0, i, j, 0}, {g, ph, pwid, m},
                                   {1, pw.sh, pw.sw, 1}, {g, ph, pwid, m})));
  size_t k = ins.size();
  SmallVector<AffineMap> maps(k, b.getMultiDimIdentityMap(4));
  if (bias) {
    ins.push_back(bias);
    maps.push_back(AffineMap::get(4, 0, b.getAffineDimExpr(3)));
  }
  auto nhwc = RankedTensorType::get({g, ph, pwid, m}, yt.getElementType());
  SmallVector<Value> outs{emptyLike(b, loc, nhwc)};
  if (withIndex)
    outs.push_back(emptyLike(b, loc, nhwc));
  SmallVector<Value> results = generic(
      b, loc, ins, maps, outs, [&](OpBuilder &nb, Location l, ValueRange a) {
        SmallVector<Value> v;
        for (size_t t = 0; t < k; ++t)
          v.push_back(reluElement(
              nb, l, bias ? nb.create<arith::AddFOp>(l, a[t], a[k]) : a[t]));
        return maxOf(nb, l, v, withIndex);
      });
  for (Value &r : results)
    r = b.create<linalg::TransposeOp>(loc, r, emptyLike(b, loc, pooled),
                                      ArrayRef<int64_t>{0, 3, 1, 2})
            ->getResult(0);
  return results;
}
} // namespace

void nnc::fuseConvReluMaxPool(Operation *root) {
  SmallVector<nn::MaxPool2dOp> pools;
  root->walk([&](nn::MaxPool2dOp op) { pools.push_back(op); });
  llvm::SmallPtrSet<Operation *, 8> fused;
  for (nn::MaxPool2dOp pool : pools) {
    if (fused.contains(pool))
      continue;
    Value r = pool.getInput();
    auto relu = r.getDefiningOp<nn::ReluOp>();
    auto conv =
        relu ? relu.getInput().getDefiningOp<nn::Conv2dOp>() : nn::Conv2dOp();
    if (!conv || !conv->hasOneUse() || bf16Products(conv))
      continue;
    Window pw = poolWindow(pool);
    if (pw.padded() || pw.sh != pw.kh || pw.sw != pw.kw)
      continue;
    // Every use of r is this pooling or its gradient (maskMaxPoolGradients
    // took relu's gradient off r).
    SmallVector<nn::MaxPool2dOp> forwards;
    SmallVector<nn::MaxPool2dGradOp> grads;
    bool all = true;
    for (Operation *user : r.getUsers()) {
      if (auto p = dyn_cast<nn::MaxPool2dOp>(user); p && sameWindows(p, pool))
        forwards.push_back(p);
      else if (auto g = dyn_cast<nn::MaxPool2dGradOp>(user);
               g && g.getInput() == r && g.getGrad() != r &&
               sameWindows(g, pool))
        grads.push_back(g);
      else
        all = false;
    }
    RankedTensorType x = tensorType(conv.getInput()),
                     y = tensorType(conv.getResult()),
                     pooled = tensorType(pool.getResult());
    Window w =
        convWindow(conv.getWeight(), conv.getStride(), conv.getPadding());
    ConvPlan plan = convPlan(x, y, w, /*bf16=*/false);
    if (!all || plan.kind == ConvPlan::Whole || plan.kind == ConvPlan::Shifted)
      continue;
    int64_t part = plan.size;
    OpBuilder b(relu);
    Location loc = b.getFusedLoc({conv.getLoc(), relu.getLoc(), pool.getLoc()});
    bool withIndex = !grads.empty();
    Value filters = planFilters(b, loc, conv.getWeight(), plan);
    SmallVector<RankedTensorType> outs{pooled};
    if (withIndex)
      outs.push_back(pooled);
    SmallVector<Value> results =
        forEachPart(b, loc, outs, part, [&](Value first) {
          RankedTensorType yp = partOf(y, part);
          Value xs = samplesOf(b, loc, conv.getInput(), first, part);
          if (plan.kind == ConvPlan::Winograd)
            return reluMaxPoolChannelsLast(
                b, loc, winogradTiles(b, loc, xs, filters, yp, w, *plan.form),
                conv.getBias(), partOf(pooled, part), pw, withIndex);
          Value z = convByPlan(b, loc, xs, filters, conv.getBias(), yp, w, plan,
                               /*bf16=*/false);
          Value rp = elementwise(b, loc, yp, z, reluElement);
          return windowMax(b, loc, rp, partOf(pooled, part), pw, withIndex);
        });
    for (nn::MaxPool2dOp p : forwards) {
      p.replaceAllUsesWith(results[0]);
      fused.insert(p);
      p.erase();
    }
    for (nn::MaxPool2dGradOp g : grads) {
      OpBuilder gb(g);
      g.replaceAllUsesWith(
          disjointWindowsGrad(gb, g.getLoc(), results[1], g.getGrad(), y, pw));
      g.erase();
    }
    relu.erase();
    conv.erase();
  }
}
