//===- BuildTrainStep.cpp - Gradients, learning rate, optimizer update ----===//
//
// Builds `train_step` from the `<loss>_grad` function of nn-autodiff and
// the module's `nn.optimizer` attribute (#nn.optimizer<...>). The update rules
// are nn ops (nn.sgd_update, nn.adam_update, nn.rmsprop_update), lowered like
// any other. Buffers (arguments marked `nn.buffer`) follow the parameters in
// and out: their new values are the gradient function's results named by
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
// Magnitude pruning: a parameter whose argument names a mask buffer
// (`nn.mask`) is multiplied by it after its update, so that pruned weights
// stay zero whatever the optimizer's state or weight decay would do.
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

using nn::NNDialect;
using ParamName = NNDialect::ParamAttrHelper;
using BufferName = NNDialect::BufferAttrHelper;

/// torch.optim's names of the state tensors `opt` keeps per parameter, in
/// argument order.
static SmallVector<StringRef> stateNames(nn::OptimizerAttr opt) {
  switch (opt.getKind()) {
  case nn::OptimizerKind::SGD:
    if (!opt.getMomentum().isZero())
      return {"momentum_buffer"};
    return {};
  case nn::OptimizerKind::Adam:
  case nn::OptimizerKind::AdamW:
    return {"exp_avg", "exp_avg_sq"};
  case nn::OptimizerKind::RMSprop:
    return {"square_avg", "momentum_buffer"};
  }
  llvm_unreachable("unknown optimizer kind");
}

