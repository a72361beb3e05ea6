//===- MergeKernels.cpp - Kernels equal up to pointer offsets are one -----===//
//
// The layers of a `repeat` are the same loop nests over different parts of
// the parameter and workspace arenas. nn-outline-kernels shares a kernel only
// between nests whose views have the same static offsets, so each repeated
// layer keeps its own copy of the same code, offsets aside. Here, in the LLVM
// dialect where a view is a pointer, the offsets move to the callers and the
// copies become one.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/Transforms/UniqueFunctions.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

#include <string>

namespace nnc {
#define GEN_PASS_DEF_NNMERGEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kKernelPrefix = "__nnc_kernel_";
constexpr llvm::StringLiteral kGeneratedPrefix = "__nnc_";

/// The constant of `gep %base[c]`: one constant index, nothing dynamic.
std::optional<int32_t> singleConstantIndex(LLVM::GEPOp gep) {
  ArrayRef<int32_t> raw = gep.getRawConstantIndices();
  if (raw.size() != 1 || raw[0] == LLVM::GEPOp::kDynamicIndex ||
      !gep.getDynamicIndices().empty())
    return std::nullopt;
  return raw[0];
}

/// A private or internal function that the pipeline generated (a kernel,
/// a parallel launcher or its task, a segment), defined here.
bool isGenerated(LLVM::LLVMFuncOp func) {
  return !func.isExternal() && func.getName().starts_with(kGeneratedPrefix) &&
         (func.isPrivate() || func.getLinkage() == LLVM::Linkage::Internal);
}

struct NNMergeKernelsPass
    : nnc::impl::NNMergeKernelsPassBase<NNMergeKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Direct calls by callee. A function referred to in any other way than
    // by calls and llvm.mlir.addressof is left as it is; one whose address
    // is taken keeps its arguments.
    llvm::StringMap<SmallVector<LLVM::CallOp>> calls;
    llvm::StringSet<> addressTaken, pinned;
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(&module.getBodyRegion()))
      for (const SymbolTable::SymbolUse &use : *uses) {
        StringRef name = use.getSymbolRef().getRootReference();
        auto call = dyn_cast<LLVM::CallOp>(use.getUser());
        if (call && call.getCallee() == name)
          calls[name].push_back(call);
        else if (isa<LLVM::AddressOfOp>(use.getUser()))
          addressTaken.insert(name);
        else
          pinned.insert(name);
      }
    SmallVector<LLVM::LLVMFuncOp> candidates;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      if (!isGenerated(func) || pinned.contains(func.getName()))
        continue;
      candidates.push_back(func);
      if (func.getName().starts_with(kKernelPrefix) &&
          !addressTaken.contains(func.getName()))
        rebasePointerArguments(func, calls[func.getName()]);
    }
    for (LLVM::LLVMFuncOp func : candidates)
      sortConstants(func);
    mergeIdentical(module, candidates);
  }

  /// Each pointer argument of `kernel` used only as `gep %arg[c]` (all with
  /// one element type) becomes the pointer at the smallest c, which the
  /// callers compute: `gep %arg[c]` turns into `gep %arg[c - min]` (or the
  /// argument itself) inside, `p` into `gep p[min]` at every call.
  static void rebasePointerArguments(LLVM::LLVMFuncOp kernel,
                                     ArrayRef<LLVM::CallOp> callers) {
    for (BlockArgument arg : kernel.getArguments()) {
      if (!isa<LLVM::LLVMPointerType>(arg.getType()) || arg.use_empty())
        continue;
      Type element;
      int32_t lowest = std::numeric_limits<int32_t>::max();
      bool rebasable = llvm::all_of(arg.getUsers(), [&](Operation *user) {
        auto gep = dyn_cast<LLVM::GEPOp>(user);
        std::optional<int32_t> c;
        if (!gep || gep.getBase() != arg || !(c = singleConstantIndex(gep)) ||
            (element && element != gep.getElemType()))
          return false;
        element = gep.getElemType();
        lowest = std::min(lowest, *c);
        return true;
      });
      if (!rebasable || lowest <= 0)
        continue;
      for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
        auto gep = cast<LLVM::GEPOp>(user);
        int32_t rest = *singleConstantIndex(gep) - lowest;
        Value moved = arg;
        if (rest != 0) {
          OpBuilder b(gep);
          moved = b.create<LLVM::GEPOp>(gep.getLoc(), gep.getType(), element,
                                        arg, ArrayRef<LLVM::GEPArg>{rest},
                                        gep.getInbounds());
        }
        gep.replaceAllUsesWith(moved);
        gep.erase();
      }
      for (LLVM::CallOp call : callers) {
        OpBuilder b(call);
        OpOperand &operand = call.getArgOperandsMutable()[arg.getArgNumber()];
        operand.set(b.create<LLVM::GEPOp>(call.getLoc(), arg.getType(), element,
                                          operand.get(),
                                          ArrayRef<LLVM::GEPArg>{lowest}));
      }
    }
  }

  /// The constants at the top of `func`'s entry block in one order, by
  /// their value and type: the canonicalizer hoists them in the order it
  /// meets them, which differs between kernels that are otherwise the same
  /// (constants cloned into one kernel first, created in the other).
  static void sortConstants(LLVM::LLVMFuncOp func) {
    Block &entry = func.getBody().front();
    SmallVector<std::pair<std::string, Operation *>> constants;
    for (Operation &op : entry) {
      if (!isa<LLVM::ConstantOp, LLVM::ZeroOp, LLVM::UndefOp, LLVM::PoisonOp,
               LLVM::AddressOfOp>(op) ||
          op.getNumOperands() != 0)
        continue;
      std::string key;
      llvm::raw_string_ostream os(key);
      op.getName().print(os);
      os << ' ' << op.getAttrDictionary() << ' ' << op.getResultTypes();
      constants.emplace_back(std::move(key), &op);
    }
    llvm::stable_sort(constants, [](const auto &a, const auto &b) {
      return a.first < b.first;
    });
    for (auto &[key, op] : llvm::reverse(constants))
      op->moveBefore(&entry, entry.begin());
  }

  /// Candidates that are equal (their names aside; see
  /// EquivalentFunctions) become the first of them, until no two are equal:
  /// merging kernels can make the tasks that call them equal, and then their
  /// launchers.
  void mergeIdentical(ModuleOp module, ArrayRef<LLVM::LLVMFuncOp> candidates) {
    SymbolTable symbols(module);
    nnc::EquivalentFunctions equivalent;
    DenseSet<Operation *> isCandidate;
    for (LLVM::LLVMFuncOp func : candidates)
      isCandidate.insert(func);
    SmallVector<LLVM::LLVMFuncOp> pending(candidates);
    while (!pending.empty()) {
      llvm::DenseMap<StringAttr, FlatSymbolRefAttr> renamed;
      for (LLVM::LLVMFuncOp func : pending) {
        auto earlier = cast<LLVM::LLVMFuncOp>(equivalent.findOrInsert(func));
        if (earlier == func)
          continue;
        renamed[func.getSymNameAttr()] =
            FlatSymbolRefAttr::get(earlier.getSymNameAttr());
        isCandidate.erase(func);
        symbols.erase(func);
      }
      // Calls and addresses of the merged functions now name the first
      // ones; the candidates that changed are looked at again.
      SetVector<Operation *> changed;
      auto rename = [&](Operation *op, FlatSymbolRefAttr &ref) {
        auto to = ref ? renamed.find(ref.getAttr()) : renamed.end();
        if (to == renamed.end())
          return false;
        ref = to->second;
        if (auto func = op->getParentOfType<LLVM::LLVMFuncOp>())
          if (isCandidate.contains(func))
            changed.insert(func);
        return true;
      };
      if (!renamed.empty())
        module.walk([&](Operation *op) {
          if (auto call = dyn_cast<LLVM::CallOp>(op)) {
            FlatSymbolRefAttr ref = call.getCalleeAttr();
            if (rename(op, ref))
              call.setCalleeAttr(ref);
          } else if (auto address = dyn_cast<LLVM::AddressOfOp>(op)) {
            FlatSymbolRefAttr ref = address.getGlobalNameAttr();
            if (rename(op, ref))
              address.setGlobalNameAttr(ref);
          }
        });
      pending.clear();
      for (Operation *op : changed) {
        equivalent.erase(op);
        pending.push_back(cast<LLVM::LLVMFuncOp>(op));
      }
    }
  }
};

} // namespace
