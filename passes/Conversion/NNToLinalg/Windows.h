//===- Windows.h - Windows shared by conv and pool lowerings ----*- C++ -*-===//
//
// A convolution's or pooling's kernel steps over the padded input; both
// lower as kh kw "shifted window" steps, each an elementwise op between a
// strided [N, C, OH, OW] view of the padded tensor and an output-shaped
// tensor (see Convolutions.cpp and Pooling.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_CONVERSION_NNTOLINALG_WINDOWS_H
#define NNC_PASSES_CONVERSION_NNTOLINALG_WINDOWS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace nnc {
namespace lowering {

/// A conv or pool window: kernel, stride and [top, left, bottom, right].
struct Window {
  int64_t kh, kw, sh, sw, top, left, bottom, right;
  bool padded() const { return top || left || bottom || right; }
  /// 1x1 at stride 1: output pixel (i, j) reads input pixel (i, j) only.
  bool unit() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1; }
};

Window window(llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> stride,
              llvm::ArrayRef<int64_t> padding);

/// A pooling's (or its gradient's) window.
template <typename PoolOp> Window poolWindow(PoolOp op) {
  return window(op.getKernel(), op.getStride(), op.getPadding());
}

/// Whether two poolings (or their gradients) have the same windows.
template <typename A, typename B> bool sameWindows(A a, B b) {
  return a.getKernel() == b.getKernel() && a.getStride() == b.getStride() &&
         a.getPadding() == b.getPadding();
}

llvm::SmallVector<mlir::OpFoldResult> indices(mlir::OpBuilder &b,
                                              llvm::ArrayRef<int64_t> v);

using StepFn = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// A linalg.generic of all-parallel loops over `outs`' (common) shape: the
/// inputs are read through `inMaps`, the outputs through the identity, and
/// the body gets the input elements then the output elements.
llvm::SmallVector<mlir::Value> generic(mlir::OpBuilder &b, mlir::Location loc,
                                       mlir::ValueRange ins,
                                       llvm::ArrayRef<mlir::AffineMap> inMaps,
                                       mlir::ValueRange outs, StepFn body);

/// The body of a copy: the (only) input element.
llvm::SmallVector<mlir::Value> copyElement(mlir::OpBuilder &, mlir::Location,
                                           mlir::ValueRange a);

/// A strided slice: its offsets, sizes and strides, and its type.
struct WindowView {
  llvm::SmallVector<mlir::OpFoldResult> offsets, sizes, strides;
  mlir::RankedTensorType type;
};

/// The [N, C, OH, OW] view of the padded `xp` seen by kernel offset (i, j)
/// for an output of type `y`: xp[:, :, i + oh sh, j + ow sw].
WindowView windowView(mlir::OpBuilder &b, mlir::RankedTensorType xp,
                      mlir::RankedTensorType y, const Window &w, int64_t i,
                      int64_t j);

mlir::Value extract(mlir::OpBuilder &b, mlir::Location loc, mlir::Value from,
                    const WindowView &v);
mlir::Value insert(mlir::OpBuilder &b, mlir::Location loc, mlir::Value part,
                   mlir::Value into, const WindowView &v);

/// The kernel-offset slice [C, N, OH, OW] of col [C, kh, kw, N, OH, OW].
WindowView colView(mlir::OpBuilder &b, mlir::RankedTensorType col, int64_t i,
                   int64_t j);

/// (c, n, oh, ow) -> (n, c, oh, ow): NCHW read in the loops of a CNHW tensor.
mlir::AffineMap swapNC(mlir::MLIRContext *ctx);

/// One sample `v` [1, A, H, W] as the matrix [A, H W]: a rank-reducing
/// slice and a reshape, which bufferize to views of v's buffer also where v
/// is a strided view (a channel range of a concatenation), where a reshape
/// of [1, A, H, W] itself would be copied.
mlir::Value sampleMatrix(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);

