//===- Normalization.cpp - batchnorm, layernorm, dropout, concat -> linalg -===/
//
// Statistics are linalg.generic reductions into zero-filled accumulators;
// the normalization itself is elementwise. Batchnorm counts only real rows
// (mask != 0). Dropout's mask is computed in the generated code from the seed
// and each element's index (see nn.dropout's description).
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

using ReduceBodyFn =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// sum over the loops whose iterator is `reduction` of body(inputs), into a
/// zero-filled `type` written through `outMap`.
static Value reduceSum(OpBuilder &b, Location loc, RankedTensorType type,
                       ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                       AffineMap outMap,
                       ArrayRef<utils::IteratorType> iterators,
                       ReduceBodyFn body) {
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(outMap);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs, ValueRange{filled(b, loc, type, 0.0)},
          maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value v = body(nb, nl, args.drop_back());
            Value s = nb.create<arith::AddFOp>(nl, args.back(), v);
            nb.create<linalg::YieldOp>(nl, s);
          })
      .getResult(0);
}

static Value addF(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::AddFOp>(l, x, y);
}
static Value subF(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::SubFOp>(l, x, y);
}
static Value mulF(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::MulFOp>(l, x, y);
}
static Value divF(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::DivFOp>(l, x, y);
}
/// 1 / sqrt(v + eps), as torch computes invstd (not math.rsqrt, which not
/// every lowering handles).
static Value invSqrt(OpBuilder &b, Location l, Value v, double eps) {
  Value s = b.create<math::SqrtOp>(l, addF(b, l, v, f32(b, l, eps)));
  return divF(b, l, f32(b, l, 1.0), s);
}

//===----------------------------------------------------------------------===//
// Batchnorm
//===----------------------------------------------------------------------===//

/// The runtime's sum over data-parallel ranks (runtime/program/Mpi.cpp):
/// `void nnrt_allreduce_f32(float *data, int64_t n)`, in place; nothing in
/// one process.
constexpr llvm::StringLiteral kAllReduce = "nnrt_allreduce_f32";

/// `t` (f32, static shape) summed over the data-parallel ranks: written
/// into a buffer of its own, summed there by the runtime in place, and
/// taken back as a tensor. The call is the only user of the buffer's
/// address, so nothing moves reads of it across the call.
static Value allReduce(OpBuilder &b, Location loc, Value t) {
  auto module =
      b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  auto i64 = b.getI64Type();
  if (!module.lookupSymbol<func::FuncOp>(kAllReduce)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto decl = b.create<func::FuncOp>(loc, kAllReduce,
                                       b.getFunctionType({i64, i64}, {}));
    decl.setPrivate();
  }
  auto type = cast<RankedTensorType>(t.getType());
  auto bufferType = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = b.create<memref::AllocOp>(loc, bufferType);
  b.create<bufferization::MaterializeInDestinationOp>(
      loc, TypeRange{}, t, buffer, /*restrict=*/true, /*writable=*/true);
  Value address = b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, buffer);
  Value pointer = b.create<arith::IndexCastOp>(loc, i64, address);
  Value count = b.create<arith::ConstantIntOp>(loc, type.getNumElements(), 64);
  b.create<func::CallOp>(loc, kAllReduce, TypeRange{},
                         ValueRange{pointer, count});
  return b
      .create<bufferization::ToTensorOp>(loc, type, buffer,
                                         /*restrict=*/true,
                                         /*writable=*/true)
      .getResult();
}

/// Per-channel statistics of x ([N, C] or [N, C, H, W]) over the real rows.
struct ChannelStats {
  Value count; ///< M = (number of real rows) * H * W, f32, >= 1
  Value mean;  ///< [C] (channelStats only)
  Value sqdev; ///< [C]: sum of m (x - mean)^2 (channelStats only)
  Value rows;  ///< this rank's real rows, f32 (0 for an empty share)
  AffineMap id, channel, row;
  SmallVector<utils::IteratorType> iters; ///< parallel over C only
};

