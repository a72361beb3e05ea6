//===- SemaPrune.cpp - prune = magnitude(sparsity, start, end) ------------===//
//
// SPEC 2.12: gradual magnitude pruning (Zhu & Gupta 2017). The run trains a
// copy of its model in which every dense, conv1d and conv2d weight and
// attention's in_proj_weight and out_proj.weight gain a mask buffer
// `<weight>_mask` (torch.nn.utils.prune's name), all ones at first. At the
// end of each epoch start..end the generated `prune` step (nnc_prune)
// zeroes the smallest magnitudes of each weight up to the cubic schedule's
// sparsity, reaching `sparsity` at the end of epoch `end`; the training
// step multiplies every update by its mask, so pruned weights stay zero.
// Biases, embeddings, norms and recurrent weights are not pruned.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

namespace nnc {
namespace sema {

namespace {

/// Node::params positions of the weights pruning masks in a node.
std::vector<size_t> prunedWeights(const Node &n) {
  switch (n.kind) {
  case LayerKind::Dense:
  case LayerKind::Conv1d:
  case LayerKind::Conv2d:
    return {0};
  case LayerKind::Attention:
    return {0, 2}; // in_proj_weight, out_proj.weight
  default:
    return {};
  }
}

} // namespace

void Sema::analyzePrune(TrainRun &run, const ast::Expr *e) {
  BoundCall bc;
  if (!bindSetting(Category::Pruning, e, bc))
    return;
  PruneSpec &prune = run.prune;
  prune.range = e->range;
  prune.sparsity = bc.num("sparsity");
  prune.start = bc.integer("start");
  prune.end = bc.integer("end");
  bool ok = true;
  if (run.steps > 0) {
    error(e->range,
          "prune counts epochs (start and end), but run '" + run.name +
              "' is given in steps",
          "give the run as 'epochs = N'");
    ok = false;
  } else if (prune.end > run.epochs) {
    error(bc.rangeOf("end"),
          "prune ends after epoch " + std::to_string(prune.end) +
              ", but run '" + run.name + "' has " + std::to_string(run.epochs) +
              " epochs",
          "end = " + std::to_string(run.epochs) + " or less");
    ok = false;
  }
  if (prune.start > prune.end) {
    error(bc.rangeOf("start"),
          "prune starts at epoch " + std::to_string(prune.start) +
              ", after its end at epoch " + std::to_string(prune.end),
          "start <= end");
    ok = false;
  }
  if (run.lora.enabled) {
    error(e->range,
          "prune and adapters do not combine: adapters freeze the weights "
          "that pruning would mask",
          "prune the model in a train run, then adapt it");
    ok = false;
  }
  if (!ok || run.model < 0)
    return;

  Model pruned = prog->models[run.model];
  for (Node &n : pruned.nodes)
    for (size_t k : prunedWeights(n)) {
      if (k >= n.params.size())
        continue;
      const Parameter &w = pruned.params[n.params[k]];
      Parameter m;
      m.name = w.name + "_mask";
      m.type = w.type;
      m.trainable = false;
      m.node = n.id;
      m.dist = InitDist{InitDist::Constant, 1.0, 0, 0, 0, 0};
      m.range = prune.range;
      unsigned weight = n.params[k];
      pruned.params.push_back(std::move(m));
      prune.masks.push_back({weight, unsigned(pruned.params.size() - 1)});
    }
  if (prune.masks.empty()) {
    error(e->range,
          "model '" + pruned.name +
              "' has no weight that pruning masks (dense, conv1d, conv2d "
              "and attention layers)",
          "remove 'prune'");
    return;
  }
  prune.enabled = true;
  prog->models.push_back(std::move(pruned));
  run.model = static_cast<int>(prog->models.size() - 1);
}

} // namespace sema
} // namespace nnc
