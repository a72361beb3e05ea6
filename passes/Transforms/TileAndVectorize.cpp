//===- TileAndVectorize.cpp - Register tiling and vectorization for CPUs ===//
//
// Turns every linalg op of a function into a loop nest over register-sized
// tiles whose bodies are vector ops. Matmul-family ops become outer-product
// FMA kernels (the recipe that reached 105-110 GFLOP/s on one Zen 4 core);
// everything else is vectorized along its innermost loop.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/Transforms/ArenaViews.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/bit.h"

namespace nnc {
#define GEN_PASS_DEF_NNTILEANDVECTORIZEPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

int64_t nnc::parallelChunkCount(int64_t extent, int64_t target,
                                llvm::function_ref<bool(int64_t)> fits) {
  for (int64_t d = target; d <= 4 * target && d <= extent; ++d)
    if (extent % d == 0 && fits(extent / d))
      return d;
  for (int64_t d = std::min(target - 1, extent); d >= 2; --d)
    if (extent % d == 0 && fits(extent / d))
      return d;
  return 1;
}

namespace {

/// The tile size for a loop of `extent` iterations when `preferred` is wanted:
/// the whole loop when it is short, else the largest divisor of the extent in
/// [preferred/4, preferred], so that no tile is partial and every tile has a
/// static shape. Returns std::nullopt when no such size exists.
static std::optional<int64_t> pickTileSize(int64_t extent, int64_t preferred,
                                           int64_t lanes = 1,
                                           bool powerOfTwoVectors = false) {
  if (ShapedType::isDynamic(extent))
    return std::nullopt;
  if (extent <= preferred)
    return int64_t(0); // 0 = do not tile this loop
  // Whole vectors first: a 28-lane tile costs as many instructions as 32.
  // With `powerOfTwoVectors`, 1, 2 or 4 vectors only: LLVM legalizes a
  // vector of 3 registers (vector<48xf32>) by widening it to 4 and
  // splitting, in 4x the code of two vector<32> (an AdamW update of 288
  // elements: 1.6 KB against 0.4 KB) and 3x the instruction selection time;
  // any multiple of the vector that divides the extent means one vector
  // does.
  if (lanes > 1 && powerOfTwoVectors)
    for (int64_t t =
             int64_t(llvm::bit_floor(uint64_t(preferred / lanes))) * lanes;
         t >= lanes; t /= 2)
      if (extent % t == 0)
        return t;
  if (lanes > 1)
    for (int64_t t = preferred / lanes * lanes; t >= lanes; t -= lanes)
      if (extent % t == 0)
        return t;
  for (int64_t t = preferred; t >= std::max<int64_t>(1, preferred / 4); --t)
    if (extent % t == 0)
      return t;
  return std::nullopt;
}

/// The cache block of a loop of `extent` iterations tiled by `tile`: the
/// largest multiple of the tile that divides the extent and is at most
/// `limit`, or 0 (no blocking) when the loop is not tiled.
static int64_t blockSize(int64_t extent, int64_t tile, int64_t limit) {
  if (tile <= 0)
    return 0;
  for (int64_t t = limit / tile * tile; t >= tile; t -= tile)
    if (extent % t == 0)
      return t;
  return 0;
}

/// Whether a memref type's dimensions `dims` (consecutive, in order) are
/// one run in memory.
static bool contiguousDims(MemRefType type, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return false;
  for (size_t i = 0; i + 1 < dims.size(); ++i)
    if (ShapedType::isDynamic(strides[dims[i + 1]]) ||
        strides[dims[i]] != strides[dims[i + 1]] * type.getDimSize(dims[i + 1]))
      return false;
  return true;
}

/// Whether dimensions `dims` (consecutive, in order) of a slice of a
/// tensor that is one run of memory are one run too: unit strides, and
/// whole dimensions after the first one of more than one element.
static bool sliceRunContiguous(OffsetSizeAndStrideOpInterface slice,
                               RankedTensorType whole,
                               ArrayRef<int64_t> dims) {
  ArrayRef<int64_t> strides = slice.getStaticStrides();
  ArrayRef<int64_t> sizes = slice.getStaticSizes();
  bool inner = false; // past the first dimension not of size 1
  for (int64_t d : dims) {
    if (strides[d] != 1 || (inner && sizes[d] != whole.getDimSize(d)))
      return false;
    inner |= sizes[d] != 1;
  }
  return true;
}

static bool contiguousDims(Value value, ArrayRef<int64_t> dims);

/// Whether tensor `value` will be one run of memory with the identity
/// layout once bufferized: op results and function arguments are;
/// reshapes of such values; slices of them that are one run; views of
/// memrefs with such layouts.
static bool isDense(Value value) {
  int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
  return contiguousDims(value, llvm::to_vector(llvm::seq<int64_t>(0, rank)));
}

/// Whether the tensor dimensions `dims` (consecutive, in order) of
/// `value` lie in memory as one run once bufferized, so that a
/// tensor.collapse_shape of them bufferizes to a view, not a copy.
static bool contiguousDims(Value value, ArrayRef<int64_t> dims) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Operation *parent = arg.getOwner()->getParentOp();
    if (auto forall = dyn_cast<scf::ForallOp>(parent))
      if (OpOperand *init = forall.getTiedOpOperand(arg))
        return contiguousDims(init->get(), dims);
    if (auto loop = dyn_cast<scf::ForOp>(parent))
      if (OpOperand *init = loop.getTiedLoopInit(arg))
        return contiguousDims(init->get(), dims);
    return isa<FunctionOpInterface>(parent);
  }
  Operation *def = value.getDefiningOp();
  if (auto toTensor = dyn_cast<bufferization::ToTensorOp>(def)) {
    auto type = dyn_cast<MemRefType>(toTensor.getMemref().getType());
    return type && contiguousDims(type, dims);
  }
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(def))
    return isDense(def->getOperand(0));
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def))
    return slice.getSourceType().getRank() == slice.getType().getRank() &&
           isDense(slice.getSource()) &&
           sliceRunContiguous(slice, slice.getSourceType(), dims);
  return !isa<ViewLikeOpInterface>(def);
}

/// Whether the dimensions `dims` of `result` stay one run where it is
/// written: a result whose only use inserts it into a slice of a larger
/// tensor (a transpose into the interior of a zero-padded buffer) is
/// written there in place once empty-tensor elimination has run, so its
/// dimensions are that slice's. Collapsing them otherwise bufferizes to a
/// buffer of its own and a copy into the slice (row by row).
static bool landsContiguous(Value result, ArrayRef<int64_t> dims) {
  if (!result.hasOneUse())
    return true;
  auto insert = dyn_cast<tensor::InsertSliceOp>(*result.user_begin());
  if (!insert || insert.getSource() != result)
    return true;
  return insert.getSourceType().getRank() == insert.getDestType().getRank() &&
         isDense(insert.getDest()) &&
         sliceRunContiguous(insert, insert.getDestType(), dims);
}

/// The run of consecutive loops [a, b] that `e` enumerates in row-major
/// order, (..(d_a n_{a+1} + d_{a+1}) n_{a+2} + ..) + d_b with n the loops'
/// extents (a gradient of a [F, C, kh, kw] weight read from its [C kh kw,
/// F] matrix), or std::nullopt.
static std::optional<ReassociationIndices>
rowMajorRun(AffineExpr e, ArrayRef<int64_t> ranges) {
  SmallVector<int64_t> coef(ranges.size(), 0);
  std::function<bool(AffineExpr, int64_t)> walk = [&](AffineExpr x,
                                                      int64_t scale) {
    if (auto d = dyn_cast<AffineDimExpr>(x)) {
      coef[d.getPosition()] += scale;
      return true;
    }
    auto bin = dyn_cast<AffineBinaryOpExpr>(x);
    if (!bin)
      return false;
    if (x.getKind() == AffineExprKind::Add)
      return walk(bin.getLHS(), scale) && walk(bin.getRHS(), scale);
    if (x.getKind() != AffineExprKind::Mul)
      return false;
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return walk(bin.getLHS(), scale * c.getValue());
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
      return walk(bin.getRHS(), scale * c.getValue());
    return false;
  };
  if (!walk(e, 1))
    return std::nullopt;
  ReassociationIndices run;
  for (auto [d, c] : llvm::enumerate(coef))
    if (c != 0)
      run.push_back(d);
  if (run.size() < 2 || run.back() - run.front() + 1 != int64_t(run.size()) ||
      coef[run.back()] != 1)
    return std::nullopt;
  for (size_t i = 0; i + 1 < run.size(); ++i)
    if (coef[run[i]] != coef[run[i + 1]] * ranges[run[i + 1]])
      return std::nullopt;
  return run;
}

/// Whether an operand indexed by one of `maps` is read across loop `last`
/// (the innermost): the loop appears in its map, but not as its last
/// dimension (a transpose).
static bool readsAcrossInnermost(ArrayRef<AffineMap> maps, int64_t last) {
  return llvm::any_of(maps, [&](AffineMap m) {
    return m.getNumResults() > 0 && m.isFunctionOfDim(last) &&
           m.getResults().back() != getAffineDimExpr(last, m.getContext());
  });
}

/// A transpose of whole vectors: an all-parallel generic on tensors of
/// static shapes, without linalg.index, its operands read at projected
/// permutations, one of them across the innermost loop, whose extent is a
/// multiple of `vectorWidth` (what collapseTransposedRun and
/// splitTransposedRows rewrite).
static bool isVectorTranspose(linalg::GenericOp op, int64_t vectorWidth) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  int64_t last = int64_t(ranges.size()) - 1;
  return last >= 1 && op.getNumLoops() == op.getNumParallelLoops() &&
         op.hasPureTensorSemantics() &&
         op.getBody()->getOps<linalg::IndexOp>().empty() &&
         llvm::none_of(ranges, ShapedType::isDynamic) &&
         ranges[last] % vectorWidth == 0 &&
         llvm::all_of(maps,
                      [](AffineMap m) { return m.isProjectedPermutation(); }) &&
         readsAcrossInnermost(maps, last);
}

