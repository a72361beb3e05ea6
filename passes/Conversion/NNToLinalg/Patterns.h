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
/// Before lowering: relu_grad(maxpool2d_grad(dy, x), x) becomes
/// maxpool2d_grad(relu_grad(dy, maxpool2d(x)), x) where the forward pass's
/// maxpool2d(x) precedes it. Each element of dx gets dy only where it holds
/// its window's maximum, which then decides relu's mask: the same values
/// (bit for bit, overlapping windows included), the mask applied to the
/// pooled gradient (a quarter of the elements for 2x2 windows) inside the
/// gradient's one op instead of one more pass over dx and x (Pooling.cpp).
void maskMaxPoolGradients(mlir::Operation *root);
/// Before lowering, after maskMaxPoolGradients: maxpool2d(relu(conv2d(x)))
/// with windows that do not overlap, where the convolution goes a few
/// samples at a time (im2col and one GEMM per part, or Winograd; not
/// shifted) and relu's
/// result is used only by the pooling and the pooling's gradient: each
/// part's convolution, relu and window maximum (with its offsets when the
/// gradient is taken) in the same parallel loop, the part's activations in
/// cache. The activations before pooling are never written whole (5.5 MB
/// written and read again by the pooling for the first layer of the plain
/// CNN); the gradient takes the offsets from that loop. The same ops on the
/// same values: bit for bit what the unfused lowering computes
/// (Convolutions.cpp).
void fuseConvReluMaxPool(mlir::Operation *root);
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
