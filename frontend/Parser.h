//===- Parser.h - .nn text -> AST ---------------------------------*- C++ -*-===//
//
// Lexes and parses one file with the ANTLR4 grammar in grammar/, then builds
// the AST. Syntax errors go to the DiagnosticEngine; parsing never throws,
// never crashes and never recurses without bound, whatever the input.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_PARSER_H
#define NNC_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include <memory>
#include <ostream>

namespace nnc {

/// Parses the file `fileId` of `sm`. Always returns a module; on syntax errors
/// it holds what could be recovered and `diags` has the errors.
std::unique_ptr<ast::Module> parseModule(const SourceManager &sm,
                                         unsigned fileId,
                                         DiagnosticEngine &diags);

/// `nnc --emit ast`: a readable, indented dump with `line:col` locations.
void dumpModule(const ast::Module &module, const SourceManager &sm,
                std::ostream &os);

} // namespace nnc

#endif // NNC_FRONTEND_PARSER_H
