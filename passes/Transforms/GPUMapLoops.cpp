//===- GPUMapLoops.cpp - parallel loops onto blocks and threads
//------------===//
//
// --target cuda (issue 15): what nn-gpu-gemm leaves (elementwise chains,
// reductions over a row, copies, optimizer updates) reaches here as
// scf.parallel loops over the op's parallel dimensions, reductions as
// sequential loops inside. MLIR's greedy mapper would make every iteration
// of the outer loop a block of one thread; here every outermost loop is
// collapsed to one dimension, tiled by `threads` with the last tile guarded
// (so a block is always `threads` wide and bounds stay constant), and mapped
// tiles -> blocks x, iterations -> threads x, for
// convert-parallel-loops-to-gpu.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace nnc {
#define GEN_PASS_DEF_NNGPUMAPLOOPSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNGPUMapLoopsPass : nnc::impl::NNGPUMapLoopsPassBase<NNGPUMapLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        outermost.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermost) {
      if (failed(map(rewriter, loop)))
        return signalPassFailure();
    }
  }

  LogicalResult map(IRRewriter &rewriter, scf::ParallelOp loop) {
    unsigned dims = loop.getNumLoops();
    if (dims > 1) {
      std::vector<unsigned> all(dims);
      std::iota(all.begin(), all.end(), 0u);
      rewriter.setInsertionPoint(loop);
      // The collapsed loop replaces `loop`: find it right before the op
      // that followed it.
      Operation *next = loop->getNextNode();
      collapseParallelLoops(rewriter, loop, {all});
      loop = dyn_cast_or_null<scf::ParallelOp>(next ? next->getPrevNode()
                                                    : nullptr);
      if (!loop || loop.getNumLoops() != 1)
        return loop ? loop.emitOpError("could not be collapsed") : failure();
    }
    auto [tiles, iterations] =
        scf::tileParallelLoop(loop, {threads}, /*noMinMaxBounds=*/true);
    MLIRContext *ctx = &getContext();
    auto identity = AffineMap::getMultiDimIdentityMap(1, ctx);
    auto dim = [&](gpu::Processor p) {
      return gpu::ParallelLoopDimMappingAttr::get(ctx, p, identity, identity);
    };
    if (failed(gpu::setMappingAttr(tiles, dim(gpu::Processor::BlockX))) ||
        failed(gpu::setMappingAttr(iterations, dim(gpu::Processor::ThreadX))))
      return tiles.emitOpError("could not be mapped onto the GPU");
    return success();
  }
};

} // namespace
