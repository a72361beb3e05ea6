//===- GPUEntryPoints.cpp - the C entry points of --target cuda
//-------------===//
//
// --target cuda (issue 15) keeps the entry points' C ABI (runtime/program/
// ABI.h): the runtime passes host buffers, as it does to a CPU program, and
// the generated code moves them.
//
// nn-gpu-stage-arguments: every argument buffer gets a device copy (placed
// later in the entry's workspace), copied in at the start when the entry
// reads it and back at the end when it writes it, through the runtime's
// nnrt_cuda_to_device/to_host. Those skip the copies of the buffers the
// runtime keeps on the device (nnrt::DeviceResident: the state, the
// gradient accumulators) when the device's copy is current.
//
// nn-gpu-workspace-wrappers: after nn-plan-buffers{argument} the entries
// take their workspace (device memory) as a last argument; a wrapper with
// the original signature asks the runtime for it, each entry point for its
// own, which keeps the device copies of resident buffers between its calls.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/InliningUtils.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUSTAGEARGUMENTSPASS
#define GEN_PASS_DEF_NNGPUWORKSPACEWRAPPERSPASS
#define GEN_PASS_DEF_NNGPUDEVICEALLOCATIONSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

func::FuncOp nnc::runtimeFunction(ModuleOp module, StringRef name,
                                  FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto fn = b.create<func::FuncOp>(module.getLoc(), name, type);
  fn.setPrivate();
  return fn;
}

Value nnc::runtimeBytes(OpBuilder &b, Location loc, ModuleOp module,
                        StringRef name, int64_t bytes,
                        std::optional<int64_t> tag) {
  auto raw = MemRefType::get({1}, b.getI8Type());
  SmallVector<Value, 2> args{b.create<arith::ConstantIntOp>(loc, bytes, 64)};
  if (tag)
    args.push_back(b.create<arith::ConstantIntOp>(loc, *tag, 64));
  func::FuncOp fn = runtimeFunction(
      module, name, b.getFunctionType(ValueRange(args).getTypes(), {raw}));
  Value memory = b.create<func::CallOp>(loc, fn, args).getResult(0);
  return b.create<memref::ReinterpretCastOp>(
      loc, MemRefType::get({bytes}, b.getI8Type()), memory, /*offset=*/0,
      ArrayRef<int64_t>{bytes}, ArrayRef<int64_t>{1});
}

namespace {

/// Whether the function reads and whether it writes the buffer `arg`,
/// through any view of it. Unknown users count as both.
static std::pair<bool, bool> accessesOf(Value arg) {
  bool reads = false, writes = false;
  SmallVector<Value> worklist{arg};
  DenseSet<Value> seen{arg};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      bool view = user->getNumResults() > 0 && isMemoryEffectFree(user) &&
                  llvm::all_of(user->getResultTypes(),
                               [](Type t) { return isa<BaseMemRefType>(t); });
      if (view) {
        for (Value result : user->getResults())
          if (seen.insert(result).second)
            worklist.push_back(result);
        continue;
      }
      auto effects = dyn_cast<MemoryEffectOpInterface>(user);
      if (!effects) {
        reads = writes = true;
        continue;
      }
      SmallVector<MemoryEffects::EffectInstance> list;
      effects.getEffectsOnValue(value, list);
      if (list.empty() && !isMemoryEffectFree(user)) {
        // Effects not tied to the value (e.g. on all memory).
        effects.getEffects(list);
      }
      for (const MemoryEffects::EffectInstance &e : list) {
        reads |= isa<MemoryEffects::Read>(e.getEffect());
        writes |= isa<MemoryEffects::Write>(e.getEffect());
      }
    }
  }
  return {reads, writes};
}

static bool isEntryPoint(func::FuncOp func) {
  return func.isPublic() && !func.isExternal();
}

