//===- MLIRGen.cpp - Emitting the nn dialect from the analysed program -----===//
#include "frontend/MLIRGen.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace nnc;

int64_t nnc::batchSizeOf(const sema::Program &program,
                         const sema::TrainRun &run) {
  if (run.batch > 0)
    return run.batch;
  if (run.dataset >= 0)
    return program.datasets[run.dataset].batch;
  return 32;
}

namespace {

class Generator {
public:
  Generator(MLIRContext &ctx, const sema::Program &program,
            const sema::TrainRun &run, const SourceManager &sm,
            nnc::DiagnosticEngine &diags)
      : ctx(ctx), b(&ctx), program(program), run(run),
        model(program.models[run.model]), sm(sm), diags(diags),
        batch(batchSizeOf(program, run)) {}

  OwningOpRef<ModuleOp> generate() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc(model.range));
    if (!checkSupported())
      return nullptr;
    b.setInsertionPointToEnd(module->getBody());
    emitLoss();
    emitPredict();
    (*module)->setAttr("nn.optimizer", optimizerAttr());
    (*module)->setAttr("nn.model", b.getStringAttr(model.name));
    return module;
  }

private:
  Location loc(const SourceRange &r) {
    if (!r.isValid())
      return b.getUnknownLoc();
    return FileLineColLoc::get(&ctx, sm.path(r.begin.fileId), r.begin.line,
                               r.begin.col);
  }
  Location loc(const sema::Node &n) {
    return NameLoc::get(b.getStringAttr(n.name.empty() ? sema::toString(n.kind)
                                                       : n.name),
                        loc(n.range));
  }

  /// A per-sample type with the batch dimension in front.
  RankedTensorType batched(const sema::TensorType &t, Type elem) {
    SmallVector<int64_t> shape{batch};
    shape.append(t.dims.begin(), t.dims.end());
    return RankedTensorType::get(shape, elem);
  }
  RankedTensorType batched(const sema::TensorType &t) {
    return batched(t, b.getF32Type());
  }
  RankedTensorType paramType(const sema::Parameter &p) {
    return RankedTensorType::get(p.type.dims, b.getF32Type());
  }

  bool checkSupported() {
    bool ok = true;
    for (const sema::Node &n : model.nodes) {
      switch (n.kind) {
      case sema::LayerKind::Input:
      case sema::LayerKind::Dense:
      case sema::LayerKind::Flatten:
      case sema::LayerKind::Reshape:
      case sema::LayerKind::Relu:
      case sema::LayerKind::LeakyRelu:
      case sema::LayerKind::Sigmoid:
      case sema::LayerKind::Tanh:
      case sema::LayerKind::Gelu:
      case sema::LayerKind::Softmax:
      case sema::LayerKind::Add:
        break;
      default:
        diags.error(n.range, std::string("code generation does not support '") +
                                 sema::toString(n.kind) + "' yet",
                    "use --check to validate the model; layers with code "
                    "generation: dense, flatten, reshape, the activations, add");
        ok = false;
      }
    }
    if (model.inputType.elem != sema::ElemType::F32) {
      diags.error(model.range, "code generation supports f32 model inputs only");
      ok = false;
    }
    return ok;
  }

  /// The forward pass; returns the model's output.
  mlir::Value emitForward(ArrayRef<Value> params, Value x) {
    std::vector<Value> values(model.nodes.size());
    for (const sema::Node &n : model.nodes) {
      Location l = loc(n);
      auto in = [&](unsigned i) { return values[n.inputs[i]]; };
      RankedTensorType type = batched(n.type);
      switch (n.kind) {
      case sema::LayerKind::Input:
        values[n.id] = x;
        break;
      case sema::LayerKind::Flatten:
      case sema::LayerKind::Reshape:
        values[n.id] = b.create<nn::ReshapeOp>(l, type, in(0));
        break;
      case sema::LayerKind::Dense: {
        Value w = params[n.params[0]];
        Value bias = n.params.size() > 1 ? params[n.params[1]] : Value();
        values[n.id] = b.create<nn::DenseOp>(l, type, in(0), w, bias);
        break;
      }
      case sema::LayerKind::Relu:
        values[n.id] = b.create<nn::ReluOp>(l, in(0));
        break;
      case sema::LayerKind::LeakyRelu:
        values[n.id] = b.create<nn::LeakyReluOp>(
            l, in(0), b.getF32FloatAttr(static_cast<float>(n.attrs.alpha)));
        break;
      case sema::LayerKind::Sigmoid:
        values[n.id] = b.create<nn::SigmoidOp>(l, in(0));
        break;
      case sema::LayerKind::Tanh:
        values[n.id] = b.create<nn::TanhOp>(l, in(0));
        break;
      case sema::LayerKind::Gelu:
        values[n.id] = b.create<nn::GeluOp>(l, in(0));
        break;
      case sema::LayerKind::Softmax:
        values[n.id] = b.create<nn::SoftmaxOp>(l, in(0));
        break;
      case sema::LayerKind::Add: {
        Value sum = in(0);
        for (unsigned i = 1; i < n.inputs.size(); ++i)
          sum = b.create<nn::AddOp>(l, sum, in(i));
        values[n.id] = sum;
        break;
      }
      default:
        llvm_unreachable("rejected by checkSupported");
      }
    }
    return values[model.output];
  }

  /// Trainable parameters, in model order, as function arguments.
  SmallVector<unsigned> trainable() {
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < model.params.size(); ++i)
      if (model.params[i].trainable)
        idx.push_back(i);
    return idx;
  }

  func::FuncOp makeFunction(StringRef name, ArrayRef<Type> extraArgs,
                            ArrayRef<Type> results, SmallVectorImpl<Value> &params,
                            SmallVectorImpl<Value> &extra) {
    SmallVector<Type> args;
    SmallVector<unsigned> idx = trainable();
    for (unsigned i : idx)
      args.push_back(paramType(model.params[i]));
    args.append(extraArgs.begin(), extraArgs.end());
    auto fn = b.create<func::FuncOp>(loc(model.range), name,
                                     b.getFunctionType(args, results));
    Block *entry = fn.addEntryBlock();
    params.assign(model.params.size(), Value());
    for (auto [k, i] : llvm::enumerate(idx)) {
      params[i] = entry->getArgument(k);
      fn.setArgAttr(k, "nn.param", b.getStringAttr(model.params[i].name));
    }
    for (unsigned k = idx.size(); k < args.size(); ++k)
      extra.push_back(entry->getArgument(k));
    return fn;
  }

  RankedTensorType targetType() {
    if (run.loss.kind == sema::LossKind::CrossEntropy)
      return RankedTensorType::get({batch}, b.getI32Type());
    return batched(model.nodes[model.output].type);
  }

  void emitLoss() {
    RankedTensorType xType = batched(model.inputType);
    RankedTensorType predType = batched(model.nodes[model.output].type);
    RankedTensorType maskType = RankedTensorType::get({batch}, b.getF32Type());
    auto scalar = RankedTensorType::get({}, b.getF32Type());
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp fn = makeFunction("loss", {xType, targetType(), maskType},
                                   {scalar, predType}, params, extra);
    fn->setAttr("nn.loss", b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    Value pred = emitForward(params, extra[0]);
    Location l = loc(run.loss.range);
    Value y = extra[1], mask = extra[2];
    Value lossValue;
    switch (run.loss.kind) {
    case sema::LossKind::Mse:
      lossValue = b.create<nn::MSELossOp>(l, scalar, pred, y, mask);
      break;
    case sema::LossKind::Mae:
      lossValue = b.create<nn::MAELossOp>(l, scalar, pred, y, mask);
      break;
    case sema::LossKind::Huber:
      lossValue = b.create<nn::HuberLossOp>(
          l, scalar, pred, y, mask,
          b.getF32FloatAttr(static_cast<float>(run.loss.delta)));
      break;
    case sema::LossKind::CrossEntropy:
      lossValue = b.create<nn::CrossEntropyLossOp>(
          l, scalar, pred, y, mask,
          b.getF32FloatAttr(static_cast<float>(run.loss.labelSmoothing)));
      break;
    case sema::LossKind::BinaryCrossEntropy:
      lossValue = b.create<nn::BCELossOp>(l, scalar, pred, y, mask);
      break;
    }
    b.create<func::ReturnOp>(l, ValueRange{lossValue, pred});
  }

  void emitPredict() {
    RankedTensorType xType = batched(model.inputType);
    RankedTensorType predType = batched(model.nodes[model.output].type);
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp fn =
        makeFunction("predict", {xType}, {predType}, params, extra);
    fn->setAttr("nn.predict", b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    Value pred = emitForward(params, extra[0]);
    // Classifiers predict probabilities: the loss's fused activation, here
    // applied on its own.
    Location l = loc(run.loss.range);
    if (run.loss.kind == sema::LossKind::CrossEntropy)
      pred = b.create<nn::SoftmaxOp>(l, pred);
    else if (run.loss.kind == sema::LossKind::BinaryCrossEntropy)
      pred = b.create<nn::SigmoidOp>(l, pred);
    b.create<func::ReturnOp>(loc(model.range), ValueRange{pred});
  }

  DictionaryAttr optimizerAttr() {
    const sema::Optimizer &o = run.optimizer;
    const sema::Schedule &s = run.schedule;
    auto f64 = [&](double v) { return b.getF64FloatAttr(v); };
    const char *kind = "sgd";
    switch (o.kind) {
    case sema::OptimizerKind::Sgd: kind = "sgd"; break;
    case sema::OptimizerKind::Adam: kind = "adam"; break;
    case sema::OptimizerKind::AdamW: kind = "adamw"; break;
    case sema::OptimizerKind::RmsProp: kind = "rmsprop"; break;
    }
    NamedAttrList sched;
    sched.append("kind", b.getI64IntegerAttr(static_cast<int64_t>(s.kind)));
    sched.append("epochs", b.getI64IntegerAttr(run.epochs));
    sched.append("warmup", f64(s.warmup));
    sched.append("every", f64(s.every));
    sched.append("gamma", f64(s.gamma));
    sched.append("min_lr", f64(s.minLr));
    sched.append("end_lr", f64(s.endLr));
    NamedAttrList opt;
    opt.append("kind", b.getStringAttr(kind));
    opt.append("lr", f64(o.lr));
    opt.append("momentum", f64(o.momentum));
    opt.append("dampening", f64(o.dampening));
    opt.append("weight_decay", f64(o.weightDecay));
    opt.append("nesterov", b.getBoolAttr(o.nesterov));
    opt.append("beta1", f64(o.beta1));
    opt.append("beta2", f64(o.beta2));
    opt.append("eps", f64(o.eps));
    opt.append("alpha", f64(o.alpha));
    opt.append("schedule", sched.getDictionary(&ctx));
    return opt.getDictionary(&ctx);
  }

  MLIRContext &ctx;
  OpBuilder b;
  const sema::Program &program;
  const sema::TrainRun &run;
  const sema::Model &model;
  const SourceManager &sm;
  nnc::DiagnosticEngine &diags;
  int64_t batch;
};

} // namespace

OwningOpRef<ModuleOp> nnc::mlirGen(MLIRContext &context,
                                   const sema::Program &program,
                                   const sema::TrainRun &run,
                                   const SourceManager &sm,
                                   DiagnosticEngine &diags) {
  if (run.model < 0 || run.model >= static_cast<int>(program.models.size()))
    return nullptr;
  context.getOrLoadDialect<nn::NNDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  return Generator(context, program, run, sm, diags).generate();
}
