//===- Parallel.h - Parallel loops for generated code ----------*- C++ -*-===//
//
// The C entry the code nnc generates calls to run the chunks of a parallel
// loop (an `scf.forall` outlined by nn-outline-kernels, launched by the
// code of nn-generate-launchers) on oneTBB's threads. The thread limit is
// oneTBB's: the compiled program's `--threads N` sets a
// tbb::global_control for max_allowed_parallelism.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_PARALLEL_H
#define NNRT_PARALLEL_H

#include <cstdint>

extern "C" {
/// Calls fn(ctx, i) once for every i in [0, n), in any order and on any
/// threads, and returns when all calls have returned. Each i is a task of
/// its own (chunks are sized by the compiler). Runs the calls inline, in
/// order, on the calling thread when n <= 1, when only one thread is
/// allowed, or when called from inside another nnrt_parallel_for (no nested
/// parallelism).
void nnrt_parallel_for(int64_t n, void (*fn)(void *ctx, int64_t i), void *ctx);
}

namespace nnrt {
/// Subnormal floats flushed to zero on the calling thread (x86: MXCSR's FTZ
/// and DAZ; as torch.set_flush_denormal(True)). Values below 2^-126
/// (1.2e-38) count as 0: no float32 tolerance sees the difference, while
/// the vanishing gradients of a recurrent network through many steps would
/// otherwise run on the CPU's slow microcoded path (the text LSTM of SPEC
/// 2.7 at T = 200 trained 2.5x slower). Threads created afterwards inherit
/// the mode, and nnrt_parallel_for sets it in every chunk it runs (oneTBB
/// runs tasks under the floating-point settings it captured). Idempotent.
void flushSubnormals();
} // namespace nnrt

#endif // NNRT_PARALLEL_H
