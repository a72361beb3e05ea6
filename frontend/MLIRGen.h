//===- MLIRGen.h - sema::Program -> the nn dialect ----------------*- C++ -*-===//
//
// Emits one training run's model as nn-dialect functions on whole batches:
//   loss(params..., x, y, mask) -> (loss, predictions)   {nn.loss}
//   predict(params..., x) -> predictions                 {nn.predict}
// and the optimizer with its schedule as the module attribute `nn.optimizer`.
// Every op carries the user's .nn location.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_MLIRGEN_H
#define NNC_FRONTEND_MLIRGEN_H

#include "frontend/Diagnostics.h"
#include "frontend/Program.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace nnc {

/// The batch size a run trains with (its override, else its dataset's).
int64_t batchSizeOf(const sema::Program &program, const sema::TrainRun &run);

/// Returns null (with errors in `diags`) when the model uses a layer that
/// code generation does not support yet.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const sema::Program &program,
                                          const sema::TrainRun &run,
                                          const SourceManager &sm,
                                          DiagnosticEngine &diags);

} // namespace nnc

#endif // NNC_FRONTEND_MLIRGEN_H
