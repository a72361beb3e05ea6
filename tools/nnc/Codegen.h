//===- Codegen.h - The driver's code generation half -------------*- C++ -*-===//
//
// From the analysed program to an executable: MLIRGen, the nn-level passes
// (autodiff, train step, C entry points), lowering through linalg to the
// LLVM dialect, the native object, and the link with nnrt. Kept apart from
// nnc.cpp so that only this file pays for MLIR's headers.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_TOOLS_NNC_CODEGEN_H
#define NNC_TOOLS_NNC_CODEGEN_H

#include "backend/ObjectCache.h"
#include "frontend/Diagnostics.h"
#include "frontend/Program.h"

#include <string>

namespace nnc {

struct CodegenRequest {
  /// "nn", "linalg", "llvm-mlir", "llvm", "asm", "obj", or "" for an executable.
  std::string emit;
  /// Output path ("" or "-": stdout for textual emits).
  std::string output;
  std::string trainName;
  std::string target = "cpu";
  /// --cuda-arch, with target "cuda": the PTX's architecture.
  std::string cudaArch = "sm_90";
  int optLevel = 2;
  std::string sourcePath;
  std::string version;
  /// --time-passes: time every MLIR pass, the LLVM backend's passes and
  /// phases, and the link, and print the report to stderr.
  bool timePasses = false;
  /// --parallel-chunks: big kernels run as about this many parallel chunks
  /// (CPUCodegenOptions::parallelChunks; 0: serial code).
  int parallelChunks = 8;
  /// A program whose training step has at least this many operations in
  /// the nn dialect gets one function per distinct layer in every entry
  /// point and in its inference library (nn-outline-layers; 0: always,
  /// negative: never). 256: resnet_mini's step has 423, the GPT's 495,
  /// SPEC 2.3's CNN 159.
  int64_t layerFunctionsMinOps = 256;
  /// --verify-each: MLIR's verifier after every pass, as nnc-opt runs it,
  /// instead of once after each pipeline (see runPipeline in Codegen.cpp).
  bool verifyEach = false;
  /// --int8: also the int8 inference library (nn-quantize) with its
  /// calibration entries, for `./model export --int8`.
  bool int8 = false;
  /// nnc --internal-error-test=pass: fail as a compiler pass would.
  bool failPassForTest = false;
  /// The object cache's directory (backend/ObjectCache.h; empty: none,
  /// --no-cache) and what, besides an object's IR and target, decides it:
  /// the compiler's identity and its --mllvm options.
  std::string cacheDir;
  std::string cacheSalt;
  /// Its size limit (least recently used entries go past it).
  uint64_t cacheBytes = kDefaultObjectCacheBytes;
};

/// Returns the process exit status (0, 1 input errors, 2 usage, 3 internal).
int runCodegen(const sema::Program &program, const SourceManager &sm,
               DiagnosticEngine &diags, const CodegenRequest &request);

} // namespace nnc

#endif // NNC_TOOLS_NNC_CODEGEN_H
