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
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  // Every `nn.*` attribute the passes put on operations of other dialects,
  // declared once: the dialect generates a typed helper for each
  // (`NNDialect::LossAttrHelper`, whose `getNameStr()` is "nn.loss").
  let discardableAttrs = (ins
    // Module: the run's model and optimizer (MLIRGen); the state arena's
    // layout, name -> [offset, size], and size (nn-export-abi).
    "::mlir::StringAttr":$model,
    "::nnc::nn::OptimizerAttr":$optimizer,
    "::mlir::DictionaryAttr":$abi,
    "::mlir::IntegerAttr":$abi_state_size,
    // Function arguments: a parameter's or a buffer's name; a parameter
    // frozen in the function's phase, the last epoch it is frozen in (-1:
    // always), its learning-rate factor; the dropout seed.
    "::mlir::StringAttr":$param,
    "::mlir::StringAttr":$buffer,
    "::mlir::UnitAttr":$frozen,
    "::mlir::IntegerAttr":$trained_after,
    "::mlir::FloatAttr":$lr_scale,
    "::mlir::UnitAttr":$seed,
    // A pruned weight's argument: the name of its mask buffer (nn-build-
    // train-step multiplies the updated weight by it).
    "::mlir::StringAttr":$mask,
    // Functions: what each is (MLIRGen, nn-autodiff, nn-build-train-step,
    // nn-export-abi; `decode`: one position of a language model with its
    // attention layers' key/value caches; `merge`: the LoRA-adapted weights
    // with their adapters folded in, each result named by `param`;
    // `prune`: the masks and weights of magnitude pruning at an epoch's
    // end, each result named by `param` or `buffer`), the last epoch of a
    // fine-tuning
    // phase, the names of
    // the buffers a training loss returns, a step's optimizer states and the
    // parameters that have them.
    "::mlir::UnitAttr":$loss,
    "::mlir::UnitAttr":$eval_loss,
    "::mlir::UnitAttr":$predict,
    "::mlir::UnitAttr":$decode,
    "::mlir::UnitAttr":$merge,
    "::mlir::UnitAttr":$prune,
    // `fold`: batchnorm folded into the layer before it (nn-fold-batchnorm),
    // each result named by `param`.
    "::mlir::UnitAttr":$fold,
    // `observe` and `quantize` (nn-quantize): the activation ranges of the
    // quantized layers' inputs over a batch; their int8 weights and scales.
    "::mlir::UnitAttr":$observe,
    "::mlir::UnitAttr":$quantize,
    "::mlir::UnitAttr":$grad,
    "::mlir::UnitAttr":$train_step,
    "::mlir::UnitAttr":$entry,
    "::mlir::IntegerAttr":$phase_last_epoch,
    "::mlir::ArrayAttr":$buffer_results,
    "::mlir::ArrayAttr":$states,
    "::mlir::ArrayAttr":$state_params,
    // Code generation: a function's workspace (nn-plan-buffers), a parallel
    // launcher's body and chunk count (nn-outline-kernels), a tensor.empty's
    // identity (nn-unshare-empty-tensors), a reduction's initial value
    // (nn-tile-and-vectorize), an entry point made of layer calls
    // (nn-outline-layers; nn-outline-kernels segments it finer).
    "::mlir::IntegerAttr":$workspace_bytes,
    "::mlir::FlatSymbolRefAttr":$parallel_body,
    "::mlir::IntegerAttr":$parallel_chunks,
    "::mlir::IntegerAttr":$empty_id,
    "::mlir::FloatAttr":$accumulator_init,
    // A sum by lanes whose lane loop nn-tile-and-vectorize keeps whole (see
    // sumInnermostByLanes there).
    "::mlir::UnitAttr":$lane_blocks,
    "::mlir::UnitAttr":$layer_calls,
    // An int8 GEMM of nn-quantize (u8 activations, s8 weights packed 4 along
    // k, i32 accumulators) that nn-lower-int8-gemm lowers; a module's
    // quantization sizes: [range floats, qf32 floats, qi8 bytes].
    "::mlir::UnitAttr":$int8_gemm,
    "::mlir::DenseI64ArrayAttr":$quant_sizes,
    // nn-export-abi: the state slots an int8 nnc_infer's weights hold.
    "::mlir::DenseI64ArrayAttr":$infer_slots,
    // Modules: `precision = bf16` (convert-nn-to-linalg rounds the operands
    // of matrix products to bf16; they accumulate in f32); `accumulate =
    // k`: nn-build-train-step also builds `grad_step` (gradients added
    // into accumulators) and `update_step` (the update from them).
    "::mlir::UnitAttr":$bf16,
    // The contractions of a `precision = bf16` module whose operands
    // convert-nn-to-linalg rounded to bf16: --target cuda multiplies them
    // with bf16 tensor-core instructions (nn-gpu-gemm).
    "::mlir::UnitAttr":$bf16_operands,
    "::mlir::UnitAttr":$accumulate,
    "::mlir::UnitAttr":$grad_step,
    "::mlir::UnitAttr":$update_step
  );
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
