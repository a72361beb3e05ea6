//===- ParseTokens.h - Lexing and the token pass before parsing --*- C++ -*-===//
//
// Private to the parser. Lexes a file with NNLexer and rewrites the token
// list for NNParser:
//   - checks that the text is UTF-8 without NUL bytes first;
//   - reports and drops bad characters, reports unterminated strings;
//   - drops the newlines inside ( ), [ ] and map braces, collapses runs of
//     newlines, and retypes map braces to MAP_OPEN / MAP_CLOSE;
//   - balances delimiters, reporting each missing or stray closer once, so
//     that the parser always sees balanced input;
//   - refuses nesting deeper than kMaxNesting, which keeps the recursive
//     parser and everything after it within a bounded stack.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_PARSETOKENS_H
#define NNC_FRONTEND_PARSETOKENS_H

#include "frontend/Diagnostics.h"
#include "frontend/Source.h"

#include "Token.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nnc {
namespace parse {

/// Syntax errors of one file, collected from the token pass, the parser and
/// the AST builder, then reported in source order.
class ErrorList {
public:
  void error(SourceRange range, std::string message, std::string hint = "");
  /// Reports them all to `diags`, sorted by position.
  void flushTo(DiagnosticEngine &diags);
  bool empty() const { return list.empty(); }

private:
  std::vector<Diagnostic> list;
};

/// ( [ { nesting beyond this is refused.
constexpr unsigned kMaxNesting = 200;

/// Maps ANTLR character indices (code points) to our byte-based locations.
class LocationMap {
public:
  LocationMap(const std::string &text, unsigned fileId);

  /// Location of the byte at `offset`.
  SourceLoc locAtByte(size_t offset) const;
  /// Byte offset of code point `index` (clamped to the end of the text).
  size_t byteOfChar(size_t index) const;
  /// The range a token covers. Synthetic tokens are empty ranges.
  SourceRange range(const antlr4::Token *token) const;
  /// The location just past a token.
  SourceLoc endOf(const antlr4::Token *token) const { return range(token).end; }
  SourceLoc beginOf(const antlr4::Token *token) const {
    return range(token).begin;
  }
  unsigned fileId() const { return file; }

private:
  unsigned file;
  size_t size;
  std::vector<size_t> lineStarts;
  /// Empty when the text is pure ASCII (then code point = byte).
  std::vector<uint32_t> charToByte;
};

/// Result of the token pass.
struct TokenList {
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  /// Per token: how many delimiters enclose it. For an opener, the count
  /// outside it; for a closer, the count after it (equal to its opener's).
  std::vector<unsigned> levels;
  /// Token index ranges [first, last] in which a missing closer was already
  /// reported: parser errors there would repeat the same mistake.
  std::vector<std::pair<size_t, size_t>> quiet;
  /// The character stream and lexer the tokens point into.
  std::vector<std::shared_ptr<void>> keepAlive;
  /// False when parsing must not go on (bad encoding, too deep nesting).
  bool ok = true;
};

/// Checks the encoding; reports the first problem and returns false.
bool checkEncoding(const std::string &text, const LocationMap &locs,
                   ErrorList &diags);

/// Lexes `text` and runs the token pass.
TokenList lexAndBalance(const std::string &text, const LocationMap &locs,
                        ErrorList &diags);

/// How a token is named in messages: 'x', 'end of line', 'end of file'.
std::string describeToken(const antlr4::Token *token);
/// How a token type is named in messages: ')', 'identifier', 'number'.
std::string describeTokenType(size_t type);

} // namespace parse
} // namespace nnc

#endif // NNC_FRONTEND_PARSETOKENS_H
