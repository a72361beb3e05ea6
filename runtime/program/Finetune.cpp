//===- Finetune.cpp - Starting a finetune run from pretrained weights -----===//
#include "runtime/program/Finetune.h"
#include "runtime/Error.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace nnrt {

std::string renameKey(const std::vector<Rename> &renames, const std::string &key) {
  for (const Rename &r : renames)
    if (!r.prefix && r.from == key)
      return r.to;
  const Rename *best = nullptr;
  for (const Rename &r : renames)
    if (r.prefix && key.compare(0, r.from.size(), r.from) == 0 &&
        (!best || r.from.size() > best->from.size()))
      best = &r;
  if (!best)
    return key;
  return best->to + key.substr(best->from.size());
}

std::string resolveFrom(const RunConfig &cfg, const std::string &from) {
  namespace fs = std::filesystem;
  fs::path p(from);
  if (p.is_absolute() || fs::exists(p) || cfg.sourceDir.empty())
    return from;
  fs::path besideSource = fs::path(cfg.sourceDir) / p;
  return fs::exists(besideSource) ? besideSource.string() : from;
}

namespace {

std::string joined(const std::vector<std::string> &items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? ", " : "") + items[i];
  return text;
}

} // namespace

PretrainedReport loadPretrained(const RunConfig &cfg, const std::string &path,
                                std::vector<float> &state) {
  SafeTensorsFile file = SafeTensorsFile::read(path);
  PretrainedReport report;
  report.file = path;
  // Model name -> the file's key, after renames. An nnc checkpoint's
  // optimizer state, progress and preprocessing statistics are not weights.
  std::map<std::string, std::string> keyOf;
  std::set<std::string> taken;
  for (const std::string &key : file.names()) {
    if (key.rfind("nnrt.", 0) == 0 || key.rfind("optimizer.", 0) == 0 ||
        key.rfind("preprocess.", 0) == 0)
      continue;
    keyOf.emplace(renameKey(cfg.finetune.renames, key), key);
  }
  for (const ParamInfo &p : cfg.params) {
    if (p.offset < 0)
      continue;
    bool counter = isCounter(p.name);
    // Buffers carry their layer's freeze plan too (a group covers whole
    // layers), but a pruning mask starts as ones when the file has none.
    bool frozen = p.frozenUntil != 0 && !cfg.prune.isMask(p.name);
    auto it = keyOf.find(p.name);
    if (it == keyOf.end()) {
      if (frozen && !counter)
        throw Error(path + ": has no tensor for the frozen '" +
                    p.name + "' " + shapeText(p.shape) +
                    "; map the file's name to it with rename = { ... }");
      report.initialized.push_back(p.name + " (not in the file)");
      continue;
    }
    const SafeTensorsFile::Entry &e = file.entry(it->second);
    std::string key = it->second == p.name ? p.name : it->second + " -> " + p.name;
    bool sameShape = e.shape == p.shape || (counter && e.numElements() == 1 &&
                                            static_cast<size_t>(p.size) == 1);
    if (!sameShape) {
      if (frozen)
        throw Error(path + ": tensor '" + it->second + "' has shape " +
                    shapeText(e.shape) + " but the frozen '" + p.name +
                    "' has shape " + shapeText(p.shape));
      report.initialized.push_back(p.name + " (" + shapeText(e.shape) +
                                   " in the file, " + shapeText(p.shape) +
                                   " here)");
      taken.insert(it->second);
      continue;
    }
    float *dst = state.data() + p.offset;
    if (counter && e.dtype == DType::I64) {
      std::vector<int64_t> v = file.int64s(it->second);
      std::transform(v.begin(), v.end(), dst,
                     [](int64_t c) { return static_cast<float>(c); });
    } else {
      if (e.dtype != DType::F32)
        throw Error(path + ": tensor '" + it->second + "' is " +
                    dtypeName(e.dtype) +
                    "; nnc loads F32 (save it with tensor.float())");
      std::vector<float> v = file.floats(it->second, &p.shape);
      std::copy(v.begin(), v.end(), dst);
    }
    report.loaded.push_back(key);
    taken.insert(it->second);
  }
  for (const auto &[name, key] : keyOf)
    if (!taken.count(key))
      report.unused.push_back(key);
  return report;
}

void printFinetune(const RunConfig &cfg, const PretrainedReport *report,
                   std::FILE *out) {
  if (report) {
    std::fprintf(out, "fine-tuning from %s\n", report->file.c_str());
    std::fprintf(out, "  loaded %zu: %s\n", report->loaded.size(),
                 joined(report->loaded).c_str());
    std::fprintf(out, "  freshly initialized %zu%s%s\n",
                 report->initialized.size(),
                 report->initialized.empty() ? "" : ": ",
                 joined(report->initialized).c_str());
    if (!report->unused.empty())
      std::fprintf(out, "  not used from the file %zu: %s\n",
                   report->unused.size(), joined(report->unused).c_str());
  }
  const FinetuneConfig &ft = cfg.finetune;
  if (!ft.freeze.empty()) {
    size_t n = std::count_if(cfg.params.begin(), cfg.params.end(),
                             [](const ParamInfo &p) {
                               return p.trainable && p.frozenUntil != 0;
                             });
    std::string when = ft.freezeUntil > 0
                           ? "for epochs 1-" + std::to_string(ft.freezeUntil)
                           : std::string("for the whole run");
    std::fprintf(out, "  frozen %s: %s (%zu parameters)\n", when.c_str(),
                 joined(ft.freeze).c_str(), n);
    // Parameters whose unfreeze epoch differs from the freeze's.
    std::map<int64_t, std::vector<std::string>> early;
    for (const ParamInfo &p : cfg.params)
      if (p.frozenUntil > 0 && p.frozenUntil != ft.freezeUntil)
        early[p.frozenUntil].push_back(p.name);
    for (const auto &[until, names] : early)
      std::fprintf(out, "  trained from epoch %lld: %s\n",
                   static_cast<long long>(until + 1), joined(names).c_str());
  }
  for (const auto &[selector, factor] : ft.lrScale)
    std::fprintf(out, "  learning rate x %g: %s\n", factor, selector.c_str());
}

} // namespace nnrt
