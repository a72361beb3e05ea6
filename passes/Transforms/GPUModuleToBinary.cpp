//===- GPUModuleToBinary.cpp - gpu.modules to PTX, in parallel ------------===//
//
// --target cuda (issue 15): upstream's gpu-module-to-binary serializes one
// gpu.module after the other, and LLVM's NVPTX backend is up to half of a
// cuda build's compile time (the GPT's). nn-gpu-merge-kernel-modules{parts}
// leaves a few modules of about equal size; here their serializations run
// on the context's threads (each NVVM serialization translates its module
// into an LLVMContext of its own), and the gpu.binary ops that replace the
// modules are made afterwards, in order, on this thread.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Threading.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUMODULETOBINARYPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNGPUModuleToBinaryPass
    : nnc::impl::NNGPUModuleToBinaryPassBase<NNGPUModuleToBinaryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto modules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : modules) {
      if (!gpuModule.getTargetsAttr() ||
          gpuModule.getTargetsAttr().size() != 1) {
        gpuModule.emitOpError("needs exactly one target attribute");
        return signalPassFailure();
      }
    }
    // Built before the threads start (the serializations may ask for it).
    SymbolTable symbols(module);
    gpu::TargetOptions options({}, {}, {}, gpu::CompilationTarget::Assembly,
                               [&]() -> SymbolTable * { return &symbols; });
    SmallVector<std::optional<SmallVector<char, 0>>> objects(modules.size());
    auto target = [&](size_t i) {
      return cast<gpu::TargetAttrInterface>(modules[i].getTargetsAttr()[0]);
    };
    // Diagnostics of the threads reach the handler in a deterministic order.
    ParallelDiagnosticHandler handler(&getContext());
    LogicalResult serialized = failableParallelForEachN(
        &getContext(), 0, modules.size(), [&](size_t i) {
          handler.setOrderIDForThread(i);
          objects[i] = target(i).serializeToObject(modules[i], options);
          handler.eraseOrderIDForThread();
          return success(objects[i].has_value());
        });
    for (auto [i, gpuModule] : llvm::enumerate(modules)) {
      if (!objects[i]) {
        gpuModule.emitOpError("could not be serialized to PTX");
        continue;
      }
      Attribute object = target(i).createObject(*objects[i], options);
      OpBuilder b(gpuModule);
      b.create<gpu::BinaryOp>(gpuModule.getLoc(), gpuModule.getName(),
                              /*offloadingHandler=*/Attribute(),
                              b.getArrayAttr({object}));
      gpuModule.erase();
    }
    if (failed(serialized))
      signalPassFailure();
  }
};

} // namespace
