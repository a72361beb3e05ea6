//===- VectorLoops.cpp - the data pipeline's per-value loops --------------===//
#include "runtime/VectorLoops.h"

#include <algorithm>

// x86-64 only: other targets get the one version the compiler builds.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NNRT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNRT_CLONES
#endif

namespace nnrt {

NNRT_CLONES void widenBytes(const uint8_t *in, size_t n, float *out) {
  for (size_t k = 0; k < n; ++k)
    out[k] = static_cast<float>(in[k]);
}

NNRT_CLONES void shiftScale(float *p, size_t n, float shift, float mul) {
  for (size_t k = 0; k < n; ++k)
    p[k] = (p[k] - shift) * mul;
}

NNRT_CLONES void shiftScaleColumns(float *p, size_t n, const float *shift,
                                   const float *mul, size_t columns) {
  for (size_t row = 0; row < n; row += columns) {
    size_t width = std::min(columns, n - row);
    for (size_t c = 0; c < width; ++c)
      p[row + c] = (p[row + c] - shift[c]) * mul[c];
  }
}

NNRT_CLONES void clampValues(float *p, size_t n, float lo, float hi) {
  for (size_t k = 0; k < n; ++k)
    p[k] = std::clamp(p[k], lo, hi);
}

} // namespace nnrt
