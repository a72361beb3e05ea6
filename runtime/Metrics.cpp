//===- Metrics.cpp - evaluation metrics accumulated over masked batches ---===//
#include "runtime/Metrics.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nnrt {

ClassificationMetrics::ClassificationMetrics(int32_t numClasses)
    : classes(std::max<int32_t>(numClasses, 2)) {
  reset();
}

void ClassificationMetrics::reset() {
  total = 0;
  matrix.assign(size_t(classes), std::vector<int64_t>(size_t(classes), 0));
}

void ClassificationMetrics::add(int32_t label, int32_t predicted) {
  if (label < 0 || label >= classes)
    throw Error("metrics: label " + std::to_string(label) +
                " is out of range for " + std::to_string(classes) + " classes");
  ++matrix[size_t(label)][size_t(predicted)];
  ++total;
}

void ClassificationMetrics::addLogits(const float *logits, size_t width,
                                      const int32_t *labels, const float *mask,
                                      size_t rows) {
  if (width != 1 && width != size_t(classes))
    throw Error("metrics: outputs have " + std::to_string(width) +
                " values per row for " + std::to_string(classes) + " classes");
  for (size_t r = 0; r < rows; ++r) {
    if (mask && mask[r] == 0.0f)
      continue;
    const float *row = logits + r * width;
    int32_t predicted = width == 1
                            ? (row[0] > 0.0f ? 1 : 0)
                            : int32_t(std::max_element(row, row + width) - row);
    add(labels[r], predicted);
  }
}

void ClassificationMetrics::addBinaryLogits(const float *logits,
                                            const float *targets,
                                            const float *mask, size_t rows) {
  for (size_t r = 0; r < rows; ++r) {
    if (mask && mask[r] == 0.0f)
      continue;
    add(targets[r] > 0.5f ? 1 : 0, logits[r] > 0.0f ? 1 : 0);
  }
}

void ClassificationMetrics::addPredictions(const int32_t *predicted,
                                           const int32_t *labels,
                                           const float *mask, size_t rows) {
  for (size_t r = 0; r < rows; ++r) {
    if (mask && mask[r] == 0.0f)
      continue;
    if (predicted[r] < 0 || predicted[r] >= classes)
      throw Error("metrics: predicted class " + std::to_string(predicted[r]) +
                  " is out of range");
    add(labels[r], predicted[r]);
  }
}

double ClassificationMetrics::accuracy() const {
  if (total == 0)
    return 0.0;
  int64_t correct = 0;
  for (int32_t c = 0; c < classes; ++c)
    correct += matrix[size_t(c)][size_t(c)];
  return double(correct) / double(total);
}

void ClassificationMetrics::perClass(std::vector<double> &precision,
                                     std::vector<double> &recall) const {
  precision.clear();
  recall.clear();
  for (size_t c = 0; c < size_t(classes); ++c) {
    int64_t support = 0, predicted = 0;
    for (size_t k = 0; k < size_t(classes); ++k) {
      support += matrix[c][k];
      predicted += matrix[k][c];
    }
    if (support == 0 && predicted == 0)
      continue; // a class absent from both is not averaged
    double hits = double(matrix[c][c]);
    precision.push_back(predicted ? hits / double(predicted) : 0.0);
    recall.push_back(support ? hits / double(support) : 0.0);
  }
}

static double mean(const std::vector<double> &values) {
  if (values.empty())
    return 0.0;
  double sum = 0;
  for (double v : values)
    sum += v;
  return sum / double(values.size());
}

double ClassificationMetrics::precision() const {
  std::vector<double> p, r;
  perClass(p, r);
  return mean(p);
}

double ClassificationMetrics::recall() const {
  std::vector<double> p, r;
  perClass(p, r);
  return mean(r);
}

double ClassificationMetrics::f1() const {
  // Macro F1 is the mean of per-class F1 (not F1 of the macro means).
  std::vector<double> p, r, f;
  perClass(p, r);
  for (size_t c = 0; c < p.size(); ++c)
    f.push_back(p[c] + r[c] > 0 ? 2 * p[c] * r[c] / (p[c] + r[c]) : 0.0);
  return mean(f);
}

