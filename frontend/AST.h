//===- AST.h - The syntax tree of a .nn program -------------------*- C++ -*-===//
//
// Plain structs with source ranges, built from the ANTLR parse tree by
// ASTBuilder; the parse tree never leaves the frontend. The AST is purely
// syntactic: `dense(128)`, `batch = 64` and `skip = input` are all generic
// calls and assignments here. Sema gives them meaning.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_AST_H
#define NNC_FRONTEND_AST_H

#include "frontend/Source.h"

#include <memory>
#include <string>
#include <vector>

namespace nnc {
namespace ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Number,   ///< `64`, `0.001`, `1e-5`
  String,   ///< `"points.csv"` (text holds the unescaped value)
  Ident,    ///< `relu`, `same`, `input`, `channels`
  List,     ///< `[a, b]`                      elements
  Map,      ///< `{ a: 1, "k": 2 }`            entries
  Call,     ///< `name(args, key = value)`     text = callee, elements, entries
  Unary,    ///< `-x`                          text = op, elements[0]
  Binary,   ///< `a / b`                       text = op, elements[0..1]
  Pipeline, ///< `x -> conv2d(1) -> relu`      elements = stages (>= 2)
  Until,    ///< `[stem, body] until 2`        elements[0] = value, [1] = epoch
};

/// `key = value` inside a call, or `key: value` inside a map.
struct Entry {
  std::string key;
  SourceRange keyRange;
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  SourceRange range;
  double number = 0;
  /// True for a Number written without '.' or exponent (`64`, not `64.0`).
  bool isInteger = false;
  /// Identifier name, unescaped string, callee name or operator.
  std::string text;
  /// Range of the identifier / callee name.
  SourceRange nameRange;
  std::vector<ExprPtr> elements;
  std::vector<Entry> entries;

  Expr(ExprKind kind, SourceRange range) : kind(kind), range(range) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

enum class StmtKind {
  Assign,  ///< `name = value`: a setting, or a named value in a model body
  Section, ///< `name { stmts }`: `preprocess { ... }`, `clean { ... }`
  Group,   ///< `group name { stmts }`
  Repeat,  ///< `repeat count { stmts }`
  Label,   ///< `label: value`  (`head: dense(10)`)
  Expr,    ///< a bare value: `relu`, `dense(128)`, `x -> relu`
};

struct Stmt {
  StmtKind kind;
  SourceRange range;
  /// Assigned / section / group / label name.
  std::string name;
  SourceRange nameRange;
  /// Assign, Label, Expr: the value. Repeat: the count.
  ExprPtr value;
  /// Section, Group, Repeat: the nested statements.
  std::vector<StmtPtr> body;

  Stmt(StmtKind kind, SourceRange range) : kind(kind), range(range) {}
};

/// `f32[1, 28, 28]`, `int`, `float`.
struct TypeRef {
  std::string name;
  SourceRange range;
  SourceRange nameRange;
  bool hasDims = false;
  std::vector<ExprPtr> dims;
};

/// `channels: int = 3`, `image: f32[1, 28, 28]`.
struct Param {
  std::string name;
  SourceRange range;
  SourceRange nameRange;
  TypeRef type;
  ExprPtr defaultValue; ///< may be null
};

enum class DeclKind { Import, Dataset, Block, Model, Train, Finetune };

struct Decl {
  DeclKind kind;
  SourceRange range;
  /// Empty for an unnamed `train { }`.
  std::string name;
  SourceRange nameRange;
  /// Block and model parameters (a model has exactly one: its input).
  std::vector<Param> params;
  /// A model's declared output type.
  bool hasResult = false;
  TypeRef result;
  std::vector<StmtPtr> body;
  /// Import: the unescaped path.
  std::string path;

  Decl(DeclKind kind, SourceRange range) : kind(kind), range(range) {}
};
using DeclPtr = std::unique_ptr<Decl>;

/// One parsed file.
struct Module {
  unsigned fileId = 0;
  std::vector<DeclPtr> decls;
};

const char *toString(ExprKind kind);
const char *toString(StmtKind kind);
const char *toString(DeclKind kind);

} // namespace ast
} // namespace nnc

#endif // NNC_FRONTEND_AST_H
