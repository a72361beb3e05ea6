//===- Commands.cpp - eval, predict and info ------------------------------===//
#include "runtime/program/Commands.h"
#include "runtime/Batch.h"
#include "runtime/Cuda.h"
#include "runtime/Error.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Checkpoint.h"
#include "runtime/program/Evaluate.h"

#include <fmt/printf.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace nnrt {

DataOptions dataOptions(const CommonOptions &common) {
  DataOptions o;
  for (const std::string &d : common.data) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--data " + d +
                       ": expected SPLIT=PATH (train, validation or test)");
    std::string split = d.substr(0, eq);
    if (split != "train" && split != "validation" && split != "test")
      throw UsageError("--data " + d + ": unknown split '" + split +
                       "'; expected train, validation or test");
    o.paths[split] = d.substr(eq + 1);
  }
  return o;
}

/// The weights to evaluate: --weights, else the run's best, else its last.
static std::string defaultWeights(const RunConfig &cfg,
                                  const std::string &weights,
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
  DataOptions dopts = dataOptions(common); // usage errors first
  std::string weights = defaultWeights(cfg, weightsArg, "");
  if (split.empty())
    split = cfg.data.test.present() ? "test" : "validation";
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
    throw Error("dataset '" + cfg.data.name + "' has no " + split + " split");

  std::vector<float> state(cfg.stateSize, 0.0f);
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  readCheckpoint(cfg, file, state, /*full=*/false);
  tokenizeRunData(cfg, rd, &file);
  rd.preprocessor->restore(file, set->store().featureShape);
  rd.preprocessor->reshape(cfg.inputShape);

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
    if (const auto *matrix = scores.confusion(cfg.metrics))
      j["confusion"] = *matrix;
    j["samples_per_s"] = seconds > 0 ? scores.samples / seconds : 0;
    std::printf("%s\n", j.dump().c_str());
    return Ok;
  }
  std::printf("%s on %s (%zu samples, weights %s)\n", cfg.run.c_str(),
              split.c_str(), scores.samples, weights.c_str());
  std::printf("  loss       %.6f\n", scores.loss());
  for (const auto &[name, v] : metrics)
    std::printf("  %-10s %.6f\n", name.c_str(), v);
  if (scores.confusion(cfg.metrics))
    std::printf("confusion matrix (rows: true class, columns: predicted)\n%s",
                formatConfusion(*scores.classes).c_str());
  std::printf("  %.0f samples/s\n", seconds > 0 ? scores.samples / seconds : 0);
  return Ok;
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or newline.
static std::string csvField(const std::string &text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

namespace {

/// The CSV that predict writes: a file, or stdout for "" and "-".
class PredictionsOut {
public:
  explicit PredictionsOut(const std::string &path) : path(path) {
    if (!path.empty() && path != "-") {
      file.open(path);
      if (!file)
        throw Error(path + ": cannot write: " + systemError(errno));
    }
  }
  std::ostream &stream() { return file.is_open() ? file : std::cout; }

  /// A full disk shows up at a flush or at close: checks both, and removes
  /// the partial file so that no truncated CSV passes for predictions.
  void finish(size_t rows) {
    bool toFile = file.is_open();
    std::ostream &os = stream();
    os.flush();
    int writeErrno = errno;
    bool ok = static_cast<bool>(os);
    if (toFile) {
      file.close();
      if (ok && file.fail()) {
        ok = false;
        writeErrno = errno;
      }
    }
    if (!ok) {
      std::error_code ec;
      if (toFile && fs::is_regular_file(path, ec))
        fs::remove(path, ec);
      throw Error((toFile ? path : std::string("stdout")) +
                  ": cannot write the predictions: " +
                  systemError(writeErrno ? writeErrno : EIO));
    }
    if (toFile)
      std::fprintf(stderr, "wrote %zu predictions to %s\n", rows,
                   path.c_str());
  }

private:
  std::string path;
  std::ofstream file;
};

/// predict on a language model: per input text, the next token after its
/// last T tokens and every token's probability (generate's greedy choice).
int predictNextTokens(const RunConfig &cfg, const std::string &weights,
                      const std::string &input, const std::string &output) {
  Dataset inputs = loadPredictInput(cfg, input);
  LanguageModel lm(cfg, weights);
  const DatasetStorage &texts = inputs.store();
  PredictionsOut out(output);
  std::ostream &os = out.stream();
  os << (texts.paths.empty() ? "index" : "path") << ",next_id,next";
  for (size_t c = 0; c < lm.vocabSize(); ++c)
    os << ",prob_" << c;
  os << "\n";
  size_t batch = size_t(cfg.batch);
  std::vector<size_t> rows;
  for (size_t first = 0; first < texts.numSamples; first += batch) {
    std::vector<std::vector<int32_t>> ids;
    for (size_t i = first; i < std::min(first + batch, texts.numSamples); ++i)
      ids.push_back(lm.tokens().encode(texts.texts[i]));
    const float *p = lm.next(ids, rows);
    for (size_t r = 0; r < ids.size(); ++r) {
      const float *row = p + rows[r];
      int32_t best = mostProbableToken(row, lm.vocabSize());
      size_t i = first + r;
      os << (texts.paths.empty() ? std::to_string(i) : csvField(texts.paths[i]))
         << "," << best << "," << csvField(lm.tokens().decode({best}));
      for (size_t c = 0; c < lm.vocabSize(); ++c)
        os << "," << row[c];
      os << "\n";
    }
  }
  out.finish(texts.numSamples);
  return Ok;
}

} // namespace

int predict(const RunConfig &cfg, const std::string &weights,
            const std::string &input, const std::string &output) {
  if (isLanguageModel(cfg))
    return predictNextTokens(cfg, weights, input, output);
  Dataset inputs = loadPredictInput(cfg, input);
  std::vector<float> state(cfg.stateSize, 0.0f);
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  readCheckpoint(cfg, file, state, /*full=*/false);
  tokenizeInputs(cfg, inputs, file);
  std::unique_ptr<Preprocessor> pre = makePreprocessor(cfg);
  pre->restore(file, inputs.store().featureShape);
  pre->reshape(cfg.inputShape);
  // Images are named by their path, classes by name when the checkpoint
  // records them (image folders); otherwise by index.
  const std::vector<std::string> &paths = inputs.store().paths;
  std::vector<std::string> names = checkpointClassNames(file);
  auto className = [&](int64_t c) {
    return c < static_cast<int64_t>(names.size()) ? names[c]
                                                  : std::to_string(c);
  };

  PredictionsOut csv(output);
  std::ostream &os = csv.stream();
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
  std::unique_ptr<Augmenter> crop = evalCropFor(cfg, inputs);
  loader.setEvalCrop(crop.get());
  loader.beginEpoch();
  Buffers buf(cfg);
  Batch b;
  size_t index = 0;
  std::vector<float> out(static_cast<size_t>(cfg.batch * width));
  DeviceResident resident(state);
  for (size_t i = 0; i < loader.numBatches(); ++i) {
    loader.fillBatch(i, b);
    buf.load(b, false, /*borrowInput=*/true);
    nnc_predict(state.data(), buf.input(), out.data());
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
  csv.finish(index);
  return Ok;
}

/// A --target cuda program's target and the device it would run on (or why
/// there is none: `info` works without a GPU).
static std::string cudaDeviceLine() {
  std::string device;
  try {
    std::unique_ptr<nnrt::CudaDriver> cuda = nnrt::CudaDriver::open();
    device = fmt::sprintf(
        "%s (%.0f GiB, compute capability %d.%d)", cuda->deviceName().c_str(),
        double(cuda->totalMemory()) / double(1ull << 30),
        cuda->computeCapability() / 10, cuda->computeCapability() % 10);
  } catch (const nnrt::Error &e) {
    device = fmt::sprintf("none (%s)", e.what());
  }
  return fmt::sprintf("target: cuda, kernels in PTX for %s; device: %s\n",
                      nnc_cuda_arch, device.c_str());
}

std::string infoText(const RunConfig &cfg, const std::string &weights) {
  std::string out;
  out += fmt::sprintf(
      "model %s: input %s%s -> output f32%s, compiled for batches "
      "of %lld (run '%s')\n",
      cfg.modelName.c_str(), cfg.inputType.c_str(),
      shapeString(cfg.inputShape).c_str(), shapeString(cfg.outputShape).c_str(),
      static_cast<long long>(cfg.batch), cfg.run.c_str());
  if (nnc_cuda_arch)
    out += cudaDeviceLine();
  out += fmt::sprintf("\n%-36s %-15s %-18s %12s %14s\n", "layer", "kind",
                      "output", "parameters", "FLOPs/sample");
  for (const LayerInfo &l : cfg.layers) {
    int64_t count = 0;
    for (const std::string &pn : l.params)
      for (const ParamInfo &p : cfg.params)
        if (p.name == pn)
          count += p.size;
    out += fmt::sprintf("%-36s %-15s %-18s %12lld %14lld\n", l.name.c_str(),
                        l.kind.c_str(), shapeString(l.shape).c_str(),
                        static_cast<long long>(count),
                        static_cast<long long>(l.flops));
  }
  std::vector<float> state;
  if (!weights.empty()) {
    state.assign(cfg.stateSize, 0.0f);
    SafeTensorsFile file = SafeTensorsFile::read(weights);
    readCheckpoint(cfg, file, state, /*full=*/false);
    std::vector<std::string> names = checkpointClassNames(file);
    if (!names.empty()) {
      out += "\nclasses (from the training data):";
      for (size_t c = 0; c < names.size(); ++c)
        out += fmt::sprintf(" %zu=%s", c, names[c].c_str());
      out += "\n";
    }
    if (std::unique_ptr<Tokenizer> tokenizer = makeTokenizer(cfg)) {
      tokenizer->restore(file);
      out += fmt::sprintf("tokenize: %s", tokenizer->describe().c_str());
      const std::vector<std::string> &words = tokenizer->words();
      if (tokenizer->options().kind == TokenizerOptions::Kind::Words) {
        out += fmt::sprintf("; %zu words (ids 2..%zu), most frequent:",
                            words.size(), words.size() + 1);
        for (size_t k = 0; k < words.size() && k < 10; ++k)
          out += fmt::sprintf(" %s", words[k].c_str());
      } else if (tokenizer->options().kind == TokenizerOptions::Kind::Bpe) {
        int64_t vocab = tokenizer->options().vocab;
        out += fmt::sprintf(
            "; SentencePiece BPE, %lld pieces (ids 2..%lld), first:",
            static_cast<long long>(vocab - 2),
            static_cast<long long>(vocab - 1));
        for (int32_t id = 2; id < vocab && id < 12; ++id)
          out += fmt::sprintf(" %s", tokenizer->piece(id).c_str());
      }
      out += "\n";
    }
  } else if (std::unique_ptr<Tokenizer> tokenizer = makeTokenizer(cfg)) {
    out += fmt::sprintf("\ntokenize: %s\n", tokenizer->describe().c_str());
  }
  if (std::unique_ptr<AudioFeatures> features = makeAudioFeatures(cfg))
    out += fmt::sprintf(
        "%sfeatures: %s of audio clips of %g s at %d Hz -> %s\n",
        weights.empty() ? "\n" : "", features->options().describe().c_str(),
        cfg.data.train.seconds, cfg.data.train.rate,
        shapeString(features->shape()).c_str());
  out += fmt::sprintf("\n%-44s %-18s %10s\n", "parameter", "shape", "count");
  for (const ParamInfo &p : cfg.params) {
    out += fmt::sprintf("%-44s %-18s %10lld", p.name.c_str(),
                        shapeString(p.shape).c_str(),
                        static_cast<long long>(p.size));
    if (!state.empty() && p.offset >= 0 && p.size <= 8) {
      out += "  =";
      for (int64_t i = 0; i < p.size; ++i)
        out += fmt::sprintf(" %.6g", static_cast<double>(state[p.offset + i]));
    }
    out += fmt::sprintf("%s", p.trainable ? "" : "  (buffer)");
    // Fine-tuning: when the parameter trains, and at which learning rate.
    if (p.trainable && p.frozenUntil < 0)
      out += "  (frozen)";
    else if (p.trainable && p.frozenUntil > 0)
      out += fmt::sprintf("  (frozen for epochs 1-%lld)",
                          static_cast<long long>(p.frozenUntil));
    if (p.trainable && p.lrScale != 1.0)
      out += fmt::sprintf("  (lr x %g)", p.lrScale);
    out += "\n";
  }
  // Fine-tuning may freeze parameters for the whole run (LoRA: all but the
  // adapters): they have no gradient and no optimizer state.
  int64_t trained = 0, optimizerState = 0;
  for (const ParamInfo &p : cfg.params)
    if (p.trainable && p.frozenUntil >= 0)
      trained += p.size;
  for (const StateSlot &s : cfg.slots)
    if (s.name.rfind("optimizer.", 0) == 0)
      optimizerState += s.size;
  out += fmt::sprintf("\ntrainable parameters: %lld",
                      static_cast<long long>(trained));
  if (trained != cfg.trainableParams)
    out += fmt::sprintf(" of %lld (%.2f%%; the rest frozen)",
                        static_cast<long long>(cfg.trainableParams),
                        100.0 * double(trained) / double(cfg.trainableParams));
  out += fmt::sprintf("\noptimizer state: %lld values (%.1f KiB)\n",
                      static_cast<long long>(optimizerState),
                      double(optimizerState) * 4 / 1024);
  if (!cfg.adapters.empty())
    out += fmt::sprintf(
        "LoRA adapters on %zu weights (./model merge folds them in)\n",
        cfg.adapters.size());
  if (cfg.prune.enabled) {
    out += fmt::sprintf(
        "magnitude pruning to %g%% sparsity over epochs "
        "%lld-%lld (%zu weights)%s\n",
        100.0 * cfg.prune.sparsity, static_cast<long long>(cfg.prune.start),
        static_cast<long long>(cfg.prune.end), cfg.prune.masks.size(),
        state.empty() ? "" : ", sparsity per weight now:");
    // The masks' zeros: the pruned share of each weight in the checkpoint.
    for (const auto &[weight, mask] : cfg.prune.masks)
      for (const ParamInfo &p : cfg.params)
        if (!state.empty() && p.name == mask && p.offset >= 0) {
          int64_t zeros = std::count(state.begin() + p.offset,
                                     state.begin() + p.offset + p.size, 0.0f);
          out += fmt::sprintf(
              "  %-42s %6.2f%% (%lld of %lld pruned)\n", weight.c_str(),
              100.0 * double(zeros) / double(p.size),
              static_cast<long long>(zeros), static_cast<long long>(p.size));
        }
  }
  out += fmt::sprintf("FLOPs per sample (forward): %lld\n",
                      static_cast<long long>(cfg.flops));
  return out;
}

int info(const RunConfig &cfg, const std::string &weights) {
  std::fputs(infoText(cfg, weights).c_str(), stdout);
  return Ok;
}

int merge(const RunConfig &cfg, const std::string &weights,
          const std::string &output) {
  if (cfg.adapters.empty())
    throw UsageError("merge: run '" + cfg.run +
                     "' has no adapters (adapters = lora(...))");
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  std::vector<float> state(cfg.stateSize, 0.0f);
  readCheckpoint(cfg, file, state, /*full=*/false);
  if (!nnc_merge)
    throw Error("internal: run '" + cfg.run +
                "' has adapters but no nnc_merge");
  // The generated fold W + (alpha / r) B A, in place in the state.
  nnc_merge(state.data());
  auto param = [&](const std::string &name) -> const ParamInfo * {
    for (const ParamInfo &p : cfg.params)
      if (p.name == name)
        return &p;
    throw Error("internal: no parameter '" + name + "'");
  };
  std::map<std::string, const ParamInfo *> merged;
  std::set<std::string> dropped;
  for (const AdapterInfo &ad : cfg.adapters) {
    merged[ad.weight] = param(ad.weight);
    dropped.insert(ad.a);
    dropped.insert(ad.b);
  }
  // Everything else of the checkpoint but optimizer state and progress:
  // the base model's parameters, buffers, vocabulary and statistics.
  std::vector<TensorView> views;
  for (const std::string &name : file.names()) {
    if (dropped.count(name) || name.rfind("optimizer.", 0) == 0 ||
        name.rfind("nnrt.", 0) == 0)
      continue;
    const SafeTensorsFile::Entry &e = file.entry(name);
    TensorView v{name, e.dtype, e.shape, file.data(e), e.end - e.begin};
    if (auto it = merged.find(name); it != merged.end()) {
      v.data = state.data() + it->second->offset;
      v.byteSize = size_t(it->second->size) * sizeof(float);
    }
    views.push_back(v);
  }
  std::map<std::string, std::string> meta = file.metadata();
  meta["merged_adapters"] = std::to_string(cfg.adapters.size());
  for (const char *progressKey :
       {"epoch", "step", "best_epoch", "bad_epochs", "best_val_loss",
        "best_monitored", "run_seed", "run_epochs", "data_epoch", "data_batch"})
    meta.erase(progressKey);
  writeSafeTensors(output, views, meta);
  std::printf("merged %zu LoRA adapters into %s\n", cfg.adapters.size(),
              output.c_str());
  return Ok;
}

} // namespace nnrt