/// The number of real elements per channel of x and the maps of its
/// per-channel reductions; `sync`: the rows are every data-parallel rank's
/// together.
static ChannelStats channelCount(OpBuilder &b, Location loc, Value x,
                                 Value mask, bool sync) {
  ChannelStats s;
  RankedTensorType type = tensorType(x);
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  s.id = b.getMultiDimIdentityMap(rank);
  s.channel = AffineMap::get(rank, 0, getAffineDimExpr(1, ctx));
  s.row = rowMap(ctx, rank);
  s.iters.assign(rank, utils::IteratorType::reduction);
  s.iters[1] = utils::IteratorType::parallel;
  int64_t spatial = 1;
  for (unsigned d = 2; d < rank; ++d)
    spatial *= type.getDimSize(d);
  s.rows = sumAll1D(b, loc, mask);
  Value rows = s.rows;
  if (sync) {
    auto scalar = RankedTensorType::get({}, b.getF32Type());
    Value t = b.create<tensor::FromElementsOp>(loc, scalar, rows);
    rows = b.create<tensor::ExtractOp>(loc, allReduce(b, loc, t), ValueRange{});
  }
  s.count = guardedCount(
      b, loc, mulF(b, loc, rows, f32(b, loc, static_cast<double>(spatial))));
  return s;
}

/// The count, mean and squared deviations of x per channel; `sync`: every
/// data-parallel rank's together.
static ChannelStats channelStats(OpBuilder &b, Location loc, Value x,
                                 Value mask, bool sync) {
  ChannelStats s = channelCount(b, loc, x, mask, sync);
  RankedTensorType type = tensorType(x);
  auto chType = RankedTensorType::get({type.getDimSize(1)}, b.getF32Type());
  Value sum = reduceSum(b, loc, chType, {x, mask}, {s.id, s.row}, s.channel,
                        s.iters, [](OpBuilder &nb, Location l, ValueRange v) {
                          return masked(nb, l, v[1], v[0]);
                        });
  if (sync)
    sum = allReduce(b, loc, sum);
  Value count = s.count;
  s.mean = elementwise(b, loc, chType, {sum},
                       [&](OpBuilder &nb, Location l, ValueRange v) {
                         return divF(nb, l, v[0], count);
                       });
  s.sqdev = reduceSum(b, loc, chType, {x, mask, s.mean},
                      {s.id, s.row, s.channel}, s.channel, s.iters,
                      [](OpBuilder &nb, Location l, ValueRange v) {
                        Value d = subF(nb, l, v[0], v[2]);
                        return masked(nb, l, v[1], mulF(nb, l, d, d));
                      });
  if (sync)
    s.sqdev = allReduce(b, loc, s.sqdev);
  return s;
}

/// 1 / sqrt(v / count + eps) per channel.
static Value invStd(OpBuilder &b, Location loc, Value sqdev, Value count,
                    double eps) {
  return elementwise(b, loc, tensorType(sqdev), {sqdev},
                     [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                       return invSqrt(nb, l, divF(nb, l, v[0], count), eps);
                     });
}

/// y = x alpha + beta per channel of x [N, C, ...], with alpha = istd w and
/// beta = b - mean alpha ([C] each, computed once): torch's CPU batchnorm
/// (batch_norm_cpu_collect_linear_and_constant_terms), one multiply-add an
/// element instead of (x - mean) istd w + b.
static Value channelAffine(OpBuilder &b, Location loc, Value x, Value mean,
                           Value istd, Value w, Value bias) {
  RankedTensorType chType = tensorType(istd);
  Value alpha = elementwise(b, loc, chType, {istd, w},
                            [](OpBuilder &nb, Location l, ValueRange v) {
                              return mulF(nb, l, v[0], v[1]);
                            });
  Value beta = elementwise(b, loc, chType, {bias, mean, alpha},
                           [](OpBuilder &nb, Location l, ValueRange v) {
                             return subF(nb, l, v[0], mulF(nb, l, v[1], v[2]));
                           });
  RankedTensorType type = tensorType(x);
  unsigned rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank),
            ch = AffineMap::get(rank, 0, getAffineDimExpr(1, b.getContext()));
  return elementwise(
      b, loc, type, {x, alpha, beta},
      [](OpBuilder &nb, Location l, ValueRange v) {
        return addF(nb, l, mulF(nb, l, v[0], v[1]), v[2]);
      },
      {id, ch, ch});
}

