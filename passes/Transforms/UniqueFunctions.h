//===- UniqueFunctions.h - Identical outlined functions are one -*- C++ -*-===//
//
// nn-outline-layers and nn-outline-kernels build a function per region they
// outline; regions that are identical (the layers of a `repeat`, the loop
// nests of equal ops) must share one. nn-merge-kernels does the same for
// kernels that became equal in the LLVM dialect.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H
#define NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace nnc {

/// `fn()` while `function` is named a placeholder (to compare functions
/// whose names differ).
template <typename Fn>
std::invoke_result_t<Fn> withPlaceholderName(mlir::Operation *function, Fn fn) {
  mlir::StringAttr name = mlir::SymbolTable::getSymbolName(function);
  mlir::SymbolTable::setSymbolName(function, "__nnc_unique_key");
  std::invoke_result_t<Fn> result = fn();
  mlir::SymbolTable::setSymbolName(function, name);
  return result;
}

/// A function's operations in walk order, with its values and blocks
/// numbered in that order: two functions of equal shapes are equal up to
/// their names (the same operations with the same attributes, properties
/// and types, using values and blocks at the same positions; locations
/// aside). Operations for which `isSlot` holds (constants that may differ)
/// are left out, and each use of one is a slot: equal shapes have slots of
/// the same types at the same operands, whatever values fill them.
struct FunctionShape {
  explicit FunctionShape(
      mlir::Operation *root,
      llvm::function_ref<bool(mlir::Operation *)> isSlot = nullptr) {
    root->walk<mlir::WalkOrder::PreOrder>([&](mlir::Operation *op) {
      if (isSlot && op != root && isSlot(op)) {
        slotOps.insert(op);
        return;
      }
      ops.push_back(op);
      for (mlir::Value result : op->getResults())
        values.try_emplace(result, values.size());
      for (mlir::Region &region : op->getRegions())
        for (mlir::Block &block : region) {
          blocks.try_emplace(&block, blocks.size());
          for (mlir::BlockArgument arg : block.getArguments())
            values.try_emplace(arg, values.size());
        }
    });
    if (!slotOps.empty())
      for (mlir::Operation *op : ops)
        for (mlir::OpOperand &operand : op->getOpOperands())
          if (isSlotUse(operand))
            slots.push_back(&operand);
  }

  bool isSlotUse(mlir::OpOperand &operand) const {
    mlir::Operation *def = operand.get().getDefiningOp();
    return def && slotOps.contains(def);
  }

  /// A value's number, or its address if defined outside.
  uintptr_t number(mlir::Value v) const {
    if (auto it = values.find(v); it != values.end())
      return it->second;
    return reinterpret_cast<uintptr_t>(v.getAsOpaquePointer());
  }

  llvm::hash_code hash() const {
    llvm::hash_code h = llvm::hash_combine(ops.size(), slots.size());
    for (mlir::Operation *op : ops) {
      h = llvm::hash_combine(h, op->getName().getAsOpaquePointer(),
                             op->getRawDictionaryAttrs().getAsOpaquePointer(),
                             op->hashProperties());
      for (mlir::Type type : op->getResultTypes())
        h = llvm::hash_combine(h, type.getAsOpaquePointer());
      for (mlir::OpOperand &operand : op->getOpOperands())
        h = isSlotUse(operand)
                ? llvm::hash_combine(
                      h, -1, operand.get().getType().getAsOpaquePointer())
                : llvm::hash_combine(h, number(operand.get()));
      for (mlir::Block *successor : op->getSuccessors())
        h = llvm::hash_combine(h, blocks.lookup(successor));
      for (mlir::Region &region : op->getRegions())
        for (mlir::Block &block : region) {
          h = llvm::hash_combine(h, block.getNumArguments());
          for (mlir::Type type : block.getArgumentTypes())
            h = llvm::hash_combine(h, type.getAsOpaquePointer());
        }
    }
    return h;
  }

