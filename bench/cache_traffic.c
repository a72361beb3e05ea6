// cache_traffic.c: what a memory-bound pass costs when its data was last
// written by the other core (issue 17: two threads spend more CPU time than
// one on the CNN's memory-bound kernels).
//
//   cc -O3 -march=native -pthread bench/cache_traffic.c -o cache_traffic
//   ./cache_traffic MIB THREADS [CROSS]
//
// Two buffers of MIB MiB each; every round each thread reads its share of
// one and writes the same share of the other (a relu-like pass), then the
// reverse, with a barrier between passes. CROSS=0: every thread keeps its
// own share (the data stays in its core's caches); CROSS=1: the shares
// rotate each round, so every pass reads and writes lines the other core
// wrote last. Prints GB/s of reads + writes.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t n;
static float *a, *b;
static int threads, rounds, cross;
static pthread_barrier_t barrier;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *arg) {
  long id = (long)arg;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(id, &cpus);
  pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
  size_t share = n / threads;
  for (int r = 0; r < rounds; ++r) {
    size_t part = cross ? (size_t)(id + r) % threads : (size_t)id;
    float *x = a + part * share, *y = b + part * share;
    for (size_t i = 0; i < share; ++i)
      y[i] = x[i] > 0 ? x[i] : 0.f;
    pthread_barrier_wait(&barrier);
    for (size_t i = 0; i < share; ++i)
      x[i] = y[i] * 0.5f + 1.f;
    pthread_barrier_wait(&barrier);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MIB THREADS [CROSS]\n", argv[0]);
    return 1;
  }
  size_t mib = (size_t)atoi(argv[1]);
  threads = atoi(argv[2]);
  cross = argc > 3 ? atoi(argv[3]) : 0;
  if (mib < 1 || threads < 1 || threads > 64) {
    fprintf(stderr, "%s: MIB >= 1, 1 <= THREADS <= 64\n", argv[0]);
    return 1;
  }
  n = mib * 1024 * 1024 / sizeof(float);
  rounds = (int)(4000 / mib) + 2;
  a = aligned_alloc(64, n * sizeof(float));
  b = aligned_alloc(64, n * sizeof(float));
  if (!a || !b)
    return 1;
  for (size_t i = 0; i < n; ++i) {
    a[i] = (float)(i % 7) - 3.f;
    b[i] = 0.f;
  }
  pthread_barrier_init(&barrier, 0, threads);
  pthread_t t[64];
  double start = now();
  for (long i = 0; i < threads; ++i)
    pthread_create(&t[i], 0, run, (void *)i);
  for (int i = 0; i < threads; ++i)
    pthread_join(t[i], 0);
  double seconds = now() - start;
  printf("%zu MiB, %d threads, cross %d: %.1f GB/s\n", mib, threads, cross,
         4.0 * n * sizeof(float) * rounds / seconds / 1e9);
  return 0;
}
