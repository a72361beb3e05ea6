//===- UnshareEmptyTensors.cpp - One tensor.empty per destination ---------===//
//
// A tensor.empty used by several ops (CSE merges equal ones) becomes one
// tensor.empty per use, all where the original stands. See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

namespace nnc {
#define GEN_PASS_DEF_NNUNSHAREEMPTYTENSORSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

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
    int64_t id = 0;
    auto tag = [&](Operation *op) {
      op->setAttr("nn.empty_id", b.getI64IntegerAttr(id++));
    };
    getOperation().walk([&](tensor::EmptyOp op) { tag(op); });
    for (tensor::EmptyOp op : shared) {
      // The clones stand where the original does, which dominates every
      // use (empty-tensor elimination needs the destination a tile is
      // inserted into to dominate the tile's tensor.empty).
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : op->getUses())
        uses.push_back(&use);
      b.setInsertionPointAfter(op);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        Operation *clone = b.clone(*op);
        tag(clone);
        use->set(clone->getResult(0));
      }
    }
  }
};

} // namespace
