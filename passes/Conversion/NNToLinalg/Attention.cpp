//===- Attention.cpp - nn -> linalg patterns for fused attention ---------===//
//
// FlashAttention-2 as loops of small linalg ops. nn.attention is an
// scf.forall over the N x heads (sample, head) pairs; each pair walks its
// query blocks of kQueryBlock rows, and each query block the key blocks of
// kKeyBlock columns (with `causal`, only up to the diagonal): the scores of
// one tile S = Q_b K_b^T (a linalg.matmul on [Br, d] x [d, Bc]), the online
// softmax (running row maximum m and sum l, the accumulator rescaled by
// exp(m_old - m_new)) and acc += P V_b (a matmul). At the end out = acc / l
// and lse = m + log l. Memory per pair: O(Br Bc + (Br + Bc) d); the [T, T]
// scores never exist.
//
// nn.attention_grad is the same forall, key blocks outside and query blocks
// inside (FA2's backward): P = exp(s S - lse) recomputed per tile,
// dV += P^T dO, dP = dO V^T, dS = s P (dP - D), D = rowsum(dO * O),
// dQ += dS K (a [T, d] accumulator per pair), dK += dS^T Q.
//
// Shapes are static, so a T that is not a multiple of a block size gets its
// last, shorter block as one more statically sized iteration after the loop
// over the whole blocks (peeling): every tile has a static shape, the whole
// blocks get register-tiled and vectorized by nn-tile-and-vectorize, and only
// the tail block of such a T may run as scalar code (peeling rather than
// per-shape block sizes: a T with no good divisor, a prime such as 37, would
// otherwise get tiny blocks). Blocks of 64 (T <= 64: one block of T): the
// tiles of a 64 x 64 x 32 step (S, P, Q, K^T, V, dO blocks: about 70 KiB)
// stay in L2 and mostly L1, and every tile matmul divides into the
// [8, 32, 4] register tiles of nn-tile-and-vectorize (which leaves the
// chunks of this forall whole, not split again). Measured with
// bench/attention.py (N 12, D 128, 4 heads, T 512): forward + backward at
// about 90 GFLOP/s on one thread, 150 on two; blocks of 32 x 32 and of
// 64 x 128 (query x key) measured the same within noise at T = 64..512.
//
// Dropout regenerates nn.dropout's counter-based mask from the element's
// index in [N, heads, T, T], so the backward stores no mask.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

constexpr int64_t kQueryBlock = 64;
constexpr int64_t kKeyBlock = 64;

/// Everything the per-tile code of one (sample, head) pair needs, with the
/// builders of its tiles and scalar helpers.
struct Tiles {
  OpBuilder &b;
  Location loc;
  int64_t t, heads, d, dm; // dm = D = heads d
  double scale, p;
  bool causal;
  uint64_t salt; // nn.dropout's (stream + 1) * 0xD1B54A32D192ED03
  Value seed;    // i64 scalar, null without dropout
  Value pair;    // the forall's index n * heads + h
  Value sample;  // n
  Value headCol; // h * d
  Value mask;    // [N, T]

