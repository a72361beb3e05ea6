//===- Log.h - JSONL training logs and the console progress display -*- C++
//-*-===//
#ifndef NNRT_LOG_H
#define NNRT_LOG_H

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nnrt {

/// One epoch's numbers, in the order the log writes them.
struct EpochRecord {
  int64_t epoch = 0;
  int64_t step = 0; ///< optimizer steps so far
  double lr = 0;    ///< at the epoch's last step
  double trainLoss = 0;
  std::optional<double> valLoss; ///< absent without a validation split
  std::vector<std::pair<std::string, double>> metrics; ///< as configured
  double samplesPerSecond = 0;
  double seconds = 0;
  /// Data-parallel runs: the seconds rank 0 spent in the gradients'
  /// all-reduce, and before it waiting for the other ranks (the row
  /// counts' all-reduce, which ends when the slowest rank reaches it);
  /// absent otherwise.
  std::optional<double> allreduceSeconds, waitSeconds;
  /// --target cuda programs: the most device memory the program has held
  /// so far (MiB); absent otherwise.
  std::optional<double> deviceMemoryMiB;
};

/// Writes `--log FILE.jsonl`: one JSON object per line, flushed per line:
///   {"event":"epoch","epoch":1,"step":938,"lr":0.1,"train_loss":0.52,
///    "val_loss":0.41,"accuracy":0.85,...,"samples_per_s":91234.5,"seconds":0.66}
///   {"event":"done",...}
/// Non-finite numbers are written as null (JSON has no NaN).
class JsonlLogger {
public:
  /// Truncates `path`; throws nnrt::Error if it cannot be opened.
  explicit JsonlLogger(const std::string &path);
  ~JsonlLogger();
  JsonlLogger(const JsonlLogger &) = delete;
  JsonlLogger &operator=(const JsonlLogger &) = delete;

  void logEpoch(const EpochRecord &record);
  /// {"event":"done", fields...} with the fields in the given order, e.g.
  /// epochs, steps, best_val_loss, best_epoch, stopped, seconds.
  void logDone(const nlohmann::ordered_json &fields);
  /// Any other event: {"event":name, fields...}.
  void logEvent(const std::string &name, const nlohmann::ordered_json &fields);

  /// The JSON line for an epoch (without the newline).
  static std::string epochLine(const EpochRecord &record);
  /// The JSON line of logEvent(name, fields) (without the newline).
  static std::string eventLine(const std::string &name,
                               const nlohmann::ordered_json &fields);

private:
  void writeLine(const std::string &line);
  std::string path;
  std::FILE *file = nullptr;
};

/// The console display of `train`: on a terminal, a progress bar per epoch
/// redrawn in place with '\r' at most every 100 ms (samples/s, running loss,
/// ETA); otherwise nothing during the epoch and one summary line at its end.
class ProgressReporter {
public:
  using Clock = std::function<double()>; ///< seconds, monotonic

  /// `interactive` defaults to isatty(out).
  explicit ProgressReporter(std::FILE *out = stdout,
                            std::optional<bool> interactive = std::nullopt,
                            Clock clock = {});

  void beginEpoch(int64_t epoch, int64_t epochs, size_t samples);
  /// `done` samples so far in this epoch, the running mean training loss.
  void update(size_t done, double loss);
  /// Ends the bar (if any) and prints the epoch's summary line.
  void endEpoch(const EpochRecord &record);
  /// A line that does not disturb the bar (warnings, checkpoint notes).
  void message(const std::string &text);

  bool isInteractive() const { return interactive; }
  /// A run in steps: summary lines read "step S/N" instead of "epoch E/M".
  void countSteps(int64_t total) { totalSteps = total; }
  static std::string summaryLine(const EpochRecord &record, int64_t epochs,
                                 int64_t totalSteps = 0);

private:
  void draw(size_t done, double loss, double now);

  std::FILE *out;
  bool interactive;
  Clock clock;
  int64_t epoch = 0, epochs = 0, totalSteps = 0;
  size_t samples = 0;
  double start = 0, lastDraw = -1;
  bool barShown = false;
};

} // namespace nnrt

#endif // NNRT_LOG_H
