//===- Commands.h - The compiled program's commands -------------*- C++ -*-===//
//
// train (Train.cpp), eval, predict and info (Commands.cpp), report
// (Report.cpp), called by the command line (Cli.cpp) with typed options. Bad
// input is an nnrt::Error (exit 1); a bad combination of options is a
// UsageError (exit 2).
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PROGRAM_COMMANDS_H
#define NNRT_PROGRAM_COMMANDS_H

#include "runtime/Cuda.h"
#include "runtime/program/Config.h"
#include "runtime/program/Data.h"
#include "runtime/program/Evaluate.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace nnrt {

/// The program's exit statuses.
enum ExitStatus { Ok = 0, BadInput = 1, Usage = 2, Internal = 3 };

/// A command line that parses but asks for something the run cannot do
/// (an option that does not apply to it); exit status 2.
class UsageError : public std::runtime_error {
public:
  explicit UsageError(const std::string &message)
      : std::runtime_error(message) {}
};

/// Options of every command that reads data.
struct CommonOptions {
  std::vector<std::string> data; ///< SPLIT=PATH
  int threads = 0;
};

struct TrainOptions {
  int64_t epochs = 0, batch = 0, steps = 0;
  int64_t accumulate = 0; ///< --accumulate k; 0: the file's
  double lr = 0;
  int64_t seed = -1;
  std::string checkpointDir, log, weights;
  std::string report; ///< --report: the HTML report written at the end
  std::string from; ///< finetune: overrides the declaration's `from`
  bool resume = false;
  std::string resumeFrom;
  bool quiet = false;
};

/// `./model generate` (SPEC 2.9).
struct GenerateOptions {
  std::string weights, prompt;
  int64_t tokens = 100;
  double temperature = 1.0; ///< 0: greedy
  int64_t topK = 0;         ///< 0: every token
  int64_t seed = 0;
  bool cache = true; ///< --no-cache: the whole window per token
};

/// `--data SPLIT=PATH ...` as the data loader's options.
DataOptions dataOptions(const CommonOptions &common);

int train(const RunConfig &cfg, const CommonOptions &common,
          const TrainOptions &opts);
int eval(const RunConfig &cfg, const CommonOptions &common,
         const std::string &weights, std::string split, bool jsonOut);
int predict(const RunConfig &cfg, const std::string &weights,
            const std::string &input, const std::string &output);
int info(const RunConfig &cfg, const std::string &weights);
/// What `info` prints: the model's layers, shapes, parameters and FLOPs
/// (with `weights`, also the checkpoint's classes, vocabulary and small
/// parameters' values).
std::string infoText(const RunConfig &cfg, const std::string &weights);
/// `./model report --log A.jsonl [--log B.jsonl ...] -o OUT.html`
/// (Report.cpp): the logs' curves overlaid, with this program's model
/// summary.
int report(const RunConfig &cfg, const std::vector<std::string> &logs,
           const std::string &output);
/// train --report: checks before the run that `path` can be written (its
/// folder exists), so that a typo does not cost a whole run.
void checkReportPath(const std::string &path);
/// train --report: the report of the run's own log lines (JsonlLogger's,
/// whether or not --log writes them), named `name` in the page. A run that
/// logged no epoch gets a warning instead of a report.
void writeRunReport(const RunConfig &cfg, const std::string &path,
                    const std::string &name,
                    const std::vector<std::string> &lines);
/// LoRA: writes CKPT with every adapted weight W replaced by W + (alpha /
/// r) B A and without the adapters, optimizer state and progress: the base
/// model's checkpoint.
int merge(const RunConfig &cfg, const std::string &weights,
          const std::string &output);
/// `./model export --weights CKPT -o DIR` (Export.cpp): DIR/libmodel.a, the
/// inference library (model_predict on raw features, the preprocessing and
/// the evaluation-mode forward pass inside, batchnorm folded, the weights
/// embedded), and DIR/model.h.
/// `--int8 --calibrate N`: quantized (int8 weights per output channel,
/// activation ranges of the first N training samples), printing the f32
/// and int8 scores on the test split (else validation) side by side.
struct ExportOptions {
  std::string weights, dir;
  bool int8 = false;
  int64_t calibrate = 0; ///< 0: not given (1000 with --int8)
};
int exportLibrary(const RunConfig &cfg, const CommonOptions &common,
                  const ExportOptions &opts);
/// Samples opts.tokens tokens after the prompt (Generate.cpp).
int generate(const RunConfig &cfg, const GenerateOptions &opts);

/// The most probable token but padding (id 0) of V probabilities, the
/// first among ties.
int32_t mostProbableToken(const float *p, size_t vocab);

/// A model of i32[T] token ids to [T, V] logits under cross_entropy.
bool isLanguageModel(const RunConfig &cfg);

/// A language model's checkpoint and tokenizer, and its next-token
/// probabilities after texts of ids (Generate.cpp).
class LanguageModel {
public:
  LanguageModel(const RunConfig &cfg, const std::string &weights);
  /// Runs the predict entry point on up to `batch` texts, each cut to its
  /// last T ids (at positions 0..n-1); rows[r] is the offset of text r's
  /// next-token probabilities (V values) in the returned buffer.
  const float *next(const std::vector<std::vector<int32_t>> &texts,
                    std::vector<size_t> &rows);
  /// Whether the program has nnc_decode (the KV cache path).
  bool canDecode() const;
  /// nnc_decode: the next-token probabilities after `token` at `position`
  /// of the cached sequence (positions 0.. in order; position 0 starts a
  /// new one).
  const float *step(int32_t token, int32_t position);
  const Tokenizer &tokens() const { return *tokenizer; }
  size_t vocabSize() const { return vocab; }
  size_t windowSize() const { return window; }

private:
  const RunConfig &cfg;
  size_t window, vocab;
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<float> state;
  Buffers buf;
  std::vector<float> probs, cache, decoded;
  // --target cuda: the state and the KV cache stay on the device.
  std::unique_ptr<DeviceResident> residentState, residentCache;
};

} // namespace nnrt

#endif // NNRT_PROGRAM_COMMANDS_H
