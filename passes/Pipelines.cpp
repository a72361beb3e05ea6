//===- Pipelines.cpp - nnc's pass pipelines
//--------------------------------===//
//
// The CPU code generation pipeline: linalg on tensors -> tiles of vector ops
// -> buffers -> LLVM dialect. Its order encodes pitfalls measured with MLIR
// 19 (see docs of each step below and /work/shared/TOOLCHAIN.md).
//
//===----------------------------------------------------------------------===//
#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferViewFlowOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/BufferViewFlowOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorInferTypeOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace nnc {

/// Copies made by bufferization as linalg.copy, not memref.copy: the latter
/// lowers to a call of `memrefCopy` from MLIR's runner utilities for strided
/// operands, a library the generated program does not link. With
/// `parallelChunks`, a copy of at least `minElements` elements (outside any
/// parallel loop) becomes an scf.forall of copies of chunks of its first
/// dimension, as nn-tile-and-vectorize splits big ops.
static bufferization::BufferizationOptions::MemCpyFn
linalgCopyFn(int64_t parallelChunks, int64_t minElements) {
  return [=](OpBuilder &b, Location loc, Value from, Value to) {
    // An op that empty-tensor elimination made write straight into its
    // destination (an optimizer update into the state arena) leaves a copy
    // of the destination onto itself.
    if (from == to)
      return success();
    auto type = dyn_cast<MemRefType>(to.getType());
    int64_t chunks = 1;
    if (parallelChunks > 1 && type && type.hasStaticShape() &&
        type.getRank() > 0 && type.getNumElements() >= minElements &&
        !b.getInsertionBlock()->getParent()->getParentOfType<scf::ForallOp>())
      chunks = parallelChunkCount(type.getDimSize(0), parallelChunks,
                                  [](int64_t) { return true; });
    if (chunks < 2) {
      b.create<linalg::CopyOp>(loc, from, to);
      return success();
    }
    int64_t chunk = type.getDimSize(0) / chunks;
    auto forall = b.create<scf::ForallOp>(
        loc, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(type.getDimSize(0))},
        ArrayRef<OpFoldResult>{b.getIndexAttr(chunk)}, ValueRange(),
        std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets[0] = forall.getInductionVars()[0];
    SmallVector<OpFoldResult> sizes =
        getAsIndexOpFoldResult(b.getContext(), type.getShape());
    sizes[0] = b.getIndexAttr(chunk);
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    Value part =
        b.create<memref::SubViewOp>(loc, from, offsets, sizes, strides);
    Value dest = b.create<memref::SubViewOp>(loc, to, offsets, sizes, strides);
    b.create<linalg::CopyOp>(loc, part, dest);
    return success();
  };
}

/// The canonicalizer for functions already lowered to blocks (after
/// convert-scf-to-cf), without region simplification (on a CFG: erasing
/// dead blocks and block arguments, merging identical blocks), which LLVM's
/// simplifycfg and DCE redo. It took a fifth of the canonicalizer's time;
/// every example's program compiles to the same LLVM IR without it.
static std::unique_ptr<Pass> createCanonicalizerOfBlocks() {
  GreedyRewriteConfig config;
  config.enableRegionSimplification = GreedySimplifyRegionLevel::Disabled;
  return createCanonicalizerPass(config);
}

