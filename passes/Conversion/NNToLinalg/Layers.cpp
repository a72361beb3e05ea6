//===- Layers.cpp - nn -> linalg patterns for layers and their gradients --===//
//
// dense and the matrix products of its gradient become linalg named
// contractions; activations, add, mul and the activation gradients become
// elementwise linalg.generic ops; softmax and reduce_sum become reductions,
// broadcast a linalg.broadcast;
// reshape becomes tensor.collapse_shape / tensor.expand_shape. Everything is
// on tensors in destination-passing style.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Conversion/NNToLinalg/Utils.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace nnc;
using namespace nnc::lowering;

namespace {

//===----------------------------------------------------------------------===//
// Contractions and reductions
//===----------------------------------------------------------------------===//

/// dense: y = x W^T + b as the bias broadcast into the init (or a zero fill)
/// accumulated by linalg.matmul_transpose_b.
struct DenseLowering : OpConversionPattern<nn::DenseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::DenseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    Value init;
    if (Value bias = adaptor.getBias())
      init = rewriter
                 .create<linalg::BroadcastOp>(loc, bias,
                                              emptyLike(rewriter, loc, type),
                                              ArrayRef<int64_t>{0})
                 ->getResult(0);
    else
      init = filled(rewriter, loc, type, 0.0);
    Value y = gemm<linalg::MatmulTransposeBOp>(
        rewriter, loc, adaptor.getInput(), adaptor.getWeight(), init,
        bf16Products(op));
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// matmul: op(A) op(B) as linalg.matmul / matmul_transpose_a /
/// matmul_transpose_b; with both transposed, a generic contraction
/// C[m, n] = sum_k A[k, m] B[n, k].
struct MatmulLowering : OpConversionPattern<nn::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    Value init = filled(rewriter, loc, type, 0.0);
    bool bf16 = bf16Products(op);
    SmallVector<Value, 2> ins = {
        roundedToBf16(rewriter, loc, adaptor.getLhs(), bf16),
        roundedToBf16(rewriter, loc, adaptor.getRhs(), bf16)};
    bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
    Value c;
    if (!ta && !tb)
      c = rewriter
              .create<linalg::MatmulOp>(loc, TypeRange{type}, ins,
                                        ValueRange{init})
              .getResult(0);
    else if (ta && !tb)
      c = rewriter
              .create<linalg::MatmulTransposeAOp>(loc, TypeRange{type}, ins,
                                                  ValueRange{init})
              .getResult(0);
    else if (!ta && tb)
      c = rewriter
              .create<linalg::MatmulTransposeBOp>(loc, TypeRange{type}, ins,
                                                  ValueRange{init})
              .getResult(0);
    else {
      MLIRContext *ctx = rewriter.getContext();
      AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
                 k = getAffineDimExpr(2, ctx);
      SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {k, m}, ctx),
                                     AffineMap::get(3, 0, {n, k}, ctx),
                                     AffineMap::get(3, 0, {m, n}, ctx)};
      SmallVector<utils::IteratorType> iters = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
      c = rewriter
              .create<linalg::GenericOp>(
                  loc, TypeRange{type}, ins, ValueRange{init}, maps, iters,
                  [](OpBuilder &b, Location l, ValueRange args) {
                    Value p = b.create<arith::MulFOp>(l, args[0], args[1]);
                    Value s = b.create<arith::AddFOp>(l, args[2], p);
                    b.create<linalg::YieldOp>(l, s);
                  })
              .getResult(0);
    }
    rewriter.replaceOp(op, bf16Contraction(c.getDefiningOp(), bf16));
    return success();
  }
};

/// Sum of `input` over `dims` into a zero-filled init of `type`.
static Value sumOver(OpBuilder &b, Location loc, Value input,
                     RankedTensorType type, ArrayRef<int64_t> dims) {
  Value init = filled(b, loc, type, 0.0);
  return b
      .create<linalg::ReduceOp>(
          loc, ValueRange{input}, ValueRange{init}, dims,
          [](OpBuilder &nb, Location nl, ValueRange args) {
            Value s = nb.create<arith::AddFOp>(nl, args[0], args[1]);
            nb.create<linalg::YieldOp>(nl, s);
          })
      .getResult(0);
}

