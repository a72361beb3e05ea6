//===- Parser.cpp - .nn text -> AST ----------------------------------------===//
//
// parseModule runs the pipeline: encoding check, lexing and the token pass
// (ParseTokens.cpp), the ANTLR parser with our error strategy
// (ParseErrors.cpp), then ASTBuilder, which walks the parse tree into the
// AST of AST.h and reports the syntax errors the grammar leaves to it
// (statements not separated, a model without an output type, bad escapes).
//
// Nothing here recurses per element of a sequence: long chains are loops,
// and the token pass bounds ( [ { nesting, which bounds the recursion of the
// parser and of this builder. Expressions deeper than kMaxExprDepth are
// refused so that every later pass over the AST has a bounded depth too.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"
#include "frontend/ParseErrors.h"
#include "frontend/ParseTokens.h"

#include "NNParser.h"
#include "antlr4-runtime.h"

#include <charconv>
#include <exception>

using nnc::grammar::NNParser;

namespace nnc {

namespace {

using namespace ast;

/// Deepest expression tree accepted (`-(-(-x))`, `a + b + c` chains, nested
/// lists all count).
constexpr unsigned kMaxExprDepth = 256;

class ASTBuilder {
public:
  ASTBuilder(const parse::LocationMap &locs, parse::ErrorList &diags,
             antlr4::TokenStream &tokens)
      : locs(locs), diags(diags), tokens(tokens) {}

  void buildModule(NNParser::ModuleContext *ctx, Module &module);

private:
  struct Built {
    ExprPtr expr;
    unsigned depth = 0;
  };

  DeclPtr buildDecl(NNParser::DeclContext *ctx);
  void buildBody(NNParser::BodyContext *ctx, std::vector<StmtPtr> &out);
  StmtPtr buildStmt(NNParser::StmtContext *ctx);
  bool buildParams(NNParser::ParamsContext *ctx, std::vector<Param> &out);
  bool buildType(NNParser::TypeRefContext *ctx, TypeRef &out);

  /// A whole expression (a statement's value, a dimension, a default).
  ExprPtr buildTop(NNParser::ExprContext *ctx);
  /// Each returns a null expr (after reporting) when it cannot build one.
  Built buildExpr(NNParser::ExprContext *ctx);
  Built buildPipeline(NNParser::PipelineContext *ctx);
  Built buildArith(antlr4::ParserRuleContext *ctx, bool additive);
  Built buildUnary(NNParser::UnaryContext *ctx);
  Built buildPrimary(NNParser::PrimaryContext *ctx);
  /// Wraps `node` with the given children, checking the depth limit.
  Built make(ExprPtr node, unsigned childDepth);

  bool buildName(NNParser::NameContext *ctx, std::string &name,
                 SourceRange &range);
  bool unescape(antlr4::Token *token, std::string &out);

  SourceRange rangeOf(antlr4::ParserRuleContext *ctx) const;
  SourceRange rangeOf(antlr4::Token *token) const { return locs.range(token); }
  SourceRange rangeOf(antlr4::tree::TerminalNode *node) const {
    return locs.range(node ? node->getSymbol() : nullptr);
  }
  bool failed(antlr4::ParserRuleContext *ctx) const {
    return !ctx || ctx->exception != nullptr;
  }

