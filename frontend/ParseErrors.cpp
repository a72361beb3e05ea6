//===- ParseErrors.cpp - Syntax errors and recovery for NNParser -----------===//
#include "frontend/ParseErrors.h"

#include "NNParser.h"

using nnc::grammar::NNParser;

namespace nnc {
namespace parse {

namespace {

const std::vector<std::string> kDeclKeywords = {
    "dataset", "model", "block", "train", "finetune", "import"};

bool isNameType(size_t type) {
  switch (type) {
  case NNParser::ID:
  case NNParser::TRAIN:
  case NNParser::MODEL:
  case NNParser::DATASET:
  case NNParser::BLOCK:
  case NNParser::FINETUNE:
  case NNParser::IMPORT:
    return true;
  default:
    return false;
  }
}

bool startsValue(size_t type) {
  switch (type) {
  case NNParser::NUMBER:
  case NNParser::STRING:
  case NNParser::LBRACK:
  case NNParser::MAP_OPEN:
  case NNParser::LPAREN:
  case NNParser::MINUS:
    return true;
  default:
    return isNameType(type);
  }
}

bool isOperator(size_t type) {
  switch (type) {
  case NNParser::PLUS:
  case NNParser::MINUS:
  case NNParser::STAR:
  case NNParser::SLASH:
  case NNParser::ARROW:
  case NNParser::UNTIL:
    return true;
  default:
    return false;
  }
}

bool isSep(size_t type) {
  return type == NNParser::NEWLINE || type == NNParser::SEMI;
}

/// "identifier, ',' or ')'": the expected set in words, without the noise.
std::string describeExpected(const antlr4::misc::IntervalSet &set) {
  std::vector<size_t> types;
  for (ssize_t t : set.toList())
    if (t >= 0 || t == static_cast<ssize_t>(antlr4::Token::EOF))
      types.push_back(static_cast<size_t>(t));
  bool anyName = false, anyValue = false, anyOther = false;
  for (size_t t : types) {
    anyName |= isNameType(t);
    anyValue |= t == NNParser::NUMBER || t == NNParser::STRING ||
                t == NNParser::LBRACK;
    anyOther |= !isOperator(t) && !isNameType(t);
  }
  std::vector<std::string> items;
  bool saidValue = false, saidName = false, saidEnd = false;
  for (size_t t : types) {
    if (isOperator(t) && anyOther)
      continue;
    if (anyName && anyValue && startsValue(t)) {
      if (!saidValue)
        items.push_back("a value");
      saidValue = true;
      continue;
    }
    if (isNameType(t)) {
      if (!saidName)
        items.push_back("identifier");
      saidName = true;
      continue;
    }
    if (isSep(t)) {
      if (!saidEnd)
        items.push_back("end of line");
      saidEnd = true;
      continue;
    }
    items.push_back(describeTokenType(t));
  }
  if (items.empty())
    return "something else";
  if (items.size() > 5)
    items.resize(5);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0)
      out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

/// The model declaration `ctx` is (or whose body `ctx` is), when it has no
/// `-> TYPE` (yet).
bool modelWithoutResult(antlr4::ParserRuleContext *ctx) {
  if (ctx && ctx->getRuleIndex() == NNParser::RuleBody)
    ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent);
  auto *model = dynamic_cast<NNParser::ModelDeclContext *>(ctx);
  return model && !model->typeRef();
}

antlr4::Token *tokenAt(antlr4::Parser *parser, ssize_t index) {
  antlr4::TokenStream *stream = parser->getTokenStream();
  if (index < 0 || static_cast<size_t>(index) >= stream->size())
    return nullptr;
  return stream->get(static_cast<size_t>(index));
}

} // namespace

unsigned ErrorStrategy::levelOf(size_t index) const {
  return index < levels.size() ? levels[index] : 0;
}

bool ErrorStrategy::isQuiet(size_t index) const {
  for (const auto &range : quiet)
    if (index >= range.first && index <= range.second)
      return true;
  return false;
}

void ErrorStrategy::reset(antlr4::Parser *parser) {
  DefaultErrorStrategy::reset(parser);
  reported = false;
}

antlr4::Token *ErrorStrategy::recoverInline(antlr4::Parser *parser) {
  // No single-token insertion or deletion: they make guesses that read
  // badly in messages. The statement is skipped instead.
  throw antlr4::InputMismatchException(parser);
}

void ErrorStrategy::sync(antlr4::Parser *parser) {
  const antlr4::atn::ATN &atn = parser->getATN();
  antlr4::atn::ATNState *state = atn.states[parser->getState()];
  size_t la = parser->getTokenStream()->LA(1);
  antlr4::misc::IntervalSet next = atn.nextTokens(state);
  if (next.contains(antlr4::Token::EPSILON) || next.contains(la))
    return;

  antlr4::ParserRuleContext *ctx = parser->getContext();
  size_t rule = ctx->getRuleIndex();
  if (rule != NNParser::RuleBody && rule != NNParser::RuleModule)
    throw antlr4::InputMismatchException(parser);

  // Between statements or declarations: report, skip, and let the loop go on.
  antlr4::Token *offending = parser->getCurrentToken();
  report(parser, offending, ctx, parser->getExpectedTokens(),
         rule == NNParser::RuleBody);
  if (rule == NNParser::RuleBody)
    skipStatement(parser, levelOf(ctx->getStart()->getTokenIndex()) + 1);
  else
    skipToDeclaration(parser);
  reported = false;
}

void ErrorStrategy::reportError(antlr4::Parser *parser,
                                const antlr4::RecognitionException &e) {
  if (reported)
    return; // the same error, unwinding to its statement
  antlr4::Token *offending = e.getOffendingToken();
  if (!offending)
    offending = parser->getCurrentToken();
  auto *ctx = dynamic_cast<antlr4::ParserRuleContext *>(e.getCtx());
  if (!ctx)
    ctx = parser->getContext();
  antlr4::misc::IntervalSet expected;
  try {
    expected = e.getExpectedTokens();
  } catch (...) {
  }
  report(parser, offending, ctx, expected);
}

void ErrorStrategy::report(antlr4::Parser *parser, antlr4::Token *offending,
                           antlr4::ParserRuleContext *ctx,
                           const antlr4::misc::IntervalSet &expected,
                           bool betweenStatements) {
  reported = true;
  size_t index = offending->getTokenIndex();
  if (isQuiet(index))
    return; // a missing closer here was reported by the token pass
  size_t type = offending->getType();
  antlr4::Token *prev = tokenAt(parser, static_cast<ssize_t>(index) - 1);
  size_t prevType =
      prev ? prev->getType() : static_cast<size_t>(antlr4::Token::INVALID_TYPE);
  std::string got = describeToken(offending);
  bool atEnd = type == NNParser::NEWLINE || type == antlr4::Token::EOF;
  size_t rule =
      ctx ? ctx->getRuleIndex() : static_cast<size_t>(NNParser::RuleModule);

  SourceRange range = locs.range(offending);
  // A missing thing at the end of a line is missing after the last token.
  if (atEnd && prev)
    range = SourceRange(locs.endOf(prev));

  std::string message, hint;
  if (rule == NNParser::RuleModule) {
    message = "expected a declaration (dataset, model, block, train, "
              "finetune or import), got " +
              got;
    if (isNameType(type))
      hint = didYouMean(offending->getText(), kDeclKeywords);
  } else if (betweenStatements) {
    if (prev && !isSep(prevType) && prevType != NNParser::LBRACE)
      message = "expected end of line or ';' after statement";
    else
      message = "unexpected " + got + "; expected a statement";
  } else if (modelWithoutResult(ctx) &&
             (rule == NNParser::RuleBody ||
              expected.contains(static_cast<ssize_t>(NNParser::ARROW)))) {
    message = atEnd ? "expected '->' and the output type after the parameters"
                    : "unexpected " + got +
                          "; expected '->' and the output type";
    hint = "a model is written 'model NAME(input: TYPE) -> TYPE { ... }'";
  } else if (expected.contains(static_cast<ssize_t>(NNParser::NUMBER)) && !startsValue(type) &&
             !expected.contains(static_cast<ssize_t>(NNParser::NEWLINE))) {
    message = prev ? "expected a value after " + describeToken(prev)
                   : "expected a value";
  } else {
    std::string want = describeExpected(expected);
    if (atEnd && prev)
      message = "expected " + want + " after " + describeToken(prev);
    else
      message = "unexpected " + got + "; expected " + want;
    if (rule == NNParser::RuleParam || rule == NNParser::RuleParams)
      hint = "parameters are written 'name: type', e.g. "
             "'image: f32[1, 28, 28]' or 'channels: int = 3'";
    else if (rule == NNParser::RuleTypeRef)
      hint = "types are written like 'int', 'float' or 'f32[1, 28, 28]'";
    else if (auto *decl = dynamic_cast<NNParser::ModelDeclContext *>(ctx)) {
      (void)decl;
      hint = "a model is written 'model NAME(input: TYPE) -> TYPE { ... }'";
    } else if (dynamic_cast<NNParser::ImportDeclContext *>(ctx))
      hint = "an import names a file in quotes: import \"layers.nn\"";
  }
  diags.error(range, message, hint);
}

void ErrorStrategy::recover(antlr4::Parser *parser, std::exception_ptr e) {
  antlr4::ParserRuleContext *ctx = parser->getContext();
  size_t rule = ctx->getRuleIndex();
  if (rule == NNParser::RuleStmt) {
    skipStatement(parser, levelOf(ctx->getStart()->getTokenIndex()));
    reported = false;
    return;
  }
  if (rule == NNParser::RuleDecl || rule == NNParser::RuleModule) {
    skipToDeclaration(parser);
    reported = false;
    return;
  }
  // Unwind to the enclosing statement or declaration.
  std::rethrow_exception(e);
}

void ErrorStrategy::skipStatement(antlr4::Parser *parser, unsigned level) {
  antlr4::TokenStream *stream = parser->getTokenStream();
  bool first = true;
  while (true) {
    antlr4::Token *t = stream->LT(1);
    size_t type = t->getType();
    if (type == antlr4::Token::EOF)
      return;
    unsigned l = levelOf(t->getTokenIndex());
    bool closer = type == NNParser::RBRACE || type == NNParser::RPAREN ||
                  type == NNParser::RBRACK || type == NNParser::MAP_CLOSE;
    if ((isSep(type) && l <= level) || (closer && l < level))
      return;
    // A body loop that stopped here would not move on: always consume.
    (void)first;
    first = false;
    parser->consume();
  }
}

void ErrorStrategy::skipToDeclaration(antlr4::Parser *parser) {
  antlr4::TokenStream *stream = parser->getTokenStream();
  bool first = true;
  while (true) {
    antlr4::Token *t = stream->LT(1);
    size_t type = t->getType();
    if (type == antlr4::Token::EOF)
      return;
    if (!first && levelOf(t->getTokenIndex()) == 0) {
      bool keyword = type == NNParser::IMPORT || type == NNParser::DATASET ||
                     type == NNParser::BLOCK || type == NNParser::MODEL ||
                     type == NNParser::TRAIN || type == NNParser::FINETUNE;
      antlr4::Token *prev = tokenAt(parser, t->getTokenIndex() - 1);
      size_t prevType =
          prev ? prev->getType() : static_cast<size_t>(NNParser::NEWLINE);
      if (keyword && (isSep(prevType) || prevType == NNParser::RBRACE))
        return;
    }
    first = false;
    parser->consume();
  }
}

} // namespace parse
} // namespace nnc
