//===- ParallelTest.cpp - nnrt_parallel_for -----------------------------===//
#include "runtime/Parallel.h"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

struct Record {
  std::vector<std::atomic<int>> calls;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  explicit Record(int64_t n) : calls(n) {}
};

void recordChunk(void *ctx, int64_t i) {
  auto *record = static_cast<Record *>(ctx);
  record->calls[i].fetch_add(1);
  // Some work, so that a second thread has time to join in.
  volatile double x = 0;
  for (int k = 0; k < 50000; ++k)
    x = x + k * 1e-9;
  std::lock_guard<std::mutex> lock(record->mutex);
  record->threads.insert(std::this_thread::get_id());
}

TEST(Parallel, CallsEveryIndexExactlyOnce) {
  for (int64_t n : {0, 1, 2, 7, 8, 64, 257}) {
    Record record(n);
    nnrt_parallel_for(n, recordChunk, &record);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(record.calls[i].load(), 1) << "n = " << n << ", i = " << i;
  }
}

TEST(Parallel, OneChunkRunsOnTheCallingThread) {
  Record record(1);
  nnrt_parallel_for(1, recordChunk, &record);
  EXPECT_EQ(record.calls[0].load(), 1);
  ASSERT_EQ(record.threads.size(), 1u);
  EXPECT_EQ(*record.threads.begin(), std::this_thread::get_id());
}

TEST(Parallel, HonorsTheThreadLimit) {
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    Record record(64);
    nnrt_parallel_for(64, recordChunk, &record);
    ASSERT_EQ(record.threads.size(), 1u);
    EXPECT_EQ(*record.threads.begin(), std::this_thread::get_id());
  }
  tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
  Record record(64);
  nnrt_parallel_for(64, recordChunk, &record);
  EXPECT_LE(record.threads.size(), 2u);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(record.calls[i].load(), 1);
}

struct Nested {
  Record inner{16};
  std::atomic<int> outerCalls{0};
};

void nestedChunk(void *ctx, int64_t) {
  auto *nested = static_cast<Nested *>(ctx);
  nested->outerCalls.fetch_add(1);
  // A parallel loop inside a chunk runs inline on this chunk's thread.
  Record local(4);
  nnrt_parallel_for(4, recordChunk, &local);
  EXPECT_EQ(local.threads.size(), 1u);
  EXPECT_EQ(*local.threads.begin(), std::this_thread::get_id());
}

TEST(Parallel, NestedLoopsRunInline) {
  Nested nested;
  nnrt_parallel_for(8, nestedChunk, &nested);
  EXPECT_EQ(nested.outerCalls.load(), 8);
}

/// A product that is subnormal in IEEE arithmetic (1e-38 * 1e-2 = 1e-40):
/// 0 when the thread flushes subnormals.
float subnormalProduct() {
  volatile float tiny = 1e-38f, scale = 1e-2f;
  return tiny * scale;
}

void flushChunk(void *ctx, int64_t i) {
  static_cast<std::vector<std::atomic<int>> *>(ctx)->at(i) =
      subnormalProduct() == 0.0f ? 1 : 2;
}

#if defined(__SSE2__)
TEST(Parallel, SubnormalsAreFlushedOnEveryThread) {
  // In IEEE mode (earlier tests may have run chunks on this thread, which
  // set the flushing mode: undo it), gradual underflow keeps the product.
  _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_OFF);
  _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_OFF);
  EXPECT_NE(subnormalProduct(), 0.0f);
  nnrt::flushSubnormals();
  EXPECT_EQ(subnormalProduct(), 0.0f);
  // Chunks run on oneTBB's workers, which set the mode themselves.
  tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
  std::vector<std::atomic<int>> flushed(64);
  nnrt_parallel_for(64, flushChunk, &flushed);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(flushed[i].load(), 1) << "chunk " << i;
}
#endif

} // namespace
