//===- Quantize.cpp - int8 inference: u8 activations, s8 weights ----------===//
//
// Post-training quantization of `nn.predict` for the inference library of
// `./model export --int8` (see the pass's description in Passes.td). Every
// dense and conv2d layer whose weight is a parameter becomes
//
//   q   = clamp(round(x / s) + z, 0, 255)            u8, per tensor
//   acc = q' W'                                      i32, the int8 GEMM
//   y   = (acc - comp[o]) alpha[o] + bias[o]         f32
//
// with q' the rows of the input ([batch, in] for dense; the im2col of the
// quantized input padded with z, one row per output position, for conv2d)
// and W' the weights as s8, packed four along k for AVX-512 VNNI (`[Kp/4,
// Op x 4]`: the four k of one output channel adjacent, 16 channels in 64
// bytes). The activations are asymmetric (relu outputs use all 256 levels),
// the weights symmetric per output channel; comp = z sum_k W'[o, k] removes
// the zero point, alpha = s sw[o] rescales.
//
// Calibration (`calibration`): `observe` is `predict` with the running
// minimum and maximum of every quantized layer's input, and `quantize`
// computes qf32 and qi8 from the parameters and those ranges. All of it is
// generated: the runtime only passes batches and buffers.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Windows.h"
#include "passes/Passes.h"
#include "passes/Transforms/ModelParameters.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/MathExtras.h"

namespace nnc {
#define GEN_PASS_DEF_NNQUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;
using namespace nnc::nn;

namespace {

/// A quantized layer and its places in qf32 and qi8.
struct Layer {
  Operation *op; ///< nn.dense or nn.conv2d
  unsigned weightArg;
  int64_t out, k;  ///< output channels, inputs per output (C kh kw)
  int64_t kp, op_; ///< k rounded up to 4, out rounded up to 16
  int64_t fOff, iOff;
  /// qf32: s, z, then alpha [op_], then comp [op_].
  int64_t alphaOff() const { return fOff + 2; }
  int64_t compOff() const { return fOff + 2 + op_; }
  /// conv2d computes acc^T [out, positions]: its weights are the rows
  /// ([out, Kp]); dense's are packed as columns ([Kp/4, op_, 4]).
  bool transposed() const { return isa<Conv2dOp>(op); }
  int64_t weightBytes() const { return kp * (transposed() ? out : op_); }
};

constexpr int64_t kFloatsPerLayer = 2;

SmallVector<Layer> findLayers(func::FuncOp fn, int64_t &fSize, int64_t &iSize) {
  SmallVector<Layer> layers;
  fSize = iSize = 0;
  fn.walk([&](Operation *op) {
    if (!isa<DenseOp, Conv2dOp>(op))
      return;
    auto w = dyn_cast<BlockArgument>(op->getOperand(1));
    if (!w || w.getOwner() != &fn.front())
      return;
    auto wt = cast<RankedTensorType>(w.getType());
    Layer l{op, w.getArgNumber(), wt.getDimSize(0),
            wt.getNumElements() / wt.getDimSize(0)};
    l.kp = llvm::alignTo(l.k, 4);
    l.op_ = llvm::alignTo(l.out, 16);
    l.fOff = fSize;
    fSize += kFloatsPerLayer + 2 * l.op_;
    l.iOff = llvm::alignTo(iSize, 64);
    iSize = l.iOff + l.weightBytes();
    layers.push_back(l);
  });
  return layers;
}

Value f32(OpBuilder &b, Location loc, double v) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v));
}

Value fill(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value v) {
  Value e = b.create<tensor::EmptyOp>(loc, shape, v.getType());
  return b.create<linalg::FillOp>(loc, v, e).getResult(0);
}

Value zero(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type t) {
  return fill(b, loc, shape,
              b.create<arith::ConstantOp>(loc, b.getZeroAttr(t)));
}

using Body = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A linalg.generic writing a new tensor of `shape` x `elem` with `iters`
/// (all parallel by default) over `ins` indexed by `maps` (the output's map
/// last), or into `init` when given (reductions).
Value generic(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elem,
              ValueRange ins, ArrayRef<AffineMap> maps, Body body,
              Value init = {}, ArrayRef<utils::IteratorType> iters = {}) {
  if (!init)
    init = b.create<tensor::EmptyOp>(loc, shape, elem);
  SmallVector<utils::IteratorType> it(iters.begin(), iters.end());
  if (it.empty())
    it.assign(maps.back().getNumDims(), utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ins, ValueRange{init}, maps, it,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, body(nb, nl, args));
          })
      .getResult(0);
}

