//===- OutlineKernels.cpp - One function per top-level loop nest ---------===//
//
// Splits the (inlined) entry points into a sequence of calls of kernel
// functions, one per top-level loop nest, shared between identical nests.
// Keeps LLVM's per-function costs linear in the size of the model. The
// bodies of parallel loops (scf.forall) become kernels too, called per chunk
// through a launcher that nn-generate-launchers defines.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/Transforms/UniqueFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include <functional>
#include <map>

namespace nnc {
#define GEN_PASS_DEF_NNOUTLINEKERNELSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// Segment size for functions made of layer calls (nn.layer_calls): 2,000 layers then compile in twice the
/// time of 1,000 (4,096 ops: 3.5 times).
constexpr int64_t kLayerCallSegmentOps = 512;

/// The values `op` uses that are defined outside it, in first-use order.
SetVector<Value> capturedValues(Operation *op) {
  SetVector<Value> captured(op->operand_begin(), op->operand_end());
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  return captured;
}

/// A constant (no operands, no side effects) is cloned into the kernel
/// rather than passed: the kernel body keeps seeing its value.
bool isClonedConstantOp(Operation *op) {
  return op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         op->getNumResults() == 1 && matchPattern(op, m_Constant());
}
bool isClonedConstant(Value v) {
  Operation *def = v.getDefiningOp();
  return def && isClonedConstantOp(def);
}

/// A memref whose layout has a dynamic offset or stride (a view at a loop's
/// step): the bare-pointer calling convention cannot pass it, so a kernel
/// takes its base buffer and the dynamic values instead and rebuilds it.
bool needsMetadata(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type)
    return false;
  auto layout = dyn_cast<StridedLayoutAttr>(type.getLayout());
  return layout && (ShapedType::isDynamic(layout.getOffset()) ||
                    llvm::any_of(layout.getStrides(), ShapedType::isDynamic));
}

/// A view at a static offset other than 0 (a slot of the parameter arena,
/// a part of a concatenation's buffer) whose layout every view `scope`
/// takes of it (subviews, reshapes) can follow with a dynamic offset: a
/// kernel takes its base buffer and the offset instead, so that the same
/// loop nest over another slot (the layers of a `repeat`, the optimizer's
/// update of each parameter of a shape) shares the kernel instead of being
/// lowered to LLVM once per offset.
bool passesOffset(Value v, Operation *scope) {
  auto type = dyn_cast<MemRefType>(v.getType());
  auto layout = type ? dyn_cast<StridedLayoutAttr>(type.getLayout())
                     : StridedLayoutAttr();
  if (!layout || ShapedType::isDynamic(layout.getOffset()) ||
      layout.getOffset() == 0 ||
      llvm::any_of(layout.getStrides(), ShapedType::isDynamic))
    return false;
  std::function<bool(Value)> follows = [&](Value view) {
    for (Operation *user : view.getUsers()) {
      if (user != scope && !scope->isProperAncestor(user))
        continue;
      if (isa<memref::SubViewOp, memref::CollapseShapeOp,
              memref::ExpandShapeOp>(user)) {
        if (!follows(user->getResult(0)))
          return false;
        continue;
      }
      if (llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        return false;
    }
    return true;
  };
  return follows(v);
}

/// The views a kernel's body takes of `rebased` values (passesOffset),
/// retyped for their dynamic offsets.
void propagateDynamicOffsets(Block *body, DenseSet<Value> rebased) {
  body->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (op->getNumOperands() == 0 || !rebased.contains(op->getOperand(0)))
      return;
    Type type;
    if (auto subview = dyn_cast<memref::SubViewOp>(op))
      type = memref::SubViewOp::inferRankReducedResultType(
          subview.getType().getShape(), subview.getSourceType(),
          subview.getMixedOffsets(), subview.getMixedSizes(),
          subview.getMixedStrides());
    else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op))
      type = memref::CollapseShapeOp::computeCollapsedType(
          collapse.getSrcType(), collapse.getReassociationIndices());
    else if (auto expand = dyn_cast<memref::ExpandShapeOp>(op))
      // Its strides are the static-offset source's, which the op expanded.
      type = *memref::ExpandShapeOp::computeExpandedType(
          expand.getSrcType(), expand.getResultType().getShape(),
          expand.getReassociationIndices());
    else
      return;
    op->getResult(0).setType(type);
    rebased.insert(op->getResult(0));
  });
}

