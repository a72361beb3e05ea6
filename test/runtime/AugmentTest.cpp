//===- AugmentTest.cpp - random_crop, flip, rotate, noise; seeded streams -===//
#include "runtime/Augment.h"
#include "runtime/Batch.h"

#include "TestUtil.h"

#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace nnrt;
using namespace nnrt::test;

namespace nnrt::test {
Dataset makeDataset(size_t n, std::vector<int64_t> shape, int32_t classes,
                    FeatureType type = FeatureType::F32);
}

namespace {
/// 1..n, row-major.
std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}

AugmentOp crop(int64_t size, int64_t padding) {
  AugmentOp op;
  op.kind = AugmentOp::Kind::RandomCrop;
  op.size = size;
  op.padding = padding;
  return op;
}
AugmentOp flip(bool horizontal, double p) {
  AugmentOp op;
  op.kind = AugmentOp::Kind::Flip;
  op.horizontal = horizontal;
  op.p = p;
  return op;
}
AugmentOp rotate(double degrees) {
  AugmentOp op;
  op.kind = AugmentOp::Kind::Rotate;
  op.degrees = degrees;
  return op;
}
AugmentOp noise(double stddev) {
  AugmentOp op;
  op.kind = AugmentOp::Kind::Noise;
  op.stddev = stddev;
  return op;
}
} // namespace

TEST(Augment, CropWindowsOfThePaddedImage) {
  // 3 x 3 image 1..9, padding 1: the padded image is 5 x 5 with a zero frame.
  std::vector<float> in = iota(9), out(9, -1.0f);
  cropImage(in.data(), out.data(), 1, 3, 3, 3, 1, 0, 0); // top-left window
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 4, 5}));
  cropImage(in.data(), out.data(), 1, 3, 3, 3, 1, 1, 1); // centre: identity
  EXPECT_EQ(out, in);
  cropImage(in.data(), out.data(), 1, 3, 3, 3, 1, 2, 0); // bottom-left
  EXPECT_EQ(out, (std::vector<float>{0, 4, 5, 0, 7, 8, 0, 0, 0}));
  cropImage(in.data(), out.data(), 1, 3, 3, 3, 1, 0, 2); // top-right
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 2, 3, 0, 5, 6, 0}));
  // Two channels move together.
  std::vector<float> two = iota(8), out2(8);
  cropImage(two.data(), out2.data(), 2, 2, 2, 2, 1, 2, 2);
  EXPECT_EQ(out2, (std::vector<float>{4, 0, 0, 0, 8, 0, 0, 0}));
}

TEST(Augment, RandomCropOffsetsAreUniformAndCoverTheRange) {
  // A one-hot 3 x 3 image: after the crop, where the 1 lands gives the
  // offset. With padding 1 there are 3 x 3 offsets, each drawn with equal
  // probability.
  Augmenter aug({crop(3, 1)}, {1, 3, 3}, 5);
  std::vector<int> seen(9, 0);
  for (uint64_t s = 0; s < 9000; ++s) {
    std::vector<float> img(9, 0.0f);
    img[4] = 1.0f; // centre pixel
    aug.apply(img, 1, s);
    float sum = std::accumulate(img.begin(), img.end(), 0.0f);
    ASSERT_EQ(sum, 1.0f); // the centre never leaves a 3x3 window at padding 1
    size_t at = std::find(img.begin(), img.end(), 1.0f) - img.begin();
    ++seen[at];
  }
  for (int c : seen)
    EXPECT_NEAR(c, 1000, 150);
  // The draw order is documented: top = below(3), then left = below(3).
  std::vector<float> img = iota(9);
  std::vector<float> got = img;
  aug.apply(got, 2, 7);
  Rng rng = aug.stream(2, 7);
  int64_t top = int64_t(rng.below(3)), left = int64_t(rng.below(3));
  std::vector<float> expected(9);
  cropImage(img.data(), expected.data(), 1, 3, 3, 3, 1, top, left);
  EXPECT_EQ(got, expected);
}

TEST(Augment, FlipsAreExact) {
  std::vector<float> img = iota(6); // 2 x 3
  flipImage(img.data(), 1, 2, 3, true);
  EXPECT_EQ(img, (std::vector<float>{3, 2, 1, 6, 5, 4}));
  img = iota(6);
  flipImage(img.data(), 1, 2, 3, false);
  EXPECT_EQ(img, (std::vector<float>{4, 5, 6, 1, 2, 3}));
  img = iota(9); // 3 x 3, odd height: the middle row stays
  flipImage(img.data(), 1, 3, 3, false);
  EXPECT_EQ(img, (std::vector<float>{7, 8, 9, 4, 5, 6, 1, 2, 3}));
  img = iota(8); // 2 channels of 2 x 2
  flipImage(img.data(), 2, 2, 2, true);
  EXPECT_EQ(img, (std::vector<float>{2, 1, 4, 3, 6, 5, 8, 7}));
}