  const parse::LocationMap &locs;
  parse::ErrorList &diags;
  antlr4::TokenStream &tokens;
  /// The expression being built is deeper than kMaxExprDepth.
  bool tooDeep = false;
};

SourceRange ASTBuilder::rangeOf(antlr4::ParserRuleContext *ctx) const {
  if (!ctx || !ctx->getStart())
    return SourceRange();
  SourceRange first = locs.range(ctx->getStart());
  antlr4::Token *stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex())
    return SourceRange(first.begin, first.begin);
  return SourceRange(first.begin, locs.range(stop).end);
}

bool ASTBuilder::buildName(NNParser::NameContext *ctx, std::string &name,
                           SourceRange &range) {
  if (failed(ctx) || !ctx->getStart())
    return false;
  name = ctx->getStart()->getText();
  range = rangeOf(ctx->getStart());
  return true;
}

bool ASTBuilder::unescape(antlr4::Token *token, std::string &out) {
  const std::string text = token->getText();
  out.clear();
  if (text.size() < 2)
    return true; // an unterminated string, already reported
  SourceLoc begin = locs.beginOf(token);
  bool ok = true;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = text[++i];
    switch (e) {
    case '"':
    case '\\':
      out += e;
      break;
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    default: {
      SourceLoc at = begin;
      at.col += static_cast<unsigned>(i - 1);
      SourceLoc end = at;
      end.col += 2;
      std::string seq = "\\";
      // Show the whole (possibly multi-byte) character after the backslash.
      size_t n = 1;
      while (i + n < text.size() &&
             (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80)
        ++n;
      seq += text.substr(i, n);
      if (ok)
        diags.error(SourceRange(at, end),
                    "unknown escape sequence '" + seq + "' in string",
                    "the escapes are \\\" \\\\ \\n \\t \\r; write '\\\\' for a "
                    "backslash");
      ok = false;
      out += text.substr(i, n);
      i += n - 1;
    }
    }
  }
  return ok;
}

ASTBuilder::Built ASTBuilder::make(ExprPtr node, unsigned childDepth) {
  Built b;
  b.depth = childDepth + 1;
  if (b.depth > kMaxExprDepth) {
    tooDeep = true; // reported by buildTop, at the whole expression
    return Built();
  }
  b.expr = std::move(node);
  return b;
}

ExprPtr ASTBuilder::buildTop(NNParser::ExprContext *ctx) {
  tooDeep = false;
  ExprPtr expr = buildExpr(ctx).expr;
  if (tooDeep)
    diags.error(rangeOf(ctx),
                "expression is too long or too deeply nested (more than " +
                    std::to_string(kMaxExprDepth) + " levels)",
                "split it into named values: a = ...; b = a -> ...");
  tooDeep = false;
  return expr;
}

ASTBuilder::Built ASTBuilder::buildExpr(NNParser::ExprContext *ctx) {
  if (failed(ctx))
    return Built();
  std::vector<NNParser::PipelineContext *> parts = ctx->pipeline();
  if (parts.empty())
    return Built();
  Built value = buildPipeline(parts[0]);
  if (!value.expr || parts.size() < 2)
    return value;
  Built epoch = buildPipeline(parts[1]);
  if (!epoch.expr)
    return Built();
  auto node = std::make_unique<Expr>(ExprKind::Until, rangeOf(ctx));
  node->nameRange = rangeOf(ctx->UNTIL());
  unsigned depth = std::max(value.depth, epoch.depth);
  node->elements.push_back(std::move(value.expr));
  node->elements.push_back(std::move(epoch.expr));
  return make(std::move(node), depth);
}

ASTBuilder::Built ASTBuilder::buildPipeline(NNParser::PipelineContext *ctx) {
  if (failed(ctx))
    return Built();
  std::vector<NNParser::ArithContext *> stages = ctx->arith();
  if (stages.empty())
    return Built();
  if (stages.size() == 1)
    return buildArith(stages[0], true);
  auto node = std::make_unique<Expr>(ExprKind::Pipeline, rangeOf(ctx));
  unsigned depth = 0;
  for (NNParser::ArithContext *stage : stages) {
    Built b = buildArith(stage, true);
    if (!b.expr)
      return Built();
    depth = std::max(depth, b.depth);
    node->elements.push_back(std::move(b.expr));
  }
  return make(std::move(node), depth);
}

/// `a + b - c` (additive) or `a * b / c`: a flat list of operands and
/// operators in the parse tree, folded left-associatively in a loop.
ASTBuilder::Built ASTBuilder::buildArith(antlr4::ParserRuleContext *ctx,
                                         bool additive) {
  if (failed(ctx))
    return Built();
  Built acc;
  std::string op;
  antlr4::Token *first = nullptr;
  for (antlr4::tree::ParseTree *child : ctx->children) {
    if (auto *term = dynamic_cast<antlr4::tree::TerminalNode *>(child)) {
      op = term->getText();
      continue;
    }
    auto *sub = dynamic_cast<antlr4::ParserRuleContext *>(child);
    if (!sub)
      return Built();
    if (!first)
      first = sub->getStart();
    Built operand =
        additive ? buildArith(sub, false)
                 : buildUnary(dynamic_cast<NNParser::UnaryContext *>(sub));
    if (!operand.expr)
      return Built();
    if (!acc.expr) {
      acc = std::move(operand);
      continue;
    }
    SourceRange range(locs.beginOf(first), operand.expr->range.end);
    auto node = std::make_unique<Expr>(ExprKind::Binary, range);
    node->text = op;
    unsigned depth = std::max(acc.depth, operand.depth);
    node->elements.push_back(std::move(acc.expr));
    node->elements.push_back(std::move(operand.expr));
    acc = make(std::move(node), depth);
    if (!acc.expr)
      return Built();
  }
  return acc;
}

ASTBuilder::Built ASTBuilder::buildUnary(NNParser::UnaryContext *ctx) {
  if (failed(ctx))
    return Built();
  Built b = buildPrimary(ctx->primary());
  if (!b.expr)
    return b;
  std::vector<antlr4::tree::TerminalNode *> minus = ctx->MINUS();
  for (size_t i = minus.size(); i-- > 0;) {
    SourceRange range(rangeOf(minus[i]).begin, b.expr->range.end);
    auto node = std::make_unique<Expr>(ExprKind::Unary, range);
    node->text = "-";
    unsigned depth = b.depth;
    node->elements.push_back(std::move(b.expr));
    b = make(std::move(node), depth);
    if (!b.expr)
      return b;
  }
  return b;
}

ASTBuilder::Built ASTBuilder::buildPrimary(NNParser::PrimaryContext *ctx) {
  if (failed(ctx))
    return Built();
  SourceRange range = rangeOf(ctx);

  if (auto *num = dynamic_cast<NNParser::NumberExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::Number, range);
    std::string text = num->getStart()->getText();
    node->text = text;
    node->isInteger = text.find_first_of(".eE") == std::string::npos;
    double value = 0;
    auto result =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec == std::errc::result_out_of_range) {
      diags.error(range, "number " + text + " is out of range");
      return Built();
    }
    if (result.ec != std::errc() ||
        result.ptr != text.data() + text.size()) {
      diags.error(range, "malformed number " + text);
      return Built();
    }
    node->number = value;
    return make(std::move(node), 0);
  }

  if (auto *str = dynamic_cast<NNParser::StringExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::String, range);
    if (!unescape(str->getStart(), node->text))
      return Built();
    return make(std::move(node), 0);
  }

  if (auto *id = dynamic_cast<NNParser::IdentExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::Ident, range);
    if (!buildName(id->name(), node->text, node->nameRange))
      return Built();
    return make(std::move(node), 0);
  }

  if (auto *call = dynamic_cast<NNParser::CallExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::Call, range);
    if (!buildName(call->name(), node->text, node->nameRange))
      return Built();
    unsigned depth = 0;
    for (NNParser::ArgContext *arg : call->arg()) {
      if (failed(arg))
        return Built();
      Built value = buildExpr(arg->expr());
      if (!value.expr)
        return Built();
      depth = std::max(depth, value.depth);
      if (arg->name()) {
        Entry entry;
        if (!buildName(arg->name(), entry.key, entry.keyRange))
          return Built();
        entry.value = std::move(value.expr);
        node->entries.push_back(std::move(entry));
      } else {
        node->elements.push_back(std::move(value.expr));
      }
    }
    return make(std::move(node), depth);
  }

  if (auto *list = dynamic_cast<NNParser::ListExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::List, range);
    unsigned depth = 0;
    for (NNParser::ExprContext *element : list->expr()) {
      Built value = buildExpr(element);
      if (!value.expr)
        return Built();
      depth = std::max(depth, value.depth);
      node->elements.push_back(std::move(value.expr));
    }
    return make(std::move(node), depth);
  }

  if (auto *map = dynamic_cast<NNParser::MapExprContext *>(ctx)) {
    auto node = std::make_unique<Expr>(ExprKind::Map, range);
    unsigned depth = 0;
    for (NNParser::EntryContext *e : map->entry()) {
      if (failed(e))
        return Built();
      Entry entry;
      if (e->name()) {
        if (!buildName(e->name(), entry.key, entry.keyRange))
          return Built();
      } else if (e->STRING()) {
        entry.keyRange = rangeOf(e->STRING());
        if (!unescape(e->STRING()->getSymbol(), entry.key))
          return Built();
      } else {
        return Built();
      }
      Built value = buildExpr(e->expr());
      if (!value.expr)
        return Built();
      depth = std::max(depth, value.depth);
      entry.value = std::move(value.expr);
      node->entries.push_back(std::move(entry));
    }
    return make(std::move(node), depth);
  }

  if (auto *paren = dynamic_cast<NNParser::ParenExprContext *>(ctx))
    return buildExpr(paren->expr());

  return Built();
}

