//===- Diagnostics.h - The one diagnostic engine of nnc ----------*- C++ -*-===//
//
// Every error, warning and note of the frontend goes through here. Output
// looks like a C compiler's:
//
//   model.nn:8:3: error: unknown layer 'dens'
//     dens(128)
//     ^~~~
//   hint: did you mean 'dense'?
//
// Diagnostics are collected, never thrown: analysis goes on after an error so
// that all errors of a file are reported at once.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_DIAGNOSTICS_H
#define NNC_FRONTEND_DIAGNOSTICS_H

#include "frontend/Source.h"

#include <ostream>
#include <string>
#include <vector>

namespace nnc {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceRange range;
  std::string message;
  /// Printed as "hint: ..." under the caret; empty when there is none.
  std::string hint;
};

class DiagnosticEngine {
public:
  DiagnosticEngine(const SourceManager &sm, std::ostream &os)
      : sm(sm), os(os) {}

  void error(SourceRange range, std::string message, std::string hint = "");
  void warning(SourceRange range, std::string message, std::string hint = "");
  void note(SourceRange range, std::string message, std::string hint = "");
  void report(Diagnostic diag);

  unsigned errorCount() const { return numErrors; }
  unsigned warningCount() const { return numWarnings; }
  bool hasErrors() const { return numErrors != 0; }

  /// Stops printing (but keeps counting) after this many errors, so that a
  /// file of garbage does not print megabytes. 0 means no limit.
  void setErrorLimit(unsigned limit) { errorLimit = limit; }

  /// Whether errors past the limit were dropped.
  bool truncated() const { return dropped != 0; }
  /// Prints the "N errors generated." summary line (to the same stream).
  void printSummary();

private:
  void print(const Diagnostic &diag);

  const SourceManager &sm;
  std::ostream &os;
  unsigned numErrors = 0;
  unsigned numWarnings = 0;
  unsigned errorLimit = 50;
  unsigned dropped = 0;
};

/// Levenshtein distance, used for "did you mean" hints.
unsigned editDistance(const std::string &a, const std::string &b);

/// The candidate closest to `word` if it is close enough to be a plausible
/// typo (distance <= max(1, len/3)); empty otherwise.
std::string closestMatch(const std::string &word,
                         const std::vector<std::string> &candidates);

/// "did you mean 'x'?" or "" when nothing is close.
std::string didYouMean(const std::string &word,
                       const std::vector<std::string> &candidates);

} // namespace nnc

#endif // NNC_FRONTEND_DIAGNOSTICS_H