TEST(Augment, FlipProbability) {
  Augmenter always({flip(true, 1.0)}, {2, 3}, 1);
  Augmenter never({flip(false, 0.0)}, {2, 3}, 1);
  Augmenter half({flip(true, 0.5)}, {2, 3}, 1);
  int flipped = 0;
  for (uint64_t s = 0; s < 4000; ++s) {
    std::vector<float> a = iota(6), b = iota(6), c = iota(6);
    always.apply(a, 1, s);
    never.apply(b, 1, s);
    half.apply(c, 1, s);
    ASSERT_EQ(a, (std::vector<float>{3, 2, 1, 6, 5, 4}));
    ASSERT_EQ(b, iota(6));
    flipped += c[0] == 3.0f;
  }
  EXPECT_NEAR(flipped, 2000, 150);
}

TEST(Augment, RotationBy90DegreesIsExact) {
  // Counter-clockwise on screen: the right column becomes the top row.
  std::vector<float> in = iota(9), out(9);
  rotateImage(in.data(), out.data(), 1, 3, 3, 90);
  EXPECT_EQ(out, (std::vector<float>{3, 6, 9, 2, 5, 8, 1, 4, 7}));
  rotateImage(in.data(), out.data(), 1, 3, 3, -90);
  EXPECT_EQ(out, (std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3}));
  rotateImage(in.data(), out.data(), 1, 3, 3, 180);
  EXPECT_EQ(out, (std::vector<float>{9, 8, 7, 6, 5, 4, 3, 2, 1}));
  rotateImage(in.data(), out.data(), 1, 3, 3, 0);
  EXPECT_EQ(out, in);
  // 4 x 4 (centre between pixels), two channels.
  std::vector<float> in4 = iota(32), out4(32);
  rotateImage(in4.data(), out4.data(), 2, 4, 4, 90);
  std::vector<float> expected;
  for (int ch = 0; ch < 2; ++ch)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x)
        expected.push_back(in4[ch * 16 + x * 4 + (3 - y)]);
  EXPECT_EQ(out4, expected);
}

/// rotateImage as first written, on libm's nearbyint and floor: the
/// inline rounding that replaced them must give the same bits.
static void rotateWithLibm(const float *in, float *out, size_t h, size_t w,
                           double degrees) {
  double theta = degrees * M_PI / 180.0;
  double cs = std::cos(theta), sn = std::sin(theta);
  double cx = (double(w) - 1) / 2, cy = (double(h) - 1) / 2;
  auto snap = [](double v) {
    double r = std::nearbyint(v);
    return std::fabs(v - r) < 1e-9 ? r : v;
  };
  auto at = [&](int64_t y, int64_t x) -> double {
    if (y < 0 || x < 0 || y >= int64_t(h) || x >= int64_t(w))
      return 0.0;
    return in[y * int64_t(w) + x];
  };
  for (size_t y = 0; y < h; ++y)
    for (size_t x = 0; x < w; ++x) {
      double dx = double(x) - cx, dy = double(y) - cy;
      double sx = snap(cx + dx * cs - dy * sn);
      double sy = snap(cy + dx * sn + dy * cs);
      double fx0 = std::floor(sx), fy0 = std::floor(sy);
      double ax = sx - fx0, ay = sy - fy0;
      int64_t x0 = int64_t(fx0), y0 = int64_t(fy0);
      double v = (1 - ay) *
                 ((1 - ax) * at(y0, x0) + (ax > 0 ? ax * at(y0, x0 + 1) : 0.0));
      if (ay > 0)
        v += ay * ((1 - ax) * at(y0 + 1, x0) +
                   (ax > 0 ? ax * at(y0 + 1, x0 + 1) : 0.0));
      out[y * w + x] = float(v);
    }
}

TEST(Augment, RotationMatchesLibmRounding) {
  Rng rng(7);
  for (size_t size : {3, 4, 28, 29}) {
    std::vector<float> in(size * size), out(in.size()), ref(in.size());
    for (float &v : in)
      v = float(rng.uniform() * 255);
    for (int k = 0; k <= 800; ++k) {
      // Whole, half and quarter degrees (coordinates on and next to pixel
      // centres) and random angles, both ways.
      double angle = k < 400 ? (k - 200) * 0.25 : (2 * rng.uniform() - 1) * 180;
      rotateImage(in.data(), out.data(), 1, size, size, angle);
      rotateWithLibm(in.data(), ref.data(), size, size, angle);
      for (size_t i = 0; i < in.size(); ++i)
        ASSERT_EQ(out[i], ref[i])
            << "size " << size << ", angle " << angle << ", pixel " << i;
    }
  }
}

