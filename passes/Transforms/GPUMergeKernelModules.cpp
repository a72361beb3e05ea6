//===- GPUMergeKernelModules.cpp - one gpu.module for all kernels ---------===//
//
// --target cuda (issue 15): gpu-kernel-outlining makes one gpu.module per
// kernel, and gpu-module-to-binary then serializes each through an LLVM
// module, target machine and PTX printer of its own: hundreds of times for
// a CNN's training step (half the GPU pipeline's compile time), and the
// program loads as many PTX images. Here the kernels move into one module,
// or a few of about equal size that nn-gpu-module-to-binary serializes in
// parallel. The constant globals a kernel reads (outlining copied them into
// its module) go with it, once per merged module.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include <algorithm>

namespace nnc {
#define GEN_PASS_DEF_NNGPUMERGEKERNELMODULESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNGPUMergeKernelModulesPass
    : nnc::impl::NNGPUMergeKernelModulesPassBase<NNGPUMergeKernelModulesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto modules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (modules.empty() || (parts <= 1 && modules.size() < 2))
      return;
    unsigned count =
        std::min<unsigned>(std::max(1u, unsigned(parts)), modules.size());
    OpBuilder b(modules.front());
    SymbolTable symbols(module);
    SmallVector<gpu::GPUModuleOp> merged;
    SmallVector<SymbolTable> kernels;
    SmallVector<int64_t> sizes(count, 0);
    for (unsigned i = 0; i < count; ++i) {
      std::string name =
          parts > 1 ? "nnc_kernels_" + std::to_string(i) : "nnc_kernels";
      merged.push_back(b.create<gpu::GPUModuleOp>(module.getLoc(), name));
      symbols.insert(merged.back()); // unique name
      kernels.emplace_back(merged.back());
    }
    // Old kernel reference -> new one.
    DenseMap<Attribute, SymbolRefAttr> renamed;
    for (gpu::GPUModuleOp from : modules) {
      // What the kernels use besides themselves: constant globals (copied
      // into each module a kernel of `from` goes to, once).
      SmallVector<Operation *> shared;
      for (Operation &op : from.getBody()->without_terminator())
        if (!isa<gpu::GPUFuncOp>(op)) {
          if (!isa<memref::GlobalOp>(op)) {
            from.emitOpError("holds more than kernels and globals; cannot be "
                             "merged");
            return signalPassFailure();
          }
          shared.push_back(&op);
        }
      for (auto func :
           llvm::make_early_inc_range(from.getOps<gpu::GPUFuncOp>())) {
        // The part with the fewest operations so far.
        unsigned to =
            std::min_element(sizes.begin(), sizes.end()) - sizes.begin();
        func.walk([&](Operation *) { ++sizes[to]; });
        auto old = SymbolRefAttr::get(
            from.getNameAttr(), {FlatSymbolRefAttr::get(func.getNameAttr())});
        for (Operation *global : shared)
          if (!kernels[to].lookup(SymbolTable::getSymbolName(global))) {
            OpBuilder at(merged[to].getBody(), merged[to].getBody()->begin());
            kernels[to].insert(at.clone(*global));
          }
        func->moveBefore(merged[to].getBody()->getTerminator());
        func.setName(from.getName());
        kernels[to].insert(func); // unique within its module
        renamed[old] =
            SymbolRefAttr::get(merged[to].getNameAttr(),
                               {FlatSymbolRefAttr::get(func.getNameAttr())});
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