/// im2col of the padded `xp` for an output of type `y`: col[(c, i, j),
/// (n, oh, ow)] = xp[n, c, oh sh + i, ow sw + j], as a [C kh kw, N OH OW]
/// matrix of xp's element type (f32 convolutions, nn-quantize's u8 ones).
mlir::Value im2col(mlir::OpBuilder &b, mlir::Location loc, mlir::Value xp,
                   mlir::RankedTensorType y, const Window &w);

/// The interior [N, C, H, W] of a padded tensor.
WindowView interior(mlir::OpBuilder &b, mlir::RankedTensorType x,
                    const Window &w);

mlir::RankedTensorType paddedType(mlir::RankedTensorType x, const Window &w);

/// `x` padded with `value` (a fill whose interior is overwritten by a
/// vectorizable copy of `x`).
mlir::Value pad(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                const Window &w, double value);

/// The interior of a padded gradient, i.e. the gradient of the unpadded
/// tensor of type `x`.
mlir::Value crop(mlir::OpBuilder &b, mlir::Location loc, mlir::Value xp,
                 mlir::RankedTensorType x, const Window &w);

/// The max over each window of the padded `xp` for an output of type `y`
/// and, with `withIndex`, the offset i kw + j of the first element holding
/// it, as f32 (Pooling.cpp): [max] or [max, offset].
llvm::SmallVector<mlir::Value> windowMax(mlir::OpBuilder &b, mlir::Location loc,
                                         mlir::Value xp,
                                         mlir::RankedTensorType y,
                                         const Window &w, bool withIndex);

/// The maximum of the window elements `v` (in scan order) and, with
/// `withIndex`, the position of the first holding it, as f32: an element
/// replaces the maximum when it is greater or NaN (Pooling.cpp).
llvm::SmallVector<mlir::Value> maxOf(mlir::OpBuilder &b, mlir::Location loc,
                                     mlir::ValueRange v, bool withIndex);

/// The gradient dxp (of type `xpType`) of a max pooling whose windows do not
/// overlap (stride = kernel), from the offsets `argmax` of windowMax and the
/// pooled gradient `dy` (Pooling.cpp).
mlir::Value disjointWindowsGrad(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value argmax, mlir::Value dy,
                                mlir::RankedTensorType xpType, const Window &w);

/// The bytes a buffer of a parallel loop's body may take: its chunks keep
/// them on the stack (see PromoteBuffersToStack in nnc-cpu-codegen).
constexpr int64_t kBodyBytes = int64_t(5) << 18; // 1.25 MiB

/// An index constant.
mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// The type of `size` samples [size, ...] of a batch of type `t` [N, ...].
mlir::RankedTensorType partOf(mlir::RankedTensorType t, int64_t size = 1);

/// An scf.forall over the first dimension of the `outs` types [N, ...] (the
/// samples, or groups) in parts of `size`: `body` gets the index of the
/// part's first sample and returns its [size, ...] part of each result.
/// With `intoParts`, the body also gets `into(i)`: result i's part of the
/// loop's shared output ([size, ...], rank-reduced to [...] for size 1), a
/// destination to build the part in, so that bufferization writes it in
/// place instead of copying a part built in a buffer of its own (the part
/// returned may then be [...] for size 1).
llvm::SmallVector<mlir::Value> forEachPart(
    mlir::OpBuilder &b, mlir::Location loc,
    llvm::ArrayRef<mlir::RankedTensorType> outs, int64_t size,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(
        mlir::Value, llvm::function_ref<mlir::Value(unsigned)>)>
        intoParts);
llvm::SmallVector<mlir::Value>
forEachPart(mlir::OpBuilder &b, mlir::Location loc,
            llvm::ArrayRef<mlir::RankedTensorType> outs, int64_t size,
            llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)>
                body);
mlir::Value forEachPart(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType out, int64_t size,
                        llvm::function_ref<mlir::Value(mlir::Value)> body);

/// The `size` samples of the NCHW tensor `x` from sample `first` on as a
/// [size, C, H, W] tensor.
mlir::Value samplesOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                      mlir::Value first, int64_t size = 1);

} // namespace lowering
} // namespace nnc

#endif // NNC_PASSES_CONVERSION_NNTOLINALG_WINDOWS_H
