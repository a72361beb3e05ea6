//===- Log.cpp - JSONL training logs and the console progress display -----===//
#include "runtime/Log.h"

#include "runtime/Error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <unistd.h>

namespace nnrt {

static nlohmann::ordered_json number(double value) {
  if (!std::isfinite(value))
    return nullptr;
  return value;
}

JsonlLogger::JsonlLogger(const std::string &path) : path(path) {
  file = std::fopen(path.c_str(), "w");
  if (!file)
    throw Error(path + ": cannot open log file: " + systemError(errno));
}

JsonlLogger::~JsonlLogger() {
  if (file)
    std::fclose(file);
}

void JsonlLogger::writeLine(const std::string &line) {
  if (std::fputs(line.c_str(), file) < 0 || std::fputc('\n', file) == EOF ||
      std::fflush(file) != 0)
    throw Error(path + ": cannot write log: " + systemError(errno));
}

std::string JsonlLogger::epochLine(const EpochRecord &record) {
  nlohmann::ordered_json line;
  line["event"] = "epoch";
  line["epoch"] = record.epoch;
  line["step"] = record.step;
  line["lr"] = number(record.lr);
  line["train_loss"] = number(record.trainLoss);
  if (record.valLoss)
    line["val_loss"] = number(*record.valLoss);
  for (const auto &[name, value] : record.metrics)
    line[name] = number(value);
  line["samples_per_s"] = number(record.samplesPerSecond);
  line["seconds"] = number(record.seconds);
  if (record.allreduceSeconds)
    line["allreduce_s"] = number(*record.allreduceSeconds);
  if (record.waitSeconds)
    line["wait_s"] = number(*record.waitSeconds);
  if (record.deviceMemoryMiB)
    line["device_memory_mib"] = number(*record.deviceMemoryMiB);
  return line.dump();
}

void JsonlLogger::logEpoch(const EpochRecord &record) {
  writeLine(epochLine(record));
}

std::string JsonlLogger::eventLine(const std::string &name,
                                   const nlohmann::ordered_json &fields) {
  nlohmann::ordered_json line;
  line["event"] = name;
  if (fields.is_object())
    for (const auto &[key, value] : fields.items())
      line[key] = value.is_number_float() ? number(value.get<double>()) : value;
  // Class names come from folder names, which need not be UTF-8: a name
  // that is not gets U+FFFD rather than ending the run with an exception.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonlLogger::logEvent(const std::string &name,
                           const nlohmann::ordered_json &fields) {
  writeLine(eventLine(name, fields));
}

void JsonlLogger::logDone(const nlohmann::ordered_json &fields) {
  logEvent("done", fields);
}

static double steadySeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

ProgressReporter::ProgressReporter(std::FILE *out,
                                   std::optional<bool> interactive, Clock clock)
    : out(out),
      interactive(interactive ? *interactive : ::isatty(::fileno(out)) != 0),
      clock(clock ? std::move(clock) : Clock(steadySeconds)) {}

void ProgressReporter::beginEpoch(int64_t epoch, int64_t epochs,
                                  size_t samples) {
  this->epoch = epoch;
  this->epochs = epochs;
  this->samples = samples;
  start = clock();
  lastDraw = -1;
  barShown = false;
}

static std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "--:--";
  long total = std::lround(seconds);
  if (total >= 3600)
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60,
                       total % 60);
  return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

void ProgressReporter::draw(size_t done, double loss, double now) {
  double elapsed = now - start;
  double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
  double eta =
      rate > 0 ? double(samples - std::min(done, samples)) / rate : NAN;
  constexpr int Width = 30;
  int filled = samples ? int(Width * double(done) / double(samples)) : Width;
  filled = std::min(filled, Width);
  std::string bar(size_t(filled), '=');
  if (filled < Width)
    bar += '>' + std::string(size_t(Width - filled - 1), ' ');
  // A run in steps: the bar spans the steps up to the next evaluation.
  std::fprintf(out,
               "\r%s %lld/%lld [%s] %zu/%zu  loss %.4f  %.0f samples/s"
               "  ETA %s   ",
               totalSteps > 0 ? "evaluation" : "epoch", (long long)epoch,
               (long long)epochs, bar.c_str(), done, samples, loss, rate,
               formatDuration(eta).c_str());
  std::fflush(out);
  barShown = true;
}

void ProgressReporter::update(size_t done, double loss) {
  if (!interactive)
    return;
  double now = clock();
  if (lastDraw >= 0 && now - lastDraw < 0.1 && done < samples)
    return;
  lastDraw = now;
  draw(done, loss, now);
}

std::string ProgressReporter::summaryLine(const EpochRecord &record,
                                          int64_t epochs, int64_t totalSteps) {
  std::string line =
      totalSteps > 0
          ? fmt::format("step {}/{}: train_loss {:.4f}", record.step,
                        totalSteps, record.trainLoss)
          : fmt::format("epoch {}/{}: train_loss {:.4f}", record.epoch, epochs,
                        record.trainLoss);
  if (record.valLoss)
    line += fmt::format("  val_loss {:.4f}", *record.valLoss);
  for (const auto &[name, value] : record.metrics)
    line += fmt::format("  {} {:.4f}", name, value);
  line += fmt::format("  lr {:.6g}  {:.0f} samples/s  {:.2f}s", record.lr,
                      record.samplesPerSecond, record.seconds);
  return line;
}

void ProgressReporter::endEpoch(const EpochRecord &record) {
  if (barShown)
    std::fputs("\r\033[K", out); // clear the bar's line
  barShown = false;
  std::fprintf(out, "%s\n", summaryLine(record, epochs, totalSteps).c_str());
  std::fflush(out);
}

void ProgressReporter::message(const std::string &text) {
  if (barShown)
    std::fputs("\r\033[K", out);
  barShown = false;
  std::fprintf(out, "%s\n", text.c_str());
  std::fflush(out);
}

} // namespace nnrt
