//===- Config.h - The run configuration nnc embeds in a program -*- C++ -*-===//
//
// Parsed from the JSON string `nnc_config` that nnc writes
// (frontend/RunConfig.cpp): model layers and parameters, the state arena,
// data sources and steps, training settings. Nothing here is math.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_CONFIG_H
#define NNRT_PROGRAM_CONFIG_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nnrt {

/// The distribution a parameter starts from, resolved by the compiler
/// (torch.nn.init's formulas for the layer and its `init`); the runtime only
/// draws from it.
struct InitDist {
  enum class Kind { Constant, Uniform, Normal };
  Kind kind = Kind::Constant;
  double value = 0;         ///< Constant
  double lo = 0, hi = 0;    ///< Uniform: U(lo, hi)
  double mean = 0, std = 0; ///< Normal: N(mean, std^2)
};

struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  bool trainable = true;
  InitDist init;
  int64_t offset = 0; ///< in the state arena
  int64_t size = 0;
  /// Fine-tuning: the last epoch the parameter is frozen (0: never frozen,
  /// -1: frozen for the whole run; a buffer has its layer's) and its
  /// learning-rate factor.
  int64_t frozenUntil = 0;
  double lrScale = 1;
};

/// A `rename` entry of a finetune declaration: checkpoint key -> model name.
struct Rename {
  std::string from, to;
  bool prefix = false; ///< maps every key starting with `from`
};

/// What a finetune declaration starts from.
struct FinetuneConfig {
  bool enabled = false;
  std::string from; ///< safetensors file, as written in the .nn file
  std::vector<Rename> renames;
  std::vector<std::string> freeze; ///< groups / labels as written
  int64_t freezeUntil = 0;         ///< 0: the whole run
  std::map<std::string, double> lrScale; ///< group / label -> factor
};

/// A LoRA-adapted weight: W + scale B A is the merged weight.
struct AdapterInfo {
  std::string weight, a, b;
  double scale = 1;
};

/// `prune = magnitude(...)`: nnc_prune runs at the end of epochs
/// start..end; each pruned weight has a mask buffer.
struct PruneConfig {
  bool enabled = false;
  double sparsity = 0;
  int64_t start = 0, end = 0;
  std::vector<std::pair<std::string, std::string>> masks; ///< weight, mask

  /// Whether `name` is one of the masks.
  bool isMask(const std::string &name) const {
    for (const auto &m : masks)
      if (m.second == name)
        return true;
    return false;
  }
};

struct StateSlot {
  std::string name;
  int64_t offset = 0, size = 0;
};

struct LayerInfo {
  std::string name, kind;
  std::vector<int64_t> shape;
  std::vector<std::string> params;
  int64_t flops = 0;
};

/// One data source (`data.train`, ...): the fields of its kind are set.
struct SourceConfig {
  std::string kind = "none"; ///< none, csv, idx, images, text, audio, corpus, split
  // csv; text: a folder of class folders or a .csv file
  std::string path;
  std::string textColumn; ///< text from a .csv: the column of the samples
  std::vector<std::string> features, targets;
  bool header = true;
  char delimiter = ',';
  // idx
  std::string images, labels;
  // images: the folder and the [C, H, W] to convert to (empty: the model's)
  std::string dir;
  std::vector<int64_t> size;
  // audio: `path` is a folder of class folders; clips of `seconds` at `rate`
  int32_t rate = 0;
  double seconds = 0;
  // corpus: `path` is a text file or a folder; windows of `block` tokens
  int64_t block = 0;
  // split(train, fraction) with its own seed
  double fraction = 0;
  uint64_t seed = 0;

  bool present() const { return kind != "none"; }
  bool isSplit() const { return kind == "split"; }
};

/// One clean, preprocess or augment step; the fields of its op are set.
struct DataStep {
  std::string op;
  float lo = 0, hi = 0;          ///< clip
  std::string mode = "mean";     ///< fill_missing: mean, median or value
  float value = 0;               ///< fill_missing with a value
  float factor = 1;              ///< scale
  std::vector<float> mean, std;  ///< normalize
  int64_t size = 0, padding = 0; ///< random_crop
  bool horizontal = true;        ///< flip
  double p = 0.5;                ///< flip
  double degrees = 0;            ///< rotate
  double stddev = 0;             ///< noise
  double fraction = 0;           ///< time_shift
};

