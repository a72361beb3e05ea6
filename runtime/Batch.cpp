//===- Batch.cpp - epoch ordering, padded batches, and prefetching --------===//
#include "runtime/Batch.h"

#include "runtime/Error.h"

#include <tbb/task_group.h>

#include <algorithm>
#include <numeric>

namespace nnrt {

BatchLoader::BatchLoader(Dataset data, const Preprocessor &preprocessor,
                         LoaderOptions options, uint64_t seed)
    : data(std::move(data)), preprocessor(preprocessor), opts(options),
      random(seed) {
  if (opts.batchSize == 0)
    throw Error("batch size must be positive");
  if (!preprocessor.ready())
    throw Error("internal: batch loader built before preprocessing was "
                "fitted");
  order.resize(this->data.size());
  std::iota(order.begin(), order.end(), 0u);
}

size_t BatchLoader::numBatches(size_t samples, size_t batchSize,
                               bool dropLast) {
  return dropLast ? samples / batchSize : (samples + batchSize - 1) / batchSize;
}

size_t BatchLoader::numBatches() const {
  return numBatches(data.size(), opts.batchSize * opts.shards, opts.dropLast);
}

size_t BatchLoader::beginEpoch() { return beginEpoch(epoch + 1); }

size_t BatchLoader::beginEpoch(uint64_t number) {
  epoch = number;
  std::iota(order.begin(), order.end(), 0u);
  if (opts.shuffle)
    random.shuffle(order);
  return numBatches();
}

size_t BatchLoader::targetWidth() const {
  switch (data.targetKind()) {
  case TargetKind::None:
    return 0;
  case TargetKind::ClassIndex:
    return preprocessor.oneHotTargets() ? size_t(data.numClasses()) : 1;
  case TargetKind::Values:
    return data.targetWidth();
  }
  return 0;
}

void BatchLoader::fillBatch(size_t index, Batch &batch) const {
  size_t rows = opts.batchSize;
  size_t features = featureSize();
  // This shard's rows of global batch `index`.
  size_t global = rows * opts.shards;
  size_t globalBegin = std::min(index * global, data.size());
  size_t globalCount = std::min(global, data.size() - globalBegin);
  size_t offset = std::min(opts.shard * rows, globalCount);
  size_t begin = globalBegin + offset;
  size_t count = std::min(rows, globalCount - offset);
  bool oneHot = preprocessor.oneHotTargets() &&
                data.targetKind() == TargetKind::ClassIndex;
  size_t width = targetWidth();

  bool tokens = data.isTokens();
  bool augmenting = augmenter && !augmenter->empty();
  if (tokens && augmenting)
    throw Error("augmentation does not apply to token ids");
  batch.index = index;
  batch.rows = rows;
  batch.count = count;
  // Rows past `count` are padding (zeros); real rows are written whole
  // below, so only the padding is cleared (the plain path writes each row
  // once, instead of a zero fill of the batch and then its rows).
  if (tokens) {
    batch.tokens.resize(rows * features);
    std::fill(batch.tokens.begin() + count * features, batch.tokens.end(), 0);
    batch.x.clear();
  } else {
    batch.x.resize(rows * features);
    std::fill(batch.x.begin() + count * features, batch.x.end(), 0.0f);
    batch.tokens.clear();
  }
  batch.mask.assign(rows, 0.0f);
  batch.samples.assign(order.begin() + begin, order.begin() + begin + count);
  if (oneHot && data.labelWidth() != 1)
    throw Error("one_hot applies to one class label per sample");
  if (data.targetKind() == TargetKind::ClassIndex && !oneHot) {
    batch.labels.assign(rows * data.labelWidth(), 0);
    batch.targets.clear();
  } else {
    batch.labels.clear();
    batch.targets.assign(rows * width, 0.0f);
  }

  // Crops may change a sample's size: such samples go through `raw`.
  std::vector<float> raw;
  // Paths that may fill a row partly (a crop, clip features) start it
  // from zeros, as the whole batch did.
  bool partialRows = !tokens && (clipFeatures || augmenting || evalCrop);
  // Samples kAhead ahead: their features arrive while this one is
  // prepared; their view indices (which prefetchFeatures reads) kIndexAhead
  // ahead, so that reading them does not wait for memory either. (The MLP
  // at batch 256 on one core: the labels' copies, a miss each, took 2.5%
  // of its time with only the features prefetched, two samples ahead; 0.5%
  // now, and 1.5% more samples/s.)
  constexpr size_t kAhead = 4, kIndexAhead = 16;
  if (!tokens) {
    for (size_t r = 0; r < std::min(kIndexAhead, count); ++r)
      data.prefetchIndex(order[begin + r]);
    for (size_t r = 0; r < std::min(kAhead, count); ++r)
      data.prefetchFeatures(order[begin + r]);
  }
  for (size_t r = 0; r < count; ++r) {
    size_t sample = order[begin + r];
    if (!tokens && r + kIndexAhead < count)
      data.prefetchIndex(order[begin + r + kIndexAhead]);
    if (!tokens && r + kAhead < count)
      data.prefetchFeatures(order[begin + r + kAhead]);
    float *x = tokens ? nullptr : batch.x.data() + r * features;
    if (partialRows)
      std::fill_n(x, features, 0.0f);
    if (tokens) {
      data.copyTokens(sample, batch.tokens.data() + r * features);
    } else if (clipFeatures) {
      raw.resize(data.featureSize());
      data.copyFeatures(sample, raw.data());
      if (augmenting) {
        Rng stream = augmenter->stream(epoch, sample);
        augmenter->applyClip(raw.data(), stream);
      }
      clipFeatures->compute(raw.data(), x);
      preprocessor.apply(x);
    } else if (augmenting) {
      raw.resize(data.featureSize());
      data.copyFeatures(sample, raw.data());
      Rng stream = augmenter->stream(epoch, sample);
      augmenter->applyGeometric(raw, stream);
      std::copy(raw.begin(), raw.end(), x);
      preprocessor.apply(x);
      augmenter->applyNoise(x, stream);
    } else if (evalCrop) {
      raw.resize(data.featureSize());
      data.copyFeatures(sample, raw.data());
      evalCrop->centerCrop(raw);
      std::copy(raw.begin(), raw.end(), x);
      preprocessor.apply(x);
    } else {
      data.copyFeatures(sample, x);
      preprocessor.apply(x);
    }
    batch.mask[r] = 1.0f;
    switch (data.targetKind()) {
    case TargetKind::None:
      break;
    case TargetKind::ClassIndex:
      if (oneHot)
        batch.targets[r * width + size_t(data.label(sample))] = 1.0f;
      else
        std::copy_n(data.labels(sample), data.labelWidth(),
                    batch.labels.data() + r * data.labelWidth());
      break;
    case TargetKind::Values:
      std::copy_n(data.target(sample), width, batch.targets.data() + r * width);
      break;
    }
  }
}

struct Prefetcher::Slot {
  tbb::task_group group;
  Batch batch;
  std::exception_ptr error;
};

Prefetcher::Prefetcher(const BatchLoader &loader, size_t depth, size_t first)
    : loader(loader), total(loader.numBatches()),
      consumed(std::min(first, total)) {
  depth = std::max<size_t>(1, depth);
  for (size_t i = 0; i < depth; ++i)
    slots.push_back(std::make_unique<Slot>());
  for (size_t i = consumed; i < consumed + depth && i < total; ++i)
    schedule(*slots[i % depth], i);
}

Prefetcher::~Prefetcher() {
  for (auto &slot : slots)
    slot->group.wait(); // tasks catch their own exceptions
}

void Prefetcher::schedule(Slot &slot, size_t index) {
  slot.error = nullptr;
  slot.group.run([this, &slot, index] {
    try {
      loader.fillBatch(index, slot.batch);
    } catch (...) {
      slot.error = std::current_exception();
    }
  });
}

bool Prefetcher::next(Batch &batch) {
  if (consumed >= total)
    return false;
  Slot &slot = *slots[consumed % slots.size()];
  slot.group.wait();
  if (slot.error) {
    std::exception_ptr error = slot.error;
    consumed = total; // the epoch cannot continue
    std::rethrow_exception(error);
  }
  std::swap(batch, slot.batch);
  size_t upcoming = consumed + slots.size();
  ++consumed;
  if (upcoming < total)
    schedule(slot, upcoming);
  return true;
}

} // namespace nnrt
