//===- Recurrent.cpp - nn -> linalg patterns for rnn, lstm and gru -------===//
//
// nn.recurrent is one GEMM for the input projections of all steps, then an
// scf.for over the T steps carrying the state (and lstm's cell state): per
// step a GEMM h W_hh^T and one linalg.generic computing the gates, the new
// state blended with the old by the step's mask (a skipped step carries the
// state) and the values the gradient needs. nn.recurrent_grad walks the
// steps backwards with the same structure: one generic per step for the
// gate gradients, and two GEMMs (the state's gradient through W_hh, and the
// accumulation of dW_hh). The compiled code does not grow with T.
//
// PyTorch's formulas (gate order as torch.nn.LSTM / GRU):
//   rnn:  h' = tanh(a) or relu(a),      a = x W_ih^T + b_ih + h W_hh^T + b_hh
//   lstm: i, f, o = sigmoid, g = tanh;  c' = f c + i g;  h' = o tanh(c')
//   gru:  r, z = sigmoid(a_r), sigmoid(a_z);  n = tanh(a_xn + r (h W_hn^T +
//         b_hn));  h' = (1 - z) n + z h
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

enum class Cell { RnnTanh, RnnRelu, Lstm, Gru };

Cell cellOf(StringRef name) {
  if (name == "lstm")
    return Cell::Lstm;
  if (name == "gru")
    return Cell::Gru;
  return name == "rnn_relu" ? Cell::RnnRelu : Cell::RnnTanh;
}

/// Index arithmetic and the [N, H] windows of the per-step tensors.
struct Steps {
  OpBuilder &b;
  Location loc;
  int64_t n, t, h;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  OpFoldResult at(int64_t v) { return b.getIndexAttr(v); }
  /// The unit-stride box of `sizes` at `offsets`, read as a tensor of
  /// `shape` (the box without its unit dimensions).
  Value extract(Value src, ArrayRef<OpFoldResult> offsets,
                ArrayRef<int64_t> sizes, ArrayRef<int64_t> shape) {
    SmallVector<OpFoldResult> sz, strides(sizes.size(), at(1));
    for (int64_t s : sizes)
      sz.push_back(at(s));
    return b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(shape, b.getF32Type()), src, offsets, sz,
        strides);
  }
  /// Writes `v` into the unit-stride box of `sizes` at `offsets` of `dest`.
  Value insert(Value v, Value dest, ArrayRef<OpFoldResult> offsets,
               ArrayRef<int64_t> sizes) {
    SmallVector<OpFoldResult> sz, strides(sizes.size(), at(1));
    for (int64_t s : sizes)
      sz.push_back(at(s));
    return b.create<tensor::InsertSliceOp>(loc, v, dest, offsets, sz, strides);
  }
  /// `src`[:, step, col : col + width] of an [N, T, C] tensor, as [N, width].
  Value window(Value src, Value step, int64_t col, int64_t width) {
    return extract(src, {at(0), step, at(col)}, {n, 1, width}, {n, width});
  }
  /// Writes the [N, width] `v` into `dest`[:, step, col : col + width].
  Value store(Value v, Value dest, Value step, int64_t col) {
    int64_t width = tensorType(v).getDimSize(1);
    return insert(v, dest, {at(0), step, at(col)}, {n, 1, width});
  }
  /// Column `col` .. `col + width` of an [N, C] tensor.
  Value columns(Value src, int64_t col, int64_t width) {
    return extract(src, {at(0), at(col)}, {n, width}, {n, width});
  }
  /// Writes the [N, width] `v` into columns `col` .. of the [N, C] `dest`.
  Value storeColumns(Value v, Value dest, int64_t col) {
    return insert(v, dest, {at(0), at(col)}, {n, tensorType(v).getDimSize(1)});
  }
  /// The [N] mask column of step `step`.
  Value maskAt(Value mask, Value step) {
    return extract(mask, {at(0), step}, {n, 1}, {n});
  }
  /// The processing order: step `s` of the loop is `T-1-s` when `backwards`.
  Value stepAt(Value s, bool backwards) {
    if (!backwards)
      return s;
    return b.create<arith::SubIOp>(loc, index(t - 1), s);
  }
  /// One elementwise generic over [N, H]: `inputs` are [N, H] but the last,
  /// the [N] mask; it has `outputs` [N, H] results.
  SmallVector<Value> cellGeneric(
      ValueRange inputs, unsigned outputs,
      function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
          body) {
    MLIRContext *ctx = b.getContext();
    AffineMap id = b.getMultiDimIdentityMap(2);
    SmallVector<AffineMap> maps(inputs.size() - 1, id);
    maps.push_back(rowMap(ctx, 2));
    maps.append(outputs, id);
    auto type = RankedTensorType::get({n, h}, b.getF32Type());
    SmallVector<Value> inits;
    SmallVector<Type> types(outputs, type);
    for (unsigned i = 0; i < outputs; ++i)
      inits.push_back(emptyLike(b, loc, type));
    auto generic = b.create<linalg::GenericOp>(
        loc, types, inputs, inits, maps, parallel(2),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          SmallVector<Value> r = body(nb, nl, args.take_front(inputs.size()));
          nb.create<linalg::YieldOp>(nl, r);
        });
    return SmallVector<Value>(generic.getResults());
  }
};

