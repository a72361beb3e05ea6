//===- FinetunePlan.cpp - Which parameters train in which epochs ----------===//
#include "frontend/FinetunePlan.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace nnc {
namespace sema {

bool FinetunePlan::any() const {
  return std::any_of(frozenUntil.begin(), frozenUntil.end(),
                     [](int64_t e) { return e > 0; });
}

FinetunePlan planFinetune(const Model &model, const TrainRun &run) {
  FinetunePlan plan;
  size_t n = model.params.size();
  plan.frozenUntil.assign(n, 0);
  plan.lrScale.assign(n, 1.0);
  std::map<std::string, unsigned> byName;
  for (unsigned i = 0; i < n; ++i)
    byName[model.params[i].name] = i;

  // LoRA: only the adapters train (buffers keep their own updates).
  if (run.lora.enabled) {
    std::vector<bool> adapter(n, false);
    for (const Node &node : model.nodes)
      for (const Node::Adapter &ad : node.lora)
        adapter[ad.a] = adapter[ad.b] = true;
    for (unsigned i = 0; i < n; ++i)
      if (!adapter[i] && model.params[i].trainable)
        plan.frozenUntil[i] = FinetunePlan::kAlways;
  }
  int64_t until = run.freeze.until > 0 ? run.freeze.until : FinetunePlan::kAlways;
  for (const std::string &name : run.freeze.paramNames)
    if (auto it = byName.find(name); it != byName.end())
      plan.frozenUntil[it->second] = until;
  // unfreeze = { group: E }: trained from epoch E on, frozen before.
  for (const auto &[selector, epoch] : run.unfreeze) {
    auto it = model.selectors.find(selector);
    if (it == model.selectors.end())
      continue;
    for (unsigned p : it->second)
      if (plan.frozenUntil[p] > 0)
        plan.frozenUntil[p] = std::min(plan.frozenUntil[p], epoch - 1);
  }

  // lr_scale: the most specific selector wins.
  std::vector<size_t> coverage(n, SIZE_MAX);
  for (const LrScale &ls : run.lrScales) {
    size_t covered = ls.paramNames.size();
    for (const std::string &name : ls.paramNames)
      if (auto it = byName.find(name);
          it != byName.end() && covered <= coverage[it->second]) {
        coverage[it->second] = covered;
        plan.lrScale[it->second] = ls.factor;
      }
  }

  std::set<int64_t> bounds;
  for (int64_t e : plan.frozenUntil)
    if (e > 0 && e != FinetunePlan::kAlways)
      bounds.insert(e);
  plan.bounds.assign(bounds.begin(), bounds.end());
  return plan;
}

} // namespace sema
} // namespace nnc
