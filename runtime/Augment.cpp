//===- Augment.cpp - seeded augmentation of training samples --------------===//
#include "runtime/Augment.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cmath>

namespace nnrt {

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t augmentStreamSeed(uint64_t seed, uint64_t epoch, uint64_t sample) {
  // Domain-separated from the shuffle stream (which is Rng(seed) itself).
  uint64_t h = mix64(seed ^ 0x6175676d656e74ULL); // "augment"
  h = mix64(h + 0x9e3779b97f4a7c15ULL * (epoch + 1));
  h = mix64(h + 0xd1b54a32d192ed03ULL * (sample + 1));
  return h;
}

std::string AugmentOp::describe() const {
  switch (kind) {
  case Kind::RandomCrop:
    return "random_crop(" + std::to_string(size) + ", padding = " +
           std::to_string(padding) + ")";
  case Kind::Flip:
    return std::string("flip(") + (horizontal ? "horizontal" : "vertical") +
           ", p = " + std::to_string(p) + ")";
  case Kind::Rotate:
    return "rotate(degrees = " + std::to_string(degrees) + ")";
  case Kind::Noise:
    return "noise(std = " + std::to_string(stddev) + ")";
  case Kind::TimeShift:
    return "time_shift(" + std::to_string(fraction) + ")";
  }
  return "";
}

void shiftClip(float *clip, size_t n, int64_t shift) {
  if (shift > 0) {
    size_t s = std::min(n, size_t(shift));
    std::copy_backward(clip, clip + (n - s), clip + n);
    std::fill(clip, clip + s, 0.0f);
  } else if (shift < 0) {
    size_t s = std::min(n, size_t(-shift));
    std::copy(clip + s, clip + n, clip);
    std::fill(clip + (n - s), clip + n, 0.0f);
  }
}

/// Adds std * N(0, 1) to n values, Box-Muller from two uniform() draws each.
static void addNoise(float *values, size_t n, double stddev, Rng &rng) {
  for (size_t i = 0; i < n; ++i) {
    double u1 = rng.uniform(), u2 = rng.uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
    values[i] = static_cast<float>(values[i] + stddev * z);
  }
}

void cropImage(const float *in, float *out, size_t c, size_t h, size_t w,
               size_t size, int64_t padding, int64_t top, int64_t left) {
  for (size_t ch = 0; ch < c; ++ch) {
    const float *plane = in + ch * h * w;
    float *dst = out + ch * size * size;
    for (size_t y = 0; y < size; ++y) {
      int64_t sy = static_cast<int64_t>(y) + top - padding;
      for (size_t x = 0; x < size; ++x) {
        int64_t sx = static_cast<int64_t>(x) + left - padding;
        bool inside = sy >= 0 && sy < static_cast<int64_t>(h) && sx >= 0 &&
                      sx < static_cast<int64_t>(w);
        dst[y * size + x] = inside ? plane[sy * w + sx] : 0.0f;
      }
    }
  }
}

void flipImage(float *image, size_t c, size_t h, size_t w, bool horizontal) {
  for (size_t ch = 0; ch < c; ++ch) {
    float *plane = image + ch * h * w;
    if (horizontal) {
      for (size_t y = 0; y < h; ++y)
        std::reverse(plane + y * w, plane + (y + 1) * w);
    } else {
      for (size_t y = 0; y < h / 2; ++y)
        std::swap_ranges(plane + y * w, plane + (y + 1) * w,
                         plane + (h - 1 - y) * w);
    }
  }
}

// std::nearbyint and std::floor without a libm call per pixel (the
// runtime's baseline x86-64 has no rounding instruction, and nearbyint
// saves and restores the floating-point environment): the same values for
// the coordinates of images (|v| < 2^51), the library's beyond. Rotating
// a 28x28 image: 10.6 -> 7.8 us.

/// Round half to even (nearbyint in the default rounding mode): adding and
/// subtracting 1.5 * 2^52 leaves no fraction bits.
static double roundHalfEven(double v) {
  constexpr double kMagic = 6755399441055744.0; // 1.5 * 2^52
  if (!(std::fabs(v) < 2251799813685248.0))     // 2^51
    return std::nearbyint(v);
  return (v + kMagic) - kMagic;
}

/// floor, except -0.0 gives +0.0 (the same pixel either way).
static double floorFast(double v) {
  if (!(std::fabs(v) < 2251799813685248.0))
    return std::floor(v);
  double t = static_cast<double>(static_cast<int64_t>(v)); // toward zero
  return t > v ? t - 1 : t;
}

/// Snaps coordinates that are integers up to rounding (e.g. at 90 degrees,
/// where cos is 6e-17) so such rotations move pixels exactly.
static double snap(double v) {
  double r = roundHalfEven(v);
  return std::fabs(v - r) < 1e-9 ? r : v;
}

void rotateImage(const float *in, float *out, size_t c, size_t h, size_t w,
                 double degrees) {
  double theta = degrees * M_PI / 180.0;
  double cs = std::cos(theta), sn = std::sin(theta);
  double cx = (static_cast<double>(w) - 1) / 2, cy = (static_cast<double>(h) - 1) / 2;
  auto at = [&](const float *plane, int64_t y, int64_t x) -> double {
    if (y < 0 || x < 0 || y >= static_cast<int64_t>(h) ||
        x >= static_cast<int64_t>(w))
      return 0.0;
    return plane[y * static_cast<int64_t>(w) + x];
  };
  for (size_t y = 0; y < h; ++y) {
    for (size_t x = 0; x < w; ++x) {
      // On screen (y down), a counter-clockwise turn by theta takes the
      // output pixel's value from the source point turned back by theta.
      double dx = static_cast<double>(x) - cx, dy = static_cast<double>(y) - cy;
      double sx = snap(cx + dx * cs - dy * sn);
      double sy = snap(cy + dx * sn + dy * cs);
      double fx0 = floorFast(sx), fy0 = floorFast(sy);
      double ax = sx - fx0, ay = sy - fy0;
      int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
      for (size_t ch = 0; ch < c; ++ch) {
        const float *plane = in + ch * h * w;
        double v = (1 - ay) * ((1 - ax) * at(plane, y0, x0) +
                               (ax > 0 ? ax * at(plane, y0, x0 + 1) : 0.0));
        if (ay > 0)
          v += ay * ((1 - ax) * at(plane, y0 + 1, x0) +
                     (ax > 0 ? ax * at(plane, y0 + 1, x0 + 1) : 0.0));
        out[ch * h * w + y * w + x] = static_cast<float>(v);
      }
    }
  }
}

Augmenter::Augmenter(std::vector<AugmentOp> operations,
                     std::vector<int64_t> featureShape, uint64_t seed)
    : ops(std::move(operations)), seed(seed) {
  total = 1;
  for (int64_t d : featureShape)
    total *= static_cast<size_t>(d);
  if (featureShape.size() == 3) {
    channels = static_cast<size_t>(featureShape[0]);
    height = static_cast<size_t>(featureShape[1]);
    width = static_cast<size_t>(featureShape[2]);
  } else if (featureShape.size() == 2) {
    height = static_cast<size_t>(featureShape[0]);
    width = static_cast<size_t>(featureShape[1]);
  }
  // (h, w): the image size before each op; crops change it.
  size_t h = height, w = width;
  for (const AugmentOp &op : ops) {
    if (op.kind == AugmentOp::Kind::Noise) {
      if (!(op.stddev >= 0))
        throw Error("augment " + op.describe() + ": std must be >= 0");
      continue;
    }
    if (op.kind == AugmentOp::Kind::TimeShift) {
      if (featureShape.size() != 1)
        throw Error("augment " + op.describe() +
                    " needs audio clips [samples], but samples have " +
                    std::to_string(featureShape.size()) + " dimension(s)");
      if (!(op.fraction >= 0 && op.fraction < 1))
        throw Error("augment " + op.describe() +
                    ": the fraction must be in [0, 1)");
      continue;
    }
    if (height == 0)
      throw Error("augment " + op.describe() +
                  " needs image samples [C, H, W] or [H, W], but samples "
                  "have " + std::to_string(featureShape.size()) +
                  " dimension(s)");
    if (op.kind == AugmentOp::Kind::RandomCrop) {
      if (op.padding < 0)
        throw Error("augment " + op.describe() + ": padding must be >= 0");
      // torchvision RandomCrop: the window must fit the padded image.
      if (op.size < 1 ||
          static_cast<size_t>(op.size) > h + 2 * static_cast<size_t>(op.padding) ||
          static_cast<size_t>(op.size) > w + 2 * static_cast<size_t>(op.padding))
        throw Error("augment " + op.describe() + ": a " +
                    std::to_string(op.size) + " x " + std::to_string(op.size) +
                    " window does not fit the " + std::to_string(h) + " x " +
                    std::to_string(w) + " images padded by " +
                    std::to_string(op.padding));
      h = w = static_cast<size_t>(op.size);
    }
    if (op.kind == AugmentOp::Kind::Flip && !(op.p >= 0 && op.p <= 1))
      throw Error("augment " + op.describe() + ": p must be in [0, 1]");
  }
  outShape = featureShape;
  if (height) {
    outShape[outShape.size() - 2] = static_cast<int64_t>(h);
    outShape[outShape.size() - 1] = static_cast<int64_t>(w);
  }
  outTotal = channels * h * w;
  if (!height)
    outTotal = total;
}

bool Augmenter::hasGeometric() const {
  for (const AugmentOp &op : ops)
    if (op.kind != AugmentOp::Kind::Noise)
      return true;
  return false;
}

bool Augmenter::hasNoise() const {
  for (const AugmentOp &op : ops)
    if (op.kind == AugmentOp::Kind::Noise)
      return true;
  return false;
}

void Augmenter::applyGeometric(std::vector<float> &sample, Rng &rng) const {
  std::vector<float> scratch;
  size_t h = height, w = width;
  for (const AugmentOp &op : ops) {
    switch (op.kind) {
    case AugmentOp::Kind::RandomCrop: {
      int64_t p = op.padding;
      uint64_t top = rng.below(static_cast<uint64_t>(
          static_cast<int64_t>(h) + 2 * p - op.size + 1));
      uint64_t left = rng.below(static_cast<uint64_t>(
          static_cast<int64_t>(w) + 2 * p - op.size + 1));
      size_t size = static_cast<size_t>(op.size);
      scratch.resize(channels * size * size);
      cropImage(sample.data(), scratch.data(), channels, h, w, size, p,
                static_cast<int64_t>(top), static_cast<int64_t>(left));
      sample.swap(scratch);
      h = w = size;
      break;
    }
    case AugmentOp::Kind::Flip:
      if (rng.uniform() < op.p)
        flipImage(sample.data(), channels, h, w, op.horizontal);
      break;
    case AugmentOp::Kind::Rotate: {
      double angle = (2 * rng.uniform() - 1) * op.degrees;
      scratch.assign(sample.begin(), sample.end());
      rotateImage(scratch.data(), sample.data(), channels, h, w, angle);
      break;
    }
    case AugmentOp::Kind::Noise:
    case AugmentOp::Kind::TimeShift:
      break;
    }
  }
}

void Augmenter::centerCrop(std::vector<float> &sample) const {
  std::vector<float> scratch;
  size_t h = height, w = width;
  for (const AugmentOp &op : ops) {
    if (op.kind != AugmentOp::Kind::RandomCrop)
      continue;
    size_t size = static_cast<size_t>(op.size);
    if (size == h && size == w)
      continue;
    // torchvision CenterCrop: top = int(round((h - size) / 2.0)), Python's
    // round being half to even (nearbyint's default mode); a window larger
    // than the image is zero-padded around it.
    auto offset = [](size_t from, size_t to) {
      return static_cast<int64_t>(std::nearbyint(
          (static_cast<double>(from) - static_cast<double>(to)) / 2.0));
    };
    scratch.resize(channels * size * size);
    cropImage(sample.data(), scratch.data(), channels, h, w, size, 0,
              offset(h, size), offset(w, size));
    sample.swap(scratch);
    h = w = size;
  }
}

void Augmenter::applyNoise(float *sample, Rng &rng) const {
  for (const AugmentOp &op : ops) {
    if (op.kind == AugmentOp::Kind::Noise)
      addNoise(sample, outTotal, op.stddev, rng);
  }
}

void Augmenter::applyClip(float *clip, Rng &rng) const {
  for (const AugmentOp &op : ops) {
    if (op.kind == AugmentOp::Kind::Noise) {
      addNoise(clip, total, op.stddev, rng);
    } else if (op.kind == AugmentOp::Kind::TimeShift) {
      int64_t most = static_cast<int64_t>(
          std::floor(op.fraction * static_cast<double>(total)));
      int64_t shift =
          static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * most + 1))) -
          most;
      shiftClip(clip, total, shift);
    }
  }
}

void Augmenter::apply(std::vector<float> &sample, uint64_t epoch,
                      uint64_t sampleIndex) const {
  Rng rng = stream(epoch, sampleIndex);
  applyGeometric(sample, rng);
  applyNoise(sample.data(), rng);
}

} // namespace nnrt
