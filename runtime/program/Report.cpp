//===- Report.cpp - report, and train --report ----------------------------===//
//
// The program's side of the HTML training report (runtime/Report.h draws
// it): which logs, and the model summary of this program (`info`'s text).
//
//===----------------------------------------------------------------------===//
#include "runtime/Report.h"
#include "runtime/Error.h"
#include "runtime/program/Commands.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace nnrt {

static ReportContent contentOf(const RunConfig &cfg) {
  ReportContent content;
  content.summary = infoText(cfg, "");
  content.summaryTitle = "Model " + cfg.modelName + " (run '" + cfg.run +
                         "' of this program, as ./model info prints it)";
  return content;
}

int report(const RunConfig &cfg, const std::vector<std::string> &logs,
           const std::string &output) {
  checkReportPath(output);
  ReportContent content = contentOf(cfg);
  for (const std::string &path : logs)
    content.runs.push_back(readRunLog(path));
  writeReport(output, content);
  std::printf("wrote the report of %zu run%s to %s\n", logs.size(),
              logs.size() == 1 ? "" : "s", output.c_str());
  return Ok;
}

void checkReportPath(const std::string &path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw Error(path + ": cannot write the report: it is a folder");
  fs::path folder = fs::path(path).parent_path();
  if (!folder.empty() && !fs::is_directory(folder, ec))
    throw Error(path + ": cannot write the report: no folder '" +
                folder.string() + "'");
}

void writeRunReport(const RunConfig &cfg, const std::string &path,
                    const std::string &name,
                    const std::vector<std::string> &lines) {
  std::string text;
  for (const std::string &line : lines)
    text += line + "\n";
  std::istringstream in(text);
  ReportContent content = contentOf(cfg);
  try {
    content.runs.push_back(parseRunLog(name, in));
  } catch (const Error &e) {
    // Only a run that trained no epoch (diverged in its first, or resumed
    // after its last) has nothing to draw.
    std::fprintf(stderr, "warning: %s not written: %s\n", path.c_str(),
                 e.what());
    return;
  }
  writeReport(path, content);
}

} // namespace nnrt
