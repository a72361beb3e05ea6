//===- Optimizers.cpp - nn -> linalg patterns for updates and schedules ---===//
//
// Each optimizer update becomes one elementwise linalg.generic from the
// gradient, the parameter and its state to their new values (into empty
// destinations: the training entry point writes them back into the state
// arena, and empty-tensor elimination turns that into an update in place,
// with no copy of the arena in or out). Scalars (the learning rate, the
// step, bias corrections) are computed before the generic, in f64 where
// torch computes them in Python floats. The learning-rate schedule is scalar
// arith/math code. Magnitude pruning finds the k-th smallest magnitude by
// bisection over the magnitudes' bit patterns (31 counting reductions) and
// masks with one elementwise generic.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

using UpdateFn = function_ref<SmallVector<Value>(OpBuilder &, Location,
                                                 Value grad, ValueRange state)>;

/// One elementwise generic over `grad`'s shape reading the gradient and
/// `state`, writing new state into empty destinations: the body gets the
/// gradient element and the current state elements and returns the new ones.
static ValueRange updateInPlace(OpBuilder &b, Location loc, Value grad,
                                ValueRange state, UpdateFn update) {
  RankedTensorType type = tensorType(grad);
  unsigned rank = type.getRank();
  SmallVector<AffineMap> maps(2 * state.size() + 1,
                              b.getMultiDimIdentityMap(rank));
  SmallVector<Type> types(state.size(), type);
  SmallVector<Value> ins{grad}, outs;
  for (Value s : state) {
    ins.push_back(s);
    outs.push_back(emptyLike(b, loc, type));
  }
  auto generic = b.create<linalg::GenericOp>(
      loc, types, ins, outs, maps, parallel(rank),
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        nb.create<linalg::YieldOp>(
            nl, update(nb, nl, args[0], args.slice(1, state.size())));
      });
  return generic.getResults();
}

/// g + wd p, or g when wd is 0 (weight decay added to the gradient).
static Value decayed(OpBuilder &b, Location l, Value g, Value p, double wd) {
  if (wd == 0.0)
    return g;
  return b.create<arith::AddFOp>(l, g,
                                 b.create<arith::MulFOp>(l, p, f32(b, l, wd)));
}

/// sgd_update, torch.optim.SGD:
///   g = grad + wd p
///   momentum != 0:  b = g on the first step (step == 0),
///                   else b = momentum b + (1 - dampening) g;
///                   g = g + momentum b (nesterov) or g = b
///   p = p - lr g
/// Without momentum the buffer is returned unchanged.
struct SGDUpdateLowering : OpConversionPattern<nn::SGDUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::SGDUpdateOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double momentum = decimal(op.getMomentum());
    double dampening = decimal(op.getDampening());
    double wd = decimal(op.getWeightDecay());
    bool nesterov = op.getNesterov();
    if (nesterov && (momentum <= 0.0 || dampening != 0.0))
      return rewriter.notifyMatchFailure(
          op, "nesterov needs momentum > 0 and zero dampening (as torch)");
    Value lr = extractScalar(rewriter, loc, a.getLr());
    Value negLr = rewriter.create<arith::NegFOp>(loc, lr);
    if (momentum == 0.0) {
      ValueRange r = updateInPlace(
          rewriter, loc, a.getGrad(), ValueRange{a.getParam()},
          [&](OpBuilder &b, Location l, Value grad, ValueRange s) {
            Value g = decayed(b, l, grad, s[0], wd);
            Value p = b.create<arith::AddFOp>(
                l, s[0], b.create<arith::MulFOp>(l, g, negLr));
            return SmallVector<Value>{p};
          });
      rewriter.replaceOp(op, {r[0], a.getMomentumBuffer()});
      return success();
    }
    Value step = extractScalar(rewriter, loc, a.getStep());
    Value zero =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getI64IntegerAttr(0));
    Value first = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                 step, zero);
    ValueRange r = updateInPlace(
        rewriter, loc, a.getGrad(),
        ValueRange{a.getParam(), a.getMomentumBuffer()},
        [&](OpBuilder &b, Location l, Value grad, ValueRange s) {
          Value g = decayed(b, l, grad, s[0], wd);
          Value later = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, s[1], f32(b, l, momentum)),
              b.create<arith::MulFOp>(l, g, f32(b, l, 1.0 - dampening)));
          Value buf = b.create<arith::SelectOp>(l, first, g, later);
          Value d =
              nesterov
                  ? Value(b.create<arith::AddFOp>(
                        l, g,
                        b.create<arith::MulFOp>(l, buf, f32(b, l, momentum))))
                  : buf;
          Value p = b.create<arith::AddFOp>(
              l, s[0], b.create<arith::MulFOp>(l, d, negLr));
          return SmallVector<Value>{p, buf};
        });
    rewriter.replaceOp(op, {r[0], r[1]});
    return success();
  }
};

