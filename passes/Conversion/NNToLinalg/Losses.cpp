//===- Losses.cpp - nn -> linalg patterns for losses and their gradients --===//
//
// Every loss is a masked mean, PyTorch's default reduction on the unpadded
// batch: with m the [batch] mask (1 real row, 0 padding), count = sum(m)
// (0 counts as 1) and n the elements per row,
//
//   mse/mae/huber/bce:  L = sum_b m_b sum_i f(p_bi, t_bi) / (count n)
//   cross_entropy:      L = sum_b m_b row_b / count
//
// The sums are linalg.generic reductions into 0-d tensors; the division is
// scalar code. A padding row contributes exactly 0 whatever it holds.
// Gradients are elementwise generics scaled by g / (count n) (g / count for
// cross entropy), g being the incoming 0-d gradient.
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

using PointFn = function_ref<Value(OpBuilder &, Location, Value p, Value t)>;

/// The number of elements of one row (all dimensions but the batch).
static int64_t elementsPerRow(RankedTensorType type) {
  return type.getNumElements() / type.getDimSize(0);
}

/// sum_b m_b sum_i f(p_bi, t_bi) as a scalar: one generic whose loops all
/// reduce into a 0-d zero-filled tensor.
static Value maskedSum(OpBuilder &b, Location loc, Value p, Value t, Value mask,
                       PointFn f) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = tensorType(p).getRank();
  auto scalarType = RankedTensorType::get({}, b.getF32Type());
  AffineMap id = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps = {id, id, rowMap(ctx, rank),
                                 AffineMap::get(rank, 0, {}, ctx)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::reduction);
  Value sum = b.create<linalg::GenericOp>(
                   loc, TypeRange{scalarType}, ValueRange{p, t, mask},
                   ValueRange{filled(b, loc, scalarType, 0.0)}, maps, iters,
                   [&](OpBuilder &nb, Location nl, ValueRange args) {
                     Value v =
                         masked(nb, nl, args[2], f(nb, nl, args[0], args[1]));
                     Value s = nb.create<arith::AddFOp>(nl, args[3], v);
                     nb.create<linalg::YieldOp>(nl, s);
                   })
                  .getResult(0);
  return extractScalar(b, loc, sum);
}

/// count n with count = sum(mask), 0 replaced by 1.
static Value meanDivisor(OpBuilder &b, Location loc, Value p, Value mask) {
  Value count = guardedCount(b, loc, sumAll1D(b, loc, mask));
  Value n = f32(b, loc, static_cast<double>(elementsPerRow(tensorType(p))));
  return b.create<arith::MulFOp>(loc, count, n);
}

/// The 0-d loss sum_b m_b sum_i f(p_bi, t_bi) / (count n).
static Value maskedMean(OpBuilder &b, Location loc, Value p, Value t,
                        Value mask, PointFn f) {
  Value sum = maskedSum(b, loc, p, t, mask, f);
  Value loss = b.create<arith::DivFOp>(loc, sum, meanDivisor(b, loc, p, mask));
  return scalarTensor(b, loc, loss);
}

/// The gradient df(p, t)/dp m g / (count n), elementwise over p.
static Value maskedMeanGrad(OpBuilder &b, Location loc, Value g, Value p,
                            Value t, Value mask, PointFn df) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType type = tensorType(p);
  unsigned rank = type.getRank();
  Value scale = b.create<arith::DivFOp>(loc, extractScalar(b, loc, g),
                                        meanDivisor(b, loc, p, mask));
  AffineMap id = b.getMultiDimIdentityMap(rank);
  return elementwise(b, loc, type, {p, t, mask},
                     [&](OpBuilder &nb, Location nl, ValueRange v) -> Value {
                       Value d = nb.create<arith::MulFOp>(
                           nl, df(nb, nl, v[0], v[1]), scale);
                       return masked(nb, nl, v[2], d);
                     },
                     {id, id, rowMap(ctx, rank)});
}

static Value diff(OpBuilder &b, Location l, Value p, Value t) {
  return b.create<arith::SubFOp>(l, p, t);
}

