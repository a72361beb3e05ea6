//===- NNConvOps.cpp - Verifiers of the convolution and pooling ops
//--------===//
//
// Every window op checks its attributes (two positive strides and kernel
// sizes, four non-negative paddings) and that its shapes agree with
// OH = (H + top + bottom - kh) / sh + 1, PyTorch's floor mode.
//
//===----------------------------------------------------------------------===//
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

namespace {
/// The window of a conv or pool: kernel, stride, [top, left, bottom, right].
struct Window {
  int64_t kh, kw, sh, sw, top, left, bottom, right;
  /// The output extent of an input extent along dimension `d` (0 = H, 1 = W),
  /// or -1 when the padded input is smaller than the kernel.
  int64_t out(int d, int64_t size) const {
    int64_t k = d == 0 ? kh : kw, s = d == 0 ? sh : sw;
    int64_t padded = size + (d == 0 ? top + bottom : left + right);
    return padded < k ? -1 : (padded - k) / s + 1;
  }
};
} // namespace

/// Checks the attributes and fills `w`; `kernel` is empty for convolutions
/// (their kernel is the weight's [kh, kw], passed in `kernelHW`).
static LogicalResult verifyWindow(Operation *op, ArrayRef<int64_t> kernel,
                                  ArrayRef<int64_t> stride,
                                  ArrayRef<int64_t> padding, Window &w,
                                  ArrayRef<int64_t> kernelHW = {}) {
  ArrayRef<int64_t> k = kernelHW.empty() ? kernel : kernelHW;
  if (k.size() != 2 || k[0] < 1 || k[1] < 1)
    return op->emitOpError() << "kernel must be two positive sizes [kh, kw]";
  if (stride.size() != 2 || stride[0] < 1 || stride[1] < 1)
    return op->emitOpError() << "stride must be two positive values [sh, sw]";
  if (padding.size() != 4 ||
      llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return op->emitOpError()
           << "padding must be four non-negative values [top, left, bottom, "
              "right]";
  w = {k[0],       k[1],       stride[0],  stride[1],
       padding[0], padding[1], padding[2], padding[3]};
  return success();
}

/// Checks that `out` is the windowed image of `in`: same N, `channels` (the
/// input's C when -1 is not given), and OH, OW from the window.
static LogicalResult verifyWindowShapes(Operation *op, RankedTensorType in,
                                        RankedTensorType out, const Window &w,
                                        int64_t outChannels, StringRef inName,
                                        StringRef outName) {
  if (in.getRank() != 4 || out.getRank() != 4)
    return op->emitOpError() << "expects NCHW (rank-4) " << inName << " and "
                             << outName << ", got " << in << " and " << out;
  int64_t oh = w.out(0, in.getDimSize(2)), ow = w.out(1, in.getDimSize(3));
  if (oh < 1 || ow < 1)
    return op->emitOpError()
           << "window " << w.kh << "x" << w.kw << " is larger than the padded "
           << inName << " " << in;
  SmallVector<int64_t> expected = {in.getDimSize(0), outChannels, oh, ow};
  if (out.getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError()
           << outName << " must be [" << expected[0] << ", " << expected[1]
           << ", " << expected[2] << ", " << expected[3] << "] for " << inName
           << " " << in << ", got " << out;
  return success();
}

/// conv2d and its gradients: `x` [N, C, H, W], `w` [F, C, kh, kw] and
/// `y` [N, F, OH, OW].
static LogicalResult verifyConv(Operation *op, RankedTensorType x,
                                RankedTensorType w, RankedTensorType y,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> padding, StringRef xName,
                                StringRef yName) {
  if (w.getRank() != 4)
    return op->emitOpError() << "expects [F, C, kh, kw] filters, got " << w;
  Window win;
  if (failed(verifyWindow(op, {}, stride, padding, win,
                          {w.getDimSize(2), w.getDimSize(3)})))
    return failure();
  if (x.getRank() == 4 && x.getDimSize(1) != w.getDimSize(1))
    return op->emitOpError()
           << xName << " channels (" << x.getDimSize(1)
           << ") do not match the filters' [F, C, kh, kw] = " << w;
  return verifyWindowShapes(op, x, y, win, w.getDimSize(0), xName, yName);
}

LogicalResult Conv2dOp::verify() {
  RankedTensorType w = tensorType(getWeight());
  if (failed(verifyConv(*this, tensorType(getInput()), w,
                        tensorType(getResult()), getStride(), getPadding(),
                        "input", "result")))
    return failure();
  if (Value b = getBias()) {
    RankedTensorType bt = tensorType(b);
    if (bt.getRank() != 1 || bt.getDimSize(0) != w.getDimSize(0))
      return emitOpError() << "bias must be [" << w.getDimSize(0) << "], got "
                           << bt;
  }
  return success();
}

LogicalResult Conv2dGradInputOp::verify() {
  return verifyConv(*this, tensorType(getResult()), tensorType(getWeight()),
                    tensorType(getGrad()), getStride(), getPadding(), "result",
                    "gradient");
}

LogicalResult Conv2dGradWeightOp::verify() {
  return verifyConv(*this, tensorType(getInput()), tensorType(getResult()),
                    tensorType(getGrad()), getStride(), getPadding(), "input",
                    "gradient");
}

/// The pools: `x` [N, C, H, W] and `y` [N, C, OH, OW]. Every window must
/// hold at least one real element, so no padding reaches the kernel size.
static LogicalResult verifyPool(Operation *op, RankedTensorType x,
                                RankedTensorType y, ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> padding, StringRef xName,
                                StringRef yName) {
  Window w;
  if (failed(verifyWindow(op, kernel, stride, padding, w)))
    return failure();
  if (w.top >= w.kh || w.bottom >= w.kh || w.left >= w.kw || w.right >= w.kw)
    return op->emitOpError()
           << "padding must be smaller than the kernel " << w.kh << "x" << w.kw;
  int64_t channels = x.getRank() == 4 ? x.getDimSize(1) : -1;
  return verifyWindowShapes(op, x, y, w, channels, xName, yName);
}

LogicalResult MaxPool2dOp::verify() {
  return verifyPool(*this, tensorType(getInput()), tensorType(getResult()),
                    getKernel(), getStride(), getPadding(), "input", "result");
}

LogicalResult AvgPool2dOp::verify() {
  return verifyPool(*this, tensorType(getInput()), tensorType(getResult()),
                    getKernel(), getStride(), getPadding(), "input", "result");
}

LogicalResult MaxPool2dGradOp::verify() {
  return verifyPool(*this, tensorType(getInput()), tensorType(getGrad()),
                    getKernel(), getStride(), getPadding(), "input",
                    "gradient");
}

LogicalResult AvgPool2dGradOp::verify() {
  return verifyPool(*this, tensorType(getResult()), tensorType(getGrad()),
                    getKernel(), getStride(), getPadding(), "result",
                    "gradient");
}

/// global_avgpool: `x` [N, C, H, W] and `y` [N, C].
static LogicalResult verifyGlobal(Operation *op, RankedTensorType x,
                                  RankedTensorType y) {
  if (x.getRank() != 4 || y.getRank() != 2 ||
      x.getDimSize(0) != y.getDimSize(0) || x.getDimSize(1) != y.getDimSize(1))
    return op->emitOpError()
           << "expects [N, C, H, W] and [N, C], got " << x << " and " << y;
  return success();
}

LogicalResult GlobalAvgPoolOp::verify() {
  return verifyGlobal(*this, tensorType(getInput()), tensorType(getResult()));
}

LogicalResult GlobalAvgPoolGradOp::verify() {
  return verifyGlobal(*this, tensorType(getResult()), tensorType(getGrad()));
}
