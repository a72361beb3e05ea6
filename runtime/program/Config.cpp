//===- Config.cpp - Parsing the embedded run configuration -----------------===//
#include "runtime/program/Config.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace nnrt {

static int64_t product(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

int64_t RunConfig::inputSize() const { return product(inputShape); }
int64_t RunConfig::outputSize() const { return product(outputShape); }
int32_t RunConfig::numClasses() const {
  if (loss == "binary_cross_entropy")
    return 2;
  return static_cast<int32_t>(outputSize() / labelsPerSample());
}
int64_t RunConfig::labelsPerSample() const {
  return loss == "cross_entropy" && outputShape.size() == 2 ? outputShape[0]
                                                            : 1;
}

bool isCounter(const std::string &name) {
  static const std::string suffix = ".num_batches_tracked";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using json = nlohmann::json;

static InitDist parseInit(const std::string &param, const json &j) {
  InitDist d;
  std::string dist = j.at("dist").get<std::string>();
  if (dist == "constant") {
    d.value = j.at("value").get<double>();
  } else if (dist == "uniform") {
    d.kind = InitDist::Kind::Uniform;
    d.lo = j.at("lo").get<double>();
    d.hi = j.at("hi").get<double>();
    if (!(d.lo <= d.hi) || !std::isfinite(d.hi - d.lo))
      throw Error("nnc_config: parameter '" + param +
                  "': bad uniform initialization bounds");
  } else if (dist == "normal") {
    d.kind = InitDist::Kind::Normal;
    d.mean = j.at("mean").get<double>();
    d.std = j.at("std").get<double>();
    if (!(d.std >= 0) || !std::isfinite(d.std) || !std::isfinite(d.mean))
      throw Error("nnc_config: parameter '" + param +
                  "': bad normal initialization");
  } else {
    throw Error("nnc_config: parameter '" + param +
                "': unknown initialization '" + dist + "'");
  }
  return d;
}

static SourceConfig parseSource(const json &j) {
  SourceConfig s;
  s.kind = j.at("kind").get<std::string>();
  s.path = j.value("path", std::string());
  s.textColumn = j.value("text", std::string());
  s.features = j.value("features", std::vector<std::string>{});
  s.targets = j.value("targets", std::vector<std::string>{});
  s.header = j.value("header", true);
  std::string d = j.value("delimiter", std::string(","));
  s.delimiter = d.empty() ? ',' : d[0];
  s.images = j.value("images", std::string());
  s.labels = j.value("labels", std::string());
  s.dir = j.value("dir", std::string());
  s.size = j.value("size", std::vector<int64_t>{});
  s.rate = j.value("rate", int32_t(0));
  s.seconds = j.value("seconds", 0.0);
  s.block = j.value("block", int64_t(0));
  if (s.kind == "corpus" && s.block <= 0)
    throw Error("corpus source without a block size");
  if (s.kind == "audio" && (s.rate <= 0 || !(s.seconds > 0)))
    throw Error("nnc_config: bad audio source settings");
  s.fraction = j.value("fraction", 0.0);
  s.seed = j.value("seed", uint64_t(0));
  return s;
}

static std::vector<DataStep> parseSteps(const json &data, const char *key) {
  std::vector<DataStep> steps;
  for (const json &j : data.value(key, json::array())) {
    DataStep s;
    s.op = j.at("op").get<std::string>();
    s.lo = j.value("lo", 0.0f);
    s.hi = j.value("hi", 0.0f);
    s.mode = j.value("mode", std::string("mean"));
    s.value = j.value("value", 0.0f);
    s.factor = j.value("factor", 1.0f);
    s.size = j.value("size", int64_t(0));
    s.padding = j.value("padding", int64_t(0));
    s.horizontal = j.value("horizontal", true);
    s.p = j.value("p", 0.5);
    s.degrees = j.value("degrees", 0.0);
    // noise(std) is a scalar where normalize's std is a list.
    if (s.op == "normalize") {
      s.mean = j.at("mean").get<std::vector<float>>();
      s.std = j.at("std").get<std::vector<float>>();
    } else if (s.op == "noise") {
      s.stddev = j.at("std").get<double>();
    } else if (s.op == "time_shift") {
      s.fraction = j.at("fraction").get<double>();
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

static DataConfig parseData(const json &j) {
  DataConfig d;
  d.present = true;
  d.name = j.value("name", std::string());
  d.train = parseSource(j.at("train"));
  d.validation = parseSource(j.at("validation"));
  d.test = parseSource(j.at("test"));
  d.clean = parseSteps(j, "clean");
  d.preprocess = parseSteps(j, "preprocess");
  d.augment = parseSteps(j, "augment");
  if (auto t = j.find("tokenize"); t != j.end()) {
    TokenizeConfig &tk = d.tokenize;
    tk.present = true;
    tk.kind = t->at("kind").get<std::string>();
    tk.vocab = t->at("vocab").get<int64_t>();
    tk.lowercase = t->value("lowercase", true);
    tk.length = t->at("length").get<int64_t>();
    if ((tk.kind != "bytes" && tk.kind != "words" && tk.kind != "bpe") ||
        tk.vocab < 3 || tk.vocab > INT32_MAX || tk.length < 1)
      throw Error("nnc_config: bad tokenize settings");
  }
  if (auto f = j.find("features"); f != j.end()) {
    FeaturesConfig &fc = d.features;
    fc.present = true;
    fc.kind = f->at("kind").get<std::string>();
    fc.coefficients = f->value("coefficients", int64_t(0));
    fc.mels = f->at("mels").get<int64_t>();
    fc.window = f->at("window").get<double>();
    fc.hop = f->at("hop").get<double>();
    if ((fc.kind != "mfcc" && fc.kind != "log_mel") || fc.mels < 1 ||
        !(fc.window > 0) || !(fc.hop > 0))
      throw Error("nnc_config: bad features settings");
  }
  d.shuffle = j.value("shuffle", false);
  d.dropLast = j.value("drop_last", false);
  d.seed = j.value("seed", int64_t(-1));
  return d;
}

RunConfig parseRunConfig(const char *text) {
  RunConfig c;
  try {
    const json j = json::parse(text);
    if (j.at("format").get<int>() != 1)
      throw Error("nnc_config: unsupported format version");
    c.run = j.at("run").get<std::string>();
    c.sourceDir = j.at("source_dir").get<std::string>();
    c.batch = j.at("batch").get<int64_t>();
    const auto &m = j.at("model");
    c.modelName = m.at("name").get<std::string>();
    c.inputShape = m.at("input").get<std::vector<int64_t>>();
    c.inputType = m.value("input_type", std::string("f32"));
    if (c.inputType != "f32" && c.inputType != "i32")
      throw Error("nnc_config: unsupported model input type '" + c.inputType +
                  "'");
    c.outputShape = m.at("output").get<std::vector<int64_t>>();
    c.flops = m.at("flops").get<int64_t>();
    c.trainableParams = m.at("trainable_params").get<int64_t>();
    for (const auto &l : m.at("layers"))
      c.layers.push_back({l.at("name").get<std::string>(),
                          l.at("kind").get<std::string>(),
                          l.at("shape").get<std::vector<int64_t>>(),
                          l.at("params").get<std::vector<std::string>>(),
                          l.at("flops").get<int64_t>()});
    c.stateSize = j.at("state").at("size").get<int64_t>();
    c.decodeCache = j.at("state").value("decode_cache", int64_t(0));
    c.gradsSize = j.at("state").value("grads", int64_t(0));
    c.accumulate = j.value("accumulate", int64_t(1));
    c.syncBatchnorm = j.value("sync_batchnorm", false);
    for (const auto &s : j.at("state").at("slots"))
      c.slots.push_back({s.at("name").get<std::string>(),
                         s.at("offset").get<int64_t>(),
                         s.at("size").get<int64_t>()});
    for (const auto &p : j.at("params")) {
      ParamInfo info;
      info.name = p.at("name").get<std::string>();
      info.shape = p.at("shape").get<std::vector<int64_t>>();
      info.trainable = p.at("trainable").get<bool>();
      info.init = parseInit(info.name, p.at("init"));
      info.frozenUntil = p.value("frozen_until", int64_t(0));
      info.lrScale = p.value("lr_scale", 1.0);
      info.size = product(info.shape);
      info.offset = -1;
      for (const StateSlot &s : c.slots)
        if (s.name == info.name)
          info.offset = s.offset;
      c.params.push_back(info);
    }
    if (j.contains("adapters"))
      for (const auto &a : j.at("adapters"))
        c.adapters.push_back({a.at("weight").get<std::string>(),
                              a.at("a").get<std::string>(),
                              a.at("b").get<std::string>(),
                              a.at("scale").get<double>()});
    if (j.contains("prune")) {
      const auto &p = j.at("prune");
      c.prune.enabled = p.at("enabled").get<bool>();
      c.prune.sparsity = p.at("sparsity").get<double>();
      c.prune.start = p.at("start").get<int64_t>();
      c.prune.end = p.at("end").get<int64_t>();
      for (const auto &m : p.at("masks"))
        c.prune.masks.emplace_back(m.at("weight").get<std::string>(),
                                   m.at("mask").get<std::string>());
    }
    c.loss = j.at("loss").at("kind").get<std::string>();
    c.classTargets = j.at("target").get<std::string>() == "class";
    c.lr = j.at("optimizer").at("lr").get<double>();
    c.optimizer = j.at("optimizer").value("kind", std::string());
    if (auto schedule = j.find("schedule"); schedule != j.end())
      c.schedule = schedule->value("kind", std::string());
    c.precision = j.value("precision", std::string("f32"));
    c.epochs = j.at("epochs").get<int64_t>();
    c.steps = j.value("steps", int64_t(0));
    c.evalEvery = j.value("eval_every", int64_t(0));
    c.metrics = j.at("metrics").get<std::vector<std::string>>();
    c.checkpoint = j.at("checkpoint").get<std::string>();
    c.seed = j.at("seed").get<int64_t>();
    if (auto data = j.find("data"); data != j.end())
      c.data = parseData(*data);
    const json &es = j.at("early_stopping");
    c.earlyStopping.enabled = es.value("enabled", false);
    c.earlyStopping.monitor = es.value("monitor", std::string("val_loss"));
    c.earlyStopping.maximize = es.value("maximize", false);
    c.earlyStopping.minDelta = es.value("min_delta", 0.0);
    c.earlyStopping.patience = es.value("patience", int64_t(0));
    if (auto ft = j.find("finetune_plan"); ft != j.end()) {
      c.finetune.enabled = true;
      c.finetune.from = ft->at("from").get<std::string>();
      for (const auto &r : ft->at("rename"))
        c.finetune.renames.push_back({r.at("from").get<std::string>(),
                                      r.at("to").get<std::string>(),
                                      r.at("prefix").get<bool>()});
      c.finetune.freeze = ft->at("freeze").get<std::vector<std::string>>();
      c.finetune.freezeUntil = ft->at("freeze_until").get<int64_t>();
      c.finetune.lrScale =
          ft->at("lr_scale").get<std::map<std::string, double>>();
    }
  } catch (const nlohmann::json::exception &e) {
    throw Error(std::string("nnc_config: malformed run configuration: ") +
                e.what());
  }
  return c;
}

} // namespace nnrt