AffineMap dims(OpBuilder &b, unsigned n, ArrayRef<unsigned> which) {
  SmallVector<AffineExpr> e;
  for (unsigned d : which)
    e.push_back(b.getAffineDimExpr(d));
  return AffineMap::get(n, 0, e, b.getContext());
}

Value clamp(OpBuilder &b, Location loc, Value v, double lo, double hi) {
  v = b.create<arith::MaximumFOp>(loc, v, f32(b, loc, lo));
  return b.create<arith::MinimumFOp>(loc, v, f32(b, loc, hi));
}

/// An integral f32 in the i8 range as i8 (u8 values as their bit pattern).
Value toI8(OpBuilder &b, Location loc, Value v) {
  Value i = b.create<arith::FPToSIOp>(loc, b.getI32Type(), v);
  return b.create<arith::TruncIOp>(loc, b.getI8Type(), i);
}

Value scalarAt(OpBuilder &b, Location loc, Value t, ArrayRef<int64_t> idx) {
  SmallVector<Value> iv;
  for (int64_t i : idx)
    iv.push_back(b.create<arith::ConstantIndexOp>(loc, i));
  return b.create<tensor::ExtractOp>(loc, t, iv);
}

Value slice1d(OpBuilder &b, Location loc, Value t, int64_t off, int64_t n) {
  auto type = RankedTensorType::get(
      {n}, cast<RankedTensorType>(t.getType()).getElementType());
  return b.create<tensor::ExtractSliceOp>(
      loc, type, t, ArrayRef<OpFoldResult>{b.getIndexAttr(off)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

Value insertAt(OpBuilder &b, Location loc, Value part, Value into,
               ArrayRef<int64_t> offsets) {
  auto pt = cast<RankedTensorType>(part.getType());
  SmallVector<OpFoldResult> offs, sizes, strides;
  for (auto [o, s] : llvm::zip(offsets, pt.getShape())) {
    offs.push_back(b.getIndexAttr(o));
    sizes.push_back(b.getIndexAttr(s));
    strides.push_back(b.getIndexAttr(1));
  }
  return b.create<tensor::InsertSliceOp>(loc, part, into, offs, sizes, strides);
}

/// The leading [rows, cols] block of a 2-d tensor.
Value leading(OpBuilder &b, Location loc, Value t, ArrayRef<int64_t> shape) {
  auto tt = cast<RankedTensorType>(t.getType());
  SmallVector<OpFoldResult> offs(shape.size(), b.getIndexAttr(0)),
      strides(shape.size(), b.getIndexAttr(1)), sizes;
  for (int64_t s : shape)
    sizes.push_back(b.getIndexAttr(s));
  return b.create<tensor::ExtractSliceOp>(
      loc, RankedTensorType::get(shape, tt.getElementType()), t, offs, sizes,
      strides);
}

/// A weight as the matrix [out, k] (conv2d filters collapsed).
Value weightMatrix(OpBuilder &b, Location loc, Value w) {
  auto t = cast<RankedTensorType>(w.getType());
  if (t.getRank() == 2)
    return w;
  ReassociationIndices rest;
  for (int64_t d = 1; d < t.getRank(); ++d)
    rest.push_back(d);
  return b.create<tensor::CollapseShapeOp>(
      loc, w, SmallVector<ReassociationIndices>{{0}, rest});
}

// ---------------------------------------------------------------------------
// The int8 forward pass.

/// x quantized elementwise to u8 (as i8): clamp(round(x / s) + z, 0, 255).
Value quantizeInput(OpBuilder &b, Location loc, Value x, Value inv, Value z) {
  auto t = cast<RankedTensorType>(x.getType());
  AffineMap id = b.getMultiDimIdentityMap(t.getRank());
  return generic(b, loc, t.getShape(), b.getI8Type(), {x}, {id, id},
                 [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                   Value r = nb.create<math::RoundEvenOp>(
                       l, nb.create<arith::MulFOp>(l, v[0], inv));
                   r = nb.create<arith::AddFOp>(l, r, z);
                   return toI8(nb, l, clamp(nb, l, r, 0.0, 255.0));
                 });
}

/// The nn.int8_gemm generic over (r, c, k4, j) accumulating into i32 [R, C]
/// (zeros first): u8 `a` and s8 `w`, one of them the rows ([R, Kp/4, 4],
/// indexed (r, k4, j)), the other the columns ([Kp/4, C, 4], (k4, c, j)).
/// nn-lower-int8-gemm broadcasts the rows' 4 bytes and loads 16 columns'.
Value int8Gemm(OpBuilder &b, Location loc, Value a, Value w, bool aIsRows) {
  auto rows = cast<RankedTensorType>((aIsRows ? a : w).getType());
  auto cols = cast<RankedTensorType>((aIsRows ? w : a).getType());
  int64_t r = rows.getDimSize(0), c = cols.getDimSize(1);
  AffineMap rowMap = dims(b, 4, {0, 2, 3}), colMap = dims(b, 4, {2, 1, 3});
  SmallVector<AffineMap> maps{aIsRows ? rowMap : colMap,
                              aIsRows ? colMap : rowMap, dims(b, 4, {0, 1})};
  using utils::IteratorType;
  Value acc = zero(b, loc, {r, c}, b.getI32Type());
  Value out =
      generic(b, loc, {r, c}, b.getI32Type(), {a, w}, maps,
              [](OpBuilder &nb, Location l, ValueRange v) -> Value {
                Value x = nb.create<arith::ExtUIOp>(l, nb.getI32Type(), v[0]);
                Value y = nb.create<arith::ExtSIOp>(l, nb.getI32Type(), v[1]);
                return nb.create<arith::AddIOp>(
                    l, v[2], nb.create<arith::MulIOp>(l, x, y));
              },
              acc,
              {IteratorType::parallel, IteratorType::parallel,
               IteratorType::reduction, IteratorType::reduction});
  NNDialect::Int8GemmAttrHelper(b.getContext())
      .setAttr(out.getDefiningOp(), b.getUnitAttr());
  return out;
}

/// [d0, d1 x 4] as [d0, d1, 4].
Value fours(OpBuilder &b, Location loc, Value t) {
  auto tt = cast<RankedTensorType>(t.getType());
  return b.create<tensor::ExpandShapeOp>(
      loc,
      RankedTensorType::get({tt.getDimSize(0), tt.getDimSize(1) / 4, 4},
                            tt.getElementType()),
      t, SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

/// Rewrites layer `l` of `predict` for int8, reading its data from `qf` and
/// `qi8`.
void rewriteLayer(const Layer &l, Value qf, Value qi8) {
  Operation *op = l.op;
  OpBuilder b(op);
  Location loc = op->getLoc();
  Value s = scalarAt(b, loc, qf, {l.fOff}),
        z = scalarAt(b, loc, qf, {l.fOff + 1});
  Value inv = b.create<arith::DivFOp>(loc, f32(b, loc, 1.0), s);
  Value alpha = slice1d(b, loc, qf, l.alphaOff(), l.out);
  Value comp = slice1d(b, loc, qf, l.compOff(), l.out);
  Value weights = slice1d(b, loc, qi8, l.iOff, l.weightBytes());
  Value x = op->getOperand(0);
  Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
  auto yType = cast<RankedTensorType>(op->getResult(0).getType());
  // (acc - comp[o]) alpha[o] + bias[o]
  auto epilogue = [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
    Value a = nb.create<arith::SIToFPOp>(nl, nb.getF32Type(), v[0]);
    Value r = nb.create<arith::MulFOp>(
        nl, nb.create<arith::SubFOp>(nl, a, v[1]), v[2]);
    return bias ? nb.create<arith::AddFOp>(nl, r, v[3]) : r;
  };
  SmallVector<Value> perChannel{comp, alpha};
  if (bias)
    perChannel.push_back(bias);
  Value y;
  if (isa<DenseOp>(op)) {
    int64_t m = yType.getDimSize(0);
    Value q = quantizeInput(b, loc, x, inv, z);
    Value a = q;
    if (l.kp != l.k)
      a = insertAt(b, loc, q, zero(b, loc, {m, l.kp}, b.getI8Type()), {0, 0});
    Value packed = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({l.kp / 4, l.op_, 4}, b.getI8Type()),
        weights, SmallVector<ReassociationIndices>{{0, 1, 2}});
    Value acc = leading(
        b, loc, int8Gemm(b, loc, fours(b, loc, a), packed, true), {m, l.out});
    SmallVector<Value> ins{acc};
    ins.append(perChannel);
    SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(2)};
    maps.append(perChannel.size(), dims(b, 2, {1}));
    maps.push_back(b.getMultiDimIdentityMap(2));
    y = generic(b, loc, yType.getShape(), b.getF32Type(), ins, maps, epilogue);
  } else {
    auto conv = cast<Conv2dOp>(op);
    auto wt = cast<RankedTensorType>(conv.getWeight().getType());
    lowering::Window w = lowering::window(wt.getShape().drop_front(2),
                                          conv.getStride(), conv.getPadding());
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t n = xt.getDimSize(0), c = xt.getDimSize(1),
            oh = yType.getDimSize(2), ow = yType.getDimSize(3);
    Value q = quantizeInput(b, loc, x, inv, z);
    // Padded with the zero point: the quantized 0.
    if (w.padded()) {
      Value zi8 = toI8(b, loc, z);
      q = insertAt(b, loc, q,
                   fill(b, loc,
                        {n, c, xt.getDimSize(2) + w.top + w.bottom,
                         xt.getDimSize(3) + w.left + w.right},
                        zi8),
                   {0, 0, w.top, w.left});
    }
    // col [C kh kw, N OH OW] as f32 convolutions lower, padded to [Kp, Mp]
    // (Mp: positions rounded up to 16 lanes), its rows interleaved by four
    // ([Kp/4, Mp, 4]: the columns of the GEMM acc^T = W col).
    int64_t m = n * oh * ow, mp = llvm::alignTo(m, 16);
    Value col = lowering::im2col(b, loc, q, yType, w);
    if (l.kp != l.k || mp != m)
      col = insertAt(b, loc, col, zero(b, loc, {l.kp, mp}, b.getI8Type()),
                     {0, 0});
    Value rows4 = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({l.kp / 4, 4, mp}, b.getI8Type()), col,
        SmallVector<ReassociationIndices>{{0, 1}, {2}});
    Value col4 = generic(
        b, loc, {l.kp / 4, mp, 4}, b.getI8Type(), {rows4},
        {dims(b, 3, {0, 2, 1}), b.getMultiDimIdentityMap(3)},
        [](OpBuilder &, Location, ValueRange v) -> Value { return v[0]; });
    Value filters = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({l.out, l.kp / 4, 4}, b.getI8Type()),
        weights, SmallVector<ReassociationIndices>{{0, 1, 2}});
    Value acc =
        leading(b, loc, int8Gemm(b, loc, col4, filters, false), {l.out, m});
    acc = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({l.out, n, oh, ow}, b.getI32Type()), acc,
        SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    SmallVector<Value> ins{acc};
    ins.append(perChannel);
    // y[n, f, oh, ow] from acc[f, n, oh, ow]
    SmallVector<AffineMap> maps{lowering::swapNC(b.getContext())};
    maps.append(perChannel.size(), dims(b, 4, {1}));
    maps.push_back(b.getMultiDimIdentityMap(4));
    y = generic(b, loc, yType.getShape(), b.getF32Type(), ins, maps, epilogue);
  }
  op->getResult(0).replaceAllUsesWith(y);
  op->erase();
}

// ---------------------------------------------------------------------------
// Calibration.

/// min (or max) of every element of `x` and `init` (a scalar).
Value reduceAll(OpBuilder &b, Location loc, Value x, Value init, bool max) {
  auto t = cast<RankedTensorType>(x.getType());
  Value acc = fill(b, loc, {}, init);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(t.getRank()),
                              AffineMap::get(t.getRank(), 0, b.getContext())};
  SmallVector<utils::IteratorType> iters(t.getRank(),
                                         utils::IteratorType::reduction);
  Value r = generic(
      b, loc, {}, b.getF32Type(), {x}, maps,
      [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
        if (max)
          return nb.create<arith::MaximumFOp>(l, v[0], v[1]);
        return nb.create<arith::MinimumFOp>(l, v[0], v[1]);
      },
      acc, iters);
  return b.create<tensor::ExtractOp>(loc, r, ValueRange{});
}