/// Scalar helpers of the cell bodies.
struct Math {
  OpBuilder &b;
  Location l;
  Value c(double v) { return f32(b, l, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(l, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(l, x, y); }
  Value sig(Value x) { return sigmoid(b, l, x); }
  Value tanh(Value x) { return b.create<math::TanhOp>(l, x); }
  /// 1 - y^2 (tanh') and y (1 - y) (sigmoid') from the activation y.
  Value dtanh(Value y) { return sub(c(1.0), mul(y, y)); }
  Value dsig(Value y) { return mul(y, sub(c(1.0), y)); }
  /// `real ? v : skipped`, `real` the step's mask m != 0.
  Value real(Value m) {
    return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::ONE, m, c(0.0));
  }
  Value pick(Value real, Value v, Value skipped) {
    return b.create<arith::SelectOp>(l, real, v, skipped);
  }
};

/// `bias` [C] broadcast to [rows, C].
Value broadcastRows(OpBuilder &b, Location loc, Value bias, int64_t rows) {
  int64_t c = tensorType(bias).getDimSize(0);
  auto type = RankedTensorType::get({rows, c}, b.getF32Type());
  return b
      .create<linalg::BroadcastOp>(loc, bias, emptyLike(b, loc, type),
                                   ArrayRef<int64_t>{0})
      ->getResult(0);
}

struct RecurrentLowering : OpConversionPattern<nn::RecurrentOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::RecurrentOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Cell cell = cellOf(op.getCell());
    RankedTensorType x = tensorType(op.getInput());
    RankedTensorType states = tensorType(op.getStates());
    RankedTensorType saved = tensorType(op.getSaved());
    int64_t n = x.getDimSize(0), t = x.getDimSize(1), f = x.getDimSize(2);
    int64_t h = states.getDimSize(2);
    int64_t g = nn::RecurrentOp::gatesOf(op.getCell());
    int64_t a = nn::RecurrentOp::savedOf(op.getCell());
    Steps st{rewriter, loc, n, t, h};
    Type f32t = rewriter.getF32Type();

    // The input projections of every step: [N T, F] x [F, G H] + b_ih.
    Value flat = rewriter.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({n * t, f}, f32t), adaptor.getInput(),
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    auto projType = RankedTensorType::get({n * t, g * h}, f32t);
    Value proj =
        rewriter
            .create<linalg::MatmulTransposeBOp>(
                loc, TypeRange{projType}, ValueRange{flat, adaptor.getWIh()},
                ValueRange{
                    broadcastRows(rewriter, loc, adaptor.getBIh(), n * t)})
            .getResult(0);
    Value xp = rewriter.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({n, t, g * h}, f32t), proj,
        ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    Value hiddenBias = broadcastRows(rewriter, loc, adaptor.getBHh(), n);
    auto hType = RankedTensorType::get({n, h}, f32t);
    auto gType = RankedTensorType::get({n, g * h}, f32t);

