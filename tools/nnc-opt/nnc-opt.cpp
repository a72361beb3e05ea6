//===- nnc-opt.cpp - MlirOptMain over nnc's dialects and passes ------------===//
//
// The lit tests' tool: parses, verifies, runs passes and prints IR. It
// registers only the dialects and passes nnc uses (InitAll* costs 45 s of
// compile time per file).
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<nnc::nn::NNDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::bufferization::BufferizationDialect,
                  mlir::tensor::TensorDialect>();
  // The input of the passes that run after the LLVM lowering.
  registry.insert<mlir::LLVM::LLVMDialect>();
  nnc::registerCPUCodegenDialects(registry);
  nnc::registerGPUCodegenDialects(registry);
  // nn-to-linalg inlines the training step into the entry points.
  mlir::func::registerInlinerExtension(registry);
  nnc::registerNNCPasses();
  nnc::registerNNCPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerLoopInvariantSubsetHoisting();
  // The pipeline's step that nn-unshare-empty-tensors prepares.
  mlir::bufferization::registerEmptyTensorElimination();
  mlir::bufferization::registerOneShotBufferize();
  // The GPU pipeline's steps around nn-gpu-map-loops.
  mlir::registerPass(
      [] { return mlir::createConvertLinalgToParallelLoopsPass(); });
  mlir::registerPass([] { return mlir::createParallelLoopToGpuPass(); });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "nnc optimizer driver\n", registry));
}
