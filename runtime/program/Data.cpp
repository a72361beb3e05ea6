//===- Data.cpp - Loading and preparing a run's data -----------------------===//
#include "runtime/program/Data.h"
#include "runtime/Clean.h"
#include "runtime/Csv.h"
#include "runtime/Error.h"
#include "runtime/Idx.h"
#include "runtime/Images.h"

#include <cstring>
#include <filesystem>
#include <sstream>

namespace nnrt {

using json = nlohmann::json;

std::string resolvePath(const RunConfig &config, const std::string &path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config.sourceDir.empty())
    return path;
  return (std::filesystem::path(config.sourceDir) / p).string();
}

static std::string shapeString(const std::vector<int64_t> &dims) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i)
    os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

/// The samples must fit the model's input.
static void checkShape(const RunConfig &config, const Dataset &data) {
  const DatasetStorage &s = data.store();
  if (static_cast<int64_t>(s.featureSize) != config.inputSize())
    throw Error(s.source + ": samples have shape " +
                shapeString(s.featureShape) + " but model '" +
                config.modelName + "' takes " + shapeString(config.inputShape));
}

static CsvOptions csvOptions(const json &src, bool withTargets) {
  CsvOptions o;
  o.header = src.value("header", true);
  std::string d = src.value("delimiter", std::string(","));
  o.delimiter = d.empty() ? ',' : d[0];
  o.features = src.value("features", std::vector<std::string>{});
  if (withTargets)
    o.targets = src.value("targets", std::vector<std::string>{});
  return o;
}

static void clean(Table &table, const json &steps, RunData &out) {
  for (const json &step : steps) {
    std::string op = step.at("op").get<std::string>();
    CleanReport report;
    if (op == "drop_missing")
      report = dropMissing(table);
    else if (op == "drop_duplicates")
      report = dropDuplicates(table);
    else if (op == "fill_missing") {
      std::string mode = step.value("mode", std::string("mean"));
      report = fillMissing(table,
                           mode == "median"  ? FillMethod::Median
                           : mode == "value" ? FillMethod::Value
                                             : FillMethod::Mean,
                           step.value("value", 0.0f));
    } else {
      continue; // clip runs after preprocessing, in the preprocessor
    }
    out.cleanReports.push_back(op + ": " + report.summary());
  }
}

/// `one_hot` with a loss on values (mse, ...): class labels become one-hot
/// rows as wide as the model's output. With cross_entropy the generated code
/// takes class indices, which is the same thing, so one_hot changes nothing.
static bool oneHotValues(const RunConfig &config) {
  if (config.classTargets || !config.raw.contains("data"))
    return false;
  for (const json &step : config.raw.at("data").value("preprocess", json::array()))
    if (step.at("op").get<std::string>() == "one_hot")
      return true;
  return false;
}

/// Sources labelled by class (idx, image folders): the number of classes the
/// labels may take. A loss on values can use them only through one_hot.
static int32_t labelClasses(const RunConfig &config, const std::string &path,
                            const std::string &what) {
  if (!config.classTargets && !oneHotValues(config))
    throw Error(path + ": " + what + " are classes; this run's loss '" +
                config.loss + "' needs value targets (add one_hot to "
                "preprocess)");
  return config.classTargets ? config.numClasses()
                             : int32_t(config.outputSize());
}

ImageSize imageSize(const RunConfig &config) {
  if (config.raw.contains("data")) {
    const json &train = config.raw.at("data").at("train");
    if (train.at("kind") == "images" &&
        !train.value("size", std::vector<int64_t>{}).empty())
      return ImageSize::fromShape(train.at("size").get<std::vector<int64_t>>(),
                                  "images() size");
  }
  return ImageSize::fromShape(config.inputShape,
                              "model '" + config.modelName + "' input");
}

