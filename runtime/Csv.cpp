//===- Csv.cpp - numeric CSV tables and their conversion to datasets ------===//
#include "runtime/Csv.h"

#include "runtime/Error.h"
#include "runtime/HugePages.h"
#include "runtime/Idx.h"
#include "runtime/Utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace nnrt {

void Table::keepRows(const std::vector<bool> &keep) {
  size_t width = columns.size();
  size_t out = 0;
  for (size_t r = 0; r < numRows; ++r) {
    if (!keep[r])
      continue;
    if (out != r) {
      std::copy_n(values.begin() + r * width, width,
                  values.begin() + out * width);
      if (!ids.empty())
        std::copy_n(ids.begin() + r * numFeatures, numFeatures,
                    ids.begin() + out * numFeatures);
      lines[out] = lines[r];
    }
    ++out;
  }
  numRows = out;
  values.resize(out * width);
  if (!ids.empty())
    ids.resize(out * numFeatures);
  lines.resize(out);
}

namespace {

std::string trim(const std::string &text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

bool isMissingToken(const std::string &text) {
  static const char *const tokens[] = {"",    "nan",  "NaN",  "NAN", "NA",
                                       "N/A", "null", "NULL", "?"};
  return std::find(std::begin(tokens), std::end(tokens), text) !=
         std::end(tokens);
}

enum class ParseResult { Ok, Missing, NotANumber, NotFinite, OutOfRange };

ParseResult parseNumber(const std::string &raw, float &value) {
  std::string text = trim(raw);
  if (isMissingToken(text)) {
    value = std::numeric_limits<float>::quiet_NaN();
    return ParseResult::Missing;
  }
  const char *begin = text.data();
  const char *end = text.data() + text.size();
  if (begin != end && *begin == '+')
    ++begin;
  double parsed = 0;
  auto [ptr, ec] = std::from_chars(begin, end, parsed);
  if (ec == std::errc::result_out_of_range)
    return ParseResult::OutOfRange;
  if (ec != std::errc() || ptr != end || begin == end)
    return ParseResult::NotANumber;
  if (!std::isfinite(parsed))
    return ParseResult::NotFinite;
  if (std::fabs(parsed) > double(std::numeric_limits<float>::max()))
    return ParseResult::OutOfRange;
  value = static_cast<float>(parsed);
  return ParseResult::Ok;
}

/// A token id: a whole number in [0, 2^31) ("7", "+7", "7.0").
bool parseTokenId(const std::string &raw, int32_t &id) {
  std::string text = trim(raw);
  const char *begin = text.data();
  const char *end = text.data() + text.size();
  if (begin != end && *begin == '+')
    ++begin;
  int64_t whole = -1;
  auto [ptr, ec] = std::from_chars(begin, end, whole);
  if (ec != std::errc() || ptr != end || begin == end) {
    double parsed = 0;
    auto [dptr, dec] = std::from_chars(begin, end, parsed);
    if (dec != std::errc() || dptr != end || begin == end ||
        parsed != std::floor(parsed) || !(parsed >= 0 && parsed < 2147483648.0))
      return false;
    whole = static_cast<int64_t>(parsed);
  }
  if (whole < 0 || whole > std::numeric_limits<int32_t>::max())
    return false;
  id = static_cast<int32_t>(whole);
  return true;
}

} // namespace

std::vector<CsvRecord> splitCsvRecords(const std::string &text, char delimiter,
                                       const std::string &name) {
  std::vector<CsvRecord> records;
  size_t n = text.size(), pos = 0, line = 1;
  while (pos < n) {
    CsvRecord record;
    record.line = line;
    bool quoted = false; // any field of the record
    std::string field;
    while (true) {
      field.clear();
      if (pos < n && text[pos] == '"') {
        quoted = true;
        size_t start = line;
        ++pos;
        while (true) {
          if (pos >= n)
            throw Error(name + ":" + std::to_string(start) +
                        ": unterminated quoted field");
          char c = text[pos];
          if (c == '"' && pos + 1 < n && text[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          if (c == '"')
            break;
          line += c == '\n';
          field += c;
        }
      }
      // Unquoted text, or junk after a closing quote (kept, then rejected
      // by whoever parses the field).
      while (pos < n && text[pos] != delimiter && text[pos] != '\n')
        field += text[pos++];
      record.fields.push_back(field);
      if (pos < n && text[pos] == delimiter) {
        ++pos;
        continue;
      }
      break;
    }
    if (pos < n) { // the newline
      ++pos;
      ++line;
    }
    std::string &last = record.fields.back();
    if (!last.empty() && last.back() == '\r')
      last.pop_back();
    bool blank = !quoted && record.fields.size() == 1 &&
                 last.find_first_not_of(" \t") == std::string::npos;
    if (!blank)
      records.push_back(std::move(record));
  }
  return records;
}

Table readCsv(const std::string &path, const CsvOptions &options) {
  std::string name = baseName(path);
  std::vector<uint8_t> bytes = readMaybeGzip(path);
  std::string text(bytes.begin(), bytes.end());
  dropByteOrderMark(text);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error(name + ": file is empty");

  std::vector<CsvRecord> records =
      splitCsvRecords(text, options.delimiter, name);
  if (records.empty())
    throw Error(name + ": file is empty");
  std::vector<std::string> names;
  size_t firstData = 0;
  const std::vector<std::string> &first = records[0].fields;
  size_t width = first.size();
  if (options.header) {
    for (const std::string &field : first)
      names.push_back(trim(field));
    for (size_t c = 0; c < names.size(); ++c)
      for (size_t d = 0; d < c; ++d)
        if (names[c] == names[d])
          throw Error(name + ":" + std::to_string(records[0].line) +
                      ": column name '" + names[c] + "' appears twice");
    firstData = 1;
  } else {
    for (size_t c = 0; c < width; ++c)
      names.push_back(std::to_string(c));
  }
  if (records.size() <= firstData)
    throw Error(name + ": no data rows" +
                (options.header ? std::string(" after the header") : ""));

  auto findColumn = [&](const std::string &column, const char *role) {
    auto it = std::find(names.begin(), names.end(), column);
    if (it == names.end())
      throw Error(name + ": unknown " + role + " column '" + column + "'" +
                  didYouMean(column, names) +
                  (options.header ? ""
                                  : " (without a header, columns are "
                                    "named 0, 1, ...)"));
    return size_t(it - names.begin());
  };
  std::vector<size_t> targetColumns, featureColumns;
  for (const std::string &target : options.targets)
    targetColumns.push_back(findColumn(target, "target"));
  if (options.features.empty()) {
    for (size_t c = 0; c < width; ++c)
      if (std::find(targetColumns.begin(), targetColumns.end(), c) ==
          targetColumns.end())
        featureColumns.push_back(c);
  } else {
    for (const std::string &feature : options.features) {
      size_t c = findColumn(feature, "feature");
      if (std::find(targetColumns.begin(), targetColumns.end(), c) !=
          targetColumns.end())
        throw Error(name + ": column '" + feature +
                    "' is both a feature and a target");
      featureColumns.push_back(c);
    }
  }
  if (featureColumns.empty())
    throw Error(name + ": no feature columns (the file has only the target)");

  Table table;
  table.source = name;
  std::vector<size_t> selected = featureColumns;
  selected.insert(selected.end(), targetColumns.begin(), targetColumns.end());
  for (size_t c : selected)
    table.columns.push_back(names[c]);
  table.numFeatures = featureColumns.size();
  table.values.reserve((records.size() - firstData) * selected.size());

  for (size_t l = firstData; l < records.size(); ++l) {
    size_t number = records[l].line;
    const std::vector<std::string> &fields = records[l].fields;
    std::string where = name + ":" + std::to_string(number) + ": ";
    if (fields.size() != width)
      throw Error(where + "expected " + std::to_string(width) +
                  " fields, got " + std::to_string(fields.size()));
    for (size_t k = 0; k < selected.size(); ++k) {
      size_t c = selected[k];
      float value = 0;
      std::string field =
          "field " + std::to_string(c + 1) + " ('" + names[c] + "')";
      if (options.tokenIds && k < featureColumns.size()) {
        int32_t id = 0;
        if (!parseTokenId(fields[c], id))
          throw Error(where + field +
                      " is not a token id (a whole number from 0 to "
                      "2147483647): '" +
                      trim(fields[c]) + "'");
        table.ids.push_back(id);
        table.values.push_back(static_cast<float>(id));
        continue;
      }
      ParseResult result = parseNumber(fields[c], value);
      switch (result) {
      case ParseResult::Ok:
      case ParseResult::Missing:
        break;
      case ParseResult::NotANumber:
        throw Error(where + field + " is not a number: '" + trim(fields[c]) +
                    "'");
      case ParseResult::NotFinite:
        throw Error(where + field + " is not a finite number: '" +
                    trim(fields[c]) + "'");
      case ParseResult::OutOfRange:
        throw Error(where + field + " is out of float range: '" +
                    trim(fields[c]) + "'");
      }
      table.values.push_back(value);
    }
    table.lines.push_back(number);
  }
  table.numRows = table.lines.size();
  return table;
}

Dataset makeTabularDataset(const Table &table, const TargetSpec &spec) {
  const std::string &name = table.source;
  if (table.numRows == 0)
    throw Error(name + ": no rows left after cleaning");
  size_t width = table.numColumns();
  size_t numTargets = width - table.numFeatures;
  if (spec.kind == TargetKind::None && numTargets != 0)
    throw Error(name + ": unexpected target columns");
  if (spec.kind != TargetKind::None && numTargets == 0)
    throw Error(name + ": no target column given");
  if (spec.kind == TargetKind::ClassIndex && numTargets != 1)
    throw Error(name + ": class targets need exactly one column, got " +
                std::to_string(numTargets));
  if (table.numRows > UINT32_MAX / 2)
    throw Error(name + ": too many rows");

  auto storage = std::make_shared<DatasetStorage>();
  storage->source = name;
  storage->featureShape = {int64_t(table.numFeatures)};
  storage->featureSize = table.numFeatures;
  bool tokens = !table.ids.empty();
  storage->featureType = tokens ? FeatureType::I32 : FeatureType::F32;
  storage->lines = table.lines;
  storage->featureNames.assign(table.columns.begin(),
                               table.columns.begin() + table.numFeatures);
  storage->targetNames.assign(table.columns.begin() + table.numFeatures,
                              table.columns.end());
  storage->numSamples = table.numRows;
  storage->targetKind = spec.kind;
  if (tokens)
    storage->i32 = table.ids;
  else
    reserveHugePages(storage->f32, table.numRows * table.numFeatures);
  if (spec.kind == TargetKind::Values) {
    storage->targetWidth = numTargets;
    storage->targets.reserve(table.numRows * numTargets);
  }
  int32_t maxLabel = 0;
  for (size_t r = 0; r < table.numRows; ++r) {
    const float *row = table.row(r);
    std::string where = name + ":" + std::to_string(table.lines[r]) + ": ";
    for (size_t c = 0; c < width; ++c)
      if (std::isnan(row[c]))
        throw Error(where + "column '" + table.columns[c] +
                    "' is missing; add drop_missing or fill_missing to the "
                    "dataset's clean block");
    if (!tokens)
      storage->f32.insert(storage->f32.end(), row, row + table.numFeatures);
    if (spec.kind == TargetKind::Values) {
      storage->targets.insert(storage->targets.end(), row + table.numFeatures,
                              row + width);
    } else if (spec.kind == TargetKind::ClassIndex) {
      float value = row[table.numFeatures];
      if (value != std::floor(value) || value < 0 || value > 1e6f)
        throw Error(where + "class label '" + table.columns.back() +
                    "' must be a non-negative integer, got " +
                    std::to_string(value));
      int32_t label = int32_t(value);
      if (spec.numClasses > 0 && label >= spec.numClasses)
        throw Error(where + "class label " + std::to_string(label) +
                    " is out of range [0, " + std::to_string(spec.numClasses) +
                    ")");
      storage->labels.push_back(label);
      maxLabel = std::max(maxLabel, label);
    }
  }
  if (spec.kind == TargetKind::ClassIndex)
    storage->numClasses = spec.numClasses > 0 ? spec.numClasses : maxLabel + 1;
  return Dataset(std::move(storage));
}

} // namespace nnrt
