//===- Passes.h - nnc's passes and pipelines ---------------------*- C++ -*-===//
#ifndef NNC_PASSES_PASSES_H
#define NNC_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <optional>

namespace nnc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// How many chunks a parallel loop of `extent` iterations is split into
/// for about `target` chunks: the smallest divisor of the extent in
/// [target, 4 target], else the largest one below target, whose chunk
/// (extent / count iterations) `fits`; 1 when there is none.
int64_t parallelChunkCount(int64_t extent, int64_t target,
                           llvm::function_ref<bool(int64_t chunk)> fits);

/// --target cuda: whether `alloc` is the buffer deallocation's own
/// bookkeeping (lists of addresses and ownership flags), which stays in
/// host memory (GPUHostToDevice.cpp).
bool isHostBookkeeping(mlir::memref::AllocOp alloc);

/// --target cuda: `func.func private @name` of `type` in `module`, declared
/// once: a function of the runtime the generated host code calls.
mlir::func::FuncOp runtimeFunction(mlir::ModuleOp module, llvm::StringRef name,
                                   mlir::FunctionType type);

/// --target cuda: `bytes` of device memory from the runtime's
/// `name(i64 bytes[, i64 tag]) -> memref<1xi8>` (workspace, scratch, an
/// allocation), called at `b`'s insertion point, as a memref<bytes x i8>
/// (GPUEntryPoints.cpp).
mlir::Value runtimeBytes(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::ModuleOp module, llvm::StringRef name,
                         int64_t bytes, std::optional<int64_t> tag = {});

} // namespace nnc

#endif // NNC_PASSES_PASSES_H
