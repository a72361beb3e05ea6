//===- Preprocess.h - per-sample feature preprocessing -*- C++ -*----------===//
//
// The `preprocess { }` block plus the post-preprocessing clip of `clean { }`.
// Steps run in the order added, on float copies of each sample, when a batch
// is built. Statistics (standardize, minmax) are computed by fit() on the
// training split only, each step seeing the output of the steps before it,
// and are saved to / restored from checkpoints so eval and predict reproduce
// training's preprocessing exactly.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PREPROCESS_H
#define NNRT_PREPROCESS_H

#include "runtime/Clean.h"
#include "runtime/Dataset.h"
#include "runtime/SafeTensors.h"

#include <string>
#include <vector>

namespace nnrt {

class Preprocessor {
public:
  /// x * k.
  void addScale(float k);
  /// (x - mean) / std, scalar (one value each) or per channel (one value per
  /// entry of the sample's first dimension, e.g. C of [C, H, W]).
  void addNormalize(std::vector<float> mean, std::vector<float> std);
  /// Per-feature z-score with the population std (ddof = 0) of the training
  /// split; a constant feature gets std 1 (as scikit-learn's StandardScaler).
  void addStandardize();
  /// Per-feature (x - min) / (max - min) over the training split; a constant
  /// feature gets range 1 (as scikit-learn's MinMaxScaler).
  void addMinMax();
  /// Audio features [T, F]: standardize and minmax keep one statistic per
  /// entry of the last dimension (`width` = F), over every frame of every
  /// training sample (per-coefficient CMVN), instead of one per value.
  void setColumnStatistics(size_t width) { columns = width; }
  /// Clamps every value to [lo, hi]; meant as the last step.
  void addClip(float lo, float hi);
  /// Batches then carry one-hot float targets of width numClasses instead of
  /// class indices.
  void setOneHot(bool enabled) { oneHot = enabled; }
  bool oneHotTargets() const { return oneHot; }

  /// Binds to the dataset's sample shape and computes statistics over
  /// `train`. Must be called (or restore()) before apply().
  void fit(const Dataset &train);
  bool ready() const { return bound; }

  /// Transforms one sample (featureSize floats) in place.
  void apply(float *sample) const;

  /// How many rows of `data` the clip step changes (zero without a clip).
  CleanReport countClipped(const Dataset &data) const;

  /// The fitted statistics as tensors named "<prefix><i>.<step>.<stat>",
  /// e.g. "preprocess.0.standardize.mean", plus a metadata string
  /// (describe()) for checking on restore.
  std::vector<TensorData>
  state(const std::string &prefix = "preprocess.") const;
  /// Restores statistics saved by state() for a preprocessor built with the
  /// same steps; binds to `featureShape`. Errors name the checkpoint.
  void restore(const SafeTensorsFile &file,
               const std::vector<int64_t> &featureShape,
               const std::string &prefix = "preprocess.");
  /// "scale(0.00392157) normalize(1 value) standardize clip(-10, 10)".
  std::string describe() const;

private:
  enum class Kind { Scale, Normalize, Standardize, MinMax, Clip };
  struct Step {
    Kind kind = Kind::Scale;
    std::vector<float> first, second; ///< mean/std, min/max, or k
    float lo = 0, hi = 0;
    // Derived: y = (x - shift[g]) * mul[g], g = element / groupSize.
    std::vector<float> shift, mul;
    size_t groupSize = 1;
  };
  static const char *kindName(Kind kind);
  static Step makeStep(Kind kind, std::vector<float> first = {},
                       std::vector<float> second = {});
public:
  /// Rebinds a fitted or restored preprocessor to samples of another shape
  /// (a random_crop that cuts another size): per-channel steps carry over,
  /// per-value statistics (standardize, minmax) cannot and throw.
  void reshape(const std::vector<int64_t> &sampleShape);

private:
  void bind(const std::vector<int64_t> &featureShape);
  void derive(Step &step) const;
  void applyStep(const Step &step, float *sample) const;

  std::vector<Step> steps;
  std::vector<int64_t> shape;
  size_t featureSize = 0;
  size_t columns = 0; ///< setColumnStatistics; 0: statistics per value
  bool bound = false;
  bool oneHot = false;
};

} // namespace nnrt

#endif // NNRT_PREPROCESS_H
