//===- OutlineLayers.cpp - Identical layers share one function ------------===//
//
// Before tiling: the tensor ops of each layer (a run of consecutive ops with
// the same location, which MLIRGen and the autodiff give every layer and
// parameter) become a call of a function over tensors, and identical runs
// call one function. Everything after this pass then works on each distinct
// layer once, so that compile time grows with the number of distinct layers
// plus a few calls per layer, not with the size of the whole step.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/Transforms/ArenaViews.h"
#include "passes/Transforms/UniqueFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace nnc {
#define GEN_PASS_DEF_NNOUTLINELAYERSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

bool isMemRef(Type t) { return isa<BaseMemRefType>(t); }

/// An op without operands or regions and without effects (a constant, a
/// tensor.empty): cloned into each function that uses it, never passed.
bool isCloned(Operation *op) {
  return op->getNumOperands() == 0 && op->getNumRegions() == 0 &&
         op->getNumResults() == 1 && isMemoryEffectFree(op);
}

/// An op that may move into a layer function: pure computation on tensors
/// and scalars. Memref glue (the entry points' views of their arguments,
/// stores of results) stays in the caller.
bool isOutlinable(Operation *op) {
  return isMemoryEffectFree(op) && llvm::none_of(op->getOperandTypes(), isMemRef) &&
         llvm::none_of(op->getResultTypes(), isMemRef);
}

/// A constant-filled new tensor (`linalg.fill` of a constant into a
/// `tensor.empty`): recomputed in each function that uses it. CSE merges
/// the zero-initialized accumulators of all layers into one such value;
/// passed to every layer's call as the destination it writes, it would be
/// one buffer that bufferization copies for each call (its analysis of
/// that alias set grows quadratically).
bool isConstantFill(Operation *op) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  if (!fill || fill.getNumDpsInits() != 1 || fill.getNumDpsInputs() != 1)
    return false;
  Operation *value = fill.getDpsInputs()[0].getDefiningOp();
  return value && isCloned(value) &&
         fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
}

/// A view of a tensor (a reshape, a slice, a cast): never passed to or
/// returned from a layer function (one-shot bufferization cannot give a
/// function a view's layout), but cloned into each function that uses it,
/// from the tensor it views.
bool isTensorView(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::ExtractSliceOp, tensor::CastOp>(op);
}

// A view of an entry point's arena argument (parameters, gradients,
// optimizer state) at a static offset (nnc::arenaCast) has that offset in
// its layout, which a function boundary cannot take: a layer function takes
// the arena and the offset and makes the view itself, so that layers at
// different offsets share it.
using nnc::arenaCast;

/// `to_tensor` of an arena view: a parameter or state tensor.
bufferization::ToTensorOp arenaTensor(Value v) {
  auto toTensor = v.getDefiningOp<bufferization::ToTensorOp>();
  return toTensor && arenaCast(toTensor.getMemref()) ? toTensor
                                                     : nullptr;
}

/// The ops of arena views, which layer functions make themselves: they do
/// not interrupt a run.
bool isArenaViewOp(Operation *op) {
  return op->getNumResults() == 1 && (arenaCast(op->getResult(0)) ||
                                      arenaTensor(op->getResult(0)));
}

/// Whether `v` (a tensor computed in the caller) bufferizes to a buffer of
/// identity layout, as a layer function's tensor argument must.
bool hasIdentityBuffer(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (auto toTensor = dyn_cast<bufferization::ToTensorOp>(def))
    return cast<MemRefType>(toTensor.getMemref().getType())
        .getLayout()
        .isIdentity();
  // A layer call's results are fresh buffers; these ops allocate too.
  return isa<func::CallOp, tensor::FromElementsOp, tensor::EmptyOp,
             tensor::GenerateOp>(def);
}

