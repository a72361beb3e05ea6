//===- Checkpoint.cpp - Checkpoints: writing, reading, progress metadata --===//
#include "runtime/program/Checkpoint.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace nnrt {

static std::vector<int64_t> slotShape(const RunConfig &cfg,
                                      const StateSlot &slot) {
  for (const ParamInfo &p : cfg.params)
    if (p.name == slot.name ||
        slot.name.rfind("optimizer." + p.name + ".", 0) == 0)
      return p.shape;
  return {slot.size};
}

void writeCheckpoint(const RunConfig &cfg, const std::string &path,
                     const std::vector<float> &state, const Progress &progress,
                     const Preprocessor &pre) {
  std::vector<TensorData> owned;
  std::vector<TensorView> views;
  for (const StateSlot &slot : cfg.slots) {
    if (isCounter(slot.name)) {
      std::vector<int64_t> counts;
      for (int64_t i = 0; i < slot.size; ++i)
        counts.push_back(
            static_cast<int64_t>(std::llround(state[slot.offset + i])));
      owned.push_back(
          TensorData::i64(slot.name, slotShape(cfg, slot), std::move(counts)));
      continue;
    }
    TensorView v;
    v.name = slot.name;
    v.dtype = DType::F32;
    v.shape = slotShape(cfg, slot);
    v.data = state.data() + slot.offset;
    v.byteSize = static_cast<size_t>(slot.size) * sizeof(float);
    views.push_back(v);
  }
  owned.push_back(TensorData::i64("nnrt.step", {1}, {progress.step}));
  owned.push_back(TensorData::i64("nnrt.epoch", {1}, {progress.epoch}));
  if (progress.hasRng)
    owned.push_back(TensorData::u8(
        "nnrt.rng", {static_cast<int64_t>(progress.rng.size())},
        std::vector<uint8_t>(progress.rng.begin(), progress.rng.end())));
  for (TensorData &t : pre.state())
    owned.push_back(std::move(t));
  for (const TensorData &t : owned)
    views.push_back(t.view());
  std::map<std::string, std::string> meta{
      {"format", "nnc-checkpoint-1"},
      {"run", cfg.run},
      {"model", cfg.modelName},
      {"epoch", std::to_string(progress.epoch)},
      {"step", std::to_string(progress.step)},
      {"best_epoch", std::to_string(progress.bestEpoch)},
      {"bad_epochs", std::to_string(progress.badEpochs)},
      {"preprocess", pre.describe()}};
  if (progress.runSeed >= 0)
    meta["run_seed"] = std::to_string(progress.runSeed);
  if (progress.runEpochs > 0)
    meta["run_epochs"] = std::to_string(progress.runEpochs);
  if (!progress.classNames.empty())
    meta["class_names"] = nlohmann::json(progress.classNames).dump();
  if (std::isfinite(progress.bestValLoss)) {
    std::ostringstream os;
    os.precision(17);
    os << progress.bestValLoss;
    meta["best_val_loss"] = os.str();
  }
  if (std::isfinite(progress.bestMonitored)) {
    std::ostringstream os;
    os.precision(17);
    os << progress.bestMonitored;
    meta["best_monitored"] = os.str();
  }
  writeSafeTensors(path, views, meta);
}

Progress readCheckpoint(const RunConfig &cfg, const SafeTensorsFile &file,
                        std::vector<float> &state, bool full) {
  Progress progress;
  for (const StateSlot &slot : cfg.slots) {
    bool optimizer = slot.name.rfind("optimizer.", 0) == 0;
    if (optimizer && !full)
      continue;
    std::vector<int64_t> shape = slotShape(cfg, slot);
    if (isCounter(slot.name)) {
      std::vector<int64_t> counts = file.int64s(slot.name);
      if (static_cast<int64_t>(counts.size()) != slot.size)
        throw Error(file.fileName() + ": tensor '" + slot.name + "' has " +
                    std::to_string(counts.size()) + " elements, expected " +
                    std::to_string(slot.size));
      for (int64_t i = 0; i < slot.size; ++i)
        state[slot.offset + i] = static_cast<float>(counts[i]);
      continue;
    }
    std::vector<float> values = file.floats(slot.name, &shape);
    std::copy(values.begin(), values.end(), state.begin() + slot.offset);
  }
  if (full) {
    progress.step = file.int64s("nnrt.step").at(0);
    progress.epoch = file.int64s("nnrt.epoch").at(0);
    if (file.contains("nnrt.rng")) {
      std::vector<uint8_t> bytes = file.uint8s("nnrt.rng");
      if (bytes.size() != progress.rng.size())
        throw Error(file.fileName() + ": tensor 'nnrt.rng' has " +
                    std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(progress.rng.size()));
      std::copy(bytes.begin(), bytes.end(), progress.rng.begin());
      progress.hasRng = true;
    }
    auto meta = file.metadata();
    if (auto it = meta.find("best_val_loss"); it != meta.end())
      progress.bestValLoss = std::stod(it->second);
    if (auto it = meta.find("best_epoch"); it != meta.end())
      progress.bestEpoch = std::stoll(it->second);
    if (auto it = meta.find("bad_epochs"); it != meta.end())
      progress.badEpochs = std::stoll(it->second);
    if (auto it = meta.find("best_monitored"); it != meta.end())
      progress.bestMonitored = std::stod(it->second);
    if (auto it = meta.find("run_seed"); it != meta.end())
      progress.runSeed = std::stoll(it->second);
    if (auto it = meta.find("run_epochs"); it != meta.end())
      progress.runEpochs = std::stoll(it->second);
  }
  return progress;
}

std::vector<std::string> checkpointClassNames(const SafeTensorsFile &file) {
  const auto &meta = file.metadata();
  auto it = meta.find("class_names");
  if (it == meta.end())
    return {};
  nlohmann::json names = nlohmann::json::parse(it->second, nullptr, false);
  if (!names.is_array() ||
      !std::all_of(names.begin(), names.end(),
                   [](const nlohmann::json &n) { return n.is_string(); }))
    throw Error(file.fileName() +
                ": metadata 'class_names' is not a JSON list of strings");
  return names.get<std::vector<std::string>>();
}

std::string checkpointDir(const RunConfig &cfg, const std::string &override) {
  if (!override.empty())
    return override;
  if (!cfg.checkpoint.empty())
    return cfg.checkpoint;
  return (fs::path("checkpoints") / cfg.run).string();
}

} // namespace nnrt
