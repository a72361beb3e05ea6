//===- PlanBuffers.cpp - A static memory plan for temporary buffers -------===//
//
// Every shape is static, so every temporary buffer of a function is known at
// compile time. This pass gives them fixed places in one workspace per
// function, sharing bytes between buffers whose lifetimes do not overlap, so
// that a training step allocates nothing: no malloc, no free, and no page
// faults from fresh heap memory at every step.
//
// Lifetimes are intervals over the ops of the function's entry block: a
// buffer is live from the first to the last entry-block op that uses it or a
// value derived from it (views, casts, loop results), uses inside nested
// regions counting at their entry-block ancestor. Offsets are assigned
// greedily, largest buffer first, at the lowest 64-byte aligned offset that
// does not collide with an already placed buffer of overlapping lifetime.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>

namespace nnc {
#define GEN_PASS_DEF_NNPLANBUFFERSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

struct Interval {
  memref::AllocOp alloc;
  int64_t bytes = 0;
  unsigned first = 0, last = 0; // positions in the entry block, inclusive
  int64_t offset = -1;
};

/// Byte size of a statically shaped, identity-layout memref of int or float
/// elements; 0 when the buffer cannot be planned.
static int64_t plannableBytes(memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !alloc.getDynamicSizes().empty() || !alloc.getSymbolOperands().empty() ||
      type.getMemorySpace() || !type.getElementType().isIntOrFloat())
    return 0;
  int64_t bits = type.getElementTypeBitWidth();
  if (bits % 8 != 0)
    return 0;
  return std::max<int64_t>(type.getNumElements() * (bits / 8), 1);
}

/// The lifetime of `alloc` as positions in `block`, or failure when the
/// buffer escapes the function (returned), so that it must stay an
/// allocation.
static FailureOr<std::pair<unsigned, unsigned>>
lifetime(memref::AllocOp alloc, Block &block,
         const DenseMap<Operation *, unsigned> &position) {
  unsigned first = ~0u, last = 0;
  SmallVector<Value> worklist{alloc.getResult()};
  DenseSet<Value> seen{alloc.getResult()};
  auto follow = [&](Value v) {
    if (isa<BaseMemRefType>(v.getType()) && seen.insert(v).second)
      worklist.push_back(v);
  };
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<func::ReturnOp>(user))
        return failure();
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top)
        return failure();
      unsigned pos = position.lookup(top);
      first = std::min(first, pos);
      last = std::max(last, pos);
      // Anything derived from the buffer aliases it: results of the user
      // (views, casts, loops carrying it), the values a terminator forwards
      // to its parent, and region arguments it is passed to.
      for (Value result : user->getResults())
        follow(result);
      if (user->hasTrait<OpTrait::IsTerminator>() && user != top)
        for (Value result : user->getParentOp()->getResults())
          follow(result);
      for (Region &region : user->getRegions())
        for (Block &b : region)
          for (BlockArgument arg : b.getArguments())
            follow(arg);
    }
  }
  if (first == ~0u) // unused: place it with an empty lifetime at its def
    first = last = position.lookup(alloc);
  return std::make_pair(first, last);
}

/// Places the buffers: largest first, each at the lowest aligned offset
/// free of every placed buffer whose lifetime overlaps. Returns the size.
static int64_t assignOffsets(MutableArrayRef<Interval> buffers) {
  SmallVector<Interval *> order;
  for (Interval &b : buffers)
    order.push_back(&b);
  std::stable_sort(order.begin(), order.end(),
                   [](const Interval *a, const Interval *b) {
                     return a->bytes > b->bytes;
                   });
  int64_t total = 0;
  SmallVector<Interval *> placed;
  for (Interval *b : order) {
    SmallVector<std::pair<int64_t, int64_t>> taken;
    for (Interval *p : placed)
      if (p->first <= b->last && b->first <= p->last)
        taken.push_back({p->offset, p->offset + p->bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + b->bytes <= lo)
        break;
      offset = std::max<int64_t>(offset, llvm::alignTo(hi, kAlignment));
    }
    b->offset = offset;
    total = std::max(total, offset + b->bytes);
    placed.push_back(b);
  }
  return static_cast<int64_t>(llvm::alignTo(total, kAlignment));
}

struct NNPlanBuffersPass
    : nnc::impl::NNPlanBuffersPassBase<NNPlanBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isExternal())
        continue;
      if (failed(planFunction(func, symbols)))
        return signalPassFailure();
    }
  }

  LogicalResult planFunction(func::FuncOp func, SymbolTable &symbols) {
    Block &block = func.getBody().front();
    DenseMap<Operation *, unsigned> position;
    unsigned index = 0;
    for (Operation &op : block)
      position[&op] = index++;

    SmallVector<Interval> buffers;
    for (auto alloc : block.getOps<memref::AllocOp>()) {
      int64_t bytes = plannableBytes(alloc);
      if (!bytes)
        continue;
      auto span = lifetime(alloc, block, position);
      if (failed(span))
        continue;
      buffers.push_back({alloc, bytes, span->first, span->second});
    }
    if (buffers.empty())
      return success();
    int64_t total = assignOffsets(buffers);

    OpBuilder b(func.getContext());
    auto wsType = MemRefType::get({total}, b.getI8Type());
    nnc::nn::NNDialect::WorkspaceBytesAttrHelper(b.getContext())
        .setAttr(func, b.getI64IntegerAttr(total));
    Value workspace;
    if (argument) {
      // The caller's (device) memory: a last argument.
      if (!SymbolTable::symbolKnownUseEmpty(func, func->getParentOp())) {
        return func.emitOpError("is called, so cannot take its workspace as "
                                "an argument (inline it first)");
      }
      unsigned index = func.getNumArguments();
      func.insertArgument(index, wsType, {}, func.getLoc());
      workspace = func.getArgument(index);
      b.setInsertionPointToStart(&block);
    } else {
      b.setInsertionPoint(func);
      auto global = b.create<memref::GlobalOp>(
          func.getLoc(), (func.getSymName() + "_workspace").str(),
          b.getStringAttr("private"), wsType, b.getUnitAttr(),
          /*constant=*/false, b.getI64IntegerAttr(kAlignment));
      symbols.insert(global); // uniquifies the name if needed
      b.setInsertionPointToStart(&block);
      workspace = b.create<memref::GetGlobalOp>(func.getLoc(), wsType,
                                                global.getSymName());
    }
    DenseMap<int64_t, Value> offsets; // one constant per distinct offset
    for (Interval &buf : buffers) {
      Value &offset = offsets[buf.offset];
      if (!offset) {
        b.setInsertionPointAfterValue(workspace);
        offset = b.create<arith::ConstantIndexOp>(func.getLoc(), buf.offset);
      }
      b.setInsertionPoint(buf.alloc);
      Value view = b.create<memref::ViewOp>(buf.alloc.getLoc(),
                                            buf.alloc.getType(), workspace,
                                            offset, ValueRange{});
      for (Operation *user : llvm::to_vector(buf.alloc->getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      buf.alloc.replaceAllUsesWith(view);
      buf.alloc.erase();
    }
    return success();
  }
};

} // namespace
