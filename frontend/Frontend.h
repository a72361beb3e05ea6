//===- Frontend.h - Load a .nn program with its imports -----------*- C++ -*-===//
//
// The frontend's entry point: reads the main file, parses it, follows
// `import "file.nn"` (relative to the importing file, then the -I
// directories), and runs semantic analysis over all of them together.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_FRONTEND_H
#define NNC_FRONTEND_FRONTEND_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Program.h"

#include <memory>
#include <string>
#include <vector>

namespace nnc {

struct FrontendOptions {
  std::string mainFile;
  std::vector<std::string> includeDirs;
  /// `nnc --batch N`: compile every run for batches of N (0: the file's).
  int64_t batch = 0;
  /// `nnc --distributed`: build every run for data-parallel training
  /// (TrainRun::distributed).
  bool distributed = false;
};

struct FrontendResult {
  /// The main file first, then imports in the order they were reached.
  std::vector<std::unique_ptr<ast::Module>> modules;
  /// Null when the main file could not be read or did not parse.
  std::unique_ptr<sema::Program> program;
};

/// Parses the main file and its imports. Errors go to `diags`.
std::vector<std::unique_ptr<ast::Module>>
loadModules(const FrontendOptions &options, SourceManager &sm,
            DiagnosticEngine &diags);

/// loadModules, then analyzeProgram when parsing succeeded.
FrontendResult runFrontend(const FrontendOptions &options, SourceManager &sm,
                           DiagnosticEngine &diags);

} // namespace nnc

#endif // NNC_FRONTEND_FRONTEND_H
