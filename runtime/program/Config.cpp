//===- Config.cpp - Parsing the embedded run configuration -----------------===//
#include "runtime/program/Config.h"
#include "runtime/Error.h"

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
  return static_cast<int32_t>(outputSize());
}

bool isCounter(const std::string &name) {
  static const std::string suffix = ".num_batches_tracked";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

RunConfig parseRunConfig(const char *text) {
  RunConfig c;
  try {
    c.raw = nlohmann::json::parse(text);
    const auto &j = c.raw;
    if (j.at("format").get<int>() != 1)
      throw Error("nnc_config: unsupported format version");
    c.run = j.at("run").get<std::string>();
    c.sourceDir = j.at("source_dir").get<std::string>();
    c.batch = j.at("batch").get<int64_t>();
    const auto &m = j.at("model");
    c.modelName = m.at("name").get<std::string>();
    c.inputShape = m.at("input").get<std::vector<int64_t>>();
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
    for (const auto &s : j.at("state").at("slots"))
      c.slots.push_back({s.at("name").get<std::string>(),
                         s.at("offset").get<int64_t>(),
                         s.at("size").get<int64_t>()});
    for (const auto &p : j.at("params")) {
      ParamInfo info;
      info.name = p.at("name").get<std::string>();
      info.shape = p.at("shape").get<std::vector<int64_t>>();
      info.trainable = p.at("trainable").get<bool>();
      info.init = p.at("init").get<std::string>();
      info.kind = p.at("kind").get<std::string>();
      info.fanIn = p.at("fan_in").get<int64_t>();
      info.frozenUntil = p.value("frozen_until", int64_t(0));
      info.lrScale = p.value("lr_scale", 1.0);
      info.size = product(info.shape);
      info.offset = -1;
      for (const StateSlot &s : c.slots)
        if (s.name == info.name)
          info.offset = s.offset;
      c.params.push_back(info);
    }
    c.loss = j.at("loss").at("kind").get<std::string>();
    c.classTargets = j.at("target").get<std::string>() == "class";
    c.lr = j.at("optimizer").at("lr").get<double>();
    c.epochs = j.at("epochs").get<int64_t>();
    c.metrics = j.at("metrics").get<std::vector<std::string>>();
    c.checkpoint = j.at("checkpoint").get<std::string>();
    c.seed = j.at("seed").get<int64_t>();
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
