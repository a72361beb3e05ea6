//===- NNInterfaces.td - Interfaces of nn ops ----------------*- tablegen -*-===//
#ifndef NN_INTERFACES
#define NN_INTERFACES

include "mlir/IR/OpBase.td"

def NN_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::nnc::nn";
  let description = [{
    An op that knows its vector-Jacobian product. Given the gradients of its
    results (null for a result nobody differentiates), it builds the gradients
    of its operands with nn ops, appending one value per operand to
    `operandGrads` (null for an operand that has no gradient, such as integer
    labels or a loss mask). The Autodiff pass is a generic reverse walk over
    these rules.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Builds the operand gradients from the result gradients.",
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildGradient",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // NN_INTERFACES