  Type f32t() { return b.getF32Type(); }
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  OpFoldResult at(int64_t v) { return b.getIndexAttr(v); }
  RankedTensorType type(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, f32t());
  }

  /// The [rows, d] tile at `row` of head h of sample n of the column block
  /// at `base` of an [N, T, C] tensor (q, k, v: 0, D, 2D of qkv).
  Value rowsOf(Value src, Value row, int64_t rows, int64_t base = 0) {
    Value col = headCol;
    if (base)
      col = b.create<arith::AddIOp>(loc, headCol, index(base));
    return b.create<tensor::ExtractSliceOp>(
        loc, type({rows, d}), src, ArrayRef<OpFoldResult>{sample, row, col},
        ArrayRef<OpFoldResult>{at(1), at(rows), at(d)},
        ArrayRef<OpFoldResult>{at(1), at(1), at(1)});
  }
  /// The [d, cols] tile at column `col` of head h of a transposed [N, D, T].
  Value colsOf(Value srcT, Value col, int64_t cols) {
    return b.create<tensor::ExtractSliceOp>(
        loc, type({d, cols}), srcT,
        ArrayRef<OpFoldResult>{sample, headCol, col},
        ArrayRef<OpFoldResult>{at(1), at(d), at(cols)},
        ArrayRef<OpFoldResult>{at(1), at(1), at(1)});
  }
  /// Rows `row` .. of a 1-d or 2-d per-pair tensor ([T] or [T, d]).
  Value part(Value src, Value row, int64_t rows) {
    RankedTensorType st = tensorType(src);
    if (st.getRank() == 1)
      return b.create<tensor::ExtractSliceOp>(
          loc, type({rows}), src, ArrayRef<OpFoldResult>{row},
          ArrayRef<OpFoldResult>{at(rows)}, ArrayRef<OpFoldResult>{at(1)});
    return b.create<tensor::ExtractSliceOp>(
        loc, type({rows, d}), src, ArrayRef<OpFoldResult>{row, at(0)},
        ArrayRef<OpFoldResult>{at(rows), at(d)},
        ArrayRef<OpFoldResult>{at(1), at(1)});
  }
  Value putPart(Value v, Value dest, Value row) {
    RankedTensorType vt = tensorType(v);
    if (vt.getRank() == 1)
      return b.create<tensor::InsertSliceOp>(
          loc, v, dest, ArrayRef<OpFoldResult>{row},
          ArrayRef<OpFoldResult>{at(vt.getDimSize(0))},
          ArrayRef<OpFoldResult>{at(1)});
    return b.create<tensor::InsertSliceOp>(
        loc, v, dest, ArrayRef<OpFoldResult>{row, at(0)},
        ArrayRef<OpFoldResult>{at(vt.getDimSize(0)), at(d)},
        ArrayRef<OpFoldResult>{at(1), at(1)});
  }
  /// The key mask of columns `col` .. `col + cols` of sample n: [cols].
  Value maskOf(Value col, int64_t cols) {
    return b.create<tensor::ExtractSliceOp>(
        loc, type({cols}), mask, ArrayRef<OpFoldResult>{sample, col},
        ArrayRef<OpFoldResult>{at(1), at(cols)},
        ArrayRef<OpFoldResult>{at(1), at(1)});
  }

  Value matmul(Value a, Value bm, Value acc) {
    return b
        .create<linalg::MatmulOp>(loc, TypeRange{acc.getType()},
                                  ValueRange{a, bm}, ValueRange{acc})
        .getResult(0);
  }
  /// acc + a^T bm.
  Value matmulTA(Value a, Value bm, Value acc) {
    return b
        .create<linalg::MatmulTransposeAOp>(loc, TypeRange{acc.getType()},
                                            ValueRange{a, bm}, ValueRange{acc})
        .getResult(0);
  }

  /// A linalg.generic over [rows, cols] (loops i, j) reading `tile` inputs
  /// at (i, j), `rowInputs` at (i) and `colInputs` at (j), whose results
  /// are [rows, cols] tiles, or [rows] rows reduced over j when `reduce`
  /// (the outputs then start from `inits`).
  SmallVector<Value>
  tileGeneric(int64_t rows, int64_t cols, ValueRange tileIns, ValueRange rowIns,
              ValueRange colIns, bool reduce, ValueRange inits,
              unsigned outputs,
              function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange,
                                              ValueRange)>
                  body) {
    MLIRContext *ctx = b.getContext();
    AffineMap id = b.getMultiDimIdentityMap(2);
    AffineMap row = AffineMap::get(2, 0, getAffineDimExpr(0, ctx));
    AffineMap col = AffineMap::get(2, 0, getAffineDimExpr(1, ctx));
    SmallVector<Value> ins(tileIns);
    llvm::append_range(ins, rowIns);
    llvm::append_range(ins, colIns);
    SmallVector<AffineMap> maps(tileIns.size(), id);
    maps.append(rowIns.size(), row);
    maps.append(colIns.size(), col);
    SmallVector<Value> outs;
    SmallVector<Type> types;
    for (unsigned i = 0; i < outputs; ++i) {
      outs.push_back(reduce ? inits[i] : emptyLike(b, loc, type({rows, cols})));
      types.push_back(outs.back().getType());
      maps.push_back(reduce ? row : id);
    }
    SmallVector<utils::IteratorType> iters = parallel(2);
    if (reduce)
      iters[1] = utils::IteratorType::reduction;
    unsigned numIns = ins.size();
    auto generic = b.create<linalg::GenericOp>(
        loc, types, ins, outs, maps, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          SmallVector<Value> r =
              body(nb, nl, args.take_front(numIns), args.drop_front(numIns));
          nb.create<linalg::YieldOp>(nl, r);
        });
    return SmallVector<Value>(generic.getResults());
  }

  /// An elementwise generic over [rows] (`ins` are [rows]).
  SmallVector<Value>
  rowGeneric(int64_t rows, ValueRange ins, unsigned outputs,
             function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
                 body) {
    AffineMap id = b.getMultiDimIdentityMap(1);
    SmallVector<AffineMap> maps(ins.size() + outputs, id);
    SmallVector<Value> outs;
    SmallVector<Type> types(outputs, type({rows}));
    for (unsigned i = 0; i < outputs; ++i)
      outs.push_back(emptyLike(b, loc, type({rows})));
    auto generic = b.create<linalg::GenericOp>(
        loc, types, ins, outs, maps, parallel(1),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          nb.create<linalg::YieldOp>(nl,
                                     body(nb, nl, args.take_front(ins.size())));
        });
    return SmallVector<Value>(generic.getResults());
  }

  /// In a tile body: whether query `row0 + i` may see key `col0 + j` whose
  /// mask element is `m` (i, j the generic's loops).
  Value visible(OpBuilder &nb, Location nl, Value row0, Value col0, Value m) {
    Value real = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::ONE, m,
                                          f32(nb, nl, 0.0));
    if (!causal)
      return real;
    Value i =
        nb.create<arith::AddIOp>(nl, row0, nb.create<linalg::IndexOp>(nl, 0));
    Value j =
        nb.create<arith::AddIOp>(nl, col0, nb.create<linalg::IndexOp>(nl, 1));
    Value past = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::ule, j, i);
    return nb.create<arith::AndIOp>(nl, real, past);
  }

  /// The unnormalized weights of a [rows, cols] score tile `s`: exp(scale
  /// s - shift) where query `row0 + i` sees key `col0 + j`, else 0; `shift`
  /// is per row (the forward's running maximum, the backward's log-sum-exp).
  Value weights(Value s, Value shift, Value maskB, Value row0, Value col0,
                int64_t rows, int64_t cols) {
    double sc = scale;
    return tileGeneric(
        rows, cols, {s}, {shift}, {maskB}, false, {}, 1,
        [&](OpBuilder &nb, Location nl, ValueRange in,
            ValueRange) -> SmallVector<Value> {
          Value ok = visible(nb, nl, row0, col0, in[2]);
          Value x = nb.create<arith::SubFOp>(
              nl, nb.create<arith::MulFOp>(nl, in[0], f32(nb, nl, sc)), in[1]);
          Value e = nb.create<math::ExpOp>(nl, x);
          return {nb.create<arith::SelectOp>(nl, ok, e, f32(nb, nl, 0.0))};
        })[0];
  }

  /// In a tile body: nn.dropout's keep factor (1 / (1 - p) or 0) of the
  /// weight of query `row0 + i`, key `col0 + j` of this pair, whose index
  /// in [N, heads, T, T] is (pair T + row) T + col.
  Value keepFactor(OpBuilder &nb, Location nl, Value row0, Value col0) {
    auto i64c = [&](uint64_t v) -> Value {
      return nb.create<arith::ConstantOp>(
          nl, nb.getI64IntegerAttr(static_cast<int64_t>(v)));
    };
    auto asI64 = [&](Value v) -> Value {
      return nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), v);
    };
    Value i =
        nb.create<arith::AddIOp>(nl, row0, nb.create<linalg::IndexOp>(nl, 0));
    Value j =
        nb.create<arith::AddIOp>(nl, col0, nb.create<linalg::IndexOp>(nl, 1));
    Value rowIdx = nb.create<arith::AddIOp>(
        nl, nb.create<arith::MulIOp>(nl, asI64(pair), i64c(t)), asI64(i));
    Value idx = nb.create<arith::AddIOp>(
        nl, nb.create<arith::MulIOp>(nl, rowIdx, i64c(t)), asI64(j));
    Value base = nb.create<arith::AddIOp>(nl, seed, i64c(salt));
    Value z = nb.create<arith::AddIOp>(
        nl, base,
        nb.create<arith::MulIOp>(nl, idx, i64c(0x9E3779B97F4A7C15ull)));
    auto mix = [&](Value z, unsigned shift, uint64_t mul) -> Value {
      Value s = nb.create<arith::ShRUIOp>(nl, z, i64c(shift));
      z = nb.create<arith::XOrIOp>(nl, z, s);
      return mul ? Value(nb.create<arith::MulIOp>(nl, z, i64c(mul))) : z;
    };
    z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
    z = mix(z, 27, 0x94D049BB133111EBull);
    z = mix(z, 31, 0);
    Value top = nb.create<arith::ShRUIOp>(nl, z, i64c(40));
    Value u = nb.create<arith::MulFOp>(
        nl, nb.create<arith::UIToFPOp>(nl, nb.getF32Type(), top),
        f32(nb, nl, 1.0 / 16777216.0));
    Value keep = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGE, u,
                                          f32(nb, nl, p));
    return nb.create<arith::SelectOp>(nl, keep, f32(nb, nl, 1.0 / (1.0 - p)),
                                      f32(nb, nl, 0.0));
  }

  /// The running state of one query block: row maximum, row sum, and the
  /// unnormalized output.
  struct Running {
    Value m, l, acc;
  };

  /// One key block of `cols` keys at `col0` for the query block `qb`
  /// ([rows, d]) at `row0`: the online softmax step.
  Running forwardKeyBlock(Value qb, Value row0, int64_t rows, Value kT, Value v,
                          Value col0, int64_t cols, Running r) {
    Value s = matmul(qb, colsOf(kT, col0, cols),
                     filled(b, loc, type({rows, cols}), 0.0));
    Value maskB = maskOf(col0, cols);
    double sc = scale;
    // m_new = max(m, max_j visible ? s S : -inf)
    Value mNew = tileGeneric(
        rows, cols, {s}, {}, {maskB}, /*reduce=*/true, {r.m}, 1,
        [&](OpBuilder &nb, Location nl, ValueRange in,
            ValueRange acc) -> SmallVector<Value> {
          Value ok = visible(nb, nl, row0, col0, in[1]);
          Value x = nb.create<arith::MulFOp>(nl, in[0], f32(nb, nl, sc));
          Value ninf = f32(nb, nl, -std::numeric_limits<double>::infinity());
          Value y = nb.create<arith::SelectOp>(nl, ok, x, ninf);
          return {nb.create<arith::MaximumFOp>(nl, acc[0], y)};
        })[0];
    // P = visible ? exp(s S - m_new) : 0, and its row sums.
    Value pT = weights(s, mNew, maskB, row0, col0, rows, cols);
    Value rowSum = tileGeneric(
        rows, cols, {pT}, {}, {}, true, {filled(b, loc, type({rows}), 0.0)}, 1,
        [&](OpBuilder &nb, Location nl, ValueRange in,
            ValueRange acc) -> SmallVector<Value> {
          return {nb.create<arith::AddFOp>(nl, acc[0], in[0])};
        })[0];
    // alpha = exp(m - m_new) (1 while no key was visible), l = alpha l + sum.
    SmallVector<Value> al = rowGeneric(
        rows, {r.m, mNew, r.l, rowSum}, 2,
        [&](OpBuilder &nb, Location nl, ValueRange in) -> SmallVector<Value> {
          Value none = nb.create<arith::CmpFOp>(
              nl, arith::CmpFPredicate::OEQ, in[1],
              f32(nb, nl, -std::numeric_limits<double>::infinity()));
          Value e = nb.create<math::ExpOp>(
              nl, nb.create<arith::SubFOp>(nl, in[0], in[1]));
          Value alpha =
              nb.create<arith::SelectOp>(nl, none, f32(nb, nl, 1.0), e);
          Value l = nb.create<arith::AddFOp>(
              nl, nb.create<arith::MulFOp>(nl, alpha, in[2]), in[3]);
          return {alpha, l};
        });
    // acc = alpha acc + dropout(P) V
    Value scaled =
        tileGeneric(rows, d, {r.acc}, {al[0]}, {}, false, {}, 1,
                    [&](OpBuilder &nb, Location nl, ValueRange in,
                        ValueRange) -> SmallVector<Value> {
                      return {nb.create<arith::MulFOp>(nl, in[0], in[1])};
                    })[0];
    if (seed)
      pT = tileGeneric(rows, cols, {pT}, {}, {}, false, {}, 1,
                       [&](OpBuilder &nb, Location nl, ValueRange in,
                           ValueRange) -> SmallVector<Value> {
                         return {nb.create<arith::MulFOp>(
                             nl, in[0], keepFactor(nb, nl, row0, col0))};
                       })[0];
    Value acc = matmul(pT, rowsOf(v, col0, cols, 2 * dm), scaled);
    return {mNew, al[1], acc};
  }

  /// The number of whole key blocks of `bc` keys that query rows `row0` ..
  /// `row0 + rows` see: all of them, or with `causal` those up to the
  /// diagonal.
  Value keyBlocksSeen(Value row0, int64_t rows, int64_t bc, int64_t whole) {
    if (!causal)
      return index(whole);
    // ceil((row0 + rows) / bc), at most `whole`.
    Value end = b.create<arith::AddIOp>(loc, row0, index(rows + bc - 1));
    Value blocks = b.create<arith::DivUIOp>(loc, end, index(bc));
    return b.create<arith::MinUIOp>(loc, blocks, index(whole));
  }

  /// One query block of the forward: returns the [rows, d] output and the
  /// [rows] lse.
  std::pair<Value, Value> forwardQueryBlock(Value q, Value kT, Value v,
                                            Value row0, int64_t rows) {
    Value qb = rowsOf(q, row0, rows);
    Running r{
        filled(b, loc, type({rows}), -std::numeric_limits<double>::infinity()),
        filled(b, loc, type({rows}), 0.0),
        filled(b, loc, type({rows, d}), 0.0)};
    int64_t bc = std::min(kKeyBlock, t);
    int64_t whole = t / bc, tail = t % bc;
    Value seen = keyBlocksSeen(row0, rows, bc, whole);
    Value upper = b.create<arith::MulIOp>(loc, seen, index(bc));
    auto loop = b.create<scf::ForOp>(
        loc, index(0), upper, index(bc), ValueRange{r.m, r.l, r.acc},
        [&](OpBuilder &lb, Location ll, Value col0, ValueRange c) {
          Running n = forwardKeyBlock(qb, row0, rows, kT, v, col0, bc,
                                      {c[0], c[1], c[2]});
          lb.create<scf::YieldOp>(ll, ValueRange{n.m, n.l, n.acc});
        });
    r = {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
    if (tail) {
      Value col0 = index(whole * bc);
      auto step = [&]() {
        Running n = forwardKeyBlock(qb, row0, rows, kT, v, col0, tail, r);
        return SmallVector<Value>{n.m, n.l, n.acc};
      };
      if (!causal) {
        SmallVector<Value> n = step();
        r = {n[0], n[1], n[2]};
      } else {
        // The tail keys are seen by the rows past whole * Bc only.
        Value sees = b.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::ugt,
            b.create<arith::AddIOp>(loc, row0, index(rows)), col0);
        auto ifOp = b.create<scf::IfOp>(
            loc, sees,
            [&](OpBuilder &, Location l) { b.create<scf::YieldOp>(l, step()); },
            [&](OpBuilder &, Location l) {
              b.create<scf::YieldOp>(l, ValueRange{r.m, r.l, r.acc});
            });
        r = {ifOp.getResult(0), ifOp.getResult(1), ifOp.getResult(2)};
      }
    }
    // out = acc / l, lse = m + log l (0 and 0 for a row without keys).
    Value lse = rowGeneric(
        rows, {r.m, r.l}, 1,
        [&](OpBuilder &nb, Location nl, ValueRange in) -> SmallVector<Value> {
          Value none = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OEQ,
                                                in[1], f32(nb, nl, 0.0));
          Value x = nb.create<arith::AddFOp>(nl, in[0],
                                             nb.create<math::LogOp>(nl, in[1]));
          return {nb.create<arith::SelectOp>(nl, none, f32(nb, nl, 0.0), x)};
        })[0];
    Value out = tileGeneric(
        rows, d, {r.acc}, {r.l}, {}, false, {}, 1,
        [&](OpBuilder &nb, Location nl, ValueRange in,
            ValueRange) -> SmallVector<Value> {
          Value none = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OEQ,
                                                in[1], f32(nb, nl, 0.0));
          Value x = nb.create<arith::DivFOp>(nl, in[0], in[1]);
          return {nb.create<arith::SelectOp>(nl, none, f32(nb, nl, 0.0), x)};
        })[0];
    return {out, lse};
  }

  /// The gradient accumulators of one key block and the pair's dQ.
  struct Grads {
    Value dk, dv, dq;
  };

  /// One query block of rows `row0` .. of the backward for the key block
  /// `kb` / `kTb` / `vTb` at `col0`.
  Grads backwardQueryBlock(Value q, Value dout, Value lse, Value dsum, Value kb,
                           Value kTb, Value vTb, Value col0, int64_t cols,
                           Value row0, int64_t rows, Grads g) {
    Value qb = rowsOf(q, row0, rows);
    Value dob = rowsOf(dout, row0, rows);
    Value lseB = part(lse, row0, rows), dB = part(dsum, row0, rows);
    Value maskB = maskOf(col0, cols);
    double sc = scale;
    Value s = matmul(qb, kTb, filled(b, loc, type({rows, cols}), 0.0));
    // P = visible ? exp(s S - lse) : 0
    Value pT = weights(s, lseB, maskB, row0, col0, rows, cols);
    Value pd = pT;
    if (seed)
      pd = tileGeneric(rows, cols, {pT}, {}, {}, false, {}, 1,
                       [&](OpBuilder &nb, Location nl, ValueRange in,
                           ValueRange) -> SmallVector<Value> {
                         return {nb.create<arith::MulFOp>(
                             nl, in[0], keepFactor(nb, nl, row0, col0))};
                       })[0];
    Value dv = matmulTA(pd, dob, g.dv);
    Value dpd = matmul(dob, vTb, filled(b, loc, type({rows, cols}), 0.0));
    // dS = s P (keep dPd - D)
    Value ds =
        tileGeneric(rows, cols, {pT, dpd}, {dB}, {}, false, {}, 1,
                    [&](OpBuilder &nb, Location nl, ValueRange in,
                        ValueRange) -> SmallVector<Value> {
                      Value dp = in[1];
                      if (seed)
                        dp = nb.create<arith::MulFOp>(
                            nl, dp, keepFactor(nb, nl, row0, col0));
                      Value x = nb.create<arith::MulFOp>(
                          nl, in[0], nb.create<arith::SubFOp>(nl, dp, in[2]));
                      return {nb.create<arith::MulFOp>(nl, x, f32(nb, nl, sc))};
                    })[0];
    Value dqB = matmul(ds, kb, part(g.dq, row0, rows));
    Value dq = putPart(dqB, g.dq, row0);
    Value dk = matmulTA(ds, qb, g.dk);
    return {dk, dv, dq};
  }

  /// One key block of the backward: walks the query blocks that see it and
  /// writes its dK and dV rows into `dkH` / `dvH` ([T, d]).
  void backwardKeyBlock(Value q, Value k, Value kT, Value vT, Value dout,
                        Value lse, Value dsum, Value col0, int64_t cols,
                        Value &dkH, Value &dvH, Value &dqH) {
    Value kb = rowsOf(k, col0, cols, dm);
    Value kTb = colsOf(kT, col0, cols), vTb = colsOf(vT, col0, cols);
    Grads g{filled(b, loc, type({cols, d}), 0.0),
            filled(b, loc, type({cols, d}), 0.0), dqH};
    int64_t br = std::min(kQueryBlock, t);
    int64_t whole = t / br, tail = t % br;
    // With `causal`, query rows before col0 see none of these keys.
    Value first = causal
                      ? b.create<arith::MulIOp>(
                            loc, b.create<arith::DivUIOp>(loc, col0, index(br)),
                            index(br))
                      : index(0);
    auto loop = b.create<scf::ForOp>(
        loc, first, index(whole * br), index(br), ValueRange{g.dk, g.dv, g.dq},
        [&](OpBuilder &lb, Location ll, Value row0, ValueRange c) {
          Grads n = backwardQueryBlock(q, dout, lse, dsum, kb, kTb, vTb, col0,
                                       cols, row0, br, {c[0], c[1], c[2]});
          lb.create<scf::YieldOp>(ll, ValueRange{n.dk, n.dv, n.dq});
        });
    g = {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
    if (tail)
      g = backwardQueryBlock(q, dout, lse, dsum, kb, kTb, vTb, col0, cols,
                             index(whole * br), tail, g);
    dkH = putPart(g.dk, dkH, col0);
    dvH = putPart(g.dv, dvH, col0);
    dqH = g.dq;
  }
};

