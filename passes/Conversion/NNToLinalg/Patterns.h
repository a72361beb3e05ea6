//===- Patterns.h - nn -> linalg pattern families (private) ------*- C++ -*-===//
#ifndef NNC_PASSES_CONVERSION_NNTOLINALG_PATTERNS_H
#define NNC_PASSES_CONVERSION_NNTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace nnc {

/// dense, activations, reshape, add, mul, matmul, reduce_sum and activation
/// gradients (Layers.cpp).
void populateNNLayerPatterns(mlir::RewritePatternSet &patterns);
/// Losses and their gradients (Losses.cpp).
void populateNNLossPatterns(mlir::RewritePatternSet &patterns);
/// Optimizer updates and the learning-rate schedule (Optimizers.cpp).
void populateNNOptimizerPatterns(mlir::RewritePatternSet &patterns);
/// conv2d and its gradients (Convolutions.cpp); `bySample`: small samples
/// may go one at a time in a parallel loop.
void populateNNConvPatterns(mlir::RewritePatternSet &patterns, bool bySample);
/// maxpool2d, avgpool2d, global_avgpool and their gradients (Pooling.cpp).
void populateNNPoolingPatterns(mlir::RewritePatternSet &patterns);
/// token_mask, embedding, the masked pools over time and their gradients
/// (Sequences.cpp).
void populateNNSequencePatterns(mlir::RewritePatternSet &patterns);
/// rnn, lstm, gru and their backpropagation through time (Recurrent.cpp).
void populateNNRecurrentPatterns(mlir::RewritePatternSet &patterns);
/// attention and its gradient, fused FlashAttention-2 loops (Attention.cpp).
void populateNNAttentionPatterns(mlir::RewritePatternSet &patterns);

/// batchnorm, layernorm, dropout, concat, their gradients and the running
/// statistics (Normalization.cpp).
void populateNNNormalizationPatterns(mlir::RewritePatternSet &patterns);

} // namespace nnc

#endif // NNC_PASSES_CONVERSION_NNTOLINALG_PATTERNS_H
