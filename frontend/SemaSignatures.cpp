//===- SemaSignatures.cpp - The signature table of every callable ---------===//
//
// One data-driven table: name, parameters (type, default, allowed range).
// Defaults follow PyTorch (torch.nn, torch.optim) and Keras where PyTorch has
// none. "!" marks a required argument, "" an optional one without default.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <cstdlib>
#include <limits>

namespace nnc {
namespace sema {

namespace {

/// "[0, 1)", "(0, inf)", "" (anything).
Interval parseInterval(const std::string &s) {
  Interval iv;
  if (s.empty())
    return iv;
  iv.active = true;
  iv.loOpen = s.front() == '(';
  iv.hiOpen = s.back() == ')';
  size_t comma = s.find(',');
  std::string lo = s.substr(1, comma - 1);
  std::string hi = s.substr(comma + 1, s.size() - comma - 2);
  while (!hi.empty() && hi.front() == ' ')
    hi.erase(hi.begin());
  const double inf = std::numeric_limits<double>::infinity();
  iv.lo = lo == "-inf" ? -inf : std::strtod(lo.c_str(), nullptr);
  iv.hi = hi == "inf" ? inf : std::strtod(hi.c_str(), nullptr);
  return iv;
}

ParamSpec P(std::string name, ArgType type, std::string def,
            std::string range = "", std::vector<std::string> enums = {},
            std::string what = "") {
  ParamSpec p;
  p.name = std::move(name);
  p.type = type;
  p.defaultText = std::move(def);
  p.range = parseInterval(range);
  p.enums = std::move(enums);
  p.what = std::move(what);
  return p;
}

using A = ArgType;
const std::vector<std::string> kPadding = {"valid", "same"};

std::vector<Signature> buildTable() {
  std::vector<Signature> t;
  auto add = [&](Category cat, std::string name, std::vector<ParamSpec> ps) {
    Signature s;
    s.name = std::move(name);
    s.category = cat;
    s.params = std::move(ps);
    t.push_back(std::move(s));
  };
  // Layers, from Layers.def. Any layer may carry an L2 penalty on its weights
  // (Keras' kernel_regularizer); weighted layers take an initializer. Both
  // only by keyword.
  auto addLayer = [&](LayerKind kind, const char *name,
                      std::vector<ParamSpec> ps) {
    add(Category::Layer, name, std::move(ps));
    Signature &s = t.back();
    s.layer = kind;
    s.variadic = hasTrait(kind, layer_trait::Variadic);
    if (hasTrait(kind, layer_trait::Weighted))
      s.params.push_back(P("init", A::Enum, "default", "", initKindNames()));
    if (!s.variadic)
      s.params.push_back(P("l2", A::Number, "0", "[0, inf)", {}, "l2 penalty"));
    for (ParamSpec &p : s.params)
      p.keywordOnly |= p.name == "init" || p.name == "l2";
  };
#define NNC_UNPAREN(...) __VA_ARGS__
#define LAYER(Kind, spelling, traits, params)                                  \
  addLayer(LayerKind::Kind, spelling, {NNC_UNPAREN params});
#include "frontend/Layers.def"
#undef NNC_UNPAREN

  // Losses (torch.nn, reduction = mean).
  const Category Lo = Category::Loss;
  add(Lo, "mse", {});
  add(Lo, "mae", {});
  add(Lo, "huber", {P("delta", A::Number, "1.0", "(0, inf)")});
  add(Lo, "cross_entropy",
      {P("label_smoothing", A::Number, "0.0", "[0, 1]")});
  add(Lo, "binary_cross_entropy", {});

  // Optimizers (torch.optim defaults).
  const Category O = Category::Optimizer;
  add(O, "sgd", {P("lr", A::Number, "!", "(0, inf)", {}, "learning rate"),
                 P("momentum", A::Number, "0", "[0, inf)"),
                 P("nesterov", A::Bool, "false"),
                 P("weight_decay", A::Number, "0", "[0, inf)"),
                 P("dampening", A::Number, "0", "[0, inf)")});
  for (const char *name : {"adam", "adamw"})
    add(O, name,
        {P("lr", A::Number, "0.001", "(0, inf)", {}, "learning rate"),
         P("beta1", A::Number, "0.9", "[0, 1)"),
         P("beta2", A::Number, "0.999", "[0, 1)"),
         P("eps", A::Number, "1e-8", "(0, inf)"),
         P("weight_decay", A::Number,
           std::string(name) == "adamw" ? "0.01" : "0", "[0, inf)")});
  add(O, "rmsprop",
      {P("lr", A::Number, "0.01", "(0, inf)", {}, "learning rate"),
       P("alpha", A::Number, "0.99", "[0, 1]"),
       P("eps", A::Number, "1e-8", "(0, inf)"),
       P("momentum", A::Number, "0", "[0, inf)"),
       P("weight_decay", A::Number, "0", "[0, inf)")});

  // Schedules: periods and warmup in epochs.
  const Category S = Category::Schedule;
  add(S, "constant", {});
  add(S, "step", {P("every", A::Number, "!", "(0, inf)"),
                  P("gamma", A::Number, "0.1", "(0, inf)")});
  add(S, "exponential", {P("gamma", A::Number, "!", "(0, inf)")});
  add(S, "cosine", {P("warmup", A::Number, "0", "[0, inf)"),
                    P("min_lr", A::Number, "0", "[0, inf)")});
  add(S, "linear", {P("warmup", A::Number, "0", "[0, inf)"),
                    P("end_lr", A::Number, "0", "[0, inf)")});

  // Sources.
  const Category So = Category::Source;
  add(So, "csv", {P("path", A::String, "!"),
                  P("features", A::StringList, ""),
                  P("target", A::StringOrList, "\"y\""),
                  P("header", A::Bool, "true"),
                  P("delimiter", A::String, "\",\"")});
  add(So, "idx", {P("images_path", A::String, "!"),
                  P("labels_path", A::String, "!")});
  add(So, "images", {P("dir", A::String, "!"),
                     P("size", A::IntList, "", "[1, inf)")});
  // text("dir") or text("f.csv", text = "column", target = "column"); the
  // columns default to "text" and "label" (Hugging Face's names).
  add(So, "text", {P("path", A::String, "!"), P("text", A::String, ""),
                   P("target", A::String, "")});
  // audio("dir", rate = R, seconds = S): a folder per class of sound files,
  // clips of S seconds at R Hz (libsamplerate converts by factors up to
  // 256 from the files' rates).
  add(So, "audio", {P("path", A::String, "!"),
                    P("rate", A::Int, "!", "[1000, 384000]", {},
                      "sample rate"),
                    P("seconds", A::Number, "!", "(0, 3600]", {},
                      "clip length")});
  // corpus("file or dir", block = T): one token stream of every text file,
  // windows of T tokens with the next T tokens as targets (SPEC 2.9).
  add(So, "corpus", {P("path", A::String, "!"),
                     P("block", A::Int, "!", "[1, inf)", {}, "block size")});
  add(So, "split", {P("from", A::Enum, "!", "", {"train"}),
                    P("fraction", A::Number, "!", "(0, 1)", {},
                      "split fraction"),
                    P("seed", A::Int, "0")});

  // Cleaning steps.
  const Category C = Category::Clean;
  add(C, "drop_missing", {});
  add(C, "drop_duplicates", {});
  add(C, "clip", {P("lo", A::Number, "!"), P("hi", A::Number, "!")});
  add(C, "fill_missing",
      {P("value", A::NumberOrEnum, "!", "", {"mean", "median"})});

  // Preprocessing steps.
  const Category Pr = Category::Preprocess;
  add(Pr, "scale", {P("factor", A::Number, "!")});
  add(Pr, "normalize", {P("mean", A::NumberOrList, "!"),
                        P("std", A::NumberOrList, "!", "(0, inf)", {},
                          "normalize std")});
  add(Pr, "standardize", {});
  add(Pr, "minmax", {});
  add(Pr, "one_hot", {P("classes", A::Int, "", "[2, inf)")});

  // Augmentations (training batches only).
  const Category Au = Category::Augment;
  add(Au, "random_crop", {P("size", A::Int, "!", "[1, inf)"),
                          P("padding", A::Int, "0", "[0, inf)")});
  add(Au, "flip", {P("axis", A::Enum, "horizontal", "",
                     {"horizontal", "vertical"}),
                   P("p", A::Number, "0.5", "[0, 1]")});
  add(Au, "rotate", {P("degrees", A::Number, "!", "[0, 360]")});
  add(Au, "noise", {P("std", A::Number, "!", "[0, inf)")});
  add(Au, "time_shift", {P("fraction", A::Number, "!", "[0, 1)", {},
                           "time_shift fraction")});

  // Spectral features of audio clips (`features { }`), torchaudio's
  // MFCC / MelSpectrogram defaults of SPEC 2.8.
  const Category F = Category::Features;
  add(F, "mfcc", {P("coefficients", A::Int, "13", "[1, inf)"),
                  P("mels", A::Int, "40", "[1, inf)"),
                  P("window", A::Number, "0.025", "(0, inf)", {},
                    "window (seconds)"),
                  P("hop", A::Number, "0.010", "(0, inf)", {},
                    "hop (seconds)")});
  add(F, "log_mel", {P("mels", A::Int, "40", "[1, inf)"),
                     P("window", A::Number, "0.025", "(0, inf)", {},
                       "window (seconds)"),
                     P("hop", A::Number, "0.010", "(0, inf)", {},
                       "hop (seconds)")});

  // Tokenizers and padding (`tokenize { }`, text sources only). Ids are
  // int32: a vocabulary up to 2^31 ids.
  const Category T = Category::Tokenize;
  add(T, "bytes", {});
  add(T, "words", {P("vocab", A::Int, "!", "[3, 2147483647]", {},
                     "vocabulary size"),
                   P("lowercase", A::Bool, "true")});
  // bpe: SentencePiece needs <pad>, <unk>, the word start '▁' and at least
  // one character.
  add(T, "bpe", {P("vocab", A::Int, "!", "[4, 2147483647]", {},
                   "vocabulary size")});
  add(T, "pad", {P("length", A::Int, "!", "[1, inf)", {}, "token count")});

  // Metrics.
  for (const char *m : {"accuracy", "precision", "recall", "f1", "mse", "mae",
                        "r2", "perplexity", "confusion"})
    add(Category::Metric, m, {});

  // Adapters (`adapters = ...` of a finetune): PEFT's LoraConfig defaults
  // r = 8, lora_alpha = 8.
  add(Category::Adapter, "lora",
      {P("rank", A::Int, "8", "[1, inf)", {}, "LoRA rank"),
       P("alpha", A::Number, "8", "(0, inf)", {}, "LoRA alpha"),
       P("on", A::NameList, "!")});

  // Pruning (`prune = ...` of a train or finetune): Zhu & Gupta's gradual
  // magnitude pruning over epochs start..end.
  add(Category::Pruning, "magnitude",
      {P("sparsity", A::Number, "!", "(0, 1)", {}, "final sparsity"),
       P("start", A::Int, "1", "[1, inf)", {}, "first pruning epoch"),
       P("end", A::Int, "!", "[1, inf)", {}, "last pruning epoch")});
  return t;
}

const std::vector<Signature> &table() {
  static const std::vector<Signature> t = buildTable();
  return t;
}

} // namespace

const char *toString(Category cat) {
  switch (cat) {
  case Category::Layer:
    return "layer";
  case Category::Loss:
    return "loss";
  case Category::Optimizer:
    return "optimizer";
  case Category::Schedule:
    return "schedule";
  case Category::Source:
    return "data source";
  case Category::Clean:
    return "cleaning step";
  case Category::Preprocess:
    return "preprocessing step";
  case Category::Augment:
    return "augmentation";
  case Category::Tokenize:
    return "tokenize step";
  case Category::Features:
    return "audio feature";
  case Category::Metric:
    return "metric";
  case Category::Adapter:
    return "adapter";
  case Category::Pruning:
    return "pruning schedule";
  }
  return "callable";
}

const Signature *findSignature(Category cat, const std::string &name) {
  for (const auto &s : table())
    if (s.category == cat && s.name == name)
      return &s;
  return nullptr;
}

std::vector<std::string> signatureNames(Category cat) {
  std::vector<std::string> names;
  for (const auto &s : table())
    if (s.category == cat)
      names.push_back(s.name);
  return names;
}

} // namespace sema
} // namespace nnc
