//===- Clean.cpp - cleaning steps for tabular data ------------------------===//
#include "runtime/Clean.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace nnrt {

std::string CleanReport::summary() const {
  std::string text = step + ": ";
  if (rowsRemoved || rowsChanged == 0)
    text += "removed " + std::to_string(rowsRemoved) + " of " +
            std::to_string(rowsBefore) + " rows";
  if (rowsChanged) {
    if (rowsRemoved)
      text += ", ";
    text += "changed " + std::to_string(valuesChanged) + " values in " +
            std::to_string(rowsChanged) + " rows";
  }
  return text;
}

CleanReport dropMissing(Table &table) {
  CleanReport report;
  report.step = "drop_missing";
  report.rowsBefore = table.numRows;
  std::vector<bool> keep(table.numRows, true);
  for (size_t r = 0; r < table.numRows; ++r) {
    const float *row = table.row(r);
    for (size_t c = 0; c < table.numColumns(); ++c)
      if (std::isnan(row[c]))
        keep[r] = false;
  }
  table.keepRows(keep);
  report.rowsAfter = table.numRows;
  report.rowsRemoved = report.rowsBefore - report.rowsAfter;
  return report;
}

namespace {
/// A row's bit pattern, with every NaN made the same and -0 made +0 so that
/// equal-looking rows compare equal.
std::string rowKey(const float *row, size_t width) {
  std::string key(width * sizeof(float), '\0');
  for (size_t c = 0; c < width; ++c) {
    float value = row[c];
    if (std::isnan(value))
      value = std::numeric_limits<float>::quiet_NaN();
    else if (value == 0)
      value = 0;
    std::memcpy(&key[c * sizeof(float)], &value, sizeof(float));
  }
  return key;
}
} // namespace

CleanReport dropDuplicates(Table &table) {
  CleanReport report;
  report.step = "drop_duplicates";
  report.rowsBefore = table.numRows;
  std::unordered_map<std::string, size_t> seen;
  seen.reserve(table.numRows);
  std::vector<bool> keep(table.numRows, true);
  for (size_t r = 0; r < table.numRows; ++r) {
    std::string key = rowKey(table.row(r), table.numColumns());
    // Token ids past 2^24 differ where their float copies do not.
    if (!table.ids.empty())
      key.append(reinterpret_cast<const char *>(table.ids.data() +
                                                r * table.numFeatures),
                 table.numFeatures * sizeof(int32_t));
    keep[r] = seen.emplace(std::move(key), r).second;
  }
  table.keepRows(keep);
  report.rowsAfter = table.numRows;
  report.rowsRemoved = report.rowsBefore - report.rowsAfter;
  return report;
}

CleanReport fillMissing(Table &table, FillMethod method, float value) {
  CleanReport report;
  report.step = method == FillMethod::Mean     ? "fill_missing(mean)"
                : method == FillMethod::Median ? "fill_missing(median)"
                                               : "fill_missing(value)";
  report.rowsBefore = table.numRows;
  size_t width = table.numColumns();

  std::vector<float> fill(table.numFeatures, value);
  if (method != FillMethod::Value) {
    std::vector<float> present;
    for (size_t c = 0; c < table.numFeatures; ++c) {
      present.clear();
      for (size_t r = 0; r < table.numRows; ++r)
        if (!std::isnan(table.row(r)[c]))
          present.push_back(table.row(r)[c]);
      if (present.size() == table.numRows)
        continue; // nothing to fill in this column
      if (present.empty())
        throw Error(table.source + ": column '" + table.columns[c] +
                    "' has no values to compute a fill from");
      if (method == FillMethod::Mean) {
        double sum = 0;
        for (float x : present)
          sum += x;
        fill[c] = float(sum / double(present.size()));
      } else {
        // The median as numpy/pandas define it: the mean of the two middle
        // values when the count is even.
        size_t mid = present.size() / 2;
        std::nth_element(present.begin(), present.begin() + mid, present.end());
        double upper = present[mid];
        if (present.size() % 2 == 0) {
          double lower =
              *std::max_element(present.begin(), present.begin() + mid);
          fill[c] = float((lower + upper) / 2);
        } else {
          fill[c] = float(upper);
        }
      }
    }
  }

  std::vector<bool> keep(table.numRows, true);
  for (size_t r = 0; r < table.numRows; ++r) {
    float *row = table.row(r);
    for (size_t c = table.numFeatures; c < width; ++c)
      if (std::isnan(row[c]))
        keep[r] = false;
    if (!keep[r])
      continue;
    size_t changed = 0;
    for (size_t c = 0; c < table.numFeatures; ++c)
      if (std::isnan(row[c])) {
        row[c] = fill[c];
        ++changed;
      }
    report.valuesChanged += changed;
    report.rowsChanged += changed ? 1 : 0;
  }
  table.keepRows(keep);
  report.rowsAfter = table.numRows;
  report.rowsRemoved = report.rowsBefore - report.rowsAfter;
  return report;
}

} // namespace nnrt
