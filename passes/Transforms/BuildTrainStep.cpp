//===- BuildTrainStep.cpp - Gradients + learning rate + optimizer update
//---===//
//
// Builds `train_step` from the `<loss>_grad` function of nn-autodiff and
// the module's `nn.optimizer` dictionary. The update rules are nn ops
// (nn.sgd_update, nn.adam_update, nn.rmsprop_update), lowered like any other.
// Buffers (arguments marked `nn.buffer`) follow the parameters in and out:
// their new values are the gradient function's results named by
// `nn.buffer_results`. An argument marked `nn.seed` (dropout) is not a
// train_step argument: it is derived from the run's seed and the step.
//
// Fine-tuning: each gradient function (one per phase of frozen parameters)
// gives a step function (`train_step`, `train_step_phase<k>`), all with the
// same arguments. A frozen parameter (`nn.frozen`) and its optimizer state
// pass through unchanged; one never trained (`nn.trained_after` = -1) has no
// optimizer state at all; one trained after epoch F counts its own steps
// from there (Adam's bias correction, as torch.optim's lazily created state
// does); `nn.lr_scale` multiplies a parameter's learning rate.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace nnc {
#define GEN_PASS_DEF_NNBUILDTRAINSTEPPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;

namespace {

/// Optimizer hyper-parameters read from the `nn.optimizer` dictionary, with
/// torch.optim's defaults.
struct OptimizerConfig {
  std::string kind;
  double momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, alpha = 0.99;

  /// State tensors kept per parameter.
  unsigned numStates() const {
    if (kind == "sgd")
      return momentum != 0 ? 1 : 0;
    return 2; // adam/adamw: exp_avg, exp_avg_sq; rmsprop: square_avg, buffer
  }

  /// torch.optim's names of those states, in argument order.
  SmallVector<StringRef> stateNames() const {
    if (kind == "sgd")
      return numStates() ? SmallVector<StringRef>{"momentum_buffer"}
                         : SmallVector<StringRef>{};
    if (kind == "rmsprop")
      return {"square_avg", "momentum_buffer"};
    return {"exp_avg", "exp_avg_sq"};
  }
};

static double getF64(DictionaryAttr dict, StringRef key, double dflt) {
  if (!dict)
    return dflt;
  if (auto f = dict.getAs<FloatAttr>(key))
    return f.getValueAsDouble();
  if (auto i = dict.getAs<IntegerAttr>(key))
    return static_cast<double>(i.getInt());
  return dflt;
}

struct NNBuildTrainStepPass
    : nnc::impl::NNBuildTrainStepPassBase<NNBuildTrainStepPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto dict = module->getAttrOfType<DictionaryAttr>("nn.optimizer");
    if (!dict) {
      module.emitOpError("nn-build-train-step needs the module attribute "
                         "'nn.optimizer'");
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> gradFns;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("nn.grad"))
        gradFns.push_back(fn);
    if (gradFns.empty()) {
      module.emitOpError("nn-build-train-step needs a gradient function; run "
                         "nn-autodiff first");
      return signalPassFailure();
    }