/// An elementwise generic whose innermost loop is shorter than a vector
/// and which reads an operand across it (an optimizer's update of a
/// [F, C, 3, 3] convolution weight from its gradient in [C 3 3, F] order):
/// its tiles would be scalar code. The run of loops ending with the
/// innermost that every operand indexes as consecutive dimensions in order
/// (contiguous in memory: they then collapse to one), as the row-major
/// expression of the run, or not at all becomes one loop: a [F, C 3 3]
/// transpose, in square tiles of vectors. Returns whether it rewrote.
static bool collapseShortTransposed(RewriterBase &rewriter,
                                    linalg::GenericOp op, int64_t vectorWidth) {
  if (op.getNumLoops() < 2 || op.getNumLoops() != op.getNumParallelLoops() ||
      !op.hasPureTensorSemantics() ||
      !op.getBody()->getOps<linalg::IndexOp>().empty())
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t last = ranges.size() - 1;
  if (llvm::any_of(ranges, ShapedType::isDynamic) ||
      ranges[last] >= vectorWidth)
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!readsAcrossInnermost(maps, last))
    return false;
  // How operand `i` indexes the loops [first, last]: as consecutive
  // results in order (Dims, collapsed with the loops), as one row-major
  // result (RowMajor, read at the new loop), or not at all; `pos` is the
  // result's position. std::nullopt when any other way.
  enum class Use { None, Dims, RowMajor };
  auto useOf = [&](unsigned i, int64_t first,
                   int64_t &pos) -> std::optional<Use> {
    AffineMap m = maps[i];
    ReassociationIndices run =
        llvm::to_vector(llvm::seq<int64_t>(first, last + 1));
    std::optional<Use> use = Use::None;
    for (auto [r, e] : llvm::enumerate(m.getResults())) {
      bool touches =
          llvm::any_of(run, [&](int64_t d) { return e.isFunctionOfDim(d); });
      if (!touches)
        continue;
      if (*use != Use::None) {
        // The run's next dimension (checked in full below), nothing else.
        auto d = dyn_cast<AffineDimExpr>(e);
        if (*use != Use::Dims || !d ||
            int64_t(d.getPosition()) != first + (int64_t(r) - pos))
          return std::nullopt;
        continue;
      }
      if (auto d = dyn_cast<AffineDimExpr>(e);
          d && int64_t(d.getPosition()) == first) {
        use = Use::Dims;
        pos = r;
        continue;
      }
      if (rowMajorRun(e, ranges) == run) {
        use = Use::RowMajor;
        pos = r;
        continue;
      }
      return std::nullopt;
    }
    if (*use == Use::Dims) {
      // All of the run, in order, contiguous in the operand's memory.
      if (pos + (last - first) >= int64_t(m.getNumResults()))
        return std::nullopt;
      SmallVector<int64_t> dims;
      for (int64_t k = 0; k <= last - first; ++k) {
        auto d = dyn_cast<AffineDimExpr>(m.getResult(pos + k));
        if (!d || int64_t(d.getPosition()) != first + k)
          return std::nullopt;
        dims.push_back(pos + k);
      }
      if (!contiguousDims(op->getOperand(i), dims))
        return std::nullopt;
    }
    return use;
  };
  // The longest such run, with each operand's use of it.
  int64_t first = -1;
  SmallVector<std::pair<Use, int64_t>> uses;
  for (int64_t f = 0; f < last && first < 0; ++f) {
    uses.clear();
    for (unsigned i = 0; i < maps.size(); ++i) {
      int64_t pos = 0;
      std::optional<Use> use = useOf(i, f, pos);
      // Results (inits) only collapse: the result is expanded back.
      if (!use || (i >= op.getNumDpsInputs() && *use == Use::RowMajor))
        break;
      uses.push_back({*use, pos});
    }
    if (uses.size() == maps.size())
      first = f;
  }
  if (first < 0)
    return false;

  MLIRContext *ctx = op.getContext();
  int64_t width = last - first; // loops removed
  auto newDim = [&](unsigned d) {
    return getAffineDimExpr(int64_t(d) > last    ? d - width
                            : int64_t(d) > first ? first
                                                 : d,
                            ctx);
  };
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands;
  SmallVector<AffineMap> newMaps;
  SmallVector<SmallVector<ReassociationIndices>> groups;
  for (auto [i, m] : llvm::enumerate(maps)) {
    auto [use, pos] = uses[i];
    SmallVector<AffineExpr> results;
    SmallVector<ReassociationIndices> group;
    for (auto [r, e] : llvm::enumerate(m.getResults())) {
      if (use == Use::Dims && int64_t(r) > pos && int64_t(r) <= pos + width) {
        group.back().push_back(r);
        continue;
      }
      group.push_back({int64_t(r)});
      if (use == Use::RowMajor && int64_t(r) == pos) {
        results.push_back(getAffineDimExpr(first, ctx));
        continue;
      }
      results.push_back(e.replaceDims(llvm::to_vector(
          llvm::map_range(llvm::seq<unsigned>(0, m.getNumDims()), newDim))));
    }
    newMaps.push_back(AffineMap::get(ranges.size() - width, 0, results, ctx));
    Value v = op->getOperand(i);
    if (use == Use::Dims)
      v = rewriter.create<tensor::CollapseShapeOp>(loc, v, group);
    operands.push_back(v);
    groups.push_back(group);
  }
  SmallVector<utils::IteratorType> iterators(ranges.size() - width,
                                             utils::IteratorType::parallel);
  ArrayRef<Value> ins = ArrayRef<Value>(operands).take_front(
                      op.getNumDpsInputs()),
                  inits = ArrayRef<Value>(operands).drop_front(ins.size());
  auto collapsed = rewriter.create<linalg::GenericOp>(
      loc, ValueRange(inits).getTypes(), ins, inits, newMaps, iterators);
  rewriter.inlineRegionBefore(op.getRegion(), collapsed.getRegion(),
                              collapsed.getRegion().begin());
  SmallVector<Value> results;
  for (auto [r, result] : llvm::enumerate(collapsed->getResults())) {
    unsigned i = op.getNumDpsInputs() + r;
    Value v = result;
    if (v.getType() != op->getResult(r).getType())
      v = rewriter.create<tensor::ExpandShapeOp>(
          loc, op->getResult(r).getType(), v, groups[i]);
    results.push_back(v);
  }
  rewriter.replaceOp(op, results);
  return true;
}

/// A transpose (an all-parallel generic reading an operand across its
/// innermost loop) whose transposed rows are not whole vectors but which
/// moves a run of loops together, contiguous in every operand: NCHW to NHWC
/// of 28x28 images would go in 14 x 16 tiles through one 1-D shuffle each
/// (rows read in pieces); h and w collapse to one loop of 784 = 49 x 16,
/// and the transpose goes in 16 x 16 tiles. Only where the run's extent is
/// a multiple of the vector width and its innermost loop's is not, and the
/// op's innermost loop is whole vectors (a shorter one: see
/// collapseShortTransposed). Returns whether it rewrote.
static bool collapseTransposedRun(RewriterBase &rewriter, linalg::GenericOp op,
                                  int64_t vectorWidth) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t n = ranges.size(), last = n - 1;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (n < 3 || !isVectorTranspose(op, vectorWidth))
    return false;
  // Whether loops [a, b] run contiguously through every operand that
  // indexes them.
  auto contiguousRun = [&](int64_t a, int64_t b) {
    ReassociationIndices run = llvm::to_vector(llvm::seq<int64_t>(a, b + 1));
    if (!linalg::areDimSequencesPreserved(maps, {run}))
      return false;
    for (auto [i, m] : llvm::enumerate(maps)) {
      std::optional<unsigned> pos =
          m.getResultPosition(getAffineDimExpr(a, op.getContext()));
      if (!pos)
        continue;
      SmallVector<int64_t> dims =
          llvm::to_vector(llvm::seq<int64_t>(*pos, *pos + (b - a) + 1));
      if (!contiguousDims(op->getOperand(i), dims))
        return false;
      if (int64_t(i) >= op.getNumDpsInputs() &&
          !landsContiguous(op->getResult(i - op.getNumDpsInputs()), dims))
        return false;
    }
    return true;
  };
  for (int64_t a = 0; a + 1 < last; ++a)
    for (int64_t b = last - 1; b > a; --b) {
      int64_t extent = 1;
      for (int64_t d = a; d <= b; ++d)
        extent *= ranges[d];
      if (ranges[b] % vectorWidth == 0 || extent % vectorWidth != 0 ||
          !contiguousRun(a, b))
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(
              cast<linalg::LinalgOp>(op.getOperation()),
              {llvm::to_vector(llvm::seq<int64_t>(a, b + 1))}, rewriter);
      if (failed(collapsed))
        return false;
      rewriter.replaceOp(op, collapsed->results);
      return true;
    }
  return false;
}

/// A transpose (an all-parallel generic reading an operand across its
/// innermost loop) whose transposed rows are longer than a vector but not
/// whole vectors, and which collapseTransposedRun left (NCHW to channels-last
/// of 28x28 images into the interior of a zero-padded buffer, whose rows
/// are not one run): tiled by a divisor of the row, 14 x 16, each tile
/// transposed by 1-D shuffles (`vpermt2ps`), about twice the shuffles per
/// element of a 16 x 16 tile. The op is split into ops over runs of whole
/// vectors of that loop, the last run ending with the row (0-15 and 12-27):
/// the elements where the runs overlap are computed twice from the same
/// operands by the same operations. Only for ops that do not read their
/// result's initial value. Returns whether it rewrote.
static bool splitTransposedRows(RewriterBase &rewriter, linalg::GenericOp op,
                                int64_t vectorWidth) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t last = int64_t(ranges.size()) - 1;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!isVectorTranspose(op, vectorWidth) || op.getNumDpsInits() != 1 ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)) ||
      !maps.back().isIdentity())
    return false;
  // The loop along which a transposed operand's rows run (its last
  // dimension).
  std::optional<unsigned> row;
  for (AffineMap m : ArrayRef<AffineMap>(maps).drop_back())
    if (m.getNumResults() > 0 && m.isFunctionOfDim(last) &&
        m.getResults().back() != getAffineDimExpr(last, op.getContext()))
      row = cast<AffineDimExpr>(m.getResults().back()).getPosition();
  if (!row || ranges[*row] <= vectorWidth || ranges[*row] % vectorWidth == 0)
    return false;
  int64_t extent = ranges[*row];
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  // `v` (read through `m`) at the run from `at` of loop `row`.
  auto runOf = [&](Value v, AffineMap m, int64_t at) -> Value {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0)),
        sizes = getAsIndexOpFoldResult(op.getContext(), type.getShape()),
        strides(type.getRank(), rewriter.getIndexAttr(1));
    std::optional<unsigned> pos =
        m.getResultPosition(getAffineDimExpr(*row, op.getContext()));
    if (!pos)
      return v;
    offsets[*pos] = rewriter.getIndexAttr(at);
    sizes[*pos] = rewriter.getIndexAttr(vectorWidth);
    return rewriter.create<tensor::ExtractSliceOp>(loc, v, offsets, sizes,
                                                   strides);
  };
  Value result = op.getDpsInitOperand(0)->get();
  for (int64_t start = 0; start < extent; start += vectorWidth) {
    int64_t at = std::min(start, extent - vectorWidth);
    SmallVector<Value> inputs;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      inputs.push_back(isa<RankedTensorType>(v.getType())
                           ? runOf(v, op.getMatchingIndexingMap(input), at)
                           : v);
    }
    Value init = runOf(result, maps.back(), at);
    auto part = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
        op.getIteratorTypesArray());
    rewriter.cloneRegionBefore(op.getRegion(), part.getRegion(),
                               part.getRegion().begin());
    auto slice = init.getDefiningOp<tensor::ExtractSliceOp>();
    result = rewriter.create<tensor::InsertSliceOp>(
        loc, part.getResult(0), result, slice.getMixedOffsets(),
        slice.getMixedSizes(), slice.getMixedStrides());
  }
  rewriter.replaceOp(op, result);
  return true;
}