/// `tokenize { }`: text samples become `length` token ids.
struct TokenizeConfig {
  bool present = false;
  std::string kind;      ///< bytes or words
  int64_t vocab = 0;     ///< ids are below it
  bool lowercase = true; ///< words
  int64_t length = 0;    ///< pad(T)
};

/// `features { mfcc(...) | log_mel(...) }` of an audio dataset.
struct FeaturesConfig {
  bool present = false;
  std::string kind; ///< mfcc or log_mel
  int64_t coefficients = 0, mels = 0;
  double window = 0, hop = 0; ///< seconds
};

/// The run's dataset (absent when the program was compiled without one).
struct DataConfig {
  bool present = false;
  std::string name;
  SourceConfig train, validation, test;
  std::vector<DataStep> clean, preprocess, augment;
  TokenizeConfig tokenize;
  FeaturesConfig features;
  bool shuffle = false, dropLast = false;
  /// Shuffling and augmentation; -1: the run's seed.
  int64_t seed = -1;
};

/// `early_stopping` of the train declaration.
struct EarlyStoppingConfig {
  bool enabled = false;
  std::string monitor = "val_loss";
  bool maximize = false;
  double minDelta = 0;
  int64_t patience = 0;
};

struct RunConfig {
  std::string run, modelName, sourceDir;
  int64_t batch = 0;
  std::vector<int64_t> inputShape, outputShape;
  /// The model input's element type: "f32", or "i32" for token ids (the
  /// entry points then take int32 x; see ABI.h).
  std::string inputType = "f32";
  std::vector<LayerInfo> layers;
  std::vector<ParamInfo> params;
  std::vector<AdapterInfo> adapters; ///< LoRA runs, else empty
  PruneConfig prune;
  std::vector<StateSlot> slots;
  int64_t stateSize = 0;
  /// Floats of nnc_decode's key/value cache; 0: the program has no
  /// nnc_decode (generation then runs the whole window per token).
  int64_t decodeCache = 0;
  /// Floats of nnc_grad's and nnc_update's accumulators; 0: the program
  /// was compiled without `accumulate` (no nnc_grad / nnc_update).
  int64_t gradsSize = 0;
  /// `accumulate = k`: batches whose gradients make one optimizer step.
  int64_t accumulate = 1;
  /// `sync_batchnorm = true`: nnc_grad all-reduces batchnorm's statistics,
  /// so every rank calls it for every batch (an empty share too).
  bool syncBatchnorm = false;
  std::string loss;      ///< cross_entropy, binary_cross_entropy, mse, ...
  bool classTargets = false;
  double lr = 0;
  /// The optimizer's and the schedule's kinds (adam, cosine, ...) and the
  /// precision (f32, bf16), as the report shows them.
  std::string optimizer, schedule, precision = "f32";
  int64_t epochs = 1;
  /// A run in optimizer steps (`steps`, evaluated every `evalEvery`);
  /// 0: a run in epochs.
  int64_t steps = 0, evalEvery = 0;
  std::vector<std::string> metrics;
  std::string checkpoint;
  int64_t seed = 0;
  int64_t flops = 0;
  int64_t trainableParams = 0;
  FinetuneConfig finetune;
  DataConfig data;
  EarlyStoppingConfig earlyStopping;

  bool tokenInput() const { return inputType == "i32"; }
  int64_t inputSize() const;
  int64_t outputSize() const;
  /// Classes of a classifier (outputs of cross_entropy per label; 2 for
  /// binary).
  int32_t numClasses() const;
  /// Class labels per sample: T for cross_entropy on [T, V] logits (a
  /// language model), else 1.
  int64_t labelsPerSample() const;
  bool isCorpus() const { return data.present && data.train.kind == "corpus"; }
  bool isClassifier() const {
    return loss == "cross_entropy" || loss == "binary_cross_entropy";
  }
};

/// Buffers PyTorch keeps as int64 (batchnorm's num_batches_tracked): f32 in
/// the state arena, I64 in checkpoints.
bool isCounter(const std::string &name);

/// Parses the embedded configuration; throws nnrt::Error on a malformed one.
RunConfig parseRunConfig(const char *json);

} // namespace nnrt

#endif // NNRT_PROGRAM_CONFIG_H
