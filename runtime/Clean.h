//===- Clean.h - cleaning steps for tabular data -*- C++ -*----------------===//
//
// The `clean { }` block of a dataset. drop_missing, drop_duplicates and
// fill_missing edit the whole table (all rows, before the train/validation
// split, in the order written). clip(lo, hi) acts after preprocessing and
// lives in the Preprocessor (see Preprocess.h); countClipped reports it.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_CLEAN_H
#define NNRT_CLEAN_H

#include "runtime/Csv.h"

#include <string>

namespace nnrt {

/// What one cleaning step did, for the driver to print.
struct CleanReport {
  std::string step; ///< "drop_missing", "fill_missing(mean)", ...
  size_t rowsBefore = 0;
  size_t rowsAfter = 0;
  size_t rowsRemoved = 0;   ///< drop_* steps
  size_t rowsChanged = 0;   ///< rows with at least one value changed
  size_t valuesChanged = 0; ///< individual fields changed
  /// "drop_missing: removed 3 of 570 rows" style one-liner.
  std::string summary() const;
};

/// Removes rows holding a missing (NaN) field in any selected column.
CleanReport dropMissing(Table &table);

/// Removes rows that exactly repeat an earlier row (all selected columns,
/// bitwise; missing fields compare equal, as in pandas). Keeps the first.
CleanReport dropDuplicates(Table &table);

enum class FillMethod { Mean, Median, Value };

/// Replaces missing fields in feature columns by the column's mean or median
/// over its present values in this table, or by `value`. Missing targets are
/// not invented: those rows are dropped and counted as removed. A feature
/// column with no present values is an error.
CleanReport fillMissing(Table &table, FillMethod method, float value = 0);

} // namespace nnrt

#endif // NNRT_CLEAN_H