/// adam_update, torch.optim.Adam / AdamW (decoupled), with t = step + 1:
///   Adam: g = grad + wd p;  AdamW: p = p (1 - lr wd), g = grad
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// The bias corrections are f64 scalar code (math.powf) before the generic.
struct AdamUpdateLowering : OpConversionPattern<nn::AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::AdamUpdateOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double b1 = decimal(op.getBeta1());
    double b2 = decimal(op.getBeta2());
    double eps = decimal(op.getEps());
    double wd = decimal(op.getWeightDecay());
    bool decoupled = op.getDecoupled();
    OpBuilder &b = rewriter;
    Type f64Type = b.getF64Type(), f32Type = b.getF32Type();

    Value lr = extractScalar(b, loc, a.getLr());
    Value step = extractScalar(b, loc, a.getStep());
    Value one64 = f64(b, loc, 1.0);
    Value t = b.create<arith::AddFOp>(
        loc, b.create<arith::SIToFPOp>(loc, f64Type, step), one64);
    Value bc1 = b.create<arith::SubFOp>(
        loc, one64, b.create<math::PowFOp>(loc, f64(b, loc, b1), t));
    Value bc2 = b.create<arith::SubFOp>(
        loc, one64, b.create<math::PowFOp>(loc, f64(b, loc, b2), t));
    Value lr64 = b.create<arith::ExtFOp>(loc, f64Type, lr);
    Value stepSize = b.create<arith::TruncFOp>(
        loc, f32Type, b.create<arith::DivFOp>(loc, lr64, bc1));
    Value bc2Sqrt = b.create<arith::TruncFOp>(loc, f32Type,
                                              b.create<math::SqrtOp>(loc, bc2));
    // AdamW's decay factor 1 - lr wd, in f64 like torch's Python float.
    Value keep;
    if (decoupled && wd != 0.0)
      keep = b.create<arith::TruncFOp>(
          loc, f32Type,
          b.create<arith::SubFOp>(
              loc, one64, b.create<arith::MulFOp>(loc, lr64, f64(b, loc, wd))));

    ValueRange r = updateInPlace(
        rewriter, loc, a.getGrad(),
        ValueRange{a.getParam(), a.getExpAvg(), a.getExpAvgSq()},
        [&](OpBuilder &nb, Location l, Value grad, ValueRange s) {
          Value p = s[0], g = grad;
          if (decoupled) {
            if (keep)
              p = nb.create<arith::MulFOp>(l, p, keep);
          } else {
            g = decayed(nb, l, grad, p, wd);
          }
          Value m = nb.create<arith::AddFOp>(
              l, nb.create<arith::MulFOp>(l, s[1], f32(nb, l, b1)),
              nb.create<arith::MulFOp>(l, g, f32(nb, l, 1.0 - b1)));
          Value gg = nb.create<arith::MulFOp>(l, g, g);
          Value v = nb.create<arith::AddFOp>(
              l, nb.create<arith::MulFOp>(l, s[2], f32(nb, l, b2)),
              nb.create<arith::MulFOp>(l, gg, f32(nb, l, 1.0 - b2)));
          Value denom = nb.create<arith::AddFOp>(
              l,
              nb.create<arith::DivFOp>(l, nb.create<math::SqrtOp>(l, v),
                                       bc2Sqrt),
              f32(nb, l, eps));
          Value upd = nb.create<arith::MulFOp>(
              l, stepSize, nb.create<arith::DivFOp>(l, m, denom));
          Value np = nb.create<arith::SubFOp>(l, p, upd);
          return SmallVector<Value>{np, m, v};
        });
    rewriter.replaceOp(op, {r[0], r[1], r[2]});
    return success();
  }
};

