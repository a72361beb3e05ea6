//===- Sema.h - Semantic analysis of .nn programs -----------------*- C++ -*-===//
//
// Name resolution, block expansion, settings validation and shape inference.
// Input: the parsed modules (the main file and its imports). Output: a
// sema::Program (frontend/Program.h), the fully expanded, typed description of
// every dataset, model and training run that MLIRGen and the runtime consume.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_SEMA_H
#define NNC_FRONTEND_SEMA_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Program.h"

#include <memory>
#include <ostream>
#include <vector>

namespace nnc {

/// Analyses all modules together (declarations of imported files are visible
/// everywhere). Reports every error it finds; returns the program even when
/// there were errors (callers check diags.hasErrors()).
/// `batch` > 0 overrides the batch of every training run (`nnc --batch N`).
std::unique_ptr<sema::Program>
analyzeProgram(const std::vector<const ast::Module *> &modules,
               const SourceManager &sm, DiagnosticEngine &diags,
               int64_t batch = 0, bool distributed = false);

/// `nnc --emit graph`: every model's expanded layer graph with per-sample
/// shapes, parameter names, shapes and counts, then datasets and runs.
void dumpProgram(const sema::Program &program, const SourceManager &sm,
                 std::ostream &os);

} // namespace nnc

#endif // NNC_FRONTEND_SEMA_H
