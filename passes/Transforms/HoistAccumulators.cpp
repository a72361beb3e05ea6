//===- HoistAccumulators.cpp - Register tiles' accumulators out of loops --===//
//
// A matmul's register tile reads its accumulator (vector.transfer_read of
// the C tile carried by the k loop) and writes it back on every iteration;
// MLIR's loop-invariant subset hoisting moves the pair out of the loop, so
// the accumulator stays in registers. That pass asks every loop of a
// function about every pair of subset ops on each of its iter_args, and
// answers the questions about slices at loop-dependent offsets with
// ValueBoundsConstraintSet (Presburger eliminations): 6% of resnet_mini's
// compile time, for loops that carry no vector accumulator. Here only the
// loops with an iter_arg that a vector transfer reads or writes directly
// are given to the same utility (innermost first, as the pass does).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace nnc {
#define GEN_PASS_DEF_NNHOISTACCUMULATORSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// Whether a vector transfer reads or writes one of `loop`'s iter_args
/// itself (not a slice of it).
bool carriesVectorAccumulator(LoopLikeOpInterface loop) {
  for (BlockArgument arg : loop.getRegionIterArgs())
    for (Operation *user : arg.getUsers())
      if (isa<vector::TransferReadOp, vector::TransferWriteOp>(user))
        return true;
  return false;
}

struct NNHoistAccumulatorsPass
    : nnc::impl::NNHoistAccumulatorsPassBase<NNHoistAccumulatorsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](LoopLikeOpInterface loop) {
      if (carriesVectorAccumulator(loop))
        (void)hoistLoopInvariantSubsets(rewriter, loop);
    });
  }
};

} // namespace
