//===- Dataset.cpp - samples, targets, and train/validation splits --------===//
#include "runtime/Dataset.h"

#include "runtime/Error.h"
#include "runtime/Rng.h"
#include "runtime/VectorLoops.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace nnrt {

void DatasetStorage::copySamplesOf(const DatasetStorage &from) {
  source = from.source;
  targetKind = from.targetKind;
  numClasses = from.numClasses;
  targetWidth = from.targetWidth;
  labelWidth = from.labelWidth;
  labels = from.labels;
  targets = from.targets;
  targetNames = from.targetNames;
  classNames = from.classNames;
  paths = from.paths;
  lines = from.lines;
  numSamples = from.numSamples;
}

Dataset::Dataset(std::shared_ptr<const DatasetStorage> storage)
    : storage(std::move(storage)) {
  indices.resize(this->storage->numSamples);
  std::iota(indices.begin(), indices.end(), 0u);
}

Dataset::Dataset(std::shared_ptr<const DatasetStorage> storage,
                 std::vector<uint32_t> indices)
    : storage(std::move(storage)), indices(std::move(indices)) {}

void Dataset::copyFeatures(size_t i, float *out) const {
  size_t n = storage->featureSize;
  size_t offset = static_cast<size_t>(indices[i]) * n;
  switch (storage->featureType) {
  case FeatureType::U8: {
    widenBytes(storage->u8.data() + offset, n, out);
    return;
  }
  case FeatureType::F32:
    std::copy_n(storage->f32.data() + offset, n, out);
    return;
  case FeatureType::I32:
  case FeatureType::Text:
    break;
  }
  throw Error("internal: " + baseName(storage->source) +
              ": token ids and text have no float features");
}

void Dataset::prefetchFeatures(size_t i) const {
  size_t n = storage->featureSize;
  size_t offset = static_cast<size_t>(indices[i]) * n;
  const char *begin = nullptr;
  size_t bytes = 0;
  switch (storage->featureType) {
  case FeatureType::U8:
    begin = reinterpret_cast<const char *>(storage->u8.data() + offset);
    bytes = n;
    break;
  case FeatureType::F32:
    begin = reinterpret_cast<const char *>(storage->f32.data() + offset);
    bytes = n * sizeof(float);
    break;
  case FeatureType::I32:
  case FeatureType::Text:
    return;
  }
  for (size_t b = 0; b < bytes; b += 64)
    __builtin_prefetch(begin + b);
  switch (storage->targetKind) {
  case TargetKind::None:
    break;
  case TargetKind::ClassIndex:
    __builtin_prefetch(labels(i));
    break;
  case TargetKind::Values:
    __builtin_prefetch(target(i));
    break;
  }
}

void Dataset::copyTokens(size_t i, int32_t *out) const {
  if (storage->featureType != FeatureType::I32)
    throw Error("internal: " + baseName(storage->source) +
                ": samples are not token ids");
  size_t n = storage->featureSize;
  std::copy_n(storage->i32.data() + static_cast<size_t>(indices[i]) * n, n,
              out);
}

std::string Dataset::origin(size_t i) const {
  size_t sample = indices[i];
  if (sample < storage->paths.size())
    return storage->paths[sample];
  if (sample < storage->lines.size())
    return baseName(storage->source) + ":" +
           std::to_string(storage->lines[sample]);
  return baseName(storage->source) + ": sample " + std::to_string(sample);
}

Dataset Dataset::subset(const std::vector<uint32_t> &positions) const {
  std::vector<uint32_t> picked;
  picked.reserve(positions.size());
  for (uint32_t position : positions) {
    if (position >= indices.size())
      throw Error("subset position " + std::to_string(position) +
                  " is out of range for " + std::to_string(indices.size()) +
                  " samples");
    picked.push_back(indices[position]);
  }
  return Dataset(storage, std::move(picked));
}

std::pair<Dataset, Dataset> Dataset::split(double fraction,
                                           uint64_t seed) const {
  std::string where = storage ? baseName(storage->source) : "dataset";
  if (!(fraction > 0.0 && fraction < 1.0))
    throw Error(where + ": split fraction must be between 0 and 1, got " +
                std::to_string(fraction));
  size_t n = size();
  if (n < 2)
    throw Error(where + ": cannot split " + std::to_string(n) +
                " sample(s) into train and validation");
  std::vector<uint32_t> permutation(n);
  std::iota(permutation.begin(), permutation.end(), 0u);
  Rng rng(seed);
  rng.shuffle(permutation);
  size_t nVal = static_cast<size_t>(std::llround(fraction * double(n)));
  nVal = std::clamp<size_t>(nVal, 1, n - 1);
  std::vector<uint32_t> train(permutation.begin(), permutation.end() - nVal);
  std::vector<uint32_t> val(permutation.end() - nVal, permutation.end());
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {subset(train), subset(val)};
}

void Dataset::checkClasses(int32_t modelClasses) const {
  if (storage->targetKind != TargetKind::ClassIndex)
    return;
  std::string where = baseName(storage->source);
  for (size_t i = 0; i < size(); ++i)
    for (size_t k = 0; k < storage->labelWidth; ++k) {
      int32_t value = labels(i)[k];
      if (value < 0 || value >= modelClasses)
        throw Error(where + ": sample " + std::to_string(indices[i]) +
                    ": label " + std::to_string(value) +
                    " is out of range for a model with " +
                    std::to_string(modelClasses) + " classes");
    }
}

} // namespace nnrt
