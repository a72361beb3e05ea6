//===- GPUMergeKernelModules.cpp - one gpu.module for all kernels ---------===//
//
// --target cuda (issue 15): gpu-kernel-outlining makes one gpu.module per
// kernel, and gpu-module-to-binary then serializes each through an LLVM
// module, target machine and PTX printer of its own: hundreds of times for
// a CNN's training step (half the GPU pipeline's compile time), and the
// program loads as many PTX images. Here the kernels move into one module.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUMERGEKERNELMODULESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNGPUMergeKernelModulesPass
    : nnc::impl::NNGPUMergeKernelModulesPassBase<NNGPUMergeKernelModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto modules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (modules.size() < 2)
      return;
    OpBuilder b(modules.front());
    auto merged = b.create<gpu::GPUModuleOp>(module.getLoc(), "nnc_kernels");
    SymbolTable symbols(module);
    symbols.insert(merged); // unique name
    SymbolTable kernels(merged);
    // Old kernel reference -> new one.
    DenseMap<Attribute, SymbolRefAttr> renamed;
    for (gpu::GPUModuleOp from : modules) {
      for (Operation &op :
           llvm::make_early_inc_range(from.getBody()->without_terminator())) {
        auto func = dyn_cast<gpu::GPUFuncOp>(op);
        if (!func) {
          from.emitOpError("holds more than kernels; cannot be merged");
          return signalPassFailure();
        }
        auto old = SymbolRefAttr::get(
            from.getNameAttr(), {FlatSymbolRefAttr::get(func.getNameAttr())});
        func->moveBefore(merged.getBody()->getTerminator());
        func.setName(from.getName());
        kernels.insert(func); // unique within the merged module
        renamed[old] = SymbolRefAttr::get(
            merged.getNameAttr(), {FlatSymbolRefAttr::get(func.getNameAttr())});
      }
    }
    WalkResult result = module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr to = renamed.lookup(launch.getKernelAttr());
      if (!to) {
        launch.emitOpError("launches a kernel that was not merged");
        return WalkResult::interrupt();
      }
      launch.setKernelAttr(to);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (gpu::GPUModuleOp from : modules)
      from.erase();
  }
};

} // namespace
