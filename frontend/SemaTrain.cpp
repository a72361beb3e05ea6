//===- SemaTrain.cpp - train / finetune settings and cross checks ---------===//
//
// Resolves a run's model, dataset, loss, optimizer (torch.optim defaults)
// and schedule, then checks them against each other: the loss against the
// model output, metrics against the loss, early stopping against the
// dataset's splits, freeze / lr_scale names against the model's groups.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <optional>

namespace nnc {
namespace sema {

void Sema::checkSizes(const Model &m, int64_t batch, SourceRange batchRange,
                      const std::string &batchNote) {
  if (batch <= 0)
    return;
  for (const Node &n : m.nodes) {
    int64_t elems = n.type.numElements(), total;
    if (!n.type.known)
      continue;
    if (elems >= 0 && !__builtin_mul_overflow(elems, batch, &total) &&
        total <= kMaxTensorElements)
      continue;
    bool input = n.kind == LayerKind::Input;
    std::string what = input ? "the input " + toString(n.type)
                             : std::string("the output ") + toString(n.type) +
                                   " of '" + toString(n.kind) + "'";
    error(n.range,
          what + " is too large for batch " + std::to_string(batch) + ": " +
              (elems < 0 || __builtin_mul_overflow(elems, batch, &total)
                   ? std::string("its size overflows")
                   : std::to_string(total) + " elements") +
              "; " + kTensorLimit,
          "use a smaller batch or a smaller layer");
    note(batchRange, batchNote);
    return;
  }
}

namespace {

const std::vector<std::string> kTrainKeys = {
    "model",     "data",    "loss",       "optimizer",      "schedule",
    "epochs",    "metrics", "checkpoint", "early_stopping", "clip_grad_norm",
    "seed",      "batch",   "drop_last",  "steps",          "eval_every",
    "precision", "prune",   "accumulate", "sync_batchnorm"};
const std::vector<std::string> kFinetuneKeys = {
    "from", "rename", "freeze", "unfreeze", "lr_scale", "adapters"};

bool isClassification(LossKind k) {
  return k == LossKind::CrossEntropy || k == LossKind::BinaryCrossEntropy;
}

} // namespace

void Sema::analyzeRun(const ast::Decl &d) {
  bool ft = d.kind == ast::DeclKind::Finetune;
  TrainRun run;
  run.finetune = ft;
  run.range = d.range;
  std::string word = ft ? "finetune" : "train";
  std::vector<std::string> keys = kTrainKeys;
  if (ft)
    keys.insert(keys.end(), kFinetuneKeys.begin(), kFinetuneKeys.end());
  std::string desc =
      d.name.empty() ? word + " block" : word + " '" + d.name + "'";
  std::map<std::string, const ast::Stmt *> sections;
  auto set = collectSettings(d, desc, keys, {}, &sections);
  SourceRange declRange = d.nameRange.isValid() ? d.nameRange : d.range;
  auto value = [&](const std::string &k) -> const ast::Expr * {
    auto it = set.find(k);
    return it == set.end() ? nullptr : it->second->value.get();
  };
  auto require = [&](const std::string &k) {
    if (!set.count(k))
      error(declRange, "missing setting '" + k + "' in " + desc);
  };
  // A finetune without a loss takes its model's train run's (below).
  for (const char *k : {"model", "data", "loss", "optimizer"})
    if (!ft || std::string(k) != "loss")
      require(k);
  if (ft)
    require("from");

  // References.
  const Model *model = nullptr;
  std::string modelName;
  auto ref = [&](const std::string &k, const char *what,
                 const std::map<std::string, const ast::Decl *> &table,
                 const std::map<std::string, int> &index, int &out,
                 std::string &name) {
    const ast::Expr *e = value(k);
    if (!e)
      return;
    if (e->kind != ast::ExprKind::Ident) {
      error(e->range, std::string("'") + k + "' must name a " + what +
                          ", got " + describe(*e));
      return;
    }
    name = e->text;
    auto it = index.find(e->text);
    if (it != index.end()) {
      out = it->second;
      return;
    }
    if (!table.count(e->text)) {
      std::vector<std::string> names;
      for (const auto &kv : table)
        names.push_back(kv.first);
      error(e->range, std::string("unknown ") + what + " '" + e->text + "'",
            didYouMean(e->text, names));
    }
  };
  std::string dataName;
  ref("model", "model", modelDecls, modelIndex, run.model, modelName);
  ref("data", "dataset", datasetDecls, datasetIndex, run.dataset, dataName);
  if (run.model >= 0)
    model = &prog->models[run.model];
  const DatasetInfo *dinfo =
      run.dataset >= 0 ? &datasetInfo[dataName] : nullptr;
  run.name = !d.name.empty() ? d.name : !modelName.empty() ? modelName
                                                           : "train";
  for (const auto &r : prog->runs)
    if (r.name == run.name) {
      error(declRange, "redefinition of training run '" + run.name + "'",
            d.name.empty() ? "name the run: train NAME { ... }" : "");
      note(r.range, "previous definition is here");
    }

  // Loss, optimizer, schedule.
  BoundCall bc;
  bool haveLoss = false;
  if (const ast::Expr *e = value("loss")) {
    if ((haveLoss = bindSetting(Category::Loss, e, bc))) {
      for (int i = 0; i <= static_cast<int>(LossKind::BinaryCrossEntropy); ++i)
        if (bc.sig->name == toString(static_cast<LossKind>(i)))
          run.loss.kind = static_cast<LossKind>(i);
      run.loss.delta = bc.num("delta");
      run.loss.labelSmoothing = bc.num("label_smoothing");
      run.loss.range = e->range;
    }
  }
  if (ft && !set.count("loss")) {
    const TrainRun *trained = nullptr;
    for (const TrainRun &r : prog->runs)
      if (!r.finetune && run.model >= 0 && r.model == run.model)
        trained = &r;
    if (trained) {
      run.loss = trained->loss;
      haveLoss = true;
    } else {
      error(declRange, "missing setting 'loss' in " + desc,
            run.model >= 0 ? "no train run of model '" + modelName +
                                 "' to take it from: add 'loss = ...'"
                           : "");
    }
  }
  if (const ast::Expr *e = value("optimizer")) {
    if (bindSetting(Category::Optimizer, e, bc)) {
      Optimizer &o = run.optimizer;
      for (int i = 0; i <= static_cast<int>(OptimizerKind::RmsProp); ++i)
        if (bc.sig->name == toString(static_cast<OptimizerKind>(i)))
          o.kind = static_cast<OptimizerKind>(i);
      o.range = e->range;
      o.lr = bc.num("lr");
      o.momentum = bc.num("momentum");
      o.dampening = bc.num("dampening");
      o.weightDecay = bc.num("weight_decay");
      o.nesterov = bc.flag("nesterov");
      if (bc.has("beta1")) {
        o.beta1 = bc.num("beta1");
        o.beta2 = bc.num("beta2");
      }
      if (bc.has("eps"))
        o.eps = bc.num("eps");
      if (bc.has("alpha"))
        o.alpha = bc.num("alpha");
      // torch.optim.SGD: "Nesterov momentum requires a momentum and zero
      // dampening".
      if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
        error(bc.rangeOf("nesterov"),
              "nesterov requires a momentum and zero dampening",
              o.momentum <= 0 ? "add momentum = 0.9"
                              : "remove dampening (or set dampening = 0)");
    }
  }
  if (const ast::Expr *e = value("schedule")) {
    if (bindSetting(Category::Schedule, e, bc)) {
      Schedule &s = run.schedule;
      for (int i = 0; i <= static_cast<int>(ScheduleKind::Linear); ++i)
        if (bc.sig->name == toString(static_cast<ScheduleKind>(i)))
          s.kind = static_cast<ScheduleKind>(i);
      s.range = e->range;
      s.every = bc.num("every");
      if (bc.has("gamma"))
        s.gamma = bc.num("gamma");
      s.warmup = bc.num("warmup");
      s.minLr = bc.num("min_lr");
      s.endLr = bc.num("end_lr");
    }
  }

  // Scalars.
  auto intSetting = [&](const std::string &k, int64_t &out, int64_t min) {
    const ast::Expr *e = value(k);
    if (!e)
      return;
    Value v = eval(e, Env());
    int64_t n;
    if (v.kind == Value::Invalid || !toInt(v, "'" + k + "'", n))
      return;
    if (n < min) {
      error(v.range, "'" + k + "' must be at least " + std::to_string(min) +
                         ", got " + std::to_string(n));
      return;
    }
    out = n;
  };
  intSetting("epochs", run.epochs, 1);
  // A run in steps (SPEC 2.9): the schedule counts steps, the log has one
  // line per evaluation.
  intSetting("steps", run.steps, 1);
  intSetting("accumulate", run.accumulate, 1);
  intSetting("eval_every", run.evalEvery, 1);
  if (run.steps > 0 && set.count("epochs"))
    error(value("steps")->range,
          "a run is given in epochs or in steps, not both",
          "remove 'epochs' (or 'steps')");
  if (run.evalEvery > 0 && run.steps == 0)
    error(value("eval_every")->range,
          "'eval_every' counts optimizer steps, but the run is given in epochs",
          "give the run's length as 'steps = N'");
  if (run.steps > 0 && run.evalEvery == 0)
    run.evalEvery = (run.steps + 9) / 10;
  if (run.evalEvery > run.steps && run.steps > 0) {
    warning(value("eval_every")->range,
            "eval_every = " + std::to_string(run.evalEvery) +
                " is more than the run's " + std::to_string(run.steps) +
                " steps: it evaluates once, at the end");
    run.evalEvery = run.steps;
  }
  intSetting("seed", run.seed, 0);
  intSetting("batch", run.batch, 1);
  if (batchOverride)
    run.batch = batchOverride;
  // A `true`/`false` setting, when given and valid.
  auto boolSetting = [&](const std::string &k) -> std::optional<bool> {
    const ast::Expr *e = value(k);
    if (!e)
      return std::nullopt;
    Value v = eval(e, Env());
    if (v.kind == Value::Bool)
      return v.num != 0;
    if (v.kind != Value::Invalid)
      error(v.range,
            "'" + k + "' must be 'true' or 'false', got " + formatValue(v));
    return std::nullopt;
  };
  if (std::optional<bool> v = boolSetting("drop_last"))
    run.dropLast = *v;
  if (std::optional<bool> v = boolSetting("sync_batchnorm"))
    run.syncBatchnorm = *v;
  if (const ast::Expr *e = value("precision")) {
    Value v = eval(e, Env());
    if ((v.kind == Value::Ident || v.kind == Value::String) &&
        (v.str == "bf16" || v.str == "f32"))
      run.bf16 = v.str == "bf16";
    else if (v.kind != Value::Invalid)
      error(v.range, "'precision' must be 'f32' or 'bf16', got " +
                         formatValue(v),
            "bf16 rounds the operands of matrix products (autocast)");
  }
  if (const ast::Expr *e = value("clip_grad_norm")) {
    Value v = eval(e, Env());
    if (v.kind == Value::Number && v.num > 0)
      run.clipGradNorm = v.num;
    else if (v.kind != Value::Invalid)
      error(v.range, "'clip_grad_norm' must be a number > 0, got " +
                         formatValue(v));
  }
  for (const char *k : {"checkpoint", "from"}) {
    const ast::Expr *e = value(k);
    if (!e)
      continue;
    if (e->kind != ast::ExprKind::String || e->text.empty())
      error(e->range, std::string("'") + k + "' must be a non-empty string "
                                             "path, got " + describe(*e));
    else
      (std::string(k) == "from" ? run.from : run.checkpoint) = e->text;
  }

  // Metrics.
  std::vector<std::string> logged = {"train_loss", "loss"};
  if (dinfo && dinfo->hasValidation)
    logged.push_back("val_loss");
  if (const ast::Expr *e = value("metrics")) {
    std::vector<const ast::Expr *> items;
    if (e->kind == ast::ExprKind::List)
      for (const auto &el : e->elements)
        items.push_back(el.get());
    else
      items.push_back(e);
    for (const ast::Expr *m : items) {
      if (!m || !bindSetting(Category::Metric, m, bc))
        continue;
      MetricKind mk = MetricKind::Accuracy;
      for (int i = 0; i <= static_cast<int>(MetricKind::Confusion); ++i)
        if (bc.sig->name == toString(static_cast<MetricKind>(i)))
          mk = static_cast<MetricKind>(i);
      bool cls = mk == MetricKind::Accuracy || mk == MetricKind::Precision ||
                 mk == MetricKind::Recall || mk == MetricKind::F1 ||
                 mk == MetricKind::Confusion;
      if (cls && haveLoss && !isClassification(run.loss.kind))
        error(m->range, "metric '" + bc.sig->name +
                            "' needs a classification loss, but the loss is '" +
                            toString(run.loss.kind) + "'",
              "use cross_entropy or binary_cross_entropy, or a regression "
              "metric (mse, mae, r2)");
      // Regression metrics compare outputs with target values; a classifier
      // has class labels and logits (probabilities after a softmax) instead.
      bool regression = mk == MetricKind::Mse || mk == MetricKind::Mae ||
                        mk == MetricKind::R2;
      if (regression && haveLoss && isClassification(run.loss.kind))
        error(m->range, "metric '" + bc.sig->name +
                            "' needs a regression loss, but the loss is '" +
                            toString(run.loss.kind) + "'",
              "a classifier is measured by accuracy, precision, recall, f1 "
              "or confusion");
      // exp of the mean cross-entropy: a language model's usual measure.
      if (mk == MetricKind::Perplexity && haveLoss &&
          run.loss.kind != LossKind::CrossEntropy)
        error(m->range,
              "metric 'perplexity' is exp of the mean cross-entropy, but the "
              "loss is '" + std::string(toString(run.loss.kind)) + "'",
              "use loss = cross_entropy");
      run.metrics.push_back(mk);
      logged.push_back(bc.sig->name);
      if (dinfo && dinfo->hasValidation)
        logged.push_back("val_" + bc.sig->name);
    }
  }

  // Early stopping (Keras EarlyStopping: monitor, patience, min_delta, mode).
  if (const ast::Expr *e = value("early_stopping")) {
    EarlyStopping &es = run.earlyStopping;
    es.range = e->range;
    if (e->kind != ast::ExprKind::Map) {
      error(e->range, "'early_stopping' must be a map like { monitor: "
                      "val_loss, patience: 3 }, got " + std::string(describe(*e)));
    } else {
      es.enabled = true;
      std::set<std::string> seen;
      for (const auto &en : e->entries) {
        if (!seen.insert(en.key).second) {
          error(en.keyRange, "'" + en.key + "' is given twice in "
                                            "early_stopping");
          continue;
        }
        Value v = eval(en.value.get(), Env());
        if (v.kind == Value::Invalid)
          continue;
        if (en.key == "monitor") {
          if (v.kind != Value::Ident && v.kind != Value::String) {
            error(v.range, "'monitor' must name a logged quantity, got " +
                               formatValue(v));
            continue;
          }
          es.monitor = v.str;
        } else if (en.key == "patience") {
          int64_t n;
          if (toInt(v, "'patience'", n)) {
            if (n < 0)
              error(v.range, "'patience' must be at least 0, got " +
                                 std::to_string(n));
            es.patience = n;
          }
        } else if (en.key == "min_delta") {
          if (v.kind != Value::Number || v.num < 0)
            error(v.range, "'min_delta' must be a number >= 0, got " +
                               formatValue(v));
          else
            es.minDelta = v.num;
        } else if (en.key == "mode") {
          if (v.kind == Value::Ident && (v.str == "min" || v.str == "max"))
            es.maximize = v.str == "max";
          else
            error(v.range, "'mode' must be 'min' or 'max', got " +
                               formatValue(v));
        } else {
          error(en.keyRange, "unknown early_stopping key '" + en.key + "'",
                didYouMean(en.key, {"monitor", "patience", "min_delta",
                                    "mode"}));
        }
      }
      if (!seen.count("mode") && es.monitor != "val_loss" &&
          es.monitor != "train_loss" && es.monitor != "loss") {
        std::string base = es.monitor.rfind("val_", 0) == 0
                               ? es.monitor.substr(4)
                               : es.monitor;
        es.maximize = base != "mse" && base != "mae";
      }
      bool found = false;
      for (const auto &l : logged)
        found |= l == es.monitor;
      if (!found && dinfo) {
        bool wantsVal = es.monitor.rfind("val_", 0) == 0;
        if (wantsVal && !dinfo->hasValidation)
          error(e->range, "early_stopping monitors '" + es.monitor +
                              "' but dataset '" + dataName +
                              "' has no validation split",
                "add 'validation = split(train, 0.1)' to the dataset");
        else
          error(e->range, "early_stopping monitors '" + es.monitor +
                              "', which is not logged",
                didYouMean(es.monitor, logged));
      }
    }
  }
  if (!run.checkpoint.empty() && dinfo && !dinfo->hasValidation)
    note(value("checkpoint")->range,
         "dataset '" + dataName + "' has no validation split: only "
         "last.safetensors is written, no best.safetensors");

  // The loss against the model's output and the dataset's targets.
  if (haveLoss && model && model->outputType.known) {
    const TensorType &out = model->outputType;
    SourceRange lr = run.loss.range;
    std::string ln = toString(run.loss.kind);
    int64_t width = out.numElements();
    switch (run.loss.kind) {
    case LossKind::CrossEntropy:
      // A corpus's targets are the next `block` tokens: logits [T, V].
      if (dinfo && dinfo->block > 0) {
        if (out.dims.size() != 2 || out.dims[0] != dinfo->block ||
            out.dims[1] < 2)
          error(lr, "cross_entropy on corpus '" + dataName +
                        "' needs logits [" + std::to_string(dinfo->block) +
                        ", V] (one row per position of the block), but "
                        "model '" + model->name + "' produces " +
                        toString(out),
                "end the model with dense(V) over its [" +
                    std::to_string(dinfo->block) + ", D] value");
        else if (dinfo->vocab > out.dims[1])
          error(lr, "model '" + model->name + "' predicts " +
                        std::to_string(out.dims[1]) +
                        " token classes, fewer than the " +
                        std::to_string(dinfo->vocab) + " ids of dataset '" +
                        dataName + "'",
                "end the model with dense(" + std::to_string(dinfo->vocab) +
                    ")");
      } else if (out.dims.size() != 1 || out.dims[0] < 2) {
        error(lr, "cross_entropy needs a rank-1 output with at least 2 "
                  "classes, but model '" + model->name + "' produces " +
                      toString(out));
      }
      break;
    case LossKind::BinaryCrossEntropy:
      if (dinfo && dinfo->block > 0)
        error(lr, "a corpus's targets are token ids: use cross_entropy");
      else if (width != 1)
        error(lr, "binary_cross_entropy needs a one-unit output (f32[1]), "
                  "but model '" + model->name + "' produces " + toString(out),
              "use cross_entropy for more than two classes");
      break;
    default:
      if (dinfo && dinfo->block > 0)
        error(lr, ln + " compares values, but a corpus's targets are token "
                       "ids", "use loss = cross_entropy");
      else if (dinfo && dinfo->targetWidth > 0 && width != dinfo->targetWidth)
        error(lr, ln + " compares the output " + toString(out) + " of model '" +
                      model->name + "' with targets of width " +
                      std::to_string(dinfo->targetWidth) + " (f32[" +
                      std::to_string(dinfo->targetWidth) + "])");
    }
  }
  if (model && dinfo && model->inputType.known) {
    const TensorType &in = model->inputType;
    // CSV rows fill the input in row-major order, whatever its rank.
    if (dinfo->featureCount > 0 && in.numElements() != dinfo->featureCount)
      error(value("data")->range,
            "dataset '" + dataName + "' has " +
                std::to_string(dinfo->featureCount) + " features but model '" +
                model->name + "' takes " + toString(in));
    // random_crop(size) cuts size x size windows: the model's input size
    // (evaluation cuts the centre window).
    if (dinfo->cropSize > 0 && in.dims.size() >= 2 &&
        (in.dims[in.dims.size() - 2] != dinfo->cropSize ||
         in.dims.back() != dinfo->cropSize)) {
      error(value("data")->range,
            "dataset '" + dataName + "' crops images to " +
                std::to_string(dinfo->cropSize) + " x " +
                std::to_string(dinfo->cropSize) + " but model '" +
                model->name + "' takes " + toString(in),
            "the model's input is the crop size: write f32[C, " +
                std::to_string(dinfo->cropSize) + ", " +
                std::to_string(dinfo->cropSize) + "]");
      note(dinfo->cropRange, "the crop is here");
    } else if (dinfo->imageSize.size() == 3 && dinfo->cropSize == 0 &&
               in.dims != dinfo->imageSize)
      error(value("data")->range,
            "dataset '" + dataName + "' yields images of shape f32[" +
                std::to_string(dinfo->imageSize[0]) + ", " +
                std::to_string(dinfo->imageSize[1]) + ", " +
                std::to_string(dinfo->imageSize[2]) + "] but model '" +
                model->name + "' takes " + toString(in));
  }

  if (model && run.dataset >= 0 && model->inputType.known) {
    checkTokenInput(*model, prog->datasets[run.dataset], value("data")->range);
    checkAudioInput(*model, prog->datasets[run.dataset], value("data")->range);
  }

  // Sizes: every tensor of a training step is a buffer of the generated
  // code, batch rows of the per-sample shape (parameters once).
  if (model) {
    int64_t batch = run.batch ? run.batch
                    : run.dataset >= 0 ? prog->datasets[run.dataset].batch
                                       : 0;
    if (batchOverride)
      checkSizes(*model, batch, declRange,
                 "nnc --batch " + std::to_string(batch) +
                     " sets the batch of this run");
    else if (run.batch)
      checkSizes(*model, batch, value("batch")->range, "the batch is set here");
    else if (run.dataset >= 0)
      checkSizes(*model, batch, prog->datasets[run.dataset].range,
                 "dataset '" + dataName + "' sets batch = " +
                     std::to_string(batch));
    else
      checkSizes(*model, 0, declRange, "");
  }

  // Fine-tuning: rename, freeze, unfreeze, lr_scale.
  const ModelInfo *minfo = model ? &modelInfo[model->name] : nullptr;
  auto resolve = [&](const ast::Expr *e, std::string &name,
                     std::vector<std::string> *params) {
    if (!e)
      return false;
    if (e->kind != ast::ExprKind::Ident && e->kind != ast::ExprKind::String) {
      error(e->range, "expected a group or label name, got " +
                          std::string(describe(*e)));
      return false;
    }
    name = e->text;
    if (!model)
      return false;
    auto it = model->selectors.find(name);
    if (it == model->selectors.end()) {
      error(e->range, "unknown group or label '" + name + "' in model '" +
                          model->name + "'",
            didYouMean(name, minfo->selectorNames));
      return false;
    }
    if (params)
      for (unsigned pi : it->second)
        params->push_back(model->params[pi].name);
    return true;
  };
  auto entriesOf = [&](const char *k) -> const ast::Expr * {
    const ast::Expr *e = value(k);
    if (e && e->kind != ast::ExprKind::Map) {
      error(e->range, std::string("'") + k + "' must be a map, got " +
                          describe(*e));
      return nullptr;
    }
    return e;
  };
  if (const ast::Expr *e = entriesOf("rename")) {
    for (const auto &en : e->entries) {
      Rename r;
      r.range = en.keyRange;
      r.from = en.key;
      if (!en.value || en.value->kind != ast::ExprKind::String) {
        error(en.value ? en.value->range : en.keyRange,
              "rename targets must be strings");
        continue;
      }
      r.to = en.value->text;
      char last = r.from.empty() ? 0 : r.from.back();
      r.prefix = last == '.' || last == '*';
      if (last == '*')
        r.from.pop_back();
      if (!r.to.empty() && r.to.back() == '*')
        r.to.pop_back();
      if (r.prefix != (!r.to.empty() && r.to.back() == '.') && r.prefix &&
          !r.to.empty())
        error(en.value->range, "a prefix rename maps to a prefix ending in "
                               "'.', got \"" + en.value->text + "\"");
      run.renames.push_back(r);
    }
  }
  if (const ast::Expr *e = value("freeze")) {
    run.freeze.range = e->range;
    const ast::Expr *list = e;
    if (e->kind == ast::ExprKind::Until && e->elements.size() == 2) {
      list = e->elements[0].get();
      Value v = eval(e->elements[1].get(), Env());
      int64_t n;
      if (v.kind != Value::Invalid && toInt(v, "the 'until' epoch", n)) {
        if (n < 1)
          error(v.range, "the 'until' epoch must be at least 1, got " +
                             std::to_string(n));
        else if (n >= run.epochs && set.count("epochs"))
          warning(v.range, "freeze lasts until epoch " + std::to_string(n) +
                               " but the run has only " +
                               std::to_string(run.epochs) + " epochs");
        run.freeze.until = n;
      }
    }
    std::vector<const ast::Expr *> items;
    if (list && list->kind == ast::ExprKind::List)
      for (const auto &el : list->elements)
        items.push_back(el.get());
    else
      items.push_back(list);
    for (const ast::Expr *it : items) {
      std::string name;
      if (resolve(it, name, &run.freeze.paramNames))
        run.freeze.names.push_back(name);
    }
  }
  if (const ast::Expr *e = entriesOf("unfreeze")) {
    for (const auto &en : e->entries) {
      ast::Expr key(ast::ExprKind::Ident, en.keyRange);
      key.text = en.key;
      std::string name;
      resolve(&key, name, nullptr);
      Value v = eval(en.value.get(), Env());
      int64_t n;
      if (v.kind != Value::Invalid && toInt(v, "an unfreeze epoch", n)) {
        if (n < 1)
          error(v.range, "an unfreeze epoch must be at least 1, got " +
                             std::to_string(n));
        run.unfreeze[en.key] = n;
      }
    }
  }
  if (const ast::Expr *e = entriesOf("lr_scale")) {
    for (const auto &en : e->entries) {
      LrScale ls;
      ls.range = en.keyRange;
      ast::Expr key(ast::ExprKind::Ident, en.keyRange);
      key.text = en.key;
      resolve(&key, ls.name, &ls.paramNames);
      ls.name = en.key;
      Value v = eval(en.value.get(), Env());
      if (v.kind == Value::Number && v.num > 0)
        ls.factor = v.num;
      else if (v.kind != Value::Invalid)
        error(v.range, "lr_scale factors must be numbers > 0, got " +
                           formatValue(v));
      run.lrScales.push_back(ls);
    }
  }
  if (const ast::Expr *e = value("adapters")) {
    if (!run.freeze.names.empty() || !run.unfreeze.empty())
      error(e->range, "adapters train only the adapters: the rest of the "
                      "model is frozen, so 'freeze' and 'unfreeze' do not "
                      "apply", "remove 'freeze' / 'unfreeze'");
    analyzeAdapters(run, e);
  }
  if (const ast::Expr *e = value("prune"))
    analyzePrune(run, e);
  if (run.accumulate > 1 && (run.freeze.until > 0 || !run.unfreeze.empty()))
    error(value("accumulate")->range,
          "accumulate does not combine with parameters that start training "
          "mid-run ('freeze ... until', 'unfreeze')",
          "freeze for the whole run, or remove 'accumulate'");
  run.distributed = distributed;
  if (distributed && (run.freeze.until > 0 || !run.unfreeze.empty()))
    error(value(run.unfreeze.empty() ? "freeze" : "unfreeze")->range,
          "--distributed does not combine with parameters that start "
          "training mid-run ('freeze ... until', 'unfreeze')",
          "freeze for the whole run, or compile without --distributed");
  prog->runs.push_back(std::move(run));
}

} // namespace sema
} // namespace nnc
