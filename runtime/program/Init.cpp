//===- Init.cpp - Parameter initialization --------------------------------===//
//
// What each parameter starts from (PyTorch's Kaiming-uniform, batchnorm's
// ones, `init = xavier_normal`, ...) is decided by the compiler and recorded
// in the run configuration; here the numbers are only drawn.
//
//===----------------------------------------------------------------------===//
#include "runtime/program/Init.h"
#include "runtime/Rng.h"

#include <algorithm>
#include <cmath>

namespace nnrt {

void initialize(const RunConfig &cfg, std::vector<float> &state,
                uint64_t seed) {
  Rng rng(seed);
  // Box-Muller with two uniforms per value.
  auto normal = [&]() {
    double u1 = rng.uniform(), u2 = rng.uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2);
  };
  for (const ParamInfo &p : cfg.params) {
    if (p.offset < 0)
      continue;
    float *v = state.data() + p.offset;
    const InitDist &d = p.init;
    switch (d.kind) {
    case InitDist::Kind::Constant:
      std::fill(v, v + p.size, static_cast<float>(d.value));
      break;
    case InitDist::Kind::Uniform: {
      // mid + (2u - 1) half: for the usual U(-b, b) (mid 0, half b exactly)
      // this is the (2u - 1) b that programs have always drawn, so their
      // initial numbers do not change.
      double mid = (d.lo + d.hi) / 2, half = (d.hi - d.lo) / 2;
      for (int64_t i = 0; i < p.size; ++i)
        v[i] = static_cast<float>(mid + (2 * rng.uniform() - 1) * half);
      break;
    }
    case InitDist::Kind::Normal:
      for (int64_t i = 0; i < p.size; ++i)
        v[i] = static_cast<float>(d.mean + normal() * d.std);
      break;
    }
  }
}

} // namespace nnrt
