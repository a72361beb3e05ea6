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
// Gradient accumulation (the module's `nn.accumulate`): `grad_step` adds a
// batch's gradients, times a weight, into accumulators; `update_step` runs
// the training step's update on the accumulators times a scale and zeroes
// them (the runtime weighs each batch by its rows and scales by 1 / rows).
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

  /// The gradient function's arguments by kind.
  struct StepArgs {
    SmallVector<unsigned> paramIdx, bufferIdx, dataIdx;
    SmallVector<bool> frozen;
    SmallVector<int64_t> trainedAfter;
    SmallVector<unsigned> stateful; ///< positions in paramIdx with states
    int seedIdx = -1;
    unsigned numTrained() const { return llvm::count(frozen, false); }
  };

  /// The types of a step function's argument groups.
  struct StepTypes {
    SmallVector<Type> params, buffers, states, accs, data;
  };
  static StepTypes typesOf(func::FuncOp gradFn, const StepArgs &a,
                           unsigned numStates) {
    auto typeOf = [&](unsigned i) { return gradFn.getArgumentTypes()[i]; };
    StepTypes t;
    for (auto [k, i] : llvm::enumerate(a.paramIdx)) {
      t.params.push_back(typeOf(i));
      if (!a.frozen[k])
        t.accs.push_back(typeOf(i));
    }
    for (unsigned i : a.bufferIdx)
      t.buffers.push_back(typeOf(i));
    for (unsigned s = 0; s < numStates; ++s)
      for (unsigned k : a.stateful)
        t.states.push_back(typeOf(a.paramIdx[k]));
    for (unsigned i : a.dataIdx)
      t.data.push_back(typeOf(i));
    return t;
  }

  static StepArgs classify(func::FuncOp gradFn) {
    StepArgs a;
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i) {
      if (gradFn.getArgAttr(i, ParamName::getNameStr())) {
        auto after = gradFn.getArgAttrOfType<IntegerAttr>(
            i, NNDialect::TrainedAfterAttrHelper::getNameStr());
        a.trainedAfter.push_back(after ? after.getInt() : 0);
        a.frozen.push_back(static_cast<bool>(
            gradFn.getArgAttr(i, NNDialect::FrozenAttrHelper::getNameStr())));
        if (a.trainedAfter.back() >= 0)
          a.stateful.push_back(a.paramIdx.size());
        a.paramIdx.push_back(i);
      } else if (gradFn.getArgAttr(i, BufferName::getNameStr()))
        a.bufferIdx.push_back(i);
      else if (gradFn.getArgAttr(i, NNDialect::SeedAttrHelper::getNameStr()))
        a.seedIdx = static_cast<int>(i);
      else
        a.dataIdx.push_back(i);
    }
    return a;
  }

  /// The gradient function inlined at `b` on `params`, `buffers` and
  /// `data` (and the dropout seed of `step` and `runSeed`): its results
  /// without the buffers' (loss, predictions), the buffers' new values
  /// (unchanged when the loss does not update one) and the trained
  /// parameters' gradients.
  struct Inlined {
    SmallVector<Value> results, newBuffers, grads;
  };
  static Inlined inlineGrad(OpBuilder &b, Location loc, func::FuncOp gradFn,
                            const StepArgs &a, ValueRange params,
                            ValueRange buffers, ValueRange data, Value step,
                            Value runSeed) {
    IRMapping map;
    for (auto [k, i] : llvm::enumerate(a.paramIdx))
      map.map(gradFn.getArgument(i), params[k]);
    for (auto [k, i] : llvm::enumerate(a.bufferIdx))
      map.map(gradFn.getArgument(i), buffers[k]);
    for (auto [k, i] : llvm::enumerate(a.dataIdx))
      map.map(gradFn.getArgument(i), data[k]);
    if (a.seedIdx >= 0)
      map.map(gradFn.getArgument(a.seedIdx),
              dropoutSeed(b, loc, step, runSeed));
    func::ReturnOp gradRet;
    for (Operation &op : gradFn.getBody().front()) {
      if (auto r = dyn_cast<func::ReturnOp>(op)) {
        gradRet = r;
        break;
      }
      b.clone(op, map);
    }
    Inlined out;
    unsigned numTrained = a.numTrained();
    unsigned numResults = gradRet.getNumOperands() - numTrained;
    for (unsigned i = 0; i < numResults; ++i)
      out.results.push_back(map.lookup(gradRet.getOperand(i)));
    // New buffer values by name; a buffer the loss does not update keeps its
    // value. They are taken out of `results`, which keeps loss, predictions.
    MLIRContext *ctx = gradFn.getContext();
    ArrayAttr bufferResults =
        NNDialect::BufferResultsAttrHelper(ctx).getAttr(gradFn);
    for (auto [k, i] : llvm::enumerate(a.bufferIdx)) {
      Value v = buffers[k];
      Attribute name = gradFn.getArgAttr(i, BufferName::getNameStr());
      if (bufferResults)
        for (auto [r, n] : llvm::enumerate(bufferResults))
          if (n == name && 2 + r < out.results.size())
            v = out.results[2 + r];
      out.newBuffers.push_back(v);
    }
    if (bufferResults && out.results.size() >= 2 + bufferResults.size())
      out.results.resize(out.results.size() - bufferResults.size());
    for (unsigned i = 0; i < numTrained; ++i)
      out.grads.push_back(map.lookup(gradRet.getOperand(numResults + i)));
    return out;
  }

  /// The optimizer step on `params` from `grads` (one per trained
  /// parameter) and `states` (state s of stateful parameter j at
  /// numStateful * s + j): clipping, the scheduled learning rate (returned),
  /// one update per trained parameter (frozen ones and their states pass
  /// through), pruned weights times their masks (in `buffers`).
  LogicalResult update(OpBuilder &b, Location loc, func::FuncOp gradFn,
                       nn::OptimizerAttr opt, const StepArgs &a,
                       ValueRange params, ValueRange buffers, ValueRange states,
                       SmallVector<Value> grads, Value step,
                       Value stepsPerEpoch, Value epochs, Value lrFactor,
                       SmallVectorImpl<Value> &newParams,
                       SmallVectorImpl<Value> &newStates, Value &baseLr) {
    unsigned numStates = stateNames(opt).size();
    unsigned numStateful = a.stateful.size();
    if (double maxNorm = opt.getClipGradNorm().convertToDouble(); maxNorm > 0)
      clipGradNorm(b, loc, grads, maxNorm);

    // The learning rate at this step.
    Value scheduled = b.create<nn::LRScheduleOp>(
        loc, step, stepsPerEpoch, epochs, opt.getSchedule(),
        b.getF64FloatAttr(opt.getLr().convertToDouble()));
    // The runtime's `--lr X` scales the whole schedule by X / lr.
    baseLr = b.create<nn::MulOp>(loc, scheduled, lrFactor);

    newStates.assign(numStateful * numStates, Value());
    auto f32 = [](const APFloat &v) {
      return APFloat(static_cast<float>(v.convertToDouble()));
    };
    unsigned nextGrad = 0;
    for (unsigned i = 0; i < params.size(); ++i) {
      Value p = params[i];
      unsigned slot = llvm::find(a.stateful, i) - a.stateful.begin();
      auto stateIndex = [&](unsigned s) { return numStateful * s + slot; };
      auto state = [&](unsigned s) { return states[stateIndex(s)]; };
      if (a.frozen[i]) {
        newParams.push_back(p);
        if (slot < numStateful)
          for (unsigned s = 0; s < numStates; ++s)
            newStates[stateIndex(s)] = state(s);
        continue;
      }
      Value g = grads[nextGrad++];
      Location ploc = loc;
      if (auto name = gradFn.getArgAttrOfType<StringAttr>(
              a.paramIdx[i], ParamName::getNameStr()))
        ploc = NameLoc::get(name, ploc);
      Value lr = scaledLr(b, ploc, baseLr, gradFn, a.paramIdx[i]);
      Value paramStep =
          ownStep(b, ploc, step, stepsPerEpoch, a.trainedAfter[i]);
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
    for (unsigned i = 0; i < params.size(); ++i) {
      auto maskName = gradFn.getArgAttrOfType<StringAttr>(
          a.paramIdx[i], NNDialect::MaskAttrHelper::getNameStr());
      if (!maskName)
        continue;
      auto it = llvm::find_if(a.bufferIdx, [&](unsigned j) {
        return gradFn.getArgAttr(j, BufferName::getNameStr()) == maskName;
      });
      if (it == a.bufferIdx.end())
        return gradFn.emitOpError("names mask '")
               << maskName.getValue() << "' that is not one of its buffers";
      Value mask = buffers[it - a.bufferIdx.begin()];
      newParams[i] = b.create<nn::MulOp>(loc, newParams[i], mask);
    }
    return success();
  }

  /// A new function `name` of `argTypes` at the end of `module`, with `b`
  /// at the start of its body (its results come with finishFunction).
  static func::FuncOp beginFunction(OpBuilder &b, ModuleOp module, Location loc,
                                    StringRef name, TypeRange argTypes) {
    b.setInsertionPointToEnd(module.getBody());
    auto fn =
        b.create<func::FuncOp>(loc, name, b.getFunctionType(argTypes, {}));
    b.setInsertionPointToStart(fn.addEntryBlock());
    return fn;
  }

  /// Returns `rets` from `fn`, whose type gets their types.
  static void finishFunction(OpBuilder &b, func::FuncOp fn, Location loc,
                             ValueRange rets) {
    b.create<func::ReturnOp>(loc, rets);
    fn.setFunctionType(
        b.getFunctionType(fn.getArgumentTypes(), rets.getTypes()));
  }

  /// A splat of the f32 0-d tensor `scalar` in `type`'s shape.
  static Value splatScalar(OpBuilder &b, Location loc, Value scalar,
                           RankedTensorType type) {
    Value empty =
        b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
    Value v = b.create<tensor::ExtractOp>(loc, scalar, ValueRange{});
    return b.create<linalg::FillOp>(loc, v, empty).getResult(0);
  }

  /// Sets the argument attributes of a step function: parameter names on
  /// its first arguments, then buffer names (at once: one setArgAttr per
  /// argument is quadratic, see MLIRGen).
  static void nameArguments(func::FuncOp fn, func::FuncOp gradFn,
                            const StepArgs &a) {
    SmallVector<NamedAttrList> argAttrs(fn.getNumArguments());
    unsigned numParams = a.paramIdx.size();
    for (auto [k, i] : llvm::enumerate(a.paramIdx))
      if (Attribute name = gradFn.getArgAttr(i, ParamName::getNameStr()))
        argAttrs[k].append(ParamName::getNameStr(), name);
    for (auto [k, i] : llvm::enumerate(a.bufferIdx))
      if (Attribute name = gradFn.getArgAttr(i, BufferName::getNameStr()))
        argAttrs[numParams + k].append(BufferName::getNameStr(), name);
    SmallVector<DictionaryAttr> dicts;
    for (NamedAttrList &attrs : argAttrs)
      dicts.push_back(attrs.getDictionary(fn.getContext()));
    fn.setAllArgAttrs(dicts);
  }

  /// What nn-export-abi needs to lay out the state arena: the optimizer's
  /// state names and the parameters that have them.
  static void markStates(func::FuncOp fn, func::FuncOp gradFn,
                         nn::OptimizerAttr opt, const StepArgs &a) {
    MLIRContext *ctx = fn.getContext();
    Builder b(ctx);
    SmallVector<Attribute> states;
    for (StringRef n : stateNames(opt))
      states.push_back(b.getStringAttr(n));
    NNDialect::StatesAttrHelper(ctx).setAttr(fn, b.getArrayAttr(states));
    SmallVector<Attribute> statefulNames;
    for (unsigned k : a.stateful)
      statefulNames.push_back(
          gradFn.getArgAttr(a.paramIdx[k], ParamName::getNameStr()));
    NNDialect::StateParamsAttrHelper(ctx).setAttr(
        fn, b.getArrayAttr(statefulNames));
  }

  void build(ModuleOp module, func::FuncOp gradFn, nn::OptimizerAttr opt) {
    MLIRContext *ctx = module.getContext();
    Location loc = gradFn.getLoc();
    OpBuilder b(ctx);
    unsigned numStates = stateNames(opt).size();
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    auto f32Scalar = RankedTensorType::get({}, b.getF32Type());

    // Arguments: params, buffers, states (of the parameters ever trained),
    // data, step, steps_per_epoch, epochs, seed, lr_factor.
    StepArgs a = classify(gradFn);
    StepTypes t = typesOf(gradFn, a, numStates);
    SmallVector<Type> argTypes(t.params);
    llvm::append_range(argTypes, t.buffers);
    llvm::append_range(argTypes, t.states);
    llvm::append_range(argTypes, t.data);
    for (unsigned k = 0; k < 4; ++k)
      argTypes.push_back(i64Scalar);
    argTypes.push_back(f32Scalar);

    func::FuncOp stepFn =
        beginFunction(b, module, loc, stepName(gradFn), argTypes);
    unsigned numParams = a.paramIdx.size(), numBuffers = a.bufferIdx.size();
    unsigned numStateful = a.stateful.size();
    ValueRange args = stepFn.getArguments();
    ValueRange params = args.take_front(numParams);
    ValueRange buffers = args.slice(numParams, numBuffers);
    unsigned stateBase = numParams + numBuffers;
    ValueRange states = args.slice(stateBase, numStateful * numStates);
    ValueRange data =
        args.slice(stateBase + numStateful * numStates, a.dataIdx.size());
    Value step = args[args.size() - 5], stepsPerEpoch = args[args.size() - 4];
    Value epochs = args[args.size() - 3], runSeed = args[args.size() - 2];
    Value lrFactor = args[args.size() - 1];

    Inlined g =
        inlineGrad(b, loc, gradFn, a, params, buffers, data, step, runSeed);
    SmallVector<Value> newParams, newStates;
    Value baseLr;
    if (failed(update(b, stepFn.getLoc(), gradFn, opt, a, params, buffers,
                      states, g.grads, step, stepsPerEpoch, epochs, lrFactor,
                      newParams, newStates, baseLr)))
      return signalPassFailure();

    SmallVector<Value> rets(newParams);
    rets.append(g.newBuffers.begin(), g.newBuffers.end());
    rets.append(newStates.begin(), newStates.end());
    rets.append(g.results.begin(), g.results.end());
    rets.push_back(baseLr);
    finishFunction(b, stepFn, loc, rets);
    NNDialect::TrainStepAttrHelper(ctx).setAttr(stepFn, b.getUnitAttr());
    markStates(stepFn, gradFn, opt, a);
    NNDialect::PhaseLastEpochAttrHelper lastEpoch(ctx);
    if (IntegerAttr last = lastEpoch.getAttr(gradFn))
      lastEpoch.setAttr(stepFn, last);
    nameArguments(stepFn, gradFn, a);

    if (NNDialect::AccumulateAttrHelper(ctx).isAttrPresent(module) &&
        !lastEpoch.getAttr(gradFn))
      buildAccumulation(module, gradFn, opt, a);
  }

  /// Gradient accumulation (`accumulate = k`) as two functions:
  ///   grad_step(params, buffers, accs, data, step, seed, weight)
  ///     -> (buffers, accs + weight * gradients, loss, predictions)
  ///   update_step(params, buffers, states, accs, step, steps_per_epoch,
  ///               epochs, lr_factor, scale)
  ///     -> (params, states, zeros, lr)
  /// with one accumulator per trained parameter; the update is the training
  /// step's on the gradients scale * accs.
  void buildAccumulation(ModuleOp module, func::FuncOp gradFn,
                         nn::OptimizerAttr opt, const StepArgs &a) {
    MLIRContext *ctx = module.getContext();
    Location loc = gradFn.getLoc();
    OpBuilder b(ctx);
    unsigned numStates = stateNames(opt).size();
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    auto f32Scalar = RankedTensorType::get({}, b.getF32Type());
    unsigned numParams = a.paramIdx.size(), numBuffers = a.bufferIdx.size();
    unsigned numStateful = a.stateful.size();
    StepTypes t = typesOf(gradFn, a, numStates);
    ArrayRef<Type> accTypes = t.accs, dataTypes = t.data;
    unsigned numAccs = accTypes.size();

    // grad_step
    {
      SmallVector<Type> types(t.params);
      llvm::append_range(types, t.buffers);
      llvm::append_range(types, t.accs);
      llvm::append_range(types, t.data);
      types.append({i64Scalar, i64Scalar, f32Scalar});
      func::FuncOp fn = beginFunction(b, module, loc, "grad_step", types);
      ValueRange args = fn.getArguments();
      ValueRange params = args.take_front(numParams);
      ValueRange buffers = args.slice(numParams, numBuffers);
      ValueRange accs = args.slice(numParams + numBuffers, numAccs);
      ValueRange data =
          args.slice(numParams + numBuffers + numAccs, dataTypes.size());
      Value step = args[args.size() - 3], runSeed = args[args.size() - 2];
      Value weight = args[args.size() - 1];
      Inlined g =
          inlineGrad(b, loc, gradFn, a, params, buffers, data, step, runSeed);
      SmallVector<Value> rets(g.newBuffers);
      for (auto [acc, grad] : llvm::zip(accs, g.grads)) {
        Value w = splatScalar(b, loc, weight, nn::tensorType(grad));
        rets.push_back(
            b.create<nn::AddOp>(loc, acc, b.create<nn::MulOp>(loc, grad, w)));
      }
      rets.append(g.results.begin(), g.results.end());
      finishFunction(b, fn, loc, rets);
      NNDialect::GradStepAttrHelper(ctx).setAttr(fn, b.getUnitAttr());
      nameArguments(fn, gradFn, a);
    }

    // update_step
    {
      SmallVector<Type> types(t.params);
      llvm::append_range(types, t.buffers);
      llvm::append_range(types, t.states);
      llvm::append_range(types, t.accs);
      types.append({i64Scalar, i64Scalar, i64Scalar, f32Scalar, f32Scalar});
      func::FuncOp fn = beginFunction(b, module, loc, "update_step", types);
      ValueRange args = fn.getArguments();
      ValueRange params = args.take_front(numParams);
      ValueRange buffers = args.slice(numParams, numBuffers);
      ValueRange states =
          args.slice(numParams + numBuffers, numStateful * numStates);
      ValueRange accs =
          args.slice(numParams + numBuffers + numStateful * numStates, numAccs);
      Value step = args[args.size() - 5], stepsPerEpoch = args[args.size() - 4];
      Value epochs = args[args.size() - 3], lrFactor = args[args.size() - 2];
      Value scale = args[args.size() - 1];
      SmallVector<Value> grads;
      for (Value acc : accs)
        grads.push_back(b.create<nn::MulOp>(
            loc, acc, splatScalar(b, loc, scale, nn::tensorType(acc))));
      SmallVector<Value> newParams, newStates;
      Value baseLr;
      if (failed(update(b, loc, gradFn, opt, a, params, buffers, states, grads,
                        step, stepsPerEpoch, epochs, lrFactor, newParams,
                        newStates, baseLr)))
        return signalPassFailure();
      SmallVector<Value> rets(newParams);
      rets.append(newStates.begin(), newStates.end());
      for (Value acc : accs)
        rets.push_back(b.create<arith::ConstantOp>(
            loc,
            DenseElementsAttr::get(nn::tensorType(acc), b.getF32FloatAttr(0))));
      rets.push_back(baseLr);
      finishFunction(b, fn, loc, rets);
      NNDialect::UpdateStepAttrHelper(ctx).setAttr(fn, b.getUnitAttr());
      markStates(fn, gradFn, opt, a);
      nameArguments(fn, gradFn, a);
    }
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
