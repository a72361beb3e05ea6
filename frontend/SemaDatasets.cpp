//===- SemaDatasets.cpp - Dataset settings, sources and data steps --------===//
//
// A dataset has a train source (required), optional validation / test
// sources (a file source or `split(train, fraction)`), batch settings
// (PyTorch DataLoader defaults: shuffle false, drop_last false) and the
// sections clean { }, preprocess { }, augment { } of bare step calls, and
// tokenize { } for text sources (SemaTokens.cpp).
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

namespace nnc {
namespace sema {

namespace {

std::vector<std::string> strings(const Value &v) {
  std::vector<std::string> out;
  if (v.kind == Value::String)
    out.push_back(v.str);
  for (const Value &x : v.list)
    out.push_back(x.str);
  return out;
}

std::vector<double> numbers(const Value &v) {
  if (v.kind == Value::Number)
    return {v.num};
  std::vector<double> out;
  for (const Value &x : v.list)
    out.push_back(x.num);
  return out;
}

} // namespace

void Sema::checkSourceKinds(const Dataset &ds, SourceKind kind) {
  std::string source = std::string(toString(kind)) + "(...)";
  std::string article = std::string("aeiou").find(source[0]) == std::string::npos
                            ? "a "
                            : "an ";
  bool trained = ds.train.kind == kind;
  for (auto [src, name] : {std::pair<const DataSource *, const char *>{
                               &ds.validation, "validation"},
                           {&ds.test, "test"}}) {
    if (src->kind == SourceKind::None || src->kind == SourceKind::Split ||
        trained == (src->kind == kind))
      continue;
    if (trained)
      error(src->range, std::string("the ") + name + " source of dataset '" +
                            ds.name + "' must be " + source +
                            " like its train source");
    else
      error(src->range, article + source + " " + name + " source needs " +
                            article + source + " train source");
  }
}

SourceRange Sema::sourceSection(const ast::Stmt *section, const Dataset &ds,
                                SourceKind kind, const char *name,
                                const std::string &hint) {
  bool mine = ds.train.kind == kind;
  if (!section) {
    if (mine)
      error(ds.train.range,
            "dataset '" + ds.name + "' reads " + toString(kind) +
                " but has no '" + name + " { }'",
            hint);
    return SourceRange();
  }
  SourceRange where =
      section->nameRange.isValid() ? section->nameRange : section->range;
  if (mine)
    return where;
  if (ds.train.kind != SourceKind::None)
    error(where, std::string("'") + name + "' applies to " + toString(kind) +
                     "(...) sources, but dataset '" + ds.name + "' reads " +
                     toString(ds.train.kind) + "(...)");
  return SourceRange();
}

void Sema::analyzeDataset(const ast::Decl &d) {
  datasetIndex[d.name] = static_cast<int>(prog->datasets.size());
  prog->datasets.emplace_back();
  Dataset &ds = prog->datasets.back();
  DatasetInfo &info = datasetInfo[d.name];
  ds.name = d.name;
  ds.range = d.range;
  std::string desc = "dataset '" + d.name + "'";
  std::map<std::string, const ast::Stmt *> sections;
  auto settings = collectSettings(
      d, desc,
      {"train", "validation", "test", "batch", "shuffle", "drop_last", "seed"},
      {"clean", "preprocess", "augment", "tokenize", "features"}, &sections);

  // Sources.
  auto source = [&](const std::string &key, DataSource &src) {
    auto it = settings.find(key);
    if (it == settings.end())
      return;
    const ast::Expr *e = it->second->value.get();
    BoundCall bc;
    if (!bindSetting(Category::Source, e, bc))
      return;
    const std::string &kind = bc.sig->name;
    src.range = e->range;
    if (kind == "split") {
      if (key == "train") {
        error(e->range, "the train source cannot be a split",
              "split the train source in 'validation' or 'test'");
        return;
      }
      src.kind = SourceKind::Split;
      src.of = "train";
      src.fraction = bc.num("fraction");
      src.seed = bc.integer("seed");
    } else if (kind == "csv") {
      src.kind = SourceKind::Csv;
      src.path = bc.str("path");
      if (bc.has("features")) {
        src.features = strings(bc.get("features"));
        if (src.features.empty())
          error(bc.rangeOf("features"), "'features' must not be empty");
      }
      src.targets = strings(bc.get("target"));
      src.header = bc.flag("header");
      src.delimiter = bc.str("delimiter");
      if (src.delimiter.size() != 1)
        error(bc.rangeOf("delimiter"),
              "delimiter must be a single character, got \"" +
                  src.delimiter + "\"");
      for (const auto &t : src.targets)
        for (const auto &f : src.features)
          if (t == f)
            error(bc.rangeOf("features"),
                  "column '" + t + "' is both a feature and a target");
    } else if (kind == "idx") {
      src.kind = SourceKind::Idx;
      src.imagesPath = bc.str("images_path");
      src.labelsPath = bc.str("labels_path");
    } else if (kind == "text") {
      src.kind = SourceKind::Text;
      src.path = bc.str("path");
      // A .csv file names its columns; a folder has one folder per class.
      bool csv = src.path.size() >= 4 &&
                 src.path.compare(src.path.size() - 4, 4, ".csv") == 0;
      for (const char *column : {"text", "target"})
        if (!csv && bc.has(column))
          error(bc.rangeOf(column),
                std::string("'") + column + "' names a column of a .csv "
                "file, but \"" + src.path + "\" is read as a folder of "
                "class folders",
                "text(\"DIR\") takes the class from each file's folder");
      if (csv) {
        src.textColumn = bc.has("text") ? bc.str("text") : "text";
        src.targets = {bc.has("target") ? bc.str("target") : "label"};
        if (src.textColumn == src.targets[0])
          error(bc.rangeOf("target"), "column '" + src.textColumn +
                                          "' is both the text and the target");
      }
    } else if (kind == "corpus") {
      src.kind = SourceKind::Corpus;
      src.path = bc.str("path");
      src.block = bc.integer("block");
    } else if (kind == "audio") {
      src.kind = SourceKind::Audio;
      src.path = bc.str("path");
      src.rate = bc.integer("rate");
      src.seconds = bc.num("seconds");
    } else if (kind == "images") {
      src.kind = SourceKind::Images;
      src.dir = bc.str("dir");
      if (bc.has("size")) {
        for (const Value &x : bc.get("size").list)
          src.size.push_back(static_cast<int64_t>(x.num));
        if (src.size.size() != 3)
          error(bc.rangeOf("size"),
                "images size must be [C, H, W], got " +
                    formatValue(bc.get("size")));
      }
    }
  };
  source("train", ds.train);
  source("validation", ds.validation);
  source("test", ds.test);
  if (!settings.count("train"))
    error(d.nameRange.isValid() ? d.nameRange : d.range,
          "dataset '" + d.name + "' has no train source",
          "add 'train = csv(...)' or 'train = idx(...)'");
  if (ds.validation.kind == SourceKind::Split &&
      ds.test.kind == SourceKind::Split &&
      ds.validation.fraction + ds.test.fraction >= 1)
    error(ds.test.range, "validation and test splits take the whole train "
                         "source (" +
                             formatNumber(ds.validation.fraction) + " + " +
                             formatNumber(ds.test.fraction) + ")");
  info.hasValidation = ds.validation.kind != SourceKind::None;
  if (ds.train.kind == SourceKind::Csv) {
    if (!ds.train.features.empty())
      info.featureCount = static_cast<int64_t>(ds.train.features.size());
    info.targetWidth = static_cast<int64_t>(ds.train.targets.size());
  }
  if (ds.train.kind == SourceKind::Images)
    info.imageSize = ds.train.size;
  if (ds.train.kind == SourceKind::Corpus) {
    info.block = ds.train.block;
    for (const DataSource *src : {&ds.validation, &ds.test})
      if (src->kind == SourceKind::Corpus && src->block != ds.train.block)
        error(src->range,
              "block = " + std::to_string(src->block) + " differs from the "
              "train corpus's block = " + std::to_string(ds.train.block),
              "a model reads one block size; write block = " +
                  std::to_string(ds.train.block));
  }

  // Scalar settings.
  auto intSetting = [&](const std::string &key, int64_t &out, int64_t min) {
    auto it = settings.find(key);
    if (it == settings.end() || !it->second->value)
      return;
    Value v = eval(it->second->value.get(), Env());
    if (v.kind == Value::Invalid || !toInt(v, "'" + key + "'", out))
      return;
    if (out < min)
      error(v.range, "'" + key + "' must be at least " + std::to_string(min) +
                         ", got " + std::to_string(out));
  };
  auto boolSetting = [&](const std::string &key, bool &out) {
    auto it = settings.find(key);
    if (it == settings.end() || !it->second->value)
      return;
    Value v = eval(it->second->value.get(), Env());
    if (v.kind == Value::Bool)
      out = v.num != 0;
    else if (v.kind != Value::Invalid)
      error(v.range, "'" + key + "' must be 'true' or 'false', got " +
                         formatValue(v));
  };
  intSetting("batch", ds.batch, 1);
  intSetting("seed", ds.seed, 0);
  boolSetting("shuffle", ds.shuffle);
  boolSetting("drop_last", ds.dropLast);

  // Sections of bare step calls.
  auto section = [&](const std::string &name, Category cat,
                     std::vector<DataOp> &ops) {
    auto it = sections.find(name);
    if (it == sections.end())
      return;
    for (const auto &sp : it->second->body) {
      if (!sp)
        continue;
      const ast::Stmt &st = *sp;
      if (st.kind != ast::StmtKind::Expr || !st.value) {
        error(st.range, "expected a " + std::string(toString(cat)) +
                            " call in '" + name + "'");
        continue;
      }
      BoundCall bc;
      if (!bindSetting(cat, st.value.get(), bc))
        continue;
      DataOp op;
      op.range = st.value->range;
      const std::string &k = bc.sig->name;
      for (int i = 0; i <= static_cast<int>(DataOpKind::TimeShift); ++i)
        if (k == toString(static_cast<DataOpKind>(i)))
          op.kind = static_cast<DataOpKind>(i);
      if (k == "clip") {
        op.lo = bc.num("lo");
        op.hi = bc.num("hi");
        if (!(op.lo < op.hi))
          error(bc.range, "clip needs lo < hi, got " + formatNumber(op.lo) +
                              " and " + formatNumber(op.hi));
      } else if (k == "fill_missing") {
        const Value &v = bc.get("value");
        op.fill = v.kind == Value::Number ? FillMode::Value
                  : v.str == "median"     ? FillMode::Median
                                          : FillMode::Mean;
        op.value = v.num;
      } else if (k == "scale") {
        op.value = bc.num("factor");
      } else if (k == "normalize") {
        op.mean = numbers(bc.get("mean"));
        op.std = numbers(bc.get("std"));
        if (op.mean.size() > 1 && op.std.size() > 1 &&
            op.mean.size() != op.std.size())
          error(bc.range, "normalize has " + std::to_string(op.mean.size()) +
                              " means but " + std::to_string(op.std.size()) +
                              " standard deviations");
      } else if (k == "one_hot") {
        op.classes = bc.has("classes") ? bc.integer("classes") : 0;
        info.oneHot = true;
        info.targetWidth = op.classes ? op.classes : -1;
      } else if (k == "random_crop") {
        op.size = bc.integer("size");
        op.padding = bc.integer("padding");
        info.cropSize = op.size;
        info.cropRange = bc.range;
        // torchvision RandomCrop: the window must fit the padded image.
        if (info.imageSize.size() == 3 &&
            (op.size > info.imageSize[1] + 2 * op.padding ||
             op.size > info.imageSize[2] + 2 * op.padding))
          error(bc.range, "random_crop(" + std::to_string(op.size) +
                              ") does not fit the " +
                              std::to_string(info.imageSize[1]) + " x " +
                              std::to_string(info.imageSize[2]) +
                              " images padded by " +
                              std::to_string(op.padding),
                "crop at most the image size plus twice the padding");
      } else if (k == "flip") {
        op.horizontal = bc.str("axis") != "vertical";
        op.p = bc.num("p");
      } else if (k == "rotate") {
        op.degrees = bc.num("degrees");
      } else if (k == "noise") {
        op.stddev = bc.num("std");
      } else if (k == "time_shift") {
        op.fraction = bc.num("fraction");
      }
      ops.push_back(op);
    }
  };
  section("clean", Category::Clean, ds.clean);
  section("preprocess", Category::Preprocess, ds.preprocess);
  section("augment", Category::Augment, ds.augment);
  auto tokenize = sections.find("tokenize");
  analyzeTokenize(tokenize == sections.end() ? nullptr : tokenize->second, ds);
  if (info.block > 0)
    info.vocab = ds.tokenize.vocab;
  auto features = sections.find("features");
  analyzeFeatures(features == sections.end() ? nullptr : features->second, ds);
}

} // namespace sema
} // namespace nnc
