//===- NNBase.td - The nn dialect and its op base class ------*- tablegen -*-===//
#ifndef NN_BASE
#define NN_BASE

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::nnc::nn";
  let summary = "layers, losses, gradients and optimizer updates of nnc models";
  let description = [{
    The `nn` dialect is nnc's model-level IR. MLIRGen emits the forward pass
    and loss of a `.nn` model with these ops; the Autodiff pass adds the
    backward pass through each op's GradientOpInterface; the Optimizer pass
    adds the parameter update. Every value is a statically shaped tensor whose
    leading dimension is the batch. Layouts follow PyTorch: dense weights are
    `[out, in]`, activations NCHW.
  }];
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

// Types used by nn ops: float32 tensors with static shapes, int32 labels.
def NN_F32Tensor : StaticShapeTensorOf<[F32]>;
def NN_F32Scalar : 0DTensorOf<[F32]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getF32Type())";
}
def NN_I64Scalar : 0DTensorOf<[I64]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getI64Type())";
}
def NN_LabelTensor : StaticShapeTensorOf<[I32]>;

#endif // NN_BASE
