//===- Metrics.h - evaluation metrics accumulated over masked batches -*- C++
//-*-===//
//
// Metrics are computed from the compiled program's outputs (logits or
// predictions); the runtime never evaluates the model itself. Rows whose mask
// is 0 (batch padding) are ignored.
//
// Classification: the prediction is argmax of the logits (first maximum on
// ties), or, for a one-unit output (binary, sigmoid fused into the loss),
// class 1 when the logit is > 0. precision / recall / f1 are macro averages
// over the classes that occur in the targets or the predictions (as
// scikit-learn's labels=None), with 0 for a class never predicted / never
// present (zero_division = 0).
//
// Regression: mse and mae average over all elements; r2 is computed per output
// column and averaged (scikit-learn's "uniform_average"); a constant target
// column scores 1 if predicted exactly, else 0 (force_finite).
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_METRICS_H
#define NNRT_METRICS_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nnrt {

class ClassificationMetrics {
public:
  /// numClasses >= 2 (2 for one-unit binary outputs).
  explicit ClassificationMetrics(int32_t numClasses);

  /// logits: rows * width, width == numClasses or 1 (binary); labels: rows.
  void addLogits(const float *logits, size_t width, const int32_t *labels,
                 const float *mask, size_t rows);
  /// Binary with float 0/1 targets (binary_cross_entropy): a target > 0.5
  /// counts as class 1.
  void addBinaryLogits(const float *logits, const float *targets,
                       const float *mask, size_t rows);
  /// Already-decided class predictions.
  void addPredictions(const int32_t *predicted, const int32_t *labels,
                      const float *mask, size_t rows);

  size_t count() const { return total; }
  double accuracy() const;
  double precision() const;
  double recall() const;
  double f1() const;
  /// confusion()[true][predicted].
  const std::vector<std::vector<int64_t>> &confusion() const { return matrix; }
  void reset();
  /// Every count, flat (to be summed over data-parallel ranks), and back:
  /// setCounts takes what counts() returns, summed.
  std::vector<double> counts() const;
  void setCounts(const double *counts);

private:
  void add(int32_t label, int32_t predicted);
  /// Per-class precision and recall over the classes in use.
  void perClass(std::vector<double> &precision,
                std::vector<double> &recall) const;

  int32_t classes;
  size_t total = 0;
  std::vector<std::vector<int64_t>> matrix;
};

class RegressionMetrics {
public:
  explicit RegressionMetrics(size_t width = 1);

  /// predictions and targets: rows * width.
  void add(const float *predictions, const float *targets, const float *mask,
           size_t rows);

  size_t count() const { return rows; }
  double mse() const;
  double mae() const;
  double r2() const;
  void reset();
  /// Every sum, flat (to be summed over data-parallel ranks), and back.
  std::vector<double> counts() const;
  void setCounts(const double *counts);

private:
  size_t width;
  size_t rows = 0;
  // Per column, in double: sum of squared / absolute errors, and sums of
  // the target and its square for the total variance.
  std::vector<double> squaredError, absoluteError, targetSum, targetSquares;
};

/// Looks up a metric by its language name ("accuracy", "precision", "recall",
/// "f1", "mse", "mae", "r2"); classification or regression may be null.
/// Returns false for unknown names or a metric the task does not have.
bool metricValue(const std::string &name,
                 const ClassificationMetrics *classification,
                 const RegressionMetrics *regression, double &value);

/// The confusion matrix as aligned text, one row per true class.
std::string formatConfusion(const ClassificationMetrics &metrics);

} // namespace nnrt

#endif // NNRT_METRICS_H