/// Partial sums of at most this many floats (1 MiB).
static constexpr int64_t kMaxLaneSums = 1 << 18;

/// The attribute of a sum by lanes in blocks (see sumInnermostByLanes): its
/// last two loops, a block's [vectors, lanes], are kept whole.
static constexpr StringLiteral kLaneBlocks =
    nnc::nn::NNDialect::LaneBlocksAttrHelper::getNameStr();

/// The chunks of samples of sumInnermostByLanes' sample-major sums (at most;
/// the largest divisor of the samples up to it): one per task of the
/// programs' 8 parallel chunks.
static constexpr int64_t kSampleChunks = 8;

/// The vectors per block of sumInnermostByLanes for `lanes` lanes, or 0.
static int64_t vectorsPerBlock(int64_t lanes, int64_t vectorWidth) {
  if (lanes % vectorWidth != 0)
    return 0;
  int64_t vectors = lanes / vectorWidth;
  for (int64_t k = std::min<int64_t>(8, vectors); k >= 4; --k)
    if (vectors % k == 0)
      return k;
  return 0;
}

/// A sum over the innermost loop and others (a convolution's bias gradient,
/// batchnorm's sums over [n, c, h, w] for each c) would reduce each row of
/// w to one scalar and add it to the channel's sum: a horizontal reduction
/// and a serial scalar chain per row of 26 or 28 floats. Instead the sums go
/// per lane first, into [c, lanes] partial sums (the innermost loop becomes
/// parallel: rows are added as vectors), and one short reduction over the
/// lanes per channel follows. For f32 ops of projected-permutation maps
/// whose every result is `out + value` (the out argument used once) without
/// the innermost loop, of at least 4 lanes, with other reduction loops of at
/// least 4 iterations together, and partial sums of at most kMaxLaneSums
/// floats. The order of the sums changes (per lane first, then across
/// lanes); each lane's sum is as long as each row's was serial before.
///
/// Where the lanes are whole vectors, they go in blocks of up to 8 vectors
/// (784 lanes of a 28x28 image: 7 blocks of 7 x 16): the loops become
/// (parallel.., reduced.., block, vector, lane), the last two kept whole
/// (see kLaneBlocks), so that the [c, 7, 16] partial sums of a register
/// tile stay in registers through every reduced loop (7 accumulators per
/// sum) instead of a load, an add and a store of the partial sum per
/// vector read. A block is [vectors, lanes], not one row of 112 lanes: an
/// LLVM vector of 112 floats is loaded element by element. Lanes that are
/// not whole vectors (196 of a 14x14 image) go as whole vectors in blocks
/// (12: 2 blocks of 6 x 16) and the rest (4) as one loop of lanes.
///
/// Where the outermost loop is reduced and is the outermost dimension of
/// every operand it indexes (the samples of [n, c, h, w]), the blocks go
/// sample-major instead: that loop is split into kSampleChunks chunks
/// (parallel, each with partial sums of its own: [chunk, c, 7, 16]) of
/// consecutive samples, and the loops become (chunk, sample, reduced..,
/// parallel.., block, vector, lane). A chunk then reads its samples as one
/// stream ([c, h, w] of a sample is one run of memory) instead of one run of
/// h * w per channel and sample (784 floats, then a jump of a sample):
/// batchnorm's gradient sums over resnet_mini's 6.4 MB activations, not in
/// cache, take 0.31 instead of 0.49-0.61 ms (bench/channel_sums.c; the
/// partial sums are loaded and stored once per sample and channel, in L1).
/// The chunks are the same in serial code and with any parallel chunks or
/// threads, and so are the sums.
static bool sumInnermostByLanes(RewriterBase &rewriter, linalg::GenericOp op,
                                int64_t vectorWidth) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned n = op.getNumLoops();
  if (!op.hasPureTensorSemantics() || n < 2 ||
      llvm::any_of(ranges, ShapedType::isDynamic) ||
      !linalg::isReductionIterator(iterators[n - 1]) ||
      op.getNumParallelLoops() == 0 || ranges[n - 1] < 4 ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isProjectedPermutation(); }))
    return false;
  // The reduced loops that run contiguously through every operand (a
  // contiguous image's h and w) are one loop of lanes: a row of 26 lanes
  // carried from row to row compiled to lane inserts and extracts (slower
  // than the scalar chain); h * w = 676 lanes are added as long vectors.
  unsigned first = n - 1;
  while (first > 0 &&
         linalg::isReductionIterator(iterators[first - 1]) &&
         linalg::areDimSequencesPreserved(
             op.getIndexingMapsArray(),
             {llvm::to_vector(llvm::seq<int64_t>(first - 1, n))}))
    --first;
  // The partial sums: the parallel loops' extents times the lanes; what
  // they add across: the other reduced loops.
  int64_t partialSize = 1, otherReduced = 1;
  for (unsigned d = 0; d < n; ++d) {
    if (d >= first || !linalg::isReductionIterator(iterators[d]))
      partialSize *= ranges[d];
    else
      otherReduced *= ranges[d];
  }
  if (otherReduced < 4 || partialSize > kMaxLaneSums)
    return false;
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    auto type = dyn_cast<RankedTensorType>(init.get().getType());
    BlockArgument out = op.getMatchingBlockArgument(&init);
    auto add = yield.getOperand(init.getOperandNumber() - op.getNumDpsInputs())
                   .getDefiningOp<arith::AddFOp>();
    if (!type || !type.getElementType().isF32() || map.isFunctionOfDim(n - 1) ||
        !add || !out.hasOneUse() ||
        (add.getLhs() != out && add.getRhs() != out))
      return false;
  }
  rewriter.setInsertionPoint(op);
  if (first + 1 < n) {
    FailureOr<linalg::CollapseResult> collapsed =
        linalg::collapseOpIterationDims(
            cast<linalg::LinalgOp>(op.getOperation()),
            {llvm::to_vector(llvm::seq<int64_t>(first, n))}, rewriter);
    if (failed(collapsed))
      return false;
    rewriter.replaceOp(op, collapsed->results);
    op = cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
    ranges = op.getStaticLoopRanges();
    iterators = op.getIteratorTypesArray();
    n = op.getNumLoops();
    rewriter.setInsertionPoint(op);
  }
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  int64_t lanes = ranges[n - 1];
  AffineExpr oldLane = getAffineDimExpr(n - 1, ctx);
  AffineExpr oldBatch = getAffineDimExpr(0, ctx);
  Value zero =
      rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(0));
  // Sample-major blocks (see above): the outermost loop reduced, not among
  // the lanes, and the outermost dimension of every operand it indexes.
  int64_t chunks = 0;
  if (n >= 3 && linalg::isReductionIterator(iterators[0]) &&
      llvm::all_of(op.getIndexingMapsArray(), [&](AffineMap m) {
        std::optional<unsigned> at = m.getResultPosition(oldBatch);
        return !m.isFunctionOfDim(0) || (at && *at == 0);
      })) {
    chunks = 1;
    for (int64_t c = kSampleChunks; c > 1; --c)
      if (ranges[0] % c == 0) {
        chunks = c;
        break;
      }
    if (partialSize * chunks > kMaxLaneSums)
      chunks = 0;
  }
  // The partial sums of lanes [lo, lo + size) (per result), in blocks of
  // `vectors` vectors ([.., vectors, lanes]) or (0) one lane loop ([..,
  // lanes]); sample-major (a leading [chunks] dimension) when `chunked`.
  auto partialSums = [&](int64_t lo, int64_t size, int64_t vectors,
                         bool chunked) {
    bool blocks = vectors != 0;
    // Loop d of the op is `dims[d]` of the new op; in blocks, its loops
    // are the parallel ones, the reduced ones, then the lanes as (block,
    // vector, lane), and `lane` stands for (vector, lane) in the sums.
    // Sample-major: (chunk, sample) for loop 0, the reduced loops before
    // the parallel ones, then the lanes.
    SmallVector<AffineExpr> dims, lane, batch;
    SmallVector<utils::IteratorType> newIterators;
    unsigned lead = chunked ? 1 : 0;
    unsigned newLoops = blocks ? n + 2 + lead : n;
    if (blocks) {
      dims.resize(n - 1);
      unsigned next = 0;
      if (chunked) {
        batch = {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)};
        newIterators.append(
            {utils::IteratorType::parallel, utils::IteratorType::reduction});
        next = 2;
      }
      std::array<bool, 2> order = {chunked, !chunked};
      for (bool reduced : order)
        for (unsigned d = chunked ? 1 : 0; d + 1 < n; ++d)
          if (linalg::isReductionIterator(iterators[d]) == reduced) {
            dims[d] = getAffineDimExpr(next++, ctx);
            newIterators.push_back(iterators[d]);
          }
      newIterators.append({utils::IteratorType::reduction,
                           utils::IteratorType::parallel,
                           utils::IteratorType::parallel});
      lane = {getAffineDimExpr(newLoops - 2, ctx),
              getAffineDimExpr(newLoops - 1, ctx)};
    } else {
      for (unsigned d = 0; d + 1 < n; ++d)
        dims.push_back(getAffineDimExpr(d, ctx));
      newIterators = iterators;
      newIterators[n - 1] = utils::IteratorType::parallel;
      lane = {oldLane};
    }
    // A map of the op in the new loops.
    auto remap = [&](AffineMap map) {
      SmallVector<AffineExpr> results;
      for (AffineExpr e : map.getResults()) {
        if (chunked && e == oldBatch)
          results.append(batch);
        else if (e != oldLane)
          results.push_back(dims[cast<AffineDimExpr>(e).getPosition()]);
        else if (blocks)
          results.append(
              {getAffineDimExpr(newLoops - 3, ctx), lane[0], lane[1]});
        else
          results.push_back(lane[0]);
      }
      return AffineMap::get(newLoops, 0, results, ctx);
    };
    SmallVector<Value> inputs, partials;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      Value value = input->get();
      std::optional<unsigned> at = map.getResultPosition(oldLane);
      std::optional<unsigned> atBatch =
          chunked ? map.getResultPosition(oldBatch) : std::nullopt;
      if (at && size != lanes) {
        // The operand's lanes [lo, lo + size).
        auto type = cast<RankedTensorType>(value.getType());
        SmallVector<int64_t> offsets(type.getRank(), 0), sizes(type.getShape()),
            strides(type.getRank(), 1);
        offsets[*at] = lo;
        sizes[*at] = size;
        value = rewriter.create<tensor::ExtractSliceOp>(
            loc, value, getAsIndexOpFoldResult(ctx, offsets),
            getAsIndexOpFoldResult(ctx, sizes),
            getAsIndexOpFoldResult(ctx, strides));
      }
      if ((blocks && at) || atBatch) {
        // The operand's lanes as [blocks, vectors, lanes], its samples as
        // [chunks, samples].
        auto type = cast<RankedTensorType>(value.getType());
        SmallVector<int64_t> shape;
        SmallVector<ReassociationIndices> groups;
        for (auto [i, extent] : llvm::enumerate(type.getShape())) {
          groups.push_back({int64_t(shape.size())});
          if (atBatch && i == *atBatch) {
            shape.append({chunks, extent / chunks});
            groups.back().push_back(int64_t(shape.size()) - 1);
          } else if (blocks && at && i == *at) {
            shape.append(
                {extent / (vectors * vectorWidth), vectors, vectorWidth});
            groups.back().append(
                {int64_t(shape.size()) - 2, int64_t(shape.size()) - 1});
          } else {
            shape.push_back(extent);
          }
        }
        value = rewriter.create<tensor::ExpandShapeOp>(
            loc, RankedTensorType::get(shape, type.getElementType()), value,
            groups);
      }
      inputs.push_back(value);
      maps.push_back(remap(map));
    }
    for (OpOperand &init : op.getDpsInitsMutable()) {
      AffineMap map = remap(op.getMatchingIndexingMap(&init));
      SmallVector<AffineExpr> results;
      if (chunked)
        results.push_back(batch[0]);
      llvm::append_range(results, map.getResults());
      results.append(lane);
      maps.push_back(AffineMap::get(newLoops, 0, results, ctx));
      SmallVector<int64_t> shape;
      if (chunked)
        shape.push_back(chunks);
      llvm::append_range(
          shape, cast<RankedTensorType>(init.get().getType()).getShape());
      if (blocks)
        shape.append({vectors, vectorWidth});
      else
        shape.push_back(size);
      Value empty =
          rewriter.create<tensor::EmptyOp>(loc, shape, rewriter.getF32Type());
      partials.push_back(
          rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0));
    }
    auto byLanes = rewriter.create<linalg::GenericOp>(
        loc, ValueRange(partials).getTypes(), inputs, partials, maps,
        newIterators);
    if (blocks)
      byLanes->setAttr(kLaneBlocks, rewriter.getUnitAttr());
    IRMapping same;
    op.getRegion().cloneInto(&byLanes.getRegion(), same);
    return std::make_pair(SmallVector<Value>(byLanes.getResults()), lead);
  };
  // Whole vectors in blocks; lanes that are not (196 of a 14x14 image:
  // 12 vectors and 4 lanes): the vectors in blocks, the rest as one loop.
  int64_t whole = lanes / vectorWidth * vectorWidth;
  int64_t vectors = vectorsPerBlock(whole, vectorWidth);
  SmallVector<std::pair<SmallVector<Value>, unsigned>> parts;
  if (vectors == 0 || whole == lanes) {
    parts.push_back(partialSums(0, lanes, vectors, vectors && chunks));
  } else {
    parts.push_back(partialSums(0, whole, vectors, chunks != 0));
    parts.push_back(partialSums(whole, lanes - whole, 0, false));
  }
  // Then each result: its init plus its partial sums over the chunks (if
  // any: their leading dimension) and the lanes (the trailing ones).
  SmallVector<Value> results;
  for (auto [r, init] : llvm::enumerate(op.getDpsInits())) {
    Value sum = init;
    unsigned rank = cast<RankedTensorType>(init.getType()).getRank();
    for (auto &[partial, lead] : parts) {
      unsigned dimsOfLanes =
          cast<RankedTensorType>(partial[r].getType()).getRank() - rank - lead;
      // Loops: the result's, then the chunk (if any), then the lanes.
      unsigned loops = rank + lead + dimsOfLanes;
      SmallVector<AffineExpr> of;
      if (lead)
        of.push_back(getAffineDimExpr(rank, ctx));
      for (unsigned d = 0; d < rank; ++d)
        of.push_back(getAffineDimExpr(d, ctx));
      for (unsigned d = rank + lead; d < loops; ++d)
        of.push_back(getAffineDimExpr(d, ctx));
      SmallVector<utils::IteratorType> across(rank,
                                              utils::IteratorType::parallel);
      across.append(lead + dimsOfLanes, utils::IteratorType::reduction);
      sum = rewriter
                .create<linalg::GenericOp>(
                    loc, init.getType(), partial[r], sum,
                    ArrayRef<AffineMap>{
                        AffineMap::get(loops, 0, of, ctx),
                        rewriter.getMultiDimIdentityMap(loops).getMajorSubMap(
                            rank)},
                    across,
                    [](OpBuilder &b, Location l, ValueRange args) {
                      b.create<linalg::YieldOp>(
                          l, b.create<arith::AddFOp>(l, args[1], args[0])
                                 .getResult());
                    })
                .getResult(0);
    }
    results.push_back(sum);
  }
  rewriter.replaceOp(op, results);
  return true;
}