/// Columns `col` .. `col + width` of qkv [N, T, 3D] as [N, width, T]: the
/// right operand of the tile matmuls (K^T, V^T) with contiguous rows.
Value transposed(OpBuilder &b, Location loc, Value qkv, int64_t col,
                 int64_t width) {
  RankedTensorType xt = tensorType(qkv);
  int64_t n = xt.getDimSize(0), t = xt.getDimSize(1);
  Value part = b.create<tensor::ExtractSliceOp>(
      loc, RankedTensorType::get({n, t, width}, xt.getElementType()), qkv,
      ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0),
                             b.getIndexAttr(col)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(n), b.getIndexAttr(t),
                             b.getIndexAttr(width)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
  auto type = RankedTensorType::get({n, width, t}, xt.getElementType());
  return b
      .create<linalg::TransposeOp>(loc, part, emptyLike(b, loc, type),
                                   ArrayRef<int64_t>{0, 2, 1})
      ->getResult(0);
}

/// The scf.forall over the N x heads pairs with `outs` as shared outputs;
/// `body` gets the tiles' context and the pair's parts of the outputs and
/// returns them updated. `parts` says what each part is: (output, base), the
/// pair's [T, d] of the column block at `base` of an [N, T, C] output, or
/// with base -1 its [T] row of an [N, heads, T] one.
using PairBody = function_ref<SmallVector<Value>(Tiles &, SmallVector<Value>)>;