struct NNGPUStageArgumentsPass
    : nnc::impl::NNGPUStageArgumentsPassBase<NNGPUStageArgumentsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (isEntryPoint(func))
        stage(module, func);
    toDeviceHelpers.clear();
    toHostHelpers.clear();
  }

  /// `func.func private @nnc_cuda_<direction>_<n>(%device: T, %host: T)`
  /// for the buffer type T: the copy between the two through the runtime's
  /// function on their addresses. The buffers reach it as arguments (bare
  /// pointers), so that a view's offset is part of its address.
  func::FuncOp copyHelper(ModuleOp module, MemRefType type, bool toDevice) {
    auto &helpers = toDevice ? toDeviceHelpers : toHostHelpers;
    func::FuncOp &helper = helpers[type];
    if (helper)
      return helper;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = module.getLoc();
    std::string name =
        (Twine("nnc_cuda_") + (toDevice ? "to_device_" : "to_host_") +
         Twine(helpers.size() - 1))
            .str();
    helper =
        b.create<func::FuncOp>(loc, name, b.getFunctionType({type, type}, {}));
    helper.setPrivate();
    Block *body = helper.addEntryBlock();
    b.setInsertionPointToStart(body);
    auto address = [&](Value buffer) {
      Value index =
          b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, buffer);
      return b.create<arith::IndexCastOp>(loc, b.getI64Type(), index);
    };
    Value device = address(body->getArgument(0));
    Value host = address(body->getArgument(1));
    int64_t bytes =
        type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
    Value size = b.create<arith::ConstantIntOp>(loc, bytes, 64);
    Type i64 = b.getI64Type();
    FunctionType copy = b.getFunctionType({i64, i64, i64}, {});
    if (toDevice)
      b.create<func::CallOp>(
          loc, nnc::runtimeFunction(module, "nnrt_cuda_to_device", copy),
          ValueRange{device, host, size});
    else
      b.create<func::CallOp>(
          loc, nnc::runtimeFunction(module, "nnrt_cuda_to_host", copy),
          ValueRange{host, device, size});
    b.create<func::ReturnOp>(loc);
    return helper;
  }

  DenseMap<Type, func::FuncOp> toDeviceHelpers, toHostHelpers;

  void stage(ModuleOp module, func::FuncOp func) {
    Block &entry = func.getBody().front();
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
          !type.getElementType().isIntOrFloat())
        continue;
      auto [reads, writes] = accessesOf(arg);
      if (!reads && !writes)
        continue;
      Location loc = arg.getLoc();
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      Value device = b.create<memref::AllocOp>(loc, type);
      arg.replaceAllUsesExcept(device, device.getDefiningOp());
      if (reads)
        b.create<func::CallOp>(loc, copyHelper(module, type, true),
                               ValueRange{device, arg});
      func.walk([&](func::ReturnOp ret) {
        OpBuilder rb(ret);
        if (writes)
          rb.create<func::CallOp>(loc, copyHelper(module, type, false),
                                  ValueRange{device, arg});
        rb.create<memref::DeallocOp>(loc, device);
      });
    }
  }
};

struct NNGPUWorkspaceWrappersPass
    : nnc::impl::NNGPUWorkspaceWrappersPassBase<NNGPUWorkspaceWrappersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    auto bytesAttr =
        nnc::nn::NNDialect::WorkspaceBytesAttrHelper(&getContext());
    int64_t entries = 0;
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (!isEntryPoint(func) || !bytesAttr.isAttrPresent(func))
        continue;
      int64_t bytes = bytesAttr.getAttr(func).getInt();
      auto wsType =
          MemRefType::get({bytes}, IntegerType::get(&getContext(), 8));
      if (func.getNumArguments() == 0 ||
          func.getArguments().back().getType() != wsType) {
        func.emitOpError("has nn.workspace_bytes but no workspace argument");
        return signalPassFailure();
      }
      std::string name = func.getSymName().str();
      FunctionType type = func.getFunctionType();
      if (failed(symbols.rename(func, name + "_cuda")))
        return signalPassFailure();
      func.setPrivate();

      OpBuilder b(func);
      Location loc = func.getLoc();
      auto wrapper = b.create<func::FuncOp>(
          loc, name,
          b.getFunctionType(type.getInputs().drop_back(), type.getResults()));
      symbols.insert(wrapper);
      wrapper->setDiscardableAttrs(func->getDiscardableAttrDictionary());
      bytesAttr.removeAttr(wrapper);
      Block *body = wrapper.addEntryBlock();
      b.setInsertionPointToStart(body);
      // Each entry point its own (tagged by its number): its device copies
      // of the runtime's resident buffers stay valid between its calls.
      Value workspace = nnc::runtimeBytes(b, loc, module, "nnrt_cuda_workspace",
                                          bytes, entries++);
      SmallVector<Value> args(body->getArguments());
      args.push_back(workspace);
      auto call = b.create<func::CallOp>(loc, func, args);
      b.create<func::ReturnOp>(loc, call.getResults());
    }
  }
};

