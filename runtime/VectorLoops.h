//===- VectorLoops.h - the data pipeline's per-value loops ----------------===//
//
// The loops every sample of every batch goes through (widening bytes to
// floats, the preprocessing steps), compiled for AVX-512 and AVX2 as well as
// the baseline x86-64 the runtime is built for; the loader picks one per
// process (GCC's target_clones). Same operations in the same order in each
// version: the results are the same bits.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_VECTORLOOPS_H
#define NNRT_VECTORLOOPS_H

#include <cstddef>
#include <cstdint>

namespace nnrt {

/// out[k] = float(in[k]) for k < n.
void widenBytes(const uint8_t *in, size_t n, float *out);
/// p[k] = (p[k] - shift) * mul for k < n.
void shiftScale(float *p, size_t n, float shift, float mul);
/// p[k] = (p[k] - shift[k % columns]) * mul[k % columns] for k < n.
void shiftScaleColumns(float *p, size_t n, const float *shift, const float *mul,
                       size_t columns);
/// p[k] = clamp(p[k], lo, hi) for k < n.
void clampValues(float *p, size_t n, float lo, float hi);

} // namespace nnrt

#endif // NNRT_VECTORLOOPS_H
