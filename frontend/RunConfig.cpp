//===- RunConfig.cpp - The run configuration embedded in programs ----------===//
#include "frontend/RunConfig.h"
#include "frontend/FinetunePlan.h"

#include <nlohmann/json.hpp>

using json = nlohmann::ordered_json;

namespace nnc {

static json dims(const sema::TensorType &t) { return json(t.dims); }

static json sourceJson(const sema::DataSource &s) {
  json j;
  j["kind"] = sema::toString(s.kind);
  switch (s.kind) {
  case sema::SourceKind::None:
    break;
  case sema::SourceKind::Csv:
    j["path"] = s.path;
    j["features"] = s.features;
    j["targets"] = s.targets;
    j["header"] = s.header;
    j["delimiter"] = s.delimiter;
    break;
  case sema::SourceKind::Idx:
    j["images"] = s.imagesPath;
    j["labels"] = s.labelsPath;
    break;
  case sema::SourceKind::Images:
    j["dir"] = s.dir;
    j["size"] = s.size;
    break;
  case sema::SourceKind::Text:
    // A folder of class folders or a .csv file: the runtime looks.
    j["path"] = s.path;
    j["text"] = s.textColumn;
    j["targets"] = s.targets;
    break;
  case sema::SourceKind::Corpus:
    j["path"] = s.path;
    j["block"] = s.block;
    break;
  case sema::SourceKind::Audio:
    j["path"] = s.path;
    j["rate"] = s.rate;
    j["seconds"] = s.seconds;
    break;
  case sema::SourceKind::Split:
    j["of"] = s.of;
    j["fraction"] = s.fraction;
    j["seed"] = s.seed;
    break;
  }
  return j;
}

static json dataOpJson(const sema::DataOp &op) {
  json j;
  j["op"] = sema::toString(op.kind);
  switch (op.kind) {
  case sema::DataOpKind::Clip:
    j["lo"] = op.lo;
    j["hi"] = op.hi;
    break;
  case sema::DataOpKind::FillMissing:
    j["mode"] = op.fill == sema::FillMode::Mean     ? "mean"
                : op.fill == sema::FillMode::Median ? "median"
                                                    : "value";
    j["value"] = op.value;
    break;
  case sema::DataOpKind::Scale:
    j["factor"] = op.value;
    break;
  case sema::DataOpKind::Normalize:
    j["mean"] = op.mean;
    j["std"] = op.std;
    break;
  case sema::DataOpKind::OneHot:
    j["classes"] = op.classes;
    break;
  case sema::DataOpKind::RandomCrop:
    j["size"] = op.size;
    j["padding"] = op.padding;
    break;
  case sema::DataOpKind::Flip:
    j["horizontal"] = op.horizontal;
    j["p"] = op.p;
    break;
  case sema::DataOpKind::Rotate:
    j["degrees"] = op.degrees;
    break;
  case sema::DataOpKind::Noise:
    j["std"] = op.stddev;
    break;
  case sema::DataOpKind::TimeShift:
    j["fraction"] = op.fraction;
    break;
  default:
    break;
  }
  return j;
}

/// The distribution the runtime draws a parameter's initial values from.
static json initJson(const sema::InitDist &d) {
  switch (d.kind) {
  case sema::InitDist::Constant:
    return {{"dist", "constant"}, {"value", d.value}};
  case sema::InitDist::Uniform:
    return {{"dist", "uniform"}, {"lo", d.lo}, {"hi", d.hi}};
  case sema::InitDist::Normal:
    return {{"dist", "normal"}, {"mean", d.mean}, {"std", d.std}};
  }
  return {};
}

static json dataOps(const std::vector<sema::DataOp> &ops) {
  json a = json::array();
  for (const auto &op : ops)
    a.push_back(dataOpJson(op));
  return a;
}

std::string buildRunConfig(const RunConfigInputs &in) {
  const sema::Program &program = *in.program;
  const sema::TrainRun &run = *in.run;
  const sema::Model &model = program.models[run.model];
  json j;
  j["format"] = 1;
  j["compiler"] = in.compilerVersion;
  j["run"] = run.name;
  j["finetune"] = run.finetune;
  j["source_dir"] = in.sourceDir;
  j["batch"] = in.batch;

  json m;
  m["name"] = model.name;
  m["input"] = dims(model.inputType);
  // The entry points' x holds floats or int32 token ids (runtime ABI.h).
  m["input_type"] = sema::toString(model.inputType.elem);
  m["output"] = dims(model.outputType);
  m["trainable_params"] = model.numParams;
  m["flops"] = model.flops;
  json layers = json::array();
  for (const sema::Node &n : model.nodes) {
    json l;
    l["name"] = n.name;
    l["kind"] = sema::toString(n.kind);
    l["shape"] = dims(n.type);
    json params = json::array();
    for (unsigned p : n.params)
      params.push_back(model.params[p].name);
    l["params"] = params;
    l["flops"] = n.flops;
    l["line"] = n.range.begin.line;
    layers.push_back(l);
  }
  m["layers"] = layers;
  j["model"] = m;

  sema::FinetunePlan plan = sema::planFinetune(model, run);
  json params = json::array();
  for (size_t pi = 0; pi < model.params.size(); ++pi) {
    const sema::Parameter &p = model.params[pi];
    json e;
    e["name"] = p.name;
    e["shape"] = dims(p.type);
    e["trainable"] = p.trainable;
    e["init"] = initJson(p.dist);
    // Fine-tuning: the last epoch frozen (0: none, -1: the whole run) and
    // the learning-rate factor.
    int64_t until = plan.frozenUntil[pi];
    e["frozen_until"] = until == sema::FinetunePlan::kAlways ? -1 : until;
    e["lr_scale"] = plan.lrScale[pi];
    params.push_back(e);
  }
  j["params"] = params;
  // LoRA: each adapted weight, its adapters and alpha / rank (`merge`).
  json adapters = json::array();
  for (const sema::Node &n : model.nodes)
    for (const sema::Node::Adapter &ad : n.lora)
      adapters.push_back({{"weight", model.params[ad.weight].name},
                          {"a", model.params[ad.a].name},
                          {"b", model.params[ad.b].name},
                          {"scale", n.loraScale}});
  j["adapters"] = adapters;
  // Magnitude pruning: nnc_prune runs at the end of epochs start..end.
  json prune;
  prune["enabled"] = run.prune.enabled;
  prune["sparsity"] = run.prune.sparsity;
  prune["start"] = run.prune.start;
  prune["end"] = run.prune.end;
  json masks = json::array();
  for (auto [weight, mask] : run.prune.masks)
    masks.push_back({{"weight", model.params[weight].name},
                     {"mask", model.params[mask].name}});
  prune["masks"] = masks;
  j["prune"] = prune;

  json state;
  state["size"] = in.stateSize;
  // nnc_decode's key/value cache (./model generate), 0 without one.
  state["decode_cache"] = in.decodeCache;
  state["grads"] = in.gradsSize;
  json slots = json::array();
  for (const StateSlot &s : in.state)
    slots.push_back({{"name", s.name}, {"offset", s.offset}, {"size", s.size}});
  state["slots"] = slots;
  j["state"] = state;

  json loss;
  loss["kind"] = sema::toString(run.loss.kind);
  loss["delta"] = run.loss.delta;
  loss["label_smoothing"] = run.loss.labelSmoothing;
  j["loss"] = loss;
  j["target"] = run.loss.kind == sema::LossKind::CrossEntropy ? "class"
                                                                : "values";

  json opt;
  opt["kind"] = sema::toString(run.optimizer.kind);
  opt["lr"] = run.optimizer.lr;
  j["optimizer"] = opt;
  json sched;
  sched["kind"] = sema::toString(run.schedule.kind);
  sched["warmup"] = run.schedule.warmup;
  j["schedule"] = sched;

  j["epochs"] = run.epochs;
  j["steps"] = run.steps;
  j["precision"] = run.bf16 ? "bf16" : "f32";
  j["eval_every"] = run.evalEvery;
  j["accumulate"] = run.accumulate;
  j["distributed"] = run.distributed;
  j["sync_batchnorm"] = run.syncBatchnorm;
  json metrics = json::array();
  for (sema::MetricKind k : run.metrics)
    metrics.push_back(sema::toString(k));
  j["metrics"] = metrics;
  j["checkpoint"] = run.checkpoint;
  json es;
  es["enabled"] = run.earlyStopping.enabled;
  es["monitor"] = run.earlyStopping.monitor;
  es["patience"] = run.earlyStopping.patience;
  es["min_delta"] = run.earlyStopping.minDelta;
  es["maximize"] = run.earlyStopping.maximize;
  j["early_stopping"] = es;
  j["clip_grad_norm"] = run.clipGradNorm;
  j["seed"] = run.seed;
  if (run.finetune) {
    json ft;
    ft["from"] = run.from;
    json renames = json::array();
    for (const sema::Rename &r : run.renames)
      renames.push_back({{"from", r.from}, {"to", r.to}, {"prefix", r.prefix}});
    ft["rename"] = renames;
    ft["freeze"] = run.freeze.names;
    ft["freeze_until"] = run.freeze.until;
    ft["unfreeze"] = run.unfreeze;
    json scales = json::object();
    for (const sema::LrScale &ls : run.lrScales)
      scales[ls.name] = ls.factor;
    ft["lr_scale"] = scales;
    j["finetune_plan"] = ft;
  }

  if (run.dataset >= 0) {
    const sema::Dataset &d = program.datasets[run.dataset];
    json data;
    data["name"] = d.name;
    data["train"] = sourceJson(d.train);
    data["validation"] = sourceJson(d.validation);
    data["test"] = sourceJson(d.test);
    data["clean"] = dataOps(d.clean);
    data["preprocess"] = dataOps(d.preprocess);
    data["augment"] = dataOps(d.augment);
    if (d.tokenize.kind != sema::TokenizerKind::None) {
      json t;
      t["kind"] = sema::toString(d.tokenize.kind);
      t["vocab"] = d.tokenize.vocab;
      t["lowercase"] = d.tokenize.lowercase;
      t["length"] = d.tokenize.length;
      data["tokenize"] = t;
    }
    if (d.features.kind != sema::FeatureKind::None) {
      json f;
      f["kind"] = sema::toString(d.features.kind);
      f["coefficients"] = d.features.coefficients;
      f["mels"] = d.features.mels;
      f["window"] = d.features.window;
      f["hop"] = d.features.hop;
      data["features"] = f;
    }
    data["shuffle"] = d.shuffle;
    data["drop_last"] = run.dropLast >= 0 ? run.dropLast == 1 : d.dropLast;
    data["seed"] = d.seed;
    j["data"] = data;
  }
  return j.dump(1);
}

} // namespace nnc