void buildCPUCodegenPipeline(OpPassManager &pm, const CPUCodegenOptions &opts) {
  // 1. Tensors: fuse elementwise chains (bias + relu = one loop), then tile
  //    and vectorize every linalg op.
  pm.addPass(createNNFuseElementwisePass());
  // Large models: identical layers share one function from here on.
  if (opts.layerMinOps >= 0) {
    NNOutlineLayersPassOptions ol;
    ol.minOps = opts.layerMinOps;
    pm.addPass(createNNOutlineLayersPass(ol));
  }
  {
    NNTileAndVectorizePassOptions tv;
    // The options hold an ArrayRef; the pass copies it when created.
    SmallVector<int64_t> tiles(opts.matmulTileSizes.begin(),
                               opts.matmulTileSizes.end());
    tv.matmulTileSizes = tiles;
    tv.vectorWidth = opts.vectorWidth;
    tv.parallelChunks = opts.parallelChunks;
    tv.parallelMinWork = opts.parallelMinWork;
    pm.addNestedPass<func::FuncOp>(createNNTileAndVectorizePass(tv));
  }
  // Canonicalization and CSE run function by function (in parallel; none of
  // their patterns crosses a function): the same IR as on the whole module.
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  // Tiles computed into a tensor.empty and inserted into a larger tensor
  // (im2col, col2im: the canonicalizer folds their extract_slice of an empty
  // destination) are made to write into that tensor, or each would be a
  // copy. Before CSE: it merges the equal tensor.empty of all such tiles
  // into one, which no single insertion point can replace.
  pm.addNestedPass<func::FuncOp>(createNNUnshareEmptyTensorsPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  // The matmul accumulator (transfer_read/_write of C in the k loop) moves
  // out of the loop and stays in registers. The canonicalization after it is
  // needed: without it strided copies remain (slower, and memrefCopy calls).
  pm.addNestedPass<func::FuncOp>(createNNHoistAccumulatorsPass());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());

  // 2. Bufferization. Function boundaries get identity layouts so that the
  //    bare-pointer calling convention applies.
  {
    bufferization::OneShotBufferizationOptions bo;
    bo.bufferizeFunctionBoundaries = true;
    bo.setFunctionBoundaryTypeConversion(
        bufferization::LayoutMapOption::IdentityLayoutMap);
    bo.allowReturnAllocsFromLoops = true;
    bo.memCpyFn = linalgCopyFn(opts.parallelChunks, opts.parallelMinWork);
    pm.addPass(bufferization::createOneShotBufferizePass(bo));
  }
  // Bufferization names its constants in an order that varies between
  // runs; they get names and places by first use.
  pm.addPass(createNNOrderConstantsPass());
  // canonicalize must precede drop-equivalent-buffer-results, or a stray
  // bufferization.clone survives.
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addPass(bufferization::createDropEquivalentBufferResultsPass());
  if (opts.resultsToOutParams) {
    bufferization::BufferResultsToOutParamsOpts ro;
    ro.hoistStaticAllocs = true; // write results straight into the caller's
    ro.memCpyFn = linalgCopyFn(opts.parallelChunks, opts.parallelMinWork);
    pm.addPass(bufferization::createBufferResultsToOutParamsPass(ro));
  }
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createCSEPass());

  // 3. Buffer placement: hoist allocations out of loops, put small ones on
  //    the stack, plan the rest statically.
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferHoistingPass());
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  //    Buffers inside a parallel loop's body (one per chunk, which
  //    nn-plan-buffers does not plan) go on the stack up to 1.25 MiB (two
  //    samples' im2col matrix of a 3x3 convolution of 128 channels at
  //    11x11), so that chunks do not call malloc (the programs give
  //    oneTBB's threads 8 MiB stacks, see runtime/program/Cli.cpp).
  unsigned limit = opts.stackAllocLimit;
  pm.addNestedPass<func::FuncOp>(
      bufferization::createPromoteBuffersToStackPass([limit](Value alloc) {
        auto type = dyn_cast<MemRefType>(alloc.getType());
        if (!type || !type.hasStaticShape() ||
            !type.getElementType().isIntOrFloat())
          return false;
        uint64_t bytes =
            type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
        bool perChunk =
            alloc.getParentRegion()->getParentOfType<scf::ForallOp>() !=
            nullptr;
        return bytes <= (perChunk ? std::max(limit, 5u << 18) : limit);
      }));
  // The rest get fixed places in a static workspace (no allocation per
  // step); what cannot be planned is freed by ownership-based deallocation.
  pm.addPass(createNNPlanBuffersPass());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);

  // 4. What is left of linalg (untiled ops, copies) becomes scalar loops;
  //    transcendental functions become polynomials.
  //    nn-quantize's int8 GEMMs first get their VNNI kernels, and copies
  //    along contiguous rows become vector loads and stores.
  pm.addNestedPass<func::FuncOp>(
      createNNLowerInt8GemmPass(NNLowerInt8GemmPassOptions{opts.int8Vnni}));
  pm.addNestedPass<func::FuncOp>(createNNVectorizeCopiesPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createNNApproximateMathPass());

  // 4b. One function per loop nest, shared by identical nests: what LLVM's
  //     loop passes then see grows linearly with the model (see the pass).
  //     Parallel loops (scf.forall) are outlined here too, so late: the
  //     buffer passes above keep allocations inside their bodies (each
  //     chunk gets its own), and their launchers are generated below once
  //     every argument is a bare pointer or a scalar.
  {
    NNOutlineKernelsPassOptions ok;
    ok.serial = opts.parallelChunks == 0;
    pm.addPass(createNNOutlineKernelsPass(ok));
  }

  // 5. Vectors to 1-D vectors (fully unrolled), then everything to LLVM.
  //    Function by function (the kernels, in parallel) except for the
  //    conversions that need the module.
  OpPassManager &kernels = pm.nest<func::FuncOp>();
  // The register tiles' contractions, reductions and transposes, kept as
  // one op per tile until here (see the pass), to FMAs and shuffles.
  kernels.addPass(createNNLowerVectorTilesPass());
  // Strided rows (pooling windows) as contiguous spans + shuffles.
  kernels.addPass(createNNContiguousStridedTransfersPass());
  {
    VectorTransferToSCFOptions vs;
    vs.enableFullUnroll(true);
    vs.setTargetRank(1);
    kernels.addPass(createConvertVectorToSCFPass(vs));
  }
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createConvertSCFToCFPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createCanonicalizerOfBlocks());
  {
    ConvertVectorToLLVMPassOptions vl;
    vl.reassociateFPReductions = true;
    kernels.addPass(createConvertVectorToLLVMPass(vl));
  }
  // Transposes' shuffle networks selected stage by stage (see the pass).
  kernels.addPass(createNNFenceShufflesPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  OpPassManager &scalars = pm.nest<func::FuncOp>();
  scalars.addPass(createConvertMathToLLVMPass());
  scalars.addPass(createArithToLLVMConversionPass());
  scalars.addPass(createConvertIndexToLLVMPass());
  scalars.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  {
    ConvertFuncToLLVMPassOptions fl;
    fl.useBarePtrCallConv = opts.barePtrCallConv;
    pm.addPass(createConvertFuncToLLVMPass(fl));
  }
  // Function by function again (in parallel): the casts left by the
  // conversions are all inside functions.
  pm.nest<LLVM::LLVMFuncOp>().addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createNNGenerateLaunchersPass());
  OpPassManager &llvmFunctions = pm.nest<LLVM::LLVMFuncOp>();
  llvmFunctions.addPass(createCanonicalizerOfBlocks());
  llvmFunctions.addPass(createCSEPass());
  // Kernels of repeated layers, equal but for their arena offsets, as one.
  pm.addPass(createNNMergeKernelsPass());
}

