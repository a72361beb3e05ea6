//===- LowerInt8Gemm.cpp - nn-quantize's int8 GEMMs as VNNI kernels -------===//
//
// C[R, Cols] (i32) += rows[R, Kp/4, 4] x cols[Kp/4, Cols, 4], one operand
// u8 and the other s8 (the four k of one row or column adjacent), on
// buffers: dense's rows are the batch's u8 inputs and its columns the s8
// output channels; conv2d's rows are the s8 filters and its columns the u8
// im2col positions. Register tiles of up to 4 rows x 4 vectors of 16
// columns: per step of 4 along k, each row's 4 bytes broadcast to all
// lanes, 64 bytes per column vector, one `vpdpbusd` (u8 x s8 dot products
// of 4, added to i32 lanes) per accumulator. The accumulators live in
// registers over the whole k loop; they start from C (the GEMM accumulates,
// as linalg's semantics say), or from zeros when a zero fill of C comes
// right before (the fill goes).
//
//===----------------------------------------------------------------------===//
#include "ir/NNDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

namespace nnc {
#define GEN_PASS_DEF_NNLOWERINT8GEMMPASS
#include "passes/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc;

namespace {

constexpr int64_t kLanes = 16;

/// C[R, Cols] += rows[R, K4, 4] . cols[K4, Cols x 4] (the second collapsed):
/// one operand u8, the other s8 (`rowsUnsigned` says which).
struct Kernel {
  OpBuilder &b;
  Location loc;
  Value rowsOp, colsOp, c;
  int64_t k4;
  bool rowsUnsigned, zeroInit;

  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, int64_t v) {
    return v ? b.create<arith::AddIOp>(loc, x, idx(v)).getResult() : x;
  }

  /// Rows [r0, r0 + rows) x vectors [c0, c0 + cols) of 16 columns.
  void tile(Value r0, Value c0, int64_t rows, int64_t cols) {
    auto accType = VectorType::get({kLanes}, b.getI32Type());
    SmallVector<Value> init;
    Value zeros;
    if (zeroInit)
      zeros = b.create<arith::ConstantOp>(
          loc, DenseElementsAttr::get(accType, b.getI32IntegerAttr(0)));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        init.push_back(zeroInit
                           ? zeros
                           : b.create<vector::LoadOp>(
                                 loc, accType, c,
                                 ValueRange{add(r0, i), add(c0, j * kLanes)}));
    auto loop = b.create<scf::ForOp>(
        loc, idx(0), idx(k4), idx(1), init,
        [&](OpBuilder &nb, Location, Value k, ValueRange acc) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value c4 = b.create<arith::MulIOp>(loc, c0, idx(4));
          SmallVector<Value> vecs;
          for (int64_t j = 0; j < cols; ++j) {
            Value bytes = b.create<vector::LoadOp>(
                loc, VectorType::get({4 * kLanes}, b.getI8Type()), colsOp,
                ValueRange{k, add(c4, 4 * kLanes * j)});
            vecs.push_back(b.create<vector::BitCastOp>(loc, accType, bytes));
          }
          SmallVector<Value> next;
          for (int64_t i = 0; i < rows; ++i) {
            Value four = b.create<vector::LoadOp>(
                loc, VectorType::get({4}, b.getI8Type()), rowsOp,
                ValueRange{add(r0, i), k, idx(0)});
            Value word = b.create<vector::BitCastOp>(
                loc, VectorType::get({1}, b.getI32Type()), four);
            Value scalar =
                b.create<vector::ExtractOp>(loc, word, ArrayRef<int64_t>{0});
            Value row = b.create<vector::BroadcastOp>(loc, accType, scalar);
            for (int64_t j = 0; j < cols; ++j) {
              // vpdpbusd(acc, u8, s8)
              Value u = rowsUnsigned ? row : vecs[j];
              Value s = rowsUnsigned ? vecs[j] : row;
              next.push_back(b.create<LLVM::CallIntrinsicOp>(
                                  loc, accType, "llvm.x86.avx512.vpdpbusd.512",
                                  ValueRange{acc[i * cols + j], u, s})
                                 .getResult(0));
            }
          }
          b.create<scf::YieldOp>(loc, next);
        });
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        b.create<vector::StoreOp>(loc, loop.getResult(i * cols + j), c,
                                  ValueRange{add(r0, i), add(c0, j * kLanes)});
  }

