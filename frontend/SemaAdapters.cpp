//===- SemaAdapters.cpp - adapters = lora(rank, alpha, on = [...]) --------===//
//
// SPEC 2.10, PEFT's LoRA: the run trains a copy of its model in which each
// dense weight W [out, in] of the layers that `on` names (layer kinds,
// labels or groups) gains `<layer>.lora_A` [rank, in], drawn as PEFT does
// (kaiming_uniform_ with a = sqrt(5): U(+-1/sqrt(in))), and `<layer>.lora_B`
// [out, rank] (zeros); the layer computes W x + b + (alpha / rank) B A x.
// Attention's projections count as dense weights: in_proj_weight [3D, D]
// gains `<layer>.in_proj.lora_A/B`, out_proj.weight `<layer>.out_proj.*`.
// Every other parameter is frozen for the whole run (FinetunePlan), so only
// the adapters have gradients and optimizer state.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <algorithm>
#include <cmath>

namespace nnc {
namespace sema {

namespace {

/// The layer kinds whose weights LoRA adapts.
bool adaptable(LayerKind kind) {
  return kind == LayerKind::Dense || kind == LayerKind::Attention;
}

/// The weights LoRA adapts in a node (indices into Node::params): a dense
/// layer's weight; attention's in_proj_weight and out_proj.weight.
std::vector<size_t> adaptedWeights(const Node &n) {
  if (n.kind == LayerKind::Attention)
    return {0, 2};
  return {0};
}

/// "head.weight" -> "head", "b.attention.in_proj_weight" ->
/// "b.attention.in_proj", "b.attention.out_proj.weight" ->
/// "b.attention.out_proj".
std::string layerPrefix(const std::string &weightName) {
  static const std::string inProj = "in_proj_weight";
  if (weightName.size() >= inProj.size() &&
      weightName.compare(weightName.size() - inProj.size(), inProj.size(),
                         inProj) == 0)
    return weightName.substr(0, weightName.size() - inProj.size()) + "in_proj";
  size_t dot = weightName.rfind('.');
  return dot == std::string::npos ? weightName : weightName.substr(0, dot);
}

} // namespace

void Sema::analyzeAdapters(TrainRun &run, const ast::Expr *e) {
  BoundCall bc;
  if (!bindSetting(Category::Adapter, e, bc))
    return;
  LoraSpec &lora = run.lora;
  lora.range = e->range;
  lora.rank = bc.integer("rank");
  lora.alpha = bc.num("alpha");
  const Value &on = bc.get("on");
  for (const Value &v :
       on.kind == Value::List ? on.list : std::vector<Value>{on})
    lora.on.push_back(v.str);
  if (run.model < 0 || !run.finetune)
    return;

  // The adapted copy of the model.
  Model adapted = prog->models[run.model];
  std::vector<bool> chosen(adapted.nodes.size(), false);
  const Value *list = on.kind == Value::List ? nullptr : &on;
  for (size_t k = 0; k < lora.on.size(); ++k) {
    const std::string &name = lora.on[k];
    SourceRange where = list ? list->range : on.list[k].range;
    bool kind = findSignature(Category::Layer, name) != nullptr;
    bool selector = adapted.selectors.count(name) != 0;
    size_t matched = 0;
    for (Node &n : adapted.nodes) {
      bool named = toString(n.kind) == name ||
                   std::find(n.selectors.begin(), n.selectors.end(), name) !=
                       n.selectors.end();
      if (named && adaptable(n.kind)) {
        chosen[n.id] = true;
        ++matched;
      }
    }
    if (!kind && !selector) {
      std::vector<std::string> names = modelInfo[adapted.name].selectorNames;
      names.push_back("dense");
      error(where,
            "'" + name +
                "' is neither a layer kind nor a label or group of "
                "model '" +
                adapted.name + "'",
            didYouMean(name, names));
    } else if (matched == 0) {
      error(where,
            "'" + name +
                "' holds no layer that LoRA adapts (dense and "
                "attention layers) in model '" +
                adapted.name + "'",
            "name dense or attention layers, or the labels or groups around "
            "them");
    }
  }
  if (std::find(chosen.begin(), chosen.end(), true) == chosen.end())
    return;

  // Adapters for each chosen layer's weight, after the model's parameters.
  double bound = 0;
  for (Node &n : adapted.nodes) {
    if (!chosen[n.id] || n.params.empty())
      continue;
    for (size_t k : adaptedWeights(n)) {
      const Parameter &w = adapted.params[n.params[k]];
      int64_t out = w.type.dims[0], in = w.type.dims[1];
      std::string prefix = layerPrefix(w.name);
      bound = 1.0 / std::sqrt(static_cast<double>(in));
      auto add = [&](const std::string &suffix, std::vector<int64_t> dims,
                     InitDist dist) {
        Parameter p;
        p.name = prefix + "." + suffix;
        p.type = TensorType{ElemType::F32, std::move(dims)};
        p.node = n.id;
        p.fanIn = in;
        p.dist = dist;
        p.range = lora.range;
        adapted.numParams += p.type.numElements();
        adapted.params.push_back(std::move(p));
        return unsigned(adapted.params.size() - 1);
      };
      unsigned a = add("lora_A", {lora.rank, in},
                       InitDist{InitDist::Uniform, 0, -bound, bound, 0, 0});
      unsigned b = add("lora_B", {out, lora.rank},
                       InitDist{InitDist::Constant, 0.0, 0, 0, 0, 0});
      n.lora.push_back({n.params[k], a, b});
    }
    n.loraScale = lora.alpha / static_cast<double>(lora.rank);
  }
  lora.enabled = true;
  run.baseModel = run.model;
  prog->models.push_back(std::move(adapted));
  run.model = static_cast<int>(prog->models.size() - 1);
}

} // namespace sema
} // namespace nnc