//===----------------------------------------------------------------------===//
// mse, mae, huber, bce
//===----------------------------------------------------------------------===//

/// mse_loss: mean((p - t)^2) over real rows and elements.
struct MSELossLowering : OpConversionPattern<nn::MSELossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MSELossOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, maskedMean(rewriter, op.getLoc(), a.getPrediction(), a.getTarget(),
                       a.getMask(),
                       [](OpBuilder &b, Location l, Value p, Value t) -> Value {
                         Value d = diff(b, l, p, t);
                         return b.create<arith::MulFOp>(l, d, d);
                       }));
    return success();
  }
};

/// mse_loss_grad: 2 (p - t) m g / (count n).
struct MSELossGradLowering : OpConversionPattern<nn::MSELossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MSELossGradOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op,
        maskedMeanGrad(rewriter, op.getLoc(), a.getGrad(), a.getPrediction(),
                       a.getTarget(), a.getMask(),
                       [](OpBuilder &b, Location l, Value p, Value t) -> Value {
                         return b.create<arith::MulFOp>(l, f32(b, l, 2.0),
                                                        diff(b, l, p, t));
                       }));
    return success();
  }
};

/// mae_loss: mean(|p - t|) over real rows and elements.
struct MAELossLowering : OpConversionPattern<nn::MAELossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MAELossOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, maskedMean(rewriter, op.getLoc(), a.getPrediction(), a.getTarget(),
                       a.getMask(),
                       [](OpBuilder &b, Location l, Value p, Value t) -> Value {
                         return b.create<math::AbsFOp>(l, diff(b, l, p, t));
                       }));
    return success();
  }
};

/// sign(d) with sign(0) = 0, as torch.sign (and torch's l1 gradient).
static Value sign(OpBuilder &b, Location l, Value d) {
  Value zero = f32(b, l, 0.0);
  Value pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, d, zero);
  Value neg = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, d, zero);
  Value s = b.create<arith::SelectOp>(l, neg, f32(b, l, -1.0), zero);
  return b.create<arith::SelectOp>(l, pos, f32(b, l, 1.0), s);
}

/// mae_loss_grad: sign(p - t) m g / (count n).
struct MAELossGradLowering : OpConversionPattern<nn::MAELossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MAELossGradOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, maskedMeanGrad(rewriter, op.getLoc(), a.getGrad(),
                           a.getPrediction(), a.getTarget(), a.getMask(),
                           [](OpBuilder &b, Location l, Value p, Value t) {
                             return sign(b, l, diff(b, l, p, t));
                           }));
    return success();
  }
};

/// huber_loss (torch.nn.HuberLoss): with d = p - t,
/// 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta).
struct HuberLossLowering : OpConversionPattern<nn::HuberLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::HuberLossOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    double delta = decimal(op.getDelta());
    rewriter.replaceOp(
        op, maskedMean(
                rewriter, op.getLoc(), a.getPrediction(), a.getTarget(),
                a.getMask(),
                [&](OpBuilder &b, Location l, Value p, Value t) -> Value {
                  Value d = diff(b, l, p, t);
                  Value ad = b.create<math::AbsFOp>(l, d);
                  Value small = b.create<arith::CmpFOp>(
                      l, arith::CmpFPredicate::OLT, ad, f32(b, l, delta));
                  Value quad = b.create<arith::MulFOp>(
                      l, f32(b, l, 0.5), b.create<arith::MulFOp>(l, d, d));
                  Value lin = b.create<arith::MulFOp>(
                      l, f32(b, l, delta),
                      b.create<arith::SubFOp>(l, ad, f32(b, l, 0.5 * delta)));
                  return b.create<arith::SelectOp>(l, small, quad, lin);
                }));
    return success();
  }
};

