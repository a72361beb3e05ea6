//===- StaticSubsets.cpp - Subset comparisons of static slices ------------===//
//
// tensor.extract_slice, tensor.insert_slice and tensor.parallel_insert_slice
// as SubsetOpInterface ops (one-shot bufferization, empty-tensor
// elimination and loop-invariant subset hoisting ask whether two slices are
// the same subset, or disjoint ones). MLIR's default answers through
// ValueBoundsConstraintSet: every offset, size and stride pair becomes a
// constraint set and up to six Fourier-Motzkin emptiness checks, even when
// both are constants. nnc's slices are nearly all static, and these
// questions took ~8% of a compile's CPU time (resnet_mini). Here static
// pairs (and pairs of the same SSA value) are compared directly, with the
// answers the constraint sets give; anything else falls back to MLIR's
// default.
//
//===----------------------------------------------------------------------===//
#include "passes/Pipelines.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SubsetOpInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

using namespace mlir;

namespace {

/// A slice's offsets, sizes and strides as constants, if they all are.
struct StaticSlice {
  SmallVector<int64_t> offsets, sizes, strides;
};

std::optional<StaticSlice> staticSlice(const HyperrectangularSlice &slice) {
  StaticSlice s;
  auto take = [](ArrayRef<OpFoldResult> values, SmallVector<int64_t> &out) {
    for (OpFoldResult v : values) {
      std::optional<int64_t> c = getConstantIntValue(v);
      if (!c)
        return false;
      out.push_back(*c);
    }
    return true;
  };
  if (!take(slice.getMixedOffsets(), s.offsets) ||
      !take(slice.getMixedSizes(), s.sizes) ||
      !take(slice.getMixedStrides(), s.strides))
    return std::nullopt;
  return s;
}

/// Whether every offset, size and stride of the two slices is the same
/// value: the same SSA value or the same constant.
bool identicalParameters(const HyperrectangularSlice &a,
                         const HyperrectangularSlice &b) {
  auto same = [](ArrayRef<OpFoldResult> x, ArrayRef<OpFoldResult> y) {
    if (x.size() != y.size())
      return false;
    for (auto [u, v] : llvm::zip_equal(x, y)) {
      if (u == v)
        continue;
      std::optional<int64_t> cu = getConstantIntValue(u),
                             cv = getConstantIntValue(v);
      if (!cu || !cv || *cu != *cv)
        return false;
    }
    return true;
  };
  return same(a.getMixedOffsets(), b.getMixedOffsets()) &&
         same(a.getMixedSizes(), b.getMixedSizes()) &&
         same(a.getMixedStrides(), b.getMixedStrides());
}

/// The slices of op and of `candidate`, when the candidate has one and
/// works on a container equivalent to op's; std::nullopt otherwise (then
/// the two are neither the same subset nor provably disjoint ones, as in
/// MLIR's defaults).
std::optional<std::pair<HyperrectangularSlice, HyperrectangularSlice>>
slicesOnSameContainer(Operation *op, SubsetOpInterface candidate,
                      function_ref<bool(Value, Value)> equivalenceFn) {
  FailureOr<HyperrectangularSlice> other =
      candidate.getAccessedHyperrectangularSlice();
  if (failed(other) ||
      !equivalenceFn(cast<SubsetOpInterface>(op).getTensorContainer(),
                     candidate.getTensorContainer()))
    return std::nullopt;
  return std::pair(
      HyperrectangularSlice(cast<OffsetSizeAndStrideOpInterface>(op)), *other);
}

template <typename OpTy>
struct StaticSubsetModel
    : public SubsetOpInterface::ExternalModel<StaticSubsetModel<OpTy>, OpTy> {
  FailureOr<HyperrectangularSlice>
  getAccessedHyperrectangularSlice(Operation *op) const {
    return HyperrectangularSlice(cast<OffsetSizeAndStrideOpInterface>(op));
  }

  bool operatesOnEquivalentSubset(
      Operation *op, SubsetOpInterface candidate,
      function_ref<bool(Value, Value)> equivalenceFn) const {
    auto slices = slicesOnSameContainer(op, candidate, equivalenceFn);
    if (!slices)
      return false;
    auto &[mine, other] = *slices;
    if (identicalParameters(mine, other))
      return true;
    // Two static slices that differ anywhere are different subsets (the
    // constraint sets prove a constant pair unequal).
    if (staticSlice(mine) && staticSlice(other))
      return false;
    return detail::defaultOperatesOnEquivalentSubset(op, candidate,
                                                     equivalenceFn);
  }

  bool operatesOnDisjointSubset(
      Operation *op, SubsetOpInterface candidate,
      function_ref<bool(Value, Value)> equivalenceFn) const {
    auto slices = slicesOnSameContainer(op, candidate, equivalenceFn);
    if (!slices)
      return false;
    auto &[mine, other] = *slices;
    std::optional<StaticSlice> a = staticSlice(mine), b = staticSlice(other);
    if (!a || !b || a->offsets.size() != b->offsets.size())
      return detail::defaultOperatesOnDisjointSubset(op, candidate,
                                                     equivalenceFn);
    // ValueBoundsConstraintSet::areOverlappingSlices' test on constants:
    // disjoint when, in some dimension, one slice's offset + size * stride
    // is at most the other's offset.
    for (size_t d = 0; d < a->offsets.size(); ++d)
      if (a->offsets[d] + a->sizes[d] * a->strides[d] <= b->offsets[d] ||
          b->offsets[d] + b->sizes[d] * b->strides[d] <= a->offsets[d])
        return true;
    return false;
  }
};

} // namespace

void nnc::registerStaticSubsetModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::ExtractSliceOp::attachInterface<
        StaticSubsetModel<tensor::ExtractSliceOp>>(*ctx);
    tensor::InsertSliceOp::attachInterface<
        StaticSubsetModel<tensor::InsertSliceOp>>(*ctx);
    tensor::ParallelInsertSliceOp::attachInterface<
        StaticSubsetModel<tensor::ParallelInsertSliceOp>>(*ctx);
  });
}