    OptimizerConfig cfg;
    if (auto k = dict.getAs<StringAttr>("kind"))
      cfg.kind = k.getValue().str();
    if (cfg.kind != "sgd" && cfg.kind != "adam" && cfg.kind != "adamw" &&
        cfg.kind != "rmsprop") {
      module.emitOpError("unknown optimizer kind '") << cfg.kind << "'";
      return signalPassFailure();
    }
    cfg.momentum = getF64(dict, "momentum", 0);
    cfg.dampening = getF64(dict, "dampening", 0);
    cfg.weightDecay =
        getF64(dict, "weight_decay", cfg.kind == "adamw" ? 0.01 : 0.0);
    if (auto flag = dict.getAs<BoolAttr>("nesterov"))
      cfg.nesterov = flag.getValue();
    cfg.beta1 = getF64(dict, "beta1", 0.9);
    cfg.beta2 = getF64(dict, "beta2", 0.999);
    cfg.eps = getF64(dict, "eps", 1e-8);
    cfg.alpha = getF64(dict, "alpha", 0.99);
    for (func::FuncOp gradFn : gradFns)
      build(module, gradFn, cfg, dict);
  }

  /// torch.nn.utils.clip_grad_norm_: the global L2 norm over all gradients,
  /// coef = min(1, max_norm / (norm + 1e-6)), every gradient times coef.
  static void clipGradNorm(OpBuilder &b, Location loc,
                           SmallVectorImpl<Value> &grads, double maxNorm) {
    auto scalarType = RankedTensorType::get({}, b.getF32Type());
    Value sum = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
    for (Value g : grads) {
      auto type = cast<RankedTensorType>(g.getType());
      SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
      Value squares = b.create<nn::MulOp>(loc, g, g);
      Value partial = b.create<nn::ReduceSumOp>(loc, scalarType, squares,
                                                b.getDenseI64ArrayAttr(all));
      sum = b.create<arith::AddFOp>(
          loc, sum, b.create<tensor::ExtractOp>(loc, partial, ValueRange{}));
    }
    Value norm = b.create<math::SqrtOp>(loc, sum);
    Value denom = b.create<arith::AddFOp>(
        loc, norm, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1e-6f)));
    Value coef = b.create<arith::DivFOp>(
        loc,
        b.create<arith::ConstantOp>(
            loc, b.getF32FloatAttr(static_cast<float>(maxNorm))),
        denom);
    coef = b.create<arith::MinimumFOp>(
        loc, coef, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f)));
    for (Value &g : grads) {
      auto type = cast<RankedTensorType>(g.getType());
      Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(),
                                              type.getElementType());
      Value splat = b.create<linalg::FillOp>(loc, coef, empty).getResult(0);
      g = b.create<nn::MulOp>(loc, g, splat);
    }
  }

  /// `train_step` for `loss_grad`, `train_step_phase0` for
  /// `loss_phase0_grad`.
  static std::string stepName(func::FuncOp gradFn) {
    StringRef name = gradFn.getSymName();
    name.consume_back("_grad");
    name.consume_front("loss");
    return ("train_step" + name).str();
  }

  void build(ModuleOp module, func::FuncOp gradFn, const OptimizerConfig &cfg,
             DictionaryAttr dict) {
    MLIRContext *ctx = module.getContext();
    Location loc = gradFn.getLoc();
    OpBuilder b(ctx);
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());

    // Arguments: params, buffers, states (of the parameters ever trained),
    // data, step, steps_per_epoch, epochs, seed, lr_factor.
    SmallVector<unsigned> paramIdx, bufferIdx, dataIdx;
    SmallVector<bool> frozen;
    SmallVector<int64_t> trainedAfter;
    SmallVector<unsigned> stateful; ///< positions in paramIdx with states
    int seedIdx = -1;
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i) {
      if (gradFn.getArgAttr(i, "nn.param")) {
        auto after = gradFn.getArgAttrOfType<IntegerAttr>(i, "nn.trained_after");
        trainedAfter.push_back(after ? after.getInt() : 0);
        frozen.push_back(static_cast<bool>(gradFn.getArgAttr(i, "nn.frozen")));
        if (trainedAfter.back() >= 0)
          stateful.push_back(paramIdx.size());
        paramIdx.push_back(i);
      }
      else if (gradFn.getArgAttr(i, "nn.buffer"))
        bufferIdx.push_back(i);
      else if (gradFn.getArgAttr(i, "nn.seed"))
        seedIdx = static_cast<int>(i);
      else
        dataIdx.push_back(i);
    }
    SmallVector<Type> argTypes;
    for (unsigned i : paramIdx)
      argTypes.push_back(gradFn.getArgumentTypes()[i]);
    for (unsigned i : bufferIdx)
      argTypes.push_back(gradFn.getArgumentTypes()[i]);
    for (unsigned s = 0; s < cfg.numStates(); ++s)
      for (unsigned k : stateful)
        argTypes.push_back(gradFn.getArgumentTypes()[paramIdx[k]]);
    for (unsigned i : dataIdx)
      argTypes.push_back(gradFn.getArgumentTypes()[i]);
    for (unsigned k = 0; k < 4; ++k)
      argTypes.push_back(i64Scalar);
    auto f32Scalar = RankedTensorType::get({}, b.getF32Type());
    argTypes.push_back(f32Scalar);

    b.setInsertionPointToEnd(module.getBody());
    auto stepFn = b.create<func::FuncOp>(loc, stepName(gradFn),
                                         b.getFunctionType(argTypes, {}));
    Block *entry = stepFn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    unsigned numParams = paramIdx.size(), numBuffers = bufferIdx.size();
    auto stepArg = [&](unsigned i) { return entry->getArgument(i); };
    Value step = stepArg(argTypes.size() - 5);
    Value stepsPerEpoch = stepArg(argTypes.size() - 4);
    Value epochs = stepArg(argTypes.size() - 3);
    Value runSeed = stepArg(argTypes.size() - 2);
    Value lrFactor = stepArg(argTypes.size() - 1);

    // Inline the gradient function.
    IRMapping map;
    for (auto [k, i] : llvm::enumerate(paramIdx))
      map.map(gradFn.getArgument(i), stepArg(k));
    for (auto [k, i] : llvm::enumerate(bufferIdx))
      map.map(gradFn.getArgument(i), stepArg(numParams + k));
    unsigned numStateful = stateful.size();
    unsigned stateBase = numParams + numBuffers;
    unsigned dataBase = stateBase + numStateful * cfg.numStates();
    for (auto [k, i] : llvm::enumerate(dataIdx))
      map.map(gradFn.getArgument(i), stepArg(dataBase + k));
    if (seedIdx >= 0)
      map.map(gradFn.getArgument(seedIdx), dropoutSeed(b, loc, step, runSeed));
    func::ReturnOp gradRet;
    for (Operation &op : gradFn.getBody().front()) {
      if (auto r = dyn_cast<func::ReturnOp>(op)) {
        gradRet = r;
        break;
      }
      b.clone(op, map);
    }
    unsigned numTrained = llvm::count(frozen, false);
    unsigned numResults = gradRet.getNumOperands() - numTrained;
    SmallVector<Value> results, grads;
    for (unsigned i = 0; i < numResults; ++i)
      results.push_back(map.lookup(gradRet.getOperand(i)));
    // New buffer values by name; a buffer the loss does not update keeps its
    // value. They are taken out of `results`, which keeps loss, predictions.
    SmallVector<Value> newBuffers;
    auto bufferResults = gradFn->getAttrOfType<ArrayAttr>("nn.buffer_results");
    for (auto [k, i] : llvm::enumerate(bufferIdx)) {
      Value v = stepArg(numParams + k);
      Attribute name = gradFn.getArgAttr(i, "nn.buffer");
      if (bufferResults)
        for (auto [r, n] : llvm::enumerate(bufferResults))
          if (n == name && 2 + r < results.size())
            v = results[2 + r];
      newBuffers.push_back(v);
    }
    if (bufferResults && results.size() >= 2 + bufferResults.size())
      results.resize(results.size() - bufferResults.size());
    for (unsigned i = 0; i < numTrained; ++i)
      grads.push_back(map.lookup(gradRet.getOperand(numResults + i)));
    if (double maxNorm = getF64(dict, "clip_grad_norm", 0); maxNorm > 0)
      clipGradNorm(b, loc, grads, maxNorm);

    // The learning rate at this step.
    auto sched = dict.getAs<DictionaryAttr>("schedule");
    auto kind = static_cast<nn::ScheduleKind>(
        static_cast<int>(getF64(sched, "kind", 0)));
    Value scheduled = b.create<nn::LRScheduleOp>(
        loc, step, stepsPerEpoch, epochs, nn::ScheduleKindAttr::get(ctx, kind),
        b.getF64FloatAttr(getF64(dict, "lr", 0.001)),
        b.getF64FloatAttr(getF64(sched, "warmup", 0)),
        b.getF64FloatAttr(getF64(sched, "every", 1)),
        b.getF64FloatAttr(getF64(sched, "gamma", 0.1)),
        b.getF64FloatAttr(getF64(sched, "min_lr", 0)),
        b.getF64FloatAttr(getF64(sched, "end_lr", 0)));
    // The runtime's `--lr X` scales the whole schedule by X / lr.
    Value baseLr = b.create<nn::MulOp>(loc, scheduled, lrFactor);

    // One update per trained parameter; frozen ones and their states pass
    // through.
    SmallVector<Value> newParams, newStates(numStateful * cfg.numStates());
    auto f32 = [](double v) { return llvm::APFloat(static_cast<float>(v)); };
    unsigned nextGrad = 0;
    for (unsigned i = 0; i < numParams; ++i) {
      Value p = stepArg(i);
      unsigned slot = llvm::find(stateful, i) - stateful.begin();
      auto stateIndex = [&](unsigned s) { return numStateful * s + slot; };
      auto state = [&](unsigned s) { return stepArg(stateBase + stateIndex(s)); };
      if (frozen[i]) {
        newParams.push_back(p);
        if (slot < numStateful)
          for (unsigned s = 0; s < cfg.numStates(); ++s)
            newStates[stateIndex(s)] = state(s);
        continue;
      }
      Value g = grads[nextGrad++];
      Location ploc = stepFn.getLoc();
      if (auto name = gradFn.getArgAttrOfType<StringAttr>(paramIdx[i], "nn.param"))
        ploc = NameLoc::get(name, ploc);
      Value lr = scaledLr(b, ploc, baseLr, gradFn, paramIdx[i]);
      Value paramStep =
          ownStep(b, ploc, step, stepsPerEpoch, trainedAfter[i]);
      if (cfg.kind == "sgd") {
        Value buf = cfg.numStates()
                        ? Value(state(0))
                        : Value(b.create<arith::ConstantOp>(
                              ploc, DenseElementsAttr::get(
                                        cast<RankedTensorType>(p.getType()),
                                        b.getF32FloatAttr(0))));
        auto op = b.create<nn::SGDUpdateOp>(
            ploc, p.getType(), p.getType(), p, g, buf, lr, paramStep,
            f32(cfg.momentum), f32(cfg.dampening), f32(cfg.weightDecay),
            cfg.nesterov);
        newParams.push_back(op.getNewParam());
        if (cfg.numStates())
          newStates[stateIndex(0)] = op.getNewMomentumBuffer();
      } else if (cfg.kind == "rmsprop") {
        auto op = b.create<nn::RMSpropUpdateOp>(
            ploc, p.getType(), p.getType(), p.getType(), p, g, state(0),
            state(1), lr, f32(cfg.alpha), f32(cfg.eps), f32(cfg.momentum),
            f32(cfg.weightDecay));
        newParams.push_back(op.getNewParam());
        newStates[stateIndex(0)] = op.getNewSquareAvg();
        newStates[stateIndex(1)] = op.getNewMomentumBuffer();
      } else {
        auto op = b.create<nn::AdamUpdateOp>(
            ploc, p.getType(), p.getType(), p.getType(), p, g, state(0),
            state(1), lr, paramStep, f32(cfg.beta1), f32(cfg.beta2), f32(cfg.eps),
            f32(cfg.weightDecay), cfg.kind == "adamw");
        newParams.push_back(op.getNewParam());
        newStates[stateIndex(0)] = op.getNewExpAvg();
        newStates[stateIndex(1)] = op.getNewExpAvgSq();
      }
    }

    SmallVector<Value> rets(newParams);
    rets.append(newBuffers.begin(), newBuffers.end());
    rets.append(newStates.begin(), newStates.end());
    rets.append(results.begin(), results.end());
    rets.push_back(baseLr);
    b.create<func::ReturnOp>(loc, rets);
    SmallVector<Type> retTypes;
    for (Value v : rets)
      retTypes.push_back(v.getType());
    stepFn.setFunctionType(b.getFunctionType(argTypes, retTypes));
    // What nn-export-abi needs to lay out the state arena.
    stepFn->setAttr("nn.train_step", b.getUnitAttr());
    SmallVector<Attribute> stateNames;
    for (StringRef n : cfg.stateNames())
      stateNames.push_back(b.getStringAttr(n));
    stepFn->setAttr("nn.states", b.getArrayAttr(stateNames));
    SmallVector<Attribute> statefulNames;
    for (unsigned k : stateful)
      statefulNames.push_back(gradFn.getArgAttr(paramIdx[k], "nn.param"));
    stepFn->setAttr("nn.state_params", b.getArrayAttr(statefulNames));
    if (Attribute last = gradFn->getAttr("nn.phase_last_epoch"))
      stepFn->setAttr("nn.phase_last_epoch", last);
    // Parameter names travel with the step's arguments for the ABI, set at
    // once (one setArgAttr per argument is quadratic, see MLIRGen).
    SmallVector<NamedAttrList> argAttrs(stepFn.getNumArguments());
    for (auto [k, i] : llvm::enumerate(paramIdx))
      if (Attribute name = gradFn.getArgAttr(i, "nn.param"))
        argAttrs[k].append("nn.param", name);
    for (auto [k, i] : llvm::enumerate(bufferIdx))
      if (Attribute name = gradFn.getArgAttr(i, "nn.buffer"))
        argAttrs[numParams + k].append("nn.buffer", name);
    SmallVector<DictionaryAttr> dicts;
    for (NamedAttrList &attrs : argAttrs)
      dicts.push_back(attrs.getDictionary(b.getContext()));
    stepFn.setAllArgAttrs(dicts);
  }

  /// The learning rate of parameter argument `arg`: `lr` times its
  /// `nn.lr_scale`.
  static Value scaledLr(OpBuilder &b, Location loc, Value lr,
                        func::FuncOp gradFn, unsigned arg) {
    auto scale = gradFn.getArgAttrOfType<FloatAttr>(arg, "nn.lr_scale");
    if (!scale || scale.getValueAsDouble() == 1.0)
      return lr;
    auto type = cast<RankedTensorType>(lr.getType());
    Value factor = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(
                 type, b.getF32FloatAttr(
                           static_cast<float>(scale.getValueAsDouble()))));
    return b.create<nn::MulOp>(loc, lr, factor);
  }

  /// The optimizer step count of a parameter trained after epoch
  /// `trainedAfter`: the steps since (torch.optim creates a parameter's state
  /// at its first update).
  static Value ownStep(OpBuilder &b, Location loc, Value step,
                       Value stepsPerEpoch, int64_t trainedAfter) {
    if (trainedAfter <= 0)
      return step;
    Value s = b.create<tensor::ExtractOp>(loc, step, ValueRange{});
    Value spe = b.create<tensor::ExtractOp>(loc, stepsPerEpoch, ValueRange{});
    Value skipped = b.create<arith::MulIOp>(
        loc, spe,
        b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(trainedAfter)));
    s = b.create<arith::SubIOp>(loc, s, skipped);
    return b.create<tensor::FromElementsOp>(loc, step.getType(), ValueRange{s});
  }

  /// The dropout seed of a step: the run's seed (a train_step argument, so
  /// that `--seed` changes the masks) and the step mixed by two odd 64-bit
  /// constants (wrapping), so that every step and every run seed gives
  /// another mask; nn.dropout hashes it further.
  static Value dropoutSeed(OpBuilder &b, Location loc, Value step,
                           Value runSeed) {
    auto c = [&](uint64_t v) -> Value {
      return b.create<arith::ConstantOp>(
          loc, b.getI64IntegerAttr(static_cast<int64_t>(v)));
    };
    Value s = b.create<tensor::ExtractOp>(loc, step, ValueRange{});
    s = b.create<arith::MulIOp>(loc, s, c(0xA0761D6478BD642Full));
    Value r = b.create<tensor::ExtractOp>(loc, runSeed, ValueRange{});
    s = b.create<arith::AddIOp>(
        loc, s, b.create<arith::MulIOp>(loc, r, c(0xD6E8FEB86659FD93ull)));
    return b.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, b.getI64Type()), ValueRange{s});
  }
};

} // namespace