bool ASTBuilder::buildType(NNParser::TypeRefContext *ctx, TypeRef &out) {
  if (failed(ctx))
    return false;
  out.range = rangeOf(ctx);
  if (!buildName(ctx->name(), out.name, out.nameRange))
    return false;
  out.hasDims = ctx->LBRACK() != nullptr;
  for (NNParser::ExprContext *dim : ctx->expr()) {
    ExprPtr value = buildTop(dim);
    if (!value)
      return false;
    out.dims.push_back(std::move(value));
  }
  return true;
}

bool ASTBuilder::buildParams(NNParser::ParamsContext *ctx,
                             std::vector<Param> &out) {
  if (failed(ctx))
    return false;
  for (NNParser::ParamContext *p : ctx->param()) {
    if (failed(p))
      return false;
    Param param;
    param.range = rangeOf(p);
    if (!buildName(p->name(), param.name, param.nameRange) ||
        !buildType(p->typeRef(), param.type))
      return false;
    if (p->expr()) {
      param.defaultValue = buildTop(p->expr());
      if (!param.defaultValue)
        return false;
    }
    out.push_back(std::move(param));
  }
  return true;
}

StmtPtr ASTBuilder::buildStmt(NNParser::StmtContext *ctx) {
  if (failed(ctx))
    return nullptr;
  SourceRange range = rangeOf(ctx);

  if (auto *s = dynamic_cast<NNParser::GroupStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Group, range);
    if (!buildName(s->name(), stmt->name, stmt->nameRange))
      return nullptr;
    buildBody(s->body(), stmt->body);
    return stmt;
  }
  if (auto *s = dynamic_cast<NNParser::RepeatStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Repeat, range);
    stmt->value = buildTop(s->expr());
    if (!stmt->value)
      return nullptr;
    buildBody(s->body(), stmt->body);
    return stmt;
  }
  if (auto *s = dynamic_cast<NNParser::SectionStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Section, range);
    if (!buildName(s->name(), stmt->name, stmt->nameRange))
      return nullptr;
    buildBody(s->body(), stmt->body);
    return stmt;
  }
  if (auto *s = dynamic_cast<NNParser::AssignStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Assign, range);
    if (!buildName(s->name(), stmt->name, stmt->nameRange))
      return nullptr;
    stmt->value = buildTop(s->expr());
    return stmt->value ? std::move(stmt) : nullptr;
  }
  if (auto *s = dynamic_cast<NNParser::LabelStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Label, range);
    if (!buildName(s->name(), stmt->name, stmt->nameRange))
      return nullptr;
    stmt->value = buildTop(s->expr());
    return stmt->value ? std::move(stmt) : nullptr;
  }
  if (auto *s = dynamic_cast<NNParser::ExprStmtContext *>(ctx)) {
    auto stmt = std::make_unique<Stmt>(StmtKind::Expr, range);
    stmt->value = buildTop(s->expr());
    return stmt->value ? std::move(stmt) : nullptr;
  }
  return nullptr;
}