static bool isMatmulLike(Operation *op) {
  return isa<linalg::MatmulOp, linalg::MatmulTransposeAOp,
             linalg::MatmulTransposeBOp, linalg::BatchMatmulOp,
             linalg::BatchMatmulTransposeAOp>(op);
}

/// Matmuls with more columns are cache-blocked along n (by up to 128).
static constexpr int64_t kBlockedN = 128;

/// Matmuls with a longer k are cache-blocked along k (by up to 256), unless
/// both operands' panels stay in cache whole (see blockedAlongK).
static constexpr int64_t kBlockedK = 512;

/// Whether matmul `op` (static loop ranges `ranges`: (batch,) m, n, k;
/// register tiles of `mTile` rows) is cache-blocked along k: k is longer
/// than kBlockedK and either its B panel (k x up to kBlockedN columns) is
/// larger than 512 KB (half of a Zen 4 L2), or its A panel of one register
/// tile's rows is larger than 32 KB (an L1): mTile rows of k floats for a
/// row-major A, k lines for a transposed one (matmul_transpose_a reads
/// A[k, m..m+mTile], a line per k: the weight gradients' 768 x 384 A of the
/// GPT ran 23% slower unblocked). Unblocked, every C tile is visited once:
/// its accumulators start from a constant fill in registers and are stored
/// once, instead of being stored and reloaded per block of k (the 2048-wide
/// MLP's forward GEMM, C^T = W X^T with k = 784: +4%).
static bool blockedAlongK(linalg::LinalgOp op, ArrayRef<int64_t> ranges,
                          int64_t mTile) {
  int64_t n = ranges[ranges.size() - 2], k = ranges.back();
  if (k <= kBlockedK)
    return false;
  constexpr int64_t bytes = sizeof(float), line = 64;
  int64_t aPanel = isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op)
                       ? mTile * k * bytes
                       : k * line;
  return k * std::min(n, kBlockedN) * bytes > 512 * 1024 || aPanel > 32 * 1024;
}

/// On a matmul whose accumulator was a constant fill (removed): the value
/// its register tiles start from (see initAccumulator).
static constexpr StringLiteral kAccumulatorInit =
    nnc::nn::NNDialect::AccumulatorInitAttrHelper::getNameStr();

/// The register tile `tile` of a matmul whose accumulator was a constant
/// fill gets that fill on its own C tile, right before the loop over k that
/// accumulates into it (or right before the tile when k is not tiled). Once
/// vectorized and the C tile's read and write hoisted out of the k loop,
/// the read folds into the constant: the accumulators start in registers,
/// with no pass filling the whole C in memory and no read of it back. Valid
/// because every C tile is visited once (k is not cache-blocked). Returns
/// the fill, to be vectorized (null if the tile structure was not the
/// expected one and the whole C got filled before `outermostLoop`).
static Operation *initAccumulator(RewriterBase &rewriter,
                                  linalg::LinalgOp tile, FloatAttr value,
                                  bool kLoopAround,
                                  Operation *outermostLoop = nullptr) {
  OpOperand &init = tile.getDpsInitsMutable()[0];
  Location loc = tile.getLoc();
  auto fillOf = [&](Value dest) {
    Value c = rewriter.create<arith::ConstantOp>(loc, value);
    return rewriter.create<linalg::FillOp>(loc, c, dest);
  };
  auto slice = init.get().getDefiningOp<tensor::ExtractSliceOp>();
  auto kLoop = dyn_cast<scf::ForOp>(tile->getParentOp());
  auto arg = slice ? dyn_cast<BlockArgument>(slice.getSource()) : nullptr;
  if (kLoopAround && kLoop && arg && arg.getOwner() == kLoop.getBody() &&
      llvm::all_of(slice->getOperands().drop_front(), [&](Value v) {
        return kLoop.isDefinedOutsideOfLoop(v);
      })) {
    OpOperand *outer = kLoop.getTiedLoopInit(arg);
    rewriter.setInsertionPoint(kLoop);
    Value part = rewriter.create<tensor::ExtractSliceOp>(
        loc, slice.getType(), outer->get(), slice.getMixedOffsets(),
        slice.getMixedSizes(), slice.getMixedStrides());
    linalg::FillOp fill = fillOf(part);
    Value filled = rewriter.create<tensor::InsertSliceOp>(
        loc, fill.getResult(0), outer->get(), slice.getMixedOffsets(),
        slice.getMixedSizes(), slice.getMixedStrides());
    rewriter.modifyOpInPlace(kLoop, [&] { outer->set(filled); });
    return fill;
  }
  if (kLoopAround) {
    // Unexpected tile structure: the whole C is filled before the loops
    // (correct; lowered as plain loops).
    auto outermost = cast<scf::ForOp>(outermostLoop);
    OpOperand &whole = outermost.getInitArgsMutable()[0];
    rewriter.setInsertionPoint(outermost);
    linalg::FillOp fill = fillOf(whole.get());
    rewriter.modifyOpInPlace(outermost, [&] { whole.set(fill.getResult(0)); });
    return nullptr;
  }
  // No k loop: the fill right before the tile.
  rewriter.setInsertionPoint(tile);
  linalg::FillOp fill = fillOf(init.get());
  rewriter.modifyOpInPlace(tile, [&] { init.set(fill.getResult(0)); });
  return fill;
}

/// The most columns of a window interleaved in registers.
constexpr int64_t kMaxInterleaved = 4;