/// reduce_sum: linalg.reduce with addf over `dims` into a zero fill.
struct ReduceSumLowering : OpConversionPattern<nn::ReduceSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::ReduceSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    SmallVector<int64_t> dims(op.getDims());
    llvm::sort(dims);
    if (std::adjacent_find(dims.begin(), dims.end()) != dims.end())
      return rewriter.notifyMatchFailure(op, "repeated reduction dimension");
    if (dims.empty()) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    rewriter.replaceOp(op, sumOver(rewriter, op.getLoc(), adaptor.getInput(),
                                   tensorType(op.getResult()), dims));
    return success();
  }
};

/// broadcast: linalg.broadcast of the input into an empty tensor.
struct BroadcastLowering : OpConversionPattern<nn::BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getDims().empty()) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Location loc = op.getLoc();
    Value init = emptyLike(rewriter, loc, tensorType(op.getResult()));
    rewriter.replaceOp(op, rewriter
                               .create<linalg::BroadcastOp>(
                                   loc, adaptor.getInput(), init, op.getDims())
                               ->getResult(0));
    return success();
  }
};

/// reshape: a row-major reinterpretation. A pure collapse or expansion of
/// dimensions becomes tensor.collapse_shape / expand_shape; any other reshape
/// collapses to one dimension and expands from it, which is the same
/// row-major reinterpretation and stays a view through bufferization (unlike
/// tensor.reshape, which needs a shape operand and memref.reshape).
/// transpose: linalg.transpose.
struct TransposeLowering : OpConversionPattern<nn::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value init = emptyLike(rewriter, loc, tensorType(op.getResult()));
    rewriter.replaceOp(
        op, rewriter
                .create<linalg::TransposeOp>(loc, adaptor.getInput(), init,
                                             op.getPermutation())
                .getResult());
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<nn::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType in = tensorType(x), out = tensorType(op.getResult());
    if (in == out) {
      rewriter.replaceOp(op, x);
      return success();
    }
    if (auto reassoc = getReassociationIndicesForReshape(in, out)) {
      if (in.getRank() > out.getRank())
        rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, out, x,
                                                             *reassoc);
      else
        rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, out, x,
                                                           *reassoc);
      return success();
    }
    if (in.getRank() == 0 || out.getRank() == 0)
      return rewriter.notifyMatchFailure(op, "0-d reshape that is not a "
                                             "unit collapse or expansion");
    auto flatType =
        RankedTensorType::get({in.getNumElements()}, in.getElementType());
    auto all = [](int64_t rank) {
      ReassociationIndices r;
      for (int64_t i = 0; i < rank; ++i)
        r.push_back(i);
      return SmallVector<ReassociationIndices>{r};
    };
    Value flat = rewriter.create<tensor::CollapseShapeOp>(loc, flatType, x,
                                                          all(in.getRank()));
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, out, flat,
                                                       all(out.getRank()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Elementwise layers
//===----------------------------------------------------------------------===//

/// An elementwise op lowered to one linalg.generic over its operands, in
/// operand order; `Body` computes one result element from their elements.
template <typename NNOp, Value (*Body)(OpBuilder &, Location, ValueRange)>
struct EltwiseLowering : OpConversionPattern<NNOp> {
  using OpConversionPattern<NNOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NNOp op, typename NNOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, elementwise(rewriter, op.getLoc(),
                                       tensorType(op.getResult()),
                                       adaptor.getOperands(), Body));
    return success();
  }
};

/// add: a + b.
static Value addBody(OpBuilder &b, Location l, ValueRange v) {
  return b.create<arith::AddFOp>(l, v[0], v[1]);
}
using AddLowering = EltwiseLowering<nn::AddOp, addBody>;

/// mul: a * b (also the gradient of mul and the learning-rate factor).
static Value mulBody(OpBuilder &b, Location l, ValueRange v) {
  return b.create<arith::MulFOp>(l, v[0], v[1]);
}
using MulLowering = EltwiseLowering<nn::MulOp, mulBody>;

/// relu: max(x, 0) (see reluElement).
using ReluLowering = EltwiseLowering<nn::ReluOp, reluElement>;

/// leaky_relu: x if x > 0 else alpha x.
struct LeakyReluLowering : OpConversionPattern<nn::LeakyReluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::LeakyReluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double alpha = decimal(op.getAlpha());
    rewriter.replaceOp(
        op,
        elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                    {adaptor.getInput()},
                    [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                      Value pos = b.create<arith::CmpFOp>(
                          l, arith::CmpFPredicate::OGT, v[0], f32(b, l, 0.0));
                      Value neg =
                          b.create<arith::MulFOp>(l, v[0], f32(b, l, alpha));
                      return b.create<arith::SelectOp>(l, pos, v[0], neg);
                    }));
    return success();
  }
};

