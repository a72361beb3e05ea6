//===- Report.h - The HTML training report of JSONL logs ---------*- C++
//-*-===//
//
// `./model report --log run.jsonl -o report.html` and `train --report`
// (SPEC 2.12): training logs (Log.h's lines) read back with every line
// checked, and one self-contained HTML page drawn from them: inline SVG
// curves with one point per logged epoch or evaluation, the confusion matrix
// as a heat map, the run's settings, its final metrics and the model
// summary. No JavaScript, nothing fetched.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_REPORT_H
#define NNRT_REPORT_H

#include <nlohmann/json.hpp>

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace nnrt {

/// One run's log as the report reads it.
struct RunLog {
  std::string name; ///< the file as given: legend, errors
  /// "epoch" events, in log order; objects keep the order of their fields.
  std::vector<nlohmann::ordered_json> periods;
  nlohmann::ordered_json done; ///< the last "done" event, or null

  /// A run in steps (its done event's settings say so): curves over steps.
  bool inSteps() const;
  /// The class names of the done event's confusion matrix: its "classes"
  /// where given, else the indices.
  std::vector<std::string> classNames() const;
};

/// Reads JSONL text. Every line must be a JSON object with a string
/// "event"; "epoch" events need an integer "epoch"; a done event's
/// "confusion" must be a square matrix of counts and its "classes" strings.
/// Unknown events are skipped, blank lines too. Throws nnrt::Error naming
/// `name` and the line: "run.jsonl:7: not valid JSON at byte 35 (a
/// truncated or corrupted line)", "run.jsonl: the log is empty", "run.jsonl:
/// no epoch or evaluation events".
RunLog parseRunLog(const std::string &name, std::istream &in);
/// parseRunLog of a file; a missing or unreadable file is an nnrt::Error.
RunLog readRunLog(const std::string &path);

/// What a report shows besides the logs.
struct ReportContent {
  std::vector<RunLog> runs; ///< overlaid, one colour each, in this order
  std::string summary;      ///< the model summary (`./model info`'s text)
  std::string summaryTitle; ///< its heading
};

/// The whole page.
std::string renderReport(const ReportContent &content);

/// Writes renderReport(content) to `path` atomically.
void writeReport(const std::string &path, const ReportContent &content);

/// `text` with &, <, >, " and ' as HTML character references: safe in
/// element content and in quoted attributes.
std::string escapeHtml(std::string_view text);

} // namespace nnrt

#endif // NNRT_REPORT_H