void registerCPUCodegenDialects(DialectRegistry &registry) {
  registry.insert<affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect, tensor::TensorDialect,
                  vector::VectorDialect>();
  // Tiling.
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  tensor::registerInferTypeOpInterfaceExternalModels(registry);
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  linalg::registerValueBoundsOpInterfaceExternalModels(registry);
  memref::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  // Loop-invariant subset hoisting (and bufferization's subset questions):
  // nnc's comparisons of static slices first, so that MLIR's models, added
  // after them, do not replace them (the first model of an interface stays).
  registerStaticSubsetModels(registry);
  linalg::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
  // Bufferization and deallocation.
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  cf::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  scf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  arith::registerBufferViewFlowOpInterfaceExternalModels(registry);
  memref::registerBufferViewFlowOpInterfaceExternalModels(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
}

void buildNNTrainingPipeline(OpPassManager &pm) {
  pm.addPass(createNNAutodiffPass());
  pm.addPass(createNNBuildTrainStepPass());
  pm.addPass(createNNFoldBatchNormPass());
  pm.addPass(createNNExportABIPass());
}

void buildNNInferencePipeline(OpPassManager &pm, llvm::StringRef entry,
                              Quantization quantize) {
  pm.addPass(createNNFoldBatchNormPass(NNFoldBatchNormPassOptions{true}));
  if (quantize != Quantization::None)
    pm.addPass(createNNQuantizePass(
        NNQuantizePassOptions{quantize == Quantization::Int8WithCalibration}));
  pm.addPass(createNNExportABIPass(NNExportABIPassOptions{true, entry.str()}));
}

void buildNNToLinalgPipeline(OpPassManager &pm, bool bySampleConvolutions) {
  pm.addPass(createConvertNNToLinalgPass(
      ConvertNNToLinalgPassOptions{bySampleConvolutions}));
  // Everything is inlined into the entry points; the canonicalizer below
  // simplifies the result once (the inliner's default pipeline canonicalized
  // every function before inlining it too, for the same IR).
  pm.addPass(createInlinerPass({}, [](OpPassManager &) {}));
  pm.addPass(createSymbolDCEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void registerNNCPipelines() {
  PassPipelineRegistration<>(
      "nn-training",
      "builds the training step on the nn dialect: gradients, optimizer "
      "update, C entry points (the stage `nnc --emit nn` prints)",
      buildNNTrainingPipeline);
  PassPipelineRegistration<>(
      "nn-inference",
      "the inference library's entry point on the nn dialect: batchnorm "
      "folded, nnc_infer with the preprocessing in front",
      [](OpPassManager &pm) { buildNNInferencePipeline(pm); });
  PassPipelineRegistration<>(
      "nn-to-linalg",
      "lowers the nn dialect to linalg on tensors and inlines the training "
      "step into the entry points (the stage `nnc --emit linalg` prints)",
      [](OpPassManager &pm) { buildNNToLinalgPipeline(pm); });
  PassPipelineRegistration<GPUCodegenOptions>(
      "nnc-gpu-codegen",
      "lowers linalg to host code launching kernels and their PTX for an "
      "NVIDIA architecture (the first stage of --target cuda)",
      buildGPUCodegenPipeline);
  PassPipelineRegistration<CPUCodegenOptions>(
      "nnc-cpu-codegen",
      "lowers linalg on tensors to the LLVM dialect for the host CPU "
      "(tiling, vectorization, bufferization, LLVM lowering)",
      buildCPUCodegenPipeline);
}

} // namespace nnc