  friend bool operator==(const FunctionShape &x, const FunctionShape &y) {
    if (x.ops.size() != y.ops.size() || x.slots.size() != y.slots.size() ||
        x.values.size() != y.values.size())
      return false;
    for (auto [a, b] : llvm::zip_equal(x.ops, y.ops)) {
      if (a->getName() != b->getName() ||
          a->getRawDictionaryAttrs() != b->getRawDictionaryAttrs() ||
          !a->getName().compareOpProperties(a->getPropertiesStorage(),
                                            b->getPropertiesStorage()) ||
          a->getResultTypes() != b->getResultTypes() ||
          a->getNumOperands() != b->getNumOperands() ||
          a->getNumSuccessors() != b->getNumSuccessors() ||
          a->getNumRegions() != b->getNumRegions())
        return false;
      for (auto [u, v] :
           llvm::zip_equal(a->getOpOperands(), b->getOpOperands())) {
        bool slot = x.isSlotUse(u);
        if (slot != y.isSlotUse(v) ||
            (slot ? u.get().getType() != v.get().getType()
                  : x.number(u.get()) != y.number(v.get())))
          return false;
      }
      for (auto [s, t] :
           llvm::zip_equal(a->getSuccessors(), b->getSuccessors()))
        if (x.blocks.lookup(s) != y.blocks.lookup(t))
          return false;
      for (auto [r, q] : llvm::zip_equal(a->getRegions(), b->getRegions())) {
        if (r.getBlocks().size() != q.getBlocks().size())
          return false;
        for (auto [c, d] : llvm::zip_equal(r, q))
          if (c.getArgumentTypes() != d.getArgumentTypes())
            return false;
      }
    }
    return true;
  }

  std::vector<mlir::Operation *> ops;
  /// The uses of slot operations, in walk order.
  std::vector<mlir::OpOperand *> slots;
  llvm::DenseSet<mlir::Operation *> slotOps;
  llvm::DenseMap<mlir::Value, unsigned> values;
  llvm::DenseMap<mlir::Block *, unsigned> blocks;
};

/// `shape`'s hash (see FunctionShape) with `function`'s name left out.
inline size_t hashUpToName(mlir::Operation *function,
                           const FunctionShape &shape) {
  return withPlaceholderName(function, [&] { return size_t(shape.hash()); });
}

/// Whether functions `a` and `b` of shapes `sa` and `sb` are equal up to
/// their names.
inline bool equalUpToNames(mlir::Operation *a, const FunctionShape &sa,
                           mlir::Operation *b, const FunctionShape &sb) {
  return withPlaceholderName(
      a, [&] { return withPlaceholderName(b, [&] { return sa == sb; }); });
}

/// Functions equal up to their names (see FunctionShape) -- what printing
/// them under one name and comparing the text tells, without the printing
/// (which took most of nn-merge-kernels' time).
class EquivalentFunctions {
public:
  /// An earlier function equal to `function` if there is one, else
  /// `function`, which is then remembered.
  mlir::Operation *findOrInsert(mlir::Operation *function) {
    FunctionShape shape(function);
    size_t hash = hashUpToName(function, shape);
    std::vector<mlir::Operation *> &bucket = byHash[hash];
    for (mlir::Operation *earlier : bucket)
      if (equalUpToNames(earlier, FunctionShape(earlier), function, shape))
        return earlier;
    bucket.push_back(function);
    hashOf[function] = hash;
    return function;
  }

  /// Forgets `function` (it is about to change or go).
  void erase(mlir::Operation *function) {
    auto it = hashOf.find(function);
    if (it == hashOf.end())
      return;
    llvm::erase(byHash[it->second], function);
    hashOf.erase(it);
  }

private:
  std::unordered_map<size_t, std::vector<mlir::Operation *>> byHash;
  llvm::DenseMap<mlir::Operation *, size_t> hashOf;
};

/// A function identical to an earlier one (see EquivalentFunctions) is
/// erased in favour of it; a new one is named `prefix` + a number and added
/// to the symbols.
class UniqueFunctions {
public:
  UniqueFunctions(mlir::SymbolTable &symbols, llvm::StringRef prefix)
      : symbols(symbols), prefix(prefix.str()) {}

  /// The function to call for `function` (detached from nothing: it must
  /// already be in the module), and whether it is `function` itself.
  std::pair<mlir::func::FuncOp, bool> unique(mlir::func::FuncOp function) {
    auto earlier = llvm::cast<mlir::func::FuncOp>(
        equivalent.findOrInsert(function.getOperation()));
    if (earlier != function) {
      function.erase();
      return {earlier, false};
    }
    function.setSymName(prefix + std::to_string(counter++));
    symbols.insert(function);
    return {function, true};
  }

private:
  mlir::SymbolTable &symbols;
  std::string prefix;
  EquivalentFunctions equivalent;
  unsigned counter = 0;
};

} // namespace nnc

#endif // NNC_PASSES_TRANSFORMS_UNIQUEFUNCTIONS_H
