//===- TokenIdsTest.cpp - int32 token-id features: CSV ids, batches -------===//
#include "runtime/Batch.h"
#include "runtime/Clean.h"
#include "runtime/Csv.h"

#include "TestUtil.h"

using namespace nnrt;
using namespace nnrt::test;

namespace {
struct TokenCsv : ::testing::Test {
  TempDir dir;
  std::string write(const std::string &name, const std::string &text) {
    return dir.write(name, text);
  }
  static CsvOptions ids() {
    CsvOptions options;
    options.targets = {"y"};
    options.tokenIds = true;
    return options;
  }
};
} // namespace

TEST_F(TokenCsv, IdsAreExactInt32) {
  // 2^31 - 1 and 2^24 + 1 have no exact float: they must survive.
  std::string path = write("ids.csv", "t0,t1,t2,y\n"
                                      "5, +7 ,0,1\n"
                                      "2147483647,16777217,3.0,0\n");
  Table table = readCsv(path, ids());
  EXPECT_EQ(table.numFeatures, 3u);
  EXPECT_EQ(table.ids,
            (std::vector<int32_t>{5, 7, 0, 2147483647, 16777217, 3}));
  Dataset data = makeTabularDataset(table, TargetSpec{TargetKind::ClassIndex});
  ASSERT_TRUE(data.isTokens());
  EXPECT_EQ(data.featureShape(), (std::vector<int64_t>{3}));
  std::vector<int32_t> row(3);
  data.copyTokens(1, row.data());
  EXPECT_EQ(row, (std::vector<int32_t>{2147483647, 16777217, 3}));
  EXPECT_EQ(data.label(0), 1);
  EXPECT_EQ(data.origin(1), "ids.csv:3");
  std::vector<float> floats(3);
  EXPECT_NNRT_ERROR(data.copyFeatures(0, floats.data()), "no float features");
}

TEST_F(TokenCsv, NonIdsAreOneLineErrorsWithLineAndColumn) {
  for (const char *bad :
       {"1.5", "-1", "2147483648", "abc", "", "1e40", "nan"}) {
    std::string path =
        write("bad.csv", std::string("a,b,y\n1,2,0\n3,") + bad + ",1\n");
    EXPECT_NNRT_ERROR(
        readCsv(path, ids()),
        std::string("bad.csv:3: field 2 ('b') is not a token id (a whole "
                    "number from 0 to 2147483647): '") +
            bad + "'");
  }
  // Targets are parsed as before: a float column may hold anything numeric.
  std::string path = write("ok.csv", "a,y\n1,0.5\n");
  EXPECT_EQ(readCsv(path, ids()).values, (std::vector<float>{1, 0.5f}));
}

TEST_F(TokenCsv, CleaningKeepsIdsInStep) {
  std::string path = write("d.csv", "a,b,y\n"
                                    "16777217,1,0\n"
                                    "16777216,1,0\n" // same floats as row 1
                                    "16777217,1,0\n" // a true duplicate
                                    "4,5,\n");       // missing target
  Table table = readCsv(path, ids());
  dropDuplicates(table);
  EXPECT_EQ(table.numRows, 3u);
  dropMissing(table);
  EXPECT_EQ(table.ids, (std::vector<int32_t>{16777217, 1, 16777216, 1}));
  EXPECT_EQ(table.lines, (std::vector<size_t>{2, 3}));
}

TEST(TokenBatches, CarryIdsUnchangedAndPadWithZeroRows) {
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = "ids";
  storage->featureShape = {2};
  storage->featureSize = 2;
  storage->featureType = FeatureType::I32;
  storage->i32 = {11, 12, 21, 0, 2147483647, 32};
  storage->numSamples = 3;
  storage->targetKind = TargetKind::ClassIndex;
  storage->numClasses = 2;
  storage->labels = {1, 0, 1};
  Dataset data(storage);
  Preprocessor pre; // no steps: ids are not features
  pre.fit(data);
  BatchLoader loader(data, pre, LoaderOptions{2, false, false});
  ASSERT_EQ(loader.beginEpoch(), 2u);
  Batch b;
  loader.fillBatch(1, b);
  EXPECT_TRUE(b.x.empty());
  EXPECT_EQ(b.count, 1u);
  EXPECT_EQ(b.tokens, (std::vector<int32_t>{2147483647, 32, 0, 0}));
  EXPECT_EQ(b.mask, (std::vector<float>{1, 0}));
  EXPECT_EQ(b.labels, (std::vector<int32_t>{1, 0}));

  Augmenter noise({AugmentOp{AugmentOp::Kind::Noise}}, {2}, 0);
  loader.setAugmenter(&noise);
  EXPECT_NNRT_ERROR(loader.fillBatch(0, b),
                    "augmentation does not apply to token ids");
}