/// sigmoid: 1 / (1 + exp(-x)).
struct SigmoidLowering : OpConversionPattern<nn::SigmoidOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::SigmoidOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                        {adaptor.getInput()},
                        [](OpBuilder &b, Location l, ValueRange v) {
                          return sigmoid(b, l, v[0]);
                        }));
    return success();
  }
};

/// tanh: math.tanh.
static Value tanhBody(OpBuilder &b, Location l, ValueRange v) {
  return b.create<math::TanhOp>(l, v[0]);
}
using TanhLowering = EltwiseLowering<nn::TanhOp, tanhBody>;

/// Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF.
static Value normalCdf(OpBuilder &b, Location l, Value x) {
  Value s = b.create<arith::MulFOp>(l, x, f32(b, l, M_SQRT1_2));
  Value e = b.create<math::ErfOp>(l, s);
  Value one = b.create<arith::AddFOp>(l, f32(b, l, 1.0), e);
  return b.create<arith::MulFOp>(l, f32(b, l, 0.5), one);
}

/// gelu (exact, torch's default): x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).
static Value geluBody(OpBuilder &b, Location l, ValueRange v) {
  return b.create<arith::MulFOp>(l, v[0], normalCdf(b, l, v[0]));
}
using GeluLowering = EltwiseLowering<nn::GeluOp, geluBody>;

/// Reduces the last dimension of `x` (rank r) into a tensor of rank r - 1
/// initialised with `init`; `combine(acc, element)`.
static Value
reduceLast(OpBuilder &b, Location loc, Value x, double init,
           function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  RankedTensorType type = tensorType(x);
  auto outType =
      RankedTensorType::get(type.getShape().drop_back(), type.getElementType());
  Value acc = filled(b, loc, outType, init);
  return b
      .create<linalg::ReduceOp>(
          loc, ValueRange{x}, ValueRange{acc},
          ArrayRef<int64_t>{type.getRank() - 1},
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, combine(nb, nl, args[1], args[0]));
          })
      .getResult(0);
}

/// softmax over the last dimension, stable: m = max(x), e = exp(x - m),
/// y = e / sum(e).
struct SoftmaxLowering : OpConversionPattern<nn::SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = tensorType(x);
    if (type.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "softmax of a 0-d tensor");
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank),
              row = dropLastMap(ctx, rank);
    Value max = reduceLast(rewriter, loc, x, -INFINITY,
                           [](OpBuilder &b, Location l, Value acc, Value v) {
                             return b.create<arith::MaximumFOp>(l, acc, v);
                           });
    Value e = elementwise(rewriter, loc, type, {x, max},
                          [](OpBuilder &b, Location l, ValueRange v) -> Value {
                            return b.create<math::ExpOp>(
                                l, b.create<arith::SubFOp>(l, v[0], v[1]));
                          },
                          {id, row});
    Value sum = reduceLast(rewriter, loc, e, 0.0,
                           [](OpBuilder &b, Location l, Value acc, Value v) {
                             return b.create<arith::AddFOp>(l, acc, v);
                           });
    Value y = elementwise(rewriter, loc, type, {e, sum},
                          [](OpBuilder &b, Location l, ValueRange v) -> Value {
                            return b.create<arith::DivFOp>(l, v[0], v[1]);
                          },
                          {id, row});
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Activation gradients (grad = dy, saved = x or y as documented per op)
//===----------------------------------------------------------------------===//

/// relu_grad: dy if x > 0 else 0.
static Value reluGradBody(OpBuilder &b, Location l, ValueRange v) {
  Value zero = f32(b, l, 0.0);
  Value pos = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v[1], zero);
  return b.create<arith::SelectOp>(l, pos, v[0], zero);
}
using ReluGradLowering = EltwiseLowering<nn::ReluGradOp, reluGradBody>;

/// leaky_relu_grad: dy if x > 0 else alpha dy.
struct LeakyReluGradLowering : OpConversionPattern<nn::LeakyReluGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::LeakyReluGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double alpha = decimal(op.getAlpha());
    rewriter.replaceOp(
        op,
        elementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                    {adaptor.getGrad(), adaptor.getSaved()},
                    [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                      Value pos = b.create<arith::CmpFOp>(
                          l, arith::CmpFPredicate::OGT, v[1], f32(b, l, 0.0));
                      Value neg =
                          b.create<arith::MulFOp>(l, v[0], f32(b, l, alpha));
                      return b.create<arith::SelectOp>(l, pos, v[0], neg);
                    }));
    return success();
  }
};

