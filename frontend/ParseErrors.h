//===- ParseErrors.h - Syntax errors and recovery for NNParser ----*- C++ -*-===//
//
// Private to the parser. An ANTLR error strategy that words syntax errors for
// people ("expected a value after '='", not ANTLR's token-set dumps) and
// recovers at statement and declaration granularity: after an error the rest
// of the statement (or declaration) is skipped, so one mistake is one error,
// and parsing resumes at the next statement (or declaration).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_PARSEERRORS_H
#define NNC_FRONTEND_PARSEERRORS_H

#include "frontend/Diagnostics.h"
#include "frontend/ParseTokens.h"

#include "DefaultErrorStrategy.h"

#include <vector>

namespace nnc {
namespace parse {

class ErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  /// `levels` and `quiet` are those of the TokenList being parsed.
  ErrorStrategy(const std::vector<unsigned> &levels,
                const std::vector<std::pair<size_t, size_t>> &quiet,
                const LocationMap &locs, ErrorList &diags)
      : levels(levels), quiet(quiet), locs(locs), diags(diags) {}

  void reset(antlr4::Parser *parser) override;
  void reportError(antlr4::Parser *parser,
                   const antlr4::RecognitionException &e) override;
  void recover(antlr4::Parser *parser, std::exception_ptr e) override;
  void sync(antlr4::Parser *parser) override;
  antlr4::Token *recoverInline(antlr4::Parser *parser) override;

private:
  void report(antlr4::Parser *parser, antlr4::Token *offending,
              antlr4::ParserRuleContext *ctx,
              const antlr4::misc::IntervalSet &expected,
              bool betweenStatements = false);
  unsigned levelOf(size_t index) const;
  bool isQuiet(size_t index) const;
  /// Skips to the end of the statement whose tokens are at `level`.
  void skipStatement(antlr4::Parser *parser, unsigned level);
  /// Skips to the next declaration keyword that starts a line.
  void skipToDeclaration(antlr4::Parser *parser);

  const std::vector<unsigned> &levels;
  const std::vector<std::pair<size_t, size_t>> &quiet;
  const LocationMap &locs;
  ErrorList &diags;
  /// An error was reported in the current statement or declaration.
  bool reported = false;
};

} // namespace parse
} // namespace nnc

#endif // NNC_FRONTEND_PARSEERRORS_H
