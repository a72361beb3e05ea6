//===- FuseElementwise.cpp - Elementwise fusion that keeps GEMMs GEMMs ----===//
//
// MLIR's linalg-fuse-elementwise-ops plus one rule: a reshape is folded into
// (propagated through) elementwise ops only, never into a contraction. Upstream
// folds e.g. the expand_shape that unflattens a dense layer's input gradient
// into the matmul producing it, leaving a 5-d contraction that tiles badly (a
// dependency chain of FMAs over 7 lanes, a tenth of the GEMM's speed).
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_NNFUSEELEMENTWISEPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

/// True for linalg ops with a reduction loop (matmuls, contractions).
static bool isContraction(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumReductionLoops() != 0;
}

/// A one-input elementwise op: identity maps, parallel loops, tensors, its
/// result a function of the input's element alone.
static bool isPlainElementwise(linalg::GenericOp op) {
  return op.getNumDpsInputs() == 1 && op.getNumDpsInits() == 1 &&
         op.getNumLoops() == op.getNumParallelLoops() &&
         op.hasPureTensorSemantics() &&
         llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); }) &&
         !op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)) &&
         !op.hasIndexSemantics();
}

/// `op`'s body (one result) applied to `inputs` at `maps` (inputs', then
/// the result's; all loops parallel), producing a fresh tensor of `type`:
/// a new op at the rewriter's insertion point.
static Value applyTo(PatternRewriter &rewriter, linalg::GenericOp op,
                     ValueRange inputs, RankedTensorType type,
                     ArrayRef<AffineMap> maps) {
  Location loc = op.getLoc();
  Value init = rewriter.create<tensor::EmptyOp>(loc, type.getShape(),
                                                type.getElementType());
  auto applied = rewriter.create<linalg::GenericOp>(
      loc, TypeRange{type}, inputs, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel));
  rewriter.cloneRegionBefore(op.getRegion(), applied.getRegion(),
                             applied.getRegion().end());
  return applied.getResult(0);
}

/// The plain elementwise `op` applied to `part`.
static Value applyToPart(PatternRewriter &rewriter, linalg::GenericOp op,
                         Value part) {
  auto partType = cast<RankedTensorType>(part.getType());
  Type elementType = getElementTypeOrSelf(op.getResult(0).getType());
  AffineMap id = rewriter.getMultiDimIdentityMap(partType.getRank());
  return applyTo(rewriter, op, part,
                 RankedTensorType::get(partType.getShape(), elementType),
                 {id, id});
}

