//===- FoldBatchNorm.cpp - batchnorm folded into the preceding layer ------===//
//
// In evaluation mode a batchnorm right after a dense or conv2d layer is an
// affine map per output channel, which the layer's weights can absorb:
//   s = gamma / sqrt(running_var + eps)
//   W' = W s (per output channel: W's dimension 0)
//   b' = (b - running_mean) s + beta (b: the layer's bias, or 0)
// Without `export`, the pass adds the function `fold` (nn.fold) computing W'
// and b' from the parameters and buffers, each result named by `nn.param`:
// W' over the layer's weight, b' over the batchnorm's bias (nn-export-abi
// makes it nnc_fold(state), in place), and `nn.predict` and `nn.eval_loss`
// (the program's own evaluation) compute W' and b' from their arguments on
// each call, the layer taking them and the batchnorm gone: a pass over the
// weights per call instead of a scale and shift of every activation (the
// SPEC 2.3 CNN's `./model eval` 1.3-1.5x faster). With `export`, it
// rewrites the `nn.predict` function for such folded parameters: the layer
// takes the batchnorm's bias as its own, the batchnorm goes. A pair is
// folded when the layer's only user is the batchnorm and the layer's weight
// and bias and the batchnorm's four operands are the function's own
// parameters and buffers, each used once (no shared weights).
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "ir/NNOps.h"
#include "passes/Passes.h"
#include "passes/Transforms/ModelParameters.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace nnc {
#define GEN_PASS_DEF_NNFOLDBATCHNORMPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;
using namespace nnc::nn;

namespace {

/// A layer and the batchnorm that follows it.
struct Pair {
  Operation *layer;
  BatchNormInferenceOp bn;
};

/// An argument of `fn` used once, or null.
BlockArgument ownArgument(Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  return arg && arg.hasOneUse() ? arg : BlockArgument();
}

SmallVector<Pair> findPairs(func::FuncOp fn) {
  SmallVector<Pair> pairs;
  fn.walk([&](BatchNormInferenceOp bn) {
    Operation *layer = bn.getInput().getDefiningOp();
    if (!layer || !isa<DenseOp, Conv2dOp>(layer) ||
        !layer->getResult(0).hasOneUse())
      return;
    Value bias = isa<DenseOp>(layer) ? cast<DenseOp>(layer).getBias()
                                     : cast<Conv2dOp>(layer).getBias();
    if (!ownArgument(layer->getOperand(1)) || (bias && !ownArgument(bias)))
      return;
    for (Value v : {bn.getWeight(), bn.getBias(), bn.getRunningMean(),
                    bn.getRunningVar()})
      if (!ownArgument(v))
        return;
    pairs.push_back({layer, bn});
  });
  return pairs;
}

Value f32(OpBuilder &b, Location loc, double v) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v));
}

/// An elementwise linalg.generic over `type` whose inputs are indexed by
/// `maps`.
Value generic(OpBuilder &b, Location loc, RankedTensorType type,
              ValueRange inputs, ArrayRef<AffineMap> inputMaps,
              function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  Value init =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  SmallVector<utils::IteratorType> iters(type.getRank(),
                                         utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs, ValueRange{init}, maps, iters,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            nb.create<linalg::YieldOp>(nl, body(nb, nl, args.drop_back()));
          })
      .getResult(0);
}

/// W' and b' of `p`, computed from the values `value` gives for the
/// layer's and the batchnorm's operands.
std::pair<Value, Value> foldedPair(OpBuilder &b, Location loc, Pair p,
                                   function_ref<Value(Value)> value) {
  MLIRContext *ctx = b.getContext();
  double eps = p.bn.getEps().convertToDouble();
  auto chType = cast<RankedTensorType>(p.bn.getWeight().getType());
  AffineMap id1 = b.getMultiDimIdentityMap(1);
  // s = gamma / sqrt(var + eps)
  Value s = generic(
      b, loc, chType, {value(p.bn.getWeight()), value(p.bn.getRunningVar())},
      {id1, id1}, [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
        Value sd = nb.create<math::SqrtOp>(
            l, nb.create<arith::AddFOp>(l, v[1], f32(nb, l, eps)));
        return nb.create<arith::DivFOp>(l, v[0], sd);
      });
  Value w = value(p.layer->getOperand(1));
  auto wType = cast<RankedTensorType>(w.getType());
  AffineMap idW = b.getMultiDimIdentityMap(wType.getRank());
  AffineMap channel =
      AffineMap::get(wType.getRank(), 0, b.getAffineDimExpr(0), ctx);
  Value folded = generic(b, loc, wType, {w, s}, {idW, channel},
                         [](OpBuilder &nb, Location l, ValueRange v) -> Value {
                           return nb.create<arith::MulFOp>(l, v[0], v[1]);
                         });
  Value bias =
      p.layer->getNumOperands() > 2 ? value(p.layer->getOperand(2)) : Value();
  SmallVector<Value> ins{value(p.bn.getBias()), value(p.bn.getRunningMean()),
                         s};
  if (bias)
    ins.push_back(bias);
  SmallVector<AffineMap> maps(ins.size(), id1);
  Value foldedBias =
      generic(b, loc, chType, ins, maps,
              [&](OpBuilder &nb, Location l, ValueRange v) -> Value {
                Value c = bias ? v[3] : f32(nb, l, 0.0);
                Value centered = nb.create<arith::SubFOp>(l, c, v[1]);
                Value scaled = nb.create<arith::MulFOp>(l, centered, v[2]);
                return nb.create<arith::AddFOp>(l, scaled, v[0]);
              });
  return {folded, foldedBias};
}