/// Kernels by their text (printed with a placeholder name): a region
/// identical to an earlier one calls the earlier kernel.
class KernelTable {
public:
  explicit KernelTable(ModuleOp module)
      : symbols(module), kernels(symbols, "__nnc_kernel_") {}

  /// Makes a private `no_inline` function of `leading` arguments followed
  /// by the values `op` captures (constants are cloned into it rather than
  /// passed), whose body `fill` writes with `mapping` holding the
  /// arguments and constants. Returns the function (an earlier identical
  /// one if any) and the captured values to pass after the leading ones.
  std::pair<func::FuncOp, SmallVector<Value>>
  getOrCreate(Operation *op, TypeRange leading, Operation *&lastKernel,
              function_ref<void(OpBuilder &, Block *, IRMapping &)> fill) {
    SetVector<Value> captured = capturedValues(op);
    // What the call passes: the captured values, but for a view with a
    // dynamic layout its base buffer, then its dynamic offset and strides.
    // A view at a static offset (passesOffset) passes its base buffer and
    // offset too.
    SmallVector<Value> arguments;
    OpBuilder caller(op);
    DenseMap<Value, memref::ExtractStridedMetadataOp> metadata;
    DenseSet<Value> offsetPassed;
    for (Value v : captured) {
      if (isClonedConstant(v))
        continue;
      bool passOffset = passesOffset(v, op);
      if (!needsMetadata(v) && !passOffset) {
        arguments.push_back(v);
        continue;
      }
      auto md =
          caller.create<memref::ExtractStridedMetadataOp>(op->getLoc(), v);
      metadata[v] = md;
      arguments.push_back(md.getBaseBuffer());
      auto layout =
          cast<StridedLayoutAttr>(cast<MemRefType>(v.getType()).getLayout());
      if (passOffset) {
        offsetPassed.insert(v);
        arguments.push_back(caller.create<arith::ConstantIndexOp>(
            op->getLoc(), layout.getOffset()));
      } else if (ShapedType::isDynamic(layout.getOffset())) {
        arguments.push_back(md.getOffset());
      }
      for (auto [k, stride] : llvm::enumerate(layout.getStrides()))
        if (ShapedType::isDynamic(stride))
          arguments.push_back(md.getStrides()[k]);
    }

    OpBuilder b(op->getContext());
    b.setInsertionPointAfter(lastKernel);
    SmallVector<Type> types(leading.begin(), leading.end());
    llvm::append_range(types, ValueRange(arguments).getTypes());
    auto kernel = b.create<func::FuncOp>(op->getLoc(), "__nnc_kernel",
                                         b.getFunctionType(types, {}));
    kernel.setPrivate();
    kernel->setAttr("no_inline", b.getUnitAttr());
    Block *body = kernel.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping mapping;
    unsigned next = leading.size();
    for (Value v : captured) {
      if (isClonedConstant(v))
        continue;
      if (!metadata.count(v)) {
        mapping.map(v, body->getArgument(next++));
        continue;
      }
      // The view again, from its base and its dynamic values.
      auto type = cast<MemRefType>(v.getType());
      auto layout = cast<StridedLayoutAttr>(type.getLayout());
      Value base = body->getArgument(next++);
      OpFoldResult offset = b.getIndexAttr(layout.getOffset());
      if (offsetPassed.contains(v)) {
        layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                        layout.getStrides());
        type = MemRefType::get(type.getShape(), type.getElementType(), layout,
                               type.getMemorySpace());
      }
      if (ShapedType::isDynamic(layout.getOffset()))
        offset = body->getArgument(next++);
      SmallVector<OpFoldResult> sizes, strides;
      for (int64_t d : type.getShape())
        sizes.push_back(b.getIndexAttr(d));
      for (int64_t stride : layout.getStrides())
        strides.push_back(ShapedType::isDynamic(stride)
                              ? OpFoldResult(body->getArgument(next++))
                              : OpFoldResult(b.getIndexAttr(stride)));
      mapping.map(v, b.create<memref::ReinterpretCastOp>(
                          op->getLoc(), type, base, offset, sizes, strides)
                         .getResult());
    }
    for (Value v : captured)
      if (isClonedConstant(v))
        b.clone(*v.getDefiningOp(), mapping);
    fill(b, body, mapping);
    if (!offsetPassed.empty()) {
      DenseSet<Value> rebased;
      for (Value v : offsetPassed)
        rebased.insert(mapping.lookup(v));
      propagateDynamicOffsets(body, std::move(rebased));
    }
    b.create<func::ReturnOp>(op->getLoc());