/// rmsprop_update, torch.optim.RMSprop (not centered):
///   g = grad + wd p;  s = alpha s + (1 - alpha) g^2;  a = sqrt(s) + eps
///   momentum > 0:  b = momentum b + g / a;  p = p - lr b
///   else:          p = p - lr g / a   (the buffer is returned unchanged)
struct RMSpropUpdateLowering : OpConversionPattern<nn::RMSpropUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::RMSpropUpdateOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double alpha = decimal(op.getAlpha());
    double eps = decimal(op.getEps());
    double momentum = decimal(op.getMomentum());
    double wd = decimal(op.getWeightDecay());
    Value lr = extractScalar(rewriter, loc, a.getLr());
    Value negLr = rewriter.create<arith::NegFOp>(loc, lr);
    bool withMomentum = momentum > 0.0;
    SmallVector<Value> state = {a.getParam(), a.getSquareAvg()};
    if (withMomentum)
      state.push_back(a.getMomentumBuffer());
    ValueRange r = updateInPlace(
        rewriter, loc, a.getGrad(), state,
        [&](OpBuilder &b, Location l, Value grad, ValueRange s) {
          Value g = decayed(b, l, grad, s[0], wd);
          Value sq = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, s[1], f32(b, l, alpha)),
              b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, g, g),
                                      f32(b, l, 1.0 - alpha)));
          Value avg = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, sq),
                                              f32(b, l, eps));
          Value step = b.create<arith::DivFOp>(l, g, avg);
          SmallVector<Value> out;
          if (withMomentum) {
            Value buf = b.create<arith::AddFOp>(
                l, b.create<arith::MulFOp>(l, s[2], f32(b, l, momentum)), step);
            out = {b.create<arith::AddFOp>(
                       l, s[0], b.create<arith::MulFOp>(l, buf, negLr)),
                   sq, buf};
          } else {
            out = {b.create<arith::AddFOp>(
                       l, s[0], b.create<arith::MulFOp>(l, step, negLr)),
                   sq};
          }
          return out;
        });
    if (withMomentum)
      rewriter.replaceOp(op, {r[0], r[1], r[2]});
    else
      rewriter.replaceOp(op, {r[0], r[1], a.getMomentumBuffer()});
    return success();
  }
};

