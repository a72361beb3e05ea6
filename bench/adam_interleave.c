// adam_interleave.c: whether Adam's update hides behind the weight
// gradient's GEMM when interleaved with its k loop (issue 17: the MLP's
// wide points, where the update is 12-14% of a one-thread step, bound by
// the divider: two divisions and a square root per element, as
// torch.optim.Adam computes them).
//
//   cc -O3 -funroll-loops -march=native bench/adam_interleave.c -o ai -lm
//   ./ai 200                      # dW [784, 512] = X^T dH, batch 64
//   cc ... -DN=2048 ...; ./ai 40  # the 2048-wide layer
//   cc ... -DNOADAM ...           # the GEMM alone
//
// separate: the GEMM in 8 x 32 register tiles writing dW, then the update
// over w, m, v as three sequential streams (what nnc generates).
// interleaved: one vector of the previous tile's update every 4 k steps of
// the next tile (its 8 rows of w, m, v: strided streams).
// panel-behind: one vector every 4 k steps of the contiguous rows of the
// row panel before (dW stored, read back from L2). Same bits in all three.
// Prints the best of 10 rounds, in ms per step.
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M 784
#ifndef N
#define N 512
#endif
#define B 64

static float *X, *DH, *W, *Mm, *V, *G;
static const float b1 = 0.9f, b2 = 0.999f, c1 = 0.1f, c2 = 0.001f, eps = 1e-8f;
static float stepSize = 0.001f, bc2s = 0.0316f;

static inline void adamVec(float *w, float *m, float *v, __m512 g) {
#ifdef NOADAM
  return;
#endif
  __m512 mm = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m), _mm512_set1_ps(b1)),
                            _mm512_mul_ps(g, _mm512_set1_ps(c1)));
  __m512 vv = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v), _mm512_set1_ps(b2)),
                            _mm512_mul_ps(_mm512_mul_ps(g, g), _mm512_set1_ps(c2)));
  __m512 denom = _mm512_add_ps(
      _mm512_div_ps(_mm512_sqrt_ps(vv), _mm512_set1_ps(bc2s)), _mm512_set1_ps(eps));
  __m512 upd = _mm512_mul_ps(_mm512_set1_ps(stepSize), _mm512_div_ps(mm, denom));
  _mm512_storeu_ps(w, _mm512_sub_ps(_mm512_loadu_ps(w), upd));
  _mm512_storeu_ps(m, mm);
  _mm512_storeu_ps(v, vv);
}

// One 8 x 32 tile of dW: acc over k of X[k, i0 + r] * DH[k, j0 .. j0 + 31].
#define TILE_K_STEP(k)                                                          \
  {                                                                            \
    __m512 b0 = _mm512_loadu_ps(DH + (k) * N + j0);                            \
    __m512 b1v = _mm512_loadu_ps(DH + (k) * N + j0 + 16);                      \
    const float *a = X + (k) * M + i0;                                         \
    for (int r = 0; r < 8; ++r) {                                              \
      __m512 ar = _mm512_set1_ps(a[r]);                                        \
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);                          \
      acc[r][1] = _mm512_fmadd_ps(ar, b1v, acc[r][1]);                         \
    }                                                                          \
  }

// The tile's accumulators into dW (G).
static inline void storeTile(__m512 acc[8][2], int i0, int j0) {
  for (int r = 0; r < 8; ++r) {
    _mm512_storeu_ps(G + (i0 + r) * N + j0, acc[r][0]);
    _mm512_storeu_ps(G + (i0 + r) * N + j0 + 16, acc[r][1]);
  }
}

static void separate(void) {
  for (int i0 = 0; i0 < M; i0 += 8)
    for (int j0 = 0; j0 < N; j0 += 32) {
      __m512 acc[8][2];
      for (int r = 0; r < 8; ++r)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (int k = 0; k < B; ++k)
        TILE_K_STEP(k);
      storeTile(acc, i0, j0);
    }
  for (long e = 0; e < (long)M * N; e += 16)
    adamVec(W + e, Mm + e, V + e, _mm512_loadu_ps(G + e));
}

