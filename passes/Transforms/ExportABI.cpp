//===- ExportABI.cpp - The C entry points the runtime calls --------------===//
//
// Wraps the tensor-level functions into functions on memrefs that lower, with
// the bare-pointer calling convention, to:
//
//   void nnc_train(float *state, const float *x, const void *y,
//                  const float *mask, int64_t step, int64_t steps_per_epoch,
//                  int64_t epochs, int64_t seed, float lr_factor,
//                  float *out);  // out = [loss, lr, preds]
//   void nnc_eval(float *state, const float *x, const void *y,
//                 const float *mask, float *out);  // out = [loss, preds]
//   void nnc_predict(float *state, const float *x, float *out);
//   void nnc_decode(float *state, float *cache, const int32_t *token,
//                   const int32_t *position, float *out);
//   void nnc_merge(float *state);
//   void nnc_prune(float *state, int64_t epoch);
//   void nnc_grad(float *state, float *grads, const float *x, const void *y,
//                 const float *mask, int64_t step, int64_t seed,
//                 float weight, float *out);  // out = [loss, preds]
//   void nnc_update(float *state, float *grads, int64_t step,
//                   int64_t steps_per_epoch, int64_t epochs,
//                   float lr_factor, float scale, float *out);  // out = [lr]
//
// Every parameter, buffer (`nn.buffer` arguments: batchnorm running
// statistics) and optimizer state lives at a static offset of the one
// `state` arena, in that order; the offsets are recorded in the module
// attributes `nn.abi` and `nn.abi_state_size`. nnc_train writes the buffers'
// new values back; nnc_eval calls the evaluation-mode `nn.eval_loss` function
// when there is one (else `nn.loss`), nnc_predict the `nn.predict` function.
// nnc_decode (language models whose layers allow it) calls `nn.decode`:
// one token at one position; `cache` holds each attention layer's key and
// value caches [T, D] in order, read and written (its size is the `nn.abi`
// entry "decode.cache"). nnc_merge (runs with LoRA adapters) calls
// `nn.merge` and writes each result over the weight its `nn.param` result
// attribute names: the adapters folded into the base weights, in place.
// nnc_prune (runs with `prune`) likewise calls `nn.prune`, whose results
// are the pruned weights and their masks (named by `nn.param`/`nn.buffer`).
// nnc_grad and nnc_update (gradient accumulation) call `nn.grad_step` and
// `nn.update_step`: `grads` holds one accumulator per trained parameter, in
// order (its size is the `nn.abi` entry "grads").
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace nnc {
#define GEN_PASS_DEF_NNEXPORTABIPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;
using nn::NNDialect;

namespace {

/// One tensor of the state arena.
struct Slot {
  std::string name;
  RankedTensorType type;
  int64_t offset = 0;
};

static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

static MemRefType memrefOf(RankedTensorType t) {
  return MemRefType::get(t.getShape(), t.getElementType());
}

struct NNExportABIPass : nnc::impl::NNExportABIPassBase<NNExportABIPass> {
  using NNExportABIPassBase::NNExportABIPassBase;
  ModuleOp module;
  SmallVector<Slot> slots;
  int64_t stateSize = 0;

  void runOnOperation() override {
    module = getOperation();
    MLIRContext *ctx = module.getContext();
    NNDialect::LossAttrHelper loss(ctx);
    NNDialect::EvalLossAttrHelper evalLoss(ctx);
    NNDialect::PredictAttrHelper predict(ctx);
    NNDialect::DecodeAttrHelper decode(ctx);
    NNDialect::MergeAttrHelper merge(ctx);
    NNDialect::PruneAttrHelper prune(ctx);
    NNDialect::TrainStepAttrHelper trainStep(ctx);
    func::FuncOp lossFn, evalFn, predictFn, stepFn, decodeFn, mergeFn, pruneFn;
    func::FuncOp gradStepFn, updateStepFn, foldFn;
    SmallVector<func::FuncOp> phaseSteps; ///< fine-tuning's earlier phases
    for (auto fn : module.getOps<func::FuncOp>()) {
      bool phase = NNDialect::PhaseLastEpochAttrHelper(ctx).isAttrPresent(fn);
      if (loss.isAttrPresent(fn) && !phase)
        lossFn = fn;
      else if (evalLoss.isAttrPresent(fn))
        evalFn = fn;
      else if (predict.isAttrPresent(fn))
        predictFn = fn;
      else if (decode.isAttrPresent(fn))
        decodeFn = fn;
      else if (merge.isAttrPresent(fn))
        mergeFn = fn;
      else if (prune.isAttrPresent(fn))
        pruneFn = fn;
      else if (NNDialect::FoldAttrHelper(ctx).isAttrPresent(fn))
        foldFn = fn;
      else if (NNDialect::GradStepAttrHelper(ctx).isAttrPresent(fn))
        gradStepFn = fn;
      else if (NNDialect::UpdateStepAttrHelper(ctx).isAttrPresent(fn))
        updateStepFn = fn;
      else if (trainStep.isAttrPresent(fn) && phase)
        phaseSteps.push_back(fn);
      else if (trainStep.isAttrPresent(fn))
        stepFn = fn;
    }
    if (!lossFn) {
      module.emitOpError("nn-export-abi needs a function marked '")
          << loss.getNameStr() << "'";
      return signalPassFailure();
    }
    // nnc_eval has no seed to pass: a loss with dropout needs its
    // evaluation-mode twin.
    func::FuncOp evalTarget = evalFn ? evalFn : lossFn;
    for (unsigned i = 0; i < evalTarget.getNumArguments(); ++i)
      if (evalTarget.getArgAttr(i, NNDialect::SeedAttrHelper::getNameStr())) {
        evalTarget.emitOpError("takes a dropout seed; nnc_eval needs an "
                               "evaluation-mode function marked '")
            << evalLoss.getNameStr() << "'";
        return signalPassFailure();
      }
    OpBuilder b(module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    if (inference) {
      layOut(lossFn, func::FuncOp());
      // nn-quantize's calibration functions, when it ran with them.
      func::FuncOp observeFn, quantizeFn;
      for (auto fn : module.getOps<func::FuncOp>()) {
        if (NNDialect::ObserveAttrHelper(ctx).isAttrPresent(fn))
          observeFn = fn;
        if (NNDialect::QuantizeAttrHelper(ctx).isAttrPresent(fn))
          quantizeFn = fn;
      }
      // An int8 predict (nn-quantize) no longer reads the quantized
      // layers' f32 weights: its weights leave them out.
      bool compact = NNDialect::QuantSizesAttrHelper(ctx).isAttrPresent(module);
      if (!predictFn || failed(addPreprocessingSlots(predictFn)) ||
          failed(exportInference(b, predictFn, entryName, compact)) ||
          (observeFn && failed(exportInference(b, observeFn, "nnc_observe"))))
        return signalPassFailure();
      if (quantizeFn)
        exportFunction(b, quantizeFn, "nnc_quantize");
      // Nothing else is compiled into the library.
      for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
        if (fn != predictFn && fn != observeFn && fn != quantizeFn &&
            !NNDialect::EntryAttrHelper(ctx).isAttrPresent(fn))
          fn.erase();
      finish(b, false, 0, 0);
      return;
    }
    layOut(lossFn, stepFn);
    if (stepFn && phaseSteps.empty())
      exportTrain(b, stepFn, "nnc_train");
    else if (stepFn)
      exportPhasedTrain(b, stepFn, phaseSteps);
    exportEval(b, evalTarget);
    if (predictFn)
      exportPredict(b, predictFn);
    int64_t cacheSize = decodeFn ? exportDecode(b, decodeFn) : 0;
    if (mergeFn && failed(exportInPlace(b, mergeFn, "nnc_merge")))
      return signalPassFailure();
    if (pruneFn && failed(exportInPlace(b, pruneFn, "nnc_prune")))
      return signalPassFailure();
    if (foldFn && failed(exportInPlace(b, foldFn, "nnc_fold")))
      return signalPassFailure();
    int64_t gradsSize = 0;
    if (gradStepFn && updateStepFn)
      gradsSize = exportAccumulation(b, gradStepFn, updateStepFn);
    finish(b, decodeFn != nullptr, cacheSize, gradsSize);
  }

  /// Every function but the entry points private; the layout, for the
  /// driver: name -> [offset, size].
  void finish(OpBuilder &b, bool decode, int64_t cacheSize, int64_t gradsSize) {
    MLIRContext *ctx = module.getContext();
    for (auto fn : module.getOps<func::FuncOp>())
      if (!NNDialect::EntryAttrHelper(ctx).isAttrPresent(fn))
        fn.setPrivate();
    SmallVector<NamedAttribute> entries;
    for (const Slot &s : slots)
      entries.push_back(b.getNamedAttr(
          s.name, b.getDenseI64ArrayAttr({s.offset, s.type.getNumElements()})));
    if (decode)
      entries.push_back(b.getNamedAttr(
          "decode.cache", b.getDenseI64ArrayAttr({0, cacheSize})));
    if (gradsSize)
      entries.push_back(
          b.getNamedAttr("grads", b.getDenseI64ArrayAttr({0, gradsSize})));
    NNDialect::AbiAttrHelper(ctx).setAttr(module, b.getDictionaryAttr(entries));
    NNDialect::AbiStateSizeAttrHelper(ctx).setAttr(
        module, b.getI64IntegerAttr(stateSize));
  }

  /// Parameters in argument order, then buffers, then every optimizer state
  /// kind (of the parameters).
  void layOut(func::FuncOp lossFn, func::FuncOp stepFn) {
    SmallVector<Slot> params, buffers;
    for (unsigned i = 0; i < lossFn.getNumArguments(); ++i) {
      auto type = cast<RankedTensorType>(lossFn.getArgumentTypes()[i]);
      if (auto name = lossFn.getArgAttrOfType<StringAttr>(
              i, NNDialect::ParamAttrHelper::getNameStr()))
        params.push_back({name.str(), type});
      else if (auto name = lossFn.getArgAttrOfType<StringAttr>(
                   i, NNDialect::BufferAttrHelper::getNameStr()))
        buffers.push_back({name.str(), type});
    }
    auto add = [&](Slot s) {
      s.offset = stateSize;
      stateSize += s.type.getNumElements();
      slots.push_back(std::move(s));
    };
    for (const Slot &p : params)
      add(p);
    for (const Slot &p : buffers)
      add(p);
    if (!stepFn)
      return;
    MLIRContext *ctx = module.getContext();
    ArrayAttr stateful = NNDialect::StateParamsAttrHelper(ctx).getAttr(stepFn);
    auto hasState = [&](const Slot &p) {
      return !stateful || llvm::is_contained(stateful.getAsValueRange<StringAttr>(),
                                             p.name);
    };
    if (ArrayAttr states = NNDialect::StatesAttrHelper(ctx).getAttr(stepFn))
      for (auto state : states.getAsRange<StringAttr>())
        for (const Slot &p : params)
          if (hasState(p))
            add({"optimizer." + p.name + "." + state.str(), p.type});
  }

  /// Parameters and buffers: the slots the model functions take (not the
  /// optimizer's, nor the inference library's preprocessing).
  unsigned numParams() const {
    return llvm::count_if(slots, [](const Slot &s) {
      return !StringRef(s.name).starts_with("optimizer.") &&
             !StringRef(s.name).starts_with("preprocess.");
    });
  }

  Value view(OpBuilder &b, Location loc, Value buffer, int64_t offset,
             RankedTensorType t) {
    auto strides = rowMajorStrides(t.getShape());
    auto type = MemRefType::get(
        t.getShape(), t.getElementType(),
        StridedLayoutAttr::get(b.getContext(), offset, strides));
    return b.create<memref::ReinterpretCastOp>(loc, type, buffer, offset,
                                               t.getShape(), strides);
  }

  Value readTensor(OpBuilder &b, Location loc, Value memref,
                   RankedTensorType t) {
    return b.create<bufferization::ToTensorOp>(loc, t, memref,
                                               /*restrict=*/true,
                                               /*writable=*/false);
  }

  /// `restrict` (a slot of the arena): empty-tensor elimination may then
  /// make the op computing `tensor` write straight into `dest` (an
  /// optimizer update, elementwise, last reader of the slot's old value:
  /// the update happens in place instead of in a temporary copied back).
  void write(OpBuilder &b, Location loc, Value tensor, Value dest,
             bool restrict = false) {
    b.create<bufferization::MaterializeInDestinationOp>(
        loc, TypeRange{}, tensor, dest, restrict, /*writable=*/true);
  }

  /// A scalar entry argument as the 0-d tensor the model functions take.
  static Value scalarTensor(OpBuilder &b, Location loc, Value v) {
    return b.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, v.getType()), ValueRange{v});
  }

  /// Stores a 0-d tensor's value at out[index].
  void storeScalar(OpBuilder &b, Location loc, Value scalar, Value out,
                   int64_t index) {
    Value v = b.create<tensor::ExtractOp>(loc, scalar, ValueRange{});
    Value idx = b.create<arith::ConstantIndexOp>(loc, index);
    b.create<memref::StoreOp>(loc, v, out, ValueRange{idx});
  }

  /// The arena's slots as tensors: [0, count) of `slots`.
  SmallVector<Value> readSlots(OpBuilder &b, Location loc, Value state,
                               unsigned count, SmallVectorImpl<Value> &views) {
    SmallVector<Value> tensors;
    for (unsigned i = 0; i < count; ++i) {
      Value v = view(b, loc, state, slots[i].offset, slots[i].type);
      views.push_back(v);
      tensors.push_back(readTensor(b, loc, v, slots[i].type));
    }
    return tensors;
  }

  func::FuncOp makeEntry(OpBuilder &b, Location loc, StringRef name,
                         ArrayRef<Type> args) {
    auto fn = b.create<func::FuncOp>(loc, name, b.getFunctionType(args, {}));
    NNDialect::EntryAttrHelper(b.getContext()).setAttr(fn, b.getUnitAttr());
    fn.addEntryBlock();
    return fn;
  }

  /// The entry point `name` of `args` with the builder at its start (the
  /// caller's guard restores it), the arena's first `count` slots read as
  /// `tensors` (`views`: their memrefs).
  func::FuncOp openEntry(OpBuilder &b, Location loc, StringRef name,
                         ArrayRef<Type> args, unsigned count,
                         SmallVectorImpl<Value> &views,
                         SmallVectorImpl<Value> &tensors) {
    func::FuncOp fn = makeEntry(b, loc, name, args);
    b.setInsertionPointToStart(&fn.front());
    tensors.append(readSlots(b, loc, fn.getArgument(0), count, views));
    return fn;
  }

  Type stateType() {
    return MemRefType::get({stateSize}, Float32Type::get(module.getContext()));
  }
  Type outType(int64_t n) {
    return MemRefType::get({n}, Float32Type::get(module.getContext()));
  }

  /// nnc_train's argument types for `stepFn`.
  SmallVector<Type> trainArgTypes(OpBuilder &b, func::FuncOp stepFn) {
    unsigned ns = slots.size();
    FunctionType st = stepFn.getFunctionType();
    unsigned numData = st.getNumInputs() - ns - 5;
    auto preds = cast<RankedTensorType>(st.getResult(ns + 1));
    SmallVector<Type> args{stateType()};
    for (unsigned i = 0; i < numData; ++i)
      args.push_back(memrefOf(cast<RankedTensorType>(st.getInput(ns + i))));
    for (unsigned k = 0; k < 4; ++k)
      args.push_back(b.getI64Type());
    args.push_back(b.getF32Type());
    args.push_back(outType(2 + preds.getNumElements()));
    return args;
  }

  /// nnc_train over phases: each phase's step becomes a private function of
  /// nnc_train's arguments; nnc_train calls the one of the current epoch.
  void exportPhasedTrain(OpBuilder &b, func::FuncOp finalStep,
                         SmallVector<func::FuncOp> phases) {
    NNDialect::PhaseLastEpochAttrHelper phaseLastEpoch(b.getContext());
    auto lastEpoch = [&](func::FuncOp fn) {
      return phaseLastEpoch.getAttr(fn).getInt();
    };
    llvm::sort(phases, [&](func::FuncOp a, func::FuncOp c) {
      return lastEpoch(a) < lastEpoch(c);
    });
    SmallVector<std::pair<int64_t, func::FuncOp>> targets;
    for (func::FuncOp step : phases)
      targets.push_back(
          {lastEpoch(step),
           exportTrain(b, step, ("nnc_" + step.getSymName()).str())});
    func::FuncOp final =
        exportTrain(b, finalStep, ("nnc_" + finalStep.getSymName()).str());
    NNDialect::EntryAttrHelper entry(b.getContext());
    for (auto &t : targets)
      entry.removeAttr(t.second);
    entry.removeAttr(final);

    Location loc = finalStep.getLoc();
    SmallVector<Type> args = trainArgTypes(b, finalStep);
    func::FuncOp fn = makeEntry(b, loc, "nnc_train", args);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.front());
    ValueRange callArgs = fn.getArguments();
    // Epochs completed before this step: step / steps_per_epoch (0-based).
    unsigned stepPos = args.size() - 6;
    Value epoch0 = b.create<arith::DivSIOp>(loc, fn.getArgument(stepPos),
                                            fn.getArgument(stepPos + 1));
    // if (epoch0 < last_0) phase0 else if (epoch0 < last_1) phase1 ... else
    // final.
    for (auto [last, target] : targets) {
      Value bound = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(last));
      Value inPhase = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                              epoch0, bound);
      auto ifOp = b.create<scf::IfOp>(loc, inPhase, /*withElseRegion=*/true);
      b.setInsertionPointToStart(ifOp.thenBlock());
      b.create<func::CallOp>(loc, target, callArgs);
      b.setInsertionPointToStart(ifOp.elseBlock());
    }
    b.create<func::CallOp>(loc, final, callArgs);
    b.setInsertionPointToEnd(&fn.front());
    b.create<func::ReturnOp>(loc);
  }

  /// Whether `stepFn` returns its argument `i` unchanged (a frozen
  /// parameter, its optimizer state, a frozen batchnorm's statistics).
  static bool passesThrough(func::FuncOp stepFn, unsigned i) {
    auto ret = cast<func::ReturnOp>(stepFn.getBody().front().getTerminator());
    return ret.getOperand(i) == stepFn.getArgument(i);
  }

  // nnc_train(state, x, y, mask, step, steps_per_epoch, epochs, seed,
  //           lr_factor, out)
  func::FuncOp exportTrain(OpBuilder &b, func::FuncOp stepFn, StringRef name) {
    Location loc = stepFn.getLoc();
    unsigned ns = slots.size();
    FunctionType st = stepFn.getFunctionType();
    // args: state, data..., step, spe, epochs, seed, lr_factor, out
    SmallVector<Type> args = trainArgTypes(b, stepFn);
    unsigned numData = args.size() - 7;
    // step results: params, states, results (loss, predictions), lr
    auto preds = cast<RankedTensorType>(st.getResult(ns + 1));
    func::FuncOp fn = makeEntry(b, loc, name, args);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.front());
    Block &e = fn.front();

    SmallVector<Value> views;
    SmallVector<Value> callArgs = readSlots(b, loc, e.getArgument(0), ns, views);
    for (unsigned i = 0; i < numData; ++i)
      callArgs.push_back(readTensor(
          b, loc, e.getArgument(1 + i),
          cast<RankedTensorType>(st.getInput(ns + i))));
    // step, steps_per_epoch, epochs, seed, lr_factor
    for (unsigned k = 0; k < 5; ++k)
      callArgs.push_back(scalarTensor(b, loc, e.getArgument(1 + numData + k)));
    auto call = b.create<func::CallOp>(loc, stepFn, callArgs);
    for (unsigned i = 0; i < ns; ++i)
      if (!passesThrough(stepFn, i))
        write(b, loc, call.getResult(i), views[i], /*restrict=*/true);
    Value out = e.getArgument(args.size() - 1);
    storeScalar(b, loc, call.getResult(ns), out, 0);
    storeScalar(b, loc, call.getResult(call.getNumResults() - 1), out, 1);
    write(b, loc, call.getResult(ns + 1), view(b, loc, out, 2, preds));
    b.create<func::ReturnOp>(loc);
    return fn;
  }

  /// Views of `grads` for the accumulators `types`, in order.
  void accumulatorViews(OpBuilder &b, Location loc, Value grads,
                        TypeRange types, SmallVectorImpl<Value> &views) {
    int64_t offset = 0;
    for (Type t : types) {
      auto type = cast<RankedTensorType>(t);
      views.push_back(view(b, loc, grads, offset, type));
      offset += type.getNumElements();
    }
  }

  /// The first `count` slots of `state` and then the accumulators `types`
  /// of `grads` as tensors (their views in `views` and `accViews`).
  SmallVector<Value> readWithAccumulators(OpBuilder &b, Location loc,
                                          Value state, unsigned count,
                                          Value grads, TypeRange types,
                                          SmallVectorImpl<Value> &views,
                                          SmallVectorImpl<Value> &accViews) {
    SmallVector<Value> tensors = readSlots(b, loc, state, count, views);
    accumulatorViews(b, loc, grads, types, accViews);
    for (auto [v, t] : llvm::zip(accViews, types))
      tensors.push_back(readTensor(b, loc, v, cast<RankedTensorType>(t)));
    return tensors;
  }

  /// nnc_grad and nnc_update (see the file comment); returns the size of
  /// the accumulators' arena.
  int64_t exportAccumulation(OpBuilder &b, func::FuncOp gradStep,
                             func::FuncOp updateStep) {
    Location loc = gradStep.getLoc();
    unsigned np = numParams();
    FunctionType gt = gradStep.getFunctionType();
    // grad_step(params, buffers, accs, data..., step, seed, weight) ->
    // (buffers, accs, loss, preds): the accumulators are its results
    // after the buffers.
    unsigned numBuffers = 0;
    for (unsigned i = 0; i < np; ++i)
      if (gradStep.getArgAttr(i, NNDialect::BufferAttrHelper::getNameStr()))
        ++numBuffers;
    TypeRange accTypes =
        gt.getResults().slice(numBuffers, gt.getNumResults() - numBuffers - 2);
    unsigned numAccs = accTypes.size();
    int64_t gradsSize = 0;
    for (Type t : accTypes)
      gradsSize += cast<RankedTensorType>(t).getNumElements();
    unsigned numData = gt.getNumInputs() - np - numAccs - 3;
    auto preds = cast<RankedTensorType>(gt.getResult(gt.getNumResults() - 1));
    auto i64 = b.getI64Type();
    auto f32 = b.getF32Type();
    {
      SmallVector<Type> args{stateType(), outType(gradsSize)};
      for (unsigned i = 0; i < numData; ++i)
        args.push_back(
            memrefOf(cast<RankedTensorType>(gt.getInput(np + numAccs + i))));
      args.append({i64, i64, f32, outType(1 + preds.getNumElements())});
      func::FuncOp fn = makeEntry(b, loc, "nnc_grad", args);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&fn.front());
      Block &e = fn.front();
      SmallVector<Value> views, accViews;
      SmallVector<Value> callArgs =
          readWithAccumulators(b, loc, e.getArgument(0), np, e.getArgument(1),
                               accTypes, views, accViews);
      for (unsigned i = 0; i < numData; ++i)
        callArgs.push_back(
            readTensor(b, loc, e.getArgument(2 + i),
                       cast<RankedTensorType>(gt.getInput(np + numAccs + i))));
      for (unsigned k = 0; k < 3; ++k)
        callArgs.push_back(
            scalarTensor(b, loc, e.getArgument(2 + numData + k)));
      auto call = b.create<func::CallOp>(loc, gradStep, callArgs);
      // The buffers are the slots after the parameters, in order.
      unsigned firstBuffer = np - numBuffers;
      for (unsigned k = 0; k < numBuffers; ++k)
        write(b, loc, call.getResult(k), views[firstBuffer + k]);
      for (unsigned k = 0; k < numAccs; ++k)
        write(b, loc, call.getResult(numBuffers + k), accViews[k],
              /*restrict=*/true);
      Value out = e.getArgument(args.size() - 1);
      storeScalar(b, loc, call.getResult(numBuffers + numAccs), out, 0);
      write(b, loc, call.getResult(numBuffers + numAccs + 1),
            view(b, loc, out, 1, preds));
      b.create<func::ReturnOp>(loc);
    }
    {
      // update_step(params, buffers, states, accs, step, spe, epochs,
      // lr_factor, scale) -> (params, states, zeros, lr)
      unsigned ns = slots.size();
      SmallVector<Type> args{
          stateType(), outType(gradsSize), i64, i64, i64, f32, f32, outType(1)};
      func::FuncOp fn = makeEntry(b, loc, "nnc_update", args);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&fn.front());
      Block &e = fn.front();
      SmallVector<Value> views, accViews;
      SmallVector<Value> callArgs =
          readWithAccumulators(b, loc, e.getArgument(0), ns, e.getArgument(1),
                               accTypes, views, accViews);
      for (unsigned k = 0; k < 5; ++k)
        callArgs.push_back(scalarTensor(b, loc, e.getArgument(2 + k)));
      auto call = b.create<func::CallOp>(loc, updateStep, callArgs);
      unsigned numParamsOnly = np - numBuffers;
      // Results: the parameters, the optimizer states (slots after the
      // buffers), the zeroed accumulators, the learning rate.
      for (unsigned k = 0; k < numParamsOnly; ++k)
        write(b, loc, call.getResult(k), views[k], /*restrict=*/true);
      for (unsigned k = 0; k < ns - np; ++k)
        write(b, loc, call.getResult(numParamsOnly + k), views[np + k],
              /*restrict=*/true);
      for (unsigned k = 0; k < numAccs; ++k)
        write(b, loc, call.getResult(numParamsOnly + ns - np + k), accViews[k],
              /*restrict=*/true);
      storeScalar(b, loc, call.getResult(call.getNumResults() - 1),
                  e.getArgument(args.size() - 1), 0);
      b.create<func::ReturnOp>(loc);
    }
    return gradsSize;
  }

  // nnc_eval(state, x, y, mask, out)
  void exportEval(OpBuilder &b, func::FuncOp lossFn) {
    Location loc = lossFn.getLoc();
    FunctionType lt = lossFn.getFunctionType();
    unsigned np = numParams();
    auto preds = cast<RankedTensorType>(lt.getResult(1));
    SmallVector<Type> args{stateType()};
    unsigned numData = lt.getNumInputs() - np;
    for (unsigned i = 0; i < numData; ++i)
      args.push_back(memrefOf(cast<RankedTensorType>(lt.getInput(np + i))));
    args.push_back(outType(1 + preds.getNumElements()));
    func::FuncOp fn = makeEntry(b, loc, "nnc_eval", args);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.front());
    Block &e = fn.front();
    SmallVector<Value> views;
    SmallVector<Value> callArgs = readSlots(b, loc, e.getArgument(0), np, views);
    for (unsigned i = 0; i < numData; ++i)
      callArgs.push_back(readTensor(b, loc, e.getArgument(1 + i),
                                    cast<RankedTensorType>(lt.getInput(np + i))));
    auto call = b.create<func::CallOp>(loc, lossFn, callArgs);
    Value out = e.getArgument(args.size() - 1);
    storeScalar(b, loc, call.getResult(0), out, 0);
    write(b, loc, call.getResult(1), view(b, loc, out, 1, preds));
    b.create<func::ReturnOp>(loc);
  }

  // nnc_decode(state, cache, token, position, out); returns the cache size.
  int64_t exportDecode(OpBuilder &b, func::FuncOp decodeFn) {
    Location loc = decodeFn.getLoc();
    FunctionType dt = decodeFn.getFunctionType();
    unsigned np = numParams();
    auto ids = cast<RankedTensorType>(dt.getInput(np));
    auto probs = cast<RankedTensorType>(dt.getResult(0));
    int64_t cacheSize = 0;
    for (unsigned i = np + 2; i < dt.getNumInputs(); ++i)
      cacheSize += cast<RankedTensorType>(dt.getInput(i)).getNumElements();
    func::FuncOp fn = makeEntry(
        b, loc, "nnc_decode",
        {stateType(), outType(std::max<int64_t>(cacheSize, 1)), memrefOf(ids),
         memrefOf(ids), outType(probs.getNumElements())});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.front());
    Block &e = fn.front();
    SmallVector<Value> views;
    SmallVector<Value> callArgs = readSlots(b, loc, e.getArgument(0), np, views);
    callArgs.push_back(readTensor(b, loc, e.getArgument(2), ids));
    callArgs.push_back(readTensor(b, loc, e.getArgument(3), ids));
    SmallVector<Value> cacheViews;
    int64_t offset = 0;
    for (unsigned i = np + 2; i < dt.getNumInputs(); ++i) {
      auto t = cast<RankedTensorType>(dt.getInput(i));
      cacheViews.push_back(view(b, loc, e.getArgument(1), offset, t));
      callArgs.push_back(readTensor(b, loc, cacheViews.back(), t));
      offset += t.getNumElements();
    }
    auto call = b.create<func::CallOp>(loc, decodeFn, callArgs);
    write(b, loc, call.getResult(0), view(b, loc, e.getArgument(4), 0, probs));
    for (auto [k, v] : llvm::enumerate(cacheViews))
      write(b, loc, call.getResult(k + 1), v);
    b.create<func::ReturnOp>(loc);
    return cacheSize;
  }

  // nnc_merge(state), nnc_prune(state, epoch): `target` on the state's
  // slots and the entry's i64 arguments (its 0-d i64 tensor arguments after
  // the slots), each result written over the slot its `nn.param` or
  // `nn.buffer` result attribute names.
  LogicalResult exportInPlace(OpBuilder &b, func::FuncOp target,
                              StringRef name) {
    Location loc = target.getLoc();
    unsigned np = numParams();
    FunctionType ft = target.getFunctionType();
    SmallVector<Type> args{stateType()};
    for (unsigned i = np; i < ft.getNumInputs(); ++i) {
      auto t = cast<RankedTensorType>(ft.getInput(i));
      if (t.getRank() != 0 || !t.getElementType().isInteger(64))
        return target.emitOpError("argument ")
               << i << " must be a tensor<i64> (an entry point's scalar)";
      args.push_back(t.getElementType());
    }
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Value> views, callArgs;
    func::FuncOp fn = openEntry(b, loc, name, args, np, views, callArgs);
    Block &e = fn.front();
    for (unsigned i = np; i < ft.getNumInputs(); ++i)
      callArgs.push_back(scalarTensor(b, loc, e.getArgument(1 + i - np)));
    auto call = b.create<func::CallOp>(loc, target, callArgs);
    for (unsigned k = 0; k < target.getNumResults(); ++k) {
      auto slotName = target.getResultAttrOfType<StringAttr>(
          k, NNDialect::ParamAttrHelper::getNameStr());
      if (!slotName)
        slotName = target.getResultAttrOfType<StringAttr>(
            k, NNDialect::BufferAttrHelper::getNameStr());
      const Slot *slot =
          slotName ? llvm::find_if(slots,
                                   [&](const Slot &s) {
                                     return s.name == slotName.getValue();
                                   })
                   : slots.end();
      if (slot == slots.end() || unsigned(slot - slots.begin()) >= np ||
          slot->type != call.getResult(k).getType())
        return target.emitOpError("result ")
               << k << " names no parameter or buffer of its type";
      write(b, loc, call.getResult(k), views[slot - slots.begin()]);
    }
    b.create<func::ReturnOp>(loc);
    return success();
  }

  /// The preprocessing's scale and shift per feature of the input of
  /// `predictFn`: two slots appended to the layout.
  LogicalResult addPreprocessingSlots(func::FuncOp predictFn) {
    unsigned np = numParams();
    auto x =
        dyn_cast<RankedTensorType>(predictFn.getFunctionType().getInput(np));
    if (!x || !x.getElementType().isF32() || x.getRank() < 2)
      return predictFn.emitOpError("input ")
             << np << " must be a batch of f32 samples for nnc_infer";
    auto sample =
        RankedTensorType::get(x.getShape().drop_front(), x.getElementType());
    for (const char *name : {"preprocess.scale", "preprocess.shift"}) {
      Slot s{name, sample};
      s.offset = stateSize;
      stateSize += sample.getNumElements();
      slots.push_back(std::move(s));
    }
    return success();
  }

  // nnc_infer(weights, x, out, in..., res...): the parameters and buffers,
  // then the preprocessing's scale and shift per feature (see
  // addPreprocessingSlots), applied to x before `fn` (nn.predict, or
  // nn-quantize's observe); `fn`'s arguments after x (`in`) and results
  // after the predictions (`res`) as buffers of their types. `compact`:
  // `weights` holds only the parameters and buffers `fn` reads, in order
  // (their slot indices: the module attribute `nn.infer_slots`).
  LogicalResult exportInference(OpBuilder &b, func::FuncOp fn, StringRef name,
                                bool compact = false) {
    Location loc = fn.getLoc();
    FunctionType pt = fn.getFunctionType();
    unsigned np = numParams();
    auto x = cast<RankedTensorType>(pt.getInput(np));
    auto preds = cast<RankedTensorType>(pt.getResult(0));
    SmallVector<int64_t> kept;
    int64_t size = 0;
    for (unsigned i = 0; i < np; ++i)
      if (!compact || !fn.getArgument(i).use_empty()) {
        kept.push_back(i);
        size += slots[i].type.getNumElements();
      }
    int64_t features = x.getNumElements() / x.getDimSize(0);
    MLIRContext *ctx = module.getContext();
    SmallVector<Type> args{
        MemRefType::get({size + 2 * features}, Float32Type::get(ctx)),
        memrefOf(x), outType(preds.getNumElements())};
    for (Type t : llvm::concat<const Type>(pt.getInputs().drop_front(np + 1),
                                           pt.getResults().drop_front()))
      args.push_back(memrefOf(cast<RankedTensorType>(t)));
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp entry = makeEntry(b, loc, name, args);
    b.setInsertionPointToStart(&entry.front());
    Block &e = entry.front();
    SmallVector<Value> callArgs;
    int64_t offset = 0;
    for (unsigned i = 0; i < np; ++i) {
      RankedTensorType t = slots[i].type;
      if (!llvm::is_contained(kept, int64_t(i))) {
        // Not read (DCE'd once inlined).
        callArgs.push_back(
            b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType()));
        continue;
      }
      callArgs.push_back(
          readTensor(b, loc, view(b, loc, e.getArgument(0), offset, t), t));
      offset += t.getNumElements();
    }
    if (compact)
      NNDialect::InferSlotsAttrHelper(ctx).setAttr(
          module, b.getDenseI64ArrayAttr(kept));
    // The preprocessing's slots, after the others.
    RankedTensorType sample = slots[np].type;
    Value scale = readTensor(
        b, loc, view(b, loc, e.getArgument(0), offset, sample), sample);
    Value shift = readTensor(
        b, loc, view(b, loc, e.getArgument(0), offset + features, sample),
        sample);
    Value raw = readTensor(b, loc, e.getArgument(1), x);
    unsigned rank = x.getRank();
    AffineMap id = b.getMultiDimIdentityMap(rank);
    SmallVector<AffineExpr> inner;
    for (unsigned d = 1; d < rank; ++d)
      inner.push_back(b.getAffineDimExpr(d));
    AffineMap perSample = AffineMap::get(rank, 0, inner, b.getContext());
    Value init =
        b.create<tensor::EmptyOp>(loc, x.getShape(), x.getElementType());
    Value input =
        b.create<linalg::GenericOp>(
             loc, TypeRange{x}, ValueRange{raw, scale, shift}, ValueRange{init},
             ArrayRef<AffineMap>{id, perSample, perSample, id},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [](OpBuilder &nb, Location l, ValueRange v) {
               Value scaled = nb.create<arith::MulFOp>(l, v[0], v[1]);
               nb.create<linalg::YieldOp>(
                   l, ValueRange{nb.create<arith::AddFOp>(l, scaled, v[2])});
             })
            .getResult(0);
    callArgs.push_back(input);
    unsigned extraIns = pt.getNumInputs() - np - 1;
    for (unsigned i = 0; i < extraIns; ++i)
      callArgs.push_back(
          readTensor(b, loc, e.getArgument(3 + i),
                     cast<RankedTensorType>(pt.getInput(np + 1 + i))));
    auto call = b.create<func::CallOp>(loc, fn, callArgs);
    write(b, loc, call.getResult(0), view(b, loc, e.getArgument(2), 0, preds));
    for (unsigned k = 1; k < pt.getNumResults(); ++k)
      write(b, loc, call.getResult(k), e.getArgument(3 + extraIns + k - 1));
    b.create<func::ReturnOp>(loc);
    return success();
  }

  // name(weights, in..., res...): `fn` of the parameters and buffers, then
  // its other arguments (`in`), its results written to `res`.
  void exportFunction(OpBuilder &b, func::FuncOp fn, StringRef name) {
    Location loc = fn.getLoc();
    FunctionType ft = fn.getFunctionType();
    unsigned np = numParams();
    SmallVector<Type> args{stateType()};
    for (Type t : llvm::concat<const Type>(ft.getInputs().drop_front(np),
                                           ft.getResults()))
      args.push_back(memrefOf(cast<RankedTensorType>(t)));
    OpBuilder::InsertionGuard guard(b);
    SmallVector<Value> views, callArgs;
    func::FuncOp entry = openEntry(b, loc, name, args, np, views, callArgs);
    Block &e = entry.front();
    unsigned extraIns = ft.getNumInputs() - np;
    for (unsigned i = 0; i < extraIns; ++i)
      callArgs.push_back(
          readTensor(b, loc, e.getArgument(1 + i),
                     cast<RankedTensorType>(ft.getInput(np + i))));
    auto call = b.create<func::CallOp>(loc, fn, callArgs);
    for (unsigned k = 0; k < ft.getNumResults(); ++k)
      write(b, loc, call.getResult(k), e.getArgument(1 + extraIns + k));
    b.create<func::ReturnOp>(loc);
  }

  // nnc_predict(state, x, out)
  void exportPredict(OpBuilder &b, func::FuncOp predictFn) {
    Location loc = predictFn.getLoc();
    FunctionType pt = predictFn.getFunctionType();
    unsigned np = numParams();
    auto x = cast<RankedTensorType>(pt.getInput(np));
    auto preds = cast<RankedTensorType>(pt.getResult(0));
    func::FuncOp fn = makeEntry(b, loc, "nnc_predict",
                                {stateType(), memrefOf(x),
                                 outType(preds.getNumElements())});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&fn.front());
    Block &e = fn.front();
    SmallVector<Value> views;
    SmallVector<Value> callArgs = readSlots(b, loc, e.getArgument(0), np, views);
    callArgs.push_back(readTensor(b, loc, e.getArgument(1), x));
    auto call = b.create<func::CallOp>(loc, predictFn, callArgs);
    write(b, loc, call.getResult(0), view(b, loc, e.getArgument(2), 0, preds));
    b.create<func::ReturnOp>(loc);
  }
};

} // namespace
