//===- UnshareEmptyTensors.cpp - One tensor.empty per destination ---------===//
//
// A tensor.empty used by several ops (CSE merges equal ones) becomes one
// tensor.empty per use, all where the original stands. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"

namespace nnc {
#define GEN_PASS_DEF_NNUNSHAREEMPTYTENSORSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// The tensor `result` is computed into: the destination of a
/// destination-style op, the shared output of an scf.forall, the initial
/// value of an scf.for's loop-carried value; else null.
static Value destinationOf(OpResult result) {
  Operation *op = result.getOwner();
  unsigned i = result.getResultNumber();
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return loop.getInitArgs()[i];
  if (auto forall = dyn_cast<scf::ForallOp>(op))
    return forall.getOutputs()[i];
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
    return dps.getDpsInitOperand(i)->get();
  return nullptr;
}

/// The tensor.empty a value is computed into (see destinationOf: what a
/// tiled op is, serial or parallel), or null.
static tensor::EmptyOp emptyDestination(Value v) {
  while (auto result = dyn_cast_if_present<OpResult>(v)) {
    if (auto empty = dyn_cast<tensor::EmptyOp>(result.getOwner()))
      return empty;
    v = destinationOf(result);
  }
  return nullptr;
}

/// The use of `empty` by the extract_slice that `insert` writes back: the
/// insert's source computed (through destinations and loop-carried
/// values) into that slice of `empty`, at the same offsets, sizes and
/// strides (a matmul split into whole register tiles and a remainder
/// computes each part in its slice of the whole result), or null. The two
/// uses keep one tensor.empty: one buffer, computed in place.
static OpOperand *extractedSliceOf(tensor::InsertSliceOp insert, Value empty) {
  Value v = insert.getSource();
  while (auto result = dyn_cast_if_present<OpResult>(v)) {
    Operation *op = result.getOwner();
    if (auto extract = dyn_cast<tensor::ExtractSliceOp>(op)) {
      if (extract.getSource() != empty ||
          extract.getMixedOffsets() != insert.getMixedOffsets() ||
          extract.getMixedSizes() != insert.getMixedSizes() ||
          extract.getMixedStrides() != insert.getMixedStrides())
        return nullptr;
      return &extract.getSourceMutable();
    }
    v = destinationOf(result);
  }
  return nullptr;
}

/// A value computed into a tensor.empty, collapsed and inserted into a
/// larger tensor (a pooling gradient's windows view into the padded
/// gradient): the tensor.empty becomes the expand_shape of the slice it is
/// inserted at, so that it is computed in place. (Empty-tensor elimination
/// does not look through reshapes.)
static void computeInsertedReshapesInPlace(func::FuncOp func) {
  SmallVector<tensor::InsertSliceOp> inserts;
  func.walk([&](tensor::InsertSliceOp op) {
    if (op.getSource().getDefiningOp<tensor::CollapseShapeOp>())
      inserts.push_back(op);
  });
  DominanceInfo dominance(func);
  OpBuilder b(func.getContext());
  for (tensor::InsertSliceOp insert : inserts) {
    auto collapse = insert.getSource().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse->hasOneUse() || !collapse.getSrc().hasOneUse())
      continue;
    tensor::EmptyOp empty = emptyDestination(collapse.getSrc());
    if (!empty || !empty->hasOneUse() ||
        empty.getType() != collapse.getSrcType())
      continue;
    Operation *user = *empty->user_begin();
    if (!llvm::all_of(insert->getOperands().drop_front(), [&](Value v) {
          return dominance.properlyDominates(v, user);
        }))
      continue;
    b.setInsertionPoint(user);
    Value slice = b.create<tensor::ExtractSliceOp>(
        insert.getLoc(), collapse.getResultType(), insert.getDest(),
        insert.getMixedOffsets(), insert.getMixedSizes(),
        insert.getMixedStrides());
    Value expanded =
        b.create<tensor::ExpandShapeOp>(insert.getLoc(), empty.getType(), slice,
                                        collapse.getReassociationIndices());
    empty.replaceAllUsesWith(expanded);
    empty.erase();
  }
}