/// batchnorm: y = (x - mean) istd w + b (as x alpha + beta, channelAffine);
/// mean; unbiased var; istd.
struct BatchNormLowering : OpConversionPattern<nn::BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    ChannelStats s =
        channelStats(rewriter, loc, x, adaptor.getMask(), op.getSync());
    double eps = decimal(op.getEpsAttr().getValue());
    Value istd = invStd(rewriter, loc, s.sqdev, s.count, eps);
    Value y = channelAffine(rewriter, loc, x, s.mean, istd,
                            adaptor.getWeight(), adaptor.getBias());
    // Unbiased: sqdev / (M - 1), M - 1 guarded like a count.
    Value countM1 = guardedCount(
        rewriter, loc, subF(rewriter, loc, s.count, f32(rewriter, loc, 1.0)));
    Value var = elementwise(rewriter, loc, tensorType(s.sqdev), {s.sqdev},
                            [&](OpBuilder &b, Location l, ValueRange v) {
                              return divF(b, l, v[0], countM1);
                            });
    rewriter.replaceOp(op, {y, s.mean, var, istd});
    return success();
  }
};

/// batchnorm_grad: dx, dweight, dbias from the forward pass's statistics.
struct BatchNormGradLowering : OpConversionPattern<nn::BatchNormGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BatchNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput(), dy = adaptor.getGrad(),
          mask = adaptor.getMask();
    bool sync = op.getSync();
    ChannelStats s = channelCount(rewriter, loc, x, mask, sync);
    Value mean = adaptor.getMean(), istd = adaptor.getInvstd();
    RankedTensorType chType = tensorType(mean);
    Value db =
        reduceSum(rewriter, loc, chType, {dy, mask}, {s.id, s.row}, s.channel,
                  s.iters, [](OpBuilder &b, Location l, ValueRange v) {
                    return masked(b, l, v[1], v[0]);
                  });
    // torch's batch_norm_cpu_backward_template: dotp = sum dy (x - mean),
    // dw = dotp istd, and per channel k = dw istd / M and the mean gradient
    // db / M, so that an element costs no division:
    //   dx = (dy - db / M - (x - mean) k) istd w.
    Value dotp =
        reduceSum(rewriter, loc, chType, {dy, x, mask, mean},
                  {s.id, s.id, s.row, s.channel}, s.channel, s.iters,
                  [](OpBuilder &b, Location l, ValueRange v) {
                    return masked(b, l, v[2],
                                  mulF(b, l, v[0], subF(b, l, v[1], v[3])));
                  });
    Value dw = elementwise(rewriter, loc, chType, {dotp, istd},
                           [](OpBuilder &b, Location l, ValueRange v) {
                             return mulF(b, l, v[0], v[1]);
                           });
    // Synchronized: the sums in dx are every rank's, each rank's dy (of its
    // own mean loss) weighted by its rows, over this rank's rows.
    Value dbAll = db, dwAll = dw;
    if (sync) {
      Value rows = s.rows;
      auto weighted = [&](Value sum) {
        Value w = elementwise(rewriter, loc, chType, {sum},
                              [&](OpBuilder &b, Location l, ValueRange v) {
                                return mulF(b, l, v[0], rows);
                              });
        Value all = allReduce(rewriter, loc, w);
        Value own = guardedCount(rewriter, loc, rows);
        return elementwise(rewriter, loc, chType, {all},
                           [&](OpBuilder &b, Location l, ValueRange v) {
                             return divF(b, l, v[0], own);
                           });
      };
      dbAll = weighted(db);
      dwAll = weighted(dw);
    }
    Value count = s.count;
    Value meanGrad = elementwise(rewriter, loc, chType, {dbAll},
                                 [&](OpBuilder &b, Location l, ValueRange v) {
                                   return divF(b, l, v[0], count);
                                 });
    Value k = elementwise(
        rewriter, loc, chType, {dwAll, istd},
        [&](OpBuilder &b, Location l, ValueRange v) {
          return divF(b, l, mulF(b, l, v[0], v[1]), count);
        });
    Value scale = elementwise(rewriter, loc, chType, {istd, adaptor.getWeight()},
                              [](OpBuilder &b, Location l, ValueRange v) {
                                return mulF(b, l, v[0], v[1]);
                              });
    Value dx = elementwise(
        rewriter, loc, tensorType(x), {dy, x, mask, mean, meanGrad, k, scale},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value t = subF(b, l, v[0], v[4]);
          t = subF(b, l, t, mulF(b, l, subF(b, l, v[1], v[3]), v[5]));
          return masked(b, l, v[2], mulF(b, l, t, v[6]));
        },
        {s.id, s.id, s.row, s.channel, s.channel, s.channel, s.channel});
    rewriter.replaceOp(op, {dx, dw, db});
    return success();
  }
};

