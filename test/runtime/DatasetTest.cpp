//===- DatasetTest.cpp - RNG, splits, preprocessing and its checkpoint state
//-===//
#include "runtime/Dataset.h"
#include "runtime/Preprocess.h"
#include "runtime/Rng.h"

#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace nnrt;
using namespace nnrt::test;

namespace nnrt::test {
/// n samples of shape `shape` with features i * featureSize + k (as float)
/// and labels i % classes.
Dataset makeDataset(size_t n, std::vector<int64_t> shape, int32_t classes,
                    FeatureType type = FeatureType::F32) {
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = "synthetic";
  storage->featureShape = shape;
  storage->featureSize = 1;
  for (int64_t d : shape)
    storage->featureSize *= size_t(d);
  storage->featureType = type;
  for (size_t i = 0; i < n * storage->featureSize; ++i) {
    if (type == FeatureType::U8)
      storage->u8.push_back(uint8_t(i % 251));
    else
      storage->f32.push_back(float(i));
  }
  storage->numSamples = n;
  storage->targetKind = TargetKind::ClassIndex;
  storage->numClasses = classes;
  for (size_t i = 0; i < n; ++i)
    storage->labels.push_back(int32_t(i % size_t(classes)));
  return Dataset(storage);
}
} // namespace nnrt::test

