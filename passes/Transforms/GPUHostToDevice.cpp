//===- GPUHostToDevice.cpp - the host's memory accesses into kernels
//-------===//
//
// --target cuda (issue 15): every buffer of a step lives in device memory,
// but after the linalg ops became kernels some code still reads and writes
// buffers on the host: ops without parallel dimensions (a loss summed into
// a scalar, the mean over the batch), the scalar part of the optimizer
// (Adam's bias corrections from the learning rate it stored), the entry
// point storing the loss into `out`. Here each run of consecutive host ops
// that touch memory, or compute from what such ops read, becomes a kernel
// of one thread (gpu.launch 1 x 1). A scalar computed in one kernel and
// used by a later one goes through a one-element buffer (memref<T>, which
// nn-plan-buffers places with the other temporaries): stored at the end of
// the kernel that computes it, loaded at the start of each kernel that uses
// it. Host control flow around launches (a loop launching kernels) stays
// on the host and its body is treated the same way.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUHOSTTODEVICEPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// Ops that only describe buffers (allocations, views, casts) and stay on
/// the host, as do constants.
static bool isHostOnly(Operation *op) {
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
             memref::ViewOp, memref::SubViewOp, memref::ReinterpretCastOp,
             memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
             memref::GetGlobalOp, memref::ExtractStridedMetadataOp,
             memref::ExtractAlignedPointerAsIndexOp, memref::DimOp>(op) ||
         op->hasTrait<OpTrait::ConstantLike>() ||
         op->hasTrait<OpTrait::IsTerminator>();
}

/// Whether `op` launches kernels (or calls a function that may).
static bool containsLaunch(Operation *op) {
  return op->walk([](gpu::LaunchOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

static bool touchesMemory(Operation *op) {
  return op
      ->walk([](Operation *inner) {
        if (isa<memref::LoadOp, memref::StoreOp, memref::CopyOp>(inner) ||
            (!isHostOnly(inner) && !isMemoryEffectFree(inner) &&
             !isa<scf::YieldOp>(inner) && inner->getNumRegions() == 0))
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

struct NNGPUHostToDevicePass
    : nnc::impl::NNGPUHostToDevicePassBase<NNGPUHostToDevicePass> {
  SmallVector<gpu::LaunchOp> kernelsOfOneThread; // in order

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (failed(processBlock(func.getBody().front())))
      return signalPassFailure();
    if (failed(spillCrossingValues(func)))
      return signalPassFailure();
  }

  /// Wraps the block's runs of device work into kernels of one thread.
  LogicalResult processBlock(Block &block) {
    DenseSet<Value> onDevice; // values computed from device memory
    SmallVector<SmallVector<Operation *>> runs(1);
    for (Operation &op : block) {
      if (isa<gpu::LaunchOp>(op) || isHostOnly(&op)) {
        if (!runs.back().empty())
          runs.emplace_back();
        continue;
      }
      if (containsLaunch(&op) || isa<CallOpInterface>(op)) {
        // Host control flow around kernels: its body, the same way.
        if (op.getNumResults() != 0)
          return op.emitOpError(
              "--target cuda: host control flow around kernels that yields "
              "values is not supported");
        for (Region &region : op.getRegions())
          for (Block &inner : region)
            if (failed(processBlock(inner)))
              return failure();
        if (!runs.back().empty())
          runs.emplace_back();
        continue;
      }
      bool device = touchesMemory(&op) ||
                    llvm::any_of(op.getOperands(),
                                 [&](Value v) { return onDevice.contains(v); });
      if (!device) {
        if (!runs.back().empty())
          runs.emplace_back();
        continue;
      }
      for (Value result : op.getResults())
        onDevice.insert(result);
      runs.back().push_back(&op);
    }
    for (ArrayRef<Operation *> run : runs)
      if (!run.empty())
        wrap(run);
    return success();
  }

  /// Moves `run` into a gpu.launch of one thread in its place.
  void wrap(ArrayRef<Operation *> run) {
    OpBuilder b(run.front());
    Location loc = run.front()->getLoc();
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    auto launch = b.create<gpu::LaunchOp>(loc, one, one, one, one, one, one);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    auto terminator = b.create<gpu::TerminatorOp>(loc);
    for (Operation *op : run)
      op->moveBefore(terminator);
    kernelsOfOneThread.push_back(launch);
  }

  /// A value computed in one kernel and used outside it goes through a
  /// one-element buffer.
  LogicalResult spillCrossingValues(func::FuncOp func) {
    Block &entry = func.getBody().front();
    for (gpu::LaunchOp launch : kernelsOfOneThread) {
      Operation *terminator = launch.getBody().front().getTerminator();
      for (Operation &op : launch.getBody().front().without_terminator()) {
        for (Value value : op.getResults()) {
          SmallVector<OpOperand *> outside;
          for (OpOperand &use : value.getUses())
            if (!launch->isProperAncestor(use.getOwner()))
              outside.push_back(&use);
          if (outside.empty())
            continue;
          if (!value.getType().isIntOrIndexOrFloat())
            return op.emitOpError("--target cuda: a value of type ")
                   << value.getType() << " computed on the device is used "
                   << "outside its kernel";
          OpBuilder b = OpBuilder::atBlockBegin(&entry);
          Value slot = b.create<memref::AllocOp>(
              op.getLoc(), MemRefType::get({}, value.getType()));
          b.setInsertionPoint(entry.getTerminator());
          b.create<memref::DeallocOp>(op.getLoc(), slot);
          b.setInsertionPoint(terminator);
          b.create<memref::StoreOp>(op.getLoc(), value, slot);
          // One load per using kernel, at its start.
          DenseMap<Operation *, Value> loaded;
          for (OpOperand *use : outside) {
            auto user = use->getOwner()->getParentOfType<gpu::LaunchOp>();
            if (!user)
              return use->getOwner()->emitOpError(
                  "--target cuda: uses on the host a value computed on the "
                  "device");
            Value &reload = loaded[user];
            if (!reload) {
              OpBuilder lb = OpBuilder::atBlockBegin(&user.getBody().front());
              reload = lb.create<memref::LoadOp>(op.getLoc(), slot);
            }
            use->set(reload);
          }
        }
      }
    }
    return success();
  }
};

} // namespace