/// batchnorm_inference: (x - rm) / sqrt(rv + eps) w + b (channelAffine).
struct BatchNormInferenceLowering
    : OpConversionPattern<nn::BatchNormInferenceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BatchNormInferenceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    if (tensorType(x).getRank() < 2)
      return rewriter.notifyMatchFailure(op, "expects [N, C, ...]");
    double eps = decimal(op.getEpsAttr().getValue());
    Value istd = elementwise(
        rewriter, loc, tensorType(adaptor.getRunningVar()),
        {adaptor.getRunningVar()}, [&](OpBuilder &b, Location l, ValueRange v) {
          return invSqrt(b, l, v[0], eps);
        });
    Value y = channelAffine(rewriter, loc, x, adaptor.getRunningMean(), istd,
                            adaptor.getWeight(), adaptor.getBias());
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// running_average: (1 - momentum) old + momentum new.
struct RunningAverageLowering : OpConversionPattern<nn::RunningAverageOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::RunningAverageOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double m = decimal(op.getMomentumAttr().getValue());
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                        {adaptor.getOld(), adaptor.getNewValue()},
                        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                          return addF(b, l,
                                      mulF(b, l, f32(b, l, 1.0 - m), v[0]),
                                      mulF(b, l, f32(b, l, m), v[1]));
                        }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Layernorm
//===----------------------------------------------------------------------===//

/// Mean and 1 / sqrt(var + eps) of every row over the last dimension.
static std::pair<Value, Value> rowStats(OpBuilder &b, Location loc, Value x,
                                        double eps) {
  RankedTensorType type = tensorType(x);
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  AffineMap id = b.getMultiDimIdentityMap(rank), row = dropLastMap(ctx, rank);
  auto rowType =
      RankedTensorType::get(type.getShape().drop_back(), b.getF32Type());
  SmallVector<utils::IteratorType> iters = parallel(rank);
  iters.back() = utils::IteratorType::reduction;
  Value n = f32(b, loc, static_cast<double>(type.getShape().back()));
  Value sum =
      reduceSum(b, loc, rowType, {x}, {id}, row, iters,
                [](OpBuilder &, Location, ValueRange v) { return v[0]; });
  Value mean = elementwise(b, loc, rowType, {sum},
                           [&](OpBuilder &nb, Location l, ValueRange v) {
                             return divF(nb, l, v[0], n);
                           });
  Value sq = reduceSum(b, loc, rowType, {x, mean}, {id, row}, row, iters,
                       [](OpBuilder &nb, Location l, ValueRange v) {
                         Value d = subF(nb, l, v[0], v[1]);
                         return mulF(nb, l, d, d);
                       });
  Value istd =
      elementwise(b, loc, rowType, {sq},
                  [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                    return invSqrt(nb, l, divF(nb, l, v[0], n), eps);
                  });
  return {mean, istd};
}

static AffineMap lastMap(MLIRContext *ctx, unsigned rank) {
  return AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
}

