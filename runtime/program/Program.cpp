//===- Program.cpp - train, eval, predict and info around generated code ---===//
//
// The runtime orchestrates: it reads data, prepares batches on oneTBB threads,
// calls the generated entry points, computes metrics from predictions, writes
// checkpoints and logs. The model's arithmetic is all in nnc_train, nnc_eval
// and nnc_predict.
//
//===----------------------------------------------------------------------===//
#include "runtime/program/Program.h"
#include "runtime/Batch.h"
#include "runtime/Error.h"
#include "runtime/Log.h"
#include "runtime/Metrics.h"
#include "runtime/Rng.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Config.h"
#include "runtime/program/Data.h"
#include "runtime/program/Finetune.h"

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;

namespace nnrt {
namespace {

enum Exit { Ok = 0, BadInput = 1, Usage = 2, Internal = 3 };

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string shapeString(const std::vector<int64_t> &dims) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i)
    os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

//===----------------------------------------------------------------------===//
// The model's state: parameters and optimizer state in one arena
//===----------------------------------------------------------------------===//

/// The layer kind owning a parameter ("dense", "batchnorm", ...).
std::string layerKindOf(const RunConfig &cfg, const std::string &param) {
  for (const LayerInfo &l : cfg.layers)
    for (const std::string &p : l.params)
      if (p == param)
        return l.kind;
  return "";
}

/// PyTorch's default initialization, drawn from a seeded generator:
/// Kaiming-uniform with a = sqrt(5) for weights and uniform(+-1/sqrt(fan_in))
/// for biases are both U(-1/sqrt(fan_in), 1/sqrt(fan_in)); normalization
/// layers start at weight 1, bias 0; running variances at 1.
void initialize(const RunConfig &cfg, std::vector<float> &state,
                uint64_t seed) {
  Rng rng(seed);
  auto normal = [&]() {
    double u1 = rng.uniform(), u2 = rng.uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  };
  for (const ParamInfo &p : cfg.params) {
    if (p.offset < 0)
      continue;
    float *v = state.data() + p.offset;
    std::string kind = layerKindOf(cfg, p.name);
    bool norm = kind == "batchnorm" || kind == "layernorm";
    auto suffix = [&](const char *s) {
      std::string t(s);
      return p.name.size() >= t.size() &&
             p.name.compare(p.name.size() - t.size(), t.size(), t) == 0;
    };
    double fanIn = static_cast<double>(std::max<int64_t>(p.fanIn, 1));
    // fan_out = out * receptive field, as torch.nn.init computes it.
    double fanOut = p.shape.empty() ? 1 : static_cast<double>(p.shape[0]);
    for (size_t d = 2; d < p.shape.size(); ++d)
      fanOut *= static_cast<double>(p.shape[d]);
    if (suffix(".running_var") || (norm && suffix(".weight"))) {
      std::fill(v, v + p.size, 1.0f);
      continue;
    }
    if (!p.trainable || norm || p.init == "zeros") {
      std::fill(v, v + p.size, 0.0f);
      continue;
    }
    if (p.init == "ones") {
      std::fill(v, v + p.size, 1.0f);
      continue;
    }
    if (p.kind == "bias" || p.init == "default" || p.init == "kaiming_uniform" ||
        p.init == "uniform" || p.init == "xavier_uniform") {
      double bound = 1.0 / std::sqrt(fanIn);
      if (p.kind != "bias" && p.init == "xavier_uniform")
        bound = std::sqrt(6.0 / (fanIn + fanOut));
      else if (p.kind != "bias" && p.init == "uniform")
        bound = 0.05;
      for (int64_t i = 0; i < p.size; ++i)
        v[i] = static_cast<float>((2 * rng.uniform() - 1) * bound);
      continue;
    }
    double stddev = p.init == "kaiming_normal"  ? std::sqrt(2.0 / fanIn)
                    : p.init == "xavier_normal" ? std::sqrt(2.0 / (fanIn + fanOut))
                                                : 0.01;
    for (int64_t i = 0; i < p.size; ++i)
      v[i] = static_cast<float>(normal() * stddev);
  }
}

/// What a checkpoint holds besides the tensors.
struct Progress {
  int64_t epoch = 0; ///< epochs completed
  int64_t step = 0;  ///< optimizer steps taken
  double bestValLoss = std::numeric_limits<double>::infinity();
  int64_t bestEpoch = 0;
  int64_t badEpochs = 0; ///< early stopping: epochs without improvement
  /// Early stopping: the best monitored value so far (NaN: none yet).
  double bestMonitored = std::numeric_limits<double>::quiet_NaN();
  std::array<uint8_t, Rng::StateBytes> rng{};
  bool hasRng = false;
  /// The run's seed (dropout masks, shuffling, augmentation) and epochs
  /// (the schedule's length), so that --resume continues with them; -1 and
  /// 0 where a checkpoint does not record them.
  int64_t runSeed = -1;
  int64_t runEpochs = 0;
  /// The training data's class names (image folders), else empty.
  std::vector<std::string> classNames;
};

std::vector<int64_t> slotShape(const RunConfig &cfg, const StateSlot &slot) {
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

/// Loads parameters (and with `full`, optimizer state and progress) into
/// `state`. Shapes are checked; errors name the file and the tensor.
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

/// The class names a checkpoint records (metadata `class_names`, a JSON
/// list), or none.
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

//===----------------------------------------------------------------------===//
// Running batches through generated code
//===----------------------------------------------------------------------===//

/// Fixed-size buffers of the compiled batch size B; a loader batch of N <= B
/// rows is copied in and padded (mask 0).
struct Buffers {
  int64_t rows, in, out, width;
  std::vector<float> x, mask, targets, result;
  std::vector<int32_t> labels;

  Buffers(const RunConfig &cfg)
      : rows(cfg.batch), in(cfg.inputSize()), out(cfg.outputSize()),
        width(cfg.classTargets ? 1 : cfg.outputSize()) {
    x.assign(rows * in, 0.0f);
    mask.assign(rows, 0.0f);
    labels.assign(rows, 0);
    targets.assign(rows * width, 0.0f);
    result.assign(2 + rows * out, 0.0f);
  }

  void load(const Batch &b, bool classTargets) {
    // Rows past the batch's count are padding: zero, mask 0.
    size_t n = std::min<size_t>(b.count, rows);
    std::fill(std::copy(b.x.begin(), b.x.begin() + n * in, x.begin()), x.end(),
              0.0f);
    std::fill(std::copy(b.mask.begin(), b.mask.begin() + n, mask.begin()),
              mask.end(), 0.0f);
    if (classTargets) {
      std::fill(std::copy(b.labels.begin(), b.labels.begin() + n,
                          labels.begin()),
                labels.end(), 0);
    } else if (!b.targets.empty()) {
      std::fill(std::copy(b.targets.begin(), b.targets.begin() + n * width,
                          targets.begin()),
                targets.end(), 0.0f);
    }
  }
  const void *y(bool classTargets) const {
    return classTargets ? static_cast<const void *>(labels.data())
                        : static_cast<const void *>(targets.data());
  }
};

/// Metrics over one pass, from predictions.
struct Scores {
  double lossSum = 0;
  size_t samples = 0;
  std::unique_ptr<ClassificationMetrics> classes;
  std::unique_ptr<RegressionMetrics> values;

  explicit Scores(const RunConfig &cfg) {
    if (cfg.isClassifier())
      classes = std::make_unique<ClassificationMetrics>(cfg.numClasses());
    else
      values = std::make_unique<RegressionMetrics>(cfg.outputSize());
  }
  void add(const RunConfig &cfg, const Buffers &buf, const float *preds,
           double loss, size_t count) {
    lossSum += loss * count;
    samples += count;
    size_t rows = static_cast<size_t>(buf.rows);
    if (classes && cfg.loss == "binary_cross_entropy")
      classes->addBinaryLogits(preds, buf.targets.data(), buf.mask.data(), rows);
    else if (classes)
      classes->addLogits(preds, cfg.outputSize(), buf.labels.data(),
                         buf.mask.data(), rows);
    else
      values->add(preds, buf.targets.data(), buf.mask.data(), rows);
  }
  double loss() const { return samples ? lossSum / samples : 0; }
  std::vector<std::pair<std::string, double>>
  metrics(const std::vector<std::string> &names) const {
    std::vector<std::pair<std::string, double>> out;
    for (const std::string &n : names) {
      double v = 0;
      if (n != "confusion" && metricValue(n, classes.get(), values.get(), v))
        out.emplace_back(n, v);
    }
    return out;
  }
};

LoaderOptions loaderOptions(const RunConfig &cfg, int64_t batch, bool training) {
  LoaderOptions o;
  o.batchSize = static_cast<size_t>(batch);
  const auto &data = cfg.raw.at("data");
  o.shuffle = training && data.value("shuffle", false);
  o.dropLast = training && data.value("drop_last", false);
  return o;
}

/// Loss and metrics of `data` with nnc_eval.
Scores evaluate(const RunConfig &cfg, std::vector<float> &state,
                const Dataset &data, const Preprocessor &pre) {
  Scores scores(cfg);
  BatchLoader loader(data, pre, loaderOptions(cfg, cfg.batch, false));
  loader.beginEpoch();
  Prefetcher prefetch(loader);
  Buffers buf(cfg);
  Batch batch;
  while (prefetch.next(batch)) {
    buf.load(batch, cfg.classTargets);
    nnc_eval(state.data(), buf.x.data(), buf.y(cfg.classTargets),
             buf.mask.data(), buf.result.data());
    scores.add(cfg, buf, buf.result.data() + 1, buf.result[0], batch.count);
  }
  return scores;
}

//===----------------------------------------------------------------------===//
// Commands
//===----------------------------------------------------------------------===//

struct CommonOptions {
  std::vector<std::string> data; ///< SPLIT=PATH
  int threads = 0;
};

DataOptions dataOptions(const CommonOptions &common) {
  DataOptions o;
  for (const std::string &d : common.data) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("--data " + d + ": expected SPLIT=PATH (train, validation or test)");
    std::string split = d.substr(0, eq);
    if (split != "train" && split != "validation" && split != "test")
      throw Error("--data " + d + ": unknown split '" + split +
                  "'; expected train, validation or test");
    o.paths[split] = d.substr(eq + 1);
  }
  return o;
}

std::string checkpointDir(const RunConfig &cfg, const std::string &override) {
  if (!override.empty())
    return override;
  if (!cfg.checkpoint.empty())
    return cfg.checkpoint;
  return (fs::path("checkpoints") / cfg.run).string();
}

struct TrainOptions {
  int64_t epochs = 0, batch = 0, steps = 0;
  double lr = 0;
  int64_t seed = -1;
  std::string checkpointDir, log, weights;
  std::string from; ///< finetune: overrides the declaration's `from`
  bool resume = false;
  std::string resumeFrom;
  bool quiet = false;
};

int train(const RunConfig &cfg, const CommonOptions &common,
          const TrainOptions &opts) {
  int64_t epochs = opts.epochs > 0 ? opts.epochs : cfg.epochs;
  int64_t batch = opts.batch > 0 ? opts.batch : cfg.batch;
  if (batch > cfg.batch)
    throw Error("--batch " + std::to_string(batch) +
                ": this program was compiled for batches of " +
                std::to_string(cfg.batch) +
                "; set 'batch' in the .nn file and recompile");
  uint64_t seed = static_cast<uint64_t>(opts.seed >= 0 ? opts.seed : cfg.seed);
  float lrFactor = opts.lr > 0 ? static_cast<float>(opts.lr / cfg.lr) : 1.0f;

  DataOptions dopts = dataOptions(common);
  dopts.needTest = false;
  RunData data = loadRunData(cfg, dopts);
  for (const std::string &r : data.cleanReports)
    std::printf("clean %s\n", r.c_str());

  std::vector<float> state(cfg.stateSize, 0.0f);
  initialize(cfg, state, seed);
  Progress progress;
  std::string dir = checkpointDir(cfg, opts.checkpointDir);
  if (opts.resume) {
    std::string path = opts.resumeFrom.empty()
                           ? (fs::path(dir) / "last.safetensors").string()
                           : opts.resumeFrom;
    SafeTensorsFile file = SafeTensorsFile::read(path);
    progress = readCheckpoint(cfg, file, state, /*full=*/true);
    data.preprocessor->restore(file, data.train.store().featureShape);
    // A resumed run keeps its seed (dropout masks, augmentation) and its
    // length (the schedule) unless the command line sets them again.
    if (opts.seed < 0 && progress.runSeed >= 0)
      seed = static_cast<uint64_t>(progress.runSeed);
    if (opts.epochs <= 0 && progress.runEpochs > 0)
      epochs = progress.runEpochs;
    std::printf("resuming from %s at epoch %lld, step %lld\n", path.c_str(),
                static_cast<long long>(progress.epoch),
                static_cast<long long>(progress.step));
  } else {
    if (!opts.weights.empty()) {
      SafeTensorsFile file = SafeTensorsFile::read(opts.weights);
      readCheckpoint(cfg, file, state, /*full=*/false);
      std::printf("starting from the parameters in %s\n", opts.weights.c_str());
    } else if (cfg.finetune.enabled) {
      std::string from = resolveFrom(
          cfg, opts.from.empty() ? cfg.finetune.from : opts.from);
      PretrainedReport report = loadPretrained(cfg, from, state);
      printFinetune(cfg, &report, stdout);
    }
    data.preprocessor->fit(data.train);
  }
  const Preprocessor &pre = *data.preprocessor;
  progress.runSeed = static_cast<int64_t>(seed);
  progress.runEpochs = epochs;
  progress.classNames = data.train.store().classNames;

  BatchLoader loader(data.train, pre, loaderOptions(cfg, batch, true), seed);
  Augmenter augmenter(augmentOps(cfg), data.train.store().featureShape, seed);
  loader.setAugmenter(&augmenter);
  if (progress.hasRng)
    loader.rng().restoreState(progress.rng.data(), progress.rng.size());
  int64_t stepsPerEpoch = static_cast<int64_t>(BatchLoader::numBatches(
      data.train.size(), static_cast<size_t>(batch),
      loader.options().dropLast));
  if (stepsPerEpoch == 0)
    throw Error("the training split has no complete batch (" +
                std::to_string(data.train.size()) + " samples, batch " +
                std::to_string(batch) + ", drop_last)");

  fs::create_directories(dir);
  std::unique_ptr<JsonlLogger> log;
  if (!opts.log.empty())
    log = std::make_unique<JsonlLogger>(opts.log);
  // --quiet: the reporter writes to /dev/null-like nothing.
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> devNull(
      opts.quiet ? std::fopen("/dev/null", "w") : nullptr, &std::fclose);
  ProgressReporter reporter(devNull ? devNull.get() : stdout);

  const auto &es = cfg.raw.at("early_stopping");
  bool earlyStopping = es.value("enabled", false);
  std::string monitor = es.value("monitor", std::string("val_loss"));
  bool maximize = es.value("maximize", false);
  double minDelta = es.value("min_delta", 0.0);
  int64_t patience = es.value("patience", int64_t(0));
  double bestMonitored = maximize ? -std::numeric_limits<double>::infinity()
                                  : std::numeric_limits<double>::infinity();
  if (std::isfinite(progress.bestMonitored)) // resumed
    bestMonitored = progress.bestMonitored;

  Buffers buf(cfg);
  Batch b;
  double runStart = now();
  std::string stopped = "completed";
  int exitCode = Ok;
  for (int64_t epoch = progress.epoch + 1; epoch <= epochs; ++epoch) {
    double epochStart = now();
    loader.beginEpoch(static_cast<uint64_t>(epoch));
    Prefetcher prefetch(loader);
    Scores scores(cfg);
    reporter.beginEpoch(epoch, epochs, data.train.size());
    float lr = 0;
    bool diverged = false, stepLimit = false;
    while (prefetch.next(b)) {
      buf.load(b, cfg.classTargets);
      nnc_train(state.data(), buf.x.data(), buf.y(cfg.classTargets),
                buf.mask.data(), progress.step, stepsPerEpoch, epochs,
                static_cast<int64_t>(seed), lrFactor, buf.result.data());
      ++progress.step;
      lr = buf.result[1];
      if (!std::isfinite(buf.result[0])) {
        diverged = true;
        break;
      }
      scores.add(cfg, buf, buf.result.data() + 2, buf.result[0], b.count);
      reporter.update(scores.samples, scores.loss());
      if (opts.steps > 0 && progress.step >= opts.steps) {
        stepLimit = true;
        break;
      }
    }
    if (diverged) {
      reporter.message("");
      // progress.epoch is the last epoch whose checkpoint was written (by
      // this run or the one it resumed); none if it diverged before that.
      std::string kept =
          progress.epoch > 0
              ? "the last good checkpoint (epoch " +
                    std::to_string(progress.epoch) + ") is kept in " +
                    (fs::path(dir) / "last.safetensors").string()
              : std::string("no checkpoint was written");
      std::fprintf(stderr,
                   "error: training diverged at epoch %lld, step %lld: the "
                   "loss is %g; %s\n",
                   static_cast<long long>(epoch),
                   static_cast<long long>(progress.step),
                   static_cast<double>(buf.result[0]), kept.c_str());
      stopped = "diverged";
      exitCode = BadInput;
      break;
    }

    EpochRecord record;
    record.epoch = epoch;
    record.step = progress.step;
    record.lr = lr;
    record.trainLoss = scores.loss();
    record.seconds = now() - epochStart;
    record.samplesPerSecond =
        record.seconds > 0 ? scores.samples / record.seconds : 0;
    // Metrics: on the validation split when there is one, else on train.
    if (data.hasValidation) {
      Scores val = evaluate(cfg, state, data.validation, pre);
      record.valLoss = val.loss();
      record.metrics = val.metrics(cfg.metrics);
    } else {
      record.metrics = scores.metrics(cfg.metrics);
    }
    reporter.endEpoch(record);
    if (log)
      log->logEpoch(record);

    // Early stopping is decided before the checkpoint so that a resumed run
    // continues with the same count of epochs without improvement.
    bool stopEarly = false;
    if (earlyStopping) {
      double value = std::numeric_limits<double>::quiet_NaN();
      if (monitor == "val_loss" && record.valLoss)
        value = *record.valLoss;
      else if (monitor == "train_loss" || monitor == "loss")
        value = record.trainLoss;
      for (const auto &[name, v] : record.metrics)
        if (monitor == name || monitor == "val_" + name)
          value = v;
      bool improved = maximize ? value > bestMonitored + minDelta
                               : value < bestMonitored - minDelta;
      if (improved) {
        bestMonitored = value;
        progress.bestMonitored = value;
        progress.badEpochs = 0;
      } else if (++progress.badEpochs >= std::max<int64_t>(patience, 1)) {
        stopEarly = true;
      }
    }

    progress.epoch = epoch;
    progress.rng = loader.rng().saveState();
    progress.hasRng = true;
    bool best = record.valLoss && *record.valLoss < progress.bestValLoss;
    if (best) {
      progress.bestValLoss = *record.valLoss;
      progress.bestEpoch = epoch;
    }
    writeCheckpoint(cfg, (fs::path(dir) / "last.safetensors").string(), state,
                    progress, pre);
    if (best)
      writeCheckpoint(cfg, (fs::path(dir) / "best.safetensors").string(),
                      state, progress, pre);
    if (stepLimit) {
      stopped = "steps";
      break;
    }
    if (stopEarly) {
      reporter.message("early stopping: " + monitor + " did not improve for " +
                       std::to_string(progress.badEpochs) + " epochs");
      stopped = "early_stopping";
      break;
    }
  }
  if (log) {
    nlohmann::ordered_json done;
    done["epochs"] = progress.epoch;
    done["steps"] = progress.step;
    if (std::isfinite(progress.bestValLoss)) {
      done["best_val_loss"] = progress.bestValLoss;
      done["best_epoch"] = progress.bestEpoch;
    }
    done["stopped"] = stopped;
    done["seconds"] = now() - runStart;
    log->logDone(done);
  }
  if (!opts.quiet && exitCode == Ok)
    std::printf("checkpoints: %s\n", dir.c_str());
  return exitCode;
}

/// The weights to evaluate: --weights, else the run's best, else its last.
std::string defaultWeights(const RunConfig &cfg, const std::string &weights,
                           const std::string &dirOverride) {
  if (!weights.empty())
    return weights;
  fs::path dir = checkpointDir(cfg, dirOverride);
  for (const char *name : {"best.safetensors", "last.safetensors"})
    if (fs::exists(dir / name))
      return (dir / name).string();
  throw Error("no weights to use: pass --weights CKPT (nothing in " +
              dir.string() + ")");
}

int eval(const RunConfig &cfg, const CommonOptions &common,
         const std::string &weightsArg, std::string split, bool jsonOut) {
  std::string weights = defaultWeights(cfg, weightsArg, "");
  DataOptions dopts = dataOptions(common);
  const auto &data = cfg.raw.at("data");
  if (split.empty())
    split = data.at("test").at("kind") != "none" ? "test" : "validation";
  dopts.needTrain = split == "train";
  dopts.needValidation = split == "validation";
  dopts.needTest = split == "test";
  RunData rd = loadRunData(cfg, dopts);
  const Dataset *set = split == "train"        ? &rd.train
                       : split == "validation" ? &rd.validation
                                               : &rd.test;
  bool has = split == "train"        ? rd.hasTrain
             : split == "validation" ? rd.hasValidation
                                     : rd.hasTest;
  if (!has)
    throw Error("dataset '" + data.value("name", std::string()) +
                "' has no " + split + " split");

  std::vector<float> state(cfg.stateSize, 0.0f);
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  readCheckpoint(cfg, file, state, /*full=*/false);
  rd.preprocessor->restore(file, set->store().featureShape);

  double start = now();
  Scores scores = evaluate(cfg, state, *set, *rd.preprocessor);
  double seconds = now() - start;
  auto metrics = scores.metrics(cfg.metrics);
  if (jsonOut) {
    nlohmann::ordered_json j;
    j["split"] = split;
    j["samples"] = scores.samples;
    j["loss"] = scores.loss();
    for (const auto &[name, v] : metrics)
      j[name] = v;
    j["samples_per_s"] = seconds > 0 ? scores.samples / seconds : 0;
    std::printf("%s\n", j.dump().c_str());
    return Ok;
  }
  std::printf("%s on %s (%zu samples, weights %s)\n", cfg.run.c_str(),
              split.c_str(), scores.samples, weights.c_str());
  std::printf("  loss       %.6f\n", scores.loss());
  for (const auto &[name, v] : metrics)
    std::printf("  %-10s %.6f\n", name.c_str(), v);
  for (const std::string &m : cfg.metrics)
    if (m == "confusion" && scores.classes)
      std::printf("confusion matrix (rows: true class, columns: predicted)\n%s",
                  formatConfusion(*scores.classes).c_str());
  std::printf("  %.0f samples/s\n", seconds > 0 ? scores.samples / seconds : 0);
  return Ok;
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or newline.
std::string csvField(const std::string &text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

int predict(const RunConfig &cfg, const std::string &weights,
            const std::string &input, const std::string &output) {
  Dataset inputs = loadPredictInput(cfg, input);
  std::vector<float> state(cfg.stateSize, 0.0f);
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  readCheckpoint(cfg, file, state, /*full=*/false);
  std::unique_ptr<Preprocessor> pre = makePreprocessor(cfg);
  pre->restore(file, inputs.store().featureShape);
  // Images are named by their path, classes by name when the checkpoint
  // records them (image folders); otherwise by index.
  const std::vector<std::string> &paths = inputs.store().paths;
  std::vector<std::string> names = checkpointClassNames(file);
  auto className = [&](int64_t c) {
    return c < static_cast<int64_t>(names.size()) ? names[c]
                                                   : std::to_string(c);
  };

  std::ofstream fileOut;
  if (!output.empty() && output != "-") {
    fileOut.open(output);
    if (!fileOut)
      throw Error(output + ": cannot write: " + systemError(errno));
  }
  std::ostream &os = fileOut.is_open() ? fileOut : std::cout;
  int64_t width = cfg.outputSize();
  bool classifier = cfg.isClassifier();
  os << (paths.empty() ? "index" : "path");
  if (classifier) {
    os << ",class";
    if (cfg.loss == "binary_cross_entropy")
      os << ",probability";
    else
      for (int64_t c = 0; c < width; ++c)
        os << "," << csvField("prob_" + className(c));
  } else {
    for (int64_t c = 0; c < width; ++c)
      os << ",y" << (width > 1 ? std::to_string(c) : "");
  }
  os << "\n";

  BatchLoader loader(inputs, *pre, loaderOptions(cfg, cfg.batch, false));
  loader.beginEpoch();
  Buffers buf(cfg);
  Batch b;
  size_t index = 0;
  std::vector<float> out(static_cast<size_t>(cfg.batch * width));
  for (size_t i = 0; i < loader.numBatches(); ++i) {
    loader.fillBatch(i, b);
    buf.load(b, false);
    nnc_predict(state.data(), buf.x.data(), out.data());
    for (size_t r = 0; r < b.count; ++r, ++index) {
      const float *row = out.data() + r * width;
      if (paths.empty())
        os << index;
      else
        os << csvField(paths[index]);
      if (classifier && cfg.loss == "binary_cross_entropy") {
        os << "," << csvField(className(row[0] > 0.5f ? 1 : 0)) << ","
           << row[0];
      } else if (classifier) {
        int64_t best = 0;
        for (int64_t c = 1; c < width; ++c)
          if (row[c] > row[best])
            best = c;
        os << "," << csvField(className(best));
        for (int64_t c = 0; c < width; ++c)
          os << "," << row[c];
      } else {
        for (int64_t c = 0; c < width; ++c)
          os << "," << row[c];
      }
      os << "\n";
    }
  }
  os.flush();
  if (!os)
    throw Error((output.empty() ? std::string("stdout") : output) +
                ": write failed");
  if (fileOut.is_open())
    std::fprintf(stderr, "wrote %zu predictions to %s\n", index, output.c_str());
  return Ok;
}

int info(const RunConfig &cfg, const std::string &weights) {
  std::printf("model %s: input f32%s -> output f32%s, compiled for batches "
              "of %lld (run '%s')\n",
              cfg.modelName.c_str(), shapeString(cfg.inputShape).c_str(),
              shapeString(cfg.outputShape).c_str(),
              static_cast<long long>(cfg.batch), cfg.run.c_str());
  std::printf("\n%-36s %-15s %-18s %12s %14s\n", "layer", "kind", "output",
              "parameters", "FLOPs/sample");
  for (const LayerInfo &l : cfg.layers) {
    int64_t count = 0;
    for (const std::string &pn : l.params)
      for (const ParamInfo &p : cfg.params)
        if (p.name == pn)
          count += p.size;
    std::printf("%-36s %-15s %-18s %12lld %14lld\n", l.name.c_str(),
                l.kind.c_str(), shapeString(l.shape).c_str(),
                static_cast<long long>(count), static_cast<long long>(l.flops));
  }
  std::vector<float> state;
  if (!weights.empty()) {
    state.assign(cfg.stateSize, 0.0f);
    SafeTensorsFile file = SafeTensorsFile::read(weights);
    readCheckpoint(cfg, file, state, /*full=*/false);
    std::vector<std::string> names = checkpointClassNames(file);
    if (!names.empty()) {
      std::printf("\nclasses (from the training folders):");
      for (size_t c = 0; c < names.size(); ++c)
        std::printf(" %zu=%s", c, names[c].c_str());
      std::printf("\n");
    }
  }
  std::printf("\n%-44s %-18s %10s\n", "parameter", "shape", "count");
  for (const ParamInfo &p : cfg.params) {
    std::printf("%-44s %-18s %10lld", p.name.c_str(),
                shapeString(p.shape).c_str(), static_cast<long long>(p.size));
    if (!state.empty() && p.offset >= 0 && p.size <= 8) {
      std::printf("  =");
      for (int64_t i = 0; i < p.size; ++i)
        std::printf(" %.6g", static_cast<double>(state[p.offset + i]));
    }
    std::printf("%s", p.trainable ? "" : "  (buffer)");
    // Fine-tuning: when the parameter trains, and at which learning rate.
    if (p.trainable && p.frozenUntil < 0)
      std::printf("  (frozen)");
    else if (p.trainable && p.frozenUntil > 0)
      std::printf("  (frozen for epochs 1-%lld)",
                  static_cast<long long>(p.frozenUntil));
    if (p.trainable && p.lrScale != 1.0)
      std::printf("  (lr x %g)", p.lrScale);
    std::printf("\n");
  }
  std::printf("\ntrainable parameters: %lld\nFLOPs per sample (forward): %lld\n",
              static_cast<long long>(cfg.trainableParams),
              static_cast<long long>(cfg.flops));
  return Ok;
}

} // namespace

int runProgram(int argc, char **argv) {
  RunConfig cfg;
  try {
    cfg = parseRunConfig(nnc_config);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return Internal;
  }
  std::string prog = fs::path(argv[0]).filename().string();
  CLI::App app{"'" + cfg.run + "': trains, evaluates and runs model '" +
                   cfg.modelName + "' (compiled by nnc)",
               prog};
  app.require_subcommand(1);
  CommonOptions common;
  auto addCommon = [&](CLI::App *cmd) {
    cmd->add_option("--data", common.data,
                    "replace a split's data: SPLIT=PATH (idx: IMAGES,LABELS; "
                    "images: DIR)");
    cmd->add_option("--threads", common.threads,
                    "oneTBB threads for the model's parallel kernels and the "
                    "data pipeline (default: all cores)")
        ->check(CLI::PositiveNumber);
  };

  TrainOptions topts;
  CLI::App *trainCmd = app.add_subcommand("train", "train the model");
  trainCmd->add_option("--epochs", topts.epochs, "epochs")->check(CLI::PositiveNumber);
  trainCmd->add_option("--batch", topts.batch,
                       "batch size (at most the compiled one)")
      ->check(CLI::PositiveNumber);
  trainCmd->add_option("--lr", topts.lr, "peak learning rate (scales the schedule)")
      ->check(CLI::PositiveNumber);
  trainCmd
      ->add_option("--seed", topts.seed,
                   "random seed: initialization, shuffling, augmentation and "
                   "dropout (default: the file's seed)")
      ->check(CLI::NonNegativeNumber);
  trainCmd->add_option("--steps", topts.steps, "stop after N optimizer steps")
      ->check(CLI::PositiveNumber);
  trainCmd->add_option("--checkpoint-dir", topts.checkpointDir, "checkpoint folder");
  trainCmd->add_option("--weights", topts.weights,
                       "start from these parameters (fresh optimizer state)");
  trainCmd->add_option("--from", topts.from,
                       "finetune: the pretrained safetensors file (default: "
                       "the declaration's `from`)");
  auto *resume = trainCmd->add_option("--resume", topts.resumeFrom,
                                      "continue a run exactly (default: last.safetensors)")
                     ->expected(0, 1);
  trainCmd->add_option("--log", topts.log, "write one JSON object per epoch");
  trainCmd->add_flag("--quiet", topts.quiet, "no progress output");
  addCommon(trainCmd);

  std::string weights, split, input, output;
  bool jsonOut = false;
  CLI::App *evalCmd = app.add_subcommand("eval", "evaluate on a split");
  evalCmd->add_option("--weights", weights, "checkpoint (default: best, else last)");
  evalCmd->add_option("--split", split, "test, validation or train")
      ->check(CLI::IsMember({"test", "validation", "train"}));
  evalCmd->add_flag("--json", jsonOut, "one JSON object");
  addCommon(evalCmd);

  CLI::App *predictCmd =
      app.add_subcommand("predict", "predict from images, a CSV or an IDX file");
  predictCmd->add_option("--weights", weights, "checkpoint")->required();
  predictCmd
      ->add_option("--input", input,
                   "an image (.png/.jpg/.jpeg), a folder of images, a .txt/.lst "
                   "list of image paths, a CSV (feature columns) or IDX images")
      ->required();
  predictCmd->add_option("--output", output, "CSV to write (default: stdout)");
  addCommon(predictCmd);

  CLI::App *infoCmd = app.add_subcommand("info", "layers, shapes, parameters, FLOPs");
  infoCmd->add_option("--weights", weights, "also print small parameters' values");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::fprintf(stderr, "error: %s\nrun '%s --help' for usage\n", e.what(),
                 prog.c_str());
    return Usage;
  }
  topts.resume = resume->count() > 0;
  if (topts.resume && !topts.weights.empty()) {
    std::fprintf(stderr, "error: --resume and --weights cannot be combined\n");
    return Usage;
  }

  std::unique_ptr<tbb::global_control> threads;
  if (common.threads > 0)
    threads = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, common.threads);
  try {
    if (trainCmd->parsed())
      return train(cfg, common, topts);
    if (evalCmd->parsed())
      return eval(cfg, common, weights, split, jsonOut);
    if (predictCmd->parsed())
      return predict(cfg, weights, input, output);
    return info(cfg, weights);
  } catch (const Error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return BadInput;
  } catch (const fs::filesystem_error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return BadInput;
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "internal error: out of memory\n");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
  }
  return Internal;
}

} // namespace nnrt
