//===- Augment.h - seeded augmentation of training samples -*- C++ -*-===//
//
// Augmentation runs on training batches only, inside BatchLoader::fillBatch
// (so on the Prefetcher's oneTBB tasks, in parallel with compute). Each
// sample gets its own random stream:
//
//   Rng(streamSeed(seed, epoch, sample))
//
// where `seed` is the run seed, `epoch` the 1-based epoch and `sample` the
// sample's position in the training dataset (not in the batch), mixed with
// splitmix64. The result therefore does not depend on thread scheduling,
// batch size, shuffling or on where a run was resumed.
//
// The geometric ops run in the order written, then the noise ops, each
// drawing from the sample's stream in that order:
//
//   random_crop(size, padding)   zero-pad every side by `padding`, then cut a
//       size x size window at top = below(H + 2p - size + 1), then
//       left = below(W + 2p - size + 1) (torchvision RandomCrop(padding=p)).
//       The window may differ from the image (size <= H + 2p and W + 2p):
//       the model's input is then size x size, and evaluation and
//       prediction cut the centre window of that size instead
//       (torchvision CenterCrop: top = round((H - size) / 2), zero-padded
//       when the window is larger than the image).
//   flip(horizontal|vertical, p) flips when uniform() < p.
//   rotate(degrees)              angle = (2 uniform() - 1) * degrees,
//       counter-clockwise (torchvision's sign), about the centre
//       ((W - 1) / 2, (H - 1) / 2), bilinear sampling, zero outside.
//   noise(std)                   adds std * N(0, 1) to every value
//       (Box-Muller from two uniform() draws per value).
//   time_shift(fraction)         audio clips [samples] only: moves the clip
//       by s = below(2 m + 1) - m samples, m = floor(fraction * samples),
//       later when s > 0, earlier when s < 0, filling with zeros.
//
// Audio clips (a dataset with features { }) are augmented by applyClip
// instead: time_shift and noise in the order written, on the waveform,
// before its features are computed (BatchLoader::setClipFeatures).
//
// Geometric ops (crop, flip, rotate) need image samples [C, H, W] or [H, W]
// and act on the raw values, before preprocessing (zero padding and fill
// are black, as with torchvision transforms before ToTensor/Normalize);
// noise acts after preprocessing, on the values the model sees.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_AUGMENT_H
#define NNRT_AUGMENT_H

#include "runtime/Rng.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nnrt {

struct AugmentOp {
  enum class Kind { RandomCrop, Flip, Rotate, Noise, TimeShift };
  Kind kind = Kind::Flip;
  int64_t size = 0, padding = 0; ///< random_crop
  bool horizontal = true;        ///< flip
  double p = 0.5;                ///< flip
  double degrees = 0;            ///< rotate
  double stddev = 0;             ///< noise
  double fraction = 0;           ///< time_shift

  std::string describe() const;
};

/// The seed of one sample's stream in one epoch.
uint64_t augmentStreamSeed(uint64_t seed, uint64_t epoch, uint64_t sample);

// Deterministic primitives on one image of C planes of H x W (row-major).
// `out` must not alias `in`.
/// out = the size x size window at (top, left) of `in` zero-padded by p.
void cropImage(const float *in, float *out, size_t c, size_t h, size_t w,
               size_t size, int64_t padding, int64_t top, int64_t left);
void flipImage(float *image, size_t c, size_t h, size_t w, bool horizontal);
/// Counter-clockwise by `degrees` about the centre, bilinear, zero fill.
void rotateImage(const float *in, float *out, size_t c, size_t h, size_t w,
                 double degrees);

/// Moves n samples by `shift` (later when positive), zero fill.
void shiftClip(float *clip, size_t n, int64_t shift);

class Augmenter {
public:
  /// `featureShape` is the per-sample shape; spatial ops need rank 2 or 3
  /// (throws nnrt::Error naming the op otherwise).
  Augmenter(std::vector<AugmentOp> ops, std::vector<int64_t> featureShape,
            uint64_t seed);

  bool empty() const { return ops.empty(); }
  bool hasGeometric() const;
  bool hasNoise() const;
  /// The shape of an augmented sample: the input shape unless a
  /// random_crop cuts another size.
  const std::vector<int64_t> &outputShape() const { return outShape; }
  size_t outputSize() const { return outTotal; }
  /// Geometric ops on raw values (before preprocessing); `rng` is the
  /// sample's stream, consumed in op order. `sample` holds one input sample
  /// and afterwards one output sample (outputSize() values).
  void applyGeometric(std::vector<float> &sample, Rng &rng) const;
  /// For evaluation: the centre windows of the crops that change the
  /// sample's size, nothing else (no randomness). `sample` as above.
  void centerCrop(std::vector<float> &sample) const;
  /// Noise ops (after preprocessing), continuing the same stream.
  void applyNoise(float *sample, Rng &rng) const;
  /// Audio clips: time_shift and noise in op order on one clip (as many
  /// values as the input shape), from the sample's stream.
  void applyClip(float *clip, Rng &rng) const;
  /// The sample's stream for `epoch`.
  Rng stream(uint64_t epoch, uint64_t sample) const {
    return Rng(augmentStreamSeed(seed, epoch, sample));
  }
  /// Both phases, for tests and callers without preprocessing.
  void apply(std::vector<float> &sample, uint64_t epoch,
             uint64_t sampleIndex) const;

  const std::vector<AugmentOp> &operations() const { return ops; }

private:
  std::vector<AugmentOp> ops;
  size_t channels = 1, height = 0, width = 0, total = 0;
  std::vector<int64_t> outShape;
  size_t outTotal = 0;
  uint64_t seed;
};

} // namespace nnrt

#endif // NNRT_AUGMENT_H
