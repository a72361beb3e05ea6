//===- FenceShuffles.cpp - Shuffle networks kept stage by stage -----------===//
//
// A register tile's transpose (nn-lower-vector-tiles: Shuffle16x16, four
// stages of two-source shuffles) reaches LLVM's x86 instruction selection as
// a network in which every output depends on every input. Its DAG combiner
// tries to merge each target shuffle with the shuffles feeding it,
// recursively: on a 16 x 16 network that search took two thirds of the
// instruction selection of SPEC 2.3's CNN's largest kernels (~30 ms each)
// and produced more instructions than the stages as written (it merges two
// stages into a blend of two permutes). An `llvm.arithmetic.fence` on each
// stage's result, a no-op for values that compiles to no instruction, ends
// the search at the stage.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace nnc {
#define GEN_PASS_DEF_NNFENCESHUFFLESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// A shuffle of two values (no poison or constant operand) of floating-point
/// vectors into a vector of as many lanes: one stage of a network.
bool isStage(LLVM::ShuffleVectorOp op) {
  auto type = dyn_cast<VectorType>(op.getType());
  auto source = dyn_cast<VectorType>(op.getV1().getType());
  if (!type || !source || type.isScalable() ||
      !isa<FloatType>(type.getElementType()) ||
      type.getNumElements() != source.getNumElements() ||
      op.getV1() == op.getV2())
    return false;
  return llvm::none_of(op->getOperands(), [](Value v) {
    Operation *def = v.getDefiningOp();
    return def &&
           isa<LLVM::PoisonOp, LLVM::UndefOp, LLVM::ConstantOp, LLVM::ZeroOp>(
               def);
  });
}

struct NNFenceShufflesPass
    : nnc::impl::NNFenceShufflesPassBase<NNFenceShufflesPass> {
  void runOnOperation() override {
    // Stages that feed or are fed by another shuffle (chains, not a lone
    // shuffle, which the combiner may still fold into a load or a blend).
    SmallVector<LLVM::ShuffleVectorOp> stages;
    getOperation()->walk([&](LLVM::ShuffleVectorOp op) {
      if (!isStage(op))
        return;
      auto isShuffle = [](Operation *o) {
        return o && isa<LLVM::ShuffleVectorOp>(o);
      };
      if (isShuffle(op.getV1().getDefiningOp()) ||
          isShuffle(op.getV2().getDefiningOp()) ||
          llvm::any_of(op->getUsers(), isShuffle))
        stages.push_back(op);
    });
    OpBuilder builder(&getContext());
    for (LLVM::ShuffleVectorOp op : stages) {
      builder.setInsertionPointAfter(op);
      auto fence = builder.create<LLVM::CallIntrinsicOp>(
          op.getLoc(), op.getType(), "llvm.arithmetic.fence",
          ValueRange{op.getResult()});
      op.getResult().replaceAllUsesExcept(fence.getResult(0), fence);
    }
  }
};

} // namespace