struct NNOutlineLayersPass
    : nnc::impl::NNOutlineLayersPassBase<NNOutlineLayersPass> {
  using NNOutlineLayersPassBase::NNOutlineLayersPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    nnc::UniqueFunctions layers(symbols, "__nnc_layer_");
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal() || !function.getBody().hasOneBlock())
        continue;
      Block &block = function.getBody().front();
      if (int64_t(block.getOperations().size()) < minOps)
        continue;
      Operation *insertAfter = function;
      for (SmallVector<Operation *> &run : layerRuns(block))
        insertAfter = outline(run, layers, insertAfter);
      // nn-outline-kernels splits such functions into smaller segments.
      nnc::nn::NNDialect::LayerCallsAttrHelper(&getContext())
          .setAttr(function, UnitAttr::get(&getContext()));
    }
  }

  /// The runs of consecutive outlinable ops with one location that hold an
  /// op with a region (a linalg op, a loop). Cloned ops and tensor views
  /// do not interrupt a run and are not part of it.
  SmallVector<SmallVector<Operation *>> layerRuns(Block &block) {
    SmallVector<SmallVector<Operation *>> runs(1);
    std::optional<Location> location;
    for (Operation &op : block.without_terminator()) {
      if (isCloned(&op) || isConstantFill(&op) || isTensorView(&op) ||
          isArenaViewOp(&op))
        continue;
      if (!isOutlinable(&op)) {
        if (!runs.back().empty())
          runs.emplace_back();
        continue;
      }
      if (!runs.back().empty() && op.getLoc() != *location)
        runs.emplace_back();
      runs.back().push_back(&op);
      location = op.getLoc();
    }
    llvm::erase_if(runs, [](const SmallVector<Operation *> &run) {
      return llvm::none_of(
          run, [](Operation *op) { return op->getNumRegions() > 0; });
    });
    return runs;
  }

  /// A layer function being built from a run: its body, and for each of
  /// its arguments the caller's value.
  struct Builder {
    Block *body;                    ///< the new function's entry block
    OpBuilder b;                    ///< inserts into body
    OpBuilder caller;               ///< inserts before the run
    IRMapping mapping;              ///< caller values -> body values
    SmallVector<Value> arguments;   ///< caller values passed, in order

    Value argument(Value v) {
      arguments.push_back(v);
      return body->addArgument(v.getType(), v.getLoc());
    }

    /// The body's value for the caller's `v`, which the run uses;
    /// failure if `v` cannot cross the function boundary.
    FailureOr<Value> materialize(Value v) {
      if (Value mapped = mapping.lookupOrNull(v))
        return mapped;
      Operation *def = v.getDefiningOp();
      if (def && (isCloned(def) || isConstantFill(def) || isTensorView(def))) {
        for (Value operand : def->getOperands())
          if (failed(materialize(operand)))
            return failure();
        b.clone(*def, mapping);
        return mapping.lookup(v);
      }
      if (memref::ReinterpretCastOp view = arenaCast(v)) {
        Value arena = mapping.lookupOrNull(view.getSource());
        if (!arena) {
          arena = argument(view.getSource());
          mapping.map(view.getSource(), arena);
        }
        Value offset = argument(caller.create<arith::ConstantIndexOp>(
            view.getLoc(), view.getStaticOffsets()[0]));
        auto type = cast<MemRefType>(view.getType());
        auto layout = StridedLayoutAttr::get(
            v.getContext(), ShapedType::kDynamic, view.getStaticStrides());
        Value memref = b.create<memref::ReinterpretCastOp>(
            view.getLoc(),
            MemRefType::get(type.getShape(), type.getElementType(), layout,
                            type.getMemorySpace()),
            arena, OpFoldResult(offset),
            getAsIndexOpFoldResult(v.getContext(), view.getStaticSizes()),
            getAsIndexOpFoldResult(v.getContext(), view.getStaticStrides()));
        mapping.map(v, memref);
        return memref;
      }
      if (bufferization::ToTensorOp toTensor = arenaTensor(v)) {
        FailureOr<Value> memref = materialize(toTensor.getMemref());
        if (failed(memref))
          return failure();
        Value tensor = b.create<bufferization::ToTensorOp>(
            toTensor.getLoc(), *memref, toTensor.getRestrict(),
            toTensor.getWritable());
        mapping.map(v, tensor);
        return tensor;
      }
      if (isa<TensorType>(v.getType()) && !hasIdentityBuffer(v))
        return failure();
      if (isa<BaseMemRefType>(v.getType()) &&
          !cast<MemRefType>(v.getType()).getLayout().isIdentity())
        return failure();
      Value arg = argument(v);
      mapping.map(v, arg);
      return arg;
    }
  };

  /// Replaces `run` by a call of a function computing it (an identical
  /// earlier one when there is one), unless a value it uses cannot be
  /// passed. New functions go after `insertAfter`; returns the last one.
  Operation *outline(ArrayRef<Operation *> layerRun,
                     nnc::UniqueFunctions &layers,
                     Operation *insertAfter) {
    SmallVector<Operation *> run = withStores(layerRun);
    Block *block = run.front()->getBlock();
    auto *body = new Block();
    // (A detached block has no context to give a builder.)
    OpBuilder inBody(run.front()->getContext());
    inBody.setInsertionPointToStart(body);
    Builder fb{body, inBody, OpBuilder(run.front()), IRMapping(), {}};
    DenseSet<Operation *> members(run.begin(), run.end());
    auto inRun = [&](Operation *user) {
      return members.contains(block->findAncestorOpInBlock(*user));
    };
    auto giveUp = [&]() {
      delete body;
      for (Value v : fb.arguments)
        if (Operation *def = v.getDefiningOp())
          if (isa<arith::ConstantIndexOp>(def) && def->use_empty())
            def->erase();
      return insertAfter;
    };
    for (Operation *op : run) {
      bool ok = true;
      op->walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (v.getParentBlock() == block && !fb.mapping.contains(v))
            ok &= succeeded(fb.materialize(v));
      });
      if (!ok)
        return giveUp();
      fb.b.clone(*op, fb.mapping);
    }
    SmallVector<Value> results, returned;
    for (Operation *op : run)
      for (Value v : op->getResults())
        if (llvm::any_of(v.getUsers(),
                         [&](Operation *user) { return !inRun(user); })) {
          results.push_back(v);
          returned.push_back(fb.mapping.lookup(v));
        }
    Location loc = run.front()->getLoc();
    fb.b.create<func::ReturnOp>(loc, returned);

    OpBuilder b(run.front()->getContext());
    b.setInsertionPointAfter(insertAfter);
    auto layer = b.create<func::FuncOp>(
        loc, "__nnc_layer",
        b.getFunctionType(body->getArgumentTypes(),
                          ValueRange(returned).getTypes()));
    layer.setPrivate();
    // LLVM would inline a layer into each of its callers again.
    layer->setAttr("no_inline", b.getUnitAttr());
    layer.getBody().push_back(body);

    auto [unique, isNew] = layers.unique(layer);
    if (isNew)
      insertAfter = unique;

    auto call = fb.caller.create<func::CallOp>(loc, unique, fb.arguments);
    for (auto [value, result] : llvm::zip(results, call.getResults()))
      value.replaceUsesWithIf(result, [&](OpOperand &use) {
        return !inRun(use.getOwner());
      });
    for (Operation *op : llvm::reverse(run))
      op->erase();
    return insertAfter;
  }

  /// `run` and the stores of its results into arena views (an optimizer
  /// update written back to its parameter), which then happen in the
  /// function, where empty-tensor elimination makes the update write in
  /// place as it does in the entry point. Only when nothing after the run
  /// reads the view's old value.
  static SmallVector<Operation *> withStores(ArrayRef<Operation *> run) {
    SmallVector<Operation *> ops(run.begin(), run.end());
    DenseSet<Operation *> members(run.begin(), run.end());
    Block *block = run.front()->getBlock();
    auto beforeOrIn = [&](Operation *user) {
      Operation *op = block->findAncestorOpInBlock(*user);
      return op && (members.contains(op) || op->isBeforeInBlock(run.front()));
    };
    for (Operation *op : run)
      for (Value v : op->getResults()) {
        SmallVector<Operation *> outside;
        for (Operation *user : v.getUsers())
          if (!members.contains(block->findAncestorOpInBlock(*user)))
            outside.push_back(user);
        if (outside.size() != 1)
          continue;
        auto store =
            dyn_cast<bufferization::MaterializeInDestinationOp>(outside[0]);
        if (!store || store->getBlock() != block || store.getSource() != v ||
            !arenaCast(store.getDest()))
          continue;
        bool safe = llvm::all_of(
            store.getDest().getUsers(), [&](Operation *user) {
              if (user == store.getOperation())
                return true;
              auto read = dyn_cast<bufferization::ToTensorOp>(user);
              return read && llvm::all_of(read->getUsers(), beforeOrIn);
            });
        if (safe)
          ops.push_back(store);
      }
    return ops;
  }
};

} // namespace
