//===- Windows.cpp - Sliding windows shared by conv and pool lowerings ----===//
#include "passes/Conversion/NNToLinalg/Windows.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

Window lowering::window(ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                        ArrayRef<int64_t> padding) {
  return {kernel[0],  kernel[1],  stride[0],  stride[1],
          padding[0], padding[1], padding[2], padding[3]};
}

SmallVector<OpFoldResult> lowering::indices(OpBuilder &b, ArrayRef<int64_t> v) {
  return getAsIndexOpFoldResult(b.getContext(), v);
}

SmallVector<Value> lowering::generic(OpBuilder &b, Location loc, ValueRange ins,
                                     ArrayRef<AffineMap> inMaps,
                                     ValueRange outs, StepFn body) {
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

SmallVector<Value> lowering::copyElement(OpBuilder &, Location, ValueRange a) {
  return {a[0]};
}

WindowView lowering::windowView(OpBuilder &b, RankedTensorType xp,
                                RankedTensorType y, const Window &w, int64_t i,
                                int64_t j) {
  int64_t n = xp.getDimSize(0), c = xp.getDimSize(1);
  int64_t oh = y.getDimSize(2), ow = y.getDimSize(3);
  return {indices(b, {0, 0, i, j}), indices(b, {n, c, oh, ow}),
          indices(b, {1, 1, w.sh, w.sw}),
          RankedTensorType::get({n, c, oh, ow}, xp.getElementType())};
}

Value lowering::extract(OpBuilder &b, Location loc, Value from,
                        const WindowView &v) {
  return b.create<tensor::ExtractSliceOp>(loc, v.type, from, v.offsets, v.sizes,
                                          v.strides);
}

Value lowering::insert(OpBuilder &b, Location loc, Value part, Value into,
                       const WindowView &v) {
  return b.create<tensor::InsertSliceOp>(loc, part, into, v.offsets, v.sizes,
                                         v.strides);
}

WindowView lowering::interior(OpBuilder &b, RankedTensorType x,
                              const Window &w) {
  int64_t n = x.getDimSize(0), c = x.getDimSize(1), h = x.getDimSize(2),
          wd = x.getDimSize(3);
  return {indices(b, {0, 0, w.top, w.left}), indices(b, {n, c, h, wd}),
          indices(b, {1, 1, 1, 1}), x};
}

RankedTensorType lowering::paddedType(RankedTensorType x, const Window &w) {
  return RankedTensorType::get({x.getDimSize(0), x.getDimSize(1),
                                x.getDimSize(2) + w.top + w.bottom,
                                x.getDimSize(3) + w.left + w.right},
                               x.getElementType());
}

Value lowering::pad(OpBuilder &b, Location loc, Value x, const Window &w,
                    double value) {
  if (!w.padded())
    return x;
  RankedTensorType xt = tensorType(x);
  Value full = filled(b, loc, paddedType(xt, w), value);
  WindowView in = interior(b, xt, w);
  Value copy = generic(b, loc, x, b.getMultiDimIdentityMap(4),
                       extract(b, loc, full, in), copyElement)[0];
  return insert(b, loc, copy, full, in);
}

Value lowering::crop(OpBuilder &b, Location loc, Value xp, RankedTensorType x,
                     const Window &w) {
  if (!w.padded())
    return xp;
  return extract(b, loc, xp, interior(b, x, w));
}

WindowView lowering::colView(OpBuilder &b, RankedTensorType col, int64_t i,
                             int64_t j) {
  int64_t c = col.getDimSize(0), n = col.getDimSize(3), oh = col.getDimSize(4),
          ow = col.getDimSize(5);
  return {indices(b, {0, i, j, 0, 0, 0}), indices(b, {c, 1, 1, n, oh, ow}),
          indices(b, {1, 1, 1, 1, 1, 1}),
          RankedTensorType::get({c, n, oh, ow}, col.getElementType())};
}

AffineMap lowering::swapNC(MLIRContext *ctx) {
  return AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0, 2, 3}, ctx);
}

Value lowering::sampleMatrix(OpBuilder &b, Location loc, Value v) {
  RankedTensorType t = tensorType(v);
  auto planes = RankedTensorType::get(
      {t.getDimSize(1), t.getDimSize(2), t.getDimSize(3)}, t.getElementType());
  Value sample = b.create<tensor::ExtractSliceOp>(
      loc, planes, v, indices(b, {0, 0, 0, 0}),
      indices(b, {1, t.getDimSize(1), t.getDimSize(2), t.getDimSize(3)}),
      indices(b, {1, 1, 1, 1}));
  return b.create<tensor::CollapseShapeOp>(
      loc, sample, SmallVector<ReassociationIndices>{{0}, {1, 2}});
}

