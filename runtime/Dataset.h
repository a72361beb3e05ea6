//===- Dataset.h - samples, targets, and train/validation splits -*- C++
//-*-===//
//
// A Dataset is a view (a list of sample indices) on shared, immutable,
// compact storage: IDX and PNG/JPEG images stay uint8 and are converted to float only when
// a batch is built; CSV features are float; token ids (an i32 model input:
// tokenized text, or a CSV of integer ids) are int32 and reach the compiled
// code unchanged. Splitting or subsetting copies indices, never samples.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_DATASET_H
#define NNRT_DATASET_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nnrt {

/// How a storage holds its features. Text holds raw UTF-8 samples that a
/// Tokenizer (Tokenizer.h) turns into an I32 storage before batching.
enum class FeatureType { U8, F32, I32, Text };

enum class TargetKind {
  None,       ///< no targets (predict inputs)
  ClassIndex, ///< one int32 class label per sample, in [0, numClasses)
  Values,     ///< a float vector of width targetWidth per sample
};

/// The immutable sample store shared by a dataset and its splits.
struct DatasetStorage {
  std::string source;                ///< file name(s) for messages
  std::vector<int64_t> featureShape; ///< per sample, e.g. {1, 28, 28}
  size_t featureSize = 0;            ///< product of featureShape
  FeatureType featureType = FeatureType::F32;
  std::vector<uint8_t> u8;               ///< N * featureSize when U8
  std::vector<float> f32;                ///< N * featureSize when F32
  std::vector<int32_t> i32;              ///< N * featureSize when I32
  std::vector<std::string> texts;        ///< N UTF-8 samples when Text
  std::vector<std::string> featureNames; ///< CSV column names (else empty)

  TargetKind targetKind = TargetKind::None;
  int32_t numClasses = 0;      ///< ClassIndex only
  size_t targetWidth = 0;      ///< Values only
  /// ClassIndex: labels per sample, 1 or, for a corpus, the T next tokens.
  size_t labelWidth = 1;
  std::vector<int32_t> labels; ///< N * labelWidth when ClassIndex
  std::vector<float> targets;  ///< N * targetWidth when Values
  std::vector<std::string> targetNames;
  /// Image folders: the class names (index = label) and each sample's file.
  std::vector<std::string> classNames;
  std::vector<std::string> paths;
  /// CSV sources: each sample's 1-based line in `source` (else empty).
  std::vector<size_t> lines;
  /// audio(...) clips (F32 of shape [samples]): their rate in Hz; 0 for
  /// every other storage (audio features included).
  int32_t sampleRate = 0;

  size_t numSamples = 0;

  /// Takes everything of `from` but its features (and sample rate): the
  /// source, the targets and class names, each sample's file and line, the
  /// count. For storages derived sample by sample (tokens of texts,
  /// features of clips).
  void copySamplesOf(const DatasetStorage &from);
};

class Dataset {
public:
  Dataset() = default;
  /// A dataset over all samples of `storage`.
  explicit Dataset(std::shared_ptr<const DatasetStorage> storage);
  Dataset(std::shared_ptr<const DatasetStorage> storage,
          std::vector<uint32_t> indices);

  size_t size() const { return indices.size(); }
  bool empty() const { return indices.empty(); }
  const DatasetStorage &store() const { return *storage; }
  std::shared_ptr<const DatasetStorage> sharedStore() const { return storage; }
  const std::vector<uint32_t> &sampleIndices() const { return indices; }

  const std::vector<int64_t> &featureShape() const {
    return storage->featureShape;
  }
  size_t featureSize() const { return storage->featureSize; }
  TargetKind targetKind() const { return storage->targetKind; }
  int32_t numClasses() const { return storage->numClasses; }
  size_t targetWidth() const { return storage->targetWidth; }

  /// Writes sample i's raw features (u8 converted to float, unscaled) into
  /// out[0 .. featureSize). Token ids (I32) and raw text have no float form:
  /// nnrt::Error.
  void copyFeatures(size_t i, float *out) const;
  /// Asks the CPU to fetch sample i's features and its labels or targets
  /// into cache ahead of copyFeatures (the batches of a shuffled dataset
  /// read samples from all over memory: each one's lines cost a miss
  /// otherwise). It reads the view's index of sample i: see prefetchIndex.
  void prefetchFeatures(size_t i) const;
  /// Asks the CPU to fetch the view's index of sample i, which
  /// prefetchFeatures reads (a shuffled order reads the indices from all
  /// over them too).
  void prefetchIndex(size_t i) const { __builtin_prefetch(&indices[i]); }
  /// Writes sample i's token ids (I32 storage) into out[0 .. featureSize).
  void copyTokens(size_t i, int32_t *out) const;
  /// True when the samples are token ids (I32 storage).
  bool isTokens() const { return storage->featureType == FeatureType::I32; }
  /// Where sample i comes from, for messages: its file, "file.csv:LINE", or
  /// "source: sample N".
  std::string origin(size_t i) const;
  int32_t label(size_t i) const {
    return storage->labels[indices[i] * storage->labelWidth];
  }
  /// Sample i's labelWidth() class labels.
  const int32_t *labels(size_t i) const {
    return storage->labels.data() + indices[i] * storage->labelWidth;
  }
  size_t labelWidth() const { return storage->labelWidth; }
  const float *target(size_t i) const {
    return storage->targets.data() + indices[i] * storage->targetWidth;
  }

  /// A dataset over positions `positions` of this one.
  Dataset subset(const std::vector<uint32_t> &positions) const;

  /// Splits into (train, validation) like the language's
  /// `split(train, fraction, seed = S)`:
  ///   1. p = a permutation of 0..N-1: the identity shuffled by Rng(seed)
  ///      (Rng::shuffle, Fisher-Yates);
  ///   2. nVal = round(fraction * N), clamped to [1, N-1];
  ///   3. validation = p[N-nVal .. N-1], train = p[0 .. N-nVal-1];
  ///   4. each part is sorted by original position, so an unshuffled loader
  ///      reads samples in file order.
  /// fraction must be in (0, 1) and N >= 2, else nnrt::Error.
  std::pair<Dataset, Dataset> split(double fraction, uint64_t seed) const;

  /// Throws nnrt::Error unless every class label is in [0, modelClasses);
  /// the driver calls it with the model's output width.
  void checkClasses(int32_t modelClasses) const;

private:
  std::shared_ptr<const DatasetStorage> storage;
  std::vector<uint32_t> indices;
};

} // namespace nnrt

#endif // NNRT_DATASET_H
