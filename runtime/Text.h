//===- Text.h - text(...) sources: UTF-8 samples, class names -*- C++ -*-===//
//
// `text("dir")` reads one folder per class (ClassFolders.h: classes are the
// sorted folder names), every file under a class folder one sample;
// `text("f.csv", text = "column", target = "column")` reads one sample per
// row, the classes being the sorted distinct names of the target column.
// Samples are kept as UTF-8 text (FeatureType::Text) until a Tokenizer turns
// them into token ids. Files are read on oneTBB threads.
//
// Bad input is an nnrt::Error naming the file: an empty text file, a class
// folder without files, bytes that are not UTF-8 (with the byte offset), a
// missing CSV column, an empty text or class field (with the line), a text
// file over kMaxTextFileBytes.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_TEXT_H
#define NNRT_TEXT_H

#include "runtime/Dataset.h"

#include <string>
#include <vector>

namespace nnrt {

/// The largest text file one sample may be (64 MiB): larger is an error.
constexpr size_t kMaxTextFileBytes = size_t(64) << 20;

struct TextSourceOptions {
  std::string textColumn = "text";    ///< CSV: the samples
  std::string targetColumn = "label"; ///< CSV: class names; "" for none
  /// The classes the labels index, as ImageFolderOptions::classes: empty
  /// takes the source's own; a validation or test source gets the training
  /// source's, and an unknown class is an error.
  std::vector<std::string> classes;
  /// The model's number of classes; more classes is an error. 0: no check.
  int32_t numClasses = 0;
};

/// A text file's content: a leading byte order mark dropped, checked to be
/// non-empty UTF-8.
std::string readTextFile(const std::string &path);

/// True for a path read as a CSV of texts (ends in .csv or .csv.gz).
bool isTextCsv(const std::string &path);

/// text(path): a folder of class folders, or a CSV file (isTextCsv).
Dataset loadTextSource(const std::string &path,
                       const TextSourceOptions &options);

/// The classes of a training source, without reading its samples' text
/// when it is a folder.
std::vector<std::string> textClasses(const std::string &path,
                                     const TextSourceOptions &options);

/// Texts to classify (predict): every file under a folder (recursively,
/// sorted by path), the `textColumn` of a CSV, or one file. Samples of
/// files record their path.
Dataset loadTextInputs(const std::string &path, const std::string &textColumn);

} // namespace nnrt

#endif // NNRT_TEXT_H
