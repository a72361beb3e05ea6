//===- NNAttrs.td - Attributes of the nn dialect -------------*- tablegen -*-===//
//
// The optimizer and learning-rate schedule of a training run, as MLIRGen
// records them on the module (`nn.optimizer`) and nn-build-train-step reads
// them back. Parameters equal to their default (torch.optim's) are elided
// when printed.
//
//===----------------------------------------------------------------------===//
#ifndef NN_ATTRS
#define NN_ATTRS

include "ir/NNBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def NN_OptimizerKind : I32EnumAttr<"OptimizerKind", "optimizer", [
    I32EnumAttrCase<"SGD", 0, "sgd">,
    I32EnumAttrCase<"Adam", 1, "adam">,
    I32EnumAttrCase<"AdamW", 2, "adamw">,
    I32EnumAttrCase<"RMSprop", 3, "rmsprop">]> {
  let cppNamespace = "::nnc::nn";
  let genSpecializedAttr = 0;
}

def NN_ScheduleKind : I32EnumAttr<"ScheduleKind", "learning-rate schedule", [
    I32EnumAttrCase<"Constant", 0, "constant">,
    I32EnumAttrCase<"Step", 1, "step">,
    I32EnumAttrCase<"Exponential", 2, "exponential">,
    I32EnumAttrCase<"Cosine", 3, "cosine">,
    I32EnumAttrCase<"Linear", 4, "linear">]> {
  let cppNamespace = "::nnc::nn";
  let genSpecializedAttr = 0;
}

// An f64 printed as the shortest decimal that parses back to the same bits
// (0.99, not 9.899999e-01).
class NN_F64Parameter<string desc> : APFloatParameter<desc> {
  let parser = "::nnc::nn::parseF64($_parser)";
  let printer = "::nnc::nn::printF64($_printer, $_self)";
}
class NN_DefaultF64Parameter<string value, string desc>
    : NN_F64Parameter<desc> {
  let defaultValue = "::llvm::APFloat(" # value # ")";
}

// `true` or `false`.
class NN_FlagParameter<string desc> : AttrParameter<"bool", desc> {
  let parser = "::nnc::nn::parseFlag($_parser)";
  let printer = "$_printer << ($_self ? \"true\" : \"false\")";
  let defaultValue = "false";
}

class NN_Attr<string name, string attrMnemonic>
    : AttrDef<NN_Dialect, name> {
  let mnemonic = attrMnemonic;
  let assemblyFormat = "`<` struct(params) `>`";
}

def NN_ScheduleAttr : NN_Attr<"Schedule", "schedule"> {
  let summary = "a learning-rate schedule (nn.lr_schedule states the formulas)";
  let description = [{
    Periods and warmup are in epochs: `every` (step, which needs it > 0),
    `gamma` (step, exponential), `warmup` (cosine, linear), `min_lr`
    (cosine), `end_lr` (linear). A schedule ignores the parameters of the
    other kinds.

    ```mlir
    #nn.schedule<kind = cosine, warmup = 1.0, min_lr = 1.0e-05>
    ```
  }];
  let parameters = (ins
    EnumParameter<NN_ScheduleKind>:$kind,
    NN_DefaultF64Parameter<"0.0", "warmup epochs">:$warmup,
    NN_DefaultF64Parameter<"0.0", "epochs between steps">:$every,
    NN_DefaultF64Parameter<"0.1", "decay factor">:$gamma,
    NN_DefaultF64Parameter<"0.0", "cosine's final learning rate">:$min_lr,
    NN_DefaultF64Parameter<"0.0", "linear's final learning rate">:$end_lr);
  let genVerifyDecl = 1;
}

def NN_OptimizerAttr : NN_Attr<"Optimizer", "optimizer"> {
  let summary = "a torch.optim optimizer, its schedule and gradient clipping";
  let description = [{
    The hyper-parameters of `kind`, named as torch.optim's (the others are
    ignored). `weight_decay` defaults to 0 for every kind: AdamW's default
    of 0.01 is the frontend's. `clip_grad_norm` > 0 clips the global gradient
    norm first (torch.nn.utils.clip_grad_norm_).

    ```mlir
    #nn.optimizer<kind = adamw, lr = 0.002, weight_decay = 0.01, schedule = <kind = constant>>
    ```
  }];
  let parameters = (ins
    EnumParameter<NN_OptimizerKind>:$kind,
    NN_F64Parameter<"base learning rate">:$lr,
    NN_DefaultF64Parameter<"0.0", "sgd, rmsprop">:$momentum,
    NN_DefaultF64Parameter<"0.0", "sgd">:$dampening,
    NN_DefaultF64Parameter<"0.0", "L2 penalty (AdamW: decoupled)">:$weight_decay,
    NN_FlagParameter<"sgd">:$nesterov,
    NN_DefaultF64Parameter<"0.9", "adam, adamw">:$beta1,
    NN_DefaultF64Parameter<"0.999", "adam, adamw">:$beta2,
    NN_DefaultF64Parameter<"1.0e-8", "adam, adamw, rmsprop">:$eps,
    NN_DefaultF64Parameter<"0.99", "rmsprop">:$alpha,
    NN_DefaultF64Parameter<"0.0", "max gradient norm; 0: off">:$clip_grad_norm,
    AttrParameter<"ScheduleAttr", "the learning-rate schedule">:$schedule);
}

#endif // NN_ATTRS
