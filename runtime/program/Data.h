//===- Data.h - Datasets and preprocessing from the run configuration -*- C++ -*-===//
#ifndef NNRT_PROGRAM_DATA_H
#define NNRT_PROGRAM_DATA_H

#include "runtime/AudioFeatures.h"
#include "runtime/Augment.h"
#include "runtime/Dataset.h"
#include "runtime/Images.h"
#include "runtime/Preprocess.h"
#include "runtime/SafeTensors.h"
#include "runtime/Tokenizer.h"
#include "runtime/program/Config.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nnrt {

/// The data of one run: splits, and the preprocessing fitted on train.
struct RunData {
  Dataset train, validation, test;
  bool hasTrain = false, hasValidation = false, hasTest = false;
  std::unique_ptr<Preprocessor> preprocessor;
  /// Text runs: set by tokenizeRunData (fitted or restored); else null.
  std::unique_ptr<Tokenizer> tokenizer;
  /// Audio runs: the features of `features { }`; every loaded split holds
  /// them (computed once at load). With augmentation the training split's
  /// clips stay too, in `trainClips` (the same samples as `train`), for the
  /// loader to augment and featurize batch by batch.
  std::unique_ptr<AudioFeatures> features;
  Dataset trainClips;
  bool hasTrainClips = false;
  /// What cleaning did, one line per step ("drop_missing: removed 3 rows").
  std::vector<std::string> cleanReports;
  /// corpus(...) runs: the tail of the train source's token stream that
  /// split(train, f) takes for validation and test (0: none). The splits
  /// hold their windows once tokenizeRunData has run.
  double corpusValidation = 0, corpusTest = 0;
  /// CSV feature column names (for predict), empty for images.
  std::vector<std::string> featureNames;
};

struct DataOptions {
  /// `--data SPLIT=PATH`: replaces a source's path (idx: "IMAGES,LABELS").
  std::map<std::string, std::string> paths;
  /// Which splits are needed; others are not read.
  bool needTrain = true, needValidation = true, needTest = false;
};

/// Loads the sources, cleans, splits, and builds the preprocessor (not yet
/// fitted: fit on train, or restore from a checkpoint). Text sources stay
/// text until tokenizeRunData.
RunData loadRunData(const RunConfig &config, const DataOptions &options);

/// The run's tokenizer (neither fitted nor restored), or null when the
/// dataset has no `tokenize { }`.
std::unique_ptr<Tokenizer> makeTokenizer(const RunConfig &config);

/// Text runs: the tokenizer learns the training split's vocabulary, or is
/// restored from `checkpoint` when one is given; then every loaded split
/// becomes token ids (each storage tokenized once, its samples in parallel)
/// and is checked against the model's input. Nothing for other runs. Call
/// before fitting or restoring the preprocessor. With `learnIfAbsent`
/// (`train --weights`: parameters possibly from PyTorch), a checkpoint
/// without a vocabulary lets the training split build one.
void tokenizeRunData(const RunConfig &config, RunData &data,
                     const SafeTensorsFile *checkpoint,
                     bool learnIfAbsent = false);

/// predict: text inputs (loadPredictInput) as the token ids of the
/// checkpoint's tokenizer; other inputs are left alone.
void tokenizeInputs(const RunConfig &config, Dataset &inputs,
                    const SafeTensorsFile &checkpoint);

/// The features of an audio run (`features { }`), or null for other runs.
std::unique_ptr<AudioFeatures> makeAudioFeatures(const RunConfig &config);

/// A new preprocessor with the configured steps (unfitted).
std::unique_ptr<Preprocessor> makePreprocessor(const RunConfig &config);

/// The configured `augment` steps (data.augment), in order; empty if none.
std::vector<AugmentOp> augmentOps(const RunConfig &config);
/// Evaluation and prediction when the training augmentation crops samples to
/// another size: an Augmenter whose centerCrop gives the model's input shape
/// (BatchLoader::setEvalCrop); null when no crop changes the size.
std::unique_ptr<Augmenter> evalCropFor(const RunConfig &config,
                                       const Dataset &data);

/// Features to predict from: PNG/JPEG images (one file, a folder searched
/// recursively, or a .txt/.lst list of paths; the dataset records each
/// sample's path), a CSV (the training features by name, or all columns) or
/// an IDX image file. A text run reads texts instead: every file of a
/// folder, the text column of a CSV, or one file (see Text.h); an audio run
/// sound files (one, or every one under a folder), as their features.

Dataset loadPredictInput(const RunConfig &config, const std::string &path);

/// The [C, H, W] images are converted to: the train source's `size`, else the
/// model's input shape.
ImageSize imageSize(const RunConfig &config);

/// "[1, 28, 28]".
std::string shapeString(const std::vector<int64_t> &dims);

/// Relative paths resolve against the .nn file's folder.
std::string resolvePath(const RunConfig &config, const std::string &path);

} // namespace nnrt

#endif // NNRT_PROGRAM_DATA_H