/// huber_loss_grad: clamp(p - t, -delta, delta) m g / (count n).
struct HuberLossGradLowering : OpConversionPattern<nn::HuberLossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::HuberLossGradOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    double delta = decimal(op.getDelta());
    rewriter.replaceOp(
        op, maskedMeanGrad(
                rewriter, op.getLoc(), a.getGrad(), a.getPrediction(),
                a.getTarget(), a.getMask(),
                [&](OpBuilder &b, Location l, Value p, Value t) -> Value {
                  Value d = diff(b, l, p, t);
                  Value lo =
                      b.create<arith::MaximumFOp>(l, d, f32(b, l, -delta));
                  return b.create<arith::MinimumFOp>(l, lo, f32(b, l, delta));
                }));
    return success();
  }
};

/// sigmoid(z) = 1 / (1 + exp(-z)).
static Value sigmoid(OpBuilder &b, Location l, Value z) {
  Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, z));
  return b.create<arith::DivFOp>(l, f32(b, l, 1.0),
                                 b.create<arith::AddFOp>(l, f32(b, l, 1.0), e));
}

/// bce_loss (torch.nn.BCEWithLogitsLoss), stable:
/// max(z, 0) - z t + log1p(exp(-|z|)).
struct BCELossLowering : OpConversionPattern<nn::BCELossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BCELossOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, maskedMean(rewriter, op.getLoc(), a.getPrediction(), a.getTarget(),
                       a.getMask(),
                       [](OpBuilder &b, Location l, Value z, Value t) -> Value {
                         Value relu =
                             b.create<arith::MaximumFOp>(l, z, f32(b, l, 0.0));
                         Value zt = b.create<arith::MulFOp>(l, z, t);
                         Value negAbs = b.create<arith::NegFOp>(
                             l, b.create<math::AbsFOp>(l, z));
                         Value soft = b.create<math::Log1pOp>(
                             l, b.create<math::ExpOp>(l, negAbs));
                         return b.create<arith::AddFOp>(
                             l, b.create<arith::SubFOp>(l, relu, zt), soft);
                       }));
    return success();
  }
};

/// bce_loss_grad: (sigmoid(z) - t) m g / (count n).
struct BCELossGradLowering : OpConversionPattern<nn::BCELossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BCELossGradOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op,
        maskedMeanGrad(rewriter, op.getLoc(), a.getGrad(), a.getPrediction(),
                       a.getTarget(), a.getMask(),
                       [](OpBuilder &b, Location l, Value z, Value t) -> Value {
                         return b.create<arith::SubFOp>(l, sigmoid(b, l, z), t);
                       }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// cross entropy
//===----------------------------------------------------------------------===//

/// Row statistics of [B, C] logits: max_b = max_c z, and, after it, one
/// generic over (b, c) reducing c into sumexp_b = sum_c exp(z - max_b) and,
/// when `withLabelSums`, sumz_b = sum_c z and zy_b = z[b, y_b].
struct RowStats {
  Value max, sumExp, sumZ, zAtLabel;
};

static RowStats rowStats(OpBuilder &b, Location loc, Value z, Value labels,
                         bool withLabelSums) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType type = tensorType(z);
  auto rowType =
      RankedTensorType::get({type.getDimSize(0)}, type.getElementType());
  RowStats s;
  s.max =
      b.create<linalg::ReduceOp>(
           loc, ValueRange{z}, ValueRange{filled(b, loc, rowType, -INFINITY)},
           ArrayRef<int64_t>{1},
           [](OpBuilder &nb, Location nl, ValueRange args) {
             Value m = nb.create<arith::MaximumFOp>(nl, args[1], args[0]);
             nb.create<linalg::YieldOp>(nl, m);
           })
          .getResult(0);
  AffineMap id = b.getMultiDimIdentityMap(2), row = rowMap(ctx, 2);
  SmallVector<Value> ins = {z, s.max}, outs = {filled(b, loc, rowType, 0.0)};
  SmallVector<AffineMap> maps = {id, row, row};
  if (withLabelSums) {
    ins.push_back(labels);
    maps.insert(maps.begin() + 2, row);
    outs.push_back(filled(b, loc, rowType, 0.0));
    outs.push_back(filled(b, loc, rowType, 0.0));
    maps.push_back(row);
    maps.push_back(row);
  }
  SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                            utils::IteratorType::reduction};
  SmallVector<Type> resultTypes(outs.size(), rowType);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultTypes, ins, outs, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value zv = args[0], mx = args[1];
        Value e =
            nb.create<math::ExpOp>(nl, nb.create<arith::SubFOp>(nl, zv, mx));
        unsigned o = ins.size();
        SmallVector<Value> yields = {nb.create<arith::AddFOp>(nl, args[o], e)};
        if (withLabelSums) {
          yields.push_back(nb.create<arith::AddFOp>(nl, args[o + 1], zv));
          Value c = nb.create<linalg::IndexOp>(nl, 1);
          Value y =
              nb.create<arith::IndexCastOp>(nl, nb.getIndexType(), args[2]);
          Value isLabel =
              nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::eq, c, y);
          Value pick =
              nb.create<arith::SelectOp>(nl, isLabel, zv, f32(nb, nl, 0.0));
          yields.push_back(nb.create<arith::AddFOp>(nl, args[o + 2], pick));
        }
        nb.create<linalg::YieldOp>(nl, yields);
      });
  s.sumExp = generic.getResult(0);
  if (withLabelSums) {
    s.sumZ = generic.getResult(1);
    s.zAtLabel = generic.getResult(2);
  }
  return s;
}

