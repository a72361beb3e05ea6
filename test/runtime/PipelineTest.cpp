//===- PipelineTest.cpp - the data pipeline end to end on the real data ---===//
#include "runtime/Batch.h"
#include "runtime/Clean.h"
#include "runtime/Csv.h"
#include "runtime/Idx.h"

#include "TestUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

using namespace nnrt;
using namespace nnrt::test;

// SPEC 2.2: split(train, 0.1, seed = 1), scale(1 / 255), normalize(0.2860,
// 0.3530), batch 64, shuffled; the prefetched epoch equals the synchronous
// one and covers the 54000 training samples once.
TEST(Pipeline, FashionMnistPrefetchedEpoch) {
  std::string dir = NNRT_FASHION_DIR;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed at " << dir;
  Dataset all =
      loadIdxDataset(dir + "/train-images-idx3-ubyte.gz",
                     dir + "/train-labels-idx1-ubyte.gz", IdxOptions{10});
  auto [train, val] = all.split(0.1, 1);
  EXPECT_EQ(train.size(), 54000u);
  EXPECT_EQ(val.size(), 6000u);
  Preprocessor pre;
  pre.addScale(1.0f / 255);
  pre.addNormalize({0.2860f}, {0.3530f});
  pre.fit(train);
  BatchLoader loader(train, pre, LoaderOptions{64, true, false}, 7);
  EXPECT_EQ(loader.beginEpoch(), 844u); // 843 full + one of 48
  Prefetcher prefetcher(loader, 3);
  Batch batch, expected;
  size_t n = 0, real = 0;
  double sum = 0;
  std::vector<uint8_t> seen(all.size(), 0);
  while (prefetcher.next(batch)) {
    if (n % 97 == 0 || n == 843) {
      loader.fillBatch(n, expected);
      ASSERT_EQ(batch.x, expected.x);
      ASSERT_EQ(batch.labels, expected.labels);
      ASSERT_EQ(batch.mask, expected.mask);
    }
    EXPECT_EQ(batch.x.size(), 64u * 784u);
    for (size_t r = 0; r < batch.count; ++r) {
      ++seen[train.sampleIndices()[batch.samples[r]]];
      for (size_t k = 0; k < 784; ++k)
        sum += batch.x[r * 784 + k];
    }
    real += batch.count;
    ++n;
  }
  EXPECT_EQ(n, 844u);
  EXPECT_EQ(batch.count, 48u);
  EXPECT_EQ(real, 54000u);
  for (uint32_t i : val.sampleIndices())
    EXPECT_EQ(seen[i], 0);
  EXPECT_NEAR(sum / (54000.0 * 784), 0.0, 0.01); // normalized around 0
}

// SPEC 2.5 on breast_cancer.csv; the standardized training features match
// scikit-learn's StandardScaler fitted on the same rows.
TEST(Pipeline, BreastCancerMatchesStandardScaler) {
  std::string csv = std::string(NNRT_EXAMPLES_DIR) + "/data/breast_cancer.csv";
  if (!std::filesystem::exists(csv))
    GTEST_SKIP() << "examples/data not present";
  CsvOptions options;
  options.targets = {"label"};
  Table table = readCsv(csv, options);
  dropMissing(table);
  dropDuplicates(table);
  Dataset data = makeTabularDataset(table, {TargetKind::Values, 0});
  Preprocessor pre;
  pre.addStandardize();
  pre.addClip(-10, 10);
  auto [train, val] = data.split(0.2, 3);
  pre.fit(train);
  std::vector<TensorData> state = pre.state();
  ASSERT_EQ(state.size(), 3u);

  if (std::system("/usr/bin/python3 -c 'import sklearn' 2>/dev/null") != 0)
    GTEST_SKIP() << "python3-sklearn is not installed";
  TempDir dir;
  nlohmann::json rows = nlohmann::json::array();
  for (uint32_t i : train.sampleIndices())
    rows.push_back(i);
  std::ofstream(dir.file("rows.json")) << rows.dump();
  std::string script =
      "import csv, json, sys\n"
      "from sklearn.preprocessing import StandardScaler\n"
      "rows = json.load(open(sys.argv[2]))\n"
      "data = list(csv.reader(open(sys.argv[1])))[1:]\n"
      "x = [[float(v) for v in data[i][:30]] for i in rows]\n"
      "s = StandardScaler().fit(x)\n"
      "json.dump({'mean': list(s.mean_), 'std': list(s.scale_)},"
      " open(sys.argv[3], 'w'))\n";
  std::ofstream(dir.file("ref.py")) << script;
  std::string command = "/usr/bin/python3 " + dir.file("ref.py") + " " + csv +
                        " " + dir.file("rows.json") + " " +
                        dir.file("ref.json");
  ASSERT_EQ(std::system(command.c_str()), 0);
  nlohmann::json ref =
      nlohmann::json::parse(std::ifstream(dir.file("ref.json")));
  std::vector<float> mean(30);
  std::memcpy(mean.data(), state[0].bytes.data(), 30 * sizeof(float));
  std::vector<float> std(30);
  std::memcpy(std.data(), state[1].bytes.data(), 30 * sizeof(float));
  for (size_t f = 0; f < 30; ++f) {
    double refMean = ref["mean"][f].get<double>();
    double refStd = ref["std"][f].get<double>();
    EXPECT_NEAR(mean[f], refMean, 1e-5 * std::max(1.0, std::fabs(refMean)));
    EXPECT_NEAR(std[f], refStd, 1e-5 * std::max(1.0, refStd));
  }
}
