//===- ASTDump.cpp - `nnc --emit ast`: the AST as an indented tree ---------===//
//
// One node per line, children indented by two spaces, each line ending in
// the node's <line:col>. Strings are quoted and escaped, numbers are printed
// as written, keyword arguments as `key =` and map entries as `key:` lines
// with their value below. The walk uses an explicit stack, not recursion.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include <cstdio>
#include <string>
#include <vector>

namespace nnc {

namespace {

using namespace ast;

std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      out += c;
    }
  }
  return out + "\"";
}

bool isIdentifier(const std::string &s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9'))
    return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  return true;
}

std::string loc(const SourceRange &r) {
  return "<" + std::to_string(r.begin.line) + ":" +
         std::to_string(r.begin.col) + ">";
}

std::string numberText(const Expr &e) {
  if (!e.text.empty())
    return e.text;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", e.number);
  return buf;
}

/// One-line form of an expression, for types, defaults and repeat counts.
/// Its depth is bounded by the parser's expression depth limit.
std::string inlineExpr(const Expr *e) {
  if (!e)
    return "<null>";
  std::string out;
  auto join = [&](const std::vector<ExprPtr> &xs, const char *sep) {
    std::string s;
    for (size_t i = 0; i < xs.size(); ++i)
      s += (i ? sep : "") + inlineExpr(xs[i].get());
    return s;
  };
  switch (e->kind) {
  case ExprKind::Number:
    return numberText(*e);
  case ExprKind::String:
    return quote(e->text);
  case ExprKind::Ident:
    return e->text;
  case ExprKind::List:
    return "[" + join(e->elements, ", ") + "]";
  case ExprKind::Map: {
    out = "{";
    for (size_t i = 0; i < e->entries.size(); ++i)
      out += (i ? ", " : "") +
             (isIdentifier(e->entries[i].key) ? e->entries[i].key
                                              : quote(e->entries[i].key)) +
             ": " + inlineExpr(e->entries[i].value.get());
    return out + "}";
  }
  case ExprKind::Call: {
    out = e->text + "(" + join(e->elements, ", ");
    for (size_t i = 0; i < e->entries.size(); ++i)
      out += (i || !e->elements.empty() ? ", " : "") + e->entries[i].key +
             " = " + inlineExpr(e->entries[i].value.get());
    return out + ")";
  }
  case ExprKind::Unary:
    return "-" + (e->elements.empty() ? "" : inlineExpr(e->elements[0].get()));
  case ExprKind::Binary:
    return "(" + join(e->elements, (" " + e->text + " ").c_str()) + ")";
  case ExprKind::Pipeline:
    return join(e->elements, " -> ");
  case ExprKind::Until:
    return join(e->elements, " until ");
  }
  return "?";
}

std::string typeText(const TypeRef &t) {
  std::string s = t.name;
  if (t.hasDims) {
    s += "[";
    for (size_t i = 0; i < t.dims.size(); ++i)
      s += (i ? ", " : "") + inlineExpr(t.dims[i].get());
    s += "]";
  }
  return s;
}

/// A pending line of output: a node to expand, or a ready-made label.
struct Item {
  const Decl *decl = nullptr;
  const Stmt *stmt = nullptr;
  const Expr *expr = nullptr;
  std::string label; ///< printed as is when no node is set
  unsigned indent = 0;
};

class Dumper {
public:
  explicit Dumper(std::ostream &os) : os(os) {}

  void run(const Module &module) {
    for (size_t i = module.decls.size(); i-- > 0;)
      push(module.decls[i].get(), 0);
    while (!stack.empty()) {
      Item item = std::move(stack.back());
      stack.pop_back();
      if (item.decl)
        visit(*item.decl, item.indent);
      else if (item.stmt)
        visit(*item.stmt, item.indent);
      else if (item.expr)
        visit(*item.expr, item.indent);
      else
        line(item.indent, item.label);
    }
  }

private:
  void line(unsigned indent, const std::string &text) {
    os << std::string(indent * 2, ' ') << text << '\n';
  }
  void push(const Decl *d, unsigned indent) {
    Item item;
    item.decl = d;
    item.indent = indent;
    stack.push_back(std::move(item));
  }
  void push(const Stmt *s, unsigned indent) {
    Item item;
    item.stmt = s;
    item.indent = indent;
    stack.push_back(std::move(item));
  }
  void push(const Expr *e, unsigned indent) {
    Item item;
    item.expr = e;
    item.indent = indent;
    stack.push_back(std::move(item));
  }
  void pushLabel(std::string label, unsigned indent) {
    Item item;
    item.label = std::move(label);
    item.indent = indent;
    stack.push_back(std::move(item));
  }
  void pushBody(const std::vector<StmtPtr> &body, unsigned indent) {
    for (size_t i = body.size(); i-- > 0;)
      push(body[i].get(), indent);
  }
  /// Pushes an expression's children (in reverse, so they print in order).
  void pushChildren(const Expr &e, unsigned indent) {
    for (size_t i = e.entries.size(); i-- > 0;) {
      const Entry &entry = e.entries[i];
      push(entry.value.get(), indent + 1);
      std::string key = entry.key;
      if (e.kind == ExprKind::Map)
        key = (isIdentifier(key) ? key : quote(key)) + ":";
      else
        key += " =";
      pushLabel(key + " " + loc(entry.keyRange), indent);
    }
    for (size_t i = e.elements.size(); i-- > 0;)
      push(e.elements[i].get(), indent);
  }

  void visit(const Decl &d, unsigned indent) {
    std::string head = toString(d.kind);
    if (d.kind == DeclKind::Import)
      head += " " + quote(d.path);
    else if (!d.name.empty())
      head += " " + d.name;
    line(indent, head + " " + loc(d.range));
    pushBody(d.body, indent + 1);
    if (d.hasResult)
      pushLabel("Result " + typeText(d.result) + " " + loc(d.result.range),
                indent + 1);
    for (size_t i = d.params.size(); i-- > 0;) {
      const Param &p = d.params[i];
      std::string text = "Param " + p.name + ": " + typeText(p.type);
      if (p.defaultValue)
        text += " = " + inlineExpr(p.defaultValue.get());
      pushLabel(text + " " + loc(p.range), indent + 1);
    }
  }

  void visit(const Stmt &s, unsigned indent) {
    std::string head = toString(s.kind);
    switch (s.kind) {
    case StmtKind::Repeat:
      head += " " + inlineExpr(s.value.get());
      break;
    case StmtKind::Expr:
      break;
    default:
      head += " " + s.name;
    }
    line(indent, head + " " + loc(s.range));
    pushBody(s.body, indent + 1);
    if (s.value && s.kind != StmtKind::Repeat)
      push(s.value.get(), indent + 1);
  }

  void visit(const Expr &e, unsigned indent) {
    std::string head = toString(e.kind);
    switch (e.kind) {
    case ExprKind::Number:
      head += " " + numberText(e);
      break;
    case ExprKind::String:
      head += " " + quote(e.text);
      break;
    case ExprKind::Ident:
    case ExprKind::Call:
    case ExprKind::Unary:
    case ExprKind::Binary:
      head += " " + e.text;
      break;
    default:
      break;
    }
    line(indent, head + " " + loc(e.range));
    pushChildren(e, indent + 1);
  }

  std::ostream &os;
  std::vector<Item> stack;
};

} // namespace

void dumpModule(const ast::Module &module, const SourceManager &sm,
                std::ostream &os) {
  (void)sm;
  Dumper(os).run(module);
}

} // namespace nnc
