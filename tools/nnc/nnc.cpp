//===- nnc.cpp - The nnc compiler driver
//-----------------------------------===//
//
//   nnc FILE.nn -o OUT [--train NAME] [-O0|-O1|-O2|-O3] [--target cpu|cuda]
//       [--cuda-arch sm_80|sm_90] [-I DIR]
//   nnc FILE.nn --check
//   any of the above with --time-passes: a timing report on stderr
//   nnc FILE.nn --emit ast|graph|nn|linalg|llvm-mlir|llvm|asm|obj [-o FILE]
//
// Exit status: 0 ok, 1 errors in the input, 2 usage errors, 3 internal errors.
//
//===----------------------------------------------------------------------===//
#include "backend/ObjectCache.h"
#include "frontend/Frontend.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "tools/nnc/Codegen.h"

#include <CLI/CLI.hpp>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/raw_ostream.h>

#include <csignal>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>

#include <unistd.h>

using namespace nnc;

namespace {

enum ExitCode { Ok = 0, InputError = 1, UsageError = 2, InternalError = 3 };

struct Options {
  std::string input;
  std::string output;
  bool check = false;
  std::string emit;
  std::string train;
  int optLevel = 2;
  std::string target = "cpu";
  std::string cudaArch = "sm_90";
  std::vector<std::string> includeDirs;
  unsigned errorLimit = 50;
  int64_t batch = 0;
  bool distributed = false;
  bool int8 = false;
  bool timePasses = false;
  int parallelChunks = 8;
  /// Hidden: programs whose training step has at least this many nn ops get
  /// layer functions (CodegenRequest::layerFunctionsMinOps, whose default
  /// this is); tests force them on (0) or off (-1).
  int64_t layerFunctionsMinOps = CodegenRequest{}.layerFunctionsMinOps;
  /// Hidden: CodegenRequest::verifyEach.
  bool verifyEach = false;
  /// Hidden, for tests of the internal-error path: "exception" throws,
  /// "crash" raises SIGSEGV, "pass" fails a compiler pass.
  std::string internalErrorTest;
  /// Hidden: options for LLVM's code generator, as clang's -mllvm (for
  /// experiments: `--mllvm -disable-lsr`).
  std::vector<std::string> llvmArgs;
  /// --no-cache: no object cache (backend/ObjectCache.h).
  bool noCache = false;
};

/// What every internal error ends with: it is nnc's fault, not the user's.
constexpr const char kBugReport[] =
    "nnc: this is a bug in nnc " NNC_VERSION
    "; please report it with the .nn file and the command line\n";

/// A crash (a failed assertion in LLVM/MLIR, a bad access) prints one line
/// and the bug-report request, and exits 3: never a stack dump.
extern "C" void onFatalSignal(int sig) {
  static const char head[] = "nnc: internal error: crashed (signal ";
  char num[8];
  int n = 0;
  for (int v = sig; v > 0 && n < 7; v /= 10)
    num[n++] = static_cast<char>('0' + v % 10);
  [[maybe_unused]] ssize_t r = write(2, head, sizeof(head) - 1);
  while (n > 0)
    r = write(2, &num[--n], 1);
  r = write(2, ")\n", 2);
  r = write(2, kBugReport, sizeof(kBugReport) - 1);
  _exit(3);
}

void installCrashHandlers() {
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, onFatalSignal);
}

/// Writes to `path`, or to stdout when it is empty or "-".
int withOutput(const std::string &path,
               const std::function<void(std::ostream &)> &write) {
  if (path.empty() || path == "-") {
    write(std::cout);
    std::cout.flush();
    return Ok;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    std::cerr << "nnc: error: cannot write '" << path << "'\n";
    return InputError;
  }
  write(out);
  out.close();
  if (!out) {
    std::cerr << "nnc: error: failed writing '" << path << "'\n";
    return InputError;
  }
  return Ok;
}

