//===- Checkpoint.cpp - Checkpoints: writing, reading, progress metadata --===//
#include "runtime/program/Checkpoint.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

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
                     const Preprocessor &pre, const Tokenizer *tokenizer) {
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
  if (tokenizer)
    for (TensorData &t : tokenizer->state())
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
  if (tokenizer)
    meta["tokenize"] = tokenizer->describe();
  if (progress.runSeed >= 0)
    meta["run_seed"] = std::to_string(progress.runSeed);
  if (progress.runEpochs > 0)
    meta["run_epochs"] = std::to_string(progress.runEpochs);
  if (progress.dataEpoch > 0) {
    meta["data_epoch"] = std::to_string(progress.dataEpoch);
    meta["data_batch"] = std::to_string(progress.dataBatch);
    if (progress.dataRows > 0)
      meta["data_batch_rows"] = std::to_string(progress.dataRows);
  }
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

namespace {

/// More optimizer steps than any run takes; bounds a checkpoint's counters
/// so that nonsense (2^62, negative) is an error rather than a run that
/// never ends or a schedule evaluated far outside its range.
constexpr int64_t kMaxSteps = int64_t(1) << 40;

/// Reads the progress fields of a checkpoint's metadata, each checked:
/// "ckpt.safetensors: metadata 'best_epoch' is not a whole number: 'x'".
class MetadataReader {
public:
  explicit MetadataReader(const SafeTensorsFile &file) : file(file) {}

  bool has(const std::string &key) const {
    return file.metadata().count(key) > 0;
  }

  int64_t whole(const std::string &key, int64_t lo, int64_t hi) const {
    const std::string &text = file.metadata().at(key);
    errno = 0;
    char *end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
        *end != '\0' || errno == ERANGE)
      fail(key, "is not a whole number: '" + text + "'");
    if (value < lo || value > hi)
      fail(key, "is out of range: " + text + " (expected " +
                    std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return value;
  }

  double finite(const std::string &key) const {
    const std::string &text = file.metadata().at(key);
    char *end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
        *end != '\0' || !std::isfinite(value))
      fail(key, "is not a finite number: '" + text + "'");
    return value;
  }

  /// A one-element I64 progress tensor in [lo, hi].
  int64_t counter(const std::string &name, int64_t lo, int64_t hi) const {
    std::vector<int64_t> values = file.int64s(name);
    if (values.size() != 1)
      throw Error(file.fileName() + ": tensor '" + name + "' has " +
                  std::to_string(values.size()) + " elements, expected 1");
    if (values[0] < lo || values[0] > hi)
      throw Error(file.fileName() + ": tensor '" + name +
                  "' is out of range: " + std::to_string(values[0]) +
                  " (expected " + std::to_string(lo) + " to " +
                  std::to_string(hi) + ")");
    return values[0];
  }

  [[noreturn]] void fail(const std::string &key,
                         const std::string &what) const {
    throw Error(file.fileName() + ": metadata '" + key + "' " + what);
  }

private:
  const SafeTensorsFile &file;
};

/// The progress of a checkpoint for --resume. Every epoch takes at least one
/// step, so epoch <= step; best_epoch and bad_epochs count epochs done.
void readProgress(const SafeTensorsFile &file, Progress &progress) {
  MetadataReader meta(file);
  progress.step = meta.counter("nnrt.step", 0, kMaxSteps);
  progress.epoch = meta.counter("nnrt.epoch", 0, progress.step);
  // The metadata copies of the tensors (for people reading the header).
  for (auto [key, value] :
       {std::pair<const char *, int64_t>{"epoch", progress.epoch},
        {"step", progress.step}})
    if (meta.has(key) && meta.whole(key, 0, kMaxSteps) != value)
      meta.fail(key, "is " + file.metadata().at(key) + " but tensor 'nnrt." +
                         key + "' is " + std::to_string(value));
  if (file.contains("nnrt.rng")) {
    std::vector<uint8_t> bytes = file.uint8s("nnrt.rng");
    if (bytes.size() != progress.rng.size())
      throw Error(file.fileName() + ": tensor 'nnrt.rng' has " +
                  std::to_string(bytes.size()) + " bytes, expected " +
                  std::to_string(progress.rng.size()));
    std::copy(bytes.begin(), bytes.end(), progress.rng.begin());
    progress.hasRng = true;
  }
  if (meta.has("best_val_loss"))
    progress.bestValLoss = meta.finite("best_val_loss");
  if (meta.has("best_epoch"))
    progress.bestEpoch = meta.whole("best_epoch", 0, progress.epoch);
  if (meta.has("bad_epochs"))
    progress.badEpochs = meta.whole("bad_epochs", 0, progress.epoch);
  if (meta.has("best_monitored"))
    progress.bestMonitored = meta.finite("best_monitored");
  if (meta.has("run_seed"))
    progress.runSeed =
        meta.whole("run_seed", 0, std::numeric_limits<int64_t>::max());
  if (meta.has("run_epochs"))
    progress.runEpochs = meta.whole("run_epochs", 1, kMaxSteps);
  if (meta.has("data_epoch")) {
    progress.dataEpoch = meta.whole("data_epoch", 1, kMaxSteps);
    progress.dataBatch = meta.whole("data_batch", 0, kMaxSteps);
    if (meta.has("data_batch_rows"))
      progress.dataRows = meta.whole("data_batch_rows", 1, kMaxSteps);
  }
}

} // namespace

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
    // A pruning mask missing from parameters loaded without the run's
    // progress (train --weights of a dense model, eval, predict): nothing
    // is pruned yet, all ones.
    if (!full && !file.contains(slot.name) && cfg.prune.isMask(slot.name)) {
      std::fill_n(state.begin() + slot.offset, slot.size, 1.0f);
      continue;
    }
    std::vector<float> values = file.floats(slot.name, &shape);
    std::copy(values.begin(), values.end(), state.begin() + slot.offset);
  }
  if (full)
    readProgress(file, progress);
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

void prepareCheckpointDir(const std::string &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(dir + ": cannot create the checkpoint folder: " + ec.message());
  std::string probe = (fs::path(dir) / ".nnrt-write-test.XXXXXX").string();
  int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw Error(dir +
                ": checkpoint folder is not writable: " + systemError(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

size_t removeStaleTemps(const std::string &dir) {
  size_t removed = 0;
  std::error_code ec;
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    // writeSafeTensors' temporary: the final name, ".tmp.", mkstemp's XXXXXX.
    std::string prefix = name.substr(0, name.size() - 6);
    if (name.size() < 6 ||
        (prefix != "last.safetensors.tmp." &&
         prefix != "best.safetensors.tmp.") ||
        !entry.is_regular_file(ec))
      continue;
    std::string suffix = name.substr(prefix.size());
    if (!std::all_of(suffix.begin(), suffix.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c));
        }))
      continue;
    if (fs::remove(entry.path(), ec))
      ++removed;
  }
  return removed;
}

} // namespace nnrt
