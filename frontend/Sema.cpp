//===- Sema.cpp - Semantic analysis: declarations and the driver ----------===//
//
// Collects the declarations of all modules, reports duplicates, then
// analyses datasets, models (SemaModels.cpp) and training runs
// (SemaTrain.cpp) in that order, so that runs can check against both.
//
//===----------------------------------------------------------------------===//
#include "frontend/Sema.h"
#include "frontend/SemaImpl.h"

namespace nnc {
namespace sema {

//===----------------------------------------------------------------------===//
// Program helpers and names
//===----------------------------------------------------------------------===//

int64_t TensorType::numElements() const {
  if (!known)
    return -1;
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return -1;
  return n;
}

const char *toString(ElemType elem) {
  switch (elem) {
  case ElemType::F32:
    return "f32";
  case ElemType::I32:
    return "i32";
  case ElemType::I64:
    return "i64";
  }
  return "?";
}

std::string toString(const TensorType &type) {
  if (!type.known)
    return "?";
  std::string s = std::string(toString(type.elem)) + "[";
  for (size_t i = 0; i < type.dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(type.dims[i]);
  return s + "]";
}

const char *toString(LayerKind kind) {
  switch (kind) {
  case LayerKind::Input:
    return "input";
#define LAYER(Kind, spelling, traits, params)                                  \
  case LayerKind::Kind:                                                        \
    return spelling;
#include "frontend/Layers.def"
  }
  return "?";
}

unsigned layerTraits(LayerKind kind) {
  using namespace layer_trait;
  switch (kind) {
  case LayerKind::Input:
    return None;
#define LAYER(Kind, spelling, traits, params)                                  \
  case LayerKind::Kind:                                                        \
    return traits;
#include "frontend/Layers.def"
  }
  return layer_trait::None;
}

const char *toString(InitKind kind) {
  switch (kind) {
#define NNC_INIT_CASE(Kind, spelling)                                          \
  case InitKind::Kind:                                                         \
    return spelling;
    NNC_INIT_KINDS(NNC_INIT_CASE)
#undef NNC_INIT_CASE
  }
  return "?";
}

const std::vector<std::string> &initKindNames() {
  static const std::vector<std::string> names = {
#define NNC_INIT_NAME(Kind, spelling) spelling,
      NNC_INIT_KINDS(NNC_INIT_NAME)
#undef NNC_INIT_NAME
  };
  return names;
}

const char *toString(SourceKind kind) {
  static const char *names[] = {"none", "csv",   "idx",
                                "images", "text", "audio", "corpus",
                                "split"};
  return names[static_cast<int>(kind)];
}

const char *toString(TokenizerKind kind) {
  static const char *names[] = {"none", "bytes", "words", "bpe"};
  return names[static_cast<int>(kind)];
}

const char *toString(DataOpKind kind) {
  static const char *names[] = {
      "drop_missing", "drop_duplicates", "clip",   "fill_missing",
      "scale",        "normalize",       "standardize", "minmax",
      "one_hot",      "random_crop",     "flip",   "rotate", "noise",
      "time_shift"};
  return names[static_cast<int>(kind)];
}

const char *toString(FeatureKind kind) {
  static const char *names[] = {"none", "mfcc", "log_mel"};
  return names[static_cast<int>(kind)];
}

const char *toString(LossKind kind) {
  static const char *names[] = {"mse", "mae", "huber", "cross_entropy",
                                "binary_cross_entropy"};
  return names[static_cast<int>(kind)];
}

const char *toString(OptimizerKind kind) {
  static const char *names[] = {"sgd", "adam", "adamw", "rmsprop"};
  return names[static_cast<int>(kind)];
}

const char *toString(ScheduleKind kind) {
  static const char *names[] = {"constant", "step", "exponential", "cosine",
                                "linear"};
  return names[static_cast<int>(kind)];
}

const char *toString(MetricKind kind) {
  static const char *names[] = {"accuracy", "precision",  "recall",
                                "f1",       "mse",        "mae",
                                "r2",       "perplexity", "confusion"};
  return names[static_cast<int>(kind)];
}

const Model *Program::findModel(const std::string &name) const {
  for (const auto &m : models)
    if (m.name == name)
      return &m;
  return nullptr;
}
const Dataset *Program::findDataset(const std::string &name) const {
  for (const auto &d : datasets)
    if (d.name == name)
      return &d;
  return nullptr;
}
const TrainRun *Program::findRun(const std::string &name) const {
  for (const auto &r : runs)
    if (r.name == name)
      return &r;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

void Sema::error(SourceRange r, const std::string &msg,
                 const std::string &hint) {
  if (!reported.emplace(r.begin.fileId, r.begin.line, r.begin.col, msg).second)
    return;
  diags.error(r, msg, hint);
}

void Sema::warning(SourceRange r, const std::string &msg,
                   const std::string &hint) {
  if (!reported.emplace(r.begin.fileId, r.begin.line, r.begin.col, msg).second)
    return;
  diags.warning(r, msg, hint);
}

void Sema::note(SourceRange r, const std::string &msg) { diags.note(r, msg); }

//===----------------------------------------------------------------------===//
// Settings
//===----------------------------------------------------------------------===//

std::map<std::string, const ast::Stmt *>
Sema::collectSettings(const ast::Decl &d, const std::string &declDesc,
                      const std::vector<std::string> &keys,
                      const std::vector<std::string> &sectionNames,
                      std::map<std::string, const ast::Stmt *> *sections) {
  std::map<std::string, const ast::Stmt *> out;
  for (const auto &sp : d.body) {
    if (!sp)
      continue;
    const ast::Stmt &s = *sp;
    bool isSection = s.kind == ast::StmtKind::Section;
    if (s.kind != ast::StmtKind::Assign && !isSection) {
      error(s.range, "expected a setting 'key = value' in " + declDesc);
      continue;
    }
    const auto &allowed = isSection ? sectionNames : keys;
    bool known = false;
    for (const auto &k : allowed)
      known |= k == s.name;
    SourceRange nr = s.nameRange.isValid() ? s.nameRange : s.range;
    if (!known) {
      bool otherKind = false;
      for (const auto &k : isSection ? keys : sectionNames)
        otherKind |= k == s.name;
      if (otherKind)
        error(nr, isSection ? "'" + s.name + "' is a setting, not a section"
                            : "'" + s.name + "' is a section; write '" +
                                  s.name + " { ... }'");
      else
        error(nr,
              std::string("unknown ") + (isSection ? "section" : "setting") +
                  " '" + s.name + "' in " + declDesc,
              didYouMean(s.name, allowed));
      continue;
    }
    auto &target = isSection ? *sections : out;
    auto prev = target.find(s.name);
    if (prev != target.end()) {
      error(nr, std::string(isSection ? "section" : "setting") + " '" +
                    s.name + "' is given twice in " + declDesc);
      note(prev->second->nameRange.isValid() ? prev->second->nameRange
                                             : prev->second->range,
           "previously given here");
      continue;
    }
    target[s.name] = &s;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

static const char *declWord(ast::DeclKind k) {
  switch (k) {
  case ast::DeclKind::Dataset:
    return "dataset";
  case ast::DeclKind::Block:
    return "block";
  case ast::DeclKind::Model:
    return "model";
  case ast::DeclKind::Train:
    return "train";
  case ast::DeclKind::Finetune:
    return "finetune";
  case ast::DeclKind::Import:
    return "import";
  }
  return "declaration";
}

std::unique_ptr<Program>
Sema::run(const std::vector<const ast::Module *> &mods) {
  prog = std::make_unique<Program>();
  std::vector<const ast::Decl *> datasets, models, runs;
  auto declare = [&](std::map<std::string, const ast::Decl *> &table,
                     const ast::Decl &d) {
    if (d.name.empty())
      return false;
    auto it = table.find(d.name);
    SourceRange nr = d.nameRange.isValid() ? d.nameRange : d.range;
    if (it != table.end()) {
      error(nr, std::string("redefinition of ") + declWord(d.kind) + " '" +
                    d.name + "'");
      note(it->second->nameRange.isValid() ? it->second->nameRange
                                           : it->second->range,
           "previous definition is here");
      return false;
    }
    table[d.name] = &d;
    return true;
  };
  for (const ast::Module *m : mods) {
    if (!m)
      continue;
    for (const auto &dp : m->decls) {
      if (!dp)
        continue;
      const ast::Decl &d = *dp;
      switch (d.kind) {
      case ast::DeclKind::Import:
        break;
      case ast::DeclKind::Dataset:
        if (declare(datasetDecls, d))
          datasets.push_back(&d);
        break;
      case ast::DeclKind::Block:
        if (findSignature(Category::Layer, d.name)) {
          error(d.nameRange.isValid() ? d.nameRange : d.range,
                "block '" + d.name + "' has the name of a built-in layer",
                "rename the block");
          break;
        }
        declare(blocks, d);
        break;
      case ast::DeclKind::Model:
        if (declare(modelDecls, d))
          models.push_back(&d);
        break;
      case ast::DeclKind::Train:
      case ast::DeclKind::Finetune:
        runs.push_back(&d);
        break;
      }
    }
  }
  for (const ast::Decl *d : datasets)
    analyzeDataset(*d);
  for (const ast::Decl *d : models)
    analyzeModel(*d);
  // Train runs before finetunes: a finetune may take its model's train
  // run's settings (its loss), whichever file declares it.
  for (bool finetunes : {false, true})
    for (const ast::Decl *d : runs)
      if ((d->kind == ast::DeclKind::Finetune) == finetunes)
        analyzeRun(*d);
  return std::move(prog);
}

} // namespace sema

std::unique_ptr<sema::Program>
analyzeProgram(const std::vector<const ast::Module *> &modules,
               const SourceManager &sm, DiagnosticEngine &diags, int64_t batch,
               bool distributed) {
  sema::Sema s(sm, diags);
  s.batchOverride = batch;
  s.distributed = distributed;
  return s.run(modules);
}

} // namespace nnc
