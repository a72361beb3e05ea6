//===- Pipelines.h - nnc's pass pipelines ------------------------*- C++
//-*-===//
//
// The one place the lowering pipelines are assembled, so that nnc and
// nnc-opt run the same thing.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_PIPELINES_H
#define NNC_PASSES_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <cstdint>

namespace nnc {

/// Options of the CPU code generation pipeline (`nnc-cpu-codegen`).
struct CPUCodegenOptions : public mlir::PassPipelineOptions<CPUCodegenOptions> {
  ListOption<int64_t> matmulTileSizes{
      *this, "matmul-tile-sizes",
      llvm::cl::desc("tile sizes (m, n, k) of matmul-family ops "
                     "(default 8,32,4)")};
  Option<int64_t> vectorWidth{
      *this, "vector-width", llvm::cl::desc("f32 lanes of one hardware vector"),
      llvm::cl::init(16)};
  Option<unsigned> stackAllocLimit{
      *this, "stack-alloc-limit",
      llvm::cl::desc("temporary buffers up to this many bytes live on the "
                     "stack, larger ones on the heap"),
      llvm::cl::init(64 * 1024)};
  Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc("return memref results through caller-provided "
                     "out-parameters (void f(in..., out...))"),
      llvm::cl::init(true)};
  Option<int64_t> parallelChunks{
      *this, "parallel-chunks",
      llvm::cl::desc("split big ops into about this many chunks that run in "
                     "parallel on the runtime's threads (0: serial code)"),
      llvm::cl::init(0)};
  Option<int64_t> parallelMinWork{
      *this, "parallel-min-work",
      llvm::cl::desc("iterations of its loop nest an op (elements a copy "
                     "made by bufferization) needs to be split into "
                     "parallel chunks"),
      llvm::cl::init(65536)};
  Option<int64_t> layerMinOps{
      *this, "layer-min-ops",
      llvm::cl::desc("outline layers into functions shared by identical "
                     "layers in entry points of at least this many "
                     "operations (nn-outline-layers; negative: never)"),
      llvm::cl::init(2000)};
  Option<bool> int8Vnni{
      *this, "int8-vnni",
      llvm::cl::desc("lower nn-quantize's int8 GEMMs to AVX-512 VNNI kernels "
                     "(else scalar loops)"),
      llvm::cl::init(false)};
  Option<bool> barePtrCallConv{
      *this, "bare-ptr-call-conv",
      llvm::cl::desc("pass memrefs as bare pointers (static shapes only)"),
      llvm::cl::init(true)};
};

/// The nn-level pipeline (`nn-training`): gradients (nn-autodiff), the
/// training step with its optimizer update (nn-build-train-step), batchnorm
/// folding's `fold` (nn-fold-batchnorm), the C entry points (nn-export-abi).
/// `nnc --emit nn` prints its result.
void buildNNTrainingPipeline(mlir::OpPassManager &pm);

/// The inference library's nn-level pipeline (`nn-inference`, for
/// `./model export`): nn.predict on folded batchnorm, exported as
/// `entry`(weights, x, out) with the preprocessing in front.
/// `quantize` (`./model export --int8`): nn-quantize too, int8 layers;
/// with `calibration`, also nnc_observe and nnc_quantize.
enum class Quantization { None, Int8, Int8WithCalibration };
void buildNNInferencePipeline(mlir::OpPassManager &pm,
                              llvm::StringRef entry = "nnc_infer",
                              Quantization quantize = Quantization::None);

/// nn -> linalg (`nn-to-linalg`): the conversion, then the training step
/// inlined into the entry points and cleaned up. `nnc --emit linalg` prints
/// its result. `bySampleConvolutions`: see convert-nn-to-linalg (false for
/// GPUs).
void buildNNToLinalgPipeline(mlir::OpPassManager &pm,
                             bool bySampleConvolutions = true);

/// Lowers a module of func/linalg/tensor/arith/math on statically shaped
/// tensors to the LLVM dialect: tiling and vectorization, one-shot
/// bufferization, buffer placement and deallocation, then LLVM lowering.
void buildCPUCodegenPipeline(mlir::OpPassManager &pm,
                             const CPUCodegenOptions &opts);

/// Options of the GPU code generation pipeline (`nnc-gpu-codegen`).
struct GPUCodegenOptions : public mlir::PassPipelineOptions<GPUCodegenOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("the NVIDIA architecture (sm_90: "
                                          "H100/H200, sm_80: A100)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features", llvm::cl::desc("NVPTX features (the PTX ISA version)"),
      llvm::cl::init("+ptx80")};
};

/// Lowers a module of linalg ops for NVIDIA GPUs (GPUPipeline.cpp): host
/// code in the LLVM dialect launching kernels whose PTX it embeds
/// (gpu.binary).
void buildGPUCodegenPipeline(mlir::OpPassManager &pm,
                             const GPUCodegenOptions &opts);

/// The dialects and interfaces of the GPU pipeline (gpu, nvvm, the NVVM
/// target's serialization through LLVM IR).
void registerGPUCodegenDialects(mlir::DialectRegistry &registry);

/// Registers the dialects the pipeline's input is made of and the external
/// interface models (tiling, bufferization, subsets, ...) its passes need.
/// Must be applied to the registry before the context is created.
void registerCPUCodegenDialects(mlir::DialectRegistry &registry);

/// SubsetOpInterface models of tensor.extract_slice, tensor.insert_slice and
/// tensor.parallel_insert_slice that compare static slices directly instead
/// of through ValueBoundsConstraintSet (StaticSubsets.cpp); registered before
/// MLIR's, which they then take the place of.
void registerStaticSubsetModels(mlir::DialectRegistry &registry);

/// Registers `nn-training`, `nn-to-linalg` and `nnc-cpu-codegen` as textual
/// pipelines, so that nnc-opt reproduces every stage of `nnc --emit`.
void registerNNCPipelines();

} // namespace nnc

#endif // NNC_PASSES_PIPELINES_H