/// Reads one non-split source.
static Dataset loadSource(const RunConfig &config, const json &src,
                          const std::string &split, const DataOptions &opts,
                          const json &data, RunData &out) {
  std::string kind = src.at("kind").get<std::string>();
  auto override = opts.paths.find(split);
  if (kind == "csv") {
    std::string path = override != opts.paths.end()
                           ? override->second
                           : resolvePath(config, src.at("path").get<std::string>());
    Table table = readCsv(path, csvOptions(src, true));
    clean(table, data.value("clean", json::array()), out);
    TargetSpec spec;
    bool oneHot = oneHotValues(config);
    spec.kind = config.classTargets || oneHot ? TargetKind::ClassIndex
                                              : TargetKind::Values;
    spec.numClasses = config.classTargets ? config.numClasses()
                      : oneHot            ? int32_t(config.outputSize())
                                          : 0;
    out.featureNames.assign(table.columns.begin(),
                            table.columns.begin() + table.numFeatures);
    Dataset d = makeTabularDataset(table, spec);
    checkShape(config, d);
    return d;
  }
  if (kind == "idx") {
    std::string images = resolvePath(config, src.at("images").get<std::string>());
    std::string labels = resolvePath(config, src.at("labels").get<std::string>());
    if (override != opts.paths.end()) {
      auto comma = override->second.find(',');
      if (comma == std::string::npos)
        throw Error("--data " + split + "=" + override->second +
                    ": an idx source needs IMAGES,LABELS");
      images = override->second.substr(0, comma);
      labels = override->second.substr(comma + 1);
    }
    IdxOptions io;
    io.numClasses = labelClasses(config, images, "idx labels");
    Dataset d = loadIdxDataset(images, labels, io);
    checkShape(config, d);
    return d;
  }
  if (kind == "images") {
    std::string dir = override != opts.paths.end()
                          ? override->second
                          : resolvePath(config, src.at("dir").get<std::string>());
    ImageFolderOptions io;
    io.size = imageSize(config);
    io.numClasses = labelClasses(config, dir, "image folder labels");
    // A validation or test folder takes the training folder's class order.
    const json &train = data.at("train");
    if (split != "train" && train.at("kind") == "images") {
      auto trainOverride = opts.paths.find("train");
      io.classes = imageClasses(
          trainOverride != opts.paths.end()
              ? trainOverride->second
              : resolvePath(config, train.at("dir").get<std::string>()));
    }
    Dataset d = loadImageFolder(dir, io);
    checkShape(config, d);
    return d;
  }
  throw Error("data source '" + kind + "' is not supported by this runtime yet");
}

std::unique_ptr<Preprocessor> makePreprocessor(const RunConfig &config) {
  auto p = std::make_unique<Preprocessor>();
  if (!config.raw.contains("data"))
    return p;
  const json &data = config.raw.at("data");
  for (const json &step : data.value("preprocess", json::array())) {
    std::string op = step.at("op").get<std::string>();
    if (op == "scale")
      p->addScale(step.at("factor").get<float>());
    else if (op == "normalize")
      p->addNormalize(step.at("mean").get<std::vector<float>>(),
                      step.at("std").get<std::vector<float>>());
    else if (op == "standardize")
      p->addStandardize();
    else if (op == "minmax")
      p->addMinMax();
    else if (op == "one_hot")
      p->setOneHot(!config.classTargets); // see oneHotValues
  }
  for (const json &step : data.value("clean", json::array()))
    if (step.at("op").get<std::string>() == "clip")
      p->addClip(step.at("lo").get<float>(), step.at("hi").get<float>());
  return p;
}

std::vector<AugmentOp> augmentOps(const RunConfig &config) {
  std::vector<AugmentOp> ops;
  if (!config.raw.contains("data"))
    return ops;
  for (const json &step : config.raw.at("data").value("augment", json::array())) {
    std::string name = step.at("op").get<std::string>();
    AugmentOp op;
    if (name == "random_crop") {
      op.kind = AugmentOp::Kind::RandomCrop;
      op.size = step.at("size").get<int64_t>();
      op.padding = step.value("padding", int64_t(0));
    } else if (name == "flip") {
      op.kind = AugmentOp::Kind::Flip;
      op.horizontal = step.value("horizontal", true);
      op.p = step.value("p", 0.5);
    } else if (name == "rotate") {
      op.kind = AugmentOp::Kind::Rotate;
      op.degrees = step.at("degrees").get<double>();
    } else if (name == "noise") {
      op.kind = AugmentOp::Kind::Noise;
      op.stddev = step.at("std").get<double>();
    } else {
      throw Error("augment step '" + name +
                  "' is not supported by this runtime");
    }
    ops.push_back(op);
  }
  return ops;
}