/// An all-parallel generic writing its one result through a map whose last
/// two results are the innermost loop and the one before it, swapped, the
/// one before being short (2..kMaxInterleaved iterations) and no input
/// reading along it: the gradient of a pooling whose windows do not
/// overlap, over [N, C, OH, kh, OW, kw] with loops (n, c, oh, kh, kw, ow).
/// Vectorized along ow alone, each kernel column j would write every kw-th
/// element of the row (a read, a merge and a write of the span, and the
/// next j reads what this one just stored: a store-forwarding stall). Tiled
/// by the whole kw loop instead, the tile is a [kw, ow] vector whose
/// transposed write nn-tile-and-vectorize interleaves in registers (see
/// InterleavedWindowsWrite): one contiguous run of kw ow elements.
static bool interleavedWindows(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  size_t n = ranges.size();
  if (n < 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != op.getNumParallelLoops() ||
      llvm::any_of(ranges, ShapedType::isDynamic) || ranges[n - 2] < 2 ||
      ranges[n - 2] > kMaxInterleaved)
    return false;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  unsigned results = out.getNumResults();
  if (!out.isProjectedPermutation() || results < 2 ||
      out.getDimPosition(results - 1) != n - 2 ||
      out.getDimPosition(results - 2) != n - 1)
    return false;
  return llvm::all_of(op.getDpsInputOperands(), [&](OpOperand *in) {
    AffineMap m = op.getMatchingIndexingMap(in);
    return m.isProjectedPermutation() && !m.isFunctionOfDim(n - 2);
  });
}

/// The transposed write of a tile of interleavedWindows, vector<1.. x kw x
/// ow> into [.., ow, kw] (the other dimensions unit): its rows interleaved
/// by one vector.shuffle of the flattened tile and written as vector<1.. x
/// ow x kw> in the memory's order, which nn-lower-vector-tiles writes as
/// one contiguous run (see FlatRunWrite there). Not a vector.transpose:
/// elementwise ops are moved after transposes (and would then work on
/// vectors of kw lanes).
struct InterleavedWindowsWrite : OpRewritePattern<vector::TransferWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferWriteOp op,
                                PatternRewriter &rewriter) const override {
    VectorType vec = op.getVectorType();
    unsigned rank = vec.getRank();
    AffineMap map = op.getPermutationMap();
    if (op.getMask() || rank < 2 || vec.isScalable() || !map.isPermutation() ||
        map.getNumResults() != rank ||
        !isa<RankedTensorType>(op.getSource().getType()))
      return failure();
    ArrayRef<int64_t> shape = vec.getShape();
    int64_t cols = shape[rank - 2], width = shape[rank - 1];
    if (cols < 2 || cols > kMaxInterleaved || width < 2 ||
        llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }))
      return failure();
    // Vector dimension r runs along dimension r of the tensor, except for
    // the last two, swapped.
    SmallVector<unsigned> dims = llvm::to_vector(llvm::seq<unsigned>(0, rank));
    std::swap(dims[rank - 2], dims[rank - 1]);
    for (unsigned r = 0; r < rank; ++r)
      if (map.getDimPosition(r) != dims[r] || !op.isDimInBounds(r))
        return failure();
    Location loc = op.getLoc();
    Type elem = vec.getElementType();
    auto flatType = VectorType::get({cols * width}, elem);
    Value flat =
        rewriter.create<vector::ShapeCastOp>(loc, flatType, op.getVector());
    SmallVector<int64_t> mask;
    for (int64_t w = 0; w < width; ++w)
      for (int64_t c = 0; c < cols; ++c)
        mask.push_back(c * width + w);
    Value interleaved =
        rewriter.create<vector::ShuffleOp>(loc, flat, flat, mask);
    SmallVector<int64_t> ordered(shape);
    std::swap(ordered[rank - 2], ordered[rank - 1]);
    Value tile = rewriter.create<vector::ShapeCastOp>(
        loc, VectorType::get(ordered, elem), interleaved);
    SmallVector<bool> inBounds(rank, true);
    rewriter.replaceOpWithNewOp<vector::TransferWriteOp>(
        op, tile, op.getSource(), op.getIndices(),
        AffineMap::getMultiDimIdentityMap(rank, op.getContext()),
        ArrayRef<bool>(inBounds));
    return success();
  }
};

/// A transfer whose vector has a single non-unit dimension, through a
/// permutation map (a pooling gradient's write along its windows' columns
/// after the short loop was moved outward): the same transfer in the
/// memref's dimension order and a vector.shape_cast, which moves no data.
/// The generic lowering would transpose instead, and elementwise ops get
/// reordered around transposes until they work on vectors whose innermost
/// dimension is a unit.
template <typename TransferOp>
struct UnitPermutedTransfer : OpRewritePattern<TransferOp> {
  using OpRewritePattern<TransferOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(TransferOp op,
                                PatternRewriter &rewriter) const override {
    AffineMap map = op.getPermutationMap();
    VectorType vec = op.getVectorType();
    if (op.getMask() || !map.isPermutation() || map.isIdentity() ||
        vec.isScalable() ||
        llvm::count_if(vec.getShape(), [](int64_t d) { return d != 1; }) != 1)
      return failure();
    // Vector dimension r reads memref dimension map(r); in memref order.
    SmallVector<int64_t> shape(vec.getRank());
    SmallVector<bool> inBounds(vec.getRank());
    for (unsigned r = 0; r < vec.getRank(); ++r) {
      unsigned d = map.getDimPosition(r);
      shape[d] = vec.getDimSize(r);
      inBounds[d] = op.isDimInBounds(r);
    }
    auto ordered = VectorType::get(shape, vec.getElementType());
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(map.getNumDims(), op.getContext());
    Location loc = op.getLoc();
    if constexpr (std::is_same_v<TransferOp, vector::TransferReadOp>) {
      Value read = rewriter.create<vector::TransferReadOp>(
          loc, Type(ordered), op.getSource(), op.getIndices(),
          AffineMapAttr::get(identity), op.getPadding(), Value(),
          rewriter.getBoolArrayAttr(inBounds));
      rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(op, vec, read);
    } else {
      Value cast =
          rewriter.create<vector::ShapeCastOp>(loc, ordered, op.getVector());
      auto write = rewriter.create<vector::TransferWriteOp>(
          loc, cast, op.getSource(), op.getIndices(), identity,
          ArrayRef<bool>(inBounds));
      if (op->getNumResults())
        rewriter.replaceOp(op, write->getResults());
      else
        rewriter.eraseOp(op);
    }
    return success();
  }
};

/// tensor.insert_slice of a vector.transfer_write that writes only part of
/// its tensor t: `insert_slice(transfer_write(v, t)[i] into d)[o]` becomes
/// `transfer_write(v, insert_slice(t into d)[o])[o + i]`. LLVM 19's
/// InsertSliceOfTransferWriteOpFolder (tensor's
/// populateFoldTensorSubsetIntoVectorTransferPatterns) folds the pair into
/// `transfer_write(v, d)[o + i]` whether or not the write covers t, dropping
/// the rest of t (LLVM fixed it later with a coverage check): a matmul
/// whose columns split into whole tiles, whole vectors and a rest (a chunk
/// of 152 columns: 128 + 16 + 8) lost its 16 middle columns, read
/// uninitialized, and an MLP of 300 hidden units trained on NaN gradients.
/// This pattern runs first (a higher benefit) on the writes that do not
/// cover their tensor; the upstream folder then sees only covering ones.
struct InsertSliceOfPartialWrite : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::InsertSliceOp insert,
                                PatternRewriter &rewriter) const override {
    auto write = insert.getSource().getDefiningOp<vector::TransferWriteOp>();
    if (!write || write.getMask() || write.hasOutOfBoundsDim() ||
        !insert.hasUnitStride())
      return failure();
    auto t = dyn_cast<RankedTensorType>(write.getSource().getType());
    if (!t || !t.hasStaticShape() ||
        llvm::equal(write.getVectorType().getShape(), t.getShape()))
      return failure(); // covering (or dynamic): the upstream folder's case
    Location loc = insert.getLoc();
    RankedTensorType dest = insert.getDestType();
    // t's dimensions among the destination's (the insert may drop unit
    // dimensions).
    llvm::SmallBitVector dropped = insert.getDroppedDims();
    SmallVector<unsigned> kept;
    for (unsigned d = 0; d < dest.getRank(); ++d)
      if (!dropped[d])
        kept.push_back(d);
    if (kept.size() != static_cast<size_t>(t.getRank()))
      return failure();
    Value whole = rewriter.create<tensor::InsertSliceOp>(
        loc, write.getSource(), insert.getDest(), insert.getMixedOffsets(),
        insert.getMixedSizes(), insert.getMixedStrides());
    SmallVector<Value> indices = getValueOrCreateConstantIndexOp(
        rewriter, loc, insert.getMixedOffsets());
    for (auto [i, d] : llvm::enumerate(kept))
      indices[d] = rewriter.create<arith::AddIOp>(loc, indices[d],
                                                  write.getIndices()[i]);
    SmallVector<AffineExpr> dims;
    for (unsigned d : kept)
      dims.push_back(rewriter.getAffineDimExpr(d));
    AffineMap map = write.getPermutationMap().replaceDimsAndSymbols(
        dims, {}, dest.getRank(), 0);
    rewriter.replaceOpWithNewOp<vector::TransferWriteOp>(
        insert, write.getVector(), whole, indices, AffineMapAttr::get(map),
        write.getInBoundsAttr());
    return success();
  }
};

/// The elements [first, last] of its arena that a static view of it
/// (nnc::arenaCast) covers.
static std::optional<std::pair<int64_t, int64_t>> arenaRange(Value v) {
  memref::ReinterpretCastOp view = nnc::arenaCast(v);
  if (!view)
    return std::nullopt;
  int64_t first = view.getStaticOffsets()[0], last = first;
  for (auto [size, stride] :
       llvm::zip(view.getStaticSizes(), view.getStaticStrides()))
    last += (size - 1) * stride;
  return std::make_pair(first, last);
}

/// Whether every read through a tensor (to_tensor, and views of it) of the
/// arena slot `slot` (a static view of an entry point's arena), and of any
/// other view of the arena that overlaps it, happens before `op` in `op`'s
/// block, or is `op` itself: writing the slot in place at `op` then changes
/// nothing read.
static bool readsBefore(Value slot, Operation *op) {
  std::optional<std::pair<int64_t, int64_t>> range = arenaRange(slot);
  if (!range)
    return false;
  SmallVector<Value> pending;
  Value arena = slot.getDefiningOp<memref::ReinterpretCastOp>().getSource();
  for (Operation *user : arena.getUsers()) {
    std::optional<std::pair<int64_t, int64_t>> r =
        user->getNumResults() == 1 ? arenaRange(user->getResult(0))
                                   : std::nullopt;
    if (!r)
      return false;
    if (r->second < range->first || r->first > range->second)
      continue;
    for (Operation *reader : user->getUsers()) {
      if (isa<bufferization::MaterializeInDestinationOp>(reader))
        continue;
      if (!isa<bufferization::ToTensorOp>(reader))
        return false;
      pending.push_back(reader->getResult(0));
    }
  }
  Block *block = op->getBlock();
  while (!pending.empty()) {
    Value v = pending.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
              tensor::ExtractSliceOp, tensor::CastOp>(user)) {
        pending.push_back(user->getResult(0));
        continue;
      }
      Operation *at = block->findAncestorOpInBlock(*user);
      if (!at || (at != op && !at->isBeforeInBlock(op)))
        return false;
    }
  }
  return true;
}

