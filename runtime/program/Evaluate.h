//===- Evaluate.h - Batch buffers, scores and evaluation --------*- C++ -*-===//
//
// The fixed-size buffers the generated entry points take, the loss and
// metrics accumulated from their predictions, and a pass of nnc_eval over a
// dataset.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_EVALUATE_H
#define NNRT_PROGRAM_EVALUATE_H

#include "runtime/Batch.h"
#include "runtime/Dataset.h"
#include "runtime/Metrics.h"
#include "runtime/Preprocess.h"
#include "runtime/program/Config.h"
#include "runtime/program/Mpi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nnrt {

/// Seconds on a monotonic clock.
double now();

/// Fixed-size buffers of the compiled batch size B; a loader batch of N <= B
/// rows is copied in and padded (mask 0; token rows all 0, the padding id).
struct Buffers {
  int64_t rows, in, out, width;
  bool tokenInput;
  std::vector<float> x, mask, targets, result;
  std::vector<int32_t> tokens, labels;
  const void *borrowed = nullptr; ///< load's borrowed input, if any

  explicit Buffers(const RunConfig &cfg);
  /// Copies `b` in. With `borrowInput`, a batch of exactly B rows (padded
  /// by the loader) is not copied: input() then points at b's features or
  /// token ids, which must outlive the entry point's call (x and tokens
  /// keep their old contents).
  void load(const Batch &b, bool classTargets, bool borrowInput = false);
  /// The entry points' x: float features or int32 token ids.
  const void *input() const {
    if (borrowed)
      return borrowed;
    return tokenInput ? static_cast<const void *>(tokens.data())
                      : static_cast<const void *>(x.data());
  }
  const void *y(bool classTargets) const {
    return classTargets ? static_cast<const void *>(labels.data())
                        : static_cast<const void *>(targets.data());
  }
};

/// Metrics over one pass, from predictions.
struct Scores {
  double lossSum = 0;
  size_t samples = 0;
  std::unique_ptr<ClassificationMetrics> classes;
  std::unique_ptr<RegressionMetrics> values;

  explicit Scores(const RunConfig &cfg);
  void add(const RunConfig &cfg, const Buffers &buf, const float *preds,
           double loss, size_t count);
  double loss() const { return samples ? lossSum / samples : 0; }
  /// Data-parallel ranks: every sum of every rank's scores (the loss, the
  /// samples and the metrics' counts) summed into each rank's.
  void reduce(Mpi &mpi);
  /// The configured metrics that are single numbers, in order.
  std::vector<std::pair<std::string, double>>
  metrics(const std::vector<std::string> &names) const;
  /// The confusion matrix ([true][predicted]) when `confusion` is among
  /// `names` and the run is a classifier, else null.
  const std::vector<std::vector<int64_t>> *
  confusion(const std::vector<std::string> &names) const;
};

/// With data-parallel ranks (`mpi` active), this rank's share of batches of
/// ranks x `batch` rows.
LoaderOptions loaderOptions(const RunConfig &cfg, int64_t batch, bool training,
                            const Mpi *mpi = nullptr);

/// Loss and metrics of `data` with nnc_eval. With data-parallel ranks
/// (`mpi` active), each evaluates its share of every batch of `ranks` x B
/// rows and the scores are summed.
Scores evaluate(const RunConfig &cfg, std::vector<float> &state,
                const Dataset &data, const Preprocessor &pre,
                Mpi *mpi = nullptr);

} // namespace nnrt

#endif // NNRT_PROGRAM_EVALUATE_H