/// layernorm: (x - mean) istd w + b over the last dimension.
struct LayerNormLowering : OpConversionPattern<nn::LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = tensorType(x);
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    auto [mean, istd] =
        rowStats(rewriter, loc, x, decimal(op.getEpsAttr().getValue()));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank),
              row = dropLastMap(ctx, rank), last = lastMap(ctx, rank);
    Value y =
        elementwise(rewriter, loc, type,
                    {x, mean, istd, adaptor.getWeight(), adaptor.getBias()},
                    [](OpBuilder &b, Location l, ValueRange v) -> Value {
                      Value xhat = mulF(b, l, subF(b, l, v[0], v[1]), v[2]);
                      return addF(b, l, mulF(b, l, xhat, v[3]), v[4]);
                    },
                    {id, row, row, last, last});
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// layernorm_grad: dx, dweight, dbias.
struct LayerNormGradLowering : OpConversionPattern<nn::LayerNormGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::LayerNormGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput(), dy = adaptor.getGrad(),
          w = adaptor.getWeight();
    RankedTensorType type = tensorType(x);
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    auto [mean, istd] =
        rowStats(rewriter, loc, x, decimal(op.getEpsAttr().getValue()));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank),
              row = dropLastMap(ctx, rank), last = lastMap(ctx, rank);
    auto rowType = RankedTensorType::get(type.getShape().drop_back(),
                                         rewriter.getF32Type());
    SmallVector<utils::IteratorType> rowIters = parallel(rank);
    rowIters.back() = utils::IteratorType::reduction;
    // sg = sum_last(dy w), sgx = sum_last(dy w xhat)
    Value sg = reduceSum(rewriter, loc, rowType, {dy, w}, {id, last}, row,
                         rowIters, [](OpBuilder &b, Location l, ValueRange v) {
                           return mulF(b, l, v[0], v[1]);
                         });
    Value sgx = reduceSum(rewriter, loc, rowType, {dy, w, x, mean, istd},
                          {id, last, id, row, row}, row, rowIters,
                          [](OpBuilder &b, Location l, ValueRange v) {
                            Value xhat =
                                mulF(b, l, subF(b, l, v[2], v[3]), v[4]);
                            return mulF(b, l, mulF(b, l, v[0], v[1]), xhat);
                          });
    Value n = f32(rewriter, loc, static_cast<double>(type.getShape().back()));
    Value dx =
        elementwise(rewriter, loc, type, {dy, w, x, mean, istd, sg, sgx},
                    [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                      Value xhat = mulF(b, l, subF(b, l, v[2], v[3]), v[4]);
                      Value g = mulF(b, l, v[0], v[1]);
                      Value t = subF(b, l, g, divF(b, l, v[5], n));
                      t = subF(b, l, t, divF(b, l, mulF(b, l, xhat, v[6]), n));
                      return mulF(b, l, t, v[4]);
                    },
                    {id, last, id, row, row, row, row});
    // dw, db: sums over every dimension but the last.
    RankedTensorType wType = tensorType(w);
    SmallVector<utils::IteratorType> colIters(rank,
                                              utils::IteratorType::reduction);
    colIters.back() = utils::IteratorType::parallel;
    Value dw =
        reduceSum(rewriter, loc, wType, {dy, x, mean, istd}, {id, id, row, row},
                  last, colIters, [](OpBuilder &b, Location l, ValueRange v) {
                    Value xhat = mulF(b, l, subF(b, l, v[1], v[2]), v[3]);
                    return mulF(b, l, v[0], xhat);
                  });
    Value db =
        reduceSum(rewriter, loc, wType, {dy}, {id}, last, colIters,
                  [](OpBuilder &, Location, ValueRange v) { return v[0]; });
    rewriter.replaceOp(op, {dx, dw, db});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