TEST(Augment, RotationIsBilinearWithZeroFill) {
  // 45 degrees on a 3 x 3 image of ones: the centre stays 1, corners sample
  // outside at distance sqrt(2) from the centre along an axis: the source
  // point of the top-left corner is (1 - sqrt 2, 1) -> 1 - (sqrt2 - 1)...
  std::vector<float> in(9, 1.0f), out(9);
  rotateImage(in.data(), out.data(), 1, 3, 3, 45);
  EXPECT_FLOAT_EQ(out[4], 1.0f);
  // Top-left corner (dx = dy = -1): source (cx - 0, cy - sqrt2) =
  // (1, 1 - 1.414) -> y between -1 (outside, 0) and 0 (inside, 1): weight
  // of the inside row = 1 - 0.414.
  EXPECT_NEAR(out[0], 2 - std::sqrt(2.0), 1e-6);
  // Edge middles (e.g. top: dx = 0, dy = -1) fall inside: bilinear of ones.
  EXPECT_NEAR(out[1], 1.0, 1e-6);
  // Half-way sample between two pixels averages them.
  std::vector<float> ramp = {0, 10, 0, 0, 10, 0, 0, 10, 0};
  rotateImage(ramp.data(), out.data(), 1, 3, 3, 45);
  EXPECT_NEAR(out[4], 10.0, 1e-5);
  // Angles are uniform in [-d, d].
  Augmenter aug({rotate(30)}, {1, 3, 3}, 9);
  Rng rng = aug.stream(1, 0);
  double angle = (2 * rng.uniform() - 1) * 30;
  std::vector<float> a = iota(9), expected(9);
  rotateImage(a.data(), expected.data(), 1, 3, 3, angle);
  aug.apply(a, 1, 0);
  EXPECT_EQ(a, expected);
}

TEST(Augment, NoiseStatistics) {
  Augmenter aug({noise(0.5)}, {1000}, 3);
  double sum = 0, sq = 0;
  size_t n = 0;
  for (uint64_t s = 0; s < 50; ++s) {
    std::vector<float> v(1000, 2.0f);
    aug.apply(v, 1, s);
    for (float x : v) {
      sum += x - 2.0;
      sq += (x - 2.0) * (x - 2.0);
      ++n;
    }
  }
  double mean = sum / n, stddev = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01); // 3 standard errors: 3 * 0.5 / sqrt(5e4)
  EXPECT_NEAR(stddev, 0.5, 0.01);
  // Noise works on any sample shape, zero noise is the identity.
  Augmenter none({noise(0.0)}, {3}, 3);
  std::vector<float> v = {1, 2, 3};
  none.apply(v, 1, 0);
  EXPECT_EQ(v, (std::vector<float>{1, 2, 3}));
}

TEST(Augment, StreamsDependOnSeedEpochAndSample) {
  Augmenter a({noise(1.0)}, {4}, 1), b({noise(1.0)}, {4}, 2);
  auto run = [](const Augmenter &aug, uint64_t epoch, uint64_t sample) {
    std::vector<float> v(4, 0.0f);
    aug.apply(v, epoch, sample);
    return v;
  };
  EXPECT_EQ(run(a, 1, 0), run(a, 1, 0));
  EXPECT_NE(run(a, 1, 0), run(a, 2, 0));
  EXPECT_NE(run(a, 1, 0), run(a, 1, 1));
  EXPECT_NE(run(a, 1, 0), run(b, 1, 0));
  EXPECT_NE(augmentStreamSeed(0, 1, 0), augmentStreamSeed(0, 0, 1));
}

// torchvision RandomCrop(24) on 28 x 28 images: the window lies inside the
// image at a random offset and the sample shrinks to 24 x 24; evaluation cuts
// the centre window (CenterCrop), later ops see the cropped size.
TEST(Augment, CropToASmallerSizeShrinksTheSample) {
  Augmenter aug({crop(3, 0), flip(true, 1.0)}, {2, 5, 4}, 7);
  EXPECT_EQ(aug.outputShape(), (std::vector<int64_t>{2, 3, 3}));
  EXPECT_EQ(aug.outputSize(), 18u);
  std::vector<float> img = iota(40);
  aug.apply(img, 1, 0);
  ASSERT_EQ(img.size(), 18u);
  // A 3 x 3 window of plane 0 (values 1..20, 4 per row), flipped
  // horizontally; plane 1 is the same window + 20.
  float topRight = img[0]; // after the flip: the window's top-right value
  int64_t row = (static_cast<int64_t>(topRight) - 1) / 4;
  int64_t col = (static_cast<int64_t>(topRight) - 1) % 4 - 2;
  ASSERT_GE(row, 0);
  ASSERT_LE(row, 2);
  ASSERT_GE(col, 0);
  ASSERT_LE(col, 1);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 3; ++x) {
      float want = static_cast<float>((row + y) * 4 + (col + 2 - x) + 1);
      EXPECT_EQ(img[y * 3 + x], want) << y << "," << x;
      EXPECT_EQ(img[9 + y * 3 + x], want + 20) << y << "," << x;
    }

  // Evaluation: rows from round((5 - 3) / 2) = 1, columns from
  // round((4 - 3) / 2) = 0 (torchvision's int(round(0.5)) is 0: Python
  // rounds half to even).
  std::vector<float> centre = iota(40);
  aug.centerCrop(centre);
  ASSERT_EQ(centre.size(), 18u);
  EXPECT_EQ(centre[0], 1 * 4 + 0 + 1);
  EXPECT_EQ(centre[8], 3 * 4 + 2 + 1);
}