/// lr_schedule: the learning rate at optimizer step `step` (counted from 0),
/// computed in f64 and returned as f32. With lr = base_lr, spe =
/// max(steps_per_epoch, 1), epochs the run's (operand: `--epochs` or the
/// file's) and epoch = floor(step / spe) (integer division):
///
///   constant:     lr
///   step:         lr * gamma ^ floor(epoch / every)
///   exponential:  lr * gamma ^ epoch
///   cosine, linear (warmup W epochs, warmup_steps = round(W * spe), half
///   away from zero; total_steps = epochs * spe):
///     step < warmup_steps:  lr * (step + 1) / warmup_steps
///     otherwise, with progress = min((step - warmup_steps) /
///                                    max(total_steps - warmup_steps, 1), 1):
///       cosine:  min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2
///       linear:  lr + (end_lr - lr) * progress
///
/// `warmup` is ignored by constant, step and exponential. This is the
/// contract with the runtime, which logs the value returned here.
struct LRScheduleLowering : OpConversionPattern<nn::LRScheduleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::LRScheduleOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Type f64Type = b.getF64Type();
    nn::ScheduleAttr schedule = op.getSchedule();
    double lr = op.getBaseLr().convertToDouble();
    double gamma = schedule.getGamma().convertToDouble();
    double every = schedule.getEvery().convertToDouble();
    if (schedule.getKind() == nn::ScheduleKind::Step && every <= 0.0)
      return rewriter.notifyMatchFailure(op, "step schedule needs every > 0");

    Value step = extractScalar(b, loc, a.getStep());
    Value spe = b.create<arith::MaxSIOp>(
        loc, extractScalar(b, loc, a.getStepsPerEpoch()),
        b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(1)));
    auto toF64 = [&](Value i) -> Value {
      return b.create<arith::SIToFPOp>(loc, f64Type, i);
    };
    Value stepF = toF64(step), speF = toF64(spe);
    // step >= 0 and spe >= 1: truncating division is the floor (and, unlike
    // arith.floordivsi, needs no arith-expand before the LLVM lowering).
    Value epoch = toF64(b.create<arith::DivSIOp>(loc, step, spe));
    Value lrC = f64(b, loc, lr);

    Value result;
    switch (schedule.getKind()) {
    case nn::ScheduleKind::Constant:
      result = lrC;
      break;
    case nn::ScheduleKind::Step: {
      Value k = b.create<math::FloorOp>(
          loc, b.create<arith::DivFOp>(loc, epoch, f64(b, loc, every)));
      result = b.create<arith::MulFOp>(
          loc, lrC, b.create<math::PowFOp>(loc, f64(b, loc, gamma), k));
      break;
    }
    case nn::ScheduleKind::Exponential:
      result = b.create<arith::MulFOp>(
          loc, lrC, b.create<math::PowFOp>(loc, f64(b, loc, gamma), epoch));
      break;
    case nn::ScheduleKind::Cosine:
    case nn::ScheduleKind::Linear: {
      double warmup = schedule.getWarmup().convertToDouble();
      Value ws = b.create<math::RoundOp>(
          loc, b.create<arith::MulFOp>(loc, f64(b, loc, warmup), speF));
      Value total = b.create<arith::MulFOp>(
          loc, toF64(extractScalar(b, loc, a.getEpochs())), speF);
      Value span = b.create<arith::MaximumFOp>(
          loc, b.create<arith::SubFOp>(loc, total, ws), f64(b, loc, 1.0));
      Value progress = b.create<arith::MinimumFOp>(
          loc,
          b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, stepF, ws),
                                  span),
          f64(b, loc, 1.0));
      Value decay;
      if (schedule.getKind() == nn::ScheduleKind::Cosine) {
        double minLr = schedule.getMinLr().convertToDouble();
        Value cos = b.create<math::CosOp>(
            loc, b.create<arith::MulFOp>(loc, f64(b, loc, M_PI), progress));
        Value half = b.create<arith::MulFOp>(
            loc, f64(b, loc, 0.5),
            b.create<arith::AddFOp>(loc, f64(b, loc, 1.0), cos));
        decay = b.create<arith::AddFOp>(
            loc, f64(b, loc, minLr),
            b.create<arith::MulFOp>(loc, f64(b, loc, lr - minLr), half));
      } else {
        double endLr = schedule.getEndLr().convertToDouble();
        decay = b.create<arith::AddFOp>(
            loc, lrC,
            b.create<arith::MulFOp>(loc, f64(b, loc, endLr - lr), progress));
      }
      // The warm-up branch divides by warmup_steps only where it is taken
      // (step < warmup_steps implies warmup_steps >= 1).
      Value inWarmup =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, stepF, ws);
      Value safeWs = b.create<arith::MaximumFOp>(loc, ws, f64(b, loc, 1.0));
      Value warm = b.create<arith::DivFOp>(
          loc,
          b.create<arith::MulFOp>(
              loc, lrC, b.create<arith::AddFOp>(loc, stepF, f64(b, loc, 1.0))),
          safeWs);
      result = b.create<arith::SelectOp>(loc, inWarmup, warm, decay);
      break;
    }
    }
    Value lr32 = b.create<arith::TruncFOp>(loc, b.getF32Type(), result);
    rewriter.replaceOp(op, scalarTensor(b, loc, lr32));
    return success();
  }
};

/// The magnitude of an f32 as its bit pattern (sign cleared), an i32 that
/// orders non-negative floats as their values.
static Value magnitudeBits(OpBuilder &b, Location loc, Value x) {
  Value bits = b.create<arith::BitcastOp>(loc, b.getI32Type(), x);
  return b.create<arith::AndIOp>(
      loc, bits,
      b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(0x7fffffff)));
}

