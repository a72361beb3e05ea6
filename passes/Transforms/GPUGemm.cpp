//===- GPUGemm.cpp - f32 contractions as tiled tensor-core kernels
//---------===//
//
// --target cuda (issue 15): the GEMMs of a training step (dense layers and
// their gradients, convolutions as im2col matmuls, attention's tiles) are
// where the time goes, and the plain mapping of nn-gpu-map-loops (one thread
// per output, the reduction a loop) reads every operand from global memory
// k times. Here each contraction becomes one gpu.launch built for its static
// shape:
//
//   grid  = (ceil(N / 64), ceil(M / 64), product of the batch dimensions)
//   block = 128 threads = 4 warps, 2 x 2 over the block's 64 x 64 tile of C
//
//   for k0 in 0..K step 16:
//     A[64 x 16], B[16 x 64] -> workgroup memory (8 elements per thread,
//                               rounded to tf32, zeros past the edges)
//                                                            ; gpu.barrier
//     4 x (per warp: 2 x 4 nvgpu.mma.sync m16n8k4 tf32 into
//          accumulators held in registers as loop-carried vectors)
//                                                            ; gpu.barrier
//   C[tile] += accumulators (guarded at the edges)
//
// Operands are read through the op's indexing maps, so transposed operands
// (matmul_transpose_a/b, generic contractions) need no copy; each tile is
// copied in the order that makes consecutive threads read consecutive
// addresses of the operand. The shared rows are padded (A: 16 -> 20, B:
// 64 -> 72 floats) so that the 32 lanes of a warp reading an mma fragment hit
// 32 different banks.
//
// Fragment layouts (PTX ISA, mma.m16n8k4 .tf32; lane = 4 g + t):
//   a: vector<2x1xf32>  [i][0] = A[g + 8 i][t]
//   b: vector<1x1xf32>  [0][0] = B[t][g]
//   c: vector<2x2xf32>  [i][j] = C[g + 8 i][2 t + j]
//
// Contractions marked nn.bf16_operands (`precision = bf16`: their operands
// are bf16 values already) keep their tiles in bf16 (A rows padded 16 -> 24)
// and multiply with one m16n8k16 bf16 mma.sync per k step, twice the tf32
// rate, into the same f32 accumulators (mma.m16n8k16 .bf16; pairs of bf16
// in one 32-bit register, the first in the low half):
//   a: 4 x i32 [i] = A[g + 8 (i % 2)][2 t + 8 (i / 2) + {0, 1}]
//   b: 2 x i32 [i] = B[2 t + 8 i + {0, 1}][g]
//   c: 4 x f32 [i] = C[g + 8 (i / 2)][2 t + i % 2]
// LLVM 19 cannot express it: nvgpu.mma.sync fails on bf16 fragments
// ("failed to deduce operand PTX types") and nvvm.mma.sync's verifier wants
// f16 pairs where the intrinsic takes i32. It is the PTX instruction itself,
// as inline assembly on the packed registers.
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"

namespace nnc {
#define GEN_PASS_DEF_NNGPUGEMMPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// The block's tile of C, the k step, the warps' tiles.
constexpr int64_t kBlockM = 64, kBlockN = 64, kBlockK = 16;
constexpr int64_t kWarpM = 32, kWarpN = 32;
constexpr int64_t kWarpsN = kBlockN / kWarpN;
constexpr int64_t kThreads = 32 * (kBlockM / kWarpM) * kWarpsN;
// One mma.sync: m16 n8 k4.
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 4;
constexpr int64_t kTilesM = kWarpM / kMmaM, kTilesN = kWarpN / kMmaN;
// Padded rows of the shared tiles (see the file comment).
constexpr int64_t kStrideA = kBlockK + 4, kStrideB = kBlockN + 8;
constexpr int64_t kStrideABf16 = kBlockK + 8;

/// A contraction the kernel handles, with its loop dimensions.
struct Contraction {
  linalg::LinalgOp op;
  SmallVector<unsigned> batch;
  unsigned m, n, k;
  SmallVector<int64_t> ranges;
};

static bool isStaticF32Buffer(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

static std::optional<Contraction> matchContraction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands())
    if (!isStaticF32Buffer(operand.get()))
      return std::nullopt;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 ||
      dims->batch.size() + 3 != static_cast<size_t>(op.getNumLoops()))
    return std::nullopt;
  Contraction c{op,
                SmallVector<unsigned>(dims->batch.begin(), dims->batch.end()),
                dims->m.front(),
                dims->n.front(),
                dims->k.front(),
                op.getStaticLoopRanges()};
  if (llvm::any_of(c.ranges, ShapedType::isDynamic))
    return std::nullopt;
  return c;
}