/// Whether a body belongs to a declaration made of settings.
static bool inSettingsBody(antlr4::ParserRuleContext *ctx) {
  for (; ctx; ctx = dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent)) {
    if (dynamic_cast<NNParser::DatasetDeclContext *>(ctx) ||
        dynamic_cast<NNParser::TrainDeclContext *>(ctx) ||
        dynamic_cast<NNParser::FinetuneDeclContext *>(ctx))
      return true;
    if (dynamic_cast<NNParser::DeclContext *>(ctx))
      return false;
  }
  return false;
}

void ASTBuilder::buildBody(NNParser::BodyContext *ctx,
                           std::vector<StmtPtr> &out) {
  if (failed(ctx))
    return;
  NNParser::StmtContext *previous = nullptr; // directly before, no separator
  for (antlr4::tree::ParseTree *child : ctx->children) {
    auto *stmtCtx = dynamic_cast<NNParser::StmtContext *>(child);
    if (!stmtCtx) {
      previous = nullptr;
      continue;
    }
    if (previous && !failed(previous) && !failed(stmtCtx)) {
      // Two statements on one line.
      antlr4::Token *start = stmtCtx->getStart();
      size_t type = start->getType();
      auto *bare = dynamic_cast<NNParser::ExprStmtContext *>(previous);
      bool bareName = bare && bare->getStart() == bare->getStop() &&
                      bare->getStart()->getType() != NNParser::NUMBER &&
                      bare->getStart()->getType() != NNParser::STRING;
      bool valueNext = type == NNParser::NUMBER ||
                       type == NNParser::STRING || type == NNParser::LBRACK ||
                       type == NNParser::MAP_OPEN ||
                       type == NNParser::MINUS;
      if (bareName && (valueNext || inSettingsBody(ctx))) {
        std::string name = bare->getStart()->getText();
        diags.error(SourceRange(locs.endOf(bare->getStop())),
                    "expected '=' after '" + name + "'",
                    "settings are written '" + name + " = value'");
        if (!out.empty())
          out.pop_back(); // the bare name was the start of this setting
      } else {
        diags.error(rangeOf(start),
                    "expected end of line or ';' after statement");
      }
      previous = nullptr; // one report per run of statements
      continue;
    }
    previous = stmtCtx;
    if (StmtPtr stmt = buildStmt(stmtCtx))
      out.push_back(std::move(stmt));
  }
}

