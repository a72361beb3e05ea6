//===- MetricsTest.cpp - metrics by hand and against scikit-learn ---------===//
#include "runtime/Metrics.h"
#include "runtime/Rng.h"

#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace nnrt;
using namespace nnrt::test;

TEST(Metrics, ClassificationByHand) {
  // 3 classes, logits argmax -> predictions 0, 1, 1, 2, 0 ; true 0, 1, 2, 2, 1
  std::vector<float> logits = {5,
                               1,
                               0,
                               0,
                               3,
                               1,
                               0,
                               2,
                               1,
                               0,
                               0,
                               9,
                               4,
                               4,
                               0,
                               /*padding row*/ 0,
                               0,
                               9};
  std::vector<int32_t> labels = {0, 1, 2, 2, 1, 2};
  std::vector<float> mask = {1, 1, 1, 1, 1, 0};
  ClassificationMetrics m(3);
  m.addLogits(logits.data(), 3, labels.data(), mask.data(), 6);
  EXPECT_EQ(m.count(), 5u);
  EXPECT_DOUBLE_EQ(m.accuracy(), 3.0 / 5);
  // Per class: precision 1/2, 1/2, 1 ; recall 1, 1/2, 1/2.
  EXPECT_DOUBLE_EQ(m.precision(), (0.5 + 0.5 + 1.0) / 3);
  EXPECT_DOUBLE_EQ(m.recall(), (1.0 + 0.5 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(m.f1(), (2.0 / 3 + 0.5 + 2.0 / 3) / 3);
  EXPECT_EQ(m.confusion()[2], (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(m.confusion()[1], (std::vector<int64_t>{1, 1, 0}));
  EXPECT_NE(formatConfusion(m).find("true\\pred"), std::string::npos);

  // A class never predicted gets precision 0 (zero_division = 0).
  ClassificationMetrics never(3);
  std::vector<int32_t> predicted = {0, 0, 0}, truth = {0, 1, 0};
  never.addPredictions(predicted.data(), truth.data(), nullptr, 3);
  EXPECT_DOUBLE_EQ(never.precision(), (2.0 / 3 + 0) / 2); // class 2 unused
  double value = 0;
  EXPECT_TRUE(metricValue("f1", &never, nullptr, value));
  EXPECT_FALSE(metricValue("mse", &never, nullptr, value));
  EXPECT_FALSE(metricValue("bogus", &never, nullptr, value));
}

TEST(Metrics, BinaryThresholdIsLogitAboveZero) {
  std::vector<float> logits = {-0.1f, 0.0f, 0.2f, 3.0f};
  std::vector<int32_t> labels = {0, 0, 1, 0};
  std::vector<float> targets = {0, 0, 1, 0};
  ClassificationMetrics a(2), b(2);
  a.addLogits(logits.data(), 1, labels.data(), nullptr, 4);
  b.addBinaryLogits(logits.data(), targets.data(), nullptr, 4);
  EXPECT_DOUBLE_EQ(a.accuracy(), 0.75); // 0.0 is class 0
  EXPECT_EQ(a.confusion(), b.confusion());
  EXPECT_NNRT_ERROR(a.addLogits(logits.data(), 3, labels.data(), nullptr, 1),
                    "3 values per row for 2 classes");
}

TEST(Metrics, RegressionByHand) {
  std::vector<float> pred = {1, 2, 3, 100}, truth = {1, 3, 5, 0};
  std::vector<float> mask = {1, 1, 1, 0};
  RegressionMetrics m(1);
  m.add(pred.data(), truth.data(), mask.data(), 4);
  EXPECT_DOUBLE_EQ(m.mse(), 5.0 / 3);
  EXPECT_DOUBLE_EQ(m.mae(), 1.0);
  // mean 3, SS_tot = 4 + 0 + 4 = 8, SS_res = 5
  EXPECT_DOUBLE_EQ(m.r2(), 1 - 5.0 / 8);
  RegressionMetrics constant(1);
  std::vector<float> same = {2, 2};
  constant.add(same.data(), same.data(), nullptr, 2);
  EXPECT_DOUBLE_EQ(constant.r2(), 1.0);
}

TEST(Metrics, CountsSumOverRanks) {
  // Two ranks' halves, their counts summed, equal the whole.
  std::vector<float> logits = {3, 1, 0, 2, 5, 4, 1, 7, 2, 2};
  std::vector<int32_t> labels = {0, 1, 1, 1, 0};
  std::vector<float> mask = {1, 1, 1, 1, 1};
  ClassificationMetrics whole(2), a(2), b(2);
  whole.addLogits(logits.data(), 2, labels.data(), mask.data(), 5);
  a.addLogits(logits.data(), 2, labels.data(), mask.data(), 2);
  b.addLogits(logits.data() + 4, 2, labels.data() + 2, mask.data(), 3);
  std::vector<double> sum = a.counts(), other = b.counts();
  for (size_t i = 0; i < sum.size(); ++i)
    sum[i] += other[i];
  a.setCounts(sum.data());
  EXPECT_EQ(a.confusion(), whole.confusion());
  EXPECT_EQ(a.count(), 5u);
  EXPECT_DOUBLE_EQ(a.f1(), whole.f1());

  std::vector<float> pred = {1, 2, 3, 4, 5, 6}, truth = {1, 3, 5, 2, 6, 6};
  RegressionMetrics rw(2), ra(2), rb(2);
  rw.add(pred.data(), truth.data(), nullptr, 3);
  ra.add(pred.data(), truth.data(), nullptr, 1);
  rb.add(pred.data() + 2, truth.data() + 2, nullptr, 2);
  std::vector<double> rs = ra.counts(), ro = rb.counts();
  for (size_t i = 0; i < rs.size(); ++i)
    rs[i] += ro[i];
  ra.setCounts(rs.data());
  EXPECT_EQ(ra.count(), 3u);
  EXPECT_DOUBLE_EQ(ra.mse(), rw.mse());
  EXPECT_DOUBLE_EQ(ra.mae(), rw.mae());
  EXPECT_DOUBLE_EQ(ra.r2(), rw.r2());
}

TEST(Metrics, AgreeWithScikitLearn) {
  if (std::system("/usr/bin/python3 -c 'import sklearn' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-sklearn is not installed";
  Rng rng(2024);
  nlohmann::json input = {{"classification", nlohmann::json::array()},
                          {"regression", nlohmann::json::array()}};
  std::vector<ClassificationMetrics> classifiers;
  std::vector<RegressionMetrics> regressors;
  for (int32_t classes : {2, 3, 10}) {
    ClassificationMetrics metrics(classes);
    std::vector<int32_t> allTrue, allPred;
    // Several masked batches of 32, the last one partial.
    for (int batch = 0; batch < 7; ++batch) {
      size_t rows = 32, real = batch == 6 ? 13 : 32;
      std::vector<float> logits(rows * size_t(classes));
      std::vector<int32_t> labels(rows);
      std::vector<float> mask(rows, 0.0f);
      for (size_t r = 0; r < rows; ++r) {
        labels[r] = int32_t(rng.below(uint64_t(classes)));
        for (int32_t c = 0; c < classes; ++c)
          logits[r * size_t(classes) + size_t(c)] =
              float(rng.uniform()) + (c == labels[r] ? 0.4f : 0.0f);
        if (r < real) {
          mask[r] = 1;
          const float *row = logits.data() + r * size_t(classes);
          allTrue.push_back(labels[r]);
          allPred.push_back(
              int32_t(std::max_element(row, row + classes) - row));
        }
      }
      metrics.addLogits(logits.data(), size_t(classes), labels.data(),
                        mask.data(), rows);
    }
    classifiers.push_back(metrics);
    input["classification"].push_back(
        {{"true", allTrue}, {"pred", allPred}, {"classes", classes}});
  }
  for (size_t width : {1u, 3u}) {
    RegressionMetrics metrics(width);
    std::vector<std::vector<float>> allTrue, allPred;
    for (int batch = 0; batch < 5; ++batch) {
      size_t rows = 16, real = batch == 4 ? 5 : 16;
      std::vector<float> pred(rows * width), truth(rows * width), mask(rows, 0);
      for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < width; ++c) {
          truth[r * width + c] = float(rng.uniform() * 10 * double(c + 1));
          pred[r * width + c] =
              truth[r * width + c] + float(rng.uniform() - 0.5);
        }
        if (r < real) {
          mask[r] = 1;
          allTrue.emplace_back(truth.begin() + long(r * width),
                               truth.begin() + long((r + 1) * width));
          allPred.emplace_back(pred.begin() + long(r * width),
                               pred.begin() + long((r + 1) * width));
        }
      }
      metrics.add(pred.data(), truth.data(), mask.data(), rows);
    }
    regressors.push_back(metrics);
    input["regression"].push_back({{"true", allTrue}, {"pred", allPred}});
  }
  nlohmann::json out = runPythonReference("metrics_reference.py", input);
  ASSERT_FALSE(out.is_null());
  for (size_t i = 0; i < classifiers.size(); ++i) {
    const nlohmann::json &ref = out["classification"][i];
    EXPECT_NEAR(classifiers[i].accuracy(), ref["accuracy"].get<double>(),
                1e-12);
    EXPECT_NEAR(classifiers[i].precision(), ref["precision"].get<double>(),
                1e-12);
    EXPECT_NEAR(classifiers[i].recall(), ref["recall"].get<double>(), 1e-12);
    EXPECT_NEAR(classifiers[i].f1(), ref["f1"].get<double>(), 1e-12);
    EXPECT_EQ(nlohmann::json(classifiers[i].confusion()), ref["confusion"]);
  }
  for (size_t i = 0; i < regressors.size(); ++i) {
    const nlohmann::json &ref = out["regression"][i];
    EXPECT_NEAR(regressors[i].mse(), ref["mse"].get<double>(), 1e-9);
    EXPECT_NEAR(regressors[i].mae(), ref["mae"].get<double>(), 1e-9);
    EXPECT_NEAR(regressors[i].r2(), ref["r2"].get<double>(), 1e-9);
  }
}
