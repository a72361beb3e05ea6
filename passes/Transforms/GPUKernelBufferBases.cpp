//===- GPUKernelBufferBases.cpp - run-time offsets into kernels -----------===//
//
// --target cuda (issue 15): kernels take their buffers as bare pointers,
// as the host passes them (convert-gpu-to-nvvm and gpu-to-llvm with the
// bare-pointer convention), and a bare pointer carries no offset or
// strides: the kernel rebuilds them from the buffer's type. A view whose
// offset or strides are known only at run time (a time step's slice in a
// recurrent loop, an embedding's row at a token id, a convolution's part
// of the batch) cannot cross that way. Here each such view used inside a
// gpu.launch is split on the host into its base buffer (memref<T>, static)
// and its offset and strides (index scalars), which the launch captures,
// and rebuilt inside the launch with memref.reinterpret_cast; kernel
// outlining then makes them the kernel's parameters. A constant global
// (a scalar such as batchnorm's epsilon, a table) lives in host memory,
// which a kernel cannot read: the launch takes its own memref.get_global,
// and outlining copies the global into the kernel's module (device
// memory).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUKERNELBUFFERBASESPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct NNGPUKernelBufferBasesPass
    : nnc::impl::NNGPUKernelBufferBasesPassBase<NNGPUKernelBufferBasesPass> {
  void runOnOperation() override {
    WalkResult walk = getOperation().walk([&](gpu::LaunchOp launch) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(launch.getBody(), captured);
      for (Value view : captured) {
        if (auto global = view.getDefiningOp<memref::GetGlobalOp>()) {
          auto def = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
              global, global.getNameAttr());
          if (!def || !def.getConstant()) {
            launch.emitOpError("uses the mutable global ")
                << global.getNameAttr() << ", which a kernel cannot reach";
            return WalkResult::interrupt();
          }
          OpBuilder b(&launch.getBody().front(),
                      launch.getBody().front().begin());
          Operation *own = b.clone(*global);
          view.replaceUsesWithIf(own->getResult(0), [&](OpOperand &use) {
            return launch->isProperAncestor(use.getOwner());
          });
          continue;
        }
        auto type = dyn_cast<MemRefType>(view.getType());
        // The bare-pointer convention's own rule: static shape, offset and
        // strides.
        if (!type || LLVMTypeConverter::canConvertToBarePtr(type))
          continue;
        if (!type.hasStaticShape()) {
          launch.emitOpError("uses a buffer of dynamic shape (")
              << type << "), which a kernel cannot take";
          return WalkResult::interrupt();
        }
        OpBuilder b(launch);
        auto meta =
            b.create<memref::ExtractStridedMetadataOp>(view.getLoc(), view);
        int64_t offset = 0;
        SmallVector<int64_t> strides;
        (void)getStridesAndOffset(type, strides, offset);
        auto mixed = [&](int64_t known, Value value) -> OpFoldResult {
          if (ShapedType::isDynamic(known))
            return value;
          return b.getIndexAttr(known);
        };
        b.setInsertionPointToStart(&launch.getBody().front());
        SmallVector<OpFoldResult> sizes, mixedStrides;
        for (int64_t size : type.getShape())
          sizes.push_back(b.getIndexAttr(size));
        for (auto [i, stride] : llvm::enumerate(strides))
          mixedStrides.push_back(mixed(stride, meta.getStrides()[i]));
        auto rebuilt = b.create<memref::ReinterpretCastOp>(
            view.getLoc(), type, meta.getBaseBuffer(),
            mixed(offset, meta.getOffset()), sizes, mixedStrides);
        view.replaceUsesWithIf(rebuilt, [&](OpOperand &use) {
          return use.getOwner() != rebuilt &&
                 launch->isProperAncestor(use.getOwner());
        });
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