/// The `fold` function: W' and b' of every pair, from the arguments of
/// `predict` (the same parameters and buffers, in the same order).
void buildFold(func::FuncOp predict, ArrayRef<Pair> pairs) {
  MLIRContext *ctx = predict.getContext();
  OpBuilder b(ctx);
  Location loc = predict.getLoc();
  SmallVector<Type> resultTypes;
  SmallVector<StringAttr> resultNames;
  for (Pair p : pairs) {
    auto w = cast<BlockArgument>(p.layer->getOperand(1));
    auto beta = cast<BlockArgument>(p.bn.getBias());
    resultTypes.append({w.getType(), beta.getType()});
    for (BlockArgument a : {w, beta})
      resultNames.push_back(predict.getArgAttrOfType<StringAttr>(
          a.getArgNumber(), NNDialect::ParamAttrHelper::getNameStr()));
  }
  func::FuncOp fold = parameterFunction(b, predict, "fold", {}, resultTypes);
  for (auto [k, name] : llvm::enumerate(resultNames))
    fold.setResultAttr(k, NNDialect::ParamAttrHelper::getNameStr(), name);
  NNDialect::FoldAttrHelper(ctx).setAttr(fold, b.getUnitAttr());
  Block *body = &fold.front();
  auto arg = [&](Value v) {
    return body->getArgument(cast<BlockArgument>(v).getArgNumber());
  };
  SmallVector<Value> results;
  for (Pair p : pairs) {
    auto [w, bias] = foldedPair(b, loc, p, arg);
    results.append({w, bias});
  }
  b.create<func::ReturnOp>(loc, results);
}

/// The batchnorm of `p` gone, its layer computing with `bias` instead.
void dropBatchNorm(Pair p, Value bias) {
  if (p.layer->getNumOperands() > 2)
    p.layer->setOperand(2, bias);
  else
    p.layer->insertOperands(2, bias);
  p.bn.getResult().replaceAllUsesWith(p.layer->getResult(0));
  p.bn.erase();
}

/// Each layer computes with W' and b', folded in the function itself from
/// its (unfolded) parameters and buffers, and the batchnorm goes: once per
/// call, the per-channel scale and shift cost a pass over the weights
/// instead of one over every activation, and the layer's consumers read
/// its result directly.
void foldInPlace(ArrayRef<Pair> pairs) {
  for (Pair p : pairs) {
    OpBuilder b(p.layer);
    auto [w, bias] = foldedPair(b, p.bn.getLoc(), p, [](Value v) { return v; });
    p.layer->setOperand(1, w);
    dropBatchNorm(p, bias);
  }
}

/// `predict` on folded parameters: each layer takes its batchnorm's bias
/// (b' after nnc_fold) as its own, and the batchnorm goes.
void rewritePredict(ArrayRef<Pair> pairs) {
  for (Pair p : pairs)
    dropBatchNorm(p, p.bn.getBias());
}

struct NNFoldBatchNormPass
    : nnc::impl::NNFoldBatchNormPassBase<NNFoldBatchNormPass> {
  using NNFoldBatchNormPassBase::NNFoldBatchNormPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    NNDialect::PredictAttrHelper predict(ctx);
    NNDialect::EvalLossAttrHelper evalLoss(ctx);
    SmallVector<func::FuncOp> inference;
    for (auto fn : module.getOps<func::FuncOp>())
      if (predict.isAttrPresent(fn) || evalLoss.isAttrPresent(fn))
        inference.push_back(fn);
    auto first = llvm::find_if(
        inference, [&](func::FuncOp fn) { return predict.isAttrPresent(fn); });
    if (exportMode) {
      if (first != inference.end())
        rewritePredict(findPairs(*first));
      return;
    }
    for (func::FuncOp fn : inference) {
      SmallVector<Pair> pairs = findPairs(fn);
      // The inference library's parameters, folded once (from the first
      // predict function), before the function itself changes.
      if (first != inference.end() && fn == *first && !pairs.empty())
        buildFold(fn, pairs);
      // The program's own evaluation and prediction, folded per call.
      foldInPlace(pairs);
    }
  }
};

} // namespace