DeclPtr ASTBuilder::buildDecl(NNParser::DeclContext *ctx) {
  if (failed(ctx))
    return nullptr;
  SourceRange range = rangeOf(ctx);

  if (auto *d = dynamic_cast<NNParser::ImportDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Import, range);
    if (!d->STRING() || !unescape(d->STRING()->getSymbol(), decl->path))
      return nullptr;
    decl->nameRange = rangeOf(d->STRING());
    return decl;
  }
  if (auto *d = dynamic_cast<NNParser::DatasetDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Dataset, range);
    if (!buildName(d->name(), decl->name, decl->nameRange))
      return nullptr;
    buildBody(d->body(), decl->body);
    return decl;
  }
  if (auto *d = dynamic_cast<NNParser::BlockDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Block, range);
    if (!buildName(d->name(), decl->name, decl->nameRange) ||
        !buildParams(d->params(), decl->params))
      return nullptr;
    buildBody(d->body(), decl->body);
    return decl;
  }
  if (auto *d = dynamic_cast<NNParser::ModelDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Model, range);
    if (!buildName(d->name(), decl->name, decl->nameRange) ||
        !buildParams(d->params(), decl->params))
      return nullptr;
    if (d->typeRef()) {
      decl->hasResult = buildType(d->typeRef(), decl->result);
    } else {
      SourceLoc after = locs.endOf(d->params()->getStop());
      diags.error(SourceRange(after),
                  "model '" + decl->name +
                      "' needs an output type: model " + decl->name +
                      "(...) -> f32[10] { ... }");
    }
    buildBody(d->body(), decl->body);
    return decl;
  }
  if (auto *d = dynamic_cast<NNParser::TrainDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Train, range);
    if (d->name() && !buildName(d->name(), decl->name, decl->nameRange))
      return nullptr;
    buildBody(d->body(), decl->body);
    return decl;
  }
  if (auto *d = dynamic_cast<NNParser::FinetuneDeclContext *>(ctx)) {
    auto decl = std::make_unique<Decl>(DeclKind::Finetune, range);
    if (d->name() && !buildName(d->name(), decl->name, decl->nameRange))
      return nullptr;
    buildBody(d->body(), decl->body);
    return decl;
  }
  return nullptr;
}

