//===- BatchTest.cpp - padded batches, masks, shuffling, the prefetcher ---===//
#include "runtime/Batch.h"

#include "TestUtil.h"

#include <set>

using namespace nnrt;
using namespace nnrt::test;

namespace nnrt::test {
Dataset makeDataset(size_t n, std::vector<int64_t> shape, int32_t classes,
                    FeatureType type = FeatureType::F32);
}

namespace {
Preprocessor fitted(const Dataset &data, bool oneHot = false) {
  Preprocessor pre;
  pre.addScale(2.0f);
  pre.setOneHot(oneHot);
  pre.fit(data);
  return pre;
}

std::vector<Batch> syncEpoch(const BatchLoader &loader) {
  std::vector<Batch> batches(loader.numBatches());
  for (size_t i = 0; i < batches.size(); ++i)
    loader.fillBatch(i, batches[i]);
  return batches;
}

void expectSame(const Batch &a, const Batch &b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.samples, b.samples);
}
} // namespace

TEST(Batches, LastPartialBatchIsPaddedAndMasked) {
  Dataset data = makeDataset(10, {3}, 4);
  Preprocessor pre = fitted(data);
  BatchLoader loader(data, pre, LoaderOptions{4, false, false});
  EXPECT_EQ(loader.beginEpoch(), 3u);
  std::vector<Batch> batches = syncEpoch(loader);
  const Batch &first = batches[0];
  EXPECT_EQ(first.rows, 4u);
  EXPECT_EQ(first.count, 4u);
  EXPECT_EQ(first.x.size(), 12u);
  EXPECT_EQ(first.x[3], 2.0f * 3); // sample 1, feature 0, scaled
  EXPECT_EQ(first.labels, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(first.mask, (std::vector<float>{1, 1, 1, 1}));
  const Batch &last = batches[2];
  EXPECT_EQ(last.count, 2u);
  EXPECT_EQ(last.x.size(), 12u);
  EXPECT_EQ(last.mask, (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(last.labels, (std::vector<int32_t>{0, 1, 0, 0}));
  EXPECT_EQ(last.x[0], 2.0f * 24);
  for (size_t k = 6; k < 12; ++k)
    EXPECT_EQ(last.x[k], 0.0f) << "padding must be zeros";
  EXPECT_EQ(last.samples, (std::vector<uint32_t>{8, 9}));
}

TEST(Batches, ReusedBatchGetsZeroPaddingOverOldRows) {
  // The prefetcher refills the same Batch objects: a partial batch written
  // over a full one must still have zeros past its count (only the padding
  // is cleared; real rows are written whole). 37 bytes a sample: the
  // widening and scaling loops' vector bodies and their remainders.
  const size_t n = 37;
  Dataset data = makeDataset(10, {int64_t(n)}, 4, FeatureType::U8);
  Preprocessor pre = fitted(data);
  BatchLoader loader(data, pre, LoaderOptions{4, false, false});
  loader.beginEpoch();
  Batch b;
  loader.fillBatch(0, b);
  ASSERT_EQ(b.count, 4u);
  for (size_t k = 2 * n; k < 4 * n; ++k)
    ASSERT_NE(b.x[k], 0.0f) << "rows 2 and 3 of the full batch are non-zero";
  loader.fillBatch(2, b);
  EXPECT_EQ(b.count, 2u);
  ASSERT_EQ(b.x.size(), 4 * n);
  for (size_t k = 0; k < 2 * n; ++k)
    EXPECT_EQ(b.x[k], 2.0f * float((8 * n + k) % 251)) << "value " << k;
  for (size_t k = 2 * n; k < 4 * n; ++k)
    EXPECT_EQ(b.x[k], 0.0f) << "padding must be zeros, not the old rows";
  Batch fresh;
  loader.fillBatch(2, fresh);
  expectSame(b, fresh);
}

TEST(Batches, DropLastSkipsThePartialBatch) {
  Dataset data = makeDataset(10, {3}, 4);
  Preprocessor pre = fitted(data);
  BatchLoader loader(data, pre, LoaderOptions{4, true, true});
  EXPECT_EQ(loader.beginEpoch(), 2u);
  std::set<uint32_t> seen;
  for (const Batch &batch : syncEpoch(loader)) {
    EXPECT_EQ(batch.count, 4u);
    seen.insert(batch.samples.begin(), batch.samples.end());
  }
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(BatchLoader::numBatches(64, 64, false), 1u);
  EXPECT_EQ(BatchLoader::numBatches(65, 64, false), 2u);
  EXPECT_EQ(BatchLoader::numBatches(63, 64, true), 0u);
}

TEST(Batches, OneHotAndFloatTargets) {
  Dataset data = makeDataset(5, {2}, 3);
  Preprocessor pre = fitted(data, true);
  BatchLoader loader(data, pre, LoaderOptions{4});
  loader.beginEpoch();
  EXPECT_EQ(loader.targetWidth(), 3u);
  std::vector<Batch> batches = syncEpoch(loader);
  EXPECT_TRUE(batches[0].labels.empty());
  EXPECT_EQ(batches[0].targets,
            (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(batches[1].targets,
            (std::vector<float>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));

  auto storage = std::make_shared<DatasetStorage>();
  storage->featureShape = {1};
  storage->featureSize = 1;
  storage->numSamples = 3;
  storage->f32 = {1, 2, 3};
  storage->targetKind = TargetKind::Values;
  storage->targetWidth = 2;
  storage->targets = {10, 11, 20, 21, 30, 31};
  Dataset regression(storage);
  Preprocessor none;
  none.fit(regression);
  BatchLoader values(regression, none, LoaderOptions{2});
  values.beginEpoch();
  std::vector<Batch> vb = syncEpoch(values);
  EXPECT_EQ(vb[1].targets, (std::vector<float>{30, 31, 0, 0}));
  EXPECT_EQ(vb[1].mask, (std::vector<float>{1, 0}));
}

TEST(Batches, ShuffleIsSeededAndResumable) {
  Dataset data = makeDataset(100, {1}, 10);
  Preprocessor pre = fitted(data);
  LoaderOptions options{16, true, false};
  BatchLoader a(data, pre, options, 7), b(data, pre, options, 7),
      c(data, pre, options, 8);
  a.beginEpoch();
  b.beginEpoch();
  c.beginEpoch();
  EXPECT_EQ(a.epochOrder(), b.epochOrder());
  EXPECT_NE(a.epochOrder(), c.epochOrder());
  std::vector<uint32_t> sorted = a.epochOrder();
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < 100; ++i)
    EXPECT_EQ(sorted[i], i);
  std::vector<uint32_t> epoch1 = a.epochOrder();
  // Save after epoch 1, as a checkpoint does; a fresh loader restored from
  // it must produce epoch 2 exactly.
  auto state = a.rng().saveState();
  a.beginEpoch();
  EXPECT_NE(a.epochOrder(), epoch1);
  BatchLoader resumed(data, pre, options, 12345);
  resumed.rng().restoreState(state.data(), state.size());
  resumed.beginEpoch();
  EXPECT_EQ(resumed.epochOrder(), a.epochOrder());

  BatchLoader ordered(data, pre, LoaderOptions{16, false, false}, 7);
  ordered.beginEpoch();
  EXPECT_EQ(ordered.epochOrder(), sorted);
}

TEST(Batches, ShardsSplitEveryGlobalBatchInOrder) {
  // 23 samples, 3 ranks x 4 rows: global batches of 12, the last of 11
  // leaving rank 2 three rows; with 7 x 4 one of 23 leaves rank 6 none.
  Dataset data = makeDataset(23, {1}, 10);
  Preprocessor pre = fitted(data);
  BatchLoader whole(data, pre, LoaderOptions{12, true, false}, 5);
  whole.beginEpoch();
  for (size_t shards : {3, 7}) {
    std::vector<uint32_t> samples;
    std::vector<float> x;
    size_t batches = 0;
    for (size_t shard = 0; shard < shards; ++shard) {
      LoaderOptions options{4, true, false, shards, shard};
      BatchLoader loader(data, pre, options, 5);
      loader.beginEpoch();
      EXPECT_EQ(loader.epochOrder(), whole.epochOrder());
      batches = loader.numBatches();
      for (size_t i = 0; i < batches; ++i) {
        Batch b;
        loader.fillBatch(i, b);
        EXPECT_EQ(b.rows, 4u);
        size_t begin = std::min<size_t>(23, i * 4 * shards + shard * 4);
        EXPECT_EQ(b.count, std::min<size_t>(4, 23 - begin));
        for (size_t r = 0; r < 4; ++r)
          EXPECT_EQ(b.mask[r], r < b.count ? 1.0f : 0.0f);
        for (size_t r = 0; r < b.count; ++r)
          EXPECT_EQ(b.samples[r], whole.epochOrder()[begin + r]);
        samples.insert(samples.end(), b.samples.begin(), b.samples.end());
      }
    }
    EXPECT_EQ(batches, shards == 3 ? 2u : 1u);
    std::sort(samples.begin(), samples.end());
    ASSERT_EQ(samples.size(), 23u); // every sample once over the ranks
    for (uint32_t i = 0; i < 23; ++i)
      EXPECT_EQ(samples[i], i);
  }
  // drop_last counts whole global batches.
  BatchLoader dropped(data, pre, LoaderOptions{4, false, true, 3, 2}, 5);
  EXPECT_EQ(dropped.numBatches(), 1u);
}

TEST(Prefetcher, YieldsTheSameBatchesAsTheSynchronousPath) {
  Dataset data = makeDataset(1003, {1, 4, 5}, 10, FeatureType::U8);
  Preprocessor pre;
  pre.addScale(1.0f / 255);
  pre.addNormalize({0.5f}, {0.25f});
  pre.fit(data);
  for (size_t depth : {1u, 2u, 3u, 8u}) {
    BatchLoader loader(data, pre, LoaderOptions{64, true, false}, 11);
    for (int epoch = 0; epoch < 2; ++epoch) {
      loader.beginEpoch();
      std::vector<Batch> expected = syncEpoch(loader);
      Prefetcher prefetcher(loader, depth);
      Batch batch;
      size_t n = 0;
      while (prefetcher.next(batch)) {
        ASSERT_LT(n, expected.size());
        expectSame(batch, expected[n]);
        ++n;
      }
      EXPECT_EQ(n, expected.size());
      EXPECT_FALSE(prefetcher.next(batch));
    }
  }
}

TEST(Prefetcher, StopsEarlyWithoutLeaks) {
  Dataset data = makeDataset(500, {8}, 3);
  Preprocessor pre = fitted(data);
  BatchLoader loader(data, pre, LoaderOptions{10, true, false}, 1);
  loader.beginEpoch();
  Prefetcher prefetcher(loader, 3);
  Batch batch;
  EXPECT_TRUE(prefetcher.next(batch));
  // Destroying it with batches in flight must wait for them.
}

TEST(Batches, RejectsBadSetup) {
  Dataset data = makeDataset(5, {2}, 3);
  Preprocessor unfitted;
  EXPECT_NNRT_ERROR(BatchLoader(data, unfitted, LoaderOptions{4}),
                    "before preprocessing");
  Preprocessor pre = fitted(data);
  EXPECT_NNRT_ERROR(BatchLoader(data, pre, LoaderOptions{0}),
                    "batch size must be positive");
}
