/* Times the kernels of kernels.mlir on one core; prints GFLOP/s (median of
 * repeated timed batches). Not a test: see run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void mm512_bias_relu(const float *a, const float *b, const float *bias, float *y);
void mlp_fwd(const float *x, const float *w, float *y);
void mlp_dw(const float *x, const float *dy, float *dw);
void mlp_dx(const float *dy, const float *w, float *dx);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
static float *arr(int n) {
  float *p = aligned_alloc(64, sizeof(float) * ((n + 15) / 16 * 16));
  for (int i = 0; i < n; ++i)
    p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  return p;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define BENCH(name, flops, call)                                               \
  do {                                                                         \
    double t0 = now();                                                         \
    int iters = 0;                                                             \
    while (now() - t0 < 0.05) { call; ++iters; }                               \
    double rates[9];                                                           \
    for (int r = 0; r < 9; ++r) {                                              \
      double s = now();                                                        \
      for (int i = 0; i < iters; ++i) call;                                    \
      rates[r] = (double)(flops) * iters / (now() - s) / 1e9;                  \
    }                                                                          \
    qsort(rates, 9, sizeof(double), cmp);                                      \
    printf("%-34s %8.1f GFLOP/s (median; min %.1f, max %.1f)\n", name,         \
           rates[4], rates[0], rates[8]);                                      \
  } while (0)

int main(void) {
  float *a = arr(512 * 512), *b = arr(512 * 512), *bias = arr(512);
  float *y = arr(512 * 512);
  float *x = arr(64 * 784), *w = arr(784 * 128), *dy = arr(64 * 128);
  float *o = arr(784 * 128);
  BENCH("512x512x512 matmul+bias+relu", 2.0 * 512 * 512 * 512,
        mm512_bias_relu(a, b, bias, y));
  BENCH("mlp fwd x w (64x784 . 784x128)", 2.0 * 64 * 784 * 128,
        mlp_fwd(x, w, o));
  BENCH("mlp dw = x^T dy (784x64 . 64x128)", 2.0 * 64 * 784 * 128,
        mlp_dw(x, dy, o));
  BENCH("mlp dx = dy w^T (64x128 . 128x784)", 2.0 * 64 * 784 * 128,
        mlp_dx(dy, w, o));
  return 0;
}