/// What decides the code of an object besides its IR and its target (the
/// object cache's salt): this compiler binary (its version, its LLVM, its
/// size and time of build: a rebuilt nnc compiles anew) and the LLVM
/// options given with --mllvm.
std::string compilerIdentity(const std::vector<std::string> &llvmArgs) {
  std::string identity =
      std::string("nnc ") + NNC_VERSION + " LLVM " + NNC_LLVM_VERSION;
  std::string exe = llvm::sys::fs::getMainExecutable(
      "nnc", reinterpret_cast<void *>(&compilerIdentity));
  llvm::sys::fs::file_status status;
  if (!exe.empty() && !llvm::sys::fs::status(exe, status))
    identity +=
        " " + exe + " " + std::to_string(status.getSize()) + " " +
        std::to_string(
            status.getLastModificationTime().time_since_epoch().count());
  for (const std::string &arg : llvmArgs)
    identity += " --mllvm " + arg;
  return identity;
}

int run(const Options &opts) {
  SourceManager sm;
  DiagnosticEngine diags(sm, std::cerr);
  diags.setErrorLimit(opts.errorLimit);

  FrontendOptions feOpts;
  feOpts.mainFile = opts.input;
  feOpts.includeDirs = opts.includeDirs;
  feOpts.batch = opts.batch;
  feOpts.distributed = opts.distributed;

  if (opts.emit == "ast") {
    // The syntax tree needs no analysis; dump even a program with semantic
    // errors, but not one that failed to parse.
    auto modules = loadModules(feOpts, sm, diags);
    if (diags.hasErrors() || modules.empty()) {
      diags.printSummary();
      return InputError;
    }
    return withOutput(opts.output, [&](std::ostream &os) {
      for (const auto &m : modules)
        dumpModule(*m, sm, os);
    });
  }

  if (opts.internalErrorTest == "exception")
    throw std::logic_error("forced by --internal-error-test");
  if (opts.internalErrorTest == "crash")
    std::raise(SIGSEGV);
  FrontendResult fe = runFrontend(feOpts, sm, diags);
  if (diags.hasErrors() || !fe.program) {
    diags.printSummary();
    return InputError;
  }
  if (opts.check)
    return Ok;
  if (opts.emit == "graph")
    return withOutput(opts.output, [&](std::ostream &os) {
      dumpProgram(*fe.program, sm, os);
    });

  if (opts.emit.empty() && opts.output.empty()) {
    std::cerr << "nnc: error: no output: give -o FILE, --check or --emit KIND\n"
              << "run 'nnc --help' for usage\n";
    return UsageError;
  }
  CodegenRequest req;
  req.emit = opts.emit;
  req.output = opts.output;
  req.trainName = opts.train;
  req.target = opts.target;
  req.cudaArch = opts.cudaArch;
  req.optLevel = opts.optLevel;
  req.sourcePath = opts.input;
  req.version = NNC_VERSION;
  req.timePasses = opts.timePasses;
  req.int8 = opts.int8;
  req.parallelChunks = opts.parallelChunks;
  req.layerFunctionsMinOps = opts.layerFunctionsMinOps;
  req.verifyEach = opts.verifyEach;
  req.failPassForTest = opts.internalErrorTest == "pass";
  if (!opts.noCache) {
    req.cacheDir = defaultObjectCacheDir();
    req.cacheSalt = compilerIdentity(opts.llvmArgs);
    if (std::optional<uint64_t> bytes = defaultObjectCacheSize())
      req.cacheBytes = *bytes;
    else
      std::cerr << "nnc: warning: NNC_CACHE_MAXSIZE is not a size (bytes, "
                   "or a number with k, M or G); the cache keeps "
                << (kDefaultObjectCacheBytes >> 20) << "M\n";
  }
  return runCodegen(*fe.program, sm, diags, req);
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  CLI::App app{"nnc - compiles a declarative .nn model into a native training "
               "program",
               "nnc"};
  app.set_version_flag("--version",
                       std::string("nnc ") + NNC_VERSION + " (LLVM/MLIR " +
                           NNC_LLVM_VERSION + ")");
  app.add_option("file", opts.input, "the .nn program")->required();
  app.add_option("-o", opts.output, "output executable (or emitted file)");
  app.add_flag("--check", opts.check, "parse and analyse only; exit 1 on errors");
  app.add_option("--emit", opts.emit, "print an intermediate form instead of "
                                      "building an executable")
      ->check(CLI::IsMember(
          {"ast", "graph", "nn", "linalg", "llvm-mlir", "llvm", "asm", "obj"}));
  app.add_option("--train", opts.train, "which train/finetune declaration to build");
  app.add_option("-O", opts.optLevel, "optimization level (-O0 .. -O3)")
      ->check(CLI::Range(0, 3));
  app.add_option("--target", opts.target, "code generation target")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--cuda-arch", opts.cudaArch,
                 "with --target cuda: the NVIDIA architecture the PTX is for "
                 "(sm_90: H100/H200, sm_80: A100; the driver compiles it for "
                 "newer GPUs too)")
      ->check(CLI::IsMember({"sm_80", "sm_90"}));
  app.add_option("--batch", opts.batch,
                 "compile the training step for batches of N (default: the "
                 "file's batch); the program trains with any batch up to N")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 31));
  app.add_flag("--distributed", opts.distributed,
               "also build the gradient and update steps that data-parallel "
               "training runs on ('mpirun -np N PROGRAM train')");
  app.add_flag("--int8", opts.int8,
               "also build the int8 inference library that './PROGRAM export "
               "--int8' calibrates and writes");
  app.add_option("-I", opts.includeDirs, "add a directory to search for imports");
  app.add_flag("--no-cache", opts.noCache,
               "compile every object anew: neither read nor write the cache "
               "of compiled objects ($NNC_CACHE_DIR, else ~/.cache/nnc)");
  app.add_flag("--time-passes", opts.timePasses,
               "report the time of every compiler pass and phase on stderr");
  app.add_option("--parallel-chunks", opts.parallelChunks,
                 "split big kernels into about N chunks that the program runs "
                 "on its threads (see its --threads); 0: single-threaded code")
      ->check(CLI::Range(0, 1024));
  app.add_option("--error-limit", opts.errorLimit,
                 "stop printing after N errors (0: no limit)");
  app.add_flag("--verify-each", opts.verifyEach)
      ->group(""); // hidden: the IR verified after every pass (tests)
  app.add_option("--layer-functions-min-ops", opts.layerFunctionsMinOps)
      ->group(""); // hidden: see nn-outline-layers in passes/Passes.td
  app.add_option("--internal-error-test", opts.internalErrorTest)
      ->check(CLI::IsMember({"exception", "crash", "pass"}))
      ->group(""); // hidden: tests of exit status 3
  app.add_option("--mllvm", opts.llvmArgs)
      ->allow_extra_args(false)
      ->group(""); // hidden: see Options::llvmArgs

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &e) {
    return app.exit(e); // --help, --version
  } catch (const CLI::ParseError &e) {
    std::cerr << "nnc: error: " << e.what() << "\n"
              << "run 'nnc --help' for usage\n";
    return UsageError;
  }
  if (opts.check && !opts.emit.empty()) {
    std::cerr << "nnc: error: --check and --emit cannot be combined\n";
    return UsageError;
  }

  if (!opts.llvmArgs.empty()) {
    std::vector<const char *> args{"nnc"};
    for (const std::string &arg : opts.llvmArgs)
      args.push_back(arg.c_str());
    if (!llvm::cl::ParseCommandLineOptions(int(args.size()), args.data(), "",
                                           &llvm::errs()))
      return UsageError;
  }
  installCrashHandlers();
  try {
    int status = run(opts);
    if (status == InternalError)
      std::cerr << kBugReport;
    return status;
  } catch (const std::bad_alloc &) {
    std::cerr << "nnc: internal error: out of memory\n";
  } catch (const std::exception &e) {
    std::cerr << "nnc: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "nnc: internal error: unknown exception\n";
  }
  std::cerr << kBugReport;
  return InternalError;
}
