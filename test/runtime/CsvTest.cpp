//===- CsvTest.cpp - CSV parsing, error paths, cleaning, tabular datasets -===//
#include "runtime/Csv.h"
#include "runtime/Clean.h"
#include "runtime/Preprocess.h"

#include "TestUtil.h"

#include <cmath>
#include <filesystem>

using namespace nnrt;
using namespace nnrt::test;

namespace {
struct CsvFiles : ::testing::Test {
  TempDir dir;
  std::string write(const std::string &name, const std::string &text) {
    std::string path = dir.file(name);
    writeFile(path, text);
    return path;
  }
};
} // namespace

TEST_F(CsvFiles, ParsesSelectedColumns) {
  std::string path =
      write("p.csv", "x, y ,note\r\n1,2,a\n\n-3.5e1,+4,\"b,c\"\n");
  CsvOptions options;
  options.features = {"x"};
  options.targets = {"y"};
  Table table = readCsv(path, options);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(table.numRows, 2u);
  EXPECT_EQ(table.lines, (std::vector<size_t>{2, 4}));
  EXPECT_EQ(table.values, (std::vector<float>{1, 2, -35, 4}));
}

TEST_F(CsvFiles, DefaultFeaturesAreAllButTarget) {
  std::string path = write("t.csv", "a;b;label;c\n1;2;0;3\n4;5;1;6\n");
  CsvOptions options;
  options.delimiter = ';';
  options.targets = {"label"};
  Table table = readCsv(path, options);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"a", "b", "c", "label"}));
  EXPECT_EQ(table.numFeatures, 3u);
  EXPECT_EQ(table.values, (std::vector<float>{1, 2, 3, 0, 4, 5, 6, 1}));
}

TEST_F(CsvFiles, NoHeaderNamesColumnsByPosition) {
  std::string path = write("n.csv", "1,2\n3,4\n");
  CsvOptions options;
  options.header = false;
  options.targets = {"1"};
  Table table = readCsv(path, options);
  EXPECT_EQ(table.numRows, 2u);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"0", "1"}));
  options.targets = {"y"};
  EXPECT_NNRT_ERROR(readCsv(path, options), "without a header");
}

TEST_F(CsvFiles, NotANumberNamesLineAndField) {
  std::string text = "x,y\n";
  for (int i = 2; i < 17; ++i)
    text += "1,2\n";
  text += "3,abc\n";
  std::string path = write("points.csv", text);
  CsvOptions options;
  options.targets = {"y"};
  EXPECT_NNRT_ERROR(readCsv(path, options),
                    "points.csv:17: field 2 ('y') is not a number: 'abc'");
}

TEST_F(CsvFiles, ErrorPaths) {
  CsvOptions options;
  options.targets = {"y"};
  EXPECT_NNRT_ERROR(readCsv(write("e.csv", ""), options),
                    "e.csv: file is empty");
  EXPECT_NNRT_ERROR(readCsv(write("w.csv", " \n\n"), options),
                    "w.csv: file is empty");
  EXPECT_NNRT_ERROR(readCsv(write("h.csv", "x,y\n"), options),
                    "h.csv: no data rows after the header");
  EXPECT_NNRT_ERROR(readCsv(write("r.csv", "x,y\n1,2\n3\n"), options),
                    "r.csv:3: expected 2 fields, got 1");
  EXPECT_NNRT_ERROR(readCsv(write("r2.csv", "x,y\n1,2,3\n"), options),
                    "r2.csv:2: expected 2 fields, got 3");
  EXPECT_NNRT_ERROR(readCsv(write("q.csv", "x,y\n\"1,2\n"), options),
                    "q.csv:2: unterminated quoted field");
  EXPECT_NNRT_ERROR(readCsv(write("i.csv", "x,y\n1,inf\n"), options),
                    "i.csv:2: field 2 ('y') is not a finite number: 'inf'");
  EXPECT_NNRT_ERROR(readCsv(write("o.csv", "x,y\n1,1e300\n"), options),
                    "out of float range");
  EXPECT_NNRT_ERROR(readCsv(write("d.csv", "x,x\n1,2\n"), options),
                    "d.csv:1: column name 'x' appears twice");
  options.targets = {"lable"};
  EXPECT_NNRT_ERROR(
      readCsv(write("u.csv", "x,label\n1,2\n"), options),
      "u.csv: unknown target column 'lable'; did you mean 'label'?");
  options.targets = {"label"};
  options.features = {"zzz"};
  EXPECT_NNRT_ERROR(readCsv(write("u2.csv", "x,label\n1,2\n"), options),
                    "unknown feature column 'zzz'");
  options.features = {};
  EXPECT_NNRT_ERROR(readCsv(write("only.csv", "label\n1\n"), options),
                    "no feature columns");
  EXPECT_NNRT_ERROR(readCsv(dir.file("absent.csv"), options),
                    "absent.csv: cannot open file");
}

