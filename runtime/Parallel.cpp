//===- Parallel.cpp - Parallel loops for generated code on oneTBB ---------===//
#include "runtime/Parallel.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

void nnrt::flushSubnormals() {
#if defined(__SSE2__)
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
}

namespace {
/// Set while this thread runs chunks of a parallel loop: a parallel loop
/// inside one (or a prefetch task stolen by a waiting thread that starts
/// one) runs inline instead of nesting.
thread_local bool insideParallelFor = false;

void runInline(int64_t n, void (*fn)(void *, int64_t), void *ctx) {
  for (int64_t i = 0; i < n; ++i)
    fn(ctx, i);
}
} // namespace

extern "C" void nnrt_parallel_for(int64_t n, void (*fn)(void *, int64_t),
                                  void *ctx) {
  if (n <= 1 || insideParallelFor ||
      tbb::global_control::active_value(
          tbb::global_control::max_allowed_parallelism) <= 1) {
    bool outer = insideParallelFor;
    insideParallelFor = true;
    runInline(n, fn, ctx);
    insideParallelFor = outer;
    return;
  }
  // Grain 1 with the simple partitioner: every chunk is a task, so the
  // compiler's chunk count (a small multiple of the threads) balances load.
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, n, 1),
      [&](const tbb::blocked_range<int64_t> &range) {
        // Every task: oneTBB applies the floating-point settings it captured
        // (possibly before the program set them) to the tasks it runs.
        nnrt::flushSubnormals();
        bool outer = insideParallelFor;
        insideParallelFor = true;
        for (int64_t i = range.begin(); i != range.end(); ++i)
          fn(ctx, i);
        insideParallelFor = outer;
      },
      tbb::simple_partitioner());
}
