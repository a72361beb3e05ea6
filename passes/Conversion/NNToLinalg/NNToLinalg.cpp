//===- NNToLinalg.cpp - The convert-nn-to-linalg pass ---------------------===//
//
// Only the conversion target and the pattern families live here; patterns
// are in Layers.cpp, Losses.cpp, Optimizers.cpp, Normalization.cpp,
// Convolutions.cpp, Pooling.cpp,
// Sequences.cpp, Recurrent.cpp and Attention.cpp.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "ir/NNOps.h"
#include "passes/Conversion/NNToLinalg/Patterns.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace nnc {
#define GEN_PASS_DEF_CONVERTNNTOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;

namespace {
struct ConvertNNToLinalgPass
    : nnc::impl::ConvertNNToLinalgPassBase<ConvertNNToLinalgPass> {
  using ConvertNNToLinalgPassBase::ConvertNNToLinalgPassBase;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<nn::NNDialect>();
    target.addLegalDialect<
        linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
        math::MathDialect, scf::SCFDialect, func::FuncDialect,
        memref::MemRefDialect, bufferization::BufferizationDialect,
        vector::VectorDialect>();
    maskMaxPoolGradients(getOperation());
    if (bySampleConvolutions)
      fuseConvReluMaxPool(getOperation());
    RewritePatternSet patterns(ctx);
    populateNNLayerPatterns(patterns);
    populateNNLossPatterns(patterns);
    populateNNOptimizerPatterns(patterns);
    populateNNNormalizationPatterns(patterns);
    populateNNConvPatterns(patterns, bySampleConvolutions);
    populateNNPoolingPatterns(patterns);
    populateNNSequencePatterns(patterns);
    populateNNRecurrentPatterns(patterns);
    populateNNAttentionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
