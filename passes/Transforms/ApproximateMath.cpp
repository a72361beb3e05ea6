//===- ApproximateMath.cpp - Polynomial approximations of math ops --------===//
//
// exp, log, log1p, erf, tanh, ... become arith + math.fma so that generated
// code needs no libm and the approximations vectorize with the rest.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_NNAPPROXIMATEMATHPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNApproximateMathPass
    : nnc::impl::NNApproximateMathPassBase<NNApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // Expansions first: they rewrite into ops that have approximations
    // (powf -> exp/log, sinh/cosh -> exp, rsqrt -> 1/sqrt).
    populateExpandPowFPattern(patterns);
    populateExpandFPowIPattern(patterns);
    populateExpandSinhPattern(patterns);
    populateExpandCoshPattern(patterns);
    populateExpandRsqrtPattern(patterns);
    populateExpandExp2FPattern(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
