/* The host's fp32 FMA peak, measured (issue 17): every thread runs
 * independent chains of vector fused multiply-adds that stay in registers,
 * enough chains to hide the FMA latency, on the widest vectors the compiler
 * targets with -march=native (AVX-512: 16 floats, AVX2: 8).
 *
 *   cc -O2 -march=native -pthread bench/fma_peak.c -o fma_peak
 *   ./fma_peak THREADS [SECONDS] [f32|bf16]
 *
 * Prints one JSON object: {"threads": T, "lanes": L, "gflops": G}, the best
 * of five timed rounds (2 FLOPs per lane per FMA). bench/bench.py quotes
 * fractions of this peak instead of a constant from another machine.
 * `bf16` measures AVX-512 BF16's dot product instead (vdpbf16ps: per f32
 * lane, two bf16 products added to the f32 accumulator, 4 FLOPs), the
 * instruction a bf16 GEMM kernel would be made of (issue 14); exit 1 on
 * hosts without it.
 */
#include <immintrin.h>
#include <pthread.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#elif defined(__AVX__)
#define LANES 8
#else
#define LANES 4
#endif
#define CHAINS 12 /* FMA latency 4 x 2-3 ports: 8-12 chains in flight */


typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

struct job {
  long iterations;
  float sink;
};

#define FMA(x) x = x * a + b /* contracted to one FMA */

static void *run(void *arg) {
  struct job *job = arg;
  vec a, b, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
  for (int l = 0; l < LANES; ++l) {
    a[l] = 0.999999f;
    b[l] = 1e-7f;
    c0[l] = c1[l] = c2[l] = c3[l] = c4[l] = c5[l] = (float)l;
    c6[l] = c7[l] = c8[l] = c9[l] = c10[l] = c11[l] = (float)(l + 1);
  }
  for (long i = 0; i < job->iterations; ++i) {
    FMA(c0); FMA(c1); FMA(c2); FMA(c3); FMA(c4); FMA(c5);
    FMA(c6); FMA(c7); FMA(c8); FMA(c9); FMA(c10); FMA(c11);
    /* The chains stay in registers, and the loop is not folded away. */
    __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4),
                     "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9),
                     "+v"(c10), "+v"(c11));
  }
  vec s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  float sum = 0;
  for (int l = 0; l < LANES; ++l)
    sum += s[l];
  job->sink = sum;
  return NULL;
}

#if defined(__AVX512BF16__)
#define DOT(x) x = _mm512_dpbf16_ps(x, a, b)
static void *run_bf16(void *arg) {
  struct job *job = arg;
  __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80); /* 1.0 */
  __m512bh b = (__m512bh)_mm512_set1_epi16(0x3380); /* 2^-24 */
  __m512 c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
  c0 = c1 = c2 = c3 = c4 = c5 = _mm512_set1_ps(1.0f);
  c6 = c7 = c8 = c9 = c10 = c11 = _mm512_set1_ps(2.0f);
  for (long i = 0; i < job->iterations; ++i) {
    DOT(c0); DOT(c1); DOT(c2); DOT(c3); DOT(c4); DOT(c5);
    DOT(c6); DOT(c7); DOT(c8); DOT(c9); DOT(c10); DOT(c11);
    __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4),
                     "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9),
                     "+v"(c10), "+v"(c11));
  }
  __m512 s = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  job->sink = _mm512_reduce_add_ps(s);
  return NULL;
}
#endif

static void *(*kernel)(void *) = run;

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Runs `threads` jobs of `iterations` each; returns the wall time. */
static double round_time(int threads, long iterations) {
  pthread_t ids[256];
  struct job jobs[256];
  double start = seconds();
  for (int t = 0; t < threads; ++t) {
    jobs[t].iterations = iterations;
    pthread_create(&ids[t], NULL, kernel, &jobs[t]);
  }
  for (int t = 0; t < threads; ++t)
    pthread_join(ids[t], NULL);
  return seconds() - start;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  double budget = argc > 2 ? atof(argv[2]) : 0.25;
  const char *kind = argc > 3 ? argv[3] : "f32";
  /* FLOPs per lane per instruction: FMA 2, vdpbf16ps 4. */
  double flops = 2.0;
  if (threads < 1 || threads > 256 ||
      (strcmp(kind, "f32") != 0 && strcmp(kind, "bf16") != 0)) {
    fprintf(stderr, "usage: fma_peak THREADS [SECONDS] [f32|bf16]\n");
    return 2;
  }
  if (strcmp(kind, "bf16") == 0) {
#if defined(__AVX512BF16__)
    kernel = run_bf16;
    flops = 4.0;
#else
    fprintf(stderr, "fma_peak: this host has no AVX-512 BF16\n");
    return 1;
#endif
  }
  /* Calibrate the iterations to about `budget` seconds per round. */
  long iterations = 1 << 20;
  while (round_time(threads, iterations) < budget / 4)
    iterations *= 2;
  iterations = (long)(iterations * (budget / round_time(threads, iterations)));
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    double t = round_time(threads, iterations);
    double gflops =
        flops * LANES * CHAINS * (double)iterations * threads / t / 1e9;
    if (gflops > best)
      best = gflops;
  }
  printf("{\"threads\": %d, \"lanes\": %d, \"kind\": \"%s\", \"gflops\": %.1f}\n",
         threads, LANES, kind, best);
  return 0;
}
