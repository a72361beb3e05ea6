//===- Backend.h - LLVM dialect -> optimized native code ---------*- C++
//-*-===//
//
// Translates a module in the LLVM dialect (the output of the nnc-cpu-codegen
// pipeline) to LLVM IR, optimizes it for the host CPU with LLVM's new pass
// manager and emits an object file, assembly or textual LLVM IR, in-process.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_BACKEND_BACKEND_H
#define NNC_BACKEND_BACKEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace nnc {

class ObjectCache;

struct BackendOptions {
  /// LLVM optimization level, 0..3.
  unsigned optLevel = 3;
  /// Target triple; empty means the host's.
  std::string triple;
  /// CPU name ("host" = llvm::sys::getHostCPUName()).
  std::string cpu = "host";
  /// Comma-separated +/- features; "host" = the host CPU's features.
  std::string features = "host";
  /// When set, the phases (translation, LLVM -O pipeline, code generation)
  /// are timed under this scope and LLVM's own per-pass timers are enabled.
  mlir::TimingScope *timing = nullptr;
  /// When set, objects (emitObject, emitObjects' partitions) are taken from
  /// and stored in this cache (see ObjectCache.h).
  ObjectCache *cache = nullptr;
};

/// A timer for one compiler phase nested under `parent` (a no-op when
/// timing is disabled).
inline mlir::TimingScope nestedPhase(mlir::TimingScope &parent,
                                     const char *name) {
  return parent.nest(static_cast<const void *>(name),
                     [name] { return std::string(name); });
}

/// Registers the MLIR -> LLVM IR translations the backend needs (builtin and
/// LLVM dialects) on a registry, before the context is created.
void registerBackendTranslations(mlir::DialectRegistry &registry);

/// Creates the TargetMachine for `opts` (PIC: Debian links executables PIE).
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const BackendOptions &opts);

/// What decides an object besides its LLVM IR: the target (triple, CPU,
/// features, code model) and the optimization level of `opts`, as one string
/// (the object cache's keys).
std::string targetIdentity(const BackendOptions &opts);

/// Translates `module` (LLVM dialect only) to LLVM IR and optimizes it at
/// opts.optLevel for the target of opts.
llvm::Expected<std::unique_ptr<llvm::Module>>
translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                     const BackendOptions &opts);

/// Writes the optimized module as a relocatable ELF object.
llvm::Error emitObject(mlir::ModuleOp module, const BackendOptions &opts,
                       llvm::raw_pwrite_stream &os);
/// The optimized module as relocatable ELF objects (to be linked together),
/// optimized and compiled on `threads` threads: the module is split between
/// functions, which nn-outline-kernels made many and small, into three
/// partitions per thread, compiled largest first.
llvm::Expected<std::vector<std::string>> emitObjects(mlir::ModuleOp module,
                                                     const BackendOptions &opts,
                                                     unsigned threads);
/// Writes the optimized module as assembly.
llvm::Error emitAssembly(mlir::ModuleOp module, const BackendOptions &opts,
                         llvm::raw_pwrite_stream &os);
/// Writes the optimized module as textual LLVM IR.
llvm::Error emitLLVMIR(mlir::ModuleOp module, const BackendOptions &opts,
                       llvm::raw_ostream &os);

} // namespace nnc

#endif // NNC_BACKEND_BACKEND_H