/// Builds one contraction's kernel in place of the op.
class KernelBuilder {
public:
  explicit KernelBuilder(Contraction contraction)
      : c(std::move(contraction)), b(c.op), loc(c.op.getLoc()),
        bf16(nnc::nn::NNDialect::Bf16OperandsAttrHelper(b.getContext())
                 .isAttrPresent(c.op)) {}

  void build() {
    int64_t batches = 1;
    for (unsigned d : c.batch)
      batches *= c.ranges[d];
    auto shared = gpu::AddressSpaceAttr::get(b.getContext(),
                                             gpu::AddressSpace::Workgroup);
    Type element = bf16 ? Type(b.getBF16Type()) : Type(b.getF32Type());
    auto sharedA =
        MemRefType::get({kBlockM, bf16 ? kStrideABf16 : kStrideA}, element,
                        MemRefLayoutAttrInterface(), shared);
    auto sharedB = MemRefType::get({kBlockK, kStrideB}, element,
                                   MemRefLayoutAttrInterface(), shared);
    auto launch = b.create<gpu::LaunchOp>(
        loc, index(ceilDiv(c.ranges[c.n], kBlockN)),
        index(ceilDiv(c.ranges[c.m], kBlockM)), index(batches), index(kThreads),
        index(1), index(1), /*dynamicSharedMemorySize=*/
        Value(), /*asyncTokenType=*/Type(), ValueRange{},
        TypeRange{sharedA, sharedB});
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    tileA = launch.getWorkgroupAttributions()[0];
    tileB = launch.getWorkgroupAttributions()[1];
    body_(launch);
    b.create<gpu::TerminatorOp>(loc);
    c.op->erase();
  }

private:
  static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, index(y)) : x; }
  Value mul(Value x, int64_t y) {
    return b.create<arith::MulIOp>(loc, x, index(y));
  }
  Value div(Value x, int64_t y) {
    return b.create<arith::DivUIOp>(loc, x, index(y));
  }
  Value rem(Value x, int64_t y) {
    return b.create<arith::RemUIOp>(loc, x, index(y));
  }
  Value below(Value x, int64_t bound) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x,
                                   index(bound));
  }

  /// `v` rounded to tf32 (10 mantissa bits), to nearest with ties away
  /// from zero as cvt.rna.tf32.f32 (and PyTorch's TF32 matmuls) do; mma.sync
  /// itself would truncate. Infinities and NaNs stay what they are.
  Value toTf32(Value v) {
    Value bits = b.create<arith::BitcastOp>(loc, b.getI32Type(), v);
    Value half = b.create<arith::ConstantIntOp>(loc, 0x1000, 32);
    Value mask = b.create<arith::ConstantIntOp>(
        loc, static_cast<int32_t>(0xFFFFE000u), 32);
    Value rounded = b.create<arith::AndIOp>(
        loc, b.create<arith::AddIOp>(loc, bits, half), mask);
    // A NaN's payload could carry into the sign: keep NaNs as they are.
    Value isNaN = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, v, v);
    return b.create<arith::SelectOp>(
        loc, isNaN, v,
        b.create<arith::BitcastOp>(loc, b.getF32Type(), rounded));
  }

  /// A fragment of the given elements, row-major (vector.insert: lowered
  /// for any rank, unlike n-D vector.from_elements in LLVM 19).
  Value fragment(VectorType type, ArrayRef<Value> elements) {
    Value v = b.create<arith::ConstantOp>(loc, type,
                                          cast<TypedAttr>(b.getZeroAttr(type)));
    int64_t cols = type.getShape().back();
    for (auto [i, e] : llvm::enumerate(elements)) {
      SmallVector<int64_t, 2> at{int64_t(i) % cols};
      if (type.getRank() == 2)
        at.insert(at.begin(), int64_t(i) / cols);
      v = b.create<vector::InsertOp>(loc, e, v, at);
    }
    return v;
  }

  /// The indices of `operand` at the loop point where the m, n, k and batch
  /// dimensions take the given values (dimensions it does not use ignored).
  SmallVector<Value> indicesOf(OpOperand &operand, Value m, Value n, Value k) {
    SmallVector<Value> point(c.ranges.size());
    point[c.m] = m;
    point[c.n] = n;
    point[c.k] = k;
    for (auto [d, v] : llvm::zip(c.batch, batchIndex))
      point[d] = v;
    AffineMap map = c.op.getMatchingIndexingMap(&operand);
    SmallVector<Value> indices;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      indices.push_back(point[map.getDimPosition(r)]);
    return indices;
  }

  /// Whether the operand's innermost memory dimension is loop dimension d.
  bool contiguousAlong(OpOperand &operand, unsigned d) {
    AffineMap map = c.op.getMatchingIndexingMap(&operand);
    return map.getDimPosition(map.getNumResults() - 1) == d;
  }

  /// Copies the operand's tile [rows x cols] at (row0, col0) of loop
  /// dimensions (rowDim, colDim) into `tile`, zeros outside the operand.
  /// `rowDim` is m or k, `colDim` k or n; `at` maps (row, col) to the
  /// (m, n, k) point.
  void copyTile(OpOperand &operand, Value tile, int64_t rows, int64_t cols,
                unsigned rowDim, unsigned colDim, Value row0, Value col0,
                llvm::function_ref<SmallVector<Value>(Value, Value)> at) {
    // Consecutive threads take consecutive elements of the operand's
    // innermost dimension.
    bool rowsFastest = contiguousAlong(operand, rowDim);
    Value zero = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0));
    for (int64_t i = 0; i < rows * cols / kThreads; ++i) {
      Value e = add(threadId, i * kThreads);
      Value r = rowsFastest ? rem(e, rows) : div(e, cols);
      Value col = rowsFastest ? div(e, rows) : rem(e, cols);
      Value gr = add(row0, r), gc = add(col0, col);
      Value inside = b.create<arith::AndIOp>(loc, below(gr, c.ranges[rowDim]),
                                             below(gc, c.ranges[colDim]));
      auto guarded = b.create<scf::IfOp>(
          loc, inside,
          [&](OpBuilder &nb, Location l) {
            Value v = nb.create<memref::LoadOp>(l, operand.get(), at(gr, gc));
            nb.create<scf::YieldOp>(l, v);
          },
          [&](OpBuilder &nb, Location l) { nb.create<scf::YieldOp>(l, zero); });
      Value v = guarded.getResult(0);
      v = bf16 ? b.create<arith::TruncFOp>(loc, b.getBF16Type(), v) : toTf32(v);
      b.create<memref::StoreOp>(loc, v, tile, ValueRange{r, col});
    }
  }

  /// One k step of the warp's 2 x 4 tiles: 4 tf32 m16n8k4 mmas each.
  void multiplyTf32(Value g, Value t, Value warpRow, Value warpCol,
                    SmallVector<Value> &acc) {
    auto fragA = VectorType::get({2, 1}, b.getF32Type());
    auto fragB = VectorType::get({1, 1}, b.getF32Type());
    for (int64_t kk = 0; kk < kBlockK; kk += kMmaK) {
      Value col = add(t, kk);
      SmallVector<Value> as, bs;
      for (int64_t i = 0; i < kTilesM; ++i) {
        Value row = add(add(warpRow, i * kMmaM), g);
        Value lo = b.create<memref::LoadOp>(loc, tileA, ValueRange{row, col});
        Value hi =
            b.create<memref::LoadOp>(loc, tileA, ValueRange{add(row, 8), col});
        as.push_back(fragment(fragA, {lo, hi}));
      }
      for (int64_t j = 0; j < kTilesN; ++j) {
        Value v = b.create<memref::LoadOp>(
            loc, tileB, ValueRange{col, add(add(warpCol, j * kMmaN), g)});
        bs.push_back(fragment(fragB, {v}));
      }
      for (int64_t i = 0; i < kTilesM; ++i)
        for (int64_t j = 0; j < kTilesN; ++j) {
          Value &a = acc[i * kTilesN + j];
          a = b.create<nvgpu::MmaSyncOp>(loc, as[i], bs[j], a,
                                         ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                                         /*tf32Enabled=*/true);
        }
    }
  }

  /// Two bf16 elements of a tile packed in an i32, `lo` in the low half.
  Value packed(Value tile, ValueRange lo, ValueRange hi) {
    auto pair = VectorType::get({2}, b.getBF16Type());
    Value v = fragment(pair, {b.create<memref::LoadOp>(loc, tile, lo),
                              b.create<memref::LoadOp>(loc, tile, hi)});
    Value word = b.create<vector::BitCastOp>(
        loc, VectorType::get({1}, b.getI32Type()), v);
    return b.create<vector::ExtractOp>(loc, word, ArrayRef<int64_t>{0});
  }

  /// One k step of the warp's 2 x 4 tiles: one bf16 m16n8k16 mma each.
  void multiplyBf16(Value g, Value t, Value warpRow, Value warpCol,
                    SmallVector<Value> &acc) {
    Value t2 = mul(t, 2);
    SmallVector<SmallVector<Value, 4>> as, bs;
    for (int64_t i = 0; i < kTilesM; ++i) {
      Value row = add(add(warpRow, i * kMmaM), g);
      SmallVector<Value, 4> regs;
      for (int64_t r = 0; r < 4; ++r) {
        Value at = add(row, 8 * (r % 2)), k = add(t2, 8 * (r / 2));
        regs.push_back(packed(tileA, {at, k}, {at, add(k, 1)}));
      }
      as.push_back(regs);
    }
    for (int64_t j = 0; j < kTilesN; ++j) {
      Value col = add(add(warpCol, j * kMmaN), g);
      SmallVector<Value, 4> regs;
      for (int64_t r = 0; r < 2; ++r) {
        Value k = add(t2, 8 * r);
        regs.push_back(packed(tileB, {k, col}, {add(k, 1), col}));
      }
      bs.push_back(regs);
    }
    Type f32 = b.getF32Type();
    auto result =
        LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    for (int64_t i = 0; i < kTilesM; ++i)
      for (int64_t j = 0; j < kTilesN; ++j) {
        Value &a = acc[i * kTilesN + j];
        SmallVector<Value, 4> cs;
        for (int64_t e = 0; e < 4; ++e)
          cs.push_back(b.create<vector::ExtractOp>(
              loc, a, ArrayRef<int64_t>{e / 2, e % 2}));
        SmallVector<Value> operands(as[i].begin(), as[i].end());
        operands.append(bs[j]);
        operands.append(cs);
        Value d = b.create<LLVM::InlineAsmOp>(
                       loc, result, operands,
                       "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                       "{$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
                       "{$10, $11, $12, $13};",
                       "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f",
                       /*has_side_effects=*/false, /*is_align_stack=*/false,
                       LLVM::AsmDialectAttr(), ArrayAttr())
                      .getResult(0);
        for (int64_t e = 0; e < 4; ++e)
          a = b.create<vector::InsertOp>(
              loc, b.create<LLVM::ExtractValueOp>(loc, d, e), a,
              ArrayRef<int64_t>{e / 2, e % 2});
      }
  }

  void body_(gpu::LaunchOp launch) {
    threadId = launch.getThreadIds().x;
    Value blockN = launch.getBlockIds().x, blockM = launch.getBlockIds().y;
    Value batch = launch.getBlockIds().z;
    // The batch index, last batch dimension fastest.
    batchIndex.assign(c.batch.size(), Value());
    for (int64_t i = c.batch.size() - 1; i >= 0; --i) {
      int64_t range = c.ranges[c.batch[i]];
      batchIndex[i] = i == 0 ? batch : rem(batch, range);
      batch = div(batch, range);
    }
    Value warp = div(threadId, 32), lane = rem(threadId, 32);
    Value g = div(lane, 4), t = rem(lane, 4);
    Value warpRow = mul(div(warp, kWarpsN), kWarpM);
    Value warpCol = mul(rem(warp, kWarpsN), kWarpN);
    Value m0 = mul(blockM, kBlockM), n0 = mul(blockN, kBlockN);

    auto accType = VectorType::get({2, 2}, b.getF32Type());
    Value accZero = b.create<arith::ConstantOp>(
        loc, accType, DenseElementsAttr::get(accType, 0.0f));
    SmallVector<Value> init(kTilesM * kTilesN, accZero);
    OpOperand &opA = *c.op.getDpsInputOperand(0);
    OpOperand &opB = *c.op.getDpsInputOperand(1);
    Value zeroIdx = index(0);
    auto loop = b.create<scf::ForOp>(
        loc, zeroIdx, index(c.ranges[c.k]), index(kBlockK), init,
        [&](OpBuilder &nb, Location, Value k0, ValueRange accs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          copyTile(opA, tileA, kBlockM, kBlockK, c.m, c.k, m0, k0,
                   [&](Value r, Value col) {
                     return indicesOf(opA, r, zeroIdx, col);
                   });
          copyTile(opB, tileB, kBlockK, kBlockN, c.k, c.n, k0, n0,
                   [&](Value r, Value col) {
                     return indicesOf(opB, zeroIdx, col, r);
                   });
          b.create<gpu::BarrierOp>(loc);
          SmallVector<Value> acc(accs.begin(), accs.end());
          if (bf16)
            multiplyBf16(g, t, warpRow, warpCol, acc);
          else
            multiplyTf32(g, t, warpRow, warpCol, acc);
          b.create<gpu::BarrierOp>(loc);
          b.create<scf::YieldOp>(loc, acc);
        });

    // C[tile] += the accumulators, inside C only.
    OpOperand &opC = *c.op.getDpsInitOperand(0);
    for (int64_t i = 0; i < kTilesM; ++i)
      for (int64_t j = 0; j < kTilesN; ++j)
        for (int64_t x = 0; x < 2; ++x)
          for (int64_t y = 0; y < 2; ++y) {
            Value row = add(add(add(m0, warpRow), i * kMmaM + 8 * x), g);
            Value col = add(add(add(n0, warpCol), j * kMmaN + y), mul(t, 2));
            Value inside = b.create<arith::AndIOp>(
                loc, below(row, c.ranges[c.m]), below(col, c.ranges[c.n]));
            Value sum = b.create<vector::ExtractOp>(
                loc, loop.getResult(i * kTilesN + j), ArrayRef<int64_t>{x, y});
            b.create<scf::IfOp>(loc, inside, [&](OpBuilder &nb, Location l) {
              SmallVector<Value> at = indicesOf(opC, row, col, zeroIdx);
              Value old = nb.create<memref::LoadOp>(l, opC.get(), at);
              Value next = nb.create<arith::AddFOp>(l, old, sum);
              nb.create<memref::StoreOp>(l, next, opC.get(), at);
              nb.create<scf::YieldOp>(l);
            });
          }
  }

  Contraction c;
  OpBuilder b;
  Location loc;
  bool bf16;
  Value tileA, tileB, threadId;
  SmallVector<Value> batchIndex;
};

struct NNGPUGemmPass : nnc::impl::NNGPUGemmPassBase<NNGPUGemmPass> {
  void runOnOperation() override {
    SmallVector<Contraction> found;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (std::optional<Contraction> c = matchContraction(op))
        found.push_back(*c);
    });
    for (const Contraction &c : found)
      KernelBuilder(c).build();
  }
};

} // namespace
