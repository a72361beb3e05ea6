//===- LogTest.cpp - JSONL log lines and the progress display -------------===//
#include "runtime/Log.h"

#include "TestUtil.h"

#include <cmath>
#include <fstream>

using namespace nnrt;
using namespace nnrt::test;

namespace {
EpochRecord sampleRecord() {
  EpochRecord record;
  record.epoch = 1;
  record.step = 938;
  record.lr = 0.1;
  record.trainLoss = 0.52;
  record.valLoss = 0.41;
  record.metrics = {
      {"accuracy", 0.85}, {"precision", 0.85}, {"recall", 0.85}, {"f1", 0.85}};
  record.samplesPerSecond = 91234.5;
  record.seconds = 0.66;
  return record;
}

std::vector<std::string> lines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

/// Captures what a reporter prints.
struct Capture {
  char *buffer = nullptr;
  size_t size = 0;
  std::FILE *file = open_memstream(&buffer, &size);
  ~Capture() {
    std::fclose(file);
    std::free(buffer);
  }
  std::string text() {
    std::fflush(file);
    return std::string(buffer, size);
  }
};
} // namespace

TEST(JsonlLog, EpochLineIsExactlyTheSpecsObject) {
  EXPECT_EQ(
      JsonlLogger::epochLine(sampleRecord()),
      R"({"event":"epoch","epoch":1,"step":938,"lr":0.1,"train_loss":0.52,)"
      R"("val_loss":0.41,"accuracy":0.85,"precision":0.85,"recall":0.85,)"
      R"("f1":0.85,"samples_per_s":91234.5,"seconds":0.66})");
  EpochRecord regression;
  regression.epoch = 100;
  regression.step = 800;
  regression.lr = 0.01;
  regression.trainLoss = NAN; // diverged: JSON has no NaN
  regression.metrics = {{"mse", 0.25}, {"mae", 0.5}};
  regression.samplesPerSecond = 1e6;
  regression.seconds = 2;
  EXPECT_EQ(
      JsonlLogger::epochLine(regression),
      R"({"event":"epoch","epoch":100,"step":800,"lr":0.01,"train_loss":null,)"
      R"("mse":0.25,"mae":0.5,"samples_per_s":1000000.0,"seconds":2.0})");
}

TEST(JsonlLog, WritesAndFlushesEveryLine) {
  TempDir dir;
  std::string path = dir.file("train.jsonl");
  JsonlLogger logger(path);
  logger.logEpoch(sampleRecord());
  // Readable before the logger closes: flushed per line.
  ASSERT_EQ(lines(path).size(), 1u);
  EpochRecord second = sampleRecord();
  second.epoch = 2;
  second.step = 1876;
  logger.logEpoch(second);
  nlohmann::ordered_json done;
  done["epochs"] = 2;
  done["steps"] = 1876;
  done["best_val_loss"] = 0.41;
  done["best_epoch"] = 1;
  done["stopped"] = "completed";
  done["seconds"] = 1.5;
  logger.logDone(done);
  std::vector<std::string> written = lines(path);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[2],
            R"({"event":"done","epochs":2,"steps":1876,"best_val_loss":0.41,)"
            R"("best_epoch":1,"stopped":"completed","seconds":1.5})");
  for (const std::string &line : written) {
    nlohmann::json parsed = nlohmann::json::parse(line);
    EXPECT_TRUE(parsed.contains("event"));
  }
  EXPECT_EQ(nlohmann::json::parse(written[1])["step"], 1876);
  EXPECT_NNRT_ERROR(JsonlLogger(dir.file("no/such/log.jsonl")),
                    "log.jsonl: cannot open log file");
}

TEST(Progress, NotATerminalPrintsOneLinePerEpoch) {
  Capture out;
  double now = 0;
  ProgressReporter progress(out.file, false, [&] { return now; });
  EXPECT_FALSE(progress.isInteractive());
  progress.beginEpoch(1, 5, 60000);
  for (size_t done = 64; done <= 60000; done += 64) {
    now += 0.001;
    progress.update(done, 0.5);
  }
  progress.endEpoch(sampleRecord());
  EXPECT_EQ(out.text(),
            "epoch 1/5: train_loss 0.5200  val_loss 0.4100  accuracy 0.8500  "
            "precision 0.8500  recall 0.8500  f1 0.8500  lr 0.1  91234 "
            "samples/s  0.66s\n");
}

TEST(Progress, TerminalBarIsThrottledAndCleared) {
  Capture out;
  double now = 0;
  ProgressReporter progress(out.file, true, [&] { return now; });
  progress.beginEpoch(2, 5, 6400);
  for (size_t done = 64; done <= 6400; done += 64) {
    now += 0.01; // 100 updates over one second
    progress.update(done, 0.25);
  }
  std::string bar = out.text();
  size_t redraws = 0;
  for (char c : bar)
    redraws += c == '\r';
  EXPECT_GE(redraws, 9u);
  EXPECT_LE(redraws, 12u); // ~10 per second plus the final 100%
  EXPECT_NE(bar.find("epoch 2/5 ["), std::string::npos);
  EXPECT_NE(bar.find("6400/6400"), std::string::npos);
  EXPECT_NE(bar.find("loss 0.2500"), std::string::npos);
  EXPECT_NE(bar.find("6400 samples/s"), std::string::npos);
  EXPECT_NE(bar.find("ETA 00:00"), std::string::npos);
  EXPECT_EQ(bar.find('\n'), std::string::npos);
  EpochRecord record = sampleRecord();
  record.epoch = 2;
  progress.endEpoch(record);
  std::string all = out.text();
  EXPECT_NE(all.find("\r\033[Kepoch 2/5: train_loss"), std::string::npos);
  EXPECT_EQ(all.back(), '\n');
}

TEST(Progress, RunsInStepsCountStepsAndEvaluations) {
  Capture out;
  double now = 0;
  ProgressReporter progress(out.file, true, [&] { return now; });
  progress.countSteps(2000);
  progress.beginEpoch(3, 8, 250 * 12);
  now += 1;
  progress.update(250 * 12, 1.5);
  EXPECT_NE(out.text().find("\revaluation 3/8 ["), std::string::npos);
  EpochRecord record = sampleRecord();
  record.epoch = 3;
  record.step = 750;
  progress.endEpoch(record);
  EXPECT_NE(out.text().find("step 750/2000: train_loss 0.5200"),
            std::string::npos);
  EXPECT_EQ(out.text().find("epoch 3/8"), std::string::npos);
}