/// `observe`: `predict` (a clone) taking the ranges [L, 2] after its other
/// arguments and returning them, widened by this batch, after its others.
void buildObserve(func::FuncOp predict, int64_t numLayers) {
  MLIRContext *ctx = predict.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointAfter(predict);
  auto fn = cast<func::FuncOp>(b.clone(*predict));
  fn.setSymName("observe");
  NNDialect::PredictAttrHelper(ctx).removeAttr(fn);
  NNDialect::ObserveAttrHelper(ctx).setAttr(fn, b.getUnitAttr());
  auto rangesType = RankedTensorType::get({numLayers, 2}, b.getF32Type());
  Location loc = fn.getLoc();
  unsigned pos = fn.getNumArguments();
  (void)fn.insertArgument(pos, rangesType, DictionaryAttr(), loc);
  (void)fn.insertResult(fn.getNumResults(), rangesType, DictionaryAttr());
  Value ranges = fn.getArgument(pos);
  int64_t fs, is;
  SmallVector<Layer> layers = findLayers(fn, fs, is);
  SmallVector<Value> bounds;
  for (auto [i, l] : llvm::enumerate(layers)) {
    b.setInsertionPoint(l.op);
    Location ll = l.op->getLoc();
    int64_t row = static_cast<int64_t>(i);
    Value x = l.op->getOperand(0);
    bounds.push_back(
        reduceAll(b, ll, x, scalarAt(b, ll, ranges, {row, 0}), false));
    bounds.push_back(
        reduceAll(b, ll, x, scalarAt(b, ll, ranges, {row, 1}), true));
  }
  auto ret = cast<func::ReturnOp>(fn.front().getTerminator());
  b.setInsertionPoint(ret);
  Value out = b.create<tensor::FromElementsOp>(loc, rangesType, bounds);
  ret->insertOperands(ret->getNumOperands(), out);
}

