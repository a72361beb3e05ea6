//===- AST.cpp - Names of AST node kinds -----------------------------------===//
#include "frontend/AST.h"

namespace nnc {
namespace ast {

const char *toString(ExprKind kind) {
  switch (kind) {
  case ExprKind::Number:
    return "Number";
  case ExprKind::String:
    return "String";
  case ExprKind::Ident:
    return "Ident";
  case ExprKind::List:
    return "List";
  case ExprKind::Map:
    return "Map";
  case ExprKind::Call:
    return "Call";
  case ExprKind::Unary:
    return "Unary";
  case ExprKind::Binary:
    return "Binary";
  case ExprKind::Pipeline:
    return "Pipeline";
  case ExprKind::Until:
    return "Until";
  }
  return "Expr";
}

const char *toString(StmtKind kind) {
  switch (kind) {
  case StmtKind::Assign:
    return "Assign";
  case StmtKind::Section:
    return "Section";
  case StmtKind::Group:
    return "Group";
  case StmtKind::Repeat:
    return "Repeat";
  case StmtKind::Label:
    return "Label";
  case StmtKind::Expr:
    return "Expr";
  }
  return "Stmt";
}

const char *toString(DeclKind kind) {
  switch (kind) {
  case DeclKind::Import:
    return "Import";
  case DeclKind::Dataset:
    return "Dataset";
  case DeclKind::Block:
    return "Block";
  case DeclKind::Model:
    return "Model";
  case DeclKind::Train:
    return "Train";
  case DeclKind::Finetune:
    return "Finetune";
  }
  return "Decl";
}

} // namespace ast
} // namespace nnc