void ASTBuilder::buildModule(NNParser::ModuleContext *ctx, Module &module) {
  if (!ctx)
    return;
  NNParser::DeclContext *previous = nullptr;
  for (antlr4::tree::ParseTree *child : ctx->children) {
    auto *declCtx = dynamic_cast<NNParser::DeclContext *>(child);
    if (!declCtx) {
      previous = nullptr;
      continue;
    }
    if (previous && !failed(previous) && !failed(declCtx))
      diags.error(rangeOf(declCtx->getStart()),
                  "expected end of line or ';' after declaration");
    previous = declCtx;
    if (DeclPtr decl = buildDecl(declCtx))
      module.decls.push_back(std::move(decl));
  }
}

} // namespace

std::unique_ptr<ast::Module> parseModule(const SourceManager &sm,
                                         unsigned fileId,
                                         DiagnosticEngine &diagEngine) {
  auto module = std::make_unique<ast::Module>();
  module->fileId = fileId;
  const std::string &text = sm.text(fileId);
  parse::ErrorList diags;
  try {
    parse::LocationMap locs(text, fileId);
    if (!parse::checkEncoding(text, locs, diags)) {
      diags.flushTo(diagEngine);
      return module;
    }
    parse::TokenList list = parse::lexAndBalance(text, locs, diags);
    if (!list.ok) {
      diags.flushTo(diagEngine);
      return module;
    }

    antlr4::ListTokenSource source(std::move(list.tokens));
    antlr4::CommonTokenStream stream(&source);
    NNParser parser(&stream);
    // The grammar is LL(2) but for the deliberate ambiguity of statements
    // that follow each other without a separator, which SLL resolves the
    // same way (longest statement); full LL only costs time there.
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::SLL);
    parser.removeErrorListeners();
    parser.setErrorHandler(std::make_shared<parse::ErrorStrategy>(
        list.levels, list.quiet, locs, diags));
    NNParser::ModuleContext *tree = parser.module();

    ASTBuilder builder(locs, diags, stream);
    builder.buildModule(tree, *module);
  } catch (const std::exception &e) {
    diags.error(SourceRange(), std::string("internal error in the parser: ") +
                                   e.what());
    module->decls.clear();
  } catch (...) {
    diags.error(SourceRange(), "internal error in the parser");
    module->decls.clear();
  }
  diags.flushTo(diagEngine);
  return module;
}

} // namespace nnc