  /// A loop from `from` to `to` by `step` whose body `body` builds at the
  /// induction variable.
  void loop(int64_t from, int64_t to, int64_t step,
            function_ref<void(Value)> body) {
    if (to <= from)
      return;
    b.create<scf::ForOp>(loc, idx(from), idx(to), idx(step), ValueRange{},
                         [&](OpBuilder &nb, Location, Value iv, ValueRange) {
                           OpBuilder::InsertionGuard guard(b);
                           b.setInsertionPoint(nb.getInsertionBlock(),
                                               nb.getInsertionPoint());
                           body(iv);
                           b.create<scf::YieldOp>(loc);
                         });
  }

  /// Every column block of `cols` vectors (outer: its 64 x 4 x k4 bytes stay
  /// in L1 across the rows), every row in tiles of up to 4.
  void all(int64_t rows, int64_t columns, int64_t cols) {
    int64_t perTile = std::min<int64_t>(4, rows);
    int64_t whole = rows / perTile * perTile;
    loop(0, columns, cols * kLanes, [&](Value c0) {
      loop(0, whole, perTile, [&](Value r0) { tile(r0, c0, perTile, cols); });
      loop(whole, rows, 1, [&](Value r0) { tile(r0, c0, 1, cols); });
    });
  }
};

/// The zero fill of `c` right before `op` (nothing else touching `c` in
/// between), or null.
linalg::FillOp zeroFillBefore(Operation *op, Value c) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    auto fill = dyn_cast<linalg::FillOp>(prev);
    if (fill && fill.getOutputs()[0] == c)
      return matchPattern(fill.getInputs()[0], m_Zero()) ? fill
                                                         : linalg::FillOp();
    if (llvm::is_contained(prev->getOperands(), c) ||
        prev->getNumRegions() != 0)
      return {};
  }
  return {};
}

struct NNLowerInt8GemmPass
    : nnc::impl::NNLowerInt8GemmPassBase<NNLowerInt8GemmPass> {
  using NNLowerInt8GemmPassBase::NNLowerInt8GemmPassBase;
  void runOnOperation() override {
    if (!vnni)
      return;
    MLIRContext *ctx = &getContext();
    SmallVector<linalg::GenericOp> gemms;
    getOperation().walk([&](linalg::GenericOp op) {
      if (nn::NNDialect::Int8GemmAttrHelper(ctx).isAttrPresent(op) &&
          op.hasPureBufferSemantics())
        gemms.push_back(op);
    });
    for (linalg::GenericOp op : gemms) {
      // The rows' operand is indexed by the first output dimension.
      bool rowsUnsigned =
          op.getIndexingMapsArray()[0].getResult(0) == getAffineDimExpr(0, ctx);
      Value u8 = op.getDpsInputs()[0], s8 = op.getDpsInputs()[1],
            c = op.getDpsInits()[0];
      Value rowsOp = rowsUnsigned ? u8 : s8, colsOp = rowsUnsigned ? s8 : u8;
      auto ct = cast<MemRefType>(c.getType());
      int64_t rows = ct.getDimSize(0), columns = ct.getDimSize(1),
              k4 = cast<MemRefType>(rowsOp.getType()).getDimSize(1);
      if (columns % kLanes) {
        op.emitOpError("int8 GEMM needs a multiple of 16 columns");
        return signalPassFailure();
      }
      OpBuilder b(op);
      linalg::FillOp fill = zeroFillBefore(op, c);
      if (fill)
        fill.erase();
      // The columns as [K4, Cols x 4]: 16 columns' 4 bytes in 64 bytes.
      Value cols2 = b.create<memref::CollapseShapeOp>(
          op.getLoc(), colsOp, SmallVector<ReassociationIndices>{{0}, {1, 2}});
      Kernel kernel{b, op.getLoc(), rowsOp,       cols2,
                    c, k4,          rowsUnsigned, bool(fill)};
      // Up to 4 x 4 accumulators: 16 of the 32 vector registers, 4 more for
      // the columns, 1 for the broadcast row.
      int64_t vecs = columns / kLanes, cols = 1;
      for (int64_t d : {4, 3, 2})
        if (vecs % d == 0) {
          cols = d;
          break;
        }
      kernel.all(rows, columns, cols);
      op.erase();
    }
  }
};

} // namespace
