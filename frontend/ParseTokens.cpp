//===- ParseTokens.cpp - Lexing and the token pass before parsing ----------===//
#include "frontend/ParseTokens.h"

#include "NNLexer.h"

#include <algorithm>
#include <cstdio>

using nnc::grammar::NNLexer;

namespace nnc {
namespace parse {

static constexpr size_t kNoIndex = static_cast<size_t>(-1);

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

void ErrorList::error(SourceRange range, std::string message,
                      std::string hint) {
  Diagnostic diag;
  diag.severity = Severity::Error;
  diag.range = range;
  diag.message = std::move(message);
  diag.hint = std::move(hint);
  list.push_back(std::move(diag));
}

void ErrorList::flushTo(DiagnosticEngine &diags) {
  auto key = [](const Diagnostic &d) {
    // Errors without a location go last.
    unsigned line = d.range.begin.isValid() ? d.range.begin.line : ~0u;
    return std::make_pair(line, d.range.begin.col);
  };
  std::stable_sort(list.begin(), list.end(),
                   [&](const Diagnostic &a, const Diagnostic &b) {
                     return key(a) < key(b);
                   });
  for (Diagnostic &d : list)
    diags.report(std::move(d));
  list.clear();
}

//===----------------------------------------------------------------------===//
// Locations
//===----------------------------------------------------------------------===//

LocationMap::LocationMap(const std::string &text, unsigned fileId)
    : file(fileId), size(text.size()) {
  lineStarts.push_back(0);
  bool ascii = true;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n')
      lineStarts.push_back(i + 1);
    if (c >= 0x80)
      ascii = false;
  }
  if (ascii)
    return;
  // One entry per code point (continuation bytes start none), plus the end.
  charToByte.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)
      charToByte.push_back(static_cast<uint32_t>(i));
  charToByte.push_back(static_cast<uint32_t>(text.size()));
}

SourceLoc LocationMap::locAtByte(size_t offset) const {
  offset = std::min(offset, size);
  auto it = std::upper_bound(lineStarts.begin(), lineStarts.end(), offset);
  size_t line = static_cast<size_t>(it - lineStarts.begin()); // >= 1
  SourceLoc loc;
  loc.fileId = file;
  loc.line = static_cast<unsigned>(line);
  loc.col = static_cast<unsigned>(offset - lineStarts[line - 1] + 1);
  return loc;
}

size_t LocationMap::byteOfChar(size_t index) const {
  if (charToByte.empty())
    return std::min(index, size);
  if (index >= charToByte.size())
    return size;
  return charToByte[index];
}

SourceRange LocationMap::range(const antlr4::Token *token) const {
  if (!token)
    return SourceRange(locAtByte(size));
  size_t start = token->getStartIndex();
  size_t stop = token->getStopIndex();
  if (start == kNoIndex)
    return SourceRange(locAtByte(size));
  size_t begin = byteOfChar(start);
  // EOF and synthetic tokens have stop = start - 1: an empty range.
  size_t end = (stop == kNoIndex || stop + 1 <= start)
                   ? begin
                   : byteOfChar(stop + 1);
  return SourceRange(locAtByte(begin), locAtByte(end));
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

/// Length of the valid UTF-8 sequence at `i`, or 0 when it is not one
/// (overlong forms, surrogates and code points past U+10FFFF included).
static size_t utf8Length(const std::string &s, size_t i) {
  auto byte = [&](size_t k) -> unsigned {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : 0;
  };
  unsigned c = byte(i);
  if (c < 0x80)
    return 1;
  auto cont = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned c1 = byte(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))
      return 0;
    return cont(i + 1) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned c1 = byte(i + 1);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))
      return 0;
    return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

