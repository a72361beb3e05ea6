// channel_sums.c: what the order of a per-channel sum over [N, C, H, W]
// costs when the activations are not in cache (issue 17: batchnorm's
// gradient sums, sum(dy) and sum(dy (x - mean)) for each channel, over
// resnet_mini's 64 x 32 x 28 x 28 activations).
//
//   cc -O3 -march=native bench/channel_sums.c -o channel_sums
//   ./channel_sums
//
// Channel-major (what nnc generated before: for each channel, for each
// sample, its 784 floats, then a jump of a whole sample) against
// sample-major (each sample's [c, h, w] as one stream, the partial sums of
// a channel kept in memory): whole, and in chunks of K channels, each
// chunk sample-major inside. Cold: after 64 MiB of other writes; warm:
// right after the same sum. Prints the best of 15 rounds, in ms, and a
// streaming elementwise pass over the same data for scale (GB/s).
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 64, C = 32, HW = 784, ROWS = 7, ROW = 112 };

static float *dy, *x, *dx, *junk;
static float mean[C], db[C], dp[C];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One channel of one sample into 7 x 16 accumulators per sum.
static inline __attribute__((always_inline)) void
accumulate(int n, int c, __m512 *a, __m512 *b) {
  __m512 m = _mm512_set1_ps(mean[c]);
  for (int r = 0; r < ROWS; r++) {
    const float *p = dy + (size_t)(n * C + c) * HW + r * ROW;
    const float *q = x + (size_t)(n * C + c) * HW + r * ROW;
    for (int i = 0; i < 7; i++) {
      __m512 d = _mm512_loadu_ps(p + 16 * i), v = _mm512_loadu_ps(q + 16 * i);
      a[i] = _mm512_add_ps(a[i], d);
      b[i] = _mm512_fmadd_ps(d, _mm512_sub_ps(v, m), b[i]);
    }
  }
}

static void finish(int c, const float *a, const float *b) {
  db[c] = dp[c] = 0;
  for (int i = 0; i < 7 * 16; i++) {
    db[c] += a[i];
    dp[c] += b[i];
  }
}

// Channel-major: the accumulators in registers through all samples.
static void channel_major(void) {
  for (int c = 0; c < C; c++) {
    __m512 a[7], b[7];
    for (int i = 0; i < 7; i++)
      a[i] = b[i] = _mm512_setzero_ps();
    for (int n = 0; n < N; n++)
      accumulate(n, c, a, b);
    float fa[7 * 16], fb[7 * 16];
    for (int i = 0; i < 7; i++) {
      _mm512_storeu_ps(fa + 16 * i, a[i]);
      _mm512_storeu_ps(fb + 16 * i, b[i]);
    }
    finish(c, fa, fb);
  }
}

// Chunks of k channels, sample-major inside: the partial sums of each
// channel loaded and stored once per sample (k = C: all of a sample).
static void sample_major(int k) {
  static float pa[C][7 * 16], pb[C][7 * 16];
  memset(pa, 0, sizeof pa);
  memset(pb, 0, sizeof pb);
  for (int c0 = 0; c0 < C; c0 += k)
    for (int n = 0; n < N; n++)
      for (int c = c0; c < c0 + k; c++) {
        __m512 a[7], b[7];
        for (int i = 0; i < 7; i++) {
          a[i] = _mm512_loadu_ps(pa[c] + 16 * i);
          b[i] = _mm512_loadu_ps(pb[c] + 16 * i);
        }
        accumulate(n, c, a, b);
        for (int i = 0; i < 7; i++) {
          _mm512_storeu_ps(pa[c] + 16 * i, a[i]);
          _mm512_storeu_ps(pb[c] + 16 * i, b[i]);
        }
      }
  for (int c = 0; c < C; c++)
    finish(c, pa[c], pb[c]);
}

static void elementwise(void) {
  for (size_t i = 0; i < (size_t)N * C * HW; i += 16)
    _mm512_storeu_ps(dx + i, _mm512_fmadd_ps(_mm512_loadu_ps(dy + i),
                                             _mm512_set1_ps(2.f),
                                             _mm512_loadu_ps(x + i)));
}

static void flush(void) {
  for (size_t i = 0; i < ((size_t)64 << 20) / sizeof(float); i += 16)
    junk[i] += 1.f;
}

// Best cold and warm times of `f(k)` over 15 rounds, in ms.
static void measure(const char *name, void (*f)(int), int k) {
  double cold = 1e9, warm = 1e9;
  for (int round = 0; round < 15; round++) {
    flush();
    double t0 = now();
    f(k);
    double t1 = now();
    f(k);
    double t2 = now();
    cold = t1 - t0 < cold ? t1 - t0 : cold;
    warm = t2 - t1 < warm ? t2 - t1 : warm;
  }
  printf("%-24s cold %.3f ms  warm %.3f ms  (db[3] %.2f)\n", name, cold * 1e3,
         warm * 1e3, db[3]);
}

static void channel_major_k(int k) { (void)k, channel_major(); }
static void elementwise_k(int k) { (void)k, elementwise(); }

int main(void) {
  size_t bytes = (size_t)N * C * HW * sizeof(float);
  dy = aligned_alloc(64, bytes);
  x = aligned_alloc(64, bytes);
  dx = aligned_alloc(64, bytes);
  junk = aligned_alloc(64, (size_t)64 << 20);
  if (!dy || !x || !dx || !junk)
    return 1;
  srand(1);
  for (size_t i = 0; i < bytes / sizeof(float); i++) {
    dy[i] = rand() / (float)RAND_MAX;
    x[i] = rand() / (float)RAND_MAX;
  }
  memset(junk, 0, (size_t)64 << 20);
  for (int c = 0; c < C; c++)
    mean[c] = 0.5f;
  measure("channel-major", channel_major_k, 0);
  for (int k = 1; k <= C; k *= 2) {
    char name[32];
    snprintf(name, sizeof name, "sample-major, %d ch", k);
    measure(name, sample_major, k);
  }
  measure("elementwise (3 passes)", elementwise_k, 0);
  return 0;
}
