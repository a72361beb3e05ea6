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
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
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
  // #gpu.select_object: embeds the PTX and loads it (mgpuModuleLoadJIT).
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
}

void buildGPUCodegenPipeline(OpPassManager &pm, const GPUCodegenOptions &opts) {
  {
    bufferization::OneShotBufferizationOptions bo;
    bo.bufferizeFunctionBoundaries = true;
    bo.setFunctionBoundaryTypeConversion(
        bufferization::LayoutMapOption::IdentityLayoutMap);
    // Recurrent layers' time loops carry their states as new buffers.
    bo.allowReturnAllocsFromLoops = true;
    // Copies as linalg.copy, so that they become kernels too (memref.copy
    // would be a host call on device memory).
    bo.memCpyFn = [](OpBuilder &b, Location loc, Value from, Value to) {
      b.create<linalg::CopyOp>(loc, from, to);
      return success();
    };
    pm.addPass(bufferization::createOneShotBufferizePass(bo));
  }
  pm.addPass(createNNOrderConstantsPass()); // see Pipelines.cpp
  pm.addPass(createCanonicalizerPass());
  // Allocations out of loops, so that nn-plan-buffers can place them.
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferHoistingPass());
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  // Entry points: the caller's buffers copied to the device and back.
  pm.addPass(createNNGPUStageArgumentsPass());
  // Temporaries: one workspace per entry point, in device memory the
  // runtime gives as the last argument; what cannot be placed there
  // (buffers a loop makes at every iteration) is freed where ownership says
  // and both go through the runtime's device allocator. Before the kernels
  // exist: the deallocation passes do not know gpu.launch.
  pm.addPass(createNNPlanBuffersPass(NNPlanBuffersPassOptions{true}));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  pm.addPass(createNNGPUDeviceAllocationsPass());
  // Contractions: tiled tensor-core kernels.
  pm.addNestedPass<func::FuncOp>(createNNGPUGemmPass());
  // Every other linalg op: parallel loops (its reductions sequential
  // inside), mapped onto blocks and threads, then a gpu.launch.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createNNGPUMapLoopsPass());
  pm.addPass(createParallelLoopToGpuPass());
  // What the host still reads or writes: kernels of one thread (scalars
  // between them in the runtime's device scratch memory).
  pm.addNestedPass<func::FuncOp>(createNNGPUHostToDevicePass());
  pm.addPass(createCanonicalizerPass());
  // The workspace, which the entry points in their C ABI ask the runtime
  // for.
  pm.addPass(createNNGPUWorkspaceWrappersPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());

  // Kernels outlined into gpu.modules, lowered to NVVM and serialized to
  // PTX (format "isa") for opts.chip; the host to the LLVM dialect with
  // bare pointers for buffers, as the CPU build's entry points take them.
  // (upstream's gpu-lower-to-nvvm-pipeline but for the host's calling
  // convention.)
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addNestedPass<func::FuncOp>(createNNGPUKernelBufferBasesPass());
  pm.addPass(createGpuKernelOutliningPass());
  // Four modules of about equal size, serialized in parallel below (a
  // fixed count: the output does not depend on the machine).
  pm.addPass(createNNGPUMergeKernelModulesPass(
      NNGPUMergeKernelModulesPassOptions{/*parts=*/4}));
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  {
    ConvertFuncToLLVMPassOptions fl;
    fl.useBarePtrCallConv = true;
    pm.addPass(createConvertFuncToLLVMPass(fl));
  }
  pm.addPass(memref::createExpandStridedMetadataPass());
  {
    GpuNVVMAttachTargetOptions target;
    target.chip = opts.chip;
    target.features = opts.features;
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // The kernels.
  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  // Kernels take their buffers as bare pointers, as the host passes them
  // (every buffer here has a static shape and layout).
  {
    ConvertGpuOpsToNVVMOpsOptions nvvm;
    nvvm.useBarePtrCallConv = true;
    pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvm));
  }
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  // The host: launches, then every gpu.module serialized to PTX.
  {
    GpuToLLVMConversionPassOptions host;
    host.hostBarePtrCallConv = true;
    host.kernelBarePtrCallConv = true;
    pm.addPass(createGpuToLLVMConversionPass(host));
  }
  pm.addPass(createNNGPUModuleToBinaryPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

} // namespace nnc