TEST(Rng, MatchesTheDocumentedAlgorithm) {
  // Reference values from an independent Python transcription of
  // splitmix64 seeding + xoshiro256** + Lemire + Fisher-Yates.
  Rng rng(0);
  EXPECT_EQ(rng.next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(rng.next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(rng.next(), 0x1a5f849d4933e6e0ULL);
  Rng one(1);
  std::vector<int> values(10);
  std::iota(values.begin(), values.end(), 0);
  one.shuffle(values);
  EXPECT_EQ(values, (std::vector<int>{3, 6, 1, 5, 0, 9, 2, 8, 4, 7}));
}

TEST(Rng, StateRoundTripsExactly) {
  Rng a(42);
  for (int i = 0; i < 5; ++i)
    a.next();
  auto saved = a.saveState();
  std::vector<uint64_t> expected;
  for (int i = 0; i < 10; ++i)
    expected.push_back(a.next());
  Rng b(7);
  b.restoreState(saved.data(), saved.size());
  for (uint64_t value : expected)
    EXPECT_EQ(b.next(), value);
  EXPECT_NNRT_ERROR(b.restoreState(saved.data(), 31), "32");
  std::vector<uint8_t> zeros(32, 0);
  EXPECT_NNRT_ERROR(b.restoreState(zeros.data(), zeros.size()), "all zeros");
}

TEST(Rng, BelowIsInRangeAndRoughlyUniform) {
  Rng rng(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i)
    ++counts[rng.below(7)];
  for (int c : counts)
    EXPECT_NEAR(c, 10000, 500);
  double u = rng.uniform();
  EXPECT_TRUE(u >= 0 && u < 1);
}

TEST(Split, FollowsTheDocumentedRule) {
  Dataset data = makeDataset(10, {2}, 3);
  auto [train, val] = data.split(0.3, 1);
  EXPECT_EQ(train.sampleIndices(),
            (std::vector<uint32_t>{0, 1, 2, 3, 5, 6, 9}));
  EXPECT_EQ(val.sampleIndices(), (std::vector<uint32_t>{4, 7, 8}));
}

TEST(Split, IsDeterministicDisjointAndComplete) {
  Dataset data = makeDataset(1000, {3}, 10);
  auto [train1, val1] = data.split(0.1, 1);
  auto [train2, val2] = data.split(0.1, 1);
  auto [train3, val3] = data.split(0.1, 2);
  EXPECT_EQ(val1.size(), 100u);
  EXPECT_EQ(train1.size(), 900u);
  EXPECT_EQ(val1.sampleIndices(), val2.sampleIndices());
  EXPECT_EQ(train1.sampleIndices(), train2.sampleIndices());
  EXPECT_NE(val1.sampleIndices(), val3.sampleIndices());
  std::vector<uint32_t> all = train1.sampleIndices();
  all.insert(all.end(), val1.sampleIndices().begin(),
             val1.sampleIndices().end());
  std::sort(all.begin(), all.end());
  for (uint32_t i = 0; i < 1000; ++i)
    EXPECT_EQ(all[i], i);
  EXPECT_TRUE(
      std::is_sorted(val1.sampleIndices().begin(), val1.sampleIndices().end()));
  // Splitting shares storage rather than copying samples.
  EXPECT_EQ(train1.sharedStore().get(), data.sharedStore().get());
  // A split of a split indexes the original storage.
  auto [inner, innerVal] = val1.split(0.5, 9);
  for (uint32_t i : innerVal.sampleIndices())
    EXPECT_TRUE(std::binary_search(val1.sampleIndices().begin(),
                                   val1.sampleIndices().end(), i));
}

TEST(Split, RejectsBadArguments) {
  Dataset data = makeDataset(10, {1}, 2);
  EXPECT_NNRT_ERROR(data.split(0, 1), "between 0 and 1");
  EXPECT_NNRT_ERROR(data.split(1.5, 1), "between 0 and 1");
  EXPECT_NNRT_ERROR(makeDataset(1, {1}, 2).split(0.5, 1), "cannot split 1");
  EXPECT_EQ(data.split(0.001, 1).second.size(), 1u); // clamped to >= 1
  EXPECT_EQ(data.split(0.999, 1).first.size(), 1u);
}

TEST(Preprocess, ScaleAndPerChannelNormalize) {
  Dataset data = makeDataset(4, {2, 1, 3}, 2, FeatureType::U8);
  Preprocessor pre;
  pre.addScale(0.5f);
  pre.addNormalize({1.0f, 2.0f}, {2.0f, 4.0f});
  pre.fit(data);
  std::vector<float> x(6);
  data.copyFeatures(1, x.data()); // 6 7 8 9 10 11
  pre.apply(x.data());
  EXPECT_FLOAT_EQ(x[0], (3.0f - 1) / 2);
  EXPECT_FLOAT_EQ(x[2], (4.0f - 1) / 2);
  EXPECT_FLOAT_EQ(x[3], (4.5f - 2) / 4);
  EXPECT_FLOAT_EQ(x[5], (5.5f - 2) / 4);

  Preprocessor wrong;
  wrong.addNormalize({0, 0, 0}, {1, 1, 1});
  EXPECT_NNRT_ERROR(wrong.fit(data),
                    "3 per-channel values given, but samples have 2 channels");
  EXPECT_NNRT_ERROR(wrong.addNormalize({0}, {0}), "std must be positive");
  EXPECT_NNRT_ERROR(wrong.addClip(2, 1), "clip: lower bound");
}

TEST(Preprocess, StandardizeAndMinMaxUseTrainingStatistics) {
  // Feature 0: 0, 2, 4, ... ; feature 1 constant.
  auto storage = std::make_shared<DatasetStorage>();
  storage->featureShape = {2};
  storage->featureSize = 2;
  storage->numSamples = 5;
  storage->f32 = {0, 7, 2, 7, 4, 7, 6, 7, 100, 7};
  storage->targetKind = TargetKind::None;
  Dataset all(storage);
  Dataset train = all.subset({0, 1, 2, 3}); // 100 is not in the statistics

  Preprocessor standardize;
  standardize.addStandardize();
  standardize.fit(train);
  std::vector<float> x(2);
  all.copyFeatures(4, x.data());
  standardize.apply(x.data());
  // mean 3, population std sqrt(5); constant feature -> std 1 (x - 7).
  EXPECT_NEAR(x[0], (100 - 3) / std::sqrt(5.0), 1e-4);
  EXPECT_FLOAT_EQ(x[1], 0.0f);

  Preprocessor minmax;
  minmax.addMinMax();
  minmax.addClip(-1, 1);
  minmax.fit(train);
  all.copyFeatures(2, x.data());
  minmax.apply(x.data());
  EXPECT_FLOAT_EQ(x[0], 4.0f / 6.0f);
  EXPECT_FLOAT_EQ(x[1], 0.0f);
  all.copyFeatures(4, x.data());
  minmax.apply(x.data());
  EXPECT_FLOAT_EQ(x[0], 1.0f); // clipped
  CleanReport report = minmax.countClipped(all);
  EXPECT_EQ(report.rowsChanged, 1u);
  EXPECT_EQ(report.valuesChanged, 1u);
}

TEST(Preprocess, StateRoundTripsThroughSafetensors) {
  Dataset data = makeDataset(50, {3}, 2);
  auto [train, val] = data.split(0.2, 5);
  Preprocessor fitted;
  fitted.addScale(0.25f);
  fitted.addStandardize();
  fitted.addMinMax();
  fitted.addClip(-3, 3);
  fitted.fit(train);
  std::vector<TensorData> state = fitted.state();
  std::vector<TensorView> views;
  for (const TensorData &t : state)
    views.push_back(t.view());
  SafeTensorsFile file =
      SafeTensorsFile::parse(encodeSafeTensors(views), "ckpt");
  EXPECT_TRUE(file.contains("preprocess.1.standardize.mean"));
  EXPECT_TRUE(file.contains("preprocess.2.minmax.max"));

  Preprocessor restored;
  restored.addScale(0.25f);
  restored.addStandardize();
  restored.addMinMax();
  restored.addClip(-3, 3);
  restored.restore(file, {3});
  std::vector<float> a(3), b(3);
  for (size_t i = 0; i < val.size(); ++i) {
    val.copyFeatures(i, a.data());
    val.copyFeatures(i, b.data());
    fitted.apply(a.data());
    restored.apply(b.data());
    EXPECT_EQ(a, b);
  }
  EXPECT_EQ(restored.describe(), "scale(0.25) standardize minmax clip(-3, 3)");

  Preprocessor otherScale;
  otherScale.addScale(0.5f);
  EXPECT_NNRT_ERROR(otherScale.restore(file, {3}),
                    "ckpt: preprocessing step 0 (scale) differs");
  Preprocessor otherShape;
  otherShape.addScale(0.25f);
  otherShape.addStandardize();
  EXPECT_NNRT_ERROR(otherShape.restore(file, {4}),
                    "ckpt: tensor 'preprocess.1.standardize.mean' has shape "
                    "[3], expected [4]");
  Preprocessor otherOrder;
  otherOrder.addScale(0.25f);
  otherOrder.addMinMax();
  EXPECT_NNRT_ERROR(otherOrder.restore(file, {3}),
                    "no tensor 'preprocess.1.minmax.min'");
}
