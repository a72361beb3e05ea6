//===- Csv.h - numeric CSV tables and their conversion to datasets -*- C++
//-*-===//
#ifndef NNRT_CSV_H
#define NNRT_CSV_H

#include "runtime/Dataset.h"

#include <string>
#include <vector>

namespace nnrt {

/// The selected columns of a CSV file as floats, row-major. A missing field
/// (empty, "nan", "NaN", "NA", "N/A", "null") is stored as a quiet NaN so that
/// cleaning can drop or fill it. Columns are the features first, then the
/// targets.
struct Table {
  std::string source;               ///< file name for messages
  std::vector<std::string> columns; ///< features then targets
  size_t numFeatures = 0;
  size_t numRows = 0;
  std::vector<float> values; ///< numRows * columns.size()
  std::vector<size_t> lines; ///< 1-based source line of each row
  /// CsvOptions::tokenIds: the features exactly, numRows * numFeatures
  /// (`values` holds them too, rounded to float, for the cleaning steps).
  std::vector<int32_t> ids;

  size_t numColumns() const { return columns.size(); }
  float *row(size_t r) { return values.data() + r * columns.size(); }
  const float *row(size_t r) const {
    return values.data() + r * columns.size();
  }
  /// Keeps the rows whose flag is true, in order.
  void keepRows(const std::vector<bool> &keep);
};

struct CsvOptions {
  bool header = true;
  char delimiter = ',';
  /// Feature columns by name; empty means every column that is not a target.
  /// Without a header, columns are named by 0-based position: "0", "1", ...
  std::vector<std::string> features;
  /// Target columns; empty means none (predict inputs).
  std::vector<std::string> targets;
  /// The features are token ids for an i32 model input (pre-tokenized
  /// text: one id per column): whole numbers in [0, 2^31), kept exactly in
  /// Table::ids. Anything else, a missing field included, is an error.
  bool tokenIds = false;
};

/// One record of a CSV file and the 1-based line it starts on.
struct CsvRecord {
  size_t line = 0;
  std::vector<std::string> fields;
};

/// Splits `text` into records as RFC 4180 says: fields separated by
/// `delimiter`; a field in double quotes may hold the delimiter, newlines
/// and "" (one quote). "\r\n" ends a record as "\n" does; blank lines are
/// skipped. An unterminated quote is an error naming `name` and the line
/// where the field starts.
std::vector<CsvRecord> splitCsvRecords(const std::string &text, char delimiter,
                                       const std::string &name);

/// Parses `path`. Errors name the file and line: ragged rows, non-numeric or
/// infinite fields, unknown columns (with a did-you-mean), empty files, a
/// header without rows. Only selected columns are parsed, so unused columns
/// may hold text.
Table readCsv(const std::string &path, const CsvOptions &options);

struct TargetSpec {
  /// ClassIndex: the single target column holds integer labels (0, 1, ...);
  /// Values: the target columns are float regression / binary targets;
  /// None: the table has no target columns.
  TargetKind kind = TargetKind::Values;
  /// ClassIndex only: 0 infers max(label) + 1.
  int32_t numClasses = 0;
};

/// Turns a cleaned table into a dataset with per-sample shape [numFeatures]:
/// float features, or int32 ones when the table holds token ids. Any
/// remaining missing value is an error pointing at its line and column and
/// suggesting drop_missing / fill_missing.
Dataset makeTabularDataset(const Table &table, const TargetSpec &spec);

} // namespace nnrt

#endif // NNRT_CSV_H
