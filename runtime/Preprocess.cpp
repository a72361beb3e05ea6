//===- Preprocess.cpp - per-sample feature preprocessing ------------------===//
#include "runtime/Preprocess.h"

#include "runtime/Error.h"
#include "runtime/VectorLoops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nnrt {

Preprocessor::Step Preprocessor::makeStep(Kind kind, std::vector<float> first,
                                          std::vector<float> second) {
  Step step;
  step.kind = kind;
  step.first = std::move(first);
  step.second = std::move(second);
  return step;
}

void Preprocessor::addScale(float k) {
  steps.push_back(makeStep(Kind::Scale, {k}));
}

void Preprocessor::addNormalize(std::vector<float> mean,
                                std::vector<float> std) {
  if (mean.empty() || mean.size() != std.size())
    throw Error("normalize: mean and std need the same, non-zero number of "
                "values");
  for (float s : std)
    if (!(s > 0) || !std::isfinite(s))
      throw Error("normalize: std must be positive, got " + std::to_string(s));
  steps.push_back(makeStep(Kind::Normalize, std::move(mean), std::move(std)));
}

void Preprocessor::addStandardize() {
  steps.push_back(makeStep(Kind::Standardize));
}

void Preprocessor::addMinMax() { steps.push_back(makeStep(Kind::MinMax)); }

void Preprocessor::addClip(float lo, float hi) {
  if (!(lo <= hi))
    throw Error("clip: lower bound " + std::to_string(lo) +
                " is above upper bound " + std::to_string(hi));
  Step step = makeStep(Kind::Clip);
  step.lo = lo;
  step.hi = hi;
  steps.push_back(step);
}

const char *Preprocessor::kindName(Kind kind) {
  switch (kind) {
  case Kind::Scale:
    return "scale";
  case Kind::Normalize:
    return "normalize";
  case Kind::Standardize:
    return "standardize";
  case Kind::MinMax:
    return "minmax";
  case Kind::Clip:
    return "clip";
  }
  return "?";
}

void Preprocessor::bind(const std::vector<int64_t> &featureShape) {
  shape = featureShape;
  featureSize = 1;
  for (int64_t dim : shape)
    featureSize *= size_t(dim);
  if (columns && featureSize % columns != 0)
    throw Error(fmt::format("preprocess: samples of {} values are not rows "
                            "of {} features",
                            featureSize, columns));
  for (Step &step : steps)
    if (step.kind == Kind::Normalize && step.first.size() != 1) {
      size_t channels = shape.empty() ? 1 : size_t(shape[0]);
      if (step.first.size() != channels)
        throw Error(fmt::format("normalize: {} per-channel values given, but "
                                "samples have {} channels",
                                step.first.size(), channels));
    }
}

void Preprocessor::reshape(const std::vector<int64_t> &sampleShape) {
  size_t n = 1;
  for (int64_t dim : sampleShape)
    n *= size_t(dim);
  if (n == featureSize)
    return;
  for (const Step &step : steps)
    if (step.kind == Kind::Standardize || step.kind == Kind::MinMax)
      throw Error(std::string("preprocess: ") + kindName(step.kind) +
                  " has statistics per value of the stored samples and "
                  "cannot follow a random_crop that changes their size; use "
                  "scale or normalize");
  bind(sampleShape);
  for (Step &step : steps)
    derive(step);
}

void Preprocessor::derive(Step &step) const {
  size_t groups = 1;
  switch (step.kind) {
  case Kind::Scale:
    step.shift = {0.0f};
    step.mul = {step.first[0]};
    break;
  case Kind::Normalize:
    step.shift = step.first;
    step.mul.clear();
    for (float s : step.second)
      step.mul.push_back(1.0f / s);
    groups = step.first.size();
    break;
  case Kind::Standardize:
  case Kind::MinMax:
    step.shift = step.first;
    step.mul.clear();
    for (size_t f = 0; f < step.first.size(); ++f) {
      float spread = step.kind == Kind::Standardize
                         ? step.second[f]
                         : step.second[f] - step.first[f];
      step.mul.push_back(spread > 0 ? 1.0f / spread : 1.0f);
    }
    groups = step.first.size();
    break;
  case Kind::Clip:
    break;
  }
  step.groupSize = groups ? featureSize / groups : featureSize;
}

void Preprocessor::applyStep(const Step &step, float *sample) const {
  if (step.kind == Kind::Clip) {
    clampValues(sample, featureSize, step.lo, step.hi);
    return;
  }
  size_t groups = step.shift.size();
  if (columns && (step.kind == Kind::Standardize || step.kind == Kind::MinMax)) {
    shiftScaleColumns(sample, featureSize, step.shift.data(), step.mul.data(),
                      columns);
    return;
  }
  for (size_t g = 0; g < groups; ++g)
    shiftScale(sample + g * step.groupSize, step.groupSize, step.shift[g],
               step.mul[g]);
}