struct NNBuildTrainStepPass
    : nnc::impl::NNBuildTrainStepPassBase<NNBuildTrainStepPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    nn::OptimizerAttr opt = NNDialect::OptimizerAttrHelper(ctx).getAttr(module);
    if (!opt) {
      module.emitOpError("nn-build-train-step needs the module attribute '")
          << NNDialect::OptimizerAttrHelper::getNameStr() << "'";
      return signalPassFailure();
    }
    NNDialect::GradAttrHelper grad(ctx);
    SmallVector<func::FuncOp> gradFns;
    for (auto fn : module.getOps<func::FuncOp>())
      if (grad.isAttrPresent(fn))
        gradFns.push_back(fn);
    if (gradFns.empty()) {
      module.emitOpError("nn-build-train-step needs a gradient function; run "
                         "nn-autodiff first");
      return signalPassFailure();
    }
    for (func::FuncOp gradFn : gradFns)
      build(module, gradFn, opt);
  }

  /// torch.nn.utils.clip_grad_norm_: the global L2 norm over all gradients,
  /// coef = min(1, max_norm / (norm + 1e-6)), every gradient times coef.
  static void clipGradNorm(OpBuilder &b, Location loc,
                           SmallVectorImpl<Value> &grads, double maxNorm) {
    auto scalarType = RankedTensorType::get({}, b.getF32Type());
    Value sum = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
    for (Value g : grads) {
      RankedTensorType type = nn::tensorType(g);
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
      RankedTensorType type = nn::tensorType(g);
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

  void build(ModuleOp module, func::FuncOp gradFn, nn::OptimizerAttr opt) {
    MLIRContext *ctx = module.getContext();
    Location loc = gradFn.getLoc();
    OpBuilder b(ctx);
    unsigned numStates = stateNames(opt).size();
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());

    // Arguments: params, buffers, states (of the parameters ever trained),
    // data, step, steps_per_epoch, epochs, seed, lr_factor.
    SmallVector<unsigned> paramIdx, bufferIdx, dataIdx;
    SmallVector<bool> frozen;
    SmallVector<int64_t> trainedAfter;
    SmallVector<unsigned> stateful; ///< positions in paramIdx with states
    int seedIdx = -1;
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i) {
      if (gradFn.getArgAttr(i, ParamName::getNameStr())) {
        auto after = gradFn.getArgAttrOfType<IntegerAttr>(
            i, NNDialect::TrainedAfterAttrHelper::getNameStr());
        trainedAfter.push_back(after ? after.getInt() : 0);
        frozen.push_back(static_cast<bool>(
            gradFn.getArgAttr(i, NNDialect::FrozenAttrHelper::getNameStr())));
        if (trainedAfter.back() >= 0)
          stateful.push_back(paramIdx.size());
        paramIdx.push_back(i);
      } else if (gradFn.getArgAttr(i, BufferName::getNameStr()))
        bufferIdx.push_back(i);
      else if (gradFn.getArgAttr(i, NNDialect::SeedAttrHelper::getNameStr()))
        seedIdx = static_cast<int>(i);
      else
        dataIdx.push_back(i);
    }
    SmallVector<Type> argTypes;
    for (unsigned i : paramIdx)
      argTypes.push_back(gradFn.getArgumentTypes()[i]);
    for (unsigned i : bufferIdx)
      argTypes.push_back(gradFn.getArgumentTypes()[i]);
    for (unsigned s = 0; s < numStates; ++s)
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
    unsigned dataBase = stateBase + numStateful * numStates;
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
    ArrayAttr bufferResults =
        NNDialect::BufferResultsAttrHelper(ctx).getAttr(gradFn);
    for (auto [k, i] : llvm::enumerate(bufferIdx)) {
      Value v = stepArg(numParams + k);
      Attribute name = gradFn.getArgAttr(i, BufferName::getNameStr());
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
    if (double maxNorm = opt.getClipGradNorm().convertToDouble(); maxNorm > 0)
      clipGradNorm(b, loc, grads, maxNorm);

    // The learning rate at this step.
    Value scheduled = b.create<nn::LRScheduleOp>(
        loc, step, stepsPerEpoch, epochs, opt.getSchedule(),
        b.getF64FloatAttr(opt.getLr().convertToDouble()));
    // The runtime's `--lr X` scales the whole schedule by X / lr.
    Value baseLr = b.create<nn::MulOp>(loc, scheduled, lrFactor);

    // One update per trained parameter; frozen ones and their states pass
    // through.
    SmallVector<Value> newParams, newStates(numStateful * numStates);
    auto f32 = [](const APFloat &v) {
      return APFloat(static_cast<float>(v.convertToDouble()));
    };
    unsigned nextGrad = 0;
    for (unsigned i = 0; i < numParams; ++i) {
      Value p = stepArg(i);
      unsigned slot = llvm::find(stateful, i) - stateful.begin();
      auto stateIndex = [&](unsigned s) { return numStateful * s + slot; };
      auto state = [&](unsigned s) { return stepArg(stateBase + stateIndex(s)); };
      if (frozen[i]) {
        newParams.push_back(p);
        if (slot < numStateful)
          for (unsigned s = 0; s < numStates; ++s)
            newStates[stateIndex(s)] = state(s);
        continue;
      }
      Value g = grads[nextGrad++];
      Location ploc = stepFn.getLoc();
      if (auto name = gradFn.getArgAttrOfType<StringAttr>(
              paramIdx[i], ParamName::getNameStr()))
        ploc = NameLoc::get(name, ploc);
      Value lr = scaledLr(b, ploc, baseLr, gradFn, paramIdx[i]);
      Value paramStep =
          ownStep(b, ploc, step, stepsPerEpoch, trainedAfter[i]);
      switch (opt.getKind()) {
      case nn::OptimizerKind::SGD: {
        Value buf =
            numStates
                ? Value(state(0))
                : Value(b.create<arith::ConstantOp>(
                      ploc, DenseElementsAttr::get(nn::tensorType(p),
                                                   b.getF32FloatAttr(0))));
        auto op = b.create<nn::SGDUpdateOp>(
            ploc, p.getType(), p.getType(), p, g, buf, lr, paramStep,
            f32(opt.getMomentum()), f32(opt.getDampening()),
            f32(opt.getWeightDecay()), opt.getNesterov());
        newParams.push_back(op.getNewParam());
        if (numStates)
          newStates[stateIndex(0)] = op.getNewMomentumBuffer();
        break;
      }
      case nn::OptimizerKind::RMSprop: {
        auto op = b.create<nn::RMSpropUpdateOp>(
            ploc, p.getType(), p.getType(), p.getType(), p, g, state(0),
            state(1), lr, f32(opt.getAlpha()), f32(opt.getEps()),
            f32(opt.getMomentum()), f32(opt.getWeightDecay()));
        newParams.push_back(op.getNewParam());
        newStates[stateIndex(0)] = op.getNewSquareAvg();
        newStates[stateIndex(1)] = op.getNewMomentumBuffer();
        break;
      }
      case nn::OptimizerKind::Adam:
      case nn::OptimizerKind::AdamW: {
        auto op = b.create<nn::AdamUpdateOp>(
            ploc, p.getType(), p.getType(), p.getType(), p, g, state(0),
            state(1), lr, paramStep, f32(opt.getBeta1()), f32(opt.getBeta2()),
            f32(opt.getEps()), f32(opt.getWeightDecay()),
            opt.getKind() == nn::OptimizerKind::AdamW);
        newParams.push_back(op.getNewParam());
        newStates[stateIndex(0)] = op.getNewExpAvg();
        newStates[stateIndex(1)] = op.getNewExpAvgSq();
        break;
      }
      }
    }

    // Pruned weights: the update times the mask.
    for (unsigned i = 0; i < numParams; ++i) {
      auto maskName = gradFn.getArgAttrOfType<StringAttr>(
          paramIdx[i], NNDialect::MaskAttrHelper::getNameStr());
      if (!maskName)
        continue;
      auto it = llvm::find_if(bufferIdx, [&](unsigned j) {
        return gradFn.getArgAttr(j, BufferName::getNameStr()) == maskName;
      });
      if (it == bufferIdx.end()) {
        gradFn.emitOpError("names mask '")
            << maskName.getValue() << "' that is not one of its buffers";
        return signalPassFailure();
      }
      Value mask = stepArg(numParams + (it - bufferIdx.begin()));
      newParams[i] = b.create<nn::MulOp>(mask.getLoc(), newParams[i], mask);
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
    NNDialect::TrainStepAttrHelper(ctx).setAttr(stepFn, b.getUnitAttr());
    SmallVector<Attribute> states;
    for (StringRef n : stateNames(opt))
      states.push_back(b.getStringAttr(n));
    NNDialect::StatesAttrHelper(ctx).setAttr(stepFn, b.getArrayAttr(states));
    SmallVector<Attribute> statefulNames;
    for (unsigned k : stateful)
      statefulNames.push_back(
          gradFn.getArgAttr(paramIdx[k], ParamName::getNameStr()));
    NNDialect::StateParamsAttrHelper(ctx).setAttr(
        stepFn, b.getArrayAttr(statefulNames));
    NNDialect::PhaseLastEpochAttrHelper lastEpoch(ctx);
    if (IntegerAttr last = lastEpoch.getAttr(gradFn))
      lastEpoch.setAttr(stepFn, last);
    // Parameter names travel with the step's arguments for the ABI, set at
    // once (one setArgAttr per argument is quadratic, see MLIRGen).
    SmallVector<NamedAttrList> argAttrs(stepFn.getNumArguments());
    for (auto [k, i] : llvm::enumerate(paramIdx))
      if (Attribute name = gradFn.getArgAttr(i, ParamName::getNameStr()))
        argAttrs[k].append(ParamName::getNameStr(), name);
    for (auto [k, i] : llvm::enumerate(bufferIdx))
      if (Attribute name = gradFn.getArgAttr(i, BufferName::getNameStr()))
        argAttrs[numParams + k].append(BufferName::getNameStr(), name);
    SmallVector<DictionaryAttr> dicts;
    for (NamedAttrList &attrs : argAttrs)
      dicts.push_back(attrs.getDictionary(b.getContext()));
    stepFn.setAllArgAttrs(dicts);
  }

  /// The learning rate of parameter argument `arg`: `lr` times its
  /// `nn.lr_scale`.
  static Value scaledLr(OpBuilder &b, Location loc, Value lr,
                        func::FuncOp gradFn, unsigned arg) {
    auto scale = gradFn.getArgAttrOfType<FloatAttr>(
        arg, NNDialect::LrScaleAttrHelper::getNameStr());
    if (!scale || scale.getValueAsDouble() == 1.0)
      return lr;
    RankedTensorType type = nn::tensorType(lr);
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
