//===- Data.cpp - Loading and preparing a run's data
//-----------------------===//
#include "runtime/program/Data.h"

#include "runtime/Audio.h"
#include "runtime/Clean.h"
#include "runtime/Corpus.h"
#include "runtime/Csv.h"
#include "runtime/Error.h"
#include "runtime/Idx.h"
#include "runtime/Images.h"
#include "runtime/Text.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

namespace nnrt {

std::string resolvePath(const RunConfig &config, const std::string &path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config.sourceDir.empty())
    return path;
  return (std::filesystem::path(config.sourceDir) / p).string();
}

std::string shapeString(const std::vector<int64_t> &dims) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i)
    os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

static bool hasCrop(const std::vector<AugmentOp> &ops) {
  return std::any_of(ops.begin(), ops.end(), [](const AugmentOp &op) {
    return op.kind == AugmentOp::Kind::RandomCrop;
  });
}

/// Token ids index the rows of the model's embedding; the generated code
/// would clamp one past them, so such an id is bad input here.
static void checkTokenRange(const RunConfig &config, const Dataset &data) {
  int64_t rows = INT64_MAX;
  for (const LayerInfo &layer : config.layers)
    if (layer.kind == "embedding")
      for (const std::string &name : layer.params)
        for (const ParamInfo &p : config.params)
          if (p.name == name && !p.shape.empty())
            rows = std::min(rows, p.shape[0]);
  const DatasetStorage &s = data.store();
  if (rows == INT64_MAX || s.featureType != FeatureType::I32)
    return;
  for (size_t i = 0; i < s.i32.size(); ++i) {
    if (s.i32[i] < rows)
      continue;
    size_t sample = i / s.featureSize, position = i % s.featureSize;
    std::string where = position < s.featureNames.size()
                            ? "column '" + s.featureNames[position] + "'"
                            : "position " + std::to_string(position);
    throw Error(Dataset(data.sharedStore(), {uint32_t(sample)}).origin(0) +
                ": token id " + std::to_string(s.i32[i]) + " in " + where +
                " is out of range for the model's embedding of " +
                std::to_string(rows) + " rows (ids 0 to " +
                std::to_string(rows - 1) + ")");
  }
}

/// The samples must fit the model's input, after the crops of the training
/// augmentation (evaluation cuts the same size from the centre).
static void checkShape(const RunConfig &config, const Dataset &data) {
  const DatasetStorage &s = data.store();
  if (data.isTokens() != config.tokenInput())
    throw Error(s.source + ": samples are " +
                (data.isTokens() ? "token ids" : "features") + " of shape " +
                shapeString(s.featureShape) + " but model '" +
                config.modelName + "' takes " + config.inputType +
                shapeString(config.inputShape));
  std::vector<int64_t> shape = s.featureShape;
  size_t size = s.featureSize;
  std::vector<AugmentOp> ops = augmentOps(config);
  if (hasCrop(ops)) {
    try {
      Augmenter crops(ops, s.featureShape, 0);
      shape = crops.outputShape();
      size = crops.outputSize();
    } catch (const Error &e) {
      throw Error(s.source + ": " + e.what());
    }
  }
  if (static_cast<int64_t>(size) != config.inputSize())
    throw Error(s.source + ": samples have shape " + shapeString(shape) +
                (shape != s.featureShape ? " after random_crop" : "") +
                " but model '" + config.modelName + "' takes " +
                shapeString(config.inputShape));
  checkTokenRange(config, data);
}

std::unique_ptr<Augmenter> evalCropFor(const RunConfig &config,
                                       const Dataset &data) {
  std::vector<AugmentOp> ops = augmentOps(config);
  if (!hasCrop(ops))
    return nullptr;
  auto crops =
      std::make_unique<Augmenter>(std::move(ops), data.store().featureShape, 0);
  if (crops->outputSize() == data.featureSize())
    return nullptr;
  return crops;
}

static CsvOptions csvOptions(const RunConfig &config, const SourceConfig &src,
                             bool withTargets) {
  CsvOptions o;
  o.tokenIds = config.tokenInput();
  o.header = src.header;
  o.delimiter = src.delimiter;
  o.features = src.features;
  if (withTargets)
    o.targets = src.targets;
  return o;
}