/// `quantize`: qf32 and qi8 from the parameters (the arguments of `predict`
/// before its input) and the ranges.
void buildQuantize(func::FuncOp predict, ArrayRef<Layer> layers, int64_t fSize,
                   int64_t iSize) {
  MLIRContext *ctx = predict.getContext();
  OpBuilder b(ctx);
  Location loc = predict.getLoc();
  auto rangesType = RankedTensorType::get(
      {static_cast<int64_t>(layers.size()), 2}, b.getF32Type());
  auto qfType = RankedTensorType::get({fSize}, b.getF32Type());
  auto qiType = RankedTensorType::get({iSize}, b.getI8Type());
  func::FuncOp fn =
      parameterFunction(b, predict, "quantize", {rangesType}, {qfType, qiType});
  NNDialect::QuantizeAttrHelper(ctx).setAttr(fn, b.getUnitAttr());
  Block *body = &fn.front();
  Value ranges = body->getArguments().back();
  Value qf = zero(b, loc, {fSize}, b.getF32Type());
  Value qi = zero(b, loc, {iSize}, b.getI8Type());
  AffineMap id2 = b.getMultiDimIdentityMap(2), row = dims(b, 2, {0});
  AffineMap id1 = b.getMultiDimIdentityMap(1);
  using utils::IteratorType;
  for (auto [i, l] : llvm::enumerate(layers)) {
    int64_t r = static_cast<int64_t>(i);
    // Activations: [lo, hi] containing 0, 256 levels.
    Value lo = b.create<arith::MinimumFOp>(
        loc, scalarAt(b, loc, ranges, {r, 0}), f32(b, loc, 0.0));
    Value hi = b.create<arith::MaximumFOp>(
        loc, scalarAt(b, loc, ranges, {r, 1}), f32(b, loc, 0.0));
    Value s = b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, hi, lo),
                                      f32(b, loc, 255.0));
    Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, s,
                                             f32(b, loc, 0.0));
    s = b.create<arith::SelectOp>(loc, positive, s, f32(b, loc, 1.0));
    Value z = b.create<math::RoundEvenOp>(
        loc, b.create<arith::DivFOp>(loc, b.create<arith::NegFOp>(loc, lo), s));
    z = clamp(b, loc, z, 0.0, 255.0);
    // Weights: symmetric per output channel.
    Value w = weightMatrix(b, loc, body->getArgument(l.weightArg));
    Value amax = generic(b, loc, {l.out}, b.getF32Type(), {w}, {id2, row},
                         [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                           return nb.create<arith::MaximumFOp>(
                               nl, v[1], nb.create<math::AbsFOp>(nl, v[0]));
                         },
                         zero(b, loc, {l.out}, b.getF32Type()),
                         {IteratorType::parallel, IteratorType::reduction});
    Value sw = generic(
        b, loc, {l.out}, b.getF32Type(), {amax}, {id1, id1},
        [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
          Value pos = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGT,
                                               v[0], f32(nb, nl, 0.0));
          Value q = nb.create<arith::DivFOp>(nl, v[0], f32(nb, nl, 127.0));
          return nb.create<arith::SelectOp>(nl, pos, q, f32(nb, nl, 1.0));
        });
    Value wPad = insertAt(b, loc, w,
                          zero(b, loc, {l.op_, l.kp}, b.getF32Type()), {0, 0});
    Value swPad =
        insertAt(b, loc, sw, fill(b, loc, {l.op_}, f32(b, loc, 1.0)), {0});
    Value wq = generic(b, loc, {l.op_, l.kp}, b.getF32Type(), {wPad, swPad},
                       {id2, row, id2},
                       [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                         Value q = nb.create<math::RoundEvenOp>(
                             nl, nb.create<arith::DivFOp>(nl, v[0], v[1]));
                         return clamp(nb, nl, q, -127.0, 127.0);
                       });
    Value rowSum =
        generic(b, loc, {l.op_}, b.getF32Type(), {wq}, {id2, row},
                [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                  return nb.create<arith::AddFOp>(nl, v[1], v[0]);
                },
                zero(b, loc, {l.op_}, b.getF32Type()),
                {IteratorType::parallel, IteratorType::reduction});
    // Rows (conv2d): wq[o, k] for o < out. Columns (dense): packed[k4, o,
    // j] = wq[o, 4 k4 + j].
    auto toBytes = [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
      return toI8(nb, nl, v[0]);
    };
    Value packed;
    if (l.transposed())
      packed =
          generic(b, loc, {l.out, l.kp}, b.getI8Type(),
                  {leading(b, loc, wq, {l.out, l.kp})}, {id2, id2}, toBytes);
    else
      packed = generic(
          b, loc, {l.kp / 4, l.op_, 4}, b.getI8Type(), {fours(b, loc, wq)},
          {dims(b, 3, {1, 0, 2}), b.getMultiDimIdentityMap(3)}, toBytes);
    ReassociationIndices all = llvm::to_vector(llvm::seq<int64_t>(
        0, cast<RankedTensorType>(packed.getType()).getRank()));
    packed = b.create<tensor::CollapseShapeOp>(
        loc, packed, SmallVector<ReassociationIndices>{all});
    qi = insertAt(b, loc, packed, qi, {l.iOff});
    Value alpha =
        generic(b, loc, {l.op_}, b.getF32Type(), {swPad}, {id1, id1},
                [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                  return nb.create<arith::MulFOp>(nl, v[0], s);
                });
    Value comp =
        generic(b, loc, {l.op_}, b.getF32Type(), {rowSum}, {id1, id1},
                [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                  return nb.create<arith::MulFOp>(nl, v[0], z);
                });
    Value sz = b.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({2}, b.getF32Type()), ValueRange{s, z});
    qf = insertAt(b, loc, sz, qf, {l.fOff});
    qf = insertAt(b, loc, alpha, qf, {l.alphaOff()});
    qf = insertAt(b, loc, comp, qf, {l.compOff()});
  }
  b.create<func::ReturnOp>(loc, ValueRange{qf, qi});
}