/// An elementwise op (one input, identity maps) applied to a tensor that a
/// chain of insert_slices assembles from parts into a tensor.empty (the
/// halves of a convolution's GEMM result transposed to NCHW, see
/// gemmResultToNCHW) is applied to each part instead, before its insertion:
/// the parts' producers then fuse with it (bias + relu in the transposing
/// copy), instead of one more pass over the whole tensor. Positions no part
/// covers were undefined before and stay so.
struct ElementwiseIntoInsertedParts : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isPlainElementwise(op))
      return failure();
    // The chain, last insertion first; every link used only by the next
    // (the tensor.empty at its start may have other uses: CSE merges them).
    SmallVector<tensor::InsertSliceOp> chain;
    Value v = op.getDpsInputOperand(0)->get();
    while (auto insert = v.getDefiningOp<tensor::InsertSliceOp>()) {
      if (!v.hasOneUse())
        return failure();
      chain.push_back(insert);
      v = insert.getDest();
    }
    if (chain.size() < 2 || !v.getDefiningOp<tensor::EmptyOp>())
      return failure();
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
    Value result = rewriter.create<tensor::EmptyOp>(
        loc, resultType.getShape(), resultType.getElementType());
    for (tensor::InsertSliceOp insert : llvm::reverse(chain))
      result = rewriter.create<tensor::InsertSliceOp>(
          loc, applyToPart(rewriter, op, insert.getSource()), result,
          insert.getMixedOffsets(), insert.getMixedSizes(),
          insert.getMixedStrides());
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// An elementwise op (as above) applied to the result of an scf.forall
/// that only it uses, whose parts the loop's iterations insert into a
/// tensor.empty (a convolution going a few samples at a time), is applied
/// to each iteration's part before its insertion instead: inside, the
/// pattern above moves it on into the part's pieces and their producers
/// fuse with it (the bias and relu of a convolution in one pass over its
/// result, while the result is in cache).
struct ElementwiseIntoForall : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isPlainElementwise(op))
      return failure();
    auto result = dyn_cast<OpResult>(op.getDpsInputOperand(0)->get());
    auto forall =
        result ? dyn_cast<scf::ForallOp>(result.getOwner()) : scf::ForallOp();
    if (!forall || !result.hasOneUse() ||
        result.getType() != op.getResult(0).getType())
      return failure();
    OpOperand &init = forall.getOutputsMutable()[result.getResultNumber()];
    if (!init.get().getDefiningOp<tensor::EmptyOp>())
      return failure();
    // Every use of the shared tensor in the body is an insertion of a part.
    BlockArgument shared = forall.getTiedBlockArgument(&init);
    SmallVector<tensor::ParallelInsertSliceOp> inserts;
    for (Operation *user : shared.getUsers()) {
      auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(user);
      if (!insert || insert.getDest() != shared)
        return failure();
      inserts.push_back(insert);
    }
    rewriter.setInsertionPoint(forall.getTerminator());
    for (tensor::ParallelInsertSliceOp insert : inserts) {
      Value applied = applyToPart(rewriter, op, insert.getSource());
      rewriter.modifyOpInPlace(
          insert, [&] { insert.getSourceMutable().assign(applied); });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// An all-parallel linalg.generic on tensors, one result at an identity
/// map, operands at projected permutations, no index or init reads: its
/// result at any slice is the same op on slices of its operands.
static bool isSliceable(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumLoops() != op.getNumParallelLoops() || op.hasIndexSemantics() ||
      op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps.back().isIdentity() && llvm::all_of(maps, [](AffineMap m) {
           return m.isProjectedPermutation(/*allowZeroInResults=*/false);
         });
}

/// A consumer that an elementwise producer of its input `use` fuses into:
/// a linalg.generic, or a named transpose or reduction (made generics by
/// generalizeConsumer; nn-tile-and-vectorize generalizes them anyway).
static bool isFusingConsumer(OpOperand &use, bool parallelOnly) {
  Operation *owner = use.getOwner();
  if (auto generic = dyn_cast<linalg::GenericOp>(owner))
    return generic.isDpsInput(&use) && generic.hasPureTensorSemantics() &&
           (!parallelOnly ||
            generic.getNumLoops() == generic.getNumParallelLoops());
  if (isa<linalg::TransposeOp>(owner))
    return use.getOperandNumber() == 0;
  if (auto reduce = dyn_cast<linalg::ReduceOp>(owner))
    return !parallelOnly && reduce.getNumDpsInputs() == 1 &&
           reduce.isDpsInput(&use);
  return false;
}

/// The named consumer of isFusingConsumer as a linalg.generic.
static void generalizeConsumer(PatternRewriter &rewriter, Operation *op) {
  if (!isa<linalg::TransposeOp, linalg::ReduceOp>(op))
    return;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  (void)linalg::generalizeNamedOp(rewriter, cast<linalg::LinalgOp>(op));
}

/// A slice of the same rank, used once, as the input of an all-parallel
/// fusing consumer.
static bool isFusableSlice(Operation *user) {
  auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
  return slice &&
         slice.getType().getRank() == slice.getSourceType().getRank() &&
         slice->hasOneUse() &&
         isFusingConsumer(*slice->use_begin(), /*parallelOnly=*/true);
}

/// An elementwise op whose result is only read through slices, each the
/// input of an elementwise consumer (the four strided windows a 2x2 max
/// pool reads of the relu of a batchnorm; the part of a batchnorm's input
/// gradient that a weight gradient transposes per sample), is computed on
/// the slices of its operands instead, one op per slice: each then has one
/// use and fuses into its consumer, so the pool reads the convolution's
/// output and the activation between them is never written (one write and
/// one read of the largest tensor of the network less). Every element is
/// computed by the same operations as before; overlapping windows compute
/// the elements they share once per window.
struct ElementwiseThroughSlices : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto op = slice.getSource().getDefiningOp<linalg::GenericOp>();
    if (!op || !isSliceable(op) || !isFusableSlice(slice) ||
        !llvm::all_of(op->getUsers(), isFusableSlice))
      return failure();
    generalizeConsumer(rewriter, *slice->user_begin());
    // Loop i is dimension i of the result: each operand's slice takes the
    // offsets, sizes and strides of the loops its map reads.
    SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
    SmallVector<OpFoldResult> strides = slice.getMixedStrides();
    Location loc = op.getLoc();
    SmallVector<Value> inputs;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type) {
        inputs.push_back(v);
        continue;
      }
      SmallVector<OpFoldResult> o, s, t;
      for (AffineExpr e : op.getMatchingIndexingMap(input).getResults()) {
        unsigned loop = cast<AffineDimExpr>(e).getPosition();
        o.push_back(offsets[loop]);
        s.push_back(sizes[loop]);
        t.push_back(strides[loop]);
      }
      inputs.push_back(
          rewriter.create<tensor::ExtractSliceOp>(loc, v, o, s, t));
    }
    rewriter.replaceOp(slice, applyTo(rewriter, op, inputs, slice.getType(),
                                      op.getIndexingMapsArray()));
    return success();
  }
};

