//===- Init.h - Drawing the initial parameters ------------------*- C++ -*-===//
#ifndef NNRT_PROGRAM_INIT_H
#define NNRT_PROGRAM_INIT_H

#include "runtime/program/Config.h"

#include <cstdint>
#include <vector>

namespace nnrt {

/// Fills every parameter and buffer of the state arena from its
/// distribution (resolved by the compiler), drawing from one generator
/// seeded with `seed`, parameter by parameter in the configuration's order.
void initialize(const RunConfig &cfg, std::vector<float> &state, uint64_t seed);

} // namespace nnrt

#endif // NNRT_PROGRAM_INIT_H
