//===- Utils.h - Builders shared by the nn -> linalg patterns --*- C++ -*-===//
//
// Small helpers that keep the pattern files about the math: empty and filled
// destination tensors, elementwise and reducing linalg.generic ops, and the
// scalar code that reads and writes 0-d tensors.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_PASSES_CONVERSION_NNTOLINALG_UTILS_H
#define NNC_PASSES_CONVERSION_NNTOLINALG_UTILS_H

#include "ir/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"

#include <charconv>
#include <cstdlib>

namespace nnc {
namespace lowering {

using BodyFn = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                              mlir::ValueRange)>;

using nn::tensorType;

/// The number a user meant by an f32 attribute: the shortest decimal that
/// round-trips the float, read as a double (0.999f gives 0.999). torch keeps
/// hyper-parameters as Python floats, so constants derived from them
/// (1 - beta2, bias corrections) are computed from this value.
inline double decimal(const llvm::APFloat &v) {
  char buf[64];
  std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf) - 1, v.convertToFloat());
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);
}

inline mlir::Value f32(mlir::OpBuilder &b, mlir::Location loc, double v) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr(v));
}

inline mlir::Value f64(mlir::OpBuilder &b, mlir::Location loc, double v) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getF64FloatAttr(v));
}

/// An uninitialised tensor of `type` (destination of an op that writes all of
/// it).
inline mlir::Value emptyLike(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType type) {
  return b.create<mlir::tensor::EmptyOp>(loc, type.getShape(),
                                         type.getElementType());
}

/// A tensor of `type` filled with the f32 `value` (accumulator init).
inline mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType type, double value) {
  mlir::Value empty = emptyLike(b, loc, type);
  return b.create<mlir::linalg::FillOp>(loc, f32(b, loc, value), empty)
      .getResult(0);
}

inline llvm::SmallVector<mlir::utils::IteratorType> parallel(unsigned n) {
  return llvm::SmallVector<mlir::utils::IteratorType>(
      n, mlir::utils::IteratorType::parallel);
}

/// The map from the `rank` loops of an op to the leading (batch) dimension:
/// how a per-row value (mask, label, row statistic) is read.
inline mlir::AffineMap rowMap(mlir::MLIRContext *ctx, unsigned rank) {
  return mlir::AffineMap::get(rank, 0, mlir::getAffineDimExpr(0, ctx));
}

/// The map that drops the last loop: how a per-row statistic over the last
/// dimension (softmax max and sum) is read or written.
inline mlir::AffineMap dropLastMap(mlir::MLIRContext *ctx, unsigned rank) {
  llvm::SmallVector<mlir::AffineExpr> exprs;
  for (unsigned i = 0; i + 1 < rank; ++i)
    exprs.push_back(mlir::getAffineDimExpr(i, ctx));
  return mlir::AffineMap::get(rank, 0, exprs, ctx);
}

/// An elementwise linalg.generic over `type`'s shape: every input is read
/// through its map in `inputMaps` (identity when empty), the body receives
/// the input elements and returns the result element.
inline mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::RankedTensorType type,
                               mlir::ValueRange inputs, BodyFn body,
                               llvm::ArrayRef<mlir::AffineMap> inputMaps = {}) {
  unsigned rank = type.getRank();
  llvm::SmallVector<mlir::AffineMap> maps;
  if (inputMaps.empty())
    maps.assign(inputs.size(), b.getMultiDimIdentityMap(rank));
  else
    maps.assign(inputMaps.begin(), inputMaps.end());
  maps.push_back(b.getMultiDimIdentityMap(rank));
  auto generic = b.create<mlir::linalg::GenericOp>(
      loc, mlir::TypeRange{type}, inputs,
      mlir::ValueRange{emptyLike(b, loc, type)}, maps, parallel(rank),
      [&](mlir::OpBuilder &nb, mlir::Location nl, mlir::ValueRange args) {
        mlir::Value r = body(nb, nl, args.drop_back());
        nb.create<mlir::linalg::YieldOp>(nl, r);
      });
  return generic.getResult(0);
}

/// `precision = bf16` (the module's `nn.bf16`): the operands of matrix
/// products are rounded to bf16 and accumulate in f32 (autocast's GEMMs);
/// not in `merge` (LoRA's fold of the adapters into the weights).
inline bool bf16Products(mlir::Operation *op) {
  auto module = op->getParentOfType<mlir::ModuleOp>();
  auto fn = op->getParentOfType<mlir::func::FuncOp>();
  return module &&
         nnc::nn::NNDialect::Bf16AttrHelper(op->getContext())
             .isAttrPresent(module) &&
         !(fn && nnc::nn::NNDialect::MergeAttrHelper(op->getContext())
                     .isAttrPresent(fn));
}

/// `contraction` (a linalg op whose operands roundedToBf16 made with `bf16`)
/// marked nn.bf16_operands when `bf16` holds; returns its result.
inline mlir::Value bf16Contraction(mlir::Operation *contraction, bool bf16) {
  if (bf16)
    nnc::nn::NNDialect::Bf16OperandsAttrHelper(contraction->getContext())
        .setAttr(contraction, mlir::UnitAttr::get(contraction->getContext()));
  return contraction->getResult(0);
}

