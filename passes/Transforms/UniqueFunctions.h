//===- UniqueFunctions.h - Identical outlined functions are one -*- C++ -*-===//
//
// nn-outline-layers and nn-outline-kernels build a function per region they
// outline; regions that are identical (the layers of a `repeat`, the loop
// nests of equal ops) must share one.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H
#define NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

#include <map>
#include <string>

namespace nnc {

/// Functions by their text (generic form, local scope; locations are not
/// printed): a function identical to an earlier one is erased in favour of
/// it; a new one is named `prefix` + a number and added to the symbols.
class UniqueFunctions {
public:
  UniqueFunctions(mlir::SymbolTable &symbols, llvm::StringRef prefix)
      : symbols(symbols), prefix(prefix.str()) {}

  /// The function to call for `function` (detached from nothing: it must
  /// already be in the module), and whether it is `function` itself.
  std::pair<mlir::func::FuncOp, bool> unique(mlir::func::FuncOp function) {
    std::string key;
    {
      llvm::raw_string_ostream os(key);
      function->print(os, mlir::OpPrintingFlags()
                              .printGenericOpForm()
                              .useLocalScope());
    }
    auto [it, inserted] = functions.try_emplace(key, function);
    if (!inserted) {
      function.erase();
      return {it->second, false};
    }
    function.setSymName(prefix + std::to_string(counter++));
    symbols.insert(function);
    return {function, true};
  }

private:
  mlir::SymbolTable &symbols;
  std::string prefix;
  std::map<std::string, mlir::func::FuncOp> functions;
  unsigned counter = 0;
};

} // namespace nnc

#endif // NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H
