//===- Batch.h - epoch ordering, padded batches, and prefetching -*- C++
//-*-===//
//
// Every batch has exactly `batchSize` rows so the compiled step sees one
// static shape. The last partial batch is padded with zeros and its mask row
// is 0, so the generated loss can average over real rows only (PyTorch's
// drop_last = False); with dropLast it is skipped instead. Token ids (an i32
// model input) travel in `tokens` instead of `x`, unchanged (no
// preprocessing or augmentation); padding rows are all 0, the padding id.
//
// Epoch order: with shuffle, beginEpoch() takes the identity 0..N-1 and
// shuffles it with the loader's Rng (Rng::shuffle), which then carries over
// to the next epoch; without shuffle the order is the dataset's. The Rng
// state after beginEpoch can be checkpointed and restored to replay the run.
//
// Augmentation (training loaders only, setAugmenter): each sample is
// augmented in fillBatch, so on the Prefetcher's tasks, from its own stream
// Rng(augmentStreamSeed(seed, epoch, sample)) (see Augment.h): geometric ops
// before preprocessing, noise after. Epochs are numbered from 1;
// beginEpoch(e) sets the number (resume), beginEpoch() counts on.
//
// Audio with augmentation (setClipFeatures): the loader's dataset holds the
// clips; fillBatch augments each clip (Augmenter::applyClip), computes its
// features (AudioFeatures::compute), then preprocesses them, all on the
// Prefetcher's tasks. Without augmentation features are computed once at
// load and the loader sees plain F32 samples.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_BATCH_H
#define NNRT_BATCH_H

#include "runtime/AudioFeatures.h"
#include "runtime/Augment.h"
#include "runtime/Dataset.h"
#include "runtime/Preprocess.h"
#include "runtime/Rng.h"

#include <exception>
#include <memory>
#include <vector>

namespace nnrt {

struct Batch {
  size_t index = 0;              ///< position in the epoch
  size_t rows = 0;               ///< the fixed batch size B
  size_t count = 0;              ///< real rows (<= rows)
  std::vector<float> x;          ///< B * featureSize, preprocessed
  std::vector<int32_t> tokens;   ///< B * featureSize token ids, instead of x
  std::vector<int32_t> labels;   ///< B x labelWidth class indices (ClassIndex, no one_hot)
  std::vector<float> targets;    ///< B * width (Values, or one_hot classes)
  std::vector<float> mask;       ///< B: 1 for real rows, 0 for padding
  std::vector<uint32_t> samples; ///< count dataset positions, for predict
};

struct LoaderOptions {
  size_t batchSize = 32;
  bool shuffle = false;
  bool dropLast = false;
  /// Data-parallel ranks: the epoch is cut into global batches of
  /// `shards` x batchSize rows (in the order one process with that batch
  /// would use), and this loader's batch i is the `shard`-th batchSize rows
  /// of global batch i: fewer, or none (count 0, all padding), in a partial
  /// last one.
  size_t shards = 1, shard = 0;
};

class BatchLoader {
public:
  /// `preprocessor` must be fitted (or restored) and outlive the loader.
  BatchLoader(Dataset data, const Preprocessor &preprocessor,
              LoaderOptions options, uint64_t seed = 0);

  /// Fixes this epoch's order (consuming the Rng when shuffling) and returns
  /// the number of batches.
  size_t beginEpoch();
  /// The same, numbering this epoch `epoch` (the augmentation streams').
  size_t beginEpoch(uint64_t epoch);
  /// The current epoch's number (0 before the first beginEpoch).
  uint64_t epochNumber() const { return epoch; }
  /// Augments the samples of every batch built from now on; `augmenter`
  /// must outlive the loader (nullptr: none).
  void setAugmenter(const Augmenter *a) { augmenter = a; }
  /// Evaluation and prediction: cut the centre windows of `a`'s
  /// size-changing crops (Augmenter::centerCrop) so that samples have the
  /// shape the model was trained on; `a` must outlive the loader.
  void setEvalCrop(const Augmenter *a) { evalCrop = a; }
  /// The dataset holds audio clips: every sample becomes `f`'s features
  /// (after the augmenter's applyClip); `f` must outlive the loader.
  void setClipFeatures(const AudioFeatures *f) { clipFeatures = f; }
  size_t numBatches() const;
  /// Number of batches per epoch for N samples.
  static size_t numBatches(size_t samples, size_t batchSize, bool dropLast);

  /// Builds batch `index` of the current epoch into `batch`, reusing its
  /// memory. Const and thread-safe: several batches may be built at once.
  void fillBatch(size_t index, Batch &batch) const;

  const Dataset &dataset() const { return data; }
  const LoaderOptions &options() const { return opts; }
  /// Values per sample in a batch: the dataset's, or the crops' output.
  size_t featureSize() const {
    if (clipFeatures)
      return clipFeatures->size();
    const Augmenter *shaper = augmenter ? augmenter : evalCrop;
    return shaper ? shaper->outputSize() : data.featureSize();
  }
  /// Target width in a batch: 1 for class indices, else floats per row.
  size_t targetWidth() const;
  Rng &rng() { return random; }
  const std::vector<uint32_t> &epochOrder() const { return order; }

private:
  Dataset data;
  const Preprocessor &preprocessor;
  LoaderOptions opts;
  Rng random;
  std::vector<uint32_t> order;
  uint64_t epoch = 0;
  const Augmenter *augmenter = nullptr;
  const Augmenter *evalCrop = nullptr;
  const AudioFeatures *clipFeatures = nullptr;
};

/// Builds the batches of the loader's current epoch ahead of their use on
/// oneTBB tasks: `depth` slots, each filled by its own tbb::task_group, so
/// batch i + depth is prepared while batch i computes. Waiting on a slot
/// whose task has not started runs it on the caller (no thread blocks idle).
/// Yields exactly the batches fillBatch yields, in order. Build one per
/// epoch, after beginEpoch(); the loader must not begin another epoch while
/// a Prefetcher on it is alive.
class Prefetcher {
public:
  /// Starts at batch `first` of the epoch (a resumed run skips the batches
  /// it has used).
  Prefetcher(const BatchLoader &loader, size_t depth = 3, size_t first = 0);
  ~Prefetcher();
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;

  /// Moves the next batch into `batch` (its old buffers are recycled) and
  /// returns true, or returns false at the end of the epoch. Errors raised
  /// while preparing a batch are rethrown here.
  bool next(Batch &batch);

private:
  struct Slot;
  void schedule(Slot &slot, size_t index);

  const BatchLoader &loader;
  size_t total = 0;
  size_t consumed = 0;
  std::vector<std::unique_ptr<Slot>> slots;
};

} // namespace nnrt

#endif // NNRT_BATCH_H