/// A cheap elementwise op read whole by reductions and otherwise through
/// slices by elementwise consumers is recomputed by each instead of written
/// once and read by all: one copy per reduction, which fuses into it (and
/// the slices go through ElementwiseThroughSlices). For the batchnorm input
/// gradient of a first convolution, which only its bias gradient (a reduction)
/// and its weight gradient (sample by sample, transposed) read: the largest
/// gradient of the network is not written; its consumers read the two
/// tensors it is computed from instead. Only when that moves fewer
/// tensors: its k full-size operands read by each of its m readers (k * m)
/// against k reads, one write (counted twice: the line is read for
/// ownership first) and m reads. Every element is computed by the same
/// operations as before, and each reduction sums them in the same order.
struct RecomputeForConsumers : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Payloads up to this many ops count as cheap.
  static constexpr unsigned kMaxPayloadOps = 32;
  /// Only results of at least this many elements (4 MiB of floats, more
  /// than a core's L2 here), whose write goes out to memory: SPEC 2.3's
  /// second batchnorm gradient (3.2 MB, read by the parts of the GEMMs of
  /// its convolution's gradients) ran slower recomputed on one thread.
  static constexpr int64_t kMinElements = 1 << 20;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    // Transcendental functions (math dialect) are not cheap.
    if (!isSliceable(op) ||
        op.getBody()->getOperations().size() > kMaxPayloadOps + 1 ||
        llvm::any_of(op.getBody()->getOperations(), [](Operation &inner) {
          return isa<math::MathDialect>(inner.getDialect());
        }))
      return failure();
    auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
    if (!resultType.hasStaticShape() ||
        resultType.getNumElements() < kMinElements)
      return failure();
    SmallVector<OpOperand *> whole;
    int64_t readers = 0;
    for (OpOperand &use : op.getResult(0).getUses()) {
      ++readers;
      if (isFusableSlice(use.getOwner()))
        continue;
      // Read whole: by reductions only. A whole-batch transpose reading
      // both operands instead of the result (resnet_mini's NHWC copies for
      // its weight gradients) ran 3% slower.
      auto reduction = dyn_cast<linalg::LinalgOp>(use.getOwner());
      if (!isFusingConsumer(use, /*parallelOnly=*/false) || !reduction ||
          reduction.getNumReductionLoops() == 0)
        return failure();
      whole.push_back(&use);
    }
    if (whole.empty() || readers < 2)
      return failure();
    int64_t fullSize = 0;
    for (Value v : op.getDpsInputs()) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (type && type.hasStaticShape() &&
          type.getNumElements() == resultType.getNumElements())
        ++fullSize;
    }
    if (fullSize * readers > fullSize + 2 + readers)
      return failure();
    for (OpOperand *use : whole) {
      Operation *consumer = use->getOwner();
      unsigned number = use->getOperandNumber();
      rewriter.setInsertionPoint(consumer);
      Operation *copy = rewriter.clone(*op);
      rewriter.modifyOpInPlace(
          consumer, [&] { consumer->setOperand(number, copy->getResult(0)); });
      generalizeConsumer(rewriter, consumer);
    }
    if (op->use_empty())
      rewriter.eraseOp(op);
    return success();
  }
};

