//===- OutlineKernels.cpp - One function per top-level loop nest ---------===//
//
// Splits the (inlined) entry points into a sequence of calls of kernel
// functions, one per top-level loop nest, shared between identical nests.
// Keeps LLVM's per-function costs linear in the size of the model.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

#include <map>

namespace nnc {
#define GEN_PASS_DEF_NNOUTLINEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// The values `op` uses that are defined outside it, in first-use order.
SetVector<Value> capturedValues(Operation *op) {
  SetVector<Value> captured(op->operand_begin(), op->operand_end());
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  return captured;
}

/// A constant (no operands, no side effects) is cloned into the kernel
/// rather than passed: the kernel body keeps seeing its value.
bool isClonedConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
         matchPattern(v, m_Constant());
}

struct NNOutlineKernelsPass
    : nnc::impl::NNOutlineKernelsPassBase<NNOutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    // Kernels by their text (with a placeholder name): a nest identical to
    // an earlier one calls the earlier kernel.
    std::map<std::string, func::FuncOp> kernels;
    unsigned counter = 0;

    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal() || !function.getBody().hasOneBlock())
        continue;
      SmallVector<scf::ForOp> nests;
      for (Operation &op : function.getBody().front())
        if (auto loop = dyn_cast<scf::ForOp>(op))
          if (loop->getNumResults() == 0)
            nests.push_back(loop);

      // New kernels follow their first caller, in order (the IR reads
      // top-down: the entry point, then what it calls).
      Operation *lastKernel = function;
      for (scf::ForOp nest : nests) {
        SetVector<Value> captured = capturedValues(nest);
        SmallVector<Value> arguments;
        for (Value v : captured)
          if (!isClonedConstant(v))
            arguments.push_back(v);

        // The kernel: constants, a clone of the nest, return.
        OpBuilder b(ctx);
        b.setInsertionPointAfter(lastKernel);
        auto type = b.getFunctionType(ValueRange(arguments).getTypes(), {});
        auto kernel =
            b.create<func::FuncOp>(nest.getLoc(), "__nnc_kernel", type);
        kernel.setPrivate();
        kernel->setAttr("no_inline", b.getUnitAttr());
        Block *body = kernel.addEntryBlock();
        b.setInsertionPointToStart(body);
        IRMapping mapping;
        for (auto [value, arg] : llvm::zip(arguments, body->getArguments()))
          mapping.map(value, arg);
        for (Value v : captured)
          if (isClonedConstant(v))
            b.clone(*v.getDefiningOp(), mapping);
        b.clone(*nest, mapping);
        b.create<func::ReturnOp>(nest.getLoc());

        std::string key;
        {
          llvm::raw_string_ostream os(key);
          kernel->print(os,
                        OpPrintingFlags().printGenericOpForm().useLocalScope());
        }
        auto [it, inserted] = kernels.try_emplace(key, kernel);
        if (inserted) {
          kernel.setSymName(("__nnc_kernel_" + Twine(counter++)).str());
          symbols.insert(kernel);
          lastKernel = kernel;
        } else {
          kernel.erase();
        }
        b.setInsertionPoint(nest);
        b.create<func::CallOp>(nest.getLoc(), it->second, arguments);
        nest.erase();
      }
    }
  }
};

} // namespace