    auto [unique, isNew] = kernels.unique(kernel);
    if (isNew)
      lastKernel = unique;
    return {unique, arguments};
  }

  /// The launcher of `chunks` chunks of `body`: a declaration that
  /// nn-generate-launchers defines once the module is in the LLVM dialect.
  func::FuncOp getOrCreateLauncher(func::FuncOp body, int64_t chunks,
                                   Operation *&lastKernel) {
    std::string key = (body.getSymName() + "/" + Twine(chunks)).str();
    func::FuncOp &launcher = launchers[key];
    if (launcher)
      return launcher;
    OpBuilder b(body.getContext());
    b.setInsertionPointAfter(lastKernel);
    launcher = b.create<func::FuncOp>(
        body.getLoc(), ("__nnc_parallel_" + Twine(launchers.size() - 1)).str(),
        b.getFunctionType(body.getArgumentTypes().drop_front(), {}));
    launcher.setPrivate();
    nnc::nn::NNDialect::ParallelBodyAttrHelper(b.getContext())
        .setAttr(launcher, FlatSymbolRefAttr::get(body));
    nnc::nn::NNDialect::ParallelChunksAttrHelper(b.getContext())
        .setAttr(launcher, b.getI64IntegerAttr(chunks));
    symbols.insert(launcher);
    lastKernel = launcher;
    return launcher;
  }

  /// Adds `function` to the module's symbols (renamed if its name is taken).
  void insert(func::FuncOp function) { symbols.insert(function); }

private:
  SymbolTable symbols;
  nnc::UniqueFunctions kernels;
  std::map<std::string, func::FuncOp> launchers;
};