    SmallVector<Value> inits = {filled(rewriter, loc, hType, 0.0),
                                emptyLike(rewriter, loc, states),
                                emptyLike(rewriter, loc, saved)};
    if (cell == Cell::Lstm)
      inits.push_back(filled(rewriter, loc, hType, 0.0));
    Value mask = adaptor.getMask(), whh = adaptor.getWHh();
    bool reverse = op.getReverse();
    auto loop = rewriter.create<scf::ForOp>(
        loc, st.index(0), st.index(t), st.index(1), inits,
        [&](OpBuilder &b, Location l, Value s, ValueRange carried) {
          Steps sb{b, l, n, t, h};
          Value step = sb.stepAt(s, reverse);
          Value hPrev = carried[0];
          Value xg = sb.window(xp, step, 0, g * h);
          Value hg = b.create<linalg::MatmulTransposeBOp>(
                          l, TypeRange{gType}, ValueRange{hPrev, whh},
                          ValueRange{hiddenBias})
                         .getResult(0);
          SmallVector<Value> ins;
          for (int64_t k = 0; k < g; ++k)
            ins.push_back(sb.columns(xg, k * h, h));
          for (int64_t k = 0; k < g; ++k)
            ins.push_back(sb.columns(hg, k * h, h));
          ins.push_back(hPrev);
          if (cell == Cell::Lstm)
            ins.push_back(carried[3]);
          ins.push_back(sb.maskAt(mask, step));
          // Results: the new state, then the `a` saved columns.
          SmallVector<Value> out = sb.cellGeneric(
              ins, 1 + a, [&](OpBuilder &cb, Location cl, ValueRange v) {
                Math m{cb, cl};
                Value real = m.real(v.back());
                auto xa = [&](int64_t k) { return v[k]; };
                auto ha = [&](int64_t k) { return v[g + k]; };
                Value hp = v[2 * g];
                switch (cell) {
                case Cell::RnnTanh:
                case Cell::RnnRelu: {
                  Value pre = m.add(xa(0), ha(0));
                  Value hn =
                      cell == Cell::RnnTanh
                          ? m.tanh(pre)
                          : cb.create<arith::MaximumFOp>(cl, pre, m.c(0.0));
                  Value hNew = m.pick(real, hn, hp);
                  return SmallVector<Value>{hNew, hNew};
                }
                case Cell::Lstm: {
                  Value cp = v[2 * g + 1];
                  Value i = m.sig(m.add(xa(0), ha(0)));
                  Value fg = m.sig(m.add(xa(1), ha(1)));
                  Value gg = m.tanh(m.add(xa(2), ha(2)));
                  Value o = m.sig(m.add(xa(3), ha(3)));
                  Value c = m.add(m.mul(fg, cp), m.mul(i, gg));
                  Value hn = m.mul(o, m.tanh(c));
                  return SmallVector<Value>{m.pick(real, hn, hp), i, fg, gg, o,
                                            m.pick(real, c, cp)};
                }
                case Cell::Gru: {
                  Value r = m.sig(m.add(xa(0), ha(0)));
                  Value z = m.sig(m.add(xa(1), ha(1)));
                  Value nn = m.tanh(m.add(xa(2), m.mul(r, ha(2))));
                  Value hn = m.add(m.mul(m.sub(m.c(1.0), z), nn), m.mul(z, hp));
                  return SmallVector<Value>{m.pick(real, hn, hp), r, z, nn,
                                            ha(2)};
                }
                }
                return SmallVector<Value>{};
              });
          Value hNew = out[0];
          Value statesOut = sb.store(hNew, carried[1], step, 0);
          Value savedOut = carried[2];
          for (int64_t k = 0; k < a; ++k)
            savedOut = sb.store(out[1 + k], savedOut, step, k * h);
          SmallVector<Value> next = {hNew, statesOut, savedOut};
          if (cell == Cell::Lstm)
            next.push_back(out[a]); // the carried cell state
          b.create<scf::YieldOp>(l, next);
        });
    rewriter.replaceOp(
        op, {loop.getResult(1), loop.getResult(0), loop.getResult(2)});
    return success();
  }
};