struct NNGPUDeviceAllocationsPass
    : nnc::impl::NNGPUDeviceAllocationsPassBase<NNGPUDeviceAllocationsPass> {
  /// The deallocation's helper takes lists of dynamic size, which the host
  /// code's bare-pointer convention cannot pass: its calls are inlined (only
  /// those: the copy helpers must stay calls, see copyHelper).
  LogicalResult inlineDynamicHelpers(ModuleOp module) {
    InlinerInterface inliner(module.getContext());
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      if (llvm::any_of(call.getOperandTypes(), [](Type t) {
            auto type = dyn_cast<MemRefType>(t);
            return type && !type.hasStaticShape();
          }))
        calls.push_back(call);
    });
    SetVector<func::FuncOp> inlined;
    for (func::CallOp call : calls) {
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
      if (!callee || callee.isExternal() ||
          failed(inlineCall(inliner, call, callee, &callee.getBody())))
        return call.emitOpError("--target cuda: cannot inline a call with "
                                "buffers of dynamic size");
      call.erase();
      inlined.insert(callee);
    }
    for (func::FuncOp callee : inlined)
      if (callee.isPrivate() &&
          SymbolTable::symbolKnownUseEmpty(callee, module))
        callee.erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (failed(inlineDynamicHelpers(module)))
      return signalPassFailure();
    Type i64 = IntegerType::get(ctx, 64);
    SmallVector<memref::AllocOp> allocs;
    SmallVector<memref::DeallocOp> deallocs;
    module.walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(alloc);
      else if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
        deallocs.push_back(dealloc);
    });
    // The deallocation's own lists of addresses and flags stay on the
    // host, as do their deallocations.
    DenseSet<Value> kept;
    for (memref::AllocOp alloc : allocs) {
      MemRefType type = alloc.getType();
      if (nnc::isHostBookkeeping(alloc)) {
        kept.insert(alloc);
        continue;
      }
      if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
          !type.getElementType().isIntOrFloat() || type.getMemorySpace()) {
        alloc.emitOpError("--target cuda: a buffer of dynamic shape or "
                          "with a layout; device code cannot allocate it");
        return signalPassFailure();
      }
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      int64_t bytes = std::max<int64_t>(
          1, type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8));
      Value buffer =
          nnc::runtimeBytes(b, loc, module, "nnrt_cuda_alloc", bytes);
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      Value view =
          b.create<memref::ViewOp>(loc, type, buffer, zero, ValueRange{});
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
    for (memref::DeallocOp dealloc : deallocs) {
      if (kept.contains(dealloc.getMemref()))
        continue;
      OpBuilder b(dealloc);
      Location loc = dealloc.getLoc();
      Value address = b.create<arith::IndexCastOp>(
          loc, i64,
          b.create<memref::ExtractAlignedPointerAsIndexOp>(
              loc, dealloc.getMemref()));
      b.create<func::CallOp>(
          loc,
          nnc::runtimeFunction(module, "nnrt_cuda_free",
                               FunctionType::get(ctx, {i64}, {})),
          ValueRange{address});
      dealloc.erase();
    }
  }
};

} // namespace