static TextSourceOptions textOptions(const SourceConfig &src) {
  TextSourceOptions o;
  if (!src.textColumn.empty())
    o.textColumn = src.textColumn;
  if (!src.targets.empty())
    o.targetColumn = src.targets[0];
  return o;
}

static void clean(Table &table, const std::vector<DataStep> &steps,
                  RunData &out) {
  for (const DataStep &step : steps) {
    const std::string &op = step.op;
    CleanReport report;
    if (op == "drop_missing")
      report = dropMissing(table);
    else if (op == "drop_duplicates")
      report = dropDuplicates(table);
    else if (op == "fill_missing") {
      report = fillMissing(table,
                           step.mode == "median"  ? FillMethod::Median
                           : step.mode == "value" ? FillMethod::Value
                                                  : FillMethod::Mean,
                           step.value);
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
  if (config.classTargets)
    return false;
  for (const DataStep &step : config.data.preprocess)
    if (step.op == "one_hot")
      return true;
  return false;
}

/// Sources labelled by class (idx, image folders): the number of classes the
/// labels may take. A loss on values can use them only through one_hot.
static int32_t labelClasses(const RunConfig &config, const std::string &path,
                            const std::string &what) {
  if (!config.classTargets && !oneHotValues(config))
    throw Error(path + ": " + what + " are classes; this run's loss '" +
                config.loss +
                "' needs value targets (add one_hot to "
                "preprocess)");
  return config.classTargets ? config.numClasses()
                             : int32_t(config.outputSize());
}

ImageSize imageSize(const RunConfig &config) {
  const SourceConfig &train = config.data.train;
  if (config.data.present && train.kind == "images" && !train.size.empty())
    return ImageSize::fromShape(train.size, "images() size");
  return ImageSize::fromShape(config.inputShape,
                              "model '" + config.modelName + "' input");
}

/// A validation or test source takes the training source's classes: the
/// loaded training split's, else `scan` of the training source's path. The
/// training source takes its own (empty).
static std::vector<std::string> trainClasses(
    const RunConfig &config, const std::string &split,
    const DataOptions &opts, const RunData &out,
    const std::function<std::vector<std::string>(const std::string &)> &scan) {
  if (split == "train")
    return {};
  if (out.hasTrain)
    return out.train.store().classNames;
  auto trainOverride = opts.paths.find("train");
  if (trainOverride != opts.paths.end())
    return scan(trainOverride->second);
  const SourceConfig &train = config.data.train;
  return scan(resolvePath(config, train.kind == "images" ? train.dir
                                                          : train.path));
}

/// The clips of the run's audio source (validation and test sources have
/// the train source's rate and length).
static AudioOptions audioOptions(const RunConfig &config) {
  AudioOptions o;
  o.rate = config.data.train.rate;
  o.seconds = config.data.train.seconds;
  return o;
}

std::unique_ptr<AudioFeatures> makeAudioFeatures(const RunConfig &config) {
  const FeaturesConfig &fc = config.data.features;
  if (!config.data.present || !fc.present)
    return nullptr;
  FeatureOptions o;
  o.kind = fc.kind == "log_mel" ? FeatureOptions::Kind::LogMel
                                : FeatureOptions::Kind::Mfcc;
  o.rate = config.data.train.rate;
  o.coefficients = fc.coefficients;
  o.mels = fc.mels;
  o.window = fc.window;
  o.hop = fc.hop;
  return std::make_unique<AudioFeatures>(o, audioOptions(config).samples());
}

/// The splits of `data` that were loaded.
static std::vector<Dataset *> loadedSplits(RunData &data) {
  std::vector<Dataset *> sets;
  for (auto [set, has] : {std::pair{&data.train, data.hasTrain},
                          {&data.validation, data.hasValidation},
                          {&data.test, data.hasTest}})
    if (has)
      sets.push_back(set);
  return sets;
}

/// Rebases each dataset of `sets` whose storage `applies` on `convert` of
/// it, converting every storage once (a split and its train part share
/// one), and checks the result against the model's input.
static void rebaseDatasets(
    const RunConfig &config, const std::vector<Dataset *> &sets,
    const std::function<bool(const DatasetStorage &)> &applies,
    const std::function<std::shared_ptr<const DatasetStorage>(
        const DatasetStorage &)> &convert) {
  std::map<std::shared_ptr<const DatasetStorage>,
           std::shared_ptr<const DatasetStorage>>
      done;
  for (Dataset *d : sets) {
    if (!applies(d->store()))
      continue;
    auto &converted = done[d->sharedStore()];
    if (!converted)
      converted = convert(d->store());
    *d = Dataset(converted, d->sampleIndices());
    checkShape(config, *d);
  }
}

/// Rebases each dataset of `sets` holding clips on their features.
static void featurizeDatasets(const RunConfig &config,
                              const AudioFeatures &features,
                              const std::vector<Dataset *> &sets) {
  rebaseDatasets(
      config, sets, [](const DatasetStorage &s) { return s.sampleRate != 0; },
      [&](const DatasetStorage &s) { return features.computeAll(s); });
}

/// Audio runs: every loaded split becomes features; with augmentation the
/// training clips stay for the loader.
static void featurizeRunData(const RunConfig &config, RunData &out) {
  out.features = makeAudioFeatures(config);
  if (!out.features)
    return;
  if (out.hasTrain && !config.data.augment.empty()) {
    out.trainClips = out.train;
    out.hasTrainClips = true;
  }
  featurizeDatasets(config, *out.features, loadedSplits(out));
}

/// Reads one non-split source.
static Dataset loadSource(const RunConfig &config, const SourceConfig &src,
                          const std::string &split, const DataOptions &opts,
                          RunData &out) {
  const std::string &kind = src.kind;
  auto override = opts.paths.find(split);
  if (kind == "csv") {
    std::string path = override != opts.paths.end()
                           ? override->second
                           : resolvePath(config, src.path);
    Table table = readCsv(path, csvOptions(config, src, true));
    clean(table, config.data.clean, out);
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
    std::string images = resolvePath(config, src.images);
    std::string labels = resolvePath(config, src.labels);
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
                          : resolvePath(config, src.dir);
    ImageFolderOptions io;
    io.size = imageSize(config);
    io.numClasses = labelClasses(config, dir, "image folder labels");
    // A validation or test folder takes the training folder's class order.
    io.classes = trainClasses(config, split, opts, out, imageClasses);
    Dataset d = loadImageFolder(dir, io);
    checkShape(config, d);
    return d;
  }
  if (kind == "text") {
    std::string path = override != opts.paths.end()
                           ? override->second
                           : resolvePath(config, src.path);
    TextSourceOptions to = textOptions(src);
    to.numClasses = labelClasses(config, path, "text classes");
    to.classes = trainClasses(config, split, opts, out,
                              [&](const std::string &trainPath) {
                                return textClasses(
                                    trainPath, textOptions(config.data.train));
                              });
    return loadTextSource(path, to); // checked once tokenized
  }
  if (kind == "corpus") {
    std::string path = override != opts.paths.end()
                           ? override->second
                           : resolvePath(config, src.path);
    return loadCorpusTexts(path); // cut into windows once tokenized
  }
  if (kind == "audio") {
    std::string dir = override != opts.paths.end()
                          ? override->second
                          : resolvePath(config, src.path);
    AudioOptions ao = audioOptions(config);
    ao.numClasses = labelClasses(config, dir, "audio folder labels");
    ao.classes = trainClasses(config, split, opts, out, audioClasses);
    return loadAudioFolder(dir, ao); // checked once featurized
  }
  throw Error("data source '" + kind +
              "' is not supported by this runtime yet");
}

std::unique_ptr<Tokenizer> makeTokenizer(const RunConfig &config) {
  const TokenizeConfig &tk = config.data.tokenize;
  if (!tk.present)
    return nullptr;
  TokenizerOptions o;
  o.kind = tk.kind == "words" ? TokenizerOptions::Kind::Words
           : tk.kind == "bpe" ? TokenizerOptions::Kind::Bpe
                              : TokenizerOptions::Kind::Bytes;
  o.dataset = config.data.name;
  o.vocab = tk.vocab;
  o.lowercase = tk.lowercase;
  o.length = tk.length;
  return std::make_unique<Tokenizer>(o);
}

/// Rebases each dataset of `sets` holding text on token ids.
static void tokenizeDatasets(const RunConfig &config,
                             const Tokenizer &tokenizer,
                             const std::vector<Dataset *> &sets) {
  rebaseDatasets(
      config, sets,
      [](const DatasetStorage &s) { return s.featureType == FeatureType::Text; },
      [&](const DatasetStorage &s) {
        return std::shared_ptr<const DatasetStorage>(tokenizer.tokenize(s));
      });
}

/// corpus(...) runs: every loaded source becomes its stream's windows; the
/// train source's stream gives its tail to split-off validation and test
/// parts (validation last, test before it).
static void cutCorpus(const RunConfig &config, const Tokenizer &tokenizer,
                      RunData &data) {
  int64_t block = config.data.train.block;
  int32_t vocab = static_cast<int32_t>(tokenizer.options().vocab);
  auto windows = [&](const std::vector<int32_t> &stream, size_t begin,
                     size_t end, const std::string &what) {
    Dataset d(corpusWindows(stream, begin, end, block, vocab, what));
    checkShape(config, d);
    return d;
  };
  // Sources of their own (a validation corpus, --data SPLIT=PATH) first:
  // the train split's texts are replaced below.
  for (auto [set, has, fraction] :
       {std::tuple{&data.validation, data.hasValidation,
                   data.corpusValidation},
        std::tuple{&data.test, data.hasTest, data.corpusTest}})
    if (has && fraction == 0) {
      std::vector<int32_t> stream = corpusStream(tokenizer, set->store());
      *set = windows(stream, 0, stream.size(), set->store().source);
    }
  if (!data.hasTrain)
    return;
  std::vector<int32_t> stream = corpusStream(tokenizer, data.train.store());
  std::string source = data.train.store().source;
  size_t length = stream.size();
  auto tail = [&](double fraction) {
    return static_cast<size_t>(std::llround(fraction * double(length)));
  };
  size_t validation = tail(data.corpusValidation), test = tail(data.corpusTest);
  if (validation + test >= length)
    throw Error(source + ": the corpus has " + std::to_string(length) +
                " tokens, too few to split");
  size_t trainEnd = length - validation - test;
  if (data.corpusValidation > 0)
    data.validation =
        windows(stream, length - validation, length,
                source + " (validation: the last " +
                    std::to_string(validation) + " tokens)");
  if (data.corpusTest > 0)
    data.test = windows(stream, trainEnd, length - validation,
                        source + " (test: " + std::to_string(test) +
                            " tokens before validation)");
  data.train = windows(stream, 0, trainEnd, source);
}

void tokenizeRunData(const RunConfig &config, RunData &data,
                     const SafeTensorsFile *checkpoint, bool learnIfAbsent) {
  data.tokenizer = makeTokenizer(config);
  if (!data.tokenizer)
    return;
  bool saved = checkpoint && checkpoint->metadata().count("tokenize") != 0;
  if (checkpoint && (saved || !learnIfAbsent || !data.hasTrain))
    data.tokenizer->restore(*checkpoint);
  else if (data.hasTrain)
    data.tokenizer->fit(data.train);
  else
    throw Error("internal: no training split to build the vocabulary on");
  if (config.isCorpus())
    cutCorpus(config, *data.tokenizer, data);
  else
    tokenizeDatasets(config, *data.tokenizer, loadedSplits(data));
}

void tokenizeInputs(const RunConfig &config, Dataset &inputs,
                    const SafeTensorsFile &checkpoint) {
  std::unique_ptr<Tokenizer> tokenizer = makeTokenizer(config);
  if (!tokenizer)
    return;
  tokenizer->restore(checkpoint);
  tokenizeDatasets(config, *tokenizer, {&inputs});
}

/// Token ids reach the model unchanged: nnc --check rejects the steps that
/// would compute on them; this guards a configuration written otherwise.
static void checkTokenSteps(const RunConfig &config) {
  if (!config.tokenInput())
    return;
  for (const auto *steps :
       {&config.data.clean, &config.data.preprocess, &config.data.augment})
    for (const DataStep &step : *steps)
      if (step.op == "clip" || step.op == "scale" || step.op == "normalize" ||
          step.op == "standardize" || step.op == "minmax" ||
          steps == &config.data.augment)
        throw Error("data step '" + step.op +
                    "' does not apply to the token "
                    "ids of model '" +
                    config.modelName + "'");
}

std::unique_ptr<Preprocessor> makePreprocessor(const RunConfig &config) {
  checkTokenSteps(config);
  auto p = std::make_unique<Preprocessor>();
  // Audio features [T, F]: statistics per coefficient (or mel), over frames.
  if (config.data.present && config.data.features.present &&
      !config.inputShape.empty())
    p->setColumnStatistics(size_t(config.inputShape.back()));
  for (const DataStep &step : config.data.preprocess) {
    const std::string &op = step.op;
    if (op == "scale")
      p->addScale(step.factor);
    else if (op == "normalize")
      p->addNormalize(step.mean, step.std);
    else if (op == "standardize")
      p->addStandardize();
    else if (op == "minmax")
      p->addMinMax();
    else if (op == "one_hot")
      p->setOneHot(!config.classTargets); // see oneHotValues
  }
  for (const DataStep &step : config.data.clean)
    if (step.op == "clip")
      p->addClip(step.lo, step.hi);
  return p;
}

std::vector<AugmentOp> augmentOps(const RunConfig &config) {
  std::vector<AugmentOp> ops;
  for (const DataStep &step : config.data.augment) {
    const std::string &name = step.op;
    AugmentOp op;
    if (name == "random_crop") {
      op.kind = AugmentOp::Kind::RandomCrop;
      op.size = step.size;
      op.padding = step.padding;
    } else if (name == "flip") {
      op.kind = AugmentOp::Kind::Flip;
      op.horizontal = step.horizontal;
      op.p = step.p;
    } else if (name == "rotate") {
      op.kind = AugmentOp::Kind::Rotate;
      op.degrees = step.degrees;
    } else if (name == "noise") {
      op.kind = AugmentOp::Kind::Noise;
      op.stddev = step.stddev;
    } else if (name == "time_shift") {
      op.kind = AugmentOp::Kind::TimeShift;
      op.fraction = step.fraction;
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
  if (!config.data.present)
    throw Error("this program was compiled without a dataset");
  const SourceConfig &train = config.data.train;
  const SourceConfig &validation = config.data.validation;
  const SourceConfig &test = config.data.test;

  bool needFull = opts.needTrain ||
                  (opts.needValidation && validation.isSplit()) ||
                  (opts.needTest && test.isSplit());
  Dataset full;
  if (needFull)
    full = loadSource(config, train, "train", opts, out);
  out.train = full;
  out.hasTrain = needFull;
  // Splits take their share of the train source: validation first, then test.
  for (auto [src, name, target, has] :
       {std::tuple{&validation, "validation", &out.validation,
                   &out.hasValidation},
        std::tuple{&test, "test", &out.test, &out.hasTest}}) {
    if (!src->present())
      continue;
    bool needed =
        std::string(name) == "validation" ? opts.needValidation : opts.needTest;
    if (src->isSplit() && needed && opts.paths.count(name)) {
      // --data replaces a split-off part by a file in the train source's
      // format; the train split then keeps all its rows.
      *target = loadSource(config, train, name, opts, out);
      *has = true;
    } else if (src->isSplit() && config.isCorpus()) {
      // The tail of the token stream, cut once tokenized.
      if (!needFull)
        continue;
      (std::string(name) == "validation" ? out.corpusValidation
                                         : out.corpusTest) = src->fraction;
      *has = true;
    } else if (src->isSplit()) {
      if (!needFull)
        continue;
      auto [rest, part] = out.train.split(src->fraction, src->seed);
      out.train = rest;
      *target = part;
      *has = true;
    } else if (needed) {
      *target = loadSource(config, *src, name, opts, out);
      *has = true;
    }
  }
  featurizeRunData(config, out);
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
  if (config.data.tokenize.present) {
    const SourceConfig &train = config.data.train;
    return loadTextInputs(path,
                          train.textColumn.empty() ? "text" : train.textColumn);
  }
  if (std::unique_ptr<AudioFeatures> features = makeAudioFeatures(config)) {
    Dataset d = loadAudioInputs(path, audioOptions(config));
    featurizeDatasets(config, *features, {&d});
    return d;
  }
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
    const SourceConfig &train = config.data.train;
    if (train.kind == "csv") {
      o = csvOptions(config, train, false);
      // Without explicit features, every column that is not a target is one.
      if (o.features.empty()) {
        Table header = readCsv(path, o);
        const std::vector<std::string> &targets = train.targets;
        for (const std::string &c : header.columns)
          if (std::find(targets.begin(), targets.end(), c) == targets.end())
            o.features.push_back(c);
      }
    }
    o.tokenIds = config.tokenInput();
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