struct RecurrentGradLowering : OpConversionPattern<nn::RecurrentGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::RecurrentGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Cell cell = cellOf(op.getCell());
    RankedTensorType states = tensorType(op.getStates());
    int64_t n = states.getDimSize(0), t = states.getDimSize(1),
            h = states.getDimSize(2);
    int64_t g = nn::RecurrentOp::gatesOf(op.getCell());
    int64_t a = nn::RecurrentOp::savedOf(op.getCell());
    Steps st{rewriter, loc, n, t, h};
    Type f32t = rewriter.getF32Type();
    auto hType = RankedTensorType::get({n, h}, f32t);
    auto gType = RankedTensorType::get({n, g * h}, f32t);
    RankedTensorType gatesType = tensorType(op.getDxGates());
    RankedTensorType dwType = tensorType(op.getDwHh());
    bool gru = cell == Cell::Gru, lstm = cell == Cell::Lstm;
    bool reverse = op.getReverse();

    // Carried: dh, dx gates, dW_hh, then dh gates (gru), dc (lstm).
    SmallVector<Value> inits = {adaptor.getDfinal(),
                                emptyLike(rewriter, loc, gatesType),
                                filled(rewriter, loc, dwType, 0.0)};
    if (gru)
      inits.push_back(emptyLike(rewriter, loc, gatesType));
    if (lstm)
      inits.push_back(filled(rewriter, loc, hType, 0.0));
    Value dstates = adaptor.getDstates(), mask = adaptor.getMask();
    Value statesV = adaptor.getStates(), saved = adaptor.getSaved();
    Value whh = adaptor.getWHh();
    auto loop = rewriter.create<scf::ForOp>(
        loc, st.index(0), st.index(t), st.index(1), inits,
        [&](OpBuilder &b, Location l, Value s, ValueRange carried) {
          Steps sb{b, l, n, t, h};
          // The forward went 0..T-1 (T-1..0 with reverse): walk it back.
          Value step = sb.stepAt(s, !reverse);
          // The step before it in the forward order, clamped; `valid` is 0
          // at the first step (the state before it is zero).
          Value prev, valid;
          if (!reverse) {
            prev = b.create<arith::MaxSIOp>(
                l, b.create<arith::SubIOp>(l, step, sb.index(1)), sb.index(0));
            valid = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, step,
                                            sb.index(0));
          } else {
            prev = b.create<arith::MinSIOp>(
                l, b.create<arith::AddIOp>(l, step, sb.index(1)),
                sb.index(t - 1));
            valid = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, step,
                                            sb.index(t - 1));
          }
          Value validF = b.create<arith::SelectOp>(l, valid, f32(b, l, 1.0),
                                                   f32(b, l, 0.0));
          SmallVector<Value> ins = {carried[0], sb.window(dstates, step, 0, h),
                                    sb.window(statesV, prev, 0, h)};
          for (int64_t k = 0; k < a; ++k)
            ins.push_back(sb.window(saved, step, k * h, h));
          if (lstm) {
            ins.push_back(sb.window(saved, prev, 4 * h, h)); // c_{t-1}
            ins.push_back(carried[3]);                       // dc
          }
          ins.push_back(sb.maskAt(mask, step));
          // Results: the state's direct gradient dh_{t-1} (before W_hh), the
          // previous state used (zero at the first step), the g input-gate
          // gradients, then (gru) the g state-gate gradients, (lstm) dc_{t-1}.
          unsigned outputs = 2 + g + (gru ? g : 0) + (lstm ? 1 : 0);
          SmallVector<Value> out = sb.cellGeneric(
              ins, outputs, [&](OpBuilder &cb, Location cl, ValueRange v) {
                Math m{cb, cl};
                Value real = m.real(v.back());
                Value zero = m.c(0.0);
                Value dh = m.add(v[0], v[1]);
                Value hp = m.mul(v[2], validF);
                auto sv = [&](int64_t k) { return v[3 + k]; };
                auto gate = [&](Value d) { return m.pick(real, d, zero); };
                switch (cell) {
                case Cell::RnnTanh:
                case Cell::RnnRelu: {
                  Value y = sv(0);
                  Value d =
                      cell == Cell::RnnTanh
                          ? m.mul(dh, m.dtanh(y))
                          : m.pick(cb.create<arith::CmpFOp>(
                                       cl, arith::CmpFPredicate::OGT, y, zero),
                                   dh, zero);
                  return SmallVector<Value>{m.pick(real, zero, dh), hp,
                                            gate(d)};
                }
                case Cell::Lstm: {
                  Value i = sv(0), fg = sv(1), gg = sv(2), o = sv(3), c = sv(4);
                  Value cp = m.mul(v[3 + a], validF), dcIn = v[4 + a];
                  Value tc = m.tanh(c);
                  Value dc = m.add(dcIn, m.mul(m.mul(dh, o), m.dtanh(tc)));
                  Value di = m.mul(m.mul(dc, gg), m.dsig(i));
                  Value df = m.mul(m.mul(dc, cp), m.dsig(fg));
                  Value dg = m.mul(m.mul(dc, i), m.dtanh(gg));
                  Value dO = m.mul(m.mul(dh, tc), m.dsig(o));
                  return SmallVector<Value>{m.pick(real, zero, dh),
                                            hp,
                                            gate(di),
                                            gate(df),
                                            gate(dg),
                                            gate(dO),
                                            m.pick(real, m.mul(dc, fg), dcIn)};
                }
                case Cell::Gru: {
                  Value r = sv(0), z = sv(1), nn = sv(2), hn = sv(3);
                  Value dn = m.mul(m.mul(dh, m.sub(m.c(1.0), z)), m.dtanh(nn));
                  Value dz = m.mul(m.mul(dh, m.sub(hp, nn)), m.dsig(z));
                  Value dr = m.mul(m.mul(dn, hn), m.dsig(r));
                  Value direct = m.pick(real, m.mul(dh, z), dh);
                  return SmallVector<Value>{
                      direct,   hp,       gate(dr), gate(dz),
                      gate(dn), gate(dr), gate(dz), gate(m.mul(dn, r))};
                }
                }
                return SmallVector<Value>{};
              });
          auto gatesOf = [&](unsigned first) {
            Value acc = emptyLike(b, l, gType);
            for (int64_t k = 0; k < g; ++k)
              acc = sb.storeColumns(out[first + k], acc, k * h);
            return acc;
          };
          Value dxg = gatesOf(2);
          Value dhg = gru ? gatesOf(2 + g) : dxg;
          // dh_{t-1} = direct + dA_h W_hh; dW_hh += dA_h^T h_{t-1}.
          Value dhPrev = b.create<linalg::MatmulOp>(l, TypeRange{hType},
                                                    ValueRange{dhg, whh},
                                                    ValueRange{out[0]})
                             .getResult(0);
          Value dw = b.create<linalg::MatmulTransposeAOp>(
                          l, TypeRange{dwType}, ValueRange{dhg, out[1]},
                          ValueRange{carried[2]})
                         .getResult(0);
          SmallVector<Value> next = {dhPrev, sb.store(dxg, carried[1], step, 0),
                                     dw};
          if (gru)
            next.push_back(sb.store(dhg, carried[3], step, 0));
          if (lstm)
            next.push_back(out[2 + g]);
          b.create<scf::YieldOp>(l, next);
        });
    Value dxGates = loop.getResult(1);
    Value dhGates = gru ? loop.getResult(3) : dxGates;
    rewriter.replaceOp(op, {dxGates, dhGates, loop.getResult(2)});
    return success();
  }
};

} // namespace

void nnc::populateNNRecurrentPatterns(RewritePatternSet &patterns) {
  patterns.add<RecurrentLowering, RecurrentGradLowering>(patterns.getContext());
}