TEST(Augment, BadConfigurations) {
  EXPECT_NNRT_ERROR(Augmenter({flip(true, 0.5)}, {30}, 0),
                    "needs image samples");
  EXPECT_NNRT_ERROR(Augmenter({crop(33, 2)}, {1, 28, 28}, 0),
                    "a 33 x 33 window does not fit the 28 x 28 images padded "
                    "by 2");
  EXPECT_NNRT_ERROR(Augmenter({flip(true, 1.5)}, {1, 2, 2}, 0),
                    "p must be in [0, 1]");
}

TEST(Augment, BatchesAreTheSameOnAnyNumberOfThreads) {
  // u8 images 1 x 6 x 6, shuffled, all four ops; the preprocessor scales.
  Dataset data = makeDataset(100, {1, 6, 6}, 3, FeatureType::U8);
  Preprocessor pre;
  pre.addScale(1.0f / 255);
  pre.fit(data);
  Augmenter aug({crop(6, 2), flip(true, 0.5), rotate(15), noise(0.1)},
                {1, 6, 6}, 42);
  auto epochs = [&](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              threads);
    BatchLoader loader(data, pre, LoaderOptions{8, true, false}, 42);
    loader.setAugmenter(&aug);
    std::vector<std::vector<float>> out;
    for (int e = 0; e < 2; ++e) {
      loader.beginEpoch();
      Prefetcher prefetch(loader, 4);
      Batch b;
      while (prefetch.next(b))
        out.push_back(b.x);
    }
    return out;
  };
  auto one = epochs(1), four = epochs(4);
  EXPECT_EQ(one, four);
  // The augmentation changed the data, differently in the two epochs.
  BatchLoader plain(data, pre, LoaderOptions{8, true, false}, 42);
  plain.beginEpoch();
  Batch b;
  plain.fillBatch(0, b);
  EXPECT_NE(b.x, one[0]);
  EXPECT_NE(one[0], one[13]);

  // Resume: a loader that starts at epoch 2 with the saved shuffle state
  // builds epoch 2's batches again.
  BatchLoader first(data, pre, LoaderOptions{8, true, false}, 42);
  first.setAugmenter(&aug);
  first.beginEpoch(1);
  auto saved = first.rng().saveState();
  BatchLoader resumed(data, pre, LoaderOptions{8, true, false}, 42);
  resumed.setAugmenter(&aug);
  resumed.rng().restoreState(saved.data(), saved.size());
  resumed.beginEpoch(2);
  for (size_t i = 0; i < resumed.numBatches(); ++i) {
    resumed.fillBatch(i, b);
    EXPECT_EQ(b.x, one[13 + i]) << "batch " << i;
  }
}

TEST(Augment, NoiseAfterPreprocessingGeometryBefore) {
  // Scale by 0 after augmentation: geometric ops then vanish, noise stays.
  Dataset data = makeDataset(4, {1, 2, 2}, 2);
  Preprocessor pre;
  pre.addScale(0.0f);
  pre.fit(data);
  Augmenter geometric({flip(true, 1.0)}, {1, 2, 2}, 0);
  Augmenter noisy({noise(1.0)}, {1, 2, 2}, 0);
  BatchLoader a(data, pre, LoaderOptions{4}), c(data, pre, LoaderOptions{4});
  a.setAugmenter(&geometric);
  c.setAugmenter(&noisy);
  a.beginEpoch();
  c.beginEpoch();
  Batch ba, bc;
  a.fillBatch(0, ba);
  c.fillBatch(0, bc);
  EXPECT_EQ(ba.x, std::vector<float>(16, 0.0f));
  std::vector<float> expected(4, 0.0f);
  noisy.apply(expected, 1, 2); // sample 2 of epoch 1
  EXPECT_EQ(std::vector<float>(bc.x.begin() + 8, bc.x.begin() + 12), expected);
}
