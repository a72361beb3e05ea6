//===- Text.cpp - text(...) sources: UTF-8 samples with class names -------===//
#include "runtime/Text.h"

#include "runtime/ClassFolders.h"
#include "runtime/Csv.h"
#include "runtime/Error.h"
#include "runtime/Idx.h"
#include "runtime/Utf8.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

namespace fs = std::filesystem;

namespace nnrt {

namespace {

/// Every file is a sample but hidden ones (".DS_Store", editors' swap files).
bool isTextSample(const std::string &path) {
  std::string name = fs::path(path).filename().string();
  return !name.empty() && name[0] != '.';
}

const SampleFiles kTextFiles = {"text()", "one UTF-8 text file per sample",
                                "no files", isTextSample};

/// Reads `paths` in parallel into storage.texts; the first bad file in
/// path order is reported.
void readAll(const std::vector<std::string> &paths, DatasetStorage &storage) {
  storage.featureType = FeatureType::Text;
  storage.texts.assign(paths.size(), std::string());
  storage.numSamples = paths.size();
  loadInParallel(paths.size(),
                 [&](size_t i) { storage.texts[i] = readTextFile(paths[i]); });
}

std::string trimmed(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

/// A CSV of texts, checked: UTF-8, the columns present, no empty field.
struct TextTable {
  std::vector<std::string> texts, targets;
  std::vector<size_t> lines;
};

TextTable readTextTable(const std::string &path,
                        const TextSourceOptions &options, bool withTexts) {
  std::string name = baseName(path);
  std::vector<uint8_t> bytes = readMaybeGzip(path);
  std::string text(bytes.begin(), bytes.end());
  size_t bad = invalidUtf8Offset(text);
  if (bad != std::string::npos)
    throw Error(
        name + ": " + describeInvalidUtf8(text, bad) + " (line " +
        std::to_string(1 + std::count(text.begin(), text.begin() + bad, '\n')) +
        "); text must be UTF-8");
  dropByteOrderMark(text);
  std::vector<CsvRecord> records = splitCsvRecords(text, ',', name);
  if (records.empty())
    throw Error(name + ": file is empty");
  std::vector<std::string> names;
  for (const std::string &field : records[0].fields)
    names.push_back(trimmed(field));
  auto column = [&](const std::string &wanted, const char *role) {
    auto it = std::find(names.begin(), names.end(), wanted);
    if (it == names.end())
      throw Error(name + ": no " + role + " column '" + wanted +
                  "' in the header" + didYouMean(wanted, names));
    return size_t(it - names.begin());
  };
  size_t textColumn = withTexts ? column(options.textColumn, "text") : 0;
  bool targets = !options.targetColumn.empty();
  size_t targetColumn = targets ? column(options.targetColumn, "target") : 0;
  if (records.size() < 2)
    throw Error(name + ": no rows after the header");
  TextTable table;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord &record = records[r];
    std::string where = name + ":" + std::to_string(record.line) + ": ";
    if (record.fields.size() != names.size())
      throw Error(where + "expected " + std::to_string(names.size()) +
                  " fields, got " + std::to_string(record.fields.size()));
    if (withTexts) {
      if (record.fields[textColumn].empty())
        throw Error(where + "empty text in column '" + options.textColumn +
                    "'");
      table.texts.push_back(record.fields[textColumn]);
    }
    if (targets) {
      std::string label = trimmed(record.fields[targetColumn]);
      if (label.empty())
        throw Error(where + "empty class name in column '" +
                    options.targetColumn + "'");
      table.targets.push_back(std::move(label));
    }
    table.lines.push_back(record.line);
  }
  if (table.lines.size() > UINT32_MAX / 2)
    throw Error(name + ": too many rows");
  return table;
}

std::vector<std::string> sortedDistinct(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Dataset loadTextCsv(const std::string &path, const TextSourceOptions &options) {
  TextTable table = readTextTable(path, options, true);
  std::vector<std::string> classes =
      options.classes.empty() ? sortedDistinct(table.targets) : options.classes;
  checkClassCount(path, classes, options.numClasses);
  std::map<std::string, int32_t> index;
  for (size_t c = 0; c < classes.size(); ++c)
    index.emplace(classes[c], int32_t(c));
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = path;
  storage->featureType = FeatureType::Text;
  storage->numSamples = table.texts.size();
  storage->texts = std::move(table.texts);
  if (!options.targetColumn.empty()) {
    storage->targetKind = TargetKind::ClassIndex;
    for (size_t r = 0; r < table.targets.size(); ++r) {
      const std::string &label = table.targets[r];
      auto it = index.find(label);
      if (it == index.end())
        throw Error(baseName(path) + ":" + std::to_string(table.lines[r]) +
                    ": class '" + label +
                    "' is not one of the training data's classes" +
                    didYouMean(label, classes));
      storage->labels.push_back(it->second);
    }
    storage->numClasses =
        options.numClasses > 0 ? options.numClasses : int32_t(classes.size());
    storage->classNames = std::move(classes);
  }
  storage->lines = std::move(table.lines);
  return Dataset(std::move(storage));
}

Dataset loadTextFolder(const std::string &dir,
                       const TextSourceOptions &options) {
  ClassFolderScan scan =
      scanClassFolders(dir, options.classes, options.numClasses, kTextFiles);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = dir;
  readAll(scan.paths, *storage);
  setClassTargets(*storage, std::move(scan), options.numClasses);
  return Dataset(std::move(storage));
}

} // namespace

std::string readTextFile(const std::string &path) {
  // A sample is one review, article or book: a bigger file is a mistake (a
  // data dump, a disk image) that would otherwise be read whole into memory.
  std::error_code error;
  uintmax_t size = std::filesystem::file_size(path, error);
  if (!error && size > kMaxTextFileBytes)
    throw Error(path + ": " + std::to_string(size >> 20) +
                " MiB; a text sample may have at most " +
                std::to_string(kMaxTextFileBytes >> 20) +
                " MiB (split it into samples, or keep its start)");
  std::vector<uint8_t> bytes = readMaybeGzip(path, kMaxTextFileBytes);
  std::string text(bytes.begin(), bytes.end());
  if (text.empty())
    throw Error(path + ": empty text file; every sample needs some text");
  size_t bad = invalidUtf8Offset(text);
  if (bad != std::string::npos)
    throw Error(path + ": " + describeInvalidUtf8(text, bad) +
                "; text files must be UTF-8");
  dropByteOrderMark(text);
  if (text.empty())
    throw Error(path + ": empty text file; every sample needs some text");
  return text;
}

bool isTextCsv(const std::string &path) {
  auto endsWith = [&](const std::string &suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) ==
               0;
  };
  return endsWith(".csv") || endsWith(".csv.gz") || endsWith(".CSV");
}

Dataset loadTextSource(const std::string &path,
                       const TextSourceOptions &options) {
  std::error_code ec;
  if (!fs::is_directory(path, ec) && isTextCsv(path))
    return loadTextCsv(path, options);
  return loadTextFolder(path, options);
}

std::vector<std::string> textClasses(const std::string &path,
                                     const TextSourceOptions &options) {
  std::error_code ec;
  if (!fs::is_directory(path, ec) && isTextCsv(path))
    return sortedDistinct(readTextTable(path, options, false).targets);
  return classSubfolders(path, kTextFiles);
}

Dataset loadTextInputs(const std::string &path, const std::string &textColumn) {
  std::error_code ec;
  bool folder = fs::is_directory(path, ec);
  if (!folder && isTextCsv(path)) {
    TextSourceOptions options;
    options.textColumn = textColumn;
    options.targetColumn.clear();
    return loadTextCsv(path, options);
  }
  std::vector<std::string> paths = listInputFiles(path, kTextFiles);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = path;
  readAll(paths, *storage);
  storage->paths = std::move(paths);
  return Dataset(std::move(storage));
}

} // namespace nnrt