void Preprocessor::fit(const Dataset &train) {
  if (train.empty())
    throw Error("preprocess: cannot compute statistics on an empty training "
                "split");
  bind(train.featureShape());
  std::vector<float> sample(featureSize);
  for (size_t s = 0; s < steps.size(); ++s) {
    Step &step = steps[s];
    if (step.kind == Kind::Standardize || step.kind == Kind::MinMax) {
      // Two passes in double: the mean, then the spread around it. Column
      // statistics pool the rows: value k belongs to statistic k % columns.
      size_t stats = columns ? columns : featureSize;
      double count = double(train.size()) * double(featureSize / stats);
      std::vector<double> a(stats, 0.0), b(stats, 0.0);
      if (step.kind == Kind::MinMax) {
        std::fill(a.begin(), a.end(), INFINITY);
        std::fill(b.begin(), b.end(), -INFINITY);
      }
      auto transformed = [&](size_t i) {
        train.copyFeatures(i, sample.data());
        for (size_t p = 0; p < s; ++p)
          applyStep(steps[p], sample.data());
      };
      for (size_t i = 0; i < train.size(); ++i) {
        transformed(i);
        for (size_t k = 0; k < featureSize; ++k) {
          size_t j = k % stats;
          if (step.kind == Kind::Standardize) {
            a[j] += sample[k];
          } else {
            a[j] = std::min<double>(a[j], sample[k]);
            b[j] = std::max<double>(b[j], sample[k]);
          }
        }
      }
      if (step.kind == Kind::Standardize) {
        for (double &sum : a)
          sum /= count;
        for (size_t i = 0; i < train.size(); ++i) {
          transformed(i);
          for (size_t k = 0; k < featureSize; ++k) {
            size_t j = k % stats;
            b[j] += (sample[k] - a[j]) * (sample[k] - a[j]);
          }
        }
        for (double &sum : b)
          sum = std::sqrt(sum / count);
      }
      step.first.assign(a.begin(), a.end());
      step.second.assign(b.begin(), b.end());
    }
    derive(step);
  }
  bound = true;
}

void Preprocessor::apply(float *sample) const {
  for (const Step &step : steps)
    applyStep(step, sample);
}

CleanReport Preprocessor::countClipped(const Dataset &data) const {
  CleanReport report;
  report.step = "clip";
  report.rowsBefore = report.rowsAfter = data.size();
  if (!bound)
    throw Error("preprocess: countClipped before fit");
  std::vector<float> sample(featureSize);
  for (size_t i = 0; i < data.size(); ++i) {
    data.copyFeatures(i, sample.data());
    size_t changed = 0;
    for (const Step &step : steps) {
      if (step.kind == Kind::Clip) {
        for (float x : sample)
          changed += (x < step.lo || x > step.hi) ? 1 : 0;
        report.step = fmt::format("clip({}, {})", step.lo, step.hi);
      }
      applyStep(step, sample.data());
    }
    report.valuesChanged += changed;
    report.rowsChanged += changed ? 1 : 0;
  }
  return report;
}

std::string Preprocessor::describe() const {
  std::string text;
  for (const Step &step : steps) {
    if (!text.empty())
      text += ' ';
    text += kindName(step.kind);
    if (step.kind == Kind::Scale)
      text += fmt::format("({})", step.first[0]);
    else if (step.kind == Kind::Normalize)
      text += fmt::format("({} values)", step.first.size());
    else if (step.kind == Kind::Clip)
      text += fmt::format("({}, {})", step.lo, step.hi);
  }
  if (oneHot)
    text += text.empty() ? "one_hot" : " one_hot";
  return text;
}

std::vector<TensorData> Preprocessor::state(const std::string &prefix) const {
  std::vector<TensorData> tensors;
  if (!bound)
    throw Error("preprocess: state() before fit");
  for (size_t s = 0; s < steps.size(); ++s) {
    const Step &step = steps[s];
    std::string base = prefix + std::to_string(s) + "." + kindName(step.kind);
    int64_t n = int64_t(step.first.size());
    switch (step.kind) {
    case Kind::Scale:
      tensors.push_back(TensorData::f32(base + ".k", {1}, step.first));
      break;
    case Kind::Normalize:
    case Kind::Standardize:
      tensors.push_back(TensorData::f32(base + ".mean", {n}, step.first));
      tensors.push_back(TensorData::f32(base + ".std", {n}, step.second));
      break;
    case Kind::MinMax:
      tensors.push_back(TensorData::f32(base + ".min", {n}, step.first));
      tensors.push_back(TensorData::f32(base + ".max", {n}, step.second));
      break;
    case Kind::Clip:
      tensors.push_back(
          TensorData::f32(base + ".bounds", {2}, {step.lo, step.hi}));
      break;
    }
  }
  return tensors;
}

void Preprocessor::restore(const SafeTensorsFile &file,
                           const std::vector<int64_t> &featureShape,
                           const std::string &prefix) {
  bind(featureShape);
  for (size_t s = 0; s < steps.size(); ++s) {
    Step &step = steps[s];
    std::string base = prefix + std::to_string(s) + "." + kindName(step.kind);
    std::vector<int64_t> perFeature = {
        int64_t(columns ? columns : featureSize)};
    std::vector<int64_t> count = {int64_t(step.first.size())};
    switch (step.kind) {
    case Kind::Scale:
      // The program's own constant wins; the saved one must agree.
    case Kind::Clip: {
      std::vector<float> saved =
          file.floats(base + (step.kind == Kind::Scale ? ".k" : ".bounds"));
      std::vector<float> mine = step.kind == Kind::Scale
                                    ? step.first
                                    : std::vector<float>{step.lo, step.hi};
      if (saved != mine)
        throw Error(file.fileName() + ": preprocessing step " +
                    std::to_string(s) + " (" + kindName(step.kind) +
                    ") differs from this program's; was the checkpoint made "
                    "by another model?");
      break;
    }
    case Kind::Normalize:
      step.first = file.floats(base + ".mean", &count);
      step.second = file.floats(base + ".std", &count);
      break;
    case Kind::Standardize:
      step.first = file.floats(base + ".mean", &perFeature);
      step.second = file.floats(base + ".std", &perFeature);
      break;
    case Kind::MinMax:
      step.first = file.floats(base + ".min", &perFeature);
      step.second = file.floats(base + ".max", &perFeature);
      break;
    }
    derive(step);
  }
  bound = true;
}

} // namespace nnrt
