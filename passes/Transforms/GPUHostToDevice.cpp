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
// it. Host views placed by such a value (an embedding's row at a token id)
// move into the kernels that use them. Host control flow around launches
// (a loop launching kernels) stays on the host and its body is treated the
// same way.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/SetVector.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUHOSTTODEVICEPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

/// The deallocation's lists of addresses (index) and ownership flags (i1):
/// nn-to-linalg makes no model buffers of either type.
bool nnc::isHostBookkeeping(memref::AllocOp alloc) {
  Type element = alloc.getType().getElementType();
  return element.isIndex() || element.isInteger(1);
}

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

/// Whether `op` launches kernels or calls a function (which may, or is the
/// runtime's: copies, allocations).
static bool containsLaunch(Operation *op) {
  return op
      ->walk([](Operation *inner) {
        return isa<gpu::LaunchOp, CallOpInterface>(inner)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// Whether `buffer` is host memory: the deallocation's bookkeeping (a stack
/// allocation, or its lists of addresses and flags).
static bool onHostStack(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::AllocaOp>(def))
      return true;
    if (auto alloc = dyn_cast<memref::AllocOp>(def))
      return nnc::isHostBookkeeping(alloc);
    if (auto cast = dyn_cast<memref::CastOp>(def)) {
      buffer = cast.getSource();
      continue;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    buffer = view.getViewSource();
  }
  return false;
}

static bool touchesMemory(Operation *op) {
  return op
      ->walk([](Operation *inner) {
        if (auto load = dyn_cast<memref::LoadOp>(inner);
            load && onHostStack(load.getMemRef()))
          return WalkResult::advance();
        if (auto store = dyn_cast<memref::StoreOp>(inner);
            store && onHostStack(store.getMemRef()))
          return WalkResult::advance();
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
    // One pass instance runs on many functions: nothing carries over.
    kernelsOfOneThread.clear();
    slots.clear();
    // Helpers without kernels (the copies', the deallocation's) work on
    // host memory and addresses.
    bool launches =
        func.walk([](gpu::LaunchOp) { return WalkResult::interrupt(); })
            .wasInterrupted();
    if (func.isExternal() || (func.isPrivate() && !launches))
      return;
    if (failed(processBlock(func.getBody().front())))
      return signalPassFailure();
    if (failed(spillCrossingValues(func)))
      return signalPassFailure();
    placeSlots(func);
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
      if (containsLaunch(&op)) {
        // Host control flow around kernels (a recurrent layer's time loop,
        // carrying buffers and their ownership flags): its body, the same
        // way. A value it yields that a kernel computed is caught below as
        // a device value used on the host.
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

  /// The one-element buffers: 8 bytes each of the runtime's device scratch
  /// memory (`nnrt_cuda_scratch`), asked for at the function's start.
  void placeSlots(func::FuncOp func) {
    if (slots.empty())
      return;
    Location loc = func.getLoc();
    ModuleOp module = func->getParentOfType<ModuleOp>();
    OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
    int64_t bytes = 8 * static_cast<int64_t>(slots.size());
    Value scratch =
        nnc::runtimeBytes(b, loc, module, "nnrt_cuda_scratch", bytes);
    for (auto [i, slot] : llvm::enumerate(slots)) {
      Value offset = b.create<arith::ConstantIndexOp>(loc, 8 * int64_t(i));
      Value view = b.create<memref::ViewOp>(loc, slot.getType(), scratch,
                                            offset, ValueRange{});
      slot.replaceAllUsesWith(view);
      slot.erase();
    }
    slots.clear();
  }

  SmallVector<memref::AllocOp> slots;

  /// Views (subview, reinterpret_cast, ...) are metadata: pure, buffers
  /// out.
  static bool isView(Operation *op) {
    return op->getNumResults() > 0 && isMemoryEffectFree(op) &&
           op->getNumRegions() == 0 &&
           llvm::all_of(op->getResultTypes(),
                        [](Type t) { return isa<BaseMemRefType>(t); });
  }

  /// Host views whose offsets or sizes come from the device value `value`
  /// (an embedding's row at a token id): every kernel that uses one of
  /// them gets its own copy of the chain of views, on the value reloaded
  /// there; the host ones go. A use of such a view outside kernels is an
  /// error.
  LogicalResult sinkViews(Value value, ArrayRef<Operation *> roots,
                          llvm::function_ref<Value(gpu::LaunchOp)> reloadIn) {
    // The chain: the roots and the views of their results, in order.
    SetVector<Operation *> chain(roots.begin(), roots.end());
    for (size_t i = 0; i < chain.size(); ++i)
      for (Value result : chain[i]->getResults())
        for (Operation *user : result.getUsers())
          if (!user->getParentOfType<gpu::LaunchOp>()) {
            if (!isView(user))
              return user->emitOpError(
                  "--target cuda: uses on the host a buffer placed by a "
                  "value computed on the device");
            chain.insert(user);
          }
    SmallVector<Operation *> ordered(chain.begin(), chain.end());
    llvm::sort(ordered, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    if (llvm::any_of(ordered, [&](Operation *op) {
          return op->getBlock() != ordered.front()->getBlock();
        }))
      return ordered.front()->emitOpError(
          "--target cuda: views of a device value across blocks");
    // The kernels using any of them.
    SetVector<gpu::LaunchOp> users;
    for (Operation *view : ordered)
      for (Value result : view->getResults())
        for (Operation *user : result.getUsers())
          if (auto launch = user->getParentOfType<gpu::LaunchOp>())
            users.insert(launch);
    for (gpu::LaunchOp launch : users) {
      IRMapping map;
      map.map(value, reloadIn(launch));
      OpBuilder b(launch.getContext());
      b.setInsertionPointAfterValue(map.lookup(value));
      for (Operation *view : ordered) {
        Operation *copy = b.clone(*view, map);
        for (auto [from, to] :
             llvm::zip(view->getResults(), copy->getResults()))
          from.replaceUsesWithIf(to, [&](OpOperand &use) {
            return launch->isProperAncestor(use.getOwner());
          });
      }
    }
    for (Operation *view : llvm::reverse(ordered)) {
      if (!view->use_empty())
        return view->emitOpError("--target cuda: a view of a device value "
                                 "is still used on the host");
      view->erase();
    }
    return success();
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
          // An index travels as i64 (buffers of index have no byte size
          // to plan).
          bool isIndex = value.getType().isIndex();
          Type slotType =
              isIndex ? IntegerType::get(&getContext(), 64) : value.getType();
          OpBuilder b = OpBuilder::atBlockBegin(&entry);
          auto slot = b.create<memref::AllocOp>(op.getLoc(),
                                                MemRefType::get({}, slotType));
          slots.push_back(slot);
          Value slotValue = slot;
          b.setInsertionPoint(terminator);
          Value stored = isIndex ? b.create<arith::IndexCastOp>(op.getLoc(),
                                                                slotType, value)
                                 : value;
          b.create<memref::StoreOp>(op.getLoc(), stored, slotValue);
          // One load per using kernel, at its start.
          DenseMap<Operation *, Value> loaded;
          auto reloadIn = [&](gpu::LaunchOp user) {
            Value &reload = loaded[user];
            if (!reload) {
              OpBuilder lb = OpBuilder::atBlockBegin(&user.getBody().front());
              reload = lb.create<memref::LoadOp>(op.getLoc(), slotValue);
              if (isIndex)
                reload = lb.create<arith::IndexCastOp>(
                    op.getLoc(), lb.getIndexType(), reload);
            }
            return reload;
          };
          SmallVector<Operation *> views;
          for (OpOperand *use : outside) {
            if (auto user = use->getOwner()->getParentOfType<gpu::LaunchOp>()) {
              use->set(reloadIn(user));
              continue;
            }
            if (isView(use->getOwner()))
              views.push_back(use->getOwner());
            else
              return use->getOwner()->emitOpError(
                  "--target cuda: uses on the host a value computed on the "
                  "device");
          }
          if (!views.empty() && failed(sinkViews(value, views, reloadIn)))
            return failure();
        }
      }
    }
    return success();
  }
};

} // namespace
