//===- Config.h - The run configuration nnc embeds in a program -*- C++ -*-===//
//
// Parsed from the JSON string `nnc_config` that nnc writes
// (frontend/RunConfig.cpp): model layers and parameters, the state arena,
// data sources and steps, training settings. Nothing here is math.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_CONFIG_H
#define NNRT_PROGRAM_CONFIG_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nnrt {

struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  bool trainable = true;
  std::string init;  ///< "default", "zeros", "xavier_uniform", ...
  std::string kind;  ///< "weight" or "bias"
  int64_t fanIn = 0;
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

struct RunConfig {
  nlohmann::json raw;
  std::string run, modelName, sourceDir;
  int64_t batch = 0;
  std::vector<int64_t> inputShape, outputShape;
  std::vector<LayerInfo> layers;
  std::vector<ParamInfo> params;
  std::vector<StateSlot> slots;
  int64_t stateSize = 0;
  std::string loss;      ///< cross_entropy, binary_cross_entropy, mse, ...
  bool classTargets = false;
  double lr = 0;
  int64_t epochs = 1;
  std::vector<std::string> metrics;
  std::string checkpoint;
  int64_t seed = 0;
  int64_t flops = 0;
  int64_t trainableParams = 0;
  FinetuneConfig finetune;

  int64_t inputSize() const;
  int64_t outputSize() const;
  /// Classes of a classifier (outputs of cross_entropy; 2 for binary).
  int32_t numClasses() const;
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