/// Logits with a label per position, z [B, T, C] and y [B, T], as the rows
/// of [B T, C] and [B T] with the row mask repeated T times: every position
/// of a real row counts once in the mean.
struct TokenRows {
  Value z, y, mask;
  int64_t positions = 0; ///< T; 0 when the logits were already [B, C]
};

static TokenRows tokenRows(OpBuilder &b, Location loc, Value z, Value y,
                           Value mask) {
  RankedTensorType type = tensorType(z);
  if (type.getRank() != 3)
    return {z, y, mask, 0};
  int64_t batch = type.getDimSize(0), t = type.getDimSize(1);
  SmallVector<ReassociationIndices> rows{{0, 1}, {2}}, labels{{0, 1}};
  TokenRows r;
  r.positions = t;
  r.z = b.create<tensor::CollapseShapeOp>(loc, z, rows);
  r.y = b.create<tensor::CollapseShapeOp>(loc, y, labels);
  MLIRContext *ctx = b.getContext();
  auto perPosition = RankedTensorType::get({batch, t}, b.getF32Type());
  Value repeated = elementwise(
      b, loc, perPosition, {mask},
      [](OpBuilder &, Location, ValueRange v) -> Value { return v[0]; },
      {AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx)});
  r.mask = b.create<tensor::CollapseShapeOp>(loc, repeated, labels);
  return r;
}