/// An elementwise generic (parallel loops, identity maps) whose every
/// result is only written into a slot of the state arena
/// (materialize_in_destination: the optimizer updates) goes over one loop:
/// a parameter's innermost dimension may be short (3 for a 3x3
/// convolution's filters), which would leave its update scalar code. The
/// writes go from the one-dimensional results into the collapsed slots,
/// defined where the slots are, so that empty-tensor elimination still has
/// the update write in place.
void flattenStateUpdates(func::FuncOp func, RewriterBase &rewriter) {
  // The slots are memrefs of the memref dialect's views; without it loaded
  // there is nothing to flatten (and no memref.collapse_shape to build).
  if (!func->getContext()->getLoadedDialect<memref::MemRefDialect>())
    return;
  auto flattenable = [](linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumLoops() < 2 ||
        op.getNumReductionLoops() != 0 || op->getNumResults() == 0 ||
        !llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); }))
      return false;
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || !type.hasStaticShape())
        return false;
    }
    return llvm::all_of(op->getResults(), [](Value r) {
      return !r.use_empty() && llvm::all_of(r.getUsers(), [](Operation *user) {
        auto write = dyn_cast<bufferization::MaterializeInDestinationOp>(user);
        auto dest = write ? dyn_cast<TypedValue<MemRefType>>(write.getDest())
                          : TypedValue<MemRefType>();
        return dest && memref::CollapseShapeOp::isGuaranteedCollapsible(
                           dest.getType(), {llvm::to_vector(llvm::seq<int64_t>(
                                               0, dest.getType().getRank()))});
      });
    });
  };
  SmallVector<linalg::GenericOp> ops;
  func.walk([&](linalg::GenericOp op) {
    if (flattenable(op))
      ops.push_back(op);
  });
  for (linalg::GenericOp op : ops) {
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, op.getNumLoops()));
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::CollapseResult> collapsed =
        linalg::collapseOpIterationDims(cast<linalg::LinalgOp>(*op), {all},
                                        rewriter);
    if (failed(collapsed))
      continue;
    // An init that was a tensor.empty is one again (not a collapse_shape of
    // one, which the canonicalizer keeps): empty-tensor elimination follows
    // the result back to it and replaces it with the slot, of its type, so
    // that the update writes the slot in place instead of a buffer copied
    // there at the end of the step (a third of the 2048-wide MLP's step).
    // Only where nothing reads the slot's old value after the update (the
    // slot's reads are `restrict`: bufferization would not see the write
    // under them).
    for (OpOperand &init : collapsed->collapsedOp.getDpsInitsMutable()) {
      auto reshape = init.get().getDefiningOp<tensor::CollapseShapeOp>();
      unsigned i =
          init.getOperandNumber() - collapsed->collapsedOp.getNumDpsInputs();
      if (!reshape || !reshape.getSrc().getDefiningOp<tensor::EmptyOp>() ||
          !llvm::all_of(op->getResult(i).getUsers(), [&](Operation *user) {
            return readsBefore(
                cast<bufferization::MaterializeInDestinationOp>(user).getDest(),
                op);
          }))
        continue;
      rewriter.setInsertionPoint(collapsed->collapsedOp);
      Value empty = rewriter.create<tensor::EmptyOp>(
          reshape.getLoc(), reshape.getResultType().getShape(),
          reshape.getResultType().getElementType());
      rewriter.modifyOpInPlace(collapsed->collapsedOp,
                               [&] { init.set(empty); });
    }
    for (auto [i, result] : llvm::enumerate(op->getResults())) {
      Value flat = collapsed->collapsedOp->getResult(i);
      for (Operation *user : llvm::make_early_inc_range(result.getUsers())) {
        auto write = cast<bufferization::MaterializeInDestinationOp>(user);
        Value dest = write.getDest();
        if (Operation *def = dest.getDefiningOp())
          rewriter.setInsertionPointAfter(def);
        else
          rewriter.setInsertionPointToStart(dest.getParentBlock());
        Value flatDest = rewriter.create<memref::CollapseShapeOp>(
            write.getLoc(), dest, ArrayRef<ReassociationIndices>{all});
        rewriter.modifyOpInPlace(write, [&] {
          write.getSourceMutable().assign(flat);
          write.getDestMutable().assign(flatDest);
        });
      }
    }
    rewriter.replaceOp(op, collapsed->results);
  }
}

/// Whether `op` (of at least two loops) goes in square tiles of vectors, as
/// a transpose: an operand read across its innermost loop (see
/// readsAcrossInnermost; here an operand whose last index involves that
/// loop in any way is read along it). Not when the operand's last
/// dimension is a short loop (the kernel columns of a pooling gradient's
/// windows): the innermost loop accesses it with a small stride, which
/// nn-contiguous-strided-transfers makes contiguous.
static bool tiledAsTranspose(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.size() < 2)
    return false;
  unsigned last = ranges.size() - 1;
  return llvm::any_of(op.getIndexingMapsArray(), [&](AffineMap m) {
    if (m.getNumResults() == 0 || m.getResults().back().isFunctionOfDim(last))
      return false;
    auto inner = dyn_cast<AffineDimExpr>(m.getResults().back());
    if (inner && ranges[inner.getPosition()] <= 4)
      return false;
    return llvm::any_of(m.getResults(),
                        [&](AffineExpr e) { return e.isFunctionOfDim(last); });
  });
}

