//===- GenerateLaunchers.cpp - Parallel loops over nnrt_parallel_for ------===//
//
// Defines the launchers that nn-outline-kernels declared for parallel loops,
// once everything is in the LLVM dialect (so that the arguments are plain
// pointers and scalars under the bare-pointer calling convention):
//
//   launcher(a0, a1, ...):            task(ctx, i):
//     ctx = alloca {a0, a1, ...}        call kernel(i, ctx->a0, ctx->a1, ...)
//     store a0, a1, ... into ctx
//     nnrt_parallel_for(N, @task, ctx)
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

namespace nnc {
#define GEN_PASS_DEF_NNGENERATELAUNCHERSPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kRuntimeEntry = "nnrt_parallel_for";

struct NNGenerateLaunchersPass
    : nnc::impl::NNGenerateLaunchersPassBase<NNGenerateLaunchersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    nnc::nn::NNDialect::ParallelBodyAttrHelper parallelBody(ctx);
    nnc::nn::NNDialect::ParallelChunksAttrHelper parallelChunks(ctx);
    SymbolTable symbols(module);
    SmallVector<LLVM::LLVMFuncOp> launchers;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>())
      if (func->hasAttr(parallelBody.getName()))
        launchers.push_back(func);
    if (launchers.empty())
      return;

    OpBuilder b(ctx);
    Location loc = module.getLoc();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type i64 = IntegerType::get(ctx, 64);
    Type voidType = LLVM::LLVMVoidType::get(ctx);

    // void nnrt_parallel_for(int64_t n, void (*fn)(void *, int64_t), void *)
    auto runtime = symbols.lookup<LLVM::LLVMFuncOp>(kRuntimeEntry);
    if (!runtime) {
      b.setInsertionPointToEnd(module.getBody());
      runtime = b.create<LLVM::LLVMFuncOp>(
          loc, kRuntimeEntry,
          LLVM::LLVMFunctionType::get(voidType, {i64, ptr, ptr}));
      symbols.insert(runtime);
    }

    for (LLVM::LLVMFuncOp launcher : launchers) {
      FlatSymbolRefAttr bodyName = parallelBody.getAttr(launcher);
      IntegerAttr chunks = parallelChunks.getAttr(launcher);
      auto kernel = bodyName
                        ? symbols.lookup<LLVM::LLVMFuncOp>(bodyName.getValue())
                        : LLVM::LLVMFuncOp();
      ArrayRef<Type> params = launcher.getFunctionType().getParams();
      if (!kernel || !chunks || !launcher.isExternal() ||
          kernel.getFunctionType().getNumParams() != params.size() + 1) {
        launcher.emitOpError()
            << "is not a launcher declaration of nn-outline-kernels";
        return signalPassFailure();
      }
      Type argsType = LLVM::LLVMStructType::getLiteral(ctx, params);
      Location launcherLoc = launcher.getLoc();

      // The trampoline: task(ctx, i) = kernel(i, ctx->args...).
      b.setInsertionPointAfter(launcher);
      auto task = b.create<LLVM::LLVMFuncOp>(
          launcherLoc, (launcher.getSymName() + "_task").str(),
          LLVM::LLVMFunctionType::get(voidType, {ptr, i64}),
          LLVM::Linkage::Internal);
      symbols.insert(task);
      {
        Block *entry = task.addEntryBlock(b);
        b.setInsertionPointToStart(entry);
        SmallVector<Value> args{entry->getArgument(1)};
        for (auto [k, type] : llvm::enumerate(params)) {
          Value field = b.create<LLVM::GEPOp>(
              launcherLoc, ptr, argsType, entry->getArgument(0),
              ArrayRef<LLVM::GEPArg>{0, int32_t(k)});
          args.push_back(b.create<LLVM::LoadOp>(launcherLoc, type, field));
        }
        b.create<LLVM::CallOp>(launcherLoc, kernel, args);
        b.create<LLVM::ReturnOp>(launcherLoc, ValueRange());
      }

      // The launcher: the arguments into a stack struct, then the runtime.
      {
        Block *entry = launcher.addEntryBlock(b);
        b.setInsertionPointToStart(entry);
        Value one = b.create<LLVM::ConstantOp>(launcherLoc, i64,
                                               b.getI64IntegerAttr(1));
        Value args = b.create<LLVM::AllocaOp>(launcherLoc, ptr, argsType, one);
        for (auto [k, value] : llvm::enumerate(entry->getArguments())) {
          Value field =
              b.create<LLVM::GEPOp>(launcherLoc, ptr, argsType, args,
                                    ArrayRef<LLVM::GEPArg>{0, int32_t(k)});
          b.create<LLVM::StoreOp>(launcherLoc, value, field);
        }
        Value n = b.create<LLVM::ConstantOp>(
            launcherLoc, i64, b.getI64IntegerAttr(chunks.getInt()));
        Value fn = b.create<LLVM::AddressOfOp>(launcherLoc, task);
        b.create<LLVM::CallOp>(launcherLoc, runtime, ValueRange{n, fn, args});
        b.create<LLVM::ReturnOp>(launcherLoc, ValueRange());
      }
      launcher.setLinkage(LLVM::Linkage::Internal);
      parallelBody.removeAttr(launcher);
      parallelChunks.removeAttr(launcher);
      launcher->removeAttr("sym_visibility");
    }
  }
};

} // namespace
