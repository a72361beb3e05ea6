//===- Cli.cpp - The command line of compiled programs (CLI11) ------------===//
//
// Parses `./model train | eval | predict | info | ...` and their options,
// runs the command and maps what went wrong to the exit status: 1 bad input,
// 2 usage, 3 internal error.
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "runtime/Parallel.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Commands.h"
#include "runtime/program/Config.h"
#include "runtime/program/Mpi.h"
#include "runtime/program/Program.h"

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <stdexcept>

#include <unistd.h>

namespace fs = std::filesystem;

namespace nnrt {
namespace {

/// What every internal error ends with: the fault is nnc's, not the data's.
constexpr const char kBugReport[] =
    "this is a bug in nnc or nnrt; please report it with the .nn file, the "
    "command line and the nnc version (nnc --version)\n";

/// A crash (a bad access in generated or runtime code) prints one line and
/// the bug-report request and exits 3: never a bare "Segmentation fault".
extern "C" void onFatalSignal(int sig) {
  const char *what = sig == SIGSEGV  ? "internal error: crashed (SIGSEGV)\n"
                     : sig == SIGBUS ? "internal error: crashed (SIGBUS)\n"
                     : sig == SIGFPE ? "internal error: crashed (SIGFPE)\n"
                     : sig == SIGILL ? "internal error: crashed (SIGILL)\n"
                                     : "internal error: crashed (SIGABRT)\n";
  [[maybe_unused]] ssize_t r = write(2, what, std::strlen(what));
  r = write(2, kBugReport, sizeof(kBugReport) - 1);
  _exit(3);
}

/// NNRT_INTERNAL_ERROR_TEST=exception|crash: tests of exit status 3.
void internalErrorTest() {
  const char *test = std::getenv("NNRT_INTERNAL_ERROR_TEST");
  if (!test)
    return;
  if (std::string(test) == "exception")
    throw std::logic_error("forced by NNRT_INTERNAL_ERROR_TEST");
  if (std::string(test) == "crash")
    std::raise(SIGSEGV);
}

/// Accepts a whole number in [lo, hi]. CLI11's own checks say "Value abc not
/// in range 0.000000 to 1797693..."; this says "--epochs: 'abc' is not a
/// whole number" (CLI11 puts the option's name in front).
CLI::Validator wholeNumber(int64_t lo,
                           int64_t hi = std::numeric_limits<int64_t>::max()) {
  return CLI::Validator(
      [lo, hi](std::string &text) -> std::string {
        errno = 0;
        char *end = nullptr;
        long long value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
            *end != '\0')
          return "'" + text + "' is not a whole number";
        if (errno == ERANGE || value < lo || value > hi)
          return "'" + text + "' is out of range: expected a whole number " +
                 (hi == std::numeric_limits<int64_t>::max()
                      ? ">= " + std::to_string(lo)
                      : "from " + std::to_string(lo) + " to " +
                            std::to_string(hi));
        return "";
      },
      "INT");
}

/// Accepts a finite number > 0: "--lr: 'abc' is not a number"; nan, inf and
/// values <= 0 are out of range rather than silently ignored.
CLI::Validator positiveNumber() {
  return CLI::Validator(
      [](std::string &text) -> std::string {
        char *end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
            *end != '\0')
          return "'" + text + "' is not a number";
        if (!std::isfinite(value) || value <= 0)
          return "'" + text + "' is out of range: expected a finite number > 0";
        return "";
      },
      "X");
}

/// Prints a usage error the way nnc does: one line, then where help is.
int usageError(const std::string &message, const std::string &prog) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\nrun '%s --help' for usage\n",
               message.c_str(), prog.c_str());
  return Usage;
}

} // namespace