struct NNTileAndVectorizePass
    : nnc::impl::NNTileAndVectorizePassBase<NNTileAndVectorizePass> {
  using Base::Base;

  /// The register tile wanted for each loop of `op` (1: tile by one; the
  /// matmul tiles; four vectors along the innermost loop), and the loop
  /// that is vectorized (n of matmuls, the last loop of everything else).
  std::pair<SmallVector<int64_t>, size_t>
  preferredTileSizes(linalg::LinalgOp op, ArrayRef<int64_t> mmTiles) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> preferred(ranges.size(), 1);
    size_t lanesDim = isMatmulLike(op) ? ranges.size() - 2 : ranges.size() - 1;
    if (isMatmulLike(op)) {
      // (batch,) m, n, k: the batch loop, if any, is tiled by 1.
      std::copy(mmTiles.begin(), mmTiles.end(),
                preferred.end() - mmTiles.size());
      // Narrow n tiles get more rows, to keep ~16 accumulator registers.
      // So do narrow n loops kept whole, counted in whole vectors: the
      // [9, 16] weight gradient of a 3x3 convolution of one input channel
      // (a sum over the 784 pixels of a sample) as 9 rows of accumulators,
      // not 3 rows of FMAs each waiting for the last (bench/conv conv1_dw
      // 64-73 -> 78-88 GFLOP/s).
      size_t m = ranges.size() - 3, n = ranges.size() - 2;
      std::optional<int64_t> nTile =
          registerTile(ranges[n], preferred[n], /*lanes=*/true,
                       /*matmulColumns=*/true);
      if (nTile) {
        int64_t columns =
            *nTile != 0 ? *nTile : llvm::alignTo(ranges[n], vectorWidth);
        if (columns < preferred[n])
          preferred[m] = preferred[m] * preferred[n] / columns;
      }
      return {preferred, lanesDim};
    }
    unsigned last = ranges.size() - 1;
    // Outer loops by 1; the innermost loop by up to four vectors (the
    // lanes of sumInnermostByLanes' blocks whole).
    preferred.back() = 4 * vectorWidth;
    if (op->hasAttr(kLaneBlocks) && ranges.size() >= 2)
      preferred[last - 1] = ranges[last - 1];
    // The windows of a pooling gradient (see interleavedWindows): the short
    // loop whole, so that one tile holds whole runs of the output.
    if (interleavedWindows(op)) {
      preferred[last - 1] = ranges[last - 1];
      return {preferred, lanesDim};
    }
    // An operand read across the innermost loop (a transpose): square
    // vectorWidth x vectorWidth tiles, transposed in registers by
    // shuffles, instead of one gathered element per lane.
    if (tiledAsTranspose(op)) {
      preferred[last - 1] = vectorWidth;
      preferred[last] = vectorWidth;
    }
    return {preferred, lanesDim};
  }

  /// The register tile of a loop of `extent` iterations whose preferred
  /// tile is `preferred` (vectorized when `lanes`): 1 for loops tiled by
  /// one, 0 for a loop kept whole, std::nullopt when no tile divides it.
  /// The columns of a matmul (`matmulColumns`, its n loop) are not tiled
  /// narrower than preferred when they are many: 784 columns get 24 tiles
  /// of 32 and a remainder of 16 (see splitRemainders) rather than 49 tiles
  /// of 16, whose A elements each feed one FMA instead of two (the 3x3
  /// convolutions of 28x28 images sample by sample: 145 -> 160 GFLOP/s).
  std::optional<int64_t> registerTile(int64_t extent, int64_t preferred,
                                      bool lanes, bool matmulColumns = false) {
    if (preferred == 1)
      return 1;
    if (matmulColumns && lanes && !ShapedType::isDynamic(extent) &&
        preferred >= 2 * vectorWidth && extent >= 4 * preferred &&
        extent % preferred != 0)
      return std::nullopt;
    // The columns of a matmul keep tiles of three vectors (a register tile
    // of accumulators, whose rows are what the FMAs share).
    return pickTileSize(extent, preferred, lanes ? int64_t(vectorWidth) : 1,
                        /*powerOfTwoVectors=*/lanes && !matmulColumns);
  }

  /// registerTile for loop `i` of `op` (`extent` iterations) with the
  /// preferred sizes and vectorized loop of preferredTileSizes.
  std::optional<int64_t> loopTile(linalg::LinalgOp op,
                                  ArrayRef<int64_t> preferred, size_t lanesDim,
                                  size_t i, int64_t extent) {
    bool lanes = i == lanesDim;
    return registerTile(extent, preferred[i], lanes,
                        /*matmulColumns=*/lanes && isMatmulLike(op));
  }

  /// The register tile of each loop of `op` (see registerTile) and whether
  /// every loop has one (else such loops get their preferred size, partial
  /// tiles and scalar code).
  std::pair<SmallVector<int64_t>, bool>
  registerTiles(linalg::LinalgOp op, ArrayRef<int64_t> mmTiles) {
    auto [preferred, lanesDim] = preferredTileSizes(op, mmTiles);
    SmallVector<int64_t> sizes;
    bool whole = true;
    for (auto [i, extent, pref] :
         llvm::enumerate(op.getStaticLoopRanges(), preferred)) {
      std::optional<int64_t> t = loopTile(op, preferred, lanesDim, i, extent);
      if (!t) {
        whole = false;
        t = pref;
      }
      sizes.push_back(*t);
    }
    return {sizes, whole};
  }

  /// An op with a parallel loop that no register tile divides (a head of
  /// 257 token classes) is split along it into a part whose extent is a
  /// multiple of the preferred tile and a remainder shorter than one tile
  /// (kept whole), each with static shapes, so that both vectorize instead
  /// of the whole op running as scalar loops. Repeated for every such loop;
  /// returns the parts.
  SmallVector<linalg::LinalgOp> splitRemainders(RewriterBase &rewriter,
                                                linalg::LinalgOp op,
                                                ArrayRef<int64_t> mmTiles) {
    SmallVector<linalg::LinalgOp> done, pending{op};
    while (!pending.empty()) {
      linalg::LinalgOp part = pending.pop_back_val();
      auto [preferred, lanesDim] = preferredTileSizes(part, mmTiles);
      SmallVector<int64_t> ranges = part.getStaticLoopRanges();
      SmallVector<utils::IteratorType> iters = part.getIteratorTypesArray();
      std::optional<unsigned> dim;
      int64_t main = 0;
      for (auto [i, extent] : llvm::enumerate(ranges)) {
        if (ShapedType::isDynamic(extent) ||
            iters[i] != utils::IteratorType::parallel ||
            loopTile(part, preferred, lanesDim, i, extent))
          continue;
        int64_t tile = i == lanesDim && preferred[i] >= vectorWidth
                           ? preferred[i] / vectorWidth * vectorWidth
                           : preferred[i];
        if (tile > 1 && extent > tile) {
          dim = i;
          main = extent / tile * tile;
          break;
        }
      }
      // The columns of a matmul kept whole but not whole vectors (the 17
      // left of a chunk of 49): whole vectors and the rest. A ragged
      // accumulator row (<17 x float>, carried through the k loop) is
      // built lane by lane from spills each k step; 16 + 1 are one
      // vector and one scalar FMA (the MLP's weight gradient 2x faster).
      if (!dim && isMatmulLike(part)) {
        int64_t extent = ranges[lanesDim];
        std::optional<int64_t> t =
            loopTile(part, preferred, lanesDim, lanesDim, extent);
        if (t && *t == 0 && extent > vectorWidth && extent % vectorWidth) {
          dim = lanesDim;
          main = extent / vectorWidth * vectorWidth;
        }
      }
      if (!dim) {
        done.push_back(part);
        continue;
      }
      rewriter.setInsertionPoint(part);
      auto [head, tail] =
          linalg::splitOp(rewriter, cast<TilingInterface>(part.getOperation()),
                          *dim, rewriter.getIndexAttr(main));
      if (!head) {
        done.push_back(part);
        continue;
      }
      pending.push_back(cast<linalg::LinalgOp>(head.getOperation()));
      if (tail)
        pending.push_back(cast<linalg::LinalgOp>(tail.getOperation()));
    }
    return done;
  }

  /// Splits a big op (at least `parallel-min-work` iterations of its loop
  /// nest) into an scf.forall over `parallel-chunks` or so (at least half
  /// as many) chunks of one parallel loop whose extent has such a divisor
  /// (else the loop allowing the most chunks) and whose chunks get the
  /// same register tiles as the whole loop (no partial tile: every chunk
  /// has the same static shape; the code of a chunk is the whole op's).
  /// Loops are tried outermost first, except that a matmul whose right
  /// operand (k x n) is larger than its left one (m x k) is split along n:
  /// each chunk reads all of the operand that is not split, so that one
  /// should be the small one. Reductions are never split, so that chunks
  /// write disjoint parts of the result and the sums come out the same on
  /// any number of threads. Returns the op of one chunk, or `op` itself
  /// when it stays whole.
  linalg::LinalgOp distributeOverChunks(RewriterBase &rewriter,
                                        linalg::LinalgOp op,
                                        ArrayRef<int64_t> mmTiles) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (ranges.empty() || llvm::any_of(ranges, ShapedType::isDynamic))
      return op;
    // Already one chunk of a parallel loop (the (sample, head) pairs of
    // fused attention): a nested forall would be a launch per tile.
    if (op->getParentOfType<scf::ForallOp>())
      return op;
    // A row of a short innermost loop costs a vector (and a cache line)
    // all the same: a zero fill of a [64, 64, 10, 1] column of a pooling
    // gradient's border writes 40,960 floats on as many lines.
    int64_t work = 1;
    for (auto [i, r] : llvm::enumerate(ranges)) {
      int64_t cost =
          i + 1 == ranges.size() ? std::max(r, vectorWidth.getValue()) : r;
      work = cost > 0 && work > INT64_MAX / cost ? INT64_MAX : work * cost;
    }
    if (work < parallelMinWork)
      return op;
    auto [preferred, lanesDim] = preferredTileSizes(op, mmTiles);
    // The register tile of `extent` iterations of loop `dim` (the whole
    // loop when it is not tiled, -1 when none fits).
    auto tileOf = [&, &preferred = preferred, &lanesDim = lanesDim](
                      size_t dim, int64_t extent) -> int64_t {
      std::optional<int64_t> t = loopTile(op, preferred, lanesDim, dim, extent);
      return !t ? -1 : *t == 0 ? extent : *t;
    };
    SmallVector<size_t> order =
        llvm::to_vector(llvm::seq<size_t>(0, ranges.size()));
    if (isMatmulLike(op)) {
      size_t m = ranges.size() - 3, n = ranges.size() - 2;
      size_t k = ranges.size() - 1;
      if (ranges[k] * ranges[n] > ranges[m] * ranges[k])
        std::swap(order[m], order[n]);
    }
    int64_t target = parallelChunks;
    int64_t bestCount = 1;
    size_t bestDim = 0;
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    for (size_t dim : order) {
      if (iterators[dim] != utils::IteratorType::parallel)
        continue;
      int64_t whole = tileOf(dim, ranges[dim]);
      // A matmul's columns that no register tile divides (784: 49 vectors,
      // split into 24 tiles of 32 and one of 16): chunks of whole vectors
      // with a register tile (7 of 112), not chunks as ragged as the whole
      // (16 of 49: 32 + 16 + a column of one, each k step of which
      // broadcasts an element per row: the MLP's first weight gradient).
      bool wholeVectors = isMatmulLike(op) && dim == lanesDim && whole < 0;
      int64_t count =
          nnc::parallelChunkCount(ranges[dim], target, [&](int64_t chunk) {
            if (wholeVectors)
              return chunk % vectorWidth == 0 && tileOf(dim, chunk) > 0;
            return tileOf(dim, chunk) == whole;
          });
      if (count > bestCount) {
        bestCount = count;
        bestDim = dim;
      }
      // Half the chunks wanted still balance well: keep the loop preferred.
      // Not a loop of whole-vector chunks, whose count may be odd (7 chunks
      // of 784 columns): another loop with as many chunks or more is taken.
      if (2 * count >= target && !wholeVectors)
        break;
    }
    if (bestCount < 2)
      return op;
    SmallVector<int64_t> sizes(ranges.size(), 0);
    sizes[bestDim] = ranges[bestDim] / bestCount;
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(op.getContext(), sizes));
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> chunked = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(chunked))
      return op;
    rewriter.replaceOp(op, chunked->replacements);
    return cast<linalg::LinalgOp>(chunked->tiledOps.back());
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);

    flattenStateUpdates(func, rewriter);

    SmallVector<int64_t> mmTiles(matmulTileSizes.begin(),
                                 matmulTileSizes.end());
    // k by 4: as fast as 16 in bench/matmul and bench/conv (the convolutions
    // of small channels faster), and a quarter of the unrolled FMAs for LLVM
    // (SPEC 2.3's CNN compiles 13% faster, resnet_mini 15%).
    if (mmTiles.empty())
      mmTiles = {8, 32, 4};
    if (mmTiles.size() != 3) {
      func.emitOpError() << "matmul-tile-sizes needs 3 values (m, n, k)";
      return signalPassFailure();
    }

    // C = A B^T becomes C = A (B^T) with B^T materialized once: the outer-
    // product kernel wants rows of the right operand, and transposing every
    // B tile in registers would cost as much as the FMAs. A of
    // matmul_transpose_a is fine as it is (its rows are A's columns).
    SmallVector<linalg::MatmulTransposeBOp> transposedB;
    func.walk([&](linalg::MatmulTransposeBOp op) {
      if (op.hasPureTensorSemantics())
        transposedB.push_back(op);
    });
    // v [r, c] transposed into a new [c, r] tensor, and such a tensor.
    auto transposedEmpty = [&](Location loc, Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      return rewriter.create<tensor::EmptyOp>(
          loc, ArrayRef<int64_t>{type.getDimSize(1), type.getDimSize(0)},
          type.getElementType());
    };
    auto transposed = [&](Location loc, Value v) {
      return rewriter
          .create<linalg::TransposeOp>(loc, v, transposedEmpty(loc, v),
                                       ArrayRef<int64_t>{1, 0})
          ->getResult(0);
    };
    for (linalg::MatmulTransposeBOp op : transposedB) {
      Location loc = op.getLoc();
      Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
      Value c = op.getDpsInits()[0];
      auto aType = cast<RankedTensorType>(a.getType());
      auto bType = cast<RankedTensorType>(b.getType());
      rewriter.setInsertionPoint(op);
      // Where B is larger than A and C together (a dense layer's weight
      // [2048, 784] against a batch of 64 inputs), C^T = B (A^T) instead, and
      // C its transpose: B's rows are the rows the kernel wants, and the
      // smaller A and C are transposed instead of B every step.
      if (aType.hasStaticShape() && bType.hasStaticShape() &&
          bType.getNumElements() >
              aType.getNumElements() +
                  aType.getDimSize(0) * bType.getDimSize(0)) {
        // C^T starts from the transpose of C's initial value (a constant
        // fill stays a fill, which the kernel then starts its tiles from).
        Value cT;
        auto fill = c.getDefiningOp<linalg::FillOp>();
        if (fill && fill.getDpsInputs()[0].getDefiningOp<arith::ConstantOp>())
          cT = rewriter
                   .create<linalg::FillOp>(loc, fill.getDpsInputs()[0],
                                           transposedEmpty(loc, c))
                   .getResult(0);
        else
          cT = transposed(loc, c);
        Value product =
            rewriter
                .create<linalg::MatmulOp>(loc, cT.getType(),
                                          ValueRange{b, transposed(loc, a)}, cT)
                .getResult(0);
        rewriter.replaceOp(op, transposed(loc, product));
        continue;
      }
      rewriter.replaceOpWithNewOp<linalg::MatmulOp>(
          op, op->getResultTypes(), ValueRange{a, transposed(loc, b)},
          op.getDpsInits());
    }

    // A matmul accumulating into a constant fill, with k short enough not
    // to be cache-blocked (every C tile is then visited once): the fill
    // goes, its value is remembered and put back per register tile, right
    // before its k loop (see initAccumulator). Also when no register tile
    // divides the columns: each part of the split (whole tiles, remainder)
    // starts its tiles from the value, computed in its slice of C (see
    // nn-unshare-empty-tensors); a part with partial tiles fills its C.
    SmallVector<linalg::LinalgOp> filledMatmuls;
    func.walk([&](linalg::LinalgOp op) {
      if (isMatmulLike(op) && op.hasPureTensorSemantics())
        filledMatmuls.push_back(op);
    });
    for (linalg::LinalgOp op : filledMatmuls) {
      Value init = op.getDpsInits()[0];
      auto fill = init.getDefiningOp<linalg::FillOp>();
      FloatAttr value;
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      if (!fill || !init.hasOneUse() || ranges.empty() ||
          llvm::any_of(ranges, ShapedType::isDynamic) ||
          blockedAlongK(op, ranges, mmTiles[0]) ||
          !matchPattern(fill.getInputs()[0], m_Constant(&value)))
        continue;
      rewriter.modifyOpInPlace(op, [&] {
        op.getDpsInitsMutable()[0].set(fill.getOutputs()[0]);
        op->setAttr(kAccumulatorInit, value);
      });
      rewriter.eraseOp(fill);
    }

    // Named ops other than matmuls become generics: one code path tiles and
    // vectorizes them all (fill, broadcast, reduce, transpose, elementwise).
    SmallVector<linalg::LinalgOp> named;
    func.walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::GenericOp>(op) && !isMatmulLike(op))
        named.push_back(op);
    });
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }

    // Rewrites of single generics, each over the generics as they are
    // before it (a rewrite replaces the op it is given).
    auto eachGeneric = [&](function_ref<void(linalg::GenericOp)> rewrite) {
      SmallVector<linalg::GenericOp> generics;
      func.walk([&](linalg::GenericOp op) { generics.push_back(op); });
      for (linalg::GenericOp op : generics)
        rewrite(op);
    };
    // Sums over the innermost loop and others: see sumInnermostByLanes.
    eachGeneric([&](linalg::GenericOp op) {
      (void)sumInnermostByLanes(rewriter, op, vectorWidth);
    });
    // Transposes of rows that are not whole vectors: a run of loops
    // collapsed into whole vectors where it is contiguous
    // (collapseTransposedRun), else rows longer than a vector in
    // overlapping runs of whole vectors (splitTransposedRows).
    eachGeneric([&](linalg::GenericOp op) {
      if (!collapseTransposedRun(rewriter, op, vectorWidth))
        (void)splitTransposedRows(rewriter, op, vectorWidth);
    });
    // Elementwise ops reading across a short innermost loop: see
    // collapseShortTransposed.
    eachGeneric([&](linalg::GenericOp op) {
      (void)collapseShortTransposed(rewriter, op, vectorWidth);
    });

    // A short innermost loop (the kernel columns of the windows of a
    // pooling gradient, which elementwise fusion may have put last) under a
    // long parallel one: the two are interchanged, so that vectors run
    // along the long loop (with strided accesses that
    // nn-contiguous-strided-transfers makes contiguous) and the short one
    // runs as scalar iterations, instead of vectors of a few lanes.
    SmallVector<linalg::GenericOp> shortInnermost;
    func.walk([&](linalg::GenericOp op) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      size_t n = ranges.size();
      if (n >= 3 && op.hasPureTensorSemantics() &&
          llvm::none_of(ranges, ShapedType::isDynamic) && ranges[n - 1] >= 2 &&
          ranges[n - 1] <= 4 && ranges[n - 2] >= vectorWidth / 2 &&
          op.getNumLoops() == op.getNumParallelLoops())
        shortInnermost.push_back(op);
    });
    for (linalg::GenericOp op : shortInnermost) {
      SmallVector<unsigned> order =
          llvm::to_vector(llvm::seq<unsigned>(0, op.getNumLoops()));
      std::swap(order[order.size() - 1], order[order.size() - 2]);
      rewriter.setInsertionPoint(op);
      (void)linalg::interchangeGenericOp(rewriter, op, order);
    }

    // Tile. Ops whose loops admit no static tiling are left alone.
    SmallVector<linalg::LinalgOp> toTile;
    // nn-quantize's int8 GEMMs get their own kernels (nn-lower-int8-gemm),
    // which start from zeros instead of a zero fill of their accumulator.
    auto int8Gemm = [&](Operation *op) {
      return nnc::nn::NNDialect::Int8GemmAttrHelper(ctx).isAttrPresent(op);
    };
    func.walk([&](linalg::LinalgOp op) {
      bool fillOfInt8Gemm = isa<linalg::FillOp>(op) && op->hasOneUse() &&
                            int8Gemm(*op->getUsers().begin());
      if (op.hasPureTensorSemantics() && !int8Gemm(op) && !fillOfInt8Gemm)
        toTile.push_back(op);
    });
    SmallVector<Operation *> toVectorize;
    SmallVector<linalg::LinalgOp> parts;
    for (linalg::LinalgOp op : toTile) {
      // Big ops first become an scf.forall over chunks of one parallel loop
      // (one chunk per task on the runtime's threads); the chunk is then
      // split where no register tile divides a loop, and each part
      // cache-blocked and register-tiled like a whole op.
      if (parallelChunks > 1)
        op = distributeOverChunks(rewriter, op, mmTiles);
      llvm::append_range(parts, splitRemainders(rewriter, op, mmTiles));
    }
    for (linalg::LinalgOp op : parts) {
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      if (ranges.empty()) {
        toVectorize.push_back(op);
        continue;
      }
      // A partial tile would need masks: scalar loops then.
      auto [sizes, vectorizable] = registerTiles(op, mmTiles);
      if (llvm::all_of(sizes, [](int64_t s) { return s == 0; })) {
        if (auto value = op->getAttrOfType<FloatAttr>(kAccumulatorInit)) {
          op->removeAttr(kAccumulatorInit);
          toVectorize.push_back(
              initAccumulator(rewriter, op, value, /*kLoopAround=*/false));
        }
        toVectorize.push_back(op);
        continue;
      }
      // Cache blocking of large matmuls (n by up to 128, k by up to 256):
      // the block of B read by all m tiles then stays in L1/L2 instead of
      // all of B streaming from memory once per m tile (a 512x512 B ran at
      // 75% of the blocked speed; the [288, 7744] im2col matrix of a CNN at
      // a fifth). Blocks are multiples of the register tiles.
      Operation *target = op;
      if (isMatmulLike(op) && vectorizable) {
        size_t n = ranges.size() - 2, k = ranges.size() - 1;
        SmallVector<int64_t> outer(ranges.size(), 0);
        if (ranges[n] > kBlockedN)
          outer[n] = blockSize(ranges[n], sizes[n], kBlockedN);
        if (blockedAlongK(op, ranges, mmTiles[0]))
          outer[k] = blockSize(ranges[k], sizes[k], 256);
        if (llvm::any_of(outer, [](int64_t s) { return s != 0; })) {
          scf::SCFTilingOptions blockOptions;
          blockOptions.setTileSizes(getAsIndexOpFoldResult(ctx, outer));
          rewriter.setInsertionPoint(op);
          FailureOr<scf::SCFTilingResult> blocked = scf::tileUsingSCF(
              rewriter, cast<TilingInterface>(op.getOperation()), blockOptions);
          if (succeeded(blocked)) {
            rewriter.replaceOp(op, blocked->replacements);
            target = blocked->tiledOps.back();
          }
        }
      }
      scf::SCFTilingOptions options;
      options.setTileSizes(getAsIndexOpFoldResult(ctx, sizes));
      // A transpose's tiles go along the rows of its strided operand, the
      // tile loop of the innermost loop outermost: each of its rows (one
      // per value of the innermost loop) is then read from start to end
      // vectorWidth rows at a time, instead of all of them abreast. Read
      // from memory, NCHW 32 x 784 to channels-last took 22-25 us a sample
      // with 32 rows abreast, 12 us with 16 (a microbenchmark). In
      // resnet_mini's Winograd kernels, whose transposes read its 6.4 MB
      // activations, the transposing loops took 35-40% fewer perf samples
      // (the forward kernel 5% fewer, the gradients' 1-2%); whole steps
      // measured the same within the host's noise.
      if (!isMatmulLike(op) && tiledAsTranspose(op)) {
        SmallVector<int64_t> order{int64_t(ranges.size()) - 1};
        llvm::append_range(order, llvm::seq<int64_t>(0, ranges.size() - 1));
        options.setInterchange(order);
      }
      rewriter.setInsertionPoint(target);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, cast<TilingInterface>(target), options);
      auto accumulatorInit = target->getAttrOfType<FloatAttr>(kAccumulatorInit);
      if (failed(tiled)) {
        target->emitWarning()
            << "could not be tiled; it will run as scalar loops";
        if (accumulatorInit)
          initAccumulator(rewriter, cast<linalg::LinalgOp>(target),
                          accumulatorInit, /*kLoopAround=*/false);
        continue;
      }
      rewriter.replaceOp(target, tiled->replacements);
      if (vectorizable)
        llvm::append_range(toVectorize, tiled->tiledOps);
      if (accumulatorInit) {
        auto tile = cast<linalg::LinalgOp>(tiled->tiledOps.back());
        tile->removeAttr(kAccumulatorInit);
        Operation *fill =
            initAccumulator(rewriter, tile, accumulatorInit,
                            /*kLoopAround=*/sizes.back() != 0,
                            tiled->loops.front().getOperation());
        if (vectorizable && fill)
          toVectorize.push_back(fill);
      }
    }

    // Vectorize the tiles (static shapes only; failures stay scalar).
    for (Operation *op : toVectorize) {
      if (!isa<linalg::LinalgOp>(op))
        continue;
      rewriter.setInsertionPoint(op);
      (void)linalg::vectorize(rewriter, op);
    }

    {
      RewritePatternSet patterns(ctx);
      patterns.add<UnitPermutedTransfer<vector::TransferReadOp>,
                   UnitPermutedTransfer<vector::TransferWriteOp>,
                   InterleavedWindowsWrite>(ctx);
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }

    // The cleanups of the transform dialect's vectorize_children_and_apply_
    // patterns: fold slices into transfers (so that loop-invariant subset
    // hoisting can keep accumulators in registers) and turn multiply +
    // multi_reduction into vector.contract.
    {
      RewritePatternSet patterns(ctx);
      vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
      vector::populateVectorReductionToContractPatterns(patterns);
      vector::populateSinkVectorBroadcastPatterns(patterns);
      vector::TransferReadOp::getCanonicalizationPatterns(patterns, ctx);
      vector::TransferWriteOp::getCanonicalizationPatterns(patterns, ctx);
      patterns.add<InsertSliceOfPartialWrite>(ctx, /*benefit=*/2);
      tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
      if (failed(applyPatternsAndFoldGreedily(func, std::move(patterns))))
        return signalPassFailure();
    }
  }
};

} // namespace