struct MagnitudePruneLowering : OpConversionPattern<nn::MagnitudePruneOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MagnitudePruneOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value w = a.getWeight();
    RankedTensorType type = tensorType(w);
    unsigned rank = type.getRank();
    Type i32 = b.getI32Type(), f64Type = b.getF64Type();
    auto i32c = [&](int32_t v) -> Value {
      return b.create<arith::ConstantOp>(loc, b.getI32IntegerAttr(v));
    };

    // k = round(s n), s = sparsity (1 - (1 - p)^3), p the share of the
    // pruning epochs done (f64, ties to even: Python's round).
    int64_t start = op.getStart(), end = op.getEnd();
    Value epoch = b.create<arith::SIToFPOp>(
        loc, f64Type, extractScalar(b, loc, a.getEpoch()));
    Value p = b.create<arith::DivFOp>(
        loc,
        b.create<arith::SubFOp>(loc, epoch, f64(b, loc, double(start - 1))),
        f64(b, loc, double(end - start + 1)));
    p = b.create<arith::MinimumFOp>(
        loc, b.create<arith::MaximumFOp>(loc, p, f64(b, loc, 0.0)),
        f64(b, loc, 1.0));
    Value left = b.create<arith::SubFOp>(loc, f64(b, loc, 1.0), p);
    Value cube = b.create<arith::MulFOp>(
        loc, left, b.create<arith::MulFOp>(loc, left, left));
    Value s = b.create<arith::MulFOp>(
        loc, f64(b, loc, op.getSparsity().convertToDouble()),
        b.create<arith::SubFOp>(loc, f64(b, loc, 1.0), cube));
    Value k = b.create<arith::FPToSIOp>(
        loc, i32,
        b.create<math::RoundEvenOp>(
            loc, b.create<arith::MulFOp>(
                     loc, s, f64(b, loc, double(type.getNumElements())))));

    // The smallest bit pattern T with count(bits <= T) >= k, by bisection
    // on (lo, hi] with count(<= lo) < k <= count(<= hi): lo = -1 (nothing),
    // hi = +inf (every finite weight), 31 halvings of that range.
    auto countAtMost = [&](Value bound) {
      auto countType = RankedTensorType::get({}, i32);
      Value init =
          b.create<linalg::FillOp>(loc, i32c(0), emptyLike(b, loc, countType))
              .getResult(0);
      SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                                  AffineMap::get(rank, 0, {}, b.getContext())};
      auto generic = b.create<linalg::GenericOp>(
          loc, TypeRange{countType}, ValueRange{w}, ValueRange{init}, maps,
          SmallVector<utils::IteratorType>(rank,
                                           utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value le =
                nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sle,
                                         magnitudeBits(nb, nl, args[0]), bound);
            Value one = nb.create<arith::ExtUIOp>(nl, nb.getI32Type(), le);
            nb.create<linalg::YieldOp>(
                nl, ValueRange{nb.create<arith::AddIOp>(nl, args[1], one)});
          });
      return extractScalar(b, loc, generic.getResult(0));
    };
    Value lo = i32c(-1), hi = i32c(0x7f800000);
    for (int i = 0; i < 31; ++i) {
      Value half = b.create<arith::ShRUIOp>(
          loc, b.create<arith::SubIOp>(loc, hi, lo), i32c(1));
      Value mid = b.create<arith::AddIOp>(loc, lo, half);
      Value enough = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                             countAtMost(mid), k);
      hi = b.create<arith::SelectOp>(loc, enough, mid, hi);
      lo = b.create<arith::SelectOp>(loc, enough, lo, mid);
    }
    Value none =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, k, i32c(0));
    Value threshold = b.create<arith::SelectOp>(loc, none, i32c(-1), hi);

    Value mask = elementwise(
        b, loc, type, {w, a.getMask()},
        [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
          Value keep =
              nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sgt,
                                       magnitudeBits(nb, nl, v[0]), threshold);
          return nb.create<arith::SelectOp>(nl, keep, v[1], f32(nb, nl, 0.0));
        });
    Value weight =
        elementwise(b, loc, type, {w, mask},
                    [](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                      Value zero = f32(nb, nl, 0.0);
                      Value pruned = nb.create<arith::CmpFOp>(
                          nl, arith::CmpFPredicate::OEQ, v[1], zero);
                      return nb.create<arith::SelectOp>(nl, pruned, zero, v[0]);
                    });
    rewriter.replaceOp(op, {weight, mask});
    return success();
  }
};

} // namespace

void nnc::populateNNOptimizerPatterns(RewritePatternSet &patterns) {
  patterns.add<SGDUpdateLowering, AdamUpdateLowering, RMSpropUpdateLowering,
               LRScheduleLowering, MagnitudePruneLowering>(
      patterns.getContext());
}