/// dropout: keep = u(seed, stream, index) >= p; y = keep ? x / (1 - p) : 0.
/// u comes from splitmix64's finalizer of a Weyl sequence over the element's
/// row-major index: a counter-based generator, so every element is
/// independent of the loop order and the gradient regenerates the same mask.
struct DropoutLowering : OpConversionPattern<nn::DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = tensorType(x);
    unsigned rank = type.getRank();
    double p = decimal(op.getPAttr().getValue());
    Value seed = extractScalar(rewriter, loc, adaptor.getSeed());
    // base = seed + (stream + 1) * 0xD1B54A32D192ED03 (wrapping)
    uint64_t salt =
        (static_cast<uint64_t>(op.getStream()) + 1) * 0xD1B54A32D192ED03ull;
    auto i64c = [&](OpBuilder &b, Location l, uint64_t v) -> Value {
      return b.create<arith::ConstantOp>(
          l, b.getI64IntegerAttr(static_cast<int64_t>(v)));
    };
    Value base =
        rewriter.create<arith::AddIOp>(loc, seed, i64c(rewriter, loc, salt));
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = static_cast<int64_t>(rank) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * type.getDimSize(d + 1);
    Value y = elementwise(
        rewriter, loc, type, {x},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value idx = i64c(b, l, 0);
          for (unsigned d = 0; d < rank; ++d) {
            Value i = b.create<arith::IndexCastOp>(
                l, b.getI64Type(), b.create<linalg::IndexOp>(l, d));
            idx = b.create<arith::AddIOp>(
                l, idx,
                b.create<arith::MulIOp>(
                    l, i, i64c(b, l, static_cast<uint64_t>(strides[d]))));
          }
          Value z = b.create<arith::AddIOp>(
              l, base,
              b.create<arith::MulIOp>(l, idx,
                                      i64c(b, l, 0x9E3779B97F4A7C15ull)));
          auto mix = [&](Value z, unsigned shift, uint64_t mul) -> Value {
            Value s = b.create<arith::ShRUIOp>(l, z, i64c(b, l, shift));
            z = b.create<arith::XOrIOp>(l, z, s);
            return mul ? Value(b.create<arith::MulIOp>(l, z, i64c(b, l, mul)))
                       : z;
          };
          z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
          z = mix(z, 27, 0x94D049BB133111EBull);
          z = mix(z, 31, 0);
          Value top = b.create<arith::ShRUIOp>(l, z, i64c(b, l, 40));
          Value u = b.create<arith::MulFOp>(
              l, b.create<arith::UIToFPOp>(l, b.getF32Type(), top),
              f32(b, l, 1.0 / 16777216.0));
          Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u,
                                               f32(b, l, p));
          Value scaled = mulF(b, l, v[0], f32(b, l, 1.0 / (1.0 - p)));
          return b.create<arith::SelectOp>(l, keep, scaled, f32(b, l, 0.0));
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Concat and slice
//===----------------------------------------------------------------------===//

/// concat: each input inserted at its channel offset.
struct ConcatLowering : OpConversionPattern<nn::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    Value acc = emptyLike(rewriter, loc, type);
    int64_t offset = 0;
    for (Value in : adaptor.getInputs()) {
      RankedTensorType t = tensorType(in);
      SmallVector<OpFoldResult> offsets(t.getRank(), rewriter.getIndexAttr(0)),
          sizes, strides(t.getRank(), rewriter.getIndexAttr(1));
      int64_t axis = op.getDim();
      offsets[axis] = rewriter.getIndexAttr(offset);
      for (int64_t d : t.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
      acc = rewriter.create<tensor::InsertSliceOp>(loc, in, acc, offsets, sizes,
                                                   strides);
      offset += t.getDimSize(axis);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

/// slice: tensor.extract_slice with unit strides.
struct SliceLowering : OpConversionPattern<nn::SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType t = tensorType(op.getResult());
    SmallVector<OpFoldResult> offsets, sizes,
        strides(t.getRank(), rewriter.getIndexAttr(1));
    for (int64_t o : op.getOffsets())
      offsets.push_back(rewriter.getIndexAttr(o));
    for (int64_t d : t.getShape())
      sizes.push_back(rewriter.getIndexAttr(d));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, t, adaptor.getInput(), offsets, sizes, strides);
    return success();
  }
};

} // namespace

void nnc::populateNNNormalizationPatterns(RewritePatternSet &patterns) {
  patterns
      .add<BatchNormLowering, BatchNormGradLowering, BatchNormInferenceLowering,
           RunningAverageLowering, LayerNormLowering, LayerNormGradLowering,
           DropoutLowering, ConcatLowering, SliceLowering>(
          patterns.getContext());
}