RunData loadRunData(const RunConfig &config, const DataOptions &opts) {
  RunData out;
  out.preprocessor = makePreprocessor(config);
  if (!config.raw.contains("data"))
    throw Error("this program was compiled without a dataset");
  const json &data = config.raw.at("data");
  const json &train = data.at("train");
  const json &validation = data.at("validation");
  const json &test = data.at("test");
  auto isSplit = [](const json &s) { return s.at("kind") == "split"; };
  auto present = [](const json &s) { return s.at("kind") != "none"; };

  bool needFull = opts.needTrain || (opts.needValidation && isSplit(validation)) ||
                  (opts.needTest && isSplit(test));
  Dataset full;
  if (needFull)
    full = loadSource(config, train, "train", opts, data, out);
  out.train = full;
  out.hasTrain = needFull;
  // Splits take their share of the train source: validation first, then test.
  for (auto [src, name, target, has] :
       {std::tuple{&validation, "validation", &out.validation, &out.hasValidation},
        std::tuple{&test, "test", &out.test, &out.hasTest}}) {
    if (!present(*src))
      continue;
    bool needed = std::string(name) == "validation" ? opts.needValidation
                                                     : opts.needTest;
    if (isSplit(*src) && needed && opts.paths.count(name)) {
      // --data replaces a split-off part by a file in the train source's
      // format; the train split then keeps all its rows.
      *target = loadSource(config, train, name, opts, data, out);
      *has = true;
    } else if (isSplit(*src)) {
      if (!needFull)
        continue;
      auto [rest, part] = out.train.split(src->at("fraction").get<double>(),
                                          src->at("seed").get<uint64_t>());
      out.train = rest;
      *target = part;
      *has = true;
    } else if (needed) {
      *target = loadSource(config, *src, name, opts, data, out);
      *has = true;
    }
  }
  return out;
}

Dataset loadPredictInput(const RunConfig &config, const std::string &path) {
  std::string lower = path;
  for (char &c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto endsWith = [&](const char *ext) {
    size_t n = std::strlen(ext);
    return lower.size() >= n && lower.compare(lower.size() - n, n, ext) == 0;
  };
  std::error_code ec;
  bool folder = std::filesystem::is_directory(path, ec);
  bool list = endsWith(".txt") || endsWith(".lst");
  if (folder || list || isImageFile(path)) {
    std::vector<std::string> paths = folder ? listImages(path)
                                     : list ? readImageList(path)
                                            : std::vector<std::string>{path};
    Dataset d = loadImageFiles(paths, imageSize(config), path);
    checkShape(config, d);
    return d;
  }
  bool csv = endsWith(".csv");
  if (csv) {
    CsvOptions o;
    const json &data = config.raw.at("data");
    const json &train = data.at("train");
    if (train.at("kind") == "csv") {
      o = csvOptions(train, false);
      // Without explicit features, every column that is not a target is one.
      if (o.features.empty()) {
        Table header = readCsv(path, o);
        std::vector<std::string> targets =
            train.value("targets", std::vector<std::string>{});
        for (const std::string &c : header.columns)
          if (std::find(targets.begin(), targets.end(), c) == targets.end())
            o.features.push_back(c);
      }
    }
    Table table = readCsv(path, o);
    Dataset d = makeTabularDataset(table, TargetSpec{TargetKind::None, 0});
    checkShape(config, d);
    return d;
  }
  IdxArray images = readIdx(path, 3);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = path;
  storage->featureShape = {1, images.dims[1], images.dims[2]};
  storage->featureSize = static_cast<size_t>(images.dims[1]) * images.dims[2];
  storage->featureType = FeatureType::U8;
  storage->u8 = std::move(images.data);
  storage->numSamples = images.dims[0];
  Dataset d(storage);
  checkShape(config, d);
  return d;
}

} // namespace nnrt
