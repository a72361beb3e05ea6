//===- FinetunePlan.h - Which parameters train in which epochs --*- C++ -*-===//
//
// A run's `freeze`, `unfreeze` and `lr_scale` settings resolved per model
// parameter: the last epoch each one is frozen, the epoch ranges ("phases")
// in which the set of frozen parameters is constant, and the learning-rate
// factor of each. MLIRGen emits one training step per phase; the run
// configuration carries the same plan for the program's messages.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_FINETUNEPLAN_H
#define NNC_FRONTEND_FINETUNEPLAN_H

#include "frontend/Program.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace nnc {
namespace sema {

struct FinetunePlan {
  static constexpr int64_t kAlways = std::numeric_limits<int64_t>::max();

  /// Per model parameter (Model::params order): the last epoch it is frozen,
  /// 0 when it trains from the first epoch, kAlways when never.
  std::vector<int64_t> frozenUntil;
  /// Per model parameter: the learning-rate factor (1 by default).
  std::vector<double> lrScale;
  /// The last epochs of the phases before the final one, ascending: phase k
  /// covers epochs (bounds[k-1], bounds[k]], the final phase the rest.
  std::vector<int64_t> bounds;

  /// Whether parameter `p` is frozen during epoch `epoch` (1-based).
  bool frozen(unsigned p, int64_t epoch) const {
    return frozenUntil[p] >= epoch;
  }
  /// The first epoch of phase `k` (k == bounds.size(): the final phase).
  int64_t firstEpoch(size_t k) const { return k == 0 ? 1 : bounds[k - 1] + 1; }
  /// Whether any parameter is frozen at some epoch.
  bool any() const;
};

/// Resolves the run's freeze, unfreeze and lr_scale against its model. A
/// parameter under several lr_scale entries takes the factor of the most
/// specific one (the selector covering the fewest parameters); under several
/// unfreeze entries, the earliest epoch.
FinetunePlan planFinetune(const Model &model, const TrainRun &run);

} // namespace sema
} // namespace nnc

#endif // NNC_FRONTEND_FINETUNEPLAN_H