bool checkEncoding(const std::string &text, const LocationMap &locs,
                   ErrorList &diags) {
  for (size_t i = 0; i < text.size();) {
    const char *message = nullptr;
    size_t n = 1;
    if (text[i] == '\0')
      message = "unexpected NUL byte";
    else if ((n = utf8Length(text, i)) == 0)
      message = "file is not valid UTF-8 text";
    if (message) {
      SourceLoc at = locs.locAtByte(i);
      SourceLoc next = at;
      next.col += 1;
      diags.error(SourceRange(at, next), message,
                  "is this a binary file? .nn files are UTF-8 text");
      return false;
    }
    i += n;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Token names for messages
//===----------------------------------------------------------------------===//

std::string describeTokenType(size_t type) {
  switch (type) {
  case antlr4::Token::EOF:
    return "end of file";
  case NNLexer::NEWLINE:
    return "end of line";
  case NNLexer::ID:
    return "identifier";
  case NNLexer::NUMBER:
    return "number";
  case NNLexer::STRING:
  case NNLexer::UNTERMINATED_STRING:
    return "string";
  case NNLexer::MAP_OPEN:
    return "'{'";
  case NNLexer::MAP_CLOSE:
    return "'}'";
  case NNLexer::IMPORT:
    return "'import'";
  case NNLexer::DATASET:
    return "'dataset'";
  case NNLexer::BLOCK:
    return "'block'";
  case NNLexer::MODEL:
    return "'model'";
  case NNLexer::TRAIN:
    return "'train'";
  case NNLexer::FINETUNE:
    return "'finetune'";
  case NNLexer::GROUP:
    return "'group'";
  case NNLexer::REPEAT:
    return "'repeat'";
  case NNLexer::UNTIL:
    return "'until'";
  case NNLexer::ARROW:
    return "'->'";
  case NNLexer::LPAREN:
    return "'('";
  case NNLexer::RPAREN:
    return "')'";
  case NNLexer::LBRACK:
    return "'['";
  case NNLexer::RBRACK:
    return "']'";
  case NNLexer::LBRACE:
    return "'{'";
  case NNLexer::RBRACE:
    return "'}'";
  case NNLexer::COMMA:
    return "','";
  case NNLexer::COLON:
    return "':'";
  case NNLexer::SEMI:
    return "';'";
  case NNLexer::ASSIGN:
    return "'='";
  case NNLexer::PLUS:
    return "'+'";
  case NNLexer::MINUS:
    return "'-'";
  case NNLexer::STAR:
    return "'*'";
  case NNLexer::SLASH:
    return "'/'";
  default:
    return "token";
  }
}

std::string describeToken(const antlr4::Token *token) {
  if (!token)
    return "end of file";
  size_t type = token->getType();
  if (type == antlr4::Token::EOF || type == NNLexer::NEWLINE)
    return describeTokenType(type);
  std::string text = token->getText();
  if (text.size() > 32) {
    size_t cut = 29;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut; // do not split a UTF-8 sequence
    text = text.substr(0, cut) + "...";
  }
  return "'" + text + "'";
}

//===----------------------------------------------------------------------===//
// The token pass
//===----------------------------------------------------------------------===//

namespace {

enum class Delim { Paren, Bracket, Block, Map };

struct Open {
  Delim kind;
  size_t index; ///< of the opener in the output list
};

const char *openText(Delim d) {
  switch (d) {
  case Delim::Paren:
    return "(";
  case Delim::Bracket:
    return "[";
  default:
    return "{";
  }
}
const char *closeText(Delim d) {
  switch (d) {
  case Delim::Paren:
    return ")";
  case Delim::Bracket:
    return "]";
  default:
    return "}";
  }
}
size_t closeType(Delim d) {
  switch (d) {
  case Delim::Paren:
    return NNLexer::RPAREN;
  case Delim::Bracket:
    return NNLexer::RBRACK;
  case Delim::Map:
    return NNLexer::MAP_CLOSE;
  default:
    return NNLexer::RBRACE;
  }
}

bool isDeclKeyword(size_t type) {
  switch (type) {
  case NNLexer::IMPORT:
  case NNLexer::DATASET:
  case NNLexer::BLOCK:
  case NNLexer::MODEL:
  case NNLexer::TRAIN:
  case NNLexer::FINETUNE:
    return true;
  default:
    return false;
  }
}

bool isNameToken(size_t type) {
  return type == NNLexer::ID || isDeclKeyword(type);
}

/// Whether raw[i], a declaration keyword, starts a declaration's header.
bool startsDeclaration(const std::vector<std::unique_ptr<antlr4::Token>> &raw,
                       size_t i) {
  auto typeAt = [&](size_t k) -> size_t {
    return k < raw.size() ? raw[k]->getType() : antlr4::Token::EOF;
  };
  size_t next = typeAt(i + 1), after = typeAt(i + 2);
  switch (raw[i]->getType()) {
  case NNLexer::IMPORT:
    return next == NNLexer::STRING;
  case NNLexer::DATASET:
    return isNameToken(next) && after == NNLexer::LBRACE;
  case NNLexer::MODEL:
  case NNLexer::BLOCK:
    return isNameToken(next) && after == NNLexer::LPAREN;
  default: // train, finetune
    return next == NNLexer::LBRACE ||
           (isNameToken(next) && after == NNLexer::LBRACE);
  }
}

std::string describeChar(const std::string &text) {
  if (text.size() == 1) {
    unsigned char c = static_cast<unsigned char>(text[0]);
    if (c < 0x20 || c == 0x7F) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", c);
      return buf;
    }
  }
  return "'" + text + "'";
}

class TokenPass {
public:
  TokenPass(const LocationMap &locs, ErrorList &diags)
      : locs(locs), diags(diags) {}

  TokenList run(std::vector<std::unique_ptr<antlr4::Token>> raw);

private:
  void emit(std::unique_ptr<antlr4::Token> token, unsigned level) {
    out.tokens.push_back(std::move(token));
    out.levels.push_back(level);
  }
  size_t lastType() const {
    return out.tokens.empty() ? antlr4::Token::INVALID_TYPE
                              : out.tokens.back()->getType();
  }
  /// Reports that the innermost delimiter is not closed and closes it with a
  /// synthetic token placed before `next` (a token of the raw list).
  void closeInnermost(const antlr4::Token *next);
  SourceRange missingCloserRange(const Open &open) const;

  const LocationMap &locs;
  ErrorList &diags;
  TokenList out;
  std::vector<Open> stack;
  /// Lines with an unterminated string, which swallowed any closers.
  std::vector<unsigned> swallowingLines;
};

SourceRange TokenPass::missingCloserRange(const Open &open) const {
  // Point just past the last real token on the opener's line, where the line
  // ended without a closer; but after a line ending in the opener or a comma
  // (a list deliberately spread over lines), past the last token seen.
  const antlr4::Token *opener = out.tokens[open.index].get();
  size_t line = locs.beginOf(opener).line;
  const antlr4::Token *lastOnLine = opener;
  const antlr4::Token *lastReal = opener;
  for (size_t i = open.index; i < out.tokens.size(); ++i) {
    const antlr4::Token *t = out.tokens[i].get();
    if (t->getStopIndex() + 1 <= t->getStartIndex() ||
        t->getType() == NNLexer::NEWLINE)
      continue; // synthetic or newline
    lastReal = t;
    if (locs.beginOf(t).line == line)
      lastOnLine = t;
  }
  const antlr4::Token *at = lastOnLine;
  size_t type = lastOnLine->getType();
  if (lastOnLine == opener || type == NNLexer::COMMA)
    at = lastReal;
  return SourceRange(locs.endOf(at));
}

void TokenPass::closeInnermost(const antlr4::Token *next) {
  Open open = stack.back();
  stack.pop_back();
  SourceLoc openLoc = locs.beginOf(out.tokens[open.index].get());
  if (std::find(swallowingLines.begin(), swallowingLines.end(),
                openLoc.line) == swallowingLines.end())
    diags.error(missingCloserRange(open),
              std::string("expected '") + closeText(open.kind) +
                  "' to close '" + openText(open.kind) + "' at " +
                  std::to_string(openLoc.line) + ":" +
                  std::to_string(openLoc.col));
  auto closer = std::make_unique<antlr4::CommonToken>(closeType(open.kind),
                                                      closeText(open.kind));
  // An empty range at the start of `next`.
  size_t at = next->getStartIndex();
  closer->setStartIndex(at);
  closer->setStopIndex(at - 1);
  closer->setLine(next->getLine());
  closer->setCharPositionInLine(next->getCharPositionInLine());
  out.quiet.emplace_back(open.index, out.tokens.size());
  emit(std::move(closer), static_cast<unsigned>(stack.size()));
}

TokenList TokenPass::run(std::vector<std::unique_ptr<antlr4::Token>> raw) {
  out.tokens.reserve(raw.size());
  out.levels.reserve(raw.size());
  size_t lastErrorStop = kNoIndex;
  bool atLineStart = true; // no token yet on this (raw) line

  for (size_t i = 0; i < raw.size(); ++i) {
    std::unique_ptr<antlr4::Token> &token = raw[i];
    size_t type = token->getType();
    // Fix the text now: the character stream does not outlive the lexer.
    if (auto *common = dynamic_cast<antlr4::CommonToken *>(token.get()))
      if (type != antlr4::Token::EOF)
        common->setText(common->getText());
    bool lineStart = atLineStart;
    atLineStart = type == NNLexer::NEWLINE;

    if (type == NNLexer::ERROR_CHAR) {
      // One report per run of adjacent bad characters.
      if (lastErrorStop == kNoIndex ||
          lastErrorStop + 1 != token->getStartIndex()) {
        std::string text = token->getText();
        std::string hint;
        if (text == "'")
          hint = "strings are written in double quotes: \"...\"";
        diags.error(locs.range(token.get()),
                    "unexpected character " + describeChar(text), hint);
      }
      lastErrorStop = token->getStopIndex();
      atLineStart = lineStart;
      continue;
    }

    if (type == NNLexer::SINGLE_QUOTED_STRING) {
      diags.error(locs.range(token.get()),
                  "strings are written in double quotes",
                  "write \"" + token->getText().substr(
                                   1, token->getText().size() - 2) +
                      "\"");
      if (auto *common = dynamic_cast<antlr4::CommonToken *>(token.get())) {
        common->setType(NNLexer::STRING);
        common->setText("\"\"");
      }
      type = NNLexer::STRING;
    }

    if (type == NNLexer::UNTERMINATED_STRING) {
      SourceRange r = locs.range(token.get());
      SourceLoc quoteEnd = r.begin;
      quoteEnd.col += 1;
      diags.error(SourceRange(r.begin, quoteEnd), "unterminated string",
                  "close the string with '\"' on the same line");
      swallowingLines.push_back(r.begin.line);
      auto *common = dynamic_cast<antlr4::CommonToken *>(token.get());
      if (common) {
        common->setType(NNLexer::STRING);
        common->setText("\"\"");
      }
      type = NNLexer::STRING;
    }

    if (type == NNLexer::NEWLINE) {
      if (!stack.empty() && stack.back().kind != Delim::Block)
        continue;
      if (lastType() == NNLexer::NEWLINE || out.tokens.empty())
        continue;
      emit(std::move(token), static_cast<unsigned>(stack.size()));
      continue;
    }

    // A declaration header at the start of a line (`model m(`, `dataset d {`,
    // `train {`) while delimiters are open: they were never closed.
    if (isDeclKeyword(type) && lineStart && !stack.empty() &&
        startsDeclaration(raw, i)) {
      while (!stack.empty())
        closeInnermost(token.get());
      auto nl = std::make_unique<antlr4::CommonToken>(NNLexer::NEWLINE, "\n");
      nl->setStartIndex(token->getStartIndex());
      nl->setStopIndex(token->getStartIndex() - 1);
      emit(std::move(nl), 0);
    }

    if (type == NNLexer::LPAREN || type == NNLexer::LBRACK ||
        type == NNLexer::LBRACE) {
      Delim kind = type == NNLexer::LPAREN   ? Delim::Paren
                   : type == NNLexer::LBRACK ? Delim::Bracket
                                             : Delim::Block;
      if (kind == Delim::Block) {
        switch (lastType()) {
        case NNLexer::ASSIGN:
        case NNLexer::COLON:
        case NNLexer::COMMA:
        case NNLexer::LPAREN:
        case NNLexer::LBRACK:
        case NNLexer::MAP_OPEN:
        case NNLexer::ARROW:
        case NNLexer::PLUS:
        case NNLexer::MINUS:
        case NNLexer::STAR:
        case NNLexer::SLASH:
        case NNLexer::UNTIL:
          kind = Delim::Map;
          break;
        case NNLexer::NEWLINE:
          // A body brace on its own line: `model m(...) -> f32[1]\n{`.
          if (out.levels.back() == stack.size() && out.tokens.size() > 1) {
            out.tokens.pop_back();
            out.levels.pop_back();
          }
          break;
        default:
          break;
        }
      }
      if (kind == Delim::Map)
        if (auto *common = dynamic_cast<antlr4::CommonToken *>(token.get()))
          common->setType(NNLexer::MAP_OPEN);
      if (stack.size() >= kMaxNesting) {
        diags.error(locs.range(token.get()),
                    "nesting is too deep (more than " +
                        std::to_string(kMaxNesting) + " levels)");
        out.ok = false;
        return std::move(out);
      }
      unsigned level = static_cast<unsigned>(stack.size());
      stack.push_back({kind, out.tokens.size()});
      emit(std::move(token), level);
      continue;
    }

    if (type == NNLexer::RPAREN || type == NNLexer::RBRACK ||
        type == NNLexer::RBRACE) {
      auto matches = [&](Delim d) {
        if (type == NNLexer::RPAREN)
          return d == Delim::Paren;
        if (type == NNLexer::RBRACK)
          return d == Delim::Bracket;
        return d == Delim::Block || d == Delim::Map;
      };
      auto found = std::find_if(stack.rbegin(), stack.rend(),
                                [&](const Open &o) { return matches(o.kind); });
      if (found == stack.rend()) {
        if (!stack.empty() && stack.back().kind != Delim::Block) {
          // A mistyped closer, `f(a]`: take it as the one that was meant.
          Open open = stack.back();
          SourceLoc openLoc = locs.beginOf(out.tokens[open.index].get());
          diags.error(locs.range(token.get()),
                      std::string("expected '") + closeText(open.kind) +
                          "' to close '" + openText(open.kind) + "' at " +
                          std::to_string(openLoc.line) + ":" +
                          std::to_string(openLoc.col) + ", got '" +
                          token->getText() + "'");
          if (auto *common = dynamic_cast<antlr4::CommonToken *>(token.get()))
            common->setType(closeType(open.kind));
          stack.pop_back();
          emit(std::move(token), static_cast<unsigned>(stack.size()));
        } else {
          diags.error(locs.range(token.get()),
                      "unexpected '" + token->getText() + "'",
                      "it closes nothing; remove it");
        }
        continue;
      }
      while (!matches(stack.back().kind))
        closeInnermost(token.get());
      if (stack.back().kind == Delim::Map)
        if (auto *common = dynamic_cast<antlr4::CommonToken *>(token.get()))
          common->setType(NNLexer::MAP_CLOSE);
      stack.pop_back();
      emit(std::move(token), static_cast<unsigned>(stack.size()));
      continue;
    }

    if (type == antlr4::Token::EOF) {
      while (!stack.empty())
        closeInnermost(token.get());
      emit(std::move(token), 0);
      break;
    }

    emit(std::move(token), static_cast<unsigned>(stack.size()));
  }
  return std::move(out);
}

} // namespace

TokenList lexAndBalance(const std::string &text, const LocationMap &locs,
                        ErrorList &diags) {
  auto input = std::make_shared<antlr4::ANTLRInputStream>(text);
  auto lexer = std::make_shared<NNLexer>(input.get());
  lexer->removeErrorListeners(); // ERROR_CHAR matches anything: no errors
  std::vector<std::unique_ptr<antlr4::Token>> raw;
  while (true) {
    std::unique_ptr<antlr4::Token> token = lexer->nextToken();
    bool eof = token->getType() == antlr4::Token::EOF;
    raw.push_back(std::move(token));
    if (eof)
      break;
  }
  TokenPass pass(locs, diags);
  TokenList list = pass.run(std::move(raw));
  list.keepAlive.push_back(input);
  list.keepAlive.push_back(lexer);
  return list;
}

} // namespace parse
} // namespace nnc
