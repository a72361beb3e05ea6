//===- Optimizers.cpp - nn -> linalg patterns -------------------------------------===//
#include "passes/Conversion/NNToLinalg/Patterns.h"

using namespace mlir;

void nnc::populateNNOptimizerPatterns(RewritePatternSet &patterns) {}