struct NNQuantizePass : nnc::impl::NNQuantizePassBase<NNQuantizePass> {
  using NNQuantizePassBase::NNQuantizePassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    func::FuncOp predict;
    for (auto fn : module.getOps<func::FuncOp>())
      if (NNDialect::PredictAttrHelper(ctx).isAttrPresent(fn))
        predict = fn;
    if (!predict) {
      module.emitOpError("nn-quantize needs a function marked '")
          << NNDialect::PredictAttrHelper::getNameStr() << "'";
      return signalPassFailure();
    }
    int64_t fSize, iSize;
    SmallVector<Layer> layers = findLayers(predict, fSize, iSize);
    // Nothing to quantize: no nn.quant_sizes (the library has no int8
    // form).
    if (layers.empty())
      return;
    auto numLayers = static_cast<int64_t>(layers.size());
    if (calibration) {
      buildObserve(predict, numLayers);
      buildQuantize(predict, layers, fSize, iSize);
    }
    Location loc = predict.getLoc();
    unsigned pos = predict.getNumArguments();
    OpBuilder b(ctx);
    (void)predict.insertArgument(
        pos, RankedTensorType::get({fSize}, b.getF32Type()), {}, loc);
    (void)predict.insertArgument(
        pos + 1, RankedTensorType::get({iSize}, b.getI8Type()), {}, loc);
    for (const Layer &l : layers)
      rewriteLayer(l, predict.getArgument(pos), predict.getArgument(pos + 1));
    NNDialect::QuantSizesAttrHelper(ctx).setAttr(
        module, b.getDenseI64ArrayAttr({2 * numLayers, fSize, iSize}));
  }
};

} // namespace