Value lowering::im2col(OpBuilder &b, Location loc, Value xp, RankedTensorType y,
                       const Window &w) {
  RankedTensorType xt = tensorType(xp);
  int64_t n = xt.getDimSize(0), c = xt.getDimSize(1), oh = y.getDimSize(2),
          ow = y.getDimSize(3);
  // One sample through a 1x1 window at stride 1: col is the sample's
  // [C, H W] itself (a reshape, not a copy).
  if (n == 1 && w.unit() && xt.getDimSize(2) == oh && xt.getDimSize(3) == ow)
    return sampleMatrix(b, loc, xp);
  auto colType =
      RankedTensorType::get({c, w.kh, w.kw, n, oh, ow}, xt.getElementType());
  Value col = emptyLike(b, loc, colType);
  for (int64_t i = 0; i < w.kh; ++i)
    for (int64_t j = 0; j < w.kw; ++j) {
      WindowView src = windowView(b, xt, y, w, i, j);
      WindowView dst = colView(b, colType, i, j);
      Value part =
          generic(b, loc, extract(b, loc, xp, src), swapNC(b.getContext()),
                  extract(b, loc, col, dst), copyElement)[0];
      col = insert(b, loc, part, col, dst);
    }
  return b.create<tensor::CollapseShapeOp>(
      loc, col, SmallVector<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
}

Value lowering::indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

RankedTensorType lowering::partOf(RankedTensorType t, int64_t size) {
  SmallVector<int64_t> shape(t.getShape());
  shape[0] = size;
  return RankedTensorType::get(shape, t.getElementType());
}

SmallVector<Value> lowering::forEachPart(
    OpBuilder &b, Location loc, ArrayRef<RankedTensorType> outs, int64_t size,
    function_ref<SmallVector<Value>(Value, function_ref<Value(unsigned)>)>
        intoParts) {
  SmallVector<Value> inits;
  for (RankedTensorType out : outs)
    inits.push_back(emptyLike(b, loc, out));
  auto forall = b.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(outs[0].getDimSize(0) / size)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)}, inits, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getBody()->getTerminator());
  Value first = forall.getInductionVars()[0];
  if (size != 1)
    first = b.create<arith::MulIOp>(loc, first, indexConstant(b, loc, size));
  // Each result's part of its shared output: offsets, sizes, strides.
  struct Part {
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  SmallVector<Part> slices;
  for (RankedTensorType out : outs) {
    int64_t rank = out.getRank();
    Part part{SmallVector<OpFoldResult>(rank, b.getIndexAttr(0)),
              getAsIndexOpFoldResult(b.getContext(), out.getShape()),
              SmallVector<OpFoldResult>(rank, b.getIndexAttr(1))};
    part.offsets[0] = first;
    part.sizes[0] = b.getIndexAttr(size);
    slices.push_back(std::move(part));
  }
  auto into = [&](unsigned i) -> Value {
    RankedTensorType out = outs[i];
    RankedTensorType type =
        size == 1 ? RankedTensorType::get(out.getShape().drop_front(),
                                          out.getElementType())
                  : partOf(out, size);
    return b.create<tensor::ExtractSliceOp>(
        loc, type, forall.getRegionIterArgs()[i], slices[i].offsets,
        slices[i].sizes, slices[i].strides);
  };
  SmallVector<Value> parts = intoParts(first, into);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [part, slice, shared] :
       llvm::zip_equal(parts, slices, forall.getRegionIterArgs()))
    b.create<tensor::ParallelInsertSliceOp>(loc, part, shared, slice.offsets,
                                            slice.sizes, slice.strides);
  return forall.getResults();
}

SmallVector<Value> lowering::forEachPart(OpBuilder &b, Location loc,
                               ArrayRef<RankedTensorType> outs, int64_t size,
                               function_ref<SmallVector<Value>(Value)> body) {
  return forEachPart(
      b, loc, outs, size,
      [&](Value first, function_ref<Value(unsigned)>) { return body(first); });
}

Value lowering::forEachPart(OpBuilder &b, Location loc, RankedTensorType out,
                  int64_t size, function_ref<Value(Value)> body) {
  return forEachPart(
      b, loc, ArrayRef<RankedTensorType>{out}, size,
      [&](Value first) { return SmallVector<Value>{body(first)}; })[0];
}

Value lowering::samplesOf(OpBuilder &b, Location loc, Value x, Value first,
                          int64_t size) {
  RankedTensorType part = partOf(tensorType(x), size);
  SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0)),
      sizes = getAsIndexOpFoldResult(b.getContext(), part.getShape()),
      strides(4, b.getIndexAttr(1));
  offsets[0] = first;
  return b.create<tensor::ExtractSliceOp>(loc, part, x, offsets, sizes,
                                          strides);
}