std::vector<double> ClassificationMetrics::counts() const {
  std::vector<double> out{double(total)};
  for (const auto &row : matrix)
    out.insert(out.end(), row.begin(), row.end());
  return out;
}

void ClassificationMetrics::setCounts(const double *counts) {
  total = size_t(*counts++);
  for (auto &row : matrix)
    for (int64_t &cell : row)
      cell = int64_t(*counts++);
}

std::vector<double> RegressionMetrics::counts() const {
  std::vector<double> out{double(rows)};
  for (const auto *column :
       {&squaredError, &absoluteError, &targetSum, &targetSquares})
    out.insert(out.end(), column->begin(), column->end());
  return out;
}

void RegressionMetrics::setCounts(const double *counts) {
  rows = size_t(*counts++);
  for (auto *column :
       {&squaredError, &absoluteError, &targetSum, &targetSquares})
    for (double &v : *column)
      v = *counts++;
}

RegressionMetrics::RegressionMetrics(size_t width) : width(width) { reset(); }

void RegressionMetrics::reset() {
  rows = 0;
  squaredError.assign(width, 0.0);
  absoluteError.assign(width, 0.0);
  targetSum.assign(width, 0.0);
  targetSquares.assign(width, 0.0);
}

void RegressionMetrics::add(const float *predictions, const float *targets,
                            const float *mask, size_t count) {
  for (size_t r = 0; r < count; ++r) {
    if (mask && mask[r] == 0.0f)
      continue;
    for (size_t c = 0; c < width; ++c) {
      double y = targets[r * width + c];
      double error = double(predictions[r * width + c]) - y;
      squaredError[c] += error * error;
      absoluteError[c] += std::fabs(error);
      targetSum[c] += y;
      targetSquares[c] += y * y;
    }
    ++rows;
  }
}

double RegressionMetrics::mse() const {
  if (rows == 0)
    return 0.0;
  double sum = 0;
  for (double e : squaredError)
    sum += e;
  return sum / double(rows * width);
}

double RegressionMetrics::mae() const {
  if (rows == 0)
    return 0.0;
  double sum = 0;
  for (double e : absoluteError)
    sum += e;
  return sum / double(rows * width);
}

double RegressionMetrics::r2() const {
  if (rows == 0)
    return 0.0;
  double sum = 0;
  for (size_t c = 0; c < width; ++c) {
    double n = double(rows);
    double totalVariance =
        std::max(0.0, targetSquares[c] - targetSum[c] * targetSum[c] / n);
    if (totalVariance <= 1e-12 * std::max(1.0, targetSquares[c]))
      sum += squaredError[c] == 0.0 ? 1.0 : 0.0;
    else
      sum += 1.0 - squaredError[c] / totalVariance;
  }
  return sum / double(width);
}

bool metricValue(const std::string &name,
                 const ClassificationMetrics *classification,
                 const RegressionMetrics *regression, double &value) {
  if (classification) {
    if (name == "accuracy")
      return value = classification->accuracy(), true;
    if (name == "precision")
      return value = classification->precision(), true;
    if (name == "recall")
      return value = classification->recall(), true;
    if (name == "f1")
      return value = classification->f1(), true;
  }
  if (regression) {
    if (name == "mse")
      return value = regression->mse(), true;
    if (name == "mae")
      return value = regression->mae(), true;
    if (name == "r2")
      return value = regression->r2(), true;
  }
  return false;
}

std::string formatConfusion(const ClassificationMetrics &metrics) {
  const auto &matrix = metrics.confusion();
  size_t cell = 4;
  for (const auto &row : matrix)
    for (int64_t v : row)
      cell = std::max(cell, std::to_string(v).size() + 1);
  std::string text = fmt::format("{:>{}}", "true\\pred", 10);
  for (size_t c = 0; c < matrix.size(); ++c)
    text += fmt::format("{:>{}}", c, cell);
  text += '\n';
  for (size_t r = 0; r < matrix.size(); ++r) {
    text += fmt::format("{:>{}}", r, 10);
    for (int64_t v : matrix[r])
      text += fmt::format("{:>{}}", v, cell);
    text += '\n';
  }
  return text;
}

} // namespace nnrt