TEST_F(CsvFiles, MissingValuesAndCleaning) {
  std::string path = write("m.csv",
                           "a,b,y\n"
                           "1,10,0\n"   // 2
                           ",20,1\n"    // 3: a missing
                           "3,NaN,0\n"  // 4: b missing
                           "1,10,0\n"   // 5: duplicate of 2
                           "5,40,\n"    // 6: target missing
                           "7,50,1\n"); // 7
  CsvOptions options;
  options.targets = {"y"};
  Table table = readCsv(path, options);
  EXPECT_TRUE(std::isnan(table.row(1)[0]));
  EXPECT_TRUE(std::isnan(table.row(2)[1]));
  EXPECT_NNRT_ERROR(
      makeTabularDataset(table, {TargetKind::ClassIndex, 0}),
      "m.csv:3: column 'a' is missing; add drop_missing or fill_missing");

  Table dropped = table;
  CleanReport missing = dropMissing(dropped);
  EXPECT_EQ(missing.rowsRemoved, 3u);
  EXPECT_EQ(dropped.lines, (std::vector<size_t>{2, 5, 7}));
  CleanReport duplicates = dropDuplicates(dropped);
  EXPECT_EQ(duplicates.rowsRemoved, 1u);
  EXPECT_EQ(duplicates.summary(), "drop_duplicates: removed 1 of 3 rows");
  EXPECT_EQ(dropped.lines, (std::vector<size_t>{2, 7}));

  Table meanFilled = table;
  CleanReport mean = fillMissing(meanFilled, FillMethod::Mean);
  EXPECT_EQ(mean.rowsRemoved, 1u); // the row without a target
  EXPECT_EQ(mean.rowsChanged, 2u);
  EXPECT_EQ(mean.valuesChanged, 2u);
  // a: present 1,3,1,5,7 -> 3.4 ; b: present 10,20,10,40,50 -> 26
  EXPECT_FLOAT_EQ(meanFilled.row(1)[0], 3.4f);
  EXPECT_FLOAT_EQ(meanFilled.row(2)[1], 26.0f);

  Table medianFilled = table;
  fillMissing(medianFilled, FillMethod::Median);
  EXPECT_FLOAT_EQ(medianFilled.row(1)[0], 3.0f);  // 1 1 3 5 7
  EXPECT_FLOAT_EQ(medianFilled.row(2)[1], 20.0f); // 10 10 20 40 50

  Table valueFilled = table;
  fillMissing(valueFilled, FillMethod::Value, -1);
  EXPECT_FLOAT_EQ(valueFilled.row(1)[0], -1.0f);
  Dataset data = makeTabularDataset(valueFilled, {TargetKind::ClassIndex, 0});
  EXPECT_EQ(data.size(), 5u);
  EXPECT_EQ(data.numClasses(), 2);
}

TEST_F(CsvFiles, EvenMedianAndEmptyColumn) {
  std::string path = write("e.csv", "a,b,y\n1,,0\n,,1\n4,,0\n2,,1\n9,,1\n");
  CsvOptions options;
  options.features = {"a"};
  options.targets = {"y"};
  Table table = readCsv(path, options);
  fillMissing(table, FillMethod::Median);
  EXPECT_FLOAT_EQ(table.row(1)[0], 3.0f); // 1 2 4 9 -> (2 + 4) / 2
  options.features = {"b"};
  Table empty = readCsv(path, options);
  EXPECT_NNRT_ERROR(fillMissing(empty, FillMethod::Mean),
                    "e.csv: column 'b' has no values");
  Table none;
  none.source = "x.csv";
  none.columns = {"a", "y"};
  none.numFeatures = 1;
  EXPECT_NNRT_ERROR(makeTabularDataset(none, {}),
                    "x.csv: no rows left after cleaning");
}

TEST_F(CsvFiles, ClassLabelsMustBeIntegers) {
  CsvOptions options;
  options.targets = {"y"};
  Table table = readCsv(write("c.csv", "x,y\n1,0\n2,1.5\n"), options);
  EXPECT_NNRT_ERROR(makeTabularDataset(table, {TargetKind::ClassIndex, 0}),
                    "c.csv:3: class label 'y' must be a non-negative integer");
  Table ranged = readCsv(write("c2.csv", "x,y\n1,0\n2,3\n"), options);
  EXPECT_NNRT_ERROR(makeTabularDataset(ranged, {TargetKind::ClassIndex, 2}),
                    "c2.csv:3: class label 3 is out of range [0, 2)");
}

TEST(RealCsv, BreastCancerAndPoints) {
  std::string examples = NNRT_EXAMPLES_DIR;
  if (!std::filesystem::exists(examples + "/data/breast_cancer.csv"))
    GTEST_SKIP() << "examples/data not present";
  CsvOptions options;
  options.targets = {"label"};
  Table table = readCsv(examples + "/data/breast_cancer.csv", options);
  EXPECT_EQ(table.numFeatures, 30u);
  EXPECT_EQ(table.numRows, 569u);
  EXPECT_EQ(dropMissing(table).rowsRemoved, 0u);
  EXPECT_EQ(dropDuplicates(table).rowsRemoved, 0u);
  Dataset data = makeTabularDataset(table, {TargetKind::Values, 0});
  EXPECT_EQ(data.featureShape(), (std::vector<int64_t>{30}));
  EXPECT_EQ(data.targetWidth(), 1u);

  Preprocessor pre;
  pre.addStandardize();
  pre.addClip(-10, 10);
  auto [train, val] = data.split(0.2, 3);
  EXPECT_EQ(val.size(), 114u); // round(0.2 * 569)
  pre.fit(train);
  CleanReport clipped = pre.countClipped(data);
  EXPECT_EQ(clipped.step, "clip(-10, 10)");
  EXPECT_LE(clipped.rowsChanged, 5u);

  CsvOptions pointOptions;
  pointOptions.features = {"x"};
  pointOptions.targets = {"y"};
  Table points = readCsv(examples + "/data/points.csv", pointOptions);
  EXPECT_EQ(points.numRows, 256u);
}