/// sigmoid_grad: dy y (1 - y), saved = y.
static Value sigmoidGradBody(OpBuilder &b, Location l, ValueRange v) {
  Value om = b.create<arith::SubFOp>(l, f32(b, l, 1.0), v[1]);
  Value d = b.create<arith::MulFOp>(l, v[1], om);
  return b.create<arith::MulFOp>(l, v[0], d);
}
using SigmoidGradLowering = EltwiseLowering<nn::SigmoidGradOp, sigmoidGradBody>;

/// tanh_grad: dy (1 - y^2), saved = y.
static Value tanhGradBody(OpBuilder &b, Location l, ValueRange v) {
  Value y2 = b.create<arith::MulFOp>(l, v[1], v[1]);
  Value d = b.create<arith::SubFOp>(l, f32(b, l, 1.0), y2);
  return b.create<arith::MulFOp>(l, v[0], d);
}
using TanhGradLowering = EltwiseLowering<nn::TanhGradOp, tanhGradBody>;

/// gelu_grad: dy (Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi)), saved = x.
static Value geluGradBody(OpBuilder &b, Location l, ValueRange v) {
  Value x = v[1];
  Value x2 = b.create<arith::MulFOp>(l, x, x);
  Value h = b.create<arith::MulFOp>(l, x2, f32(b, l, -0.5));
  Value e = b.create<math::ExpOp>(l, h);
  Value pdf =
      b.create<arith::MulFOp>(l, e, f32(b, l, 0.5 * M_2_SQRTPI * M_SQRT1_2));
  Value d = b.create<arith::AddFOp>(l, normalCdf(b, l, x),
                                    b.create<arith::MulFOp>(l, x, pdf));
  return b.create<arith::MulFOp>(l, v[0], d);
}
using GeluGradLowering = EltwiseLowering<nn::GeluGradOp, geluGradBody>;

/// softmax_grad: y (dy - sum(dy y)) over the last dimension, saved = y.
struct SoftmaxGradLowering : OpConversionPattern<nn::SoftmaxGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(nn::SoftmaxGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value dy = adaptor.getGrad(), y = adaptor.getSaved();
    RankedTensorType type = tensorType(y);
    if (type.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "softmax of a 0-d tensor");
    unsigned rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank),
              row = dropLastMap(ctx, rank);
    // dot[r] = sum_c dy[r, c] y[r, c]: a generic whose last loop reduces.
    auto rowType = RankedTensorType::get(type.getShape().drop_back(),
                                         type.getElementType());
    SmallVector<utils::IteratorType> iters = parallel(rank);
    iters.back() = utils::IteratorType::reduction;
    Value dot = rewriter
                    .create<linalg::GenericOp>(
                        loc, TypeRange{rowType}, ValueRange{dy, y},
                        ValueRange{filled(rewriter, loc, rowType, 0.0)},
                        ArrayRef<AffineMap>{id, id, row}, iters,
                        [](OpBuilder &b, Location l, ValueRange args) {
                          Value p =
                              b.create<arith::MulFOp>(l, args[0], args[1]);
                          Value s = b.create<arith::AddFOp>(l, args[2], p);
                          b.create<linalg::YieldOp>(l, s);
                        })
                    .getResult(0);
    Value dx = elementwise(rewriter, loc, type, {dy, y, dot},
                           [](OpBuilder &b, Location l, ValueRange v) -> Value {
                             Value d = b.create<arith::SubFOp>(l, v[0], v[2]);
                             return b.create<arith::MulFOp>(l, v[1], d);
                           },
                           {id, id, row});
    rewriter.replaceOp(op, dx);
    return success();
  }
};

} // namespace

void nnc::populateNNLayerPatterns(RewritePatternSet &patterns) {
  patterns.add<DenseLowering, MatmulLowering, ReduceSumLowering,
               BroadcastLowering, ReshapeLowering, TransposeLowering,
               AddLowering, MulLowering, ReluLowering, LeakyReluLowering,
               SigmoidLowering, TanhLowering, GeluLowering, SoftmaxLowering,
               ReluGradLowering, LeakyReluGradLowering, SigmoidGradLowering,
               TanhGradLowering, GeluGradLowering, SoftmaxGradLowering>(
      patterns.getContext());
}