static void interleaved(void) {
  float prev[8][32];
  int pi = -1, pj = -1;
  for (int i0 = 0; i0 < M; i0 += 8)
    for (int j0 = 0; j0 < N; j0 += 32) {
      __m512 acc[8][2];
      for (int r = 0; r < 8; ++r)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      for (int k = 0; k < B; k += 4) {
        TILE_K_STEP(k);
        TILE_K_STEP(k + 1);
        TILE_K_STEP(k + 2);
        TILE_K_STEP(k + 3);
        if (pi >= 0) {
          int t = k / 4; // 16 vectors of the previous tile
          int r = t >> 1, c = (t & 1) * 16;
          long e = (long)(pi + r) * N + pj + c;
          adamVec(W + e, Mm + e, V + e, _mm512_loadu_ps(&prev[r][c]));
        }
      }
      for (int r = 0; r < 8; ++r) {
        _mm512_storeu_ps(&prev[r][0], acc[r][0]);
        _mm512_storeu_ps(&prev[r][16], acc[r][1]);
      }
      pi = i0;
      pj = j0;
    }
  for (int t = 0; t < 16; ++t) {
    int r = t >> 1, c = (t & 1) * 16;
    long e = (long)(pi + r) * N + pj + c;
    adamVec(W + e, Mm + e, V + e, _mm512_loadu_ps(&prev[r][c]));
  }
}

// Adam one row panel behind: while computing panel i0's tiles, update the
// contiguous rows of panel i0 - 8 (its gradient stored in G), 16 vectors
// per tile, one every 4 k steps.
static void interleaved2(void) {
  for (int i0 = 0; i0 < M; i0 += 8)
    for (int j0 = 0; j0 < N; j0 += 32) {
      __m512 acc[8][2];
      for (int r = 0; r < 8; ++r)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
      long base = (long)(i0 - 8) * N + (long)(j0 / 32) * 256;
      for (int k = 0; k < B; k += 4) {
        TILE_K_STEP(k);
        TILE_K_STEP(k + 1);
        TILE_K_STEP(k + 2);
        TILE_K_STEP(k + 3);
        if (i0 > 0) {
          long e = base + (k / 4) * 16;
          adamVec(W + e, Mm + e, V + e, _mm512_loadu_ps(G + e));
        }
      }
      storeTile(acc, i0, j0);
    }
  for (long e = (long)(M - 8) * N; e < (long)M * N; e += 16)
    adamVec(W + e, Mm + e, V + e, _mm512_loadu_ps(G + e));
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static float *alloc(long n) {
  float *p = aligned_alloc(64, n * sizeof(float));
  for (long i = 0; i < n; ++i)
    p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return p;
}

int main(int argc, char **argv) {
  _mm_setcsr(_mm_getcsr() | 0x8040);
  X = alloc((long)B * M);
  DH = alloc((long)B * N);
  W = alloc((long)M * N);
  Mm = alloc((long)M * N);
  V = alloc((long)M * N);
  G = alloc((long)M * N);
  for (long i = 0; i < (long)M * N; ++i)
    V[i] = fabsf(V[i]);
  // Same results?
  float *W0 = malloc((long)M * N * 4), *M0 = malloc((long)M * N * 4),
        *V0 = malloc((long)M * N * 4);
  memcpy(W0, W, (long)M * N * 4);
  memcpy(M0, Mm, (long)M * N * 4);
  memcpy(V0, V, (long)M * N * 4);
  separate();
  float *W1 = malloc((long)M * N * 4);
  memcpy(W1, W, (long)M * N * 4);
  memcpy(W, W0, (long)M * N * 4);
  memcpy(Mm, M0, (long)M * N * 4);
  memcpy(V, V0, (long)M * N * 4);
  interleaved();
  printf("identical: %d\n", memcmp(W, W1, (long)M * N * 4) == 0);
  memcpy(W, W0, (long)M * N * 4);
  memcpy(Mm, M0, (long)M * N * 4);
  memcpy(V, V0, (long)M * N * 4);
  interleaved2();
  printf("identical2: %d\n", memcmp(W, W1, (long)M * N * 4) == 0);
  int reps = argc > 1 ? atoi(argv[1]) : 200;
  double best[3] = {1e9, 1e9, 1e9};
  for (int round = 0; round < 10; ++round) {
    double t0 = now();
    for (int i = 0; i < reps; ++i)
      separate();
    double t1 = now();
    for (int i = 0; i < reps; ++i)
      interleaved();
    double t2 = now();
    for (int i = 0; i < reps; ++i)
      interleaved2();
    double t3 = now();
    double t[3] = {t1 - t0, t2 - t1, t3 - t2};
    for (int v = 0; v < 3; ++v)
      if (t[v] / reps * 1e3 < best[v])
        best[v] = t[v] / reps * 1e3;
  }
  printf("N=%d best of 10 rounds: separate %.3f ms  interleaved %.3f ms  "
         "panel-behind %.3f ms\n",
         N, best[0], best[1], best[2]);
  return 0;
}
