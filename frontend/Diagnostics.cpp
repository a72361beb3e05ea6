//===- Diagnostics.cpp - Printing diagnostics with carets and hints --------===//
#include "frontend/Diagnostics.h"

#include <algorithm>

namespace nnc {

void DiagnosticEngine::error(SourceRange range, std::string message,
                             std::string hint) {
  report({Severity::Error, range, std::move(message), std::move(hint)});
}

void DiagnosticEngine::warning(SourceRange range, std::string message,
                               std::string hint) {
  report({Severity::Warning, range, std::move(message), std::move(hint)});
}

void DiagnosticEngine::note(SourceRange range, std::string message,
                            std::string hint) {
  report({Severity::Note, range, std::move(message), std::move(hint)});
}

void DiagnosticEngine::report(Diagnostic diag) {
  if (diag.severity == Severity::Error) {
    ++numErrors;
    if (errorLimit && numErrors > errorLimit) {
      ++dropped;
      return;
    }
  } else if (diag.severity == Severity::Warning) {
    ++numWarnings;
  } else if (errorLimit && numErrors > errorLimit) {
    return; // a note attached to a dropped error
  }
  print(diag);
}

static const char *label(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

/// Replaces control characters (and bytes of binary garbage) by spaces or '?'
/// so that printing a source line never corrupts the terminal.
static std::string printable(const std::string &line) {
  std::string out;
  out.reserve(line.size());
  for (unsigned char c : line) {
    if (c == '\t' || c >= 0x20 || c >= 0x80)
      out.push_back(c == 0x7f ? '?' : static_cast<char>(c));
    else
      out.push_back('?');
  }
  return out;
}

void DiagnosticEngine::print(const Diagnostic &diag) {
  const SourceLoc &b = diag.range.begin;
  if (b.isValid())
    os << sm.path(b.fileId) << ':' << b.line << ':' << b.col << ": ";
  else if (b.fileId != 0)
    os << sm.path(b.fileId) << ": ";
  else
    os << "nnc: ";
  os << label(diag.severity) << ": " << diag.message << '\n';

  if (b.isValid()) {
    std::string line = sm.lineText(b.fileId, b.line);
    if (line.size() > 200) // a minified or binary line: show a window
      line = line.substr(0, 200);
    os << printable(line) << '\n';
    // The caret line copies tabs so that it lines up under the source.
    std::string caret;
    for (unsigned i = 1; i < b.col && i - 1 < line.size(); ++i)
      caret.push_back(line[i - 1] == '\t' ? '\t' : ' ');
    caret.push_back('^');
    const SourceLoc &e = diag.range.end;
    if (e.fileId == b.fileId && e.line == b.line && e.col > b.col + 1) {
      unsigned width = std::min<unsigned>(e.col - b.col - 1, 200);
      caret.append(width, '~');
    }
    os << caret << '\n';
  }
  if (!diag.hint.empty())
    os << "hint: " << diag.hint << '\n';
}

void DiagnosticEngine::printSummary() {
  if (dropped)
    os << "nnc: too many errors; " << dropped
       << " more not shown\n";
  if (numErrors)
    os << numErrors << (numErrors == 1 ? " error" : " errors")
       << " generated.\n";
}

// Damerau-Levenshtein (optimal string alignment): a swap of two adjacent
// letters, the commonest typo ("bacth"), costs one edit.
unsigned editDistance(const std::string &a, const std::string &b) {
  std::vector<std::vector<unsigned>> d(a.size() + 1,
                                       std::vector<unsigned>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = static_cast<unsigned>(i);
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = static_cast<unsigned>(j);
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closestMatch(const std::string &word,
                         const std::vector<std::string> &candidates) {
  unsigned limit = std::max<unsigned>(1, static_cast<unsigned>(word.size()) / 3);
  std::string best;
  unsigned bestDistance = limit + 1;
  for (const std::string &c : candidates) {
    if (c == word)
      continue;
    unsigned d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

std::string didYouMean(const std::string &word,
                       const std::vector<std::string> &candidates) {
  std::string best = closestMatch(word, candidates);
  return best.empty() ? std::string() : "did you mean '" + best + "'?";
}

} // namespace nnc
