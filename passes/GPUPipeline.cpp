//===- GPUPipeline.cpp - linalg to PTX for NVIDIA GPUs (--target cuda) ----===//
//
// The first stage of SPEC 2.11's GPU target (issue 15): a module of linalg
// ops (on tensors or buffers) becomes host code launching kernels and, per
// kernel, PTX for the chosen architecture embedded in a gpu.binary, with
// nothing from a CUDA toolkit (LLVM's NVPTX backend). What the host code
// calls (mgpuModuleLoadJIT, mgpuLaunchKernel, ...) nnrt implements over the
// CUDA driver (runtime/Cuda.cpp).
//
// Kernels: every f32 contraction (matmuls, convolutions' im2col GEMMs) is a
// tiled kernel of its own with its operands staged in shared memory and
// tensor cores (nvgpu.mma.sync tf32; nn-gpu-gemm); every other linalg op
// becomes parallel loops collapsed, tiled by 256 threads and mapped onto
// blocks and threads (nn-gpu-map-loops), one kernel per op, reductions
// sequential per thread. What the host would still read or write (scalars:
// a loss summed, Adam's bias corrections, `out`) runs in kernels of one
// thread (nn-gpu-host-to-device), and the temporaries are placed in one
// workspace per entry point that the caller gives in device memory
// (nn-plan-buffers{argument}): the host code only launches kernels.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace nnc {

void registerGPUCodegenDialects(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, NVVM::NVVMDialect, nvgpu::NVGPUDialect>();
  // #nvvm.target serializes gpu.modules (gpu-module-to-binary) through
  // LLVM IR.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
}

void buildGPUCodegenPipeline(OpPassManager &pm, const GPUCodegenOptions &opts) {
  {
    bufferization::OneShotBufferizationOptions bo;
    bo.bufferizeFunctionBoundaries = true;
    bo.setFunctionBoundaryTypeConversion(
        bufferization::LayoutMapOption::IdentityLayoutMap);
    // Copies as linalg.copy, so that they become kernels too (memref.copy
    // would be a host call on device memory).
    bo.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
      b.create<linalg::CopyOp>(loc, from, to);
      return success();
    };
    pm.addPass(bufferization::createOneShotBufferizePass(bo));
  }
  pm.addPass(createCanonicalizerPass());
  // Contractions: tiled tensor-core kernels.
  pm.addNestedPass<func::FuncOp>(createNNGPUGemmPass());
  // Every other linalg op: parallel loops (its reductions sequential
  // inside), mapped onto blocks and threads, then a gpu.launch.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createNNGPUMapLoopsPass());
  pm.addPass(createParallelLoopToGpuPass());
  // What the host still reads or writes: kernels of one thread.
  pm.addNestedPass<func::FuncOp>(createNNGPUHostToDevicePass());
  pm.addPass(createCanonicalizerPass());
  // Temporaries: one workspace per entry point, in device memory the
  // runtime gives as the last argument.
  pm.addPass(createNNPlanBuffersPass(NNPlanBuffersPassOptions{true}));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  // Kernels outlined into gpu.modules, lowered to NVVM and serialized to
  // PTX (format "isa") for opts.chip; the host to the LLVM dialect.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = opts.chip;
  nvvm.cubinFeatures = opts.features;
  nvvm.cubinFormat = "isa";
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

} // namespace nnc