template <typename OpT>
SmallVector<Value> forEachPair(ConversionPatternRewriter &rewriter, OpT op,
                               Value mask, Value seed, ValueRange outs,
                               ArrayRef<std::pair<unsigned, int64_t>> parts,
                               PairBody body) {
  Location loc = op.getLoc();
  RankedTensorType ot = tensorType(op.getOut());
  int64_t n = ot.getDimSize(0), t = ot.getDimSize(1), dm = ot.getDimSize(2);
  int64_t heads = op.getHeads(), d = dm / heads;
  Value seedScalar;
  if (seed)
    seedScalar = extractScalar(rewriter, loc, seed);
  auto forall = rewriter.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(n * heads)},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)}, outs, std::nullopt);
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(forall.getBody()->getTerminator());
  Value pair = forall.getInductionVars()[0];
  Value sample = rewriter.create<arith::DivUIOp>(
      loc, pair, rewriter.create<arith::ConstantIndexOp>(loc, heads));
  Value head = rewriter.create<arith::RemUIOp>(
      loc, pair, rewriter.create<arith::ConstantIndexOp>(loc, heads));
  Value headCol = rewriter.create<arith::MulIOp>(
      loc, head, rewriter.create<arith::ConstantIndexOp>(loc, d));
  uint64_t salt =
      (static_cast<uint64_t>(op.getStream()) + 1) * 0xD1B54A32D192ED03ull;
  Tiles tiles{rewriter,
              loc,
              t,
              heads,
              d,
              dm,
              1.0 / std::sqrt(static_cast<double>(d)),
              decimal(op.getPAttr().getValue()),
              op.getCausal(),
              salt,
              seedScalar,
              pair,
              sample,
              headCol,
              mask};
  // The parts: (shared output, column base) as described above.
  struct Part {
    unsigned out;
    RankedTensorType type;
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  SmallVector<Part> partList;
  Type f32t = rewriter.getF32Type();
  for (auto [out, base] : parts) {
    Part pt{out,
            {},
            {},
            {},
            SmallVector<OpFoldResult>(3, rewriter.getIndexAttr(1))};
    if (base >= 0) {
      Value col = rewriter.create<arith::AddIOp>(
          loc, headCol, rewriter.create<arith::ConstantIndexOp>(loc, base));
      pt.type = RankedTensorType::get({t, d}, f32t);
      pt.offsets = {sample, rewriter.getIndexAttr(0), col};
      pt.sizes = {rewriter.getIndexAttr(1), rewriter.getIndexAttr(t),
                  rewriter.getIndexAttr(d)};
    } else {
      pt.type = RankedTensorType::get({t}, f32t);
      pt.offsets = {sample, head, rewriter.getIndexAttr(0)};
      pt.sizes = {rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
                  rewriter.getIndexAttr(t)};
    }
    partList.push_back(std::move(pt));
  }
  SmallVector<Value> values;
  for (Part &pt : partList)
    values.push_back(rewriter.create<tensor::ExtractSliceOp>(
        loc, pt.type, forall.getRegionIterArgs()[pt.out], pt.offsets, pt.sizes,
        pt.strides));
  SmallVector<Value> results = body(tiles, values);
  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [v, pt] : llvm::zip(results, partList))
    rewriter.create<tensor::ParallelInsertSliceOp>(
        loc, v, forall.getRegionIterArgs()[pt.out], pt.offsets, pt.sizes,
        pt.strides);
  return SmallVector<Value>(forall.getResults());
}