/// cross_entropy_loss (torch.nn.CrossEntropyLoss(label_smoothing = e)) on
/// logits z [B, C] and labels y [B], through logsumexp:
///   lse = max + log(sum exp(z - max)),  logp_c = z_c - lse,
///   row = -(1 - e) logp_y - (e / C) sum_c logp_c,
///   L = sum_b m_b row_b / count.
struct CrossEntropyLossLowering : OpConversionPattern<nn::CrossEntropyLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::CrossEntropyLossOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    TokenRows in = tokenRows(rewriter, loc, a.getPrediction(), a.getTarget(),
                             a.getMask());
    RankedTensorType type = tensorType(in.z);
    double e = decimal(op.getLabelSmoothing());
    double classes = static_cast<double>(type.getDimSize(1));
    RowStats s = rowStats(rewriter, loc, in.z, in.y, /*withLabelSums=*/true);
    // One generic over the batch reduces the rows and the mask together.
    auto scalarType = RankedTensorType::get({}, rewriter.getF32Type());
    AffineMap id = rewriter.getMultiDimIdentityMap(1),
              scalar = AffineMap::get(1, 0, {}, ctx);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{scalarType, scalarType},
        ValueRange{s.max, s.sumExp, s.sumZ, s.zAtLabel, in.mask},
        ValueRange{filled(rewriter, loc, scalarType, 0.0),
                   filled(rewriter, loc, scalarType, 0.0)},
        ArrayRef<AffineMap>{id, id, id, id, id, scalar, scalar},
        ArrayRef<utils::IteratorType>{utils::IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value lse = b.create<arith::AddFOp>(
              l, args[0], b.create<math::LogOp>(l, args[1]));
          Value logpY = b.create<arith::SubFOp>(l, args[3], lse);
          Value sumLogp = b.create<arith::SubFOp>(
              l, args[2], b.create<arith::MulFOp>(l, f32(b, l, classes), lse));
          Value row = b.create<arith::MulFOp>(l, f32(b, l, -(1.0 - e)), logpY);
          if (e != 0.0)
            row = b.create<arith::SubFOp>(
                l, row,
                b.create<arith::MulFOp>(l, f32(b, l, e / classes), sumLogp));
          Value m = args[4];
          Value acc = b.create<arith::AddFOp>(l, args[5], masked(b, l, m, row));
          Value count = b.create<arith::AddFOp>(l, args[6], m);
          b.create<linalg::YieldOp>(l, ValueRange{acc, count});
        });
    Value sum = extractScalar(rewriter, loc, generic.getResult(0));
    Value count = guardedCount(
        rewriter, loc, extractScalar(rewriter, loc, generic.getResult(1)));
    Value loss = rewriter.create<arith::DivFOp>(loc, sum, count);
    rewriter.replaceOp(op, scalarTensor(rewriter, loc, loss));
    return success();
  }
};

/// cross_entropy_loss_grad: (softmax(z) - q) m g / count with the smoothed
/// target q_c = (1 - e) [c == y] + e / C.
struct CrossEntropyLossGradLowering
    : OpConversionPattern<nn::CrossEntropyLossGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::CrossEntropyLossGradOp op, OpAdaptor a,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    TokenRows in = tokenRows(rewriter, loc, a.getPrediction(), a.getTarget(),
                             a.getMask());
    Value z = in.z;
    RankedTensorType type = tensorType(z);
    double e = decimal(op.getLabelSmoothing());
    double classes = static_cast<double>(type.getDimSize(1));
    RowStats s = rowStats(rewriter, loc, z, in.y, /*withLabelSums=*/false);
    Value count =
        guardedCount(rewriter, loc, sumAll1D(rewriter, loc, in.mask));
    Value scale = rewriter.create<arith::DivFOp>(
        loc, extractScalar(rewriter, loc, a.getGrad()), count);
    AffineMap id = rewriter.getMultiDimIdentityMap(2), row = rowMap(ctx, 2);
    Value dz = elementwise(
        rewriter, loc, type, {z, s.max, s.sumExp, in.y, in.mask},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value p = b.create<arith::DivFOp>(
              l,
              b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, v[0], v[1])),
              v[2]);
          Value c = b.create<linalg::IndexOp>(l, 1);
          Value y = b.create<arith::IndexCastOp>(l, b.getIndexType(), v[3]);
          Value isLabel =
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, y);
          Value q = b.create<arith::SelectOp>(
              l, isLabel, f32(b, l, (1.0 - e) + e / classes),
              f32(b, l, e / classes));
          Value d = b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, p, q),
                                            scale);
          return masked(b, l, v[4], d);
        },
        {id, row, row, row, row});
    if (in.positions > 0)
      dz = rewriter.create<tensor::ExpandShapeOp>(
          loc, tensorType(a.getPrediction()), dz,
          SmallVector<ReassociationIndices>{{0, 1}, {2}});
    rewriter.replaceOp(op, dz);
    return success();
  }
};

} // namespace

void nnc::populateNNLossPatterns(RewritePatternSet &patterns) {
  patterns.add<MSELossLowering, MSELossGradLowering, MAELossLowering,
               MAELossGradLowering, HuberLossLowering, HuberLossGradLowering,
               BCELossLowering, BCELossGradLowering, CrossEntropyLossLowering,
               CrossEntropyLossGradLowering>(patterns.getContext());
}