struct NNOutlineKernelsPass
    : nnc::impl::NNOutlineKernelsPassBase<NNOutlineKernelsPass> {
  using NNOutlineKernelsPassBase::NNOutlineKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelTable table(module);

    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal() || !function.getBody().hasOneBlock())
        continue;
      // New kernels follow their first caller, in order (the IR reads
      // top-down: the entry point, then what it calls).
      Operation *lastKernel = function;

      // Parallel loops first: their bodies become kernels of their own,
      // called once per chunk from the runtime's threads, so that a loop
      // nest around a parallel loop (outlined below) only calls its
      // launcher.
      SmallVector<scf::ForallOp> foralls;
      function.walk([&](scf::ForallOp forall) { foralls.push_back(forall); });
      for (scf::ForallOp forall : foralls)
        if (failed(outlineForall(forall, table, lastKernel)))
          return signalPassFailure();

      SmallVector<scf::ForOp> nests;
      for (Operation &op : function.getBody().front())
        if (auto loop = dyn_cast<scf::ForOp>(op))
          if (loop->getNumResults() == 0)
            nests.push_back(loop);
      for (scf::ForOp nest : nests) {
        auto [kernel, arguments] =
            table.getOrCreate(nest, {}, lastKernel,
                              [&](OpBuilder &b, Block *, IRMapping &mapping) {
                                b.clone(*nest, mapping);
                              });
        OpBuilder b(nest);
        b.create<func::CallOp>(nest.getLoc(), kernel, arguments);
        nest.erase();
      }
      if (segmentOps > 0)
        splitIntoSegments(function, table);
    }
  }

  /// Splits a function of more than `segmentOps` operations into a
  /// prologue of allocations and views and calls of segment functions (see
  /// the pass description). Leaves a function that defines other memref
  /// values unchanged.
  void splitIntoSegments(func::FuncOp function, KernelTable &table) {
    Block &block = function.getBody().front();
    SmallVector<std::pair<Operation *, int64_t>> body; // op, nested size
    int64_t total = 0;
    for (Operation &op : block.without_terminator()) {
      int64_t size = 0;
      op.walk([&](Operation *) { ++size; });
      body.push_back({&op, size});
      total += size;
    }
    // Entry points made of layer calls (nn-outline-layers) are long
    // straight sequences of calls with pointer arguments, on which LLVM's
    // module passes (CalledValuePropagation, InstCombine) and instruction
    // selection grow quadratically with the function: smaller segments.
    int64_t limit = nnc::nn::NNDialect::LayerCallsAttrHelper(&getContext())
                            .isAttrPresent(function)
                        ? std::min<int64_t>(segmentOps, kLayerCallSegmentOps)
                        : segmentOps;
    if (total <= limit)
      return;

    // The prologue: constants, and allocations and views of arguments,
    // constants and prologue ops. Every other op must define no memref, as
    // a segment returns its values through the bare-pointer convention.
    DenseSet<Operation *> prologue;
    auto available = [&](Value v) {
      Operation *def = v.getDefiningOp();
      return !def || prologue.contains(def);
    };
    for (auto [op, size] : body) {
      bool definesMemRef = llvm::any_of(
          op->getResultTypes(), [](Type t) { return isa<BaseMemRefType>(t); });
      // (A kernel call's base buffers and offsets of views are views too.)
      bool isAllocOrView =
          definesMemRef && op->getNumRegions() == 0 &&
          (isa<memref::ExtractStridedMetadataOp>(op) ||
           llvm::all_of(op->getResultTypes(),
                        [](Type t) { return isa<BaseMemRefType>(t); })) &&
          (isa<memref::AllocOp, memref::AllocaOp>(op) ||
           isMemoryEffectFree(op)) &&
          llvm::all_of(op->getOperands(), available);
      if (isAllocOrView || isClonedConstantOp(op))
        prologue.insert(op);
      else if (definesMemRef)
        return;
    }
    Operation *firstOther = nullptr;
    for (auto [op, size] : body) {
      if (!prologue.contains(op)) {
        if (!firstOther)
          firstOther = op;
      } else if (firstOther) {
        op->moveBefore(firstOther);
      }
    }

    // Consecutive segments of about segmentOps operations.
    SmallVector<SmallVector<Operation *>> segments(1);
    int64_t size = 0;
    for (auto [op, opSize] : body) {
      if (prologue.contains(op))
        continue;
      if (size > 0 && size + opSize > limit) {
        segments.emplace_back();
        size = 0;
      }
      segments.back().push_back(op);
      size += opSize;
    }
    Operation *insertAfter = function;
    for (ArrayRef<Operation *> segment : segments)
      insertAfter = outlineSegment(function, segment, insertAfter, table);
  }

  /// Moves the consecutive entry-block ops `ops` of `function` into a new
  /// function (placed after `insertAfter`, which it returns) and calls it.
  Operation *outlineSegment(func::FuncOp function, ArrayRef<Operation *> ops,
                            Operation *insertAfter, KernelTable &table) {
    Block &block = function.getBody().front();
    DenseSet<Operation *> inSegment(ops.begin(), ops.end());
    auto definedOutside = [&](Value v) {
      if (v.getParentBlock() != &block)
        return false; // nested in a segment op
      Operation *def = v.getDefiningOp();
      return !def || !inSegment.contains(def);
    };
    // Captured values in first-use order, the constants among them cloned.
    SetVector<Value> captured;
    for (Operation *op : ops)
      op->walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (definedOutside(v))
            captured.insert(v);
      });
    SmallVector<Value> arguments, results;
    for (Value v : captured)
      if (!isClonedConstant(v))
        arguments.push_back(v);
    for (Operation *op : ops)
      for (Value v : op->getResults())
        if (llvm::any_of(v.getUsers(), [&](Operation *user) {
              return !inSegment.contains(block.findAncestorOpInBlock(*user));
            }))
          results.push_back(v);

    Location loc = ops.front()->getLoc();
    OpBuilder b(function.getContext());
    b.setInsertionPointAfter(insertAfter);
    auto segment = b.create<func::FuncOp>(
        loc, ("__nnc_segment_" + Twine(segmentCounter++)).str(),
        b.getFunctionType(ValueRange(arguments).getTypes(),
                          ValueRange(results).getTypes()));
    segment.setPrivate();
    segment->setAttr("no_inline", b.getUnitAttr());
    table.insert(segment);
    Block *entry = segment.addEntryBlock();
    DenseMap<Value, Value> mapping;
    for (auto [value, arg] : llvm::zip(arguments, entry->getArguments()))
      mapping[value] = arg;
    b.setInsertionPointToStart(entry);
    for (Value v : captured)
      if (isClonedConstant(v))
        mapping[v] = b.clone(*v.getDefiningOp())->getResult(0);

    b.setInsertionPoint(ops.front());
    auto call = b.create<func::CallOp>(loc, segment, arguments);
    for (auto [value, result] : llvm::zip(results, call.getResults()))
      value.replaceUsesWithIf(result, [&](OpOperand &use) {
        return !inSegment.contains(
            block.findAncestorOpInBlock(*use.getOwner()));
      });
    for (Operation *op : ops) {
      op->moveBefore(entry, entry->end());
      op->walk([&](Operation *nested) {
        for (OpOperand &operand : nested->getOpOperands())
          if (Value mapped = mapping.lookup(operand.get()))
            operand.set(mapped);
      });
    }
    b.setInsertionPointToEnd(entry);
    b.create<func::ReturnOp>(loc, results);
    return segment;
  }

  unsigned segmentCounter = 0;

  /// scf.forall (%iv) = (lb) to (ub) step (s) {body} with constant bounds
  /// becomes a call of a launcher of n = ceil((ub - lb) / s) chunks of
  /// kernel(i, captured...), whose body is the forall's at %iv = lb + i s.
  LogicalResult outlineForall(scf::ForallOp forall, KernelTable &table,
                              Operation *&lastKernel) {
    if (forall.getRank() != 1 || forall->getNumResults() != 0)
      return forall.emitOpError()
             << "nn-outline-kernels needs bufferized one-dimensional loops";
    std::optional<int64_t> lb =
        getConstantIntValue(forall.getMixedLowerBound()[0]);
    std::optional<int64_t> ub =
        getConstantIntValue(forall.getMixedUpperBound()[0]);
    std::optional<int64_t> step = getConstantIntValue(forall.getMixedStep()[0]);
    if (!lb || !ub || !step || *step <= 0)
      return forall.emitOpError()
             << "nn-outline-kernels needs constant loop bounds and steps";
    int64_t chunks = *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
    Location loc = forall.getLoc();
    Type indexType = IndexType::get(forall.getContext());
    auto [kernel, arguments] = table.getOrCreate(
        forall, {indexType}, lastKernel,
        [&](OpBuilder &b, Block *body, IRMapping &mapping) {
          Value i = body->getArgument(0);
          Value iv = b.create<arith::AddIOp>(
              loc, b.create<arith::ConstantIndexOp>(loc, *lb),
              b.create<arith::MulIOp>(
                  loc, i, b.create<arith::ConstantIndexOp>(loc, *step)));
          mapping.map(forall.getInductionVars()[0], iv);
          for (Operation &op : forall.getBody()->without_terminator())
            b.clone(op, mapping);
        });
    OpBuilder b(forall);
    if (serial) {
      auto loop =
          b.create<scf::ForOp>(loc, b.create<arith::ConstantIndexOp>(loc, 0),
                               b.create<arith::ConstantIndexOp>(loc, chunks),
                               b.create<arith::ConstantIndexOp>(loc, 1));
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> withIndex{loop.getInductionVar()};
      llvm::append_range(withIndex, arguments);
      b.create<func::CallOp>(loc, kernel, withIndex);
      forall.erase();
      return success();
    }
    func::FuncOp launcher =
        table.getOrCreateLauncher(kernel, chunks, lastKernel);
    b.create<func::CallOp>(loc, launcher, arguments);
    forall.erase();
    return success();
  }
};

} // namespace