/// nn.attention: FA2's forward, one (sample, head) pair per forall
/// iteration, query blocks then key blocks inside.
struct AttentionLowering : OpConversionPattern<nn::AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = adaptor.getQkv(), v = q;
    RankedTensorType outType = tensorType(op.getOut());
    RankedTensorType lseType = tensorType(op.getLse());
    int64_t t = outType.getDimSize(1), dm = outType.getDimSize(2);
    Value kT = transposed(rewriter, loc, q, dm, dm);
    SmallVector<Value> results = forEachPair(
        rewriter, op, adaptor.getMask(), adaptor.getSeed(),
        ValueRange{emptyLike(rewriter, loc, outType),
                   emptyLike(rewriter, loc, lseType)},
        {{0u, int64_t(0)}, {1u, int64_t(-1)}},
        [&](Tiles &tl, SmallVector<Value> parts) {
          int64_t br = std::min(kQueryBlock, t);
          int64_t whole = t / br, tail = t % br;
          auto loop = tl.b.create<scf::ForOp>(
              loc, tl.index(0), tl.index(whole * br), tl.index(br),
              ValueRange{parts[0], parts[1]},
              [&](OpBuilder &, Location l, Value row0, ValueRange c) {
                auto [out, lse] = tl.forwardQueryBlock(q, kT, v, row0, br);
                tl.b.create<scf::YieldOp>(
                    l, ValueRange{tl.putPart(out, c[0], row0),
                                  tl.putPart(lse, c[1], row0)});
              });
          SmallVector<Value> r(loop.getResults());
          if (tail) {
            Value row0 = tl.index(whole * br);
            auto [out, lse] = tl.forwardQueryBlock(q, kT, v, row0, tail);
            r = {tl.putPart(out, r[0], row0), tl.putPart(lse, r[1], row0)};
          }
          return r;
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// nn.attention_grad: FA2's backward, one (sample, head) pair per forall
/// iteration, key blocks then query blocks inside.
struct AttentionGradLowering : OpConversionPattern<nn::AttentionGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::AttentionGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = adaptor.getQkv(), k = q;
    Value dout = adaptor.getDout();
    RankedTensorType ot = tensorType(op.getOut());
    int64_t n = ot.getDimSize(0), t = ot.getDimSize(1), dm = ot.getDimSize(2);
    Value kT = transposed(rewriter, loc, q, dm, dm);
    Value vT = transposed(rewriter, loc, q, 2 * dm, dm);
    int64_t heads = op.getHeads(), d = dm / heads;
    // D = rowsum over each head's columns of dO * O: [N, heads, T].
    auto dType = RankedTensorType::get({n, heads, t}, rewriter.getF32Type());
    Value dsumAll;
    {
      MLIRContext *ctx = rewriter.getContext();
      auto e = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
      auto prod =
          RankedTensorType::get({n, t, heads, d}, rewriter.getF32Type());
      auto expand = [&](Value x) -> Value {
        return rewriter.create<tensor::ExpandShapeOp>(
            loc, prod, x, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
      };
      // Loops (n, h, t, c) over dO[n, t, h, c] O[n, t, h, c].
      AffineMap in = AffineMap::get(4, 0, {e(0), e(2), e(1), e(3)}, ctx);
      AffineMap out = AffineMap::get(4, 0, {e(0), e(1), e(2)}, ctx);
      SmallVector<utils::IteratorType> iters = parallel(4);
      iters[3] = utils::IteratorType::reduction;
      dsumAll =
          rewriter
              .create<linalg::GenericOp>(
                  loc, TypeRange{dType},
                  ValueRange{expand(dout), expand(adaptor.getOut())},
                  ValueRange{filled(rewriter, loc, dType, 0.0)},
                  ArrayRef<AffineMap>{in, in, out}, iters,
                  [](OpBuilder &nb, Location nl, ValueRange a) {
                    Value p = nb.create<arith::MulFOp>(nl, a[0], a[1]);
                    nb.create<linalg::YieldOp>(
                        nl, ValueRange{nb.create<arith::AddFOp>(nl, a[2], p)});
                  })
              .getResult(0);
    }
    Value lseAll = adaptor.getLse();
    // One shared output, three parts per pair: dQ (accumulated over the
    // key blocks, so it starts at zero), dK and dV.
    Value zeros = filled(rewriter, loc, tensorType(op.getDqkv()), 0.0);
    SmallVector<Value> results = forEachPair(
        rewriter, op, adaptor.getMask(), adaptor.getSeed(), ValueRange{zeros},
        {{0u, int64_t(0)}, {0u, dm}, {0u, 2 * dm}},
        [&](Tiles &tl, SmallVector<Value> parts) {
          OpBuilder &b = tl.b;
          auto rowOf = [&](Value all) -> Value {
            return b.create<tensor::ExtractSliceOp>(
                loc, tl.type({t}), all,
                ArrayRef<OpFoldResult>{
                    tl.sample,
                    b.create<arith::RemUIOp>(loc, tl.pair, tl.index(heads))
                        .getResult(),
                    tl.at(0)},
                ArrayRef<OpFoldResult>{tl.at(1), tl.at(1), tl.at(t)},
                ArrayRef<OpFoldResult>{tl.at(1), tl.at(1), tl.at(1)});
          };
          Value lse = rowOf(lseAll), dsum = rowOf(dsumAll);
          int64_t bc = std::min(kKeyBlock, t);
          int64_t whole = t / bc, tail = t % bc;
          auto loop = b.create<scf::ForOp>(
              loc, tl.index(0), tl.index(whole * bc), tl.index(bc),
              ValueRange{parts[0], parts[1], parts[2]},
              [&](OpBuilder &, Location l, Value col0, ValueRange c) {
                Value dq = c[0], dk = c[1], dv = c[2];
                tl.backwardKeyBlock(q, k, kT, vT, dout, lse, dsum, col0, bc, dk,
                                    dv, dq);
                b.create<scf::YieldOp>(l, ValueRange{dq, dk, dv});
              });
          Value dq = loop.getResult(0), dk = loop.getResult(1),
                dv = loop.getResult(2);
          if (tail)
            tl.backwardKeyBlock(q, k, kT, vT, dout, lse, dsum,
                                tl.index(whole * bc), tail, dk, dv, dq);
          return SmallVector<Value>{dq, dk, dv};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void nnc::populateNNAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<AttentionLowering, AttentionGradLowering>(patterns.getContext());
}