/// Two reductions over the same iteration space that read a common input
/// (the two sums of a batchnorm's gradient over its incoming gradient)
/// become one op with both results: one pass over the input instead of
/// two. Each result keeps its own sums, in the same order. The later op's
/// place is the merged op's: the earlier one's results may only be used
/// after it, and neither uses the other's.
static void mergeSiblingReductions(Operation *root) {
  // Merged ops are nulled out here.
  SmallVector<linalg::GenericOp> reductions;
  root->walk([&](linalg::GenericOp op) {
    if (op.getNumReductionLoops() != 0 && op.hasPureTensorSemantics() &&
        !op.hasIndexSemantics() &&
        llvm::none_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
      reductions.push_back(op);
  });
  for (size_t i = 0; i < reductions.size(); ++i) {
    linalg::GenericOp first = reductions[i];
    for (size_t j = i + 1; first && j < reductions.size(); ++j) {
      linalg::GenericOp second = reductions[j];
      if (!second || second->getBlock() != first->getBlock() ||
          first.getStaticLoopRanges() != second.getStaticLoopRanges() ||
          first.getIteratorTypesArray() != second.getIteratorTypesArray() ||
          llvm::none_of(second.getDpsInputs(), [&](Value v) {
            return llvm::is_contained(first.getDpsInputs(), v);
          }))
        continue;
      // The earlier op's results are used only after the later op (which
      // is then not one of their users either).
      if (!llvm::all_of(first->getUsers(), [&](Operation *user) {
            Operation *u = first->getBlock()->findAncestorOpInBlock(*user);
            return u && second->isBeforeInBlock(u);
          }))
        continue;
      // Operands, maps and results: both ops' inputs, then both outputs.
      SmallVector<Value> ins, outs;
      SmallVector<AffineMap> maps, outMaps;
      SmallVector<Type> types;
      for (linalg::GenericOp op : {first, second}) {
        llvm::append_range(ins, op.getDpsInputs());
        llvm::append_range(outs, op.getDpsInits());
        SmallVector<AffineMap> m = op.getIndexingMapsArray();
        maps.append(m.begin(), m.begin() + op.getNumDpsInputs());
        outMaps.append(m.begin() + op.getNumDpsInputs(), m.end());
        llvm::append_range(types, op->getResultTypes());
      }
      llvm::append_range(maps, outMaps);
      OpBuilder b(second);
      auto fused = b.create<linalg::GenericOp>(
          second.getLoc(), types, ins, outs, maps,
          first.getIteratorTypesArray(),
          [&](OpBuilder &nb, Location loc, ValueRange args) {
            // The first op's body, then the second's; one yield of both.
            IRMapping map;
            SmallVector<Value> yields;
            size_t in = 0, out = ins.size();
            for (linalg::GenericOp op : {first, second}) {
              Block *body = op.getBody();
              for (BlockArgument arg : body->getArguments())
                map.map(
                    arg,
                    args[arg.getArgNumber() < op.getNumDpsInputs() ? in++
                                                                   : out++]);
              for (Operation &inner : body->without_terminator())
                nb.clone(inner, map);
              for (Value v : body->getTerminator()->getOperands())
                yields.push_back(map.lookupOrDefault(v));
            }
            nb.create<linalg::YieldOp>(loc, yields);
          });
      first->replaceAllUsesWith(
          fused->getResults().take_front(first->getNumResults()));
      second->replaceAllUsesWith(
          fused->getResults().drop_front(first->getNumResults()));
      first->erase();
      second->erase();
      reductions[j] = nullptr;
      first = nullptr;
    }
  }
}

struct NNFuseElementwisePass
    : nnc::impl::NNFuseElementwisePassBase<NNFuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    // Fuse a producer into its only consumer (upstream's default), unless
    // the consumer broadcasts it: a per-channel value (batchnorm's 1 / sqrt,
    // its gradient's sums over M) fused into an op over [N, C, H, W] would be
    // computed again for every element, or every vector of them.
    // nn-quantize's int8 GEMMs keep their form for nn-lower-int8-gemm.
    linalg::ControlFusionFn singleUse = [ctx](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
      return producer && producer->hasOneUse() && consumer &&
             consumer.getMatchingIndexingMap(fused).getNumResults() ==
                 consumer.getNumLoops() &&
             !nnc::nn::NNDialect::Int8GemmAttrHelper(ctx).isAttrPresent(
                 fused->getOwner());
    };
    // Reshapes move through elementwise ops only.
    linalg::ControlFusionFn reshapes = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || !producer->hasOneUse())
        return false;
      return !isContraction(producer) && !isContraction(fused->getOwner());
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, singleUse);
    patterns.add<ElementwiseIntoInsertedParts, ElementwiseIntoForall,
                 ElementwiseThroughSlices, RecomputeForConsumers>(ctx);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, reshapes);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns),
                                            config)))
      return signalPassFailure();
    mergeSiblingReductions(getOperation());
  }
};

} // namespace
