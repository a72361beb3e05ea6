/* Calls the functions of codegen-correctness.mlir through the bare-pointer
 * ABI (inputs..., outputs...) and compares them with naive loops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void mm(const float *x, const float *w, float *y);
void mm_tb(const float *dy, const float *w, float *dx);
void mm_ta(const float *x, const float *dy, float *dw);
void dense_relu(const float *x, const float *w, const float *b, float *y);
void softmax(const float *x, float *y);
void colsum(const float *dy, float *s);

static unsigned state = 12345u;
static float rnd(void) { /* uniform in [-1, 1) */
  state = state * 1664525u + 1013904223u;
  return (float)((state >> 8) & 0xFFFFFF) / 8388608.0f - 1.0f;
}
static float *randomArray(int n) {
  float *a = malloc(sizeof(float) * n);
  for (int i = 0; i < n; ++i)
    a[i] = rnd();
  return a;
}
static int failures = 0;
static void compare(const char *name, const float *got, const double *want,
                    int n) {
  double worst = 0;
  int at = 0;
  for (int i = 0; i < n; ++i) {
    double err = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
    if (!(err <= worst)) { /* also catches NaN */
      worst = err;
      at = i;
    }
  }
  if (worst < 1e-4) {
    printf("%s: ok\n", name);
  } else {
    printf("%s: FAILED at %d: got %g, want %g\n", name, at, got[at], want[at]);
    ++failures;
  }
}

/* C[m,n] = sum_k A(m,k) B(k,n) with strides for transposed operands. */
static void naiveMatmul(int M, int N, int K, const float *a, int am, int ak,
                        const float *b, int bk, int bn, double *c) {
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double s = 0;
      for (int k = 0; k < K; ++k)
        s += (double)a[m * am + k * ak] * b[k * bk + n * bn];
      c[m * N + n] = s;
    }
}

int main(void) {
  float *x = randomArray(64 * 784), *w = randomArray(784 * 128);
  float *dy = randomArray(64 * 128), *b = randomArray(128);
  float *logits = randomArray(64 * 10);
  for (int i = 0; i < 64 * 10; ++i)
    logits[i] *= 8; /* exercise exp's range */
  float *out = malloc(sizeof(float) * 784 * 128);
  double *ref = malloc(sizeof(double) * 784 * 128);

  mm(x, w, out);
  naiveMatmul(64, 128, 784, x, 784, 1, w, 128, 1, ref);
  compare("mm 64x784x128", out, ref, 64 * 128);

  mm_tb(dy, w, out);
  naiveMatmul(64, 784, 128, dy, 128, 1, w, 1, 128, ref);
  compare("mm_tb 64x128x784", out, ref, 64 * 784);

  mm_ta(x, dy, out);
  naiveMatmul(784, 128, 64, x, 1, 784, dy, 128, 1, ref);
  compare("mm_ta 784x64x128", out, ref, 784 * 128);

  dense_relu(x, w, b, out);
  naiveMatmul(64, 128, 784, x, 784, 1, w, 128, 1, ref);
  for (int i = 0; i < 64 * 128; ++i)
    ref[i] = fmax(ref[i] + b[i % 128], 0.0);
  compare("dense_relu 64x784x128", out, ref, 64 * 128);

  softmax(logits, out);
  for (int r = 0; r < 64; ++r) {
    double mx = -INFINITY, s = 0;
    for (int c = 0; c < 10; ++c)
      mx = fmax(mx, logits[r * 10 + c]);
    for (int c = 0; c < 10; ++c)
      s += exp(logits[r * 10 + c] - mx);
    for (int c = 0; c < 10; ++c)
      ref[r * 10 + c] = exp(logits[r * 10 + c] - mx) / s;
  }
  compare("softmax 64x10", out, ref, 64 * 10);

  colsum(dy, out);
  for (int c = 0; c < 128; ++c) {
    double s = 0;
    for (int r = 0; r < 64; ++r)
      s += dy[r * 128 + c];
    ref[c] = s;
  }
  compare("colsum 64x128", out, ref, 128);

  if (failures == 0)
    printf("all ok\n");
  return failures != 0;
}
