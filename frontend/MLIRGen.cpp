//===- MLIRGen.cpp - Emitting the nn dialect from the analysed program
//-----===//
#include "frontend/MLIRGen.h"
#include "frontend/FinetunePlan.h"
#include "ir/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace nnc;
using nn::NNDialect;

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
        batch(batchSizeOf(program, run)), plan(sema::planFinetune(model, run)) {
  }

  OwningOpRef<ModuleOp> generate() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc(model.range));
    if (!checkSupported())
      return nullptr;
    warnNotApplied();
    b.setInsertionPointToEnd(module->getBody());
    // Fine-tuning: one training loss per phase of frozen parameters, the
    // final phase's being `loss`.
    for (size_t k = 0; k <= plan.bounds.size(); ++k)
      emitLoss(/*train=*/true, k);
    // Evaluation differs from training only with batchnorm, dropout or an l2
    // penalty (part of the training loss only).
    if (hasModeDependentLayers() || hasL2())
      emitLoss(/*train=*/false, 0);
    emitPredict();
    if (decodable())
      emitDecode();
    emitMerge();
    emitPrune();
    NNDialect::OptimizerAttrHelper(&ctx).setAttr(*module, optimizerAttr());
    if (run.bf16)
      NNDialect::Bf16AttrHelper(&ctx).setAttr(*module, b.getUnitAttr());
    if (run.accumulate > 1 || run.distributed)
      NNDialect::AccumulateAttrHelper(&ctx).setAttr(*module, b.getUnitAttr());
    NNDialect::ModelAttrHelper(&ctx).setAttr(*module,
                                             b.getStringAttr(model.name));
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
    return NameLoc::get(
        b.getStringAttr(n.name.empty() ? sema::toString(n.kind) : n.name),
        loc(n.range));
  }

  /// A per-sample type with the batch dimension in front; while emitting
  /// `decode`, one sample of one position ([T, ...] becomes [1, 1, ...]).
  RankedTensorType batched(const sema::TensorType &t, Type elem) {
    SmallVector<int64_t> shape{decoding ? 1 : batch};
    shape.append(t.dims.begin(), t.dims.end());
    if (decoding && shape.size() > 1)
      shape[1] = 1;
    return RankedTensorType::get(shape, elem);
  }
  RankedTensorType batched(const sema::TensorType &t) {
    return batched(t, t.elem == sema::ElemType::I32 ? Type(b.getI32Type())
                                                    : Type(b.getF32Type()));
  }
  RankedTensorType paramType(const sema::Parameter &p) {
    return RankedTensorType::get(p.type.dims, b.getF32Type());
  }

  /// The parameter a layer's `l2` penalizes: its `weight` (Keras'
  /// kernel_regularizer; for batchnorm and layernorm the scale), never the
  /// bias. -1 for a layer without one.
  int l2Weight(const sema::Node &n) {
    for (unsigned i : n.params) {
      const sema::Parameter &p = model.params[i];
      if (p.trainable && StringRef(p.name).ends_with(".weight"))
        return static_cast<int>(i);
    }
    return -1;
  }
  bool hasL2() {
    return llvm::any_of(model.nodes, [&](const sema::Node &n) {
      return n.attrs.l2 > 0 && l2Weight(n) >= 0;
    });
  }

  /// `l2 = k` on a layer without weights (relu, pools) has nothing to
  /// penalize: say so rather than ignore it silently.
  void warnNotApplied() {
    for (const sema::Node &n : model.nodes)
      if (n.attrs.l2 > 0 && l2Weight(n) < 0)
        diags.warning(n.range,
                      std::string("l2 has no effect on '") +
                          sema::toString(n.kind) + "', which has no weight",
                      "put l2 on the dense or conv2d layer to penalize");
  }

  /// Every layer kind has code generation (emitForward switches over all of
  /// them); what is left is the program's ABI, which takes f32 inputs and
  /// i32 token ids.
  bool checkSupported() {
    if (model.inputType.elem == sema::ElemType::I64) {
      diags.error(model.range,
                  "code generation supports f32 and i32 model inputs only");
      return false;
    }
    return true;
  }

  bool hasLayer(sema::LayerKind kind) {
    return llvm::any_of(model.nodes,
                        [&](const sema::Node &n) { return n.kind == kind; });
  }
  /// Dropout layers, recurrent layers with dropout between layers and
  /// attention with dropout on its weights.
  bool hasDropout() {
    return llvm::any_of(model.nodes, [](const sema::Node &n) {
      bool withP = n.kind == sema::LayerKind::Rnn ||
                   n.kind == sema::LayerKind::Lstm ||
                   n.kind == sema::LayerKind::Gru ||
                   n.kind == sema::LayerKind::Attention;
      return n.kind == sema::LayerKind::Dropout || (withP && n.attrs.p > 0);
    });
  }
  bool hasModeDependentLayers() {
    return hasDropout() || hasLayer(sema::LayerKind::BatchNorm);
  }

  /// What the forward pass needs besides parameters and input: the mode,
  /// the batch mask (batchnorm statistics count real rows only), the dropout
  /// seed; it collects the new values of the buffers (training mode).
  struct ForwardState {
    bool train = false;
    int64_t epoch = 1; ///< training: an epoch of the phase emitted
    Value mask, seed;
    std::map<unsigned, Value> bufferUpdates; ///< param index -> new value
    /// `decode`: the position (i32 [1, 1]) of the one token, the key and
    /// value caches [1, T, D] of each attention layer in order, and their
    /// new values.
    bool decode = false;
    Value position;
    SmallVector<Value> caches, newCaches;
  };

  /// The forward pass; returns the model's output. `params` holds every
  /// parameter and buffer by model index.
  /// `y` (= x W^T + b of node n's k-th weight, rows [R, in] -> [R, out])
  /// plus its LoRA path (alpha / r) (x A^T) B^T when the weight is adapted.
  Value adapted(const sema::Node &n, size_t k, ArrayRef<Value> params, Value y,
                Value x) {
    if (k >= n.lora.size())
      return y;
    Location l = loc(n);
    Value a = params[n.lora[k].a], bw = params[n.lora[k].b];
    RankedTensorType yType = nn::tensorType(y);
    int64_t rows = yType.getDimSize(0);
    int64_t rank = nn::tensorType(a).getDimSize(0);
    Value down = b.create<nn::DenseOp>(
        l, RankedTensorType::get({rows, rank}, b.getF32Type()), x, a, Value());
    Value up = b.create<nn::DenseOp>(l, yType, down, bw, Value());
    Value scale = b.create<arith::ConstantOp>(
        l, DenseElementsAttr::get(
               yType, b.getF32FloatAttr(static_cast<float>(n.loraScale))));
    return b.create<nn::AddOp>(l, y, b.create<nn::MulOp>(l, up, scale));
  }

  mlir::Value emitForward(ArrayRef<Value> params, Value x, ForwardState &fs) {
    int64_t dropoutStream = 0;
    std::vector<Value> values(model.nodes.size());
    // The padding mask [N, T] of each sequence value that has one: made
    // from token ids (id 0 is padding), carried along the values that keep
    // the time axis, read by the layers that reduce over time.
    std::vector<Value> masks(model.nodes.size());
    for (const sema::Node &n : model.nodes) {
      Location l = loc(n);
      auto in = [&](unsigned i) { return values[n.inputs[i]]; };
      RankedTensorType type = batched(n.type);
      masks[n.id] = sequenceMask(n, masks);
      switch (n.kind) {
      case sema::LayerKind::Input:
        values[n.id] = x;
        if (n.type.elem == sema::ElemType::I32 && n.type.dims.size() == 1)
          masks[n.id] =
              b.create<nn::TokenMaskOp>(l, batched(n.type, b.getF32Type()), x);
        break;
      case sema::LayerKind::Embedding:
        values[n.id] =
            b.create<nn::EmbeddingOp>(l, type, in(0), params[n.params[0]]);
        break;
      case sema::LayerKind::Positions: {
        // x + weight, the weight [T, D] broadcast over the batch (decode:
        // the position's row).
        Value w = fs.decode
                      ? Value(b.create<nn::EmbeddingOp>(l, type, fs.position,
                                                        params[n.params[0]]))
                      : Value(b.create<nn::BroadcastOp>(
                            l, type, params[n.params[0]],
                            b.getDenseI64ArrayAttr({0})));
        values[n.id] = b.create<nn::AddOp>(l, type, in(0), w);
        break;
      }
      case sema::LayerKind::Flatten:
      case sema::LayerKind::Reshape:
        values[n.id] = b.create<nn::ReshapeOp>(l, type, in(0));
        break;
      case sema::LayerKind::Dense: {
        Value w = params[n.params[0]];
        Value bias = n.params.size() > 1 ? params[n.params[1]] : Value();
        if (n.type.dims.size() == 1) {
          values[n.id] = adapted(n, 0, params,
                                 b.create<nn::DenseOp>(l, type, in(0), w, bias),
                                 in(0));
          break;
        }
        // [N, T, F]: the rows of [N T, F], as torch.nn.Linear.
        RankedTensorType inType = nn::tensorType(in(0));
        int64_t rows = inType.getDimSize(0) * inType.getDimSize(1);
        Value flat = b.create<nn::ReshapeOp>(
            l,
            RankedTensorType::get({rows, inType.getDimSize(2)}, b.getF32Type()),
            in(0));
        Value y = b.create<nn::DenseOp>(
            l, RankedTensorType::get({rows, n.attrs.units}, b.getF32Type()),
            flat, w, bias);
        values[n.id] = b.create<nn::ReshapeOp>(l, type,
                                               adapted(n, 0, params, y, flat));
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
      case sema::LayerKind::Concat: {
        SmallVector<Value> ins;
        for (unsigned i = 0; i < n.inputs.size(); ++i)
          ins.push_back(in(i));
        values[n.id] = ins.size() == 1
                           ? ins[0]
                           : Value(b.create<nn::ConcatOp>(l, type, ins));
        break;
      }
      case sema::LayerKind::LayerNorm:
        values[n.id] = b.create<nn::LayerNormOp>(
            l, type, in(0), params[n.params[0]], params[n.params[1]],
            b.getF32FloatAttr(static_cast<float>(n.attrs.eps)));
        break;
      case sema::LayerKind::BatchNorm: {
        // params: weight, bias, running_mean, running_var, num_batches_tracked
        auto eps = static_cast<float>(n.attrs.eps);
        Value w = params[n.params[0]], bias = params[n.params[1]];
        Value rm = params[n.params[2]], rv = params[n.params[3]];
        Value nbt = params[n.params[4]];
        // A frozen batchnorm normalizes with, and keeps, its running
        // statistics (Keras' trainable = False).
        bool frozen = fs.train && plan.frozen(n.params[0], fs.epoch) &&
                      plan.frozen(n.params[1], fs.epoch);
        if (!fs.train || frozen) {
          values[n.id] = b.create<nn::BatchNormInferenceOp>(
              l, type, in(0), w, bias, rm, rv, b.getF32FloatAttr(eps));
          break;
        }
        auto bn = b.create<nn::BatchNormOp>(
            l, type, w.getType(), w.getType(), w.getType(), in(0), w, bias,
            fs.mask, b.getF32FloatAttr(eps),
            run.syncBatchnorm ? b.getUnitAttr() : UnitAttr());
        values[n.id] = bn.getResult();
        FloatAttr momentum =
            b.getF32FloatAttr(static_cast<float>(n.attrs.momentum));
        fs.bufferUpdates[n.params[2]] = b.create<nn::RunningAverageOp>(
            l, rm.getType(), rm, bn.getMean(), momentum);
        fs.bufferUpdates[n.params[3]] = b.create<nn::RunningAverageOp>(
            l, rv.getType(), rv, bn.getVar(), momentum);
        RankedTensorType nbtType = nn::tensorType(nbt);
        Value one = b.create<arith::ConstantOp>(
            l, DenseElementsAttr::get(nbtType, b.getF32FloatAttr(1.0f)));
        fs.bufferUpdates[n.params[4]] = b.create<nn::AddOp>(l, nbt, one);
        break;
      }
      case sema::LayerKind::Dropout: {
        // Identity in evaluation; without a drop probability too.
        int64_t stream = dropoutStream++;
        if (!fs.train || n.attrs.p <= 0) {
          values[n.id] = in(0);
          break;
        }
        values[n.id] = b.create<nn::DropoutOp>(
            l, type, in(0), fs.seed,
            b.getF32FloatAttr(static_cast<float>(n.attrs.p)),
            b.getI64IntegerAttr(stream));
        break;
      }
      case sema::LayerKind::Conv2d: {
        Value w = params[n.params[0]];
        Value bias = n.params.size() > 1 ? params[n.params[1]] : Value();
        values[n.id] = b.create<nn::Conv2dOp>(
            l, type, in(0), w, bias,
            b.getDenseI64ArrayAttr({n.attrs.stride[0], n.attrs.stride[1]}),
            windowPadding(n));
        break;
      }
      case sema::LayerKind::Rnn:
      case sema::LayerKind::Lstm:
      case sema::LayerKind::Gru:
        values[n.id] = emitRecurrent(n, in(0), masks[n.inputs[0]], params, fs,
                                     dropoutStream);
        if (!n.attrs.sequences)
          masks[n.id] = Value();
        break;
      case sema::LayerKind::Attention:
        values[n.id] =
            fs.decode ? emitAttentionStep(n, in(0), params, fs)
                      : emitAttention(n, in(0), masks[n.inputs[0]], params, fs,
                                      dropoutStream);
        break;
      case sema::LayerKind::Conv1d:
        values[n.id] =
            emitConv1d(n, in(0), masks[n.inputs[0]], params, masks[n.id]);
        break;
      case sema::LayerKind::MaxPool:
      case sema::LayerKind::AvgPool: {
        const sema::LayerAttrs &a = n.attrs;
        auto kernel = b.getDenseI64ArrayAttr({a.kernel[0], a.kernel[1]});
        auto stride = b.getDenseI64ArrayAttr({a.stride[0], a.stride[1]});
        if (n.kind == sema::LayerKind::MaxPool)
          values[n.id] = b.create<nn::MaxPool2dOp>(l, type, in(0), kernel,
                                                   stride, windowPadding(n));
        else
          values[n.id] = b.create<nn::AvgPool2dOp>(l, type, in(0), kernel,
                                                   stride, windowPadding(n));
        break;
      }
      case sema::LayerKind::GlobalAvgPool:
        if (n.type.dims.size() == 1 && nn::tensorType(in(0)).getRank() == 4) {
          values[n.id] = b.create<nn::GlobalAvgPoolOp>(l, type, in(0));
          break;
        }
        values[n.id] = b.create<nn::MaskedAvgPoolOp>(
            l, type, in(0), timeMask(l, in(0), masks[n.inputs[0]]));
        break;
      case sema::LayerKind::GlobalMaxPool: {
        auto indices = RankedTensorType::get(type.getShape(), b.getI32Type());
        values[n.id] = b.create<nn::MaskedMaxPoolOp>(
                            l, type, indices, in(0),
                            timeMask(l, in(0), masks[n.inputs[0]]))
                           .getResult();
        break;
      }
      }
    }
    return values[model.output];
  }

  /// conv1d on [N, T, F] as a conv2d of [N, F, 1, T] with the weight
  /// [filters, F, k] viewed as [filters, F, 1, k]. Padded steps are zeroed
  /// first (they read as the zero padding of a shorter sequence), and an
  /// output step is real when the input step at its window's centre is: a
  /// one-hot [1, 1, 1, k] convolution of the input mask makes `outMask`.
  Value emitConv1d(const sema::Node &n, Value x, Value mask,
                   ArrayRef<Value> params, Value &outMask) {
    Location l = loc(n);
    const sema::LayerAttrs &a = n.attrs;
    Type f32 = b.getF32Type();
    RankedTensorType xt = nn::tensorType(x);
    int64_t batchRows = xt.getDimSize(0), steps = xt.getDimSize(1),
            features = xt.getDimSize(2);
    int64_t outSteps = n.type.dims[0], k = a.kernel[1];
    if (mask)
      x = b.create<nn::MulOp>(
          l, x,
          b.create<nn::BroadcastOp>(l, xt, mask, b.getDenseI64ArrayAttr({2})));
    auto perm = b.getDenseI64ArrayAttr({0, 2, 1});
    Value channels = b.create<nn::TransposeOp>(
        l, RankedTensorType::get({batchRows, features, steps}, f32), x, perm);
    Value image = b.create<nn::ReshapeOp>(
        l, RankedTensorType::get({batchRows, features, 1, steps}, f32),
        channels);
    Value w = params[n.params[0]];
    Value w4 = b.create<nn::ReshapeOp>(
        l, RankedTensorType::get({a.filters, features, 1, k}, f32), w);
    Value bias = n.params.size() > 1 ? params[n.params[1]] : Value();
    DenseI64ArrayAttr stride = b.getDenseI64ArrayAttr({1, a.stride[1]});
    int64_t left = a.padding[1];
    int64_t right = a.samePadding ? k - 1 - left : left;
    DenseI64ArrayAttr padding = b.getDenseI64ArrayAttr({0, left, 0, right});
    Value y = b.create<nn::Conv2dOp>(
        l, RankedTensorType::get({batchRows, a.filters, 1, outSteps}, f32),
        image, w4, bias, stride, padding);
    Value flat = b.create<nn::ReshapeOp>(
        l, RankedTensorType::get({batchRows, a.filters, outSteps}, f32), y);
    if (mask) {
      SmallVector<float> centre(k, 0.0f);
      centre[(k - 1) / 2] = 1.0f;
      auto kernelType = RankedTensorType::get({1, 1, 1, k}, f32);
      Value oneHot = b.create<arith::ConstantOp>(
          l, DenseElementsAttr::get(kernelType, ArrayRef<float>(centre)));
      Value m4 = b.create<nn::ReshapeOp>(
          l, RankedTensorType::get({batchRows, 1, 1, steps}, f32), mask);
      Value m = b.create<nn::Conv2dOp>(
          l, RankedTensorType::get({batchRows, 1, 1, outSteps}, f32), m4,
          oneHot, Value(), stride, padding);
      outMask = b.create<nn::ReshapeOp>(
          l, RankedTensorType::get({batchRows, outSteps}, f32), m);
    }
    return b.create<nn::TransposeOp>(l, batched(n.type), flat, perm);
  }

  /// attention: torch.nn.MultiheadAttention's self-attention. The in_proj
  /// dense gives q, k, v packed as [N, T, 3D] (nn.attention reads its column
  /// blocks), then the fused attention with the key mask of the value (all
  /// ones without token ids) and, in training with p > 0, dropout on the
  /// weights (a stream of its own), then the out_proj dense.
  Value emitAttention(const sema::Node &n, Value x, Value mask,
                      ArrayRef<Value> params, ForwardState &fs,
                      int64_t &dropoutStream) {
    Location l = loc(n);
    const sema::LayerAttrs &a = n.attrs;
    Type f32 = b.getF32Type();
    RankedTensorType xt = nn::tensorType(x);
    int64_t batchRows = xt.getDimSize(0), steps = xt.getDimSize(1),
            dim = xt.getDimSize(2), rows = batchRows * steps;
    auto flatType = RankedTensorType::get({rows, dim}, f32);
    Value flat = b.create<nn::ReshapeOp>(l, flatType, x);
    Value proj = adapted(
        n, 0, params,
        b.create<nn::DenseOp>(l, RankedTensorType::get({rows, 3 * dim}, f32),
                              flat, params[n.params[0]], params[n.params[1]]),
        flat);
    Value qkv = b.create<nn::ReshapeOp>(
        l, RankedTensorType::get({batchRows, steps, 3 * dim}, f32), proj);
    int64_t stream = dropoutStream++;
    bool drop = fs.train && a.p > 0;
    auto att = b.create<nn::AttentionOp>(
        l, xt, RankedTensorType::get({batchRows, a.heads, steps}, f32), qkv,
        timeMask(l, x, mask), drop ? fs.seed : Value(),
        b.getI64IntegerAttr(a.heads), b.getBoolAttr(a.causal),
        b.getF32FloatAttr(drop ? static_cast<float>(a.p) : 0.0f),
        b.getI64IntegerAttr(stream));
    Value o = b.create<nn::ReshapeOp>(l, flatType, att.getOut());
    Value y = adapted(n, 1, params,
                      b.create<nn::DenseOp>(l, flatType, o, params[n.params[2]],
                                            params[n.params[3]]),
                      o);
    return b.create<nn::ReshapeOp>(l, xt, y);
  }

  /// rnn / lstm / gru: per layer and direction one nn.recurrent (the
  /// backward direction with `reverse`); bidirectional outputs are joined
  /// along the features, forward first; the step outputs are zero at
  /// padded steps (pad_packed_sequence) and, between layers, pass through
  /// dropout in training. Returns the last layer's final states, or its
  /// step outputs with `sequences`.
  Value emitRecurrent(const sema::Node &n, Value x, Value mask,
                      ArrayRef<Value> params, const ForwardState &fs,
                      int64_t &dropoutStream) {
    Location l = loc(n);
    const sema::LayerAttrs &a = n.attrs;
    StringRef cell = n.kind == sema::LayerKind::Lstm  ? "lstm"
                     : n.kind == sema::LayerKind::Gru ? "gru"
                     : a.reluActivation               ? "rnn_relu"
                                                      : "rnn_tanh";
    Type f32 = b.getF32Type();
    RankedTensorType xt = nn::tensorType(x);
    int64_t rows = xt.getDimSize(0), steps = xt.getDimSize(1);
    int64_t dirs = a.bidirectional ? 2 : 1;
    int64_t savedWidth = nn::RecurrentOp::savedOf(cell) * a.units;
    auto stateSeq = RankedTensorType::get({rows, steps, a.units}, f32);
    auto finalType = RankedTensorType::get({rows, a.units}, f32);
    auto savedType = RankedTensorType::get({rows, steps, savedWidth}, f32);
    Value stepMask = timeMask(l, x, mask);
    Value outMask = b.create<nn::BroadcastOp>(l, stateSeq, stepMask,
                                              b.getDenseI64ArrayAttr({2}));
    Value seq = x, final;
    unsigned p = 0;
    // `dropout`: between layers (PyTorch); on a single layer, on its input
    // steps (Keras' LSTM(dropout = p)). One dropout stream per use.
    int64_t dropout = dropoutStream;
    if (a.p > 0)
      dropoutStream += std::max<int64_t>(a.layers - 1, 1);
    if (a.layers == 1 && a.p > 0 && fs.train)
      seq = b.create<nn::DropoutOp>(l, xt, seq, fs.seed,
                                    b.getF32FloatAttr(static_cast<float>(a.p)),
                                    b.getI64IntegerAttr(dropout));
    for (int64_t layer = 0; layer < a.layers; ++layer) {
      SmallVector<Value> seqs, finals;
      for (int64_t d = 0; d < dirs; ++d) {
        Value w[4];
        for (Value &v : w)
          v = params[n.params[p++]];
        auto rec = b.create<nn::RecurrentOp>(
            l, stateSeq, finalType, savedType, seq, stepMask, w[0], w[1], w[2],
            w[3], b.getStringAttr(cell), b.getBoolAttr(d == 1));
        seqs.push_back(
            mask ? Value(b.create<nn::MulOp>(l, rec.getStates(), outMask))
                 : rec.getStates());
        finals.push_back(rec.getFinal());
      }
      auto seqType = RankedTensorType::get({rows, steps, a.units * dirs}, f32);
      seq = dirs == 1 ? seqs[0]
                      : b.create<nn::ConcatOp>(l, seqType, seqs,
                                               b.getI64IntegerAttr(2));
      final = dirs == 1
                  ? finals[0]
                  : b.create<nn::ConcatOp>(
                        l, RankedTensorType::get({rows, a.units * 2}, f32),
                        finals, IntegerAttr());
      if (layer + 1 < a.layers && fs.train && a.p > 0)
        seq =
            b.create<nn::DropoutOp>(l, seqType, seq, fs.seed,
                                    b.getF32FloatAttr(static_cast<float>(a.p)),
                                    b.getI64IntegerAttr(dropout + layer));
    }
    return a.sequences ? seq : final;
  }

  /// The padding mask a node's value inherits: that of its first input
  /// with one, when the value is a sequence [T, F] of the same steps
  /// (embedding, dense, activations, dropout, layernorm, add); none for the
  /// layers that reshape or reduce over time.
  Value sequenceMask(const sema::Node &n, ArrayRef<Value> masks) {
    if (n.kind == sema::LayerKind::Input ||
        n.kind == sema::LayerKind::Reshape ||
        n.kind == sema::LayerKind::Flatten || n.type.dims.size() != 2)
      return Value();
    for (unsigned i : n.inputs)
      if (Value m = masks[i])
        if (nn::tensorType(m).getDimSize(1) == n.type.dims[0])
          return m;
    return Value();
  }

  /// The mask a pool over time reads: the value's, or all steps real.
  Value timeMask(Location l, Value seq, Value mask) {
    if (mask)
      return mask;
    RankedTensorType t = nn::tensorType(seq);
    auto type = RankedTensorType::get({t.getDimSize(0), t.getDimSize(1)},
                                      b.getF32Type());
    return b.create<arith::ConstantOp>(
        l, DenseElementsAttr::get(type, b.getF32FloatAttr(1.0f)));
  }

  /// [top, left, bottom, right] of a conv or pool: `same` pads k - 1 in
  /// all, the odd one at the bottom/right (PyTorch); else symmetric.
  DenseI64ArrayAttr windowPadding(const sema::Node &n) {
    const sema::LayerAttrs &a = n.attrs;
    int64_t top = a.padding[0], left = a.padding[1];
    int64_t bottom = a.samePadding ? a.kernel[0] - 1 - top : top;
    int64_t right = a.samePadding ? a.kernel[1] - 1 - left : left;
    return b.getDenseI64ArrayAttr({top, left, bottom, right});
  }

  /// Trainable parameters, in model order, as function arguments.
  SmallVector<unsigned> trainable() {
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < model.params.size(); ++i)
      if (model.params[i].trainable)
        idx.push_back(i);
    return idx;
  }
  /// Buffers (batchnorm running statistics and counters), in model order.
  SmallVector<unsigned> buffers() {
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < model.params.size(); ++i)
      if (!model.params[i].trainable)
        idx.push_back(i);
    return idx;
  }

  /// A function of every parameter and buffer, then `extraArgs`. A training
  /// function (`trainEpoch` > 0, an epoch of the phase it is for) marks the
  /// parameters frozen in that epoch `nn.frozen`, records when a parameter
  /// starts training (`nn.trained_after`, the last frozen epoch; -1: never)
  /// and its learning-rate factor (`nn.lr_scale`).
  func::FuncOp makeFunction(StringRef name, ArrayRef<Type> extraArgs,
                            ArrayRef<Type> results,
                            SmallVectorImpl<Value> &params,
                            SmallVectorImpl<Value> &extra,
                            int64_t trainEpoch = 0) {
    SmallVector<Type> args;
    SmallVector<unsigned> idx = trainable(), bufs = buffers();
    // Buffers follow the parameters; all are f32 (num_batches_tracked too:
    // the state arena is f32, checkpoints store the counter as i64).
    idx.append(bufs.begin(), bufs.end());
    for (unsigned i : idx)
      args.push_back(paramType(model.params[i]));
    args.append(extraArgs.begin(), extraArgs.end());
    auto fn = b.create<func::FuncOp>(loc(model.range), name,
                                     b.getFunctionType(args, results));
    Block *entry = fn.addEntryBlock();
    params.assign(model.params.size(), Value());
    // All argument attributes at once: setArgAttr rebuilds (and the context
    // keeps) the array of every argument's dictionary, quadratic in the
    // number of parameters (10000 layers: gigabytes).
    SmallVector<NamedAttrList> argAttrs(args.size());
    for (auto [k, i] : llvm::enumerate(idx)) {
      params[i] = entry->getArgument(k);
      NamedAttrList &attrs = argAttrs[k];
      attrs.append(model.params[i].trainable
                       ? NNDialect::ParamAttrHelper::getNameStr()
                       : NNDialect::BufferAttrHelper::getNameStr(),
                   b.getStringAttr(model.params[i].name));
      for (auto [weight, mask] : run.prune.masks)
        if (weight == i)
          attrs.append(NNDialect::MaskAttrHelper::getNameStr(),
                       b.getStringAttr(model.params[mask].name));
      if (trainEpoch == 0 || !model.params[i].trainable)
        continue;
      if (plan.frozen(i, trainEpoch))
        attrs.append(NNDialect::FrozenAttrHelper::getNameStr(),
                     b.getUnitAttr());
      if (int64_t until = plan.frozenUntil[i]; until > 0)
        attrs.append(NNDialect::TrainedAfterAttrHelper::getNameStr(),
                     b.getI64IntegerAttr(
                         until == sema::FinetunePlan::kAlways ? -1 : until));
      if (plan.lrScale[i] != 1.0)
        attrs.append(NNDialect::LrScaleAttrHelper::getNameStr(),
                     b.getF64FloatAttr(plan.lrScale[i]));
    }
    SmallVector<DictionaryAttr> dicts;
    for (NamedAttrList &attrs : argAttrs)
      dicts.push_back(attrs.getDictionary(b.getContext()));
    fn.setAllArgAttrs(dicts);
    for (unsigned k = idx.size(); k < args.size(); ++k)
      extra.push_back(entry->getArgument(k));
    return fn;
  }

  RankedTensorType targetType() {
    // Class labels: one per sample, or one per position for [T, V] logits
    // (a language model's next tokens).
    if (run.loss.kind == sema::LossKind::CrossEntropy) {
      const sema::TensorType &out = model.nodes[model.output].type;
      if (out.dims.size() == 2)
        return RankedTensorType::get({batch, out.dims[0]}, b.getI32Type());
      return RankedTensorType::get({batch}, b.getI32Type());
    }
    return batched(model.nodes[model.output].type);
  }

  /// `loss` (training mode: dropout active, batchnorm on batch statistics,
  /// returning the updated buffers after the loss and the predictions, named
  /// in `nn.buffer_results`) or `eval_loss` (evaluation mode). Training
  /// losses are per fine-tuning phase: `phase` < plan.bounds.size() emits
  /// `loss_phase<phase>` with `nn.phase_last_epoch`.
  void emitLoss(bool train, size_t phase) {
    RankedTensorType xType = batched(model.inputType);
    RankedTensorType predType = batched(model.nodes[model.output].type);
    RankedTensorType maskType = RankedTensorType::get({batch}, b.getF32Type());
    auto scalar = RankedTensorType::get({}, b.getF32Type());
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    SmallVector<Type> extraTypes{xType, targetType(), maskType};
    bool seeded = train && hasDropout();
    if (seeded)
      extraTypes.push_back(i64Scalar);
    SmallVector<Type> resultTypes{scalar, predType};
    SmallVector<unsigned> bufs = train ? buffers() : SmallVector<unsigned>{};
    for (unsigned i : bufs)
      resultTypes.push_back(paramType(model.params[i]));
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    bool final = phase == plan.bounds.size();
    std::string name = !train  ? "eval_loss"
                       : final ? "loss"
                               : "loss_phase" + std::to_string(phase);
    int64_t epoch = train ? plan.firstEpoch(phase) : 0;
    func::FuncOp fn =
        makeFunction(name, extraTypes, resultTypes, params, extra, epoch);
    if (train)
      NNDialect::LossAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    else
      NNDialect::EvalLossAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    if (train && !final)
      NNDialect::PhaseLastEpochAttrHelper(&ctx).setAttr(
          fn, b.getI64IntegerAttr(plan.bounds[phase]));
    if (seeded)
      fn.setArgAttr(fn.getNumArguments() - 1,
                    NNDialect::SeedAttrHelper::getNameStr(), b.getUnitAttr());
    if (!bufs.empty()) {
      SmallVector<Attribute> names;
      for (unsigned i : bufs)
        names.push_back(b.getStringAttr(model.params[i].name));
      NNDialect::BufferResultsAttrHelper(&ctx).setAttr(fn,
                                                       b.getArrayAttr(names));
    }
    b.setInsertionPointToStart(&fn.front());
    ForwardState fs;
    fs.train = train;
    fs.epoch = std::max<int64_t>(epoch, 1);
    fs.mask = extra[2];
    if (seeded)
      fs.seed = extra[3];
    Value pred = emitForward(params, extra[0], fs);
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
    if (train)
      lossValue = addL2Penalties(lossValue, params);
    SmallVector<Value> results{lossValue, pred};
    for (unsigned i : bufs) {
      auto it = fs.bufferUpdates.find(i);
      results.push_back(it != fs.bufferUpdates.end() ? it->second : params[i]);
    }
    b.create<func::ReturnOp>(l, results);
  }

  /// Keras' kernel_regularizer: the training loss plus k * sum(W^2) for
  /// every layer with `l2 = k`, so that nn-autodiff adds 2 k W to the
  /// weight's gradient. The reported training loss includes it, as Keras'.
  Value addL2Penalties(Value loss, ArrayRef<Value> params) {
    auto scalar = RankedTensorType::get({}, b.getF32Type());
    for (const sema::Node &n : model.nodes) {
      int w = l2Weight(n);
      if (n.attrs.l2 <= 0 || w < 0)
        continue;
      Location l = loc(n);
      Value weight = params[w];
      RankedTensorType type = nn::tensorType(weight);
      Value squares = b.create<nn::MulOp>(l, weight, weight);
      Value sum = b.create<nn::ReduceSumOp>(
          l, scalar, squares,
          b.getDenseI64ArrayAttr(
              llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))));
      Value k = b.create<arith::ConstantOp>(
          l, DenseElementsAttr::get(
                 scalar, b.getF32FloatAttr(static_cast<float>(n.attrs.l2))));
      loss = b.create<nn::AddOp>(l, loss, b.create<nn::MulOp>(l, sum, k));
    }
    return loss;
  }

  /// A language model whose every layer acts on each position alone or, for
  /// causal attention, on the positions before it: `decode` can compute
  /// one position at a time from key/value caches.
  bool decodable() {
    const sema::TensorType &in = model.inputType;
    const sema::TensorType &out = model.nodes[model.output].type;
    if (run.loss.kind != sema::LossKind::CrossEntropy ||
        in.elem != sema::ElemType::I32 || in.dims.size() != 1 ||
        out.dims.size() != 2 || out.dims[0] != in.dims[0])
      return false;
    using K = sema::LayerKind;
    for (const sema::Node &n : model.nodes) {
      bool perPosition =
          n.kind == K::Input || n.kind == K::Embedding ||
          n.kind == K::Positions || n.kind == K::Dense || n.kind == K::Relu ||
          n.kind == K::LeakyRelu || n.kind == K::Sigmoid ||
          n.kind == K::Tanh || n.kind == K::Gelu || n.kind == K::Softmax ||
          n.kind == K::Add || n.kind == K::LayerNorm || n.kind == K::Dropout ||
          (n.kind == K::Attention && n.attrs.causal);
      bool shaped = n.kind == K::Input ||
                    (n.type.dims.size() == 2 && n.type.dims[0] == in.dims[0]);
      if (!perPosition || !shaped)
        return false;
    }
    return true;
  }

  /// `decode(params, token, position, caches...) -> (probabilities,
  /// caches...)`: the model on one token at `position` (i32 [1, 1] each) of
  /// one sequence, each causal attention layer reading the keys and values
  /// of the positions before from its caches [1, T, D] and writing this
  /// position's into them (./model generate's KV cache).
  void emitDecode() {
    decoding = true;
    auto ids = RankedTensorType::get({1, 1}, b.getI32Type());
    SmallVector<Type> extraTypes{ids, ids}, resultTypes{
        batched(model.nodes[model.output].type)};
    int64_t steps = model.inputType.dims[0];
    for (const sema::Node &n : model.nodes)
      if (n.kind == sema::LayerKind::Attention)
        for (int k = 0; k < 2; ++k) {
          auto cache = RankedTensorType::get({1, steps, n.type.dims[1]},
                                             b.getF32Type());
          extraTypes.push_back(cache);
          resultTypes.push_back(cache);
        }
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp fn =
        makeFunction("decode", extraTypes, resultTypes, params, extra);
    NNDialect::DecodeAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    ForwardState fs;
    fs.decode = true;
    fs.position = extra[1];
    fs.caches.assign(extra.begin() + 2, extra.end());
    Value pred = emitForward(params, extra[0], fs);
    Location l = loc(run.loss.range);
    SmallVector<Value> results{b.create<nn::SoftmaxOp>(l, pred)};
    results.append(fs.newCaches.begin(), fs.newCaches.end());
    b.create<func::ReturnOp>(loc(model.range), results);
    decoding = false;
  }

  /// A constant [rows, cols] f32 matrix of `f(i, j)`.
  Value matrixConst(Location l, int64_t rows, int64_t cols,
                    llvm::function_ref<float(int64_t, int64_t)> f) {
    SmallVector<float> v;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        v.push_back(f(i, j));
    auto type = RankedTensorType::get({rows, cols}, b.getF32Type());
    return b.create<arith::ConstantOp>(
        l, DenseElementsAttr::get(type, ArrayRef<float>(v)));
  }
  Value splat(Location l, RankedTensorType type, float value) {
    return b.create<arith::ConstantOp>(
        l, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
  }

  /// One position of causal self-attention (decode): q, k, v of the token
  /// [1, 1, D]; k and v written into row `position` of the caches; per
  /// head softmax(q K^T / sqrt(d)) V over the rows up to `position`
  /// (the later rows masked by -1e30 before the softmax: exp gives 0).
  Value emitAttentionStep(const sema::Node &n, Value x, ArrayRef<Value> params,
                          ForwardState &fs) {
    Location l = loc(n);
    Type f32 = b.getF32Type();
    int64_t dim = n.type.dims[1], heads = n.attrs.heads, d = dim / heads;
    int64_t steps = model.inputType.dims[0];
    auto t = [&](ArrayRef<int64_t> shape) {
      return RankedTensorType::get(shape, f32);
    };
    auto slice = [&](Value v, ArrayRef<int64_t> shape, int64_t row,
                     int64_t col) -> Value {
      return b.create<nn::SliceOp>(l, t(shape), v,
                                   b.getDenseI64ArrayAttr({row, col}));
    };
    Value flat = b.create<nn::ReshapeOp>(l, t({1, dim}), x);
    Value proj = adapted(n, 0, params,
                         b.create<nn::DenseOp>(l, t({1, 3 * dim}), flat,
                                               params[n.params[0]],
                                               params[n.params[1]]),
                         flat);
    // Row `position` of the identity and of the lower triangle: the one-hot
    // row written, and the keys visible.
    auto row = [&](Value matrix) -> Value {
      Value r = b.create<nn::EmbeddingOp>(l, t({1, 1, steps}), fs.position,
                                          matrix);
      return b.create<nn::ReshapeOp>(l, t({steps}), r);
    };
    Value onehot = b.create<nn::BroadcastOp>(
        l, t({steps, dim}),
        row(matrixConst(l, steps, steps,
                        [](int64_t i, int64_t j) { return i == j ? 1.f : 0.f; })),
        b.getDenseI64ArrayAttr({1}));
    Value visible = b.create<nn::ReshapeOp>(
        l, t({1, steps}),
        row(matrixConst(l, steps, steps,
                        [](int64_t i, int64_t j) { return j <= i ? 1.f : 0.f; })));
    Value maskAdd = b.create<nn::AddOp>(
        l, b.create<nn::MulOp>(l, visible, splat(l, t({1, steps}), 1e30f)),
        splat(l, t({1, steps}), -1e30f));
    // cache + onehot * (new - cache), for k (columns D..2D) and v (2D..3D).
    SmallVector<Value> caches;
    size_t first = fs.newCaches.size();
    for (int k = 0; k < 2; ++k) {
      Value cache =
          b.create<nn::ReshapeOp>(l, t({steps, dim}), fs.caches[first + k]);
      Value fresh = b.create<nn::BroadcastOp>(
          l, t({steps, dim}),
          b.create<nn::ReshapeOp>(l, t({dim}),
                                  slice(proj, {1, dim}, 0, (k + 1) * dim)),
          b.getDenseI64ArrayAttr({0}));
      Value diff = b.create<nn::AddOp>(
          l, fresh,
          b.create<nn::MulOp>(l, cache, splat(l, t({steps, dim}), -1.f)));
      caches.push_back(
          b.create<nn::AddOp>(l, cache, b.create<nn::MulOp>(l, onehot, diff)));
      fs.newCaches.push_back(
          b.create<nn::ReshapeOp>(l, t({1, steps, dim}), caches.back()));
    }
    Value scale = splat(l, t({1, steps}),
                        static_cast<float>(1.0 / std::sqrt(double(d))));
    SmallVector<Value> outs;
    for (int64_t h = 0; h < heads; ++h) {
      Value q = slice(proj, {1, d}, 0, h * d);
      Value keys = slice(caches[0], {steps, d}, 0, h * d);
      Value values = slice(caches[1], {steps, d}, 0, h * d);
      Value s = b.create<nn::MatmulOp>(l, t({1, steps}), q, keys,
                                       /*transpose_lhs=*/false,
                                       /*transpose_rhs=*/true);
      s = b.create<nn::AddOp>(l, b.create<nn::MulOp>(l, s, scale), maskAdd);
      Value p = b.create<nn::SoftmaxOp>(l, s);
      outs.push_back(b.create<nn::MatmulOp>(l, t({1, d}), p, values,
                                            /*transpose_lhs=*/false,
                                            /*transpose_rhs=*/false));
    }
    Value o = heads == 1 ? outs[0]
                         : Value(b.create<nn::ConcatOp>(l, t({1, dim}), outs));
    Value y = adapted(n, 1, params,
                      b.create<nn::DenseOp>(l, t({1, dim}), o,
                                            params[n.params[2]],
                                            params[n.params[3]]),
                      o);
    return b.create<nn::ReshapeOp>(l, t({1, 1, dim}), y);
  }

  /// `merge(params) -> (W + (alpha / r) B A, ...)`, one result per LoRA-
  /// adapted weight, named by its `nn.param` result attribute: what
  /// `./model merge` writes in place of each weight. In f32 whatever the
  /// run's precision (the products are exact folds, not autocast GEMMs).
  void emitMerge() {
    SmallVector<Type> resultTypes;
    for (const sema::Node &n : model.nodes)
      for (const sema::Node::Adapter &ad : n.lora)
        resultTypes.push_back(paramType(model.params[ad.weight]));
    if (resultTypes.empty())
      return;
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp fn = makeFunction("merge", {}, resultTypes, params, extra);
    NNDialect::MergeAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    SmallVector<Value> merged;
    for (const sema::Node &n : model.nodes)
      for (const sema::Node::Adapter &ad : n.lora) {
        Location l = loc(n);
        auto wType = cast<RankedTensorType>(resultTypes[merged.size()]);
        // [out, r] x [r, in]
        Value ba = b.create<nn::MatmulOp>(l, wType, params[ad.b], params[ad.a],
                                          /*transpose_lhs=*/false,
                                          /*transpose_rhs=*/false);
        Value scale = splat(l, wType, static_cast<float>(n.loraScale));
        merged.push_back(b.create<nn::AddOp>(
            l, params[ad.weight], b.create<nn::MulOp>(l, ba, scale)));
        fn.setResultAttr(merged.size() - 1,
                         NNDialect::ParamAttrHelper::getNameStr(),
                         b.getStringAttr(model.params[ad.weight].name));
      }
    b.create<func::ReturnOp>(loc(model.range), merged);
  }

  /// `prune(params, epoch) -> (weight, mask, ...)`: magnitude pruning at
  /// the end of `epoch` (i64) for each pruned weight, its results named by
  /// `nn.param` and `nn.buffer` (nnc_prune writes them over the state).
  void emitPrune() {
    if (!run.prune.enabled)
      return;
    SmallVector<Type> resultTypes;
    for (auto [weight, mask] : run.prune.masks)
      resultTypes.append(2, paramType(model.params[weight]));
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    auto epochType = RankedTensorType::get({}, b.getI64Type());
    func::FuncOp fn =
        makeFunction("prune", {epochType}, resultTypes, params, extra);
    NNDialect::PruneAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    Location l = loc(run.prune.range);
    SmallVector<Value> results;
    for (auto [weight, mask] : run.prune.masks) {
      auto op = b.create<nn::MagnitudePruneOp>(
          l, params[weight], params[mask], extra[0],
          b.getF64FloatAttr(run.prune.sparsity),
          b.getI64IntegerAttr(run.prune.start),
          b.getI64IntegerAttr(run.prune.end));
      fn.setResultAttr(results.size(), NNDialect::ParamAttrHelper::getNameStr(),
                       b.getStringAttr(model.params[weight].name));
      fn.setResultAttr(results.size() + 1,
                       NNDialect::BufferAttrHelper::getNameStr(),
                       b.getStringAttr(model.params[mask].name));
      results.push_back(op.getNewWeight());
      results.push_back(op.getNewMask());
    }
    b.create<func::ReturnOp>(loc(model.range), results);
  }

  void emitPredict() {
    RankedTensorType xType = batched(model.inputType);
    RankedTensorType predType = batched(model.nodes[model.output].type);
    SmallVector<Value> params, extra;
    OpBuilder::InsertionGuard guard(b);
    func::FuncOp fn =
        makeFunction("predict", {xType}, {predType}, params, extra);
    NNDialect::PredictAttrHelper(&ctx).setAttr(fn, b.getUnitAttr());
    b.setInsertionPointToStart(&fn.front());
    ForwardState fs;
    Value pred = emitForward(params, extra[0], fs);
    // Classifiers predict probabilities: the loss's fused activation, here
    // applied on its own.
    Location l = loc(run.loss.range);
    if (run.loss.kind == sema::LossKind::CrossEntropy)
      pred = b.create<nn::SoftmaxOp>(l, pred);
    else if (run.loss.kind == sema::LossKind::BinaryCrossEntropy)
      pred = b.create<nn::SigmoidOp>(l, pred);
    b.create<func::ReturnOp>(loc(model.range), ValueRange{pred});
  }

  static nn::OptimizerKind toNN(sema::OptimizerKind kind) {
    switch (kind) {
    case sema::OptimizerKind::Sgd:
      return nn::OptimizerKind::SGD;
    case sema::OptimizerKind::Adam:
      return nn::OptimizerKind::Adam;
    case sema::OptimizerKind::AdamW:
      return nn::OptimizerKind::AdamW;
    case sema::OptimizerKind::RmsProp:
      return nn::OptimizerKind::RMSprop;
    }
    llvm_unreachable("unknown optimizer kind");
  }
  static nn::ScheduleKind toNN(sema::ScheduleKind kind) {
    switch (kind) {
    case sema::ScheduleKind::Constant:
      return nn::ScheduleKind::Constant;
    case sema::ScheduleKind::Step:
      return nn::ScheduleKind::Step;
    case sema::ScheduleKind::Exponential:
      return nn::ScheduleKind::Exponential;
    case sema::ScheduleKind::Cosine:
      return nn::ScheduleKind::Cosine;
    case sema::ScheduleKind::Linear:
      return nn::ScheduleKind::Linear;
    }
    llvm_unreachable("unknown schedule kind");
  }

  nn::OptimizerAttr optimizerAttr() {
    const sema::Optimizer &o = run.optimizer;
    const sema::Schedule &s = run.schedule;
    auto f64 = [](double v) { return APFloat(v); };
    auto schedule =
        nn::ScheduleAttr::get(&ctx, toNN(s.kind), f64(s.warmup), f64(s.every),
                              f64(s.gamma), f64(s.minLr), f64(s.endLr));
    return nn::OptimizerAttr::get(
        &ctx, toNN(o.kind), f64(o.lr), f64(o.momentum), f64(o.dampening),
        f64(o.weightDecay), o.nesterov, f64(o.beta1), f64(o.beta2), f64(o.eps),
        f64(o.alpha), f64(run.clipGradNorm), schedule);
  }

  MLIRContext &ctx;
  OpBuilder b;
  const sema::Program &program;
  const sema::TrainRun &run;
  const sema::Model &model;
  const SourceManager &sm;
  nnc::DiagnosticEngine &diags;
  int64_t batch;
  bool decoding = false; ///< emitting `decode` (see batched)
  sema::FinetunePlan plan;
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
  context.getOrLoadDialect<arith::ArithDialect>();
  return Generator(context, program, run, sm, diags).generate();
}
