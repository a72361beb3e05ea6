//===- Autodiff.cpp - Reverse-mode differentiation of loss functions -----===//
//
// For every function marked `nn.loss`, builds `<name>_grad`: the same forward
// computation followed by the backward pass. The pass knows no op: each op's
// vector-Jacobian product comes from GradientOpInterface. Only `nn.param`
// arguments are differentiated: buffers (`nn.buffer`), the dropout seed
// (`nn.seed`) and frozen parameters (`nn.frozen`: fine-tuning) are data, and
// the updated buffers a training loss returns get no gradient. Only what the
// wanted gradients need is built: the backward pass stops where no
// differentiated parameter lies upstream.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

namespace nnc {
#define GEN_PASS_DEF_NNAUTODIFFPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;
using nn::NNDialect;

namespace {

/// Whether argument `i` of `fn` is differentiated.
static bool isDifferentiated(func::FuncOp fn, unsigned i) {
  return fn.getArgAttr(i, NNDialect::ParamAttrHelper::getNameStr()) &&
         !fn.getArgAttr(i, NNDialect::FrozenAttrHelper::getNameStr());
}

/// Values that depend on a differentiated parameter (forward reachability).
static llvm::DenseSet<Value> dependsOnParams(func::FuncOp fn) {
  llvm::DenseSet<Value> active;
  for (BlockArgument arg : fn.getArguments())
    if (isDifferentiated(fn, arg.getArgNumber()))
      active.insert(arg);
  for (Operation &op : fn.getBody().front()) {
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      for (Value r : op.getResults())
        active.insert(r);
  }
  return active;
}

/// Zeros of a tensor type, for a parameter the loss does not depend on.
static Value zerosLike(OpBuilder &b, Location loc, Type type) {
  auto tensorType = cast<RankedTensorType>(type);
  return b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(tensorType, b.getFloatAttr(
                                                  tensorType.getElementType(), 0.0)));
}

struct NNAutodiffPass : nnc::impl::NNAutodiffPassBase<NNAutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    NNDialect::LossAttrHelper loss(module.getContext());
    SmallVector<func::FuncOp> lossFns;
    for (auto fn : module.getOps<func::FuncOp>())
      if (loss.isAttrPresent(fn))
        lossFns.push_back(fn);
    for (func::FuncOp fn : lossFns)
      if (failed(differentiate(module, fn)))
        return signalPassFailure();
  }

  LogicalResult differentiate(ModuleOp module, func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitOpError("nn-autodiff expects a single-block loss function");
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    if (ret.getNumOperands() == 0)
      return fn.emitOpError("a loss function must return the loss first");
    auto lossType = dyn_cast<RankedTensorType>(ret.getOperand(0).getType());
    if (!lossType || lossType.getRank() != 0 ||
        !lossType.getElementType().isF32())
      return fn.emitOpError("the first result of a loss function must be "
                            "tensor<f32>, got ")
             << ret.getOperand(0).getType();

    // The gradient function starts as a copy of the loss function.
    OpBuilder mb(module.getContext());
    mb.setInsertionPointAfter(fn);
    auto gradFn = cast<func::FuncOp>(mb.clone(*fn));
    gradFn.setSymName((fn.getSymName() + "_grad").str());
    NNDialect::LossAttrHelper(mb.getContext()).removeAttr(gradFn);
    NNDialect::GradAttrHelper(mb.getContext())
        .setAttr(gradFn, mb.getUnitAttr());

    Block &body = gradFn.getBody().front();
    auto gradRet = cast<func::ReturnOp>(body.getTerminator());
    llvm::DenseSet<Value> active = dependsOnParams(gradFn);
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator())
      forward.push_back(&op);

    OpBuilder b(gradRet);
    llvm::DenseMap<Value, Value> grads;
    auto accumulate = [&](Value v, Value g, Location loc) {
      auto [it, inserted] = grads.try_emplace(v, g);
      if (!inserted)
        it->second = b.create<nn::AddOp>(loc, it->second, g);
    };

    Value loss = gradRet.getOperand(0);
    Location loc = gradFn.getLoc();
    grads[loss] = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(lossType, b.getF32FloatAttr(1.0f)));

    for (Operation *op : llvm::reverse(forward)) {
      SmallVector<Value> resultGrads;
      bool any = false;
      for (Value r : op->getResults()) {
        resultGrads.push_back(grads.lookup(r));
        any |= static_cast<bool>(resultGrads.back());
      }
      if (!any || !llvm::any_of(op->getResults(),
                                [&](Value r) { return active.contains(r); }))
        continue;
      auto rule = dyn_cast<nn::GradientOpInterface>(op);
      if (!rule)
        return op->emitOpError("cannot be differentiated: it has no gradient rule");
      SmallVector<Value> operandGrads;
      if (failed(rule.buildGradient(b, resultGrads, operandGrads)))
        return op->emitOpError("failed to build its gradient");
      if (operandGrads.size() != op->getNumOperands())
        return op->emitOpError("gradient rule returned ")
               << operandGrads.size() << " gradients for "
               << op->getNumOperands() << " operands";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && active.contains(operand))
          accumulate(operand, g, op->getLoc());
    }

    // Return the original results, then one gradient per differentiated
    // parameter.
    SmallVector<Value> results(gradRet.getOperands());
    for (BlockArgument arg : gradFn.getArguments()) {
      if (!isDifferentiated(gradFn, arg.getArgNumber()))
        continue;
      Value g = grads.lookup(arg);
      results.push_back(g ? g : zerosLike(b, loc, arg.getType()));
    }
    b.create<func::ReturnOp>(gradRet.getLoc(), results);
    gradRet.erase();
    SmallVector<Type> resultTypes;
    for (Value v : results)
      resultTypes.push_back(v.getType());
    gradFn.setFunctionType(
        b.getFunctionType(gradFn.getArgumentTypes(), resultTypes));

    // Rules build every operand's gradient; drop those nobody uses (the
    // gradient of the input batch, of labels, ...).
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();
    return success();
  }
};

} // namespace