int runProgram(int argc, char **argv) {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, onFatalSignal);
  // Before any thread starts: oneTBB's workers inherit the mode.
  flushSubnormals();
  RunConfig cfg;
  try {
    cfg = parseRunConfig(nnc_config);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "internal error: %s\n%s", e.what(), kBugReport);
    return Internal;
  }
  std::string prog = fs::path(argv[0]).filename().string();
  CLI::App app{"'" + cfg.run + "': trains, evaluates and runs model '" +
                   cfg.modelName + "' (compiled by nnc)",
               prog};
  app.require_subcommand(1);
  CommonOptions common;
  auto addCommon = [&](CLI::App *cmd) {
    cmd->add_option("--data", common.data,
                    "replace a split's data: SPLIT=PATH (idx: IMAGES,LABELS; "
                    "images: DIR)");
    cmd->add_option("--threads", common.threads,
                    "oneTBB threads for the model's parallel kernels and the "
                    "data pipeline (default: all cores)")
        ->check(wholeNumber(1, std::numeric_limits<int>::max()));
  };

  TrainOptions topts;
  CLI::App *trainCmd = app.add_subcommand("train", "train the model");
  trainCmd->add_option("--epochs", topts.epochs, "epochs")
      ->check(wholeNumber(1));
  trainCmd
      ->add_option("--batch", topts.batch,
                   "batch size (at most the compiled one)")
      ->check(wholeNumber(1));
  trainCmd
      ->add_option("--lr", topts.lr, "peak learning rate (scales the schedule)")
      ->check(positiveNumber());
  trainCmd
      ->add_option("--seed", topts.seed,
                   "random seed: initialization, shuffling, augmentation and "
                   "dropout (default: the file's seed)")
      ->check(wholeNumber(0));
  trainCmd->add_option("--steps", topts.steps, "stop after N optimizer steps")
      ->check(wholeNumber(1));
  trainCmd->add_option("--accumulate", topts.accumulate,
                       "sum the gradients of K batches per optimizer step "
                       "(programs compiled with accumulate = k)")
      ->check(wholeNumber(1));
  trainCmd->add_option("--checkpoint-dir", topts.checkpointDir,
                       "checkpoint folder");
  trainCmd->add_option("--weights", topts.weights,
                       "start from these parameters (fresh optimizer state)");
  trainCmd->add_option("--from", topts.from,
                       "finetune: the pretrained safetensors file (default: "
                       "the declaration's `from`)");
  auto *resume =
      trainCmd
          ->add_option("--resume", topts.resumeFrom,
                       "continue a run exactly (default: last.safetensors)")
          ->expected(0, 1);
  trainCmd->add_option("--log", topts.log, "write one JSON object per epoch");
  trainCmd->add_option("--report", topts.report,
                       "write an HTML report of the run at its end");
  trainCmd->add_flag("--quiet", topts.quiet, "no progress output");
  addCommon(trainCmd);

  std::string weights, split, input, output;
  bool jsonOut = false;
  CLI::App *evalCmd = app.add_subcommand("eval", "evaluate on a split");
  evalCmd->add_option("--weights", weights,
                      "checkpoint (default: best, else last)");
  evalCmd->add_option("--split", split, "test, validation or train")
      ->check(CLI::IsMember({"test", "validation", "train"}));
  evalCmd->add_flag("--json", jsonOut, "one JSON object");
  addCommon(evalCmd);

  CLI::App *predictCmd = app.add_subcommand(
      "predict", "predict from images, a CSV or an IDX file");
  predictCmd->add_option("--weights", weights, "checkpoint")->required();
  predictCmd
      ->add_option(
          "--input", input,
          "an image (.png/.jpg/.jpeg), a folder of images, a .txt/.lst "
          "list of image paths, a CSV (feature columns) or IDX images")
      ->required();
  predictCmd->add_option("--output", output, "CSV to write (default: stdout)");
  addCommon(predictCmd);

  CLI::App *infoCmd =
      app.add_subcommand("info", "layers, shapes, parameters, FLOPs");
  infoCmd->add_option("--weights", weights,
                      "also print small parameters' values");

  CLI::App *mergeCmd = app.add_subcommand(
      "merge", "fold LoRA adapters into the base weights");
  mergeCmd->add_option("--weights", weights, "checkpoint with adapters")
      ->required();
  mergeCmd->add_option("-o,--output", output, "the merged safetensors file")
      ->required();

  CLI::App *exportCmd = app.add_subcommand(
      "export", "an inference-only C library of the model: libmodel.a and "
                "model.h");
  ExportOptions xopts;
  exportCmd->add_option("--weights", xopts.weights, "the checkpoint to export")
      ->required();
  exportCmd->add_option("-o,--output", xopts.dir, "the folder to write")
      ->required();
  exportCmd->add_flag("--int8", xopts.int8,
                      "quantize: int8 weights per output channel, int8 "
                      "activations, VNNI GEMMs");
  exportCmd
      ->add_option("--calibrate", xopts.calibrate,
                   "with --int8: activation ranges from the first N "
                   "training samples (default 1000)")
      ->check(wholeNumber(1));
  addCommon(exportCmd);

  std::vector<std::string> reportLogs;
  CLI::App *reportCmd = app.add_subcommand(
      "report", "an HTML page of training logs: curves, confusion matrix, "
                "settings, final metrics and the model summary");
  reportCmd
      ->add_option("--log", reportLogs,
                   "a JSONL log of 'train --log' (repeat to overlay runs)")
      ->required();
  reportCmd->add_option("-o,--output", output, "the HTML file to write")
      ->required();

  GenerateOptions gopts;
  CLI::App *generateCmd = app.add_subcommand(
      "generate", "sample text from a language model (i32[T] -> [T, V])");
  generateCmd->add_option("--weights", gopts.weights, "checkpoint")
      ->required();
  generateCmd->add_option("--prompt", gopts.prompt, "the text to continue")
      ->required();
  generateCmd->add_option("--tokens", gopts.tokens, "tokens to generate")
      ->check(wholeNumber(0));
  generateCmd
      ->add_option("--temperature", gopts.temperature,
                   "0: the most probable token; else softmax(logits / X)")
      ->check(CLI::NonNegativeNumber);
  generateCmd->add_option("--top-k", gopts.topK, "draw among the K most probable")
      ->check(wholeNumber(0));
  generateCmd->add_option("--seed", gopts.seed, "random seed of the draws")
      ->check(wholeNumber(0));
  bool noCache = false;
  generateCmd->add_flag("--no-cache", noCache,
                        "run the whole window of the last T tokens per token "
                        "instead of the KV cache");
  addCommon(generateCmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return usageError(e.what(), prog);
  }
  topts.resume = resume->count() > 0;
  if (topts.resume && !topts.weights.empty())
    return usageError("--resume and --weights cannot be combined", prog);
  if (!topts.from.empty() && !cfg.finetune.enabled)
    return usageError("--from applies to finetune runs; '" + cfg.run +
                          "' is a train run (it starts from --weights CKPT)",
                      prog);

  // The generated kernels keep the buffers of each chunk of a parallel
  // loop (a few samples' im2col matrix and GEMM result, up to 1.25 MiB
  // each: nnc-cpu-codegen's per-chunk stack limit) on the stack of the
  // thread that runs the chunk: oneTBB's workers get 8 MiB, as the main
  // thread has (4 MiB by default).
  constexpr size_t kWorkerStackBytes = size_t(8) << 20;
  tbb::global_control stack(tbb::global_control::thread_stack_size,
                            kWorkerStackBytes);
  std::unique_ptr<tbb::global_control> threads;
  if (common.threads > 0)
    threads = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, common.threads);
  try {
    internalErrorTest();
    if (trainCmd->parsed()) {
      int status = train(cfg, common, topts);
      Mpi::world().finalize();
      return status;
    }
    if (int ranks = Mpi::launched(); ranks > 1)
      throw UsageError("mpirun -np " + std::to_string(ranks) +
                       ": only 'train' runs on several ranks; run this "
                       "command without mpirun");
    if (evalCmd->parsed())
      return eval(cfg, common, weights, split, jsonOut);
    if (predictCmd->parsed())
      return predict(cfg, weights, input, output);
    if (generateCmd->parsed()) {
      gopts.cache = !noCache;
      return generate(cfg, gopts);
    }
    if (exportCmd->parsed())
      return exportLibrary(cfg, common, xopts);
    if (mergeCmd->parsed())
      return merge(cfg, weights, output);
    if (reportCmd->parsed())
      return report(cfg, reportLogs, output);
    return info(cfg, weights);
  } catch (const UsageError &e) {
    return usageError(e.what(), prog);
  } catch (const Error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return BadInput;
  } catch (const fs::filesystem_error &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return BadInput;
  } catch (const std::bad_alloc &) {
    // Not a bug: the model and batch need more memory than there is.
    std::fflush(stdout);
    std::fprintf(stderr, "error: out of memory (the model, its batch and the "
                         "data need more than this machine has)\n");
    return BadInput;
  } catch (const std::exception &e) {
    std::fflush(stdout);
    std::fprintf(stderr, "internal error: %s\n%s", e.what(), kBugReport);
  }
  return Internal;
}

} // namespace nnrt
