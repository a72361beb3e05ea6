//===- OrderConstants.cpp - Constant globals named by first use -----------===//
//
// One-shot bufferization turns every tensor constant into a private
// `memref.global` named `__constant_<type>` (`_0`, `_1`, ... for further
// constants of one type), in the order it bufferizes the functions: an
// iteration over a map keyed by the functions' addresses, which differ from
// run to run. Two compiles of one program then swapped the names (and the
// places) of two constants. This pass names and orders them by their first
// use in the module instead. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace nnc {
#define GEN_PASS_DEF_NNORDERCONSTANTSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kPrefix = "__constant_";

/// `__constant_4x8xf32_3` -> `__constant_4x8xf32`: a type's spelling never
/// ends in `_<digits>`, so that suffix is the uniquing counter.
static StringRef baseName(StringRef name) {
  size_t underscore = name.rfind('_');
  StringRef suffix = name.substr(underscore + 1);
  if (underscore > kPrefix.size() && !suffix.empty() &&
      llvm::all_of(suffix, llvm::isDigit))
    return name.take_front(underscore);
  return name;
}

struct OrderConstants
    : public nnc::impl::NNOrderConstantsPassBase<OrderConstants> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<memref::GlobalOp> constants;
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getConstant() && global.isPrivate() &&
          global.getSymName().starts_with(kPrefix))
        constants[global.getSymName()] = global;
    if (constants.empty())
      return;

    // The constants in the order of their first use, with their readers
    // (those whose symbols resolve in this module, not in a nested one).
    llvm::MapVector<memref::GlobalOp, SmallVector<memref::GetGlobalOp>> uses;
    module.walk([&](memref::GetGlobalOp get) {
      if (get->getParentWithTrait<OpTrait::SymbolTable>() != module)
        return;
      auto it = constants.find(get.getName());
      if (it != constants.end())
        uses[it->second].push_back(get);
    });

    // New names: the first constant of a type gets the bare name, the next
    // ones `_0`, `_1`, ... as SymbolTable would have uniqued them.
    llvm::StringMap<unsigned> seen;
    Block &body = module.getBodyRegion().front();
    Block::iterator next = body.begin();
    for (auto &[global, readers] : uses) {
      StringRef base = baseName(global.getSymName());
      unsigned n = seen[base]++;
      std::string name =
          n == 0 ? base.str() : (base + "_" + Twine(n - 1)).str();
      auto attr = StringAttr::get(module.getContext(), name);
      global.setSymNameAttr(attr);
      for (memref::GetGlobalOp get : readers)
        get.setNameAttr(FlatSymbolRefAttr::get(attr));
      if (&*next == global.getOperation())
        ++next;
      else
        global->moveBefore(&body, next);
    }
    // Unread constants (none are left by bufferization) go.
    for (auto &entry : constants)
      if (!uses.count(entry.second))
        entry.second.erase();
  }
};

} // namespace