/// Moves the op defining `v` (and, recursively, those defining its
/// operands) before `user` where that is all it takes for `v` to dominate
/// `user`: a tensor.empty, or an insert_slice into one (the parts of a
/// concatenation inserted one after another), in `user`'s block. True when
/// `v` then dominates `user`.
static bool hoistToDominate(Value v, Operation *user,
                            DominanceInfo &dominance) {
  if (dominance.properlyDominates(v, user))
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || def->getBlock() != user->getBlock() ||
      !isa<tensor::EmptyOp, tensor::InsertSliceOp>(def))
    return false;
  for (Value operand : def->getOperands())
    if (!hoistToDominate(operand, user, dominance))
      return false;
  def->moveBefore(user);
  return true;
}

/// A concatenation's parts computed in place: each part computed into a
/// tensor.empty of its own and inserted into the concatenation (built by
/// insert_slices into a tensor.empty after all its parts) gets the
/// concatenation, and the parts inserted before it, moved before the
/// part's computation, so that empty-tensor elimination can compute the
/// part in its slice (it needs the destination to dominate the part's
/// tensor.empty) instead of copying it in afterwards.
static void hoistConcatenations(func::FuncOp func) {
  SmallVector<tensor::InsertSliceOp> inserts;
  func.walk([&](tensor::InsertSliceOp op) { inserts.push_back(op); });
  DominanceInfo dominance(func);
  for (tensor::InsertSliceOp insert : inserts) {
    tensor::EmptyOp empty = emptyDestination(insert.getSource());
    if (!empty || !empty->hasOneUse())
      continue;
    Operation *user = *empty->user_begin();
    // Only a destination whose chain starts at a tensor.empty: nothing
    // computed is moved.
    Value dest = insert.getDest();
    while (auto prev = dest.getDefiningOp<tensor::InsertSliceOp>())
      dest = prev.getDest();
    if (!dest.getDefiningOp<tensor::EmptyOp>() ||
        user->getBlock() != insert->getBlock())
      continue;
    (void)llvm::all_of(insert->getOperands().drop_front(), [&](Value v) {
      return hoistToDominate(v, user, dominance);
    });
  }
}

struct NNUnshareEmptyTensorsPass
    : nnc::impl::NNUnshareEmptyTensorsPassBase<NNUnshareEmptyTensorsPass> {
  void runOnOperation() override {
    SmallVector<tensor::EmptyOp> shared;
    getOperation().walk([&](tensor::EmptyOp op) {
      if (!op->hasOneUse() && !op->use_empty())
        shared.push_back(op);
    });
    OpBuilder b(&getContext());
    // Every tensor.empty gets a distinct `nn.empty_id`, so that a later CSE
    // does not merge them again (it compares attributes).
    nnc::nn::NNDialect::EmptyIdAttrHelper emptyId(&getContext());
    int64_t id = 0;
    auto tag = [&](Operation *op) {
      emptyId.setAttr(op, b.getI64IntegerAttr(id++));
    };
    getOperation().walk([&](tensor::EmptyOp op) { tag(op); });
    for (tensor::EmptyOp op : shared) {
      // The clones stand where the original does, which dominates every
      // use (empty-tensor elimination needs the destination a tile is
      // inserted into to dominate the tile's tensor.empty).
      SmallVector<OpOperand *> uses;
      llvm::DenseMap<OpOperand *, OpOperand *> partner;
      for (OpOperand &use : op->getUses()) {
        uses.push_back(&use);
        auto insert = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
        if (insert && use.get() == insert.getDest())
          if (OpOperand *extract = extractedSliceOf(insert, op)) {
            partner[&use] = extract;
            partner[extract] = &use;
          }
      }
      llvm::DenseMap<OpOperand *, Value> given{{uses.front(), op}};
      b.setInsertionPointAfter(op);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        auto other = partner.find(use);
        auto shared =
            other == partner.end() ? given.end() : given.find(other->second);
        Value value;
        if (shared != given.end()) {
          value = shared->second;
        } else {
          Operation *clone = b.clone(*op);
          tag(clone);
          value = clone->getResult(0);
        }
        given[use] = value;
      }
      for (auto [use, value] : given)
        use->set(value);
    }
    computeInsertedReshapesInPlace(getOperation());
    hoistConcatenations(getOperation());
  }
};

} // namespace
