//===- ProgramDump.cpp - `nnc --emit graph`: the analysed program ---------===//
//
// Stable, line-oriented text for golden tests:
//
//   model mlp(image: f32[1, 28, 28]) -> f32[10]
//     %0 = input image : f32[1, 28, 28]  @12:11
//     %2 = dense "dense_0" {units = 128, bias = true} (%1) : f32[128]  @14:3
//       param dense_0.weight : f32[128, 784]
//     output %4
//     parameters: 101770 trainable, 0 buffer elements; flops per sample: ...
//
// Parameter names: scope path (groups, <block>_<i> instances, labels) then
// <layer> or <layer>_<i>, then weight / bias / running_mean / ...
//
//===----------------------------------------------------------------------===//
#include "frontend/Sema.h"
#include "frontend/SemaImpl.h"

namespace nnc {

namespace {

using namespace sema;

std::string loc(const SourceRange &r) {
  return "@" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.col);
}

std::string num(double x) { return formatNumber(x); }
std::string boolStr(bool b) { return b ? "true" : "false"; }
std::string pairStr(const int64_t v[2]) {
  return v[0] == v[1]
             ? std::to_string(v[0])
             : "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]";
}
std::string strList(const std::vector<std::string> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}
template <typename T> std::string numList(const std::vector<T> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + num(static_cast<double>(v[i]));
  return s + "]";
}

std::string attrs(const Node &n) {
  const LayerAttrs &a = n.attrs;
  std::vector<std::string> kv;
  auto window = [&]() {
    kv.push_back("stride = " + pairStr(a.stride));
    kv.push_back("padding = " + (a.samePadding ? std::string("same(") +
                                                     pairStr(a.padding) + ")"
                                               : pairStr(a.padding)));
  };
  switch (n.kind) {
  case LayerKind::Dense:
    kv = {"units = " + std::to_string(a.units), "bias = " + boolStr(a.bias)};
    break;
  case LayerKind::Embedding:
    kv = {"count = " + std::to_string(a.count),
          "dim = " + std::to_string(a.units)};
    break;
  case LayerKind::Positions:
    kv = {"count = " + std::to_string(a.count)};
    break;
  case LayerKind::Attention:
    kv = {"heads = " + std::to_string(a.heads), "causal = " + boolStr(a.causal),
          "dropout = " + num(a.p)};
    break;
  case LayerKind::Conv2d:
    kv = {"filters = " + std::to_string(a.filters),
          "kernel = " + pairStr(a.kernel)};
    window();
    kv.push_back("bias = " + boolStr(a.bias));
    break;
  case LayerKind::Conv1d:
    kv = {"filters = " + std::to_string(a.filters),
          "kernel = " + std::to_string(a.kernel[1]),
          "stride = " + std::to_string(a.stride[1]),
          "padding = " + (a.samePadding
                              ? "same(" + std::to_string(a.padding[1]) + ")"
                              : std::to_string(a.padding[1])),
          "bias = " + boolStr(a.bias)};
    break;
  case LayerKind::Rnn:
  case LayerKind::Lstm:
  case LayerKind::Gru:
    kv = {"units = " + std::to_string(a.units)};
    if (n.kind == LayerKind::Rnn)
      kv.push_back(std::string("activation = ") +
                   (a.reluActivation ? "relu" : "tanh"));
    kv.push_back("bidirectional = " + boolStr(a.bidirectional));
    kv.push_back("layers = " + std::to_string(a.layers));
    kv.push_back("dropout = " + num(a.p));
    kv.push_back("sequences = " + boolStr(a.sequences));
    break;
  case LayerKind::MaxPool:
  case LayerKind::AvgPool:
    kv = {"size = " + pairStr(a.kernel)};
    window();
    break;
  case LayerKind::Reshape:
    kv = {"shape = " + numList(a.shape)};
    break;
  case LayerKind::LeakyRelu:
    kv = {"alpha = " + num(a.alpha)};
    break;
  case LayerKind::Dropout:
    kv = {"p = " + num(a.p)};
    break;
  case LayerKind::BatchNorm:
    kv = {"momentum = " + num(a.momentum), "eps = " + num(a.eps)};
    break;
  case LayerKind::LayerNorm:
    kv = {"eps = " + num(a.eps)};
    break;
  case LayerKind::Concat:
    kv = {"axis = " + std::to_string(a.axis)};
    break;
  case LayerKind::Input:
  case LayerKind::GlobalAvgPool:
  case LayerKind::GlobalMaxPool:
  case LayerKind::Flatten:
  case LayerKind::Relu:
  case LayerKind::Sigmoid:
  case LayerKind::Tanh:
  case LayerKind::Gelu:
  case LayerKind::Softmax:
  case LayerKind::Add:
    break;
  }
  if (hasTrait(n.kind, layer_trait::Weighted))
    kv.push_back(std::string("init = ") + toString(a.init));
  if (a.l2 != 0)
    kv.push_back("l2 = " + num(a.l2));
  if (kv.empty())
    return "";
  std::string s = " {";
  for (size_t i = 0; i < kv.size(); ++i)
    s += (i ? ", " : "") + kv[i];
  return s + "}";
}

void dumpModel(const Model &m, std::ostream &os) {
  os << "model " << m.name << "(" << m.inputName << ": "
     << toString(m.inputType) << ") -> " << toString(m.outputType) << "\n";
  for (const Node &n : m.nodes) {
    os << "  %" << n.id << " = " << toString(n.kind);
    if (n.kind == LayerKind::Input) {
      os << " " << m.inputName << " : " << toString(n.type) << "  "
         << loc(n.range) << "\n";
      continue;
    }
    os << " \"" << n.name << "\"" << attrs(n) << " (";
    for (size_t i = 0; i < n.inputs.size(); ++i)
      os << (i ? ", " : "") << "%" << n.inputs[i];
    os << ") : " << toString(n.type) << "  " << loc(n.range) << "\n";
    for (unsigned pi : n.params) {
      const Parameter &p = m.params[pi];
      os << "      param " << p.name << " : " << toString(p.type)
         << (p.trainable ? "" : " (buffer)") << "\n";
    }
  }
  os << "  output %" << m.output << "\n";
  for (const auto &kv : m.selectors)
    os << "  selector " << kv.first << ": " << kv.second.size() << " tensors\n";
  os << "  parameters: " << m.numParams << " trainable, " << m.numBufferElems
     << " buffer elements; flops per sample: " << m.flops << "\n\n";
}

std::string source(const DataSource &s) {
  switch (s.kind) {
  case SourceKind::None:
    return "none";
  case SourceKind::Csv:
    return "csv(\"" + s.path + "\", features = " +
           (s.features.empty() ? std::string("<all but targets>")
                               : strList(s.features)) +
           ", target = " + strList(s.targets) +
           ", header = " + boolStr(s.header) + ", delimiter = \"" +
           s.delimiter + "\")";
  case SourceKind::Idx:
    return "idx(\"" + s.imagesPath + "\", \"" + s.labelsPath + "\")";
  case SourceKind::Images:
    return "images(\"" + s.dir + "\"" +
           (s.size.empty() ? "" : ", size = " + numList(s.size)) + ")";
  case SourceKind::Text:
    return "text(\"" + s.path + "\"" +
           (s.textColumn.empty()
                ? std::string()
                : ", text = \"" + s.textColumn + "\", target = \"" +
                      s.targets[0] + "\"") +
           ")";
  case SourceKind::Corpus:
    return "corpus(\"" + s.path + "\", block = " + std::to_string(s.block) +
           ")";
  case SourceKind::Audio:
    return "audio(\"" + s.path + "\", rate = " + std::to_string(s.rate) +
           ", seconds = " + num(s.seconds) + ")";
  case SourceKind::Split:
    return "split(" + s.of + ", " + num(s.fraction) +
           ", seed = " + std::to_string(s.seed) + ")";
  }
  return "?";
}

std::string dataOp(const DataOp &o) {
  std::string n = toString(o.kind);
  switch (o.kind) {
  case DataOpKind::Clip:
    return n + "(" + num(o.lo) + ", " + num(o.hi) + ")";
  case DataOpKind::FillMissing:
    return n + "(" +
           (o.fill == FillMode::Value    ? num(o.value)
            : o.fill == FillMode::Median ? "median"
                                         : "mean") +
           ")";
  case DataOpKind::Scale:
    return n + "(" + num(o.value) + ")";
  case DataOpKind::Normalize:
    return n + "(mean = " + numList(o.mean) + ", std = " + numList(o.std) + ")";
  case DataOpKind::OneHot:
    return n + "(classes = " + std::to_string(o.classes) + ")";
  case DataOpKind::RandomCrop:
    return n + "(" + std::to_string(o.size) +
           ", padding = " + std::to_string(o.padding) + ")";
  case DataOpKind::Flip:
    return n + "(" + (o.horizontal ? "horizontal" : "vertical") +
           ", p = " + num(o.p) + ")";
  case DataOpKind::Rotate:
    return n + "(degrees = " + num(o.degrees) + ")";
  case DataOpKind::Noise:
    return n + "(std = " + num(o.stddev) + ")";
  case DataOpKind::TimeShift:
    return n + "(" + num(o.fraction) + ")";
  default:
    return n;
  }
}

void dumpDataset(const Dataset &d, std::ostream &os) {
  os << "dataset " << d.name << "\n";
  os << "  train: " << source(d.train) << "\n";
  if (d.validation.kind != SourceKind::None)
    os << "  validation: " << source(d.validation) << "\n";
  if (d.test.kind != SourceKind::None)
    os << "  test: " << source(d.test) << "\n";
  auto steps = [&](const char *name, const std::vector<DataOp> &ops) {
    if (ops.empty())
      return;
    os << "  " << name << ":";
    for (const auto &o : ops)
      os << " " << dataOp(o);
    os << "\n";
  };
  steps("clean", d.clean);
  steps("preprocess", d.preprocess);
  steps("augment", d.augment);
  const Tokenize &tk = d.tokenize;
  if (tk.kind != TokenizerKind::None)
    os << "  tokenize: "
       << (tk.kind == TokenizerKind::Bytes ? std::string("bytes")
           : tk.kind == TokenizerKind::Bpe
               ? "bpe(vocab = " + std::to_string(tk.vocab) + ")"
               : "words(vocab = " + std::to_string(tk.vocab) +
                     ", lowercase = " + boolStr(tk.lowercase) + ")")
       << " pad(" << tk.length << ")\n";
  const Features &f = d.features;
  if (f.kind != FeatureKind::None)
    os << "  features: " << toString(f.kind) << "("
       << (f.kind == FeatureKind::Mfcc
               ? "coefficients = " + std::to_string(f.coefficients) + ", "
               : std::string())
       << "mels = " << f.mels << ", window = " << num(f.window)
       << ", hop = " << num(f.hop) << ") -> f32[" << f.frames << ", "
       << f.width << "]\n";
  os << "  batch = " << d.batch << ", shuffle = " << boolStr(d.shuffle)
     << ", drop_last = " << boolStr(d.dropLast)
     << (d.seed >= 0 ? ", seed = " + std::to_string(d.seed)
                     : std::string(", seed = the run's"))
     << "\n\n";
}

void dumpRun(const Program &p, const TrainRun &r, std::ostream &os) {
  os << (r.finetune ? "finetune " : "train ") << r.name << "\n";
  os << "  model = "
     << (r.model >= 0 ? p.models[r.model].name : std::string("?"))
     << ", data = "
     << (r.dataset >= 0 ? p.datasets[r.dataset].name : std::string("?"))
     << "\n";
  const Loss &l = r.loss;
  os << "  loss = " << toString(l.kind);
  if (l.kind == LossKind::Huber)
    os << "(delta = " << num(l.delta) << ")";
  if (l.kind == LossKind::CrossEntropy)
    os << "(label_smoothing = " << num(l.labelSmoothing) << ")";
  const Optimizer &o = r.optimizer;
  os << "\n  optimizer = " << toString(o.kind) << "(lr = " << num(o.lr);
  switch (o.kind) {
  case OptimizerKind::Sgd:
    os << ", momentum = " << num(o.momentum)
       << ", dampening = " << num(o.dampening)
       << ", nesterov = " << boolStr(o.nesterov);
    break;
  case OptimizerKind::Adam:
  case OptimizerKind::AdamW:
    os << ", beta1 = " << num(o.beta1) << ", beta2 = " << num(o.beta2)
       << ", eps = " << num(o.eps);
    break;
  case OptimizerKind::RmsProp:
    os << ", alpha = " << num(o.alpha) << ", eps = " << num(o.eps)
       << ", momentum = " << num(o.momentum);
    break;
  }
  os << ", weight_decay = " << num(o.weightDecay) << ")\n";
  const Schedule &s = r.schedule;
  os << "  schedule = " << toString(s.kind);
  switch (s.kind) {
  case ScheduleKind::Constant:
    break;
  case ScheduleKind::Step:
    os << "(every = " << num(s.every) << ", gamma = " << num(s.gamma) << ")";
    break;
  case ScheduleKind::Exponential:
    os << "(gamma = " << num(s.gamma) << ")";
    break;
  case ScheduleKind::Cosine:
    os << "(warmup = " << num(s.warmup) << ", min_lr = " << num(s.minLr) << ")";
    break;
  case ScheduleKind::Linear:
    os << "(warmup = " << num(s.warmup) << ", end_lr = " << num(s.endLr) << ")";
    break;
  }
  if (r.steps > 0)
    os << "\n  steps = " << r.steps << ", eval_every = " << r.evalEvery
       << ", seed = " << r.seed;
  else
    os << "\n  epochs = " << r.epochs << ", seed = " << r.seed;
  if (r.batch)
    os << ", batch = " << r.batch;
  if (r.dropLast >= 0)
    os << ", drop_last = " << boolStr(r.dropLast == 1);
  if (r.clipGradNorm > 0)
    os << ", clip_grad_norm = " << num(r.clipGradNorm);
  if (r.bf16)
    os << ", precision = bf16";
  os << "\n  metrics = [";
  for (size_t i = 0; i < r.metrics.size(); ++i)
    os << (i ? ", " : "") << toString(r.metrics[i]);
  os << "]\n";
  if (!r.checkpoint.empty())
    os << "  checkpoint = \"" << r.checkpoint << "\"\n";
  if (r.earlyStopping.enabled)
    os << "  early_stopping = {monitor: " << r.earlyStopping.monitor
       << ", patience: " << r.earlyStopping.patience
       << ", min_delta: " << num(r.earlyStopping.minDelta)
       << ", mode: " << (r.earlyStopping.maximize ? "max" : "min") << "}\n";
  if (r.finetune) {
    os << "  from = \"" << r.from << "\"\n";
    for (const auto &rn : r.renames)
      os << "  rename " << (rn.prefix ? "prefix " : "") << "\"" << rn.from
         << "\" -> \"" << rn.to << "\"\n";
    if (!r.freeze.names.empty()) {
      os << "  freeze = " << strList(r.freeze.names);
      if (r.freeze.until)
        os << " until " << r.freeze.until;
      os << " (" << r.freeze.paramNames.size() << " tensors)\n";
    }
    for (const auto &kv : r.unfreeze)
      os << "  unfreeze " << kv.first << " at epoch " << kv.second << "\n";
    for (const auto &ls : r.lrScales)
      os << "  lr_scale " << ls.name << " = " << num(ls.factor) << " ("
         << ls.paramNames.size() << " tensors)\n";
  }
  os << "\n";
}

} // namespace

void dumpProgram(const sema::Program &program, const SourceManager &sm,
                 std::ostream &os) {
  for (const auto &m : program.models)
    dumpModel(m, os);
  for (const auto &d : program.datasets)
    dumpDataset(d, os);
  for (const auto &r : program.runs)
    dumpRun(program, r, os);
}

} // namespace nnc