/// `x` rounded to bf16 and widened back when `bf16` holds (else x): the
/// f32 bits rounded to their upper 16, ties to even (bits + 0x7fff + bit
/// 16), NaN kept. Integer arithmetic, so it vectorizes on any x86.
inline mlir::Value roundedToBf16(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value x, bool bf16) {
  if (!bf16)
    return x;
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  return elementwise(
      b, loc, type, {x},
      [](mlir::OpBuilder &nb, mlir::Location l,
         mlir::ValueRange v) -> mlir::Value {
        mlir::Type i32 = nb.getI32Type();
        auto c = [&](uint32_t k) -> mlir::Value {
          return nb.create<mlir::arith::ConstantOp>(
              l, nb.getI32IntegerAttr(static_cast<int32_t>(k)));
        };
        mlir::Value bits = nb.create<mlir::arith::BitcastOp>(l, i32, v[0]);
        mlir::Value lsb = nb.create<mlir::arith::AndIOp>(
            l, nb.create<mlir::arith::ShRUIOp>(l, bits, c(16)), c(1));
        mlir::Value up = nb.create<mlir::arith::AddIOp>(
            l, bits, nb.create<mlir::arith::AddIOp>(l, lsb, c(0x7fff)));
        mlir::Value r = nb.create<mlir::arith::BitcastOp>(
            l, nb.getF32Type(),
            nb.create<mlir::arith::AndIOp>(l, up, c(0xffff0000u)));
        mlir::Value nan = nb.create<mlir::arith::CmpFOp>(
            l, mlir::arith::CmpFPredicate::UNO, v[0], v[0]);
        return nb.create<mlir::arith::SelectOp>(l, nan, v[0], r);
      });
}

/// The linalg contraction OpTy (matmul, matmul_transpose_a/b) of `lhs` and
/// `rhs` into `init`; with `bf16` its operands rounded to bf16 and the op
/// marked nn.bf16_operands (bf16Contraction).
template <typename OpTy>
mlir::Value gemm(mlir::OpBuilder &b, mlir::Location loc, mlir::Value lhs,
                 mlir::Value rhs, mlir::Value init, bool bf16) {
  auto op = b.create<OpTy>(loc, mlir::TypeRange{init.getType()},
                           mlir::ValueRange{roundedToBf16(b, loc, lhs, bf16),
                                            roundedToBf16(b, loc, rhs, bf16)},
                           mlir::ValueRange{init});
  return bf16Contraction(op, bf16);
}

/// sigmoid: 1 / (1 + exp(-x)).
inline mlir::Value sigmoid(mlir::OpBuilder &b, mlir::Location l,
                           mlir::Value x) {
  mlir::Value e =
      b.create<mlir::math::ExpOp>(l, b.create<mlir::arith::NegFOp>(l, x));
  mlir::Value d = b.create<mlir::arith::AddFOp>(l, f32(b, l, 1.0), e);
  return b.create<mlir::arith::DivFOp>(l, f32(b, l, 1.0), d);
}

/// Reads the element of a 0-d tensor.
inline mlir::Value extractScalar(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value tensor) {
  return b.create<mlir::tensor::ExtractOp>(loc, tensor, mlir::ValueRange{});
}

/// Wraps a scalar into a 0-d tensor.
inline mlir::Value scalarTensor(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value scalar) {
  auto type = mlir::RankedTensorType::get({}, scalar.getType());
  return b.create<mlir::tensor::FromElementsOp>(loc, type, scalar);
}

/// The sum of a 1-d f32 tensor as a scalar, via linalg.reduce into a 0-d
/// zero-filled init.
inline mlir::Value sumAll1D(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value v) {
  auto scalarType = mlir::RankedTensorType::get({}, b.getF32Type());
  mlir::Value init = filled(b, loc, scalarType, 0.0);
  auto reduce = b.create<mlir::linalg::ReduceOp>(
      loc, mlir::ValueRange{v}, mlir::ValueRange{init},
      llvm::ArrayRef<int64_t>{0},
      [](mlir::OpBuilder &nb, mlir::Location nl, mlir::ValueRange args) {
        mlir::Value s = nb.create<mlir::arith::AddFOp>(nl, args[0], args[1]);
        nb.create<mlir::linalg::YieldOp>(nl, s);
      });
  return extractScalar(b, loc, reduce.getResult(0));
}

/// `count` with 0 replaced by 1: a batch without real rows divides by one
/// (its masked sums are zero), never by zero.
inline mlir::Value guardedCount(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value count) {
  mlir::Value zero = f32(b, loc, 0.0), one = f32(b, loc, 1.0);
  mlir::Value isZero = b.create<mlir::arith::CmpFOp>(
      loc, mlir::arith::CmpFPredicate::OEQ, count, zero);
  return b.create<mlir::arith::SelectOp>(loc, isZero, one, count);
}

/// `m * v`, but exactly 0 where the mask is 0, so that whatever a padding row
/// holds (even inf or NaN) cannot leak into a sum.
inline mlir::Value masked(mlir::OpBuilder &b, mlir::Location loc, mlir::Value m,
                          mlir::Value v) {
  mlir::Value zero = f32(b, loc, 0.0);
  mlir::Value isPad = b.create<mlir::arith::CmpFOp>(
      loc, mlir::arith::CmpFPredicate::OEQ, m, zero);
  mlir::Value mv = b.create<mlir::arith::MulFOp>(loc, m, v);
  return b.create<mlir::arith::SelectOp>(loc, isPad, zero, mv);
}

/// relu: max(x, 0) (NaN propagates, as in torch); the body of an
/// elementwise op (v: the input element).
inline mlir::Value reluElement(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::ValueRange v) {
  return b.create<mlir::arith::MaximumFOp>(loc, v[0], f32(b, loc, 0.0));
}

} // namespace lowering
} // namespace nnc

#endif // NNC_PASSES_CONVERSION_NNTOLINALG_UTILS_H
