//===- Program.h - The analysed, fully expanded .nn program -------*- C++ -*-===//
//
// What semantic analysis hands to MLIRGen and to the runtime: every model as a
// flat DAG of layer nodes in topological order with per-sample shapes and
// PyTorch-named parameters, every dataset with its sources and data steps, and
// every training run with its loss, optimizer and schedule resolved (all
// defaults filled in). Plain structs; no AST pointers, only SourceRanges so
// that later stages can still point at the user's line.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_PROGRAM_H
#define NNC_FRONTEND_PROGRAM_H

#include "frontend/Source.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nnc {
namespace sema {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

enum class ElemType { F32, I32, I64 };

/// A per-sample tensor type (the batch dimension is implicit), NCHW for
/// images. `known` is false when an earlier error left the shape unknown.
struct TensorType {
  ElemType elem = ElemType::F32;
  std::vector<int64_t> dims;
  bool known = true;

  int64_t numElements() const; ///< 1 for a scalar; -1 when unknown.
  bool operator==(const TensorType &o) const {
    return elem == o.elem && dims == o.dims && known == o.known;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
};

/// `f32[1, 28, 28]`, `i64[]`, `?` when unknown.
std::string toString(const TensorType &type);
const char *toString(ElemType elem);

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

enum class LayerKind {
  Input, ///< the model's input: node 0, not a layer
#define LAYER(Kind, spelling, traits, params) Kind,
#include "frontend/Layers.def"
};
/// The .nn spelling: "dense", "conv2d", "global_avgpool", ...
const char *toString(LayerKind kind);

/// Traits of a layer kind (the third column of Layers.def), as bits.
namespace layer_trait {
enum : unsigned {
  None = 0,
  Variadic = 1u << 0, ///< takes named values (add, concat)
  Weighted = 1u << 1, ///< has a weight: takes `init = ...`
  IntInput = 1u << 2, ///< accepts i32 inputs
};
} // namespace layer_trait
unsigned layerTraits(LayerKind kind);
inline bool hasTrait(LayerKind kind, unsigned trait) {
  return (layerTraits(kind) & trait) != 0;
}

/// Weight initializers (`init = ...`), as torch.nn.init names them; Default
/// is PyTorch's: Kaiming-uniform with a = sqrt(5) for weights,
/// uniform(+-1/sqrt(fan_in)) for biases.
#define NNC_INIT_KINDS(X)                                                      \
  X(Default, "default")                                                        \
  X(KaimingUniform, "kaiming_uniform")                                         \
  X(KaimingNormal, "kaiming_normal")                                           \
  X(XavierUniform, "xavier_uniform")                                           \
  X(XavierNormal, "xavier_normal")                                             \
  X(Zeros, "zeros")                                                            \
  X(Ones, "ones")                                                              \
  X(Normal, "normal")                                                          \
  X(Uniform, "uniform")
enum class InitKind {
#define NNC_INIT_ENUM(Kind, spelling) Kind,
  NNC_INIT_KINDS(NNC_INIT_ENUM)
#undef NNC_INIT_ENUM
};
const char *toString(InitKind kind);
/// Every spelling, in enum order.
const std::vector<std::string> &initKindNames();

/// Resolved attributes of a layer; only the fields of the node's kind are
/// meaningful (the others keep their defaults).
struct LayerAttrs {
  int64_t units = 0;               ///< dense: output features; embedding: size
  int64_t count = 0;               ///< embedding: number of embeddings
  int64_t filters = 0;             ///< conv2d: output channels
  int64_t kernel[2] = {0, 0};      ///< conv2d / pools: kh, kw
  int64_t stride[2] = {1, 1};      ///< conv2d / pools
  int64_t padding[2] = {0, 0};     ///< conv2d / pools: symmetric pad h, w
  bool samePadding = false;        ///< written as `padding = same`
  bool bias = true;                ///< dense / conv2d
  InitKind init = InitKind::Default;
  double alpha = 0.01;             ///< leaky_relu slope
  double p = 0.5;                  ///< dropout probability
  double momentum = 0.1;           ///< batchnorm
  double eps = 1e-5;               ///< batchnorm / layernorm
  double l2 = 0;                   ///< L2 penalty on the layer's weights
  std::vector<int64_t> shape;      ///< reshape target, -1 resolved
  int64_t axis = 0;                ///< concat axis (0 = channels)
  // rnn / lstm / gru (`units` is the state size, `p` the dropout between
  // layers)
  bool reluActivation = false;     ///< rnn(activation = relu)
  bool bidirectional = false;
  int64_t layers = 1;
  bool sequences = false;          ///< every step's state, not the last
  // attention (`p` is the dropout on the attention weights)
  int64_t heads = 1;
  bool causal = false;
};

/// The distribution a parameter's initial values are drawn from, resolved by
/// semantic analysis (torch.nn.init's formulas) so that the runtime only
/// draws: constant(value), uniform(lo, hi) or normal(mean, std).
struct InitDist {
  enum Kind { Constant, Uniform, Normal } kind = Constant;
  double value = 0;         ///< Constant
  double lo = 0, hi = 0;    ///< Uniform
  double mean = 0, std = 0; ///< Normal
};

/// One parameter or buffer of a model, PyTorch layout.
struct Parameter {
  std::string name;   ///< full name, e.g. "stem.conv_bn_relu_0.conv2d.weight"
  TensorType type;
  bool trainable = true; ///< false for batchnorm running stats / counters
  InitKind init = InitKind::Default;
  unsigned node = 0;     ///< the node owning it
  int64_t fanIn = 0;     ///< for PyTorch's default initialization
  InitDist dist;         ///< resolved from `init` and the layer
  SourceRange range;
};

struct Node {
  unsigned id = 0;
  LayerKind kind = LayerKind::Input;
  /// Scope path of the layer, e.g. "stem.conv_bn_relu_0.conv2d", "head".
  std::string name;
  LayerAttrs attrs;
  std::vector<unsigned> inputs; ///< node ids, all smaller than `id`
  TensorType type;              ///< per-sample output type
  std::vector<unsigned> params; ///< indices into Model::params
  /// LoRA (`adapters = lora(...)`): per adapted weight (dense: its weight;
  /// attention: in_proj_weight, out_proj.weight), indices into
  /// Model::params of the weight, lora_A and lora_B; and alpha / rank.
  struct Adapter {
    unsigned weight, a, b;
  };
  std::vector<Adapter> lora;
  double loraScale = 0;
  /// Groups (as paths: "body", "body.sub") and labels (paths of labelled
  /// layers or block instances) enclosing this node, outermost first.
  std::vector<std::string> selectors;
  int64_t flops = 0; ///< forward FLOPs per sample (2 per multiply-add)
  SourceRange range;
};

struct Model {
  std::string name;
  std::string inputName; ///< the model's parameter name (`image`)
  TensorType inputType;
  TensorType outputType; ///< as declared
  /// Topological order; nodes[0] is the Input node.
  std::vector<Node> nodes;
  unsigned output = 0; ///< the node producing the model's result
  std::vector<Parameter> params;
  /// Group / label path -> parameter indices; what freeze and lr_scale
  /// resolve against. Holds groups and labels by full path.
  std::map<std::string, std::vector<unsigned>> selectors;
  int64_t numParams = 0;       ///< trainable elements
  int64_t numBufferElems = 0;  ///< non-trainable elements
  int64_t flops = 0;
  SourceRange range;
};

//===----------------------------------------------------------------------===//
// Datasets
//===----------------------------------------------------------------------===//

enum class SourceKind { None, Csv, Idx, Images, Text, Audio, Corpus, Split };
const char *toString(SourceKind kind);

struct DataSource {
  SourceKind kind = SourceKind::None;
  // csv
  std::string path;
  std::vector<std::string> features; ///< empty: all columns but the targets
  std::vector<std::string> targets;  ///< default {"y"}
  bool header = true;
  std::string delimiter = ",";
  // idx
  std::string imagesPath, labelsPath;
  // images
  std::string dir;
  std::vector<int64_t> size; ///< [C, H, W], empty if not given
  // text: `path` is a folder of class folders, or a .csv file whose
  // `textColumn` holds the samples and targets[0] the class names
  std::string textColumn;
  // audio: `path` is a folder of class folders; clips of `seconds` at `rate`
  int64_t rate = 0;
  double seconds = 0;
  // corpus: `path` is a text file or a folder of them, one token stream cut
  // into windows of `block` tokens whose targets are the next tokens
  int64_t block = 0;
  // split: `fraction` of the `of` source ("train")
  std::string of;
  double fraction = 0;
  int64_t seed = 0;
  SourceRange range;
};

enum class DataOpKind {
  // clean
  DropMissing,
  DropDuplicates,
  Clip,
  FillMissing,
  // preprocess
  Scale,
  Normalize,
  Standardize,
  MinMax,
  OneHot,
  // augment
  RandomCrop,
  Flip,
  Rotate,
  Noise,
  TimeShift,
};
const char *toString(DataOpKind kind);

enum class FillMode { Mean, Median, Value };

struct DataOp {
  DataOpKind kind = DataOpKind::DropMissing;
  double lo = 0, hi = 0;                ///< clip
  FillMode fill = FillMode::Mean;       ///< fill_missing
  double value = 0;                     ///< fill_missing value; scale factor
  std::vector<double> mean, std;        ///< normalize: 1 value or per channel
  int64_t classes = 0;                  ///< one_hot (0: from the data)
  int64_t size = 0, padding = 0;        ///< random_crop
  bool horizontal = true;               ///< flip
  double p = 0.5;                       ///< flip
  double degrees = 0;                   ///< rotate
  double stddev = 0;                    ///< noise
  double fraction = 0;                  ///< time_shift
  SourceRange range;
};

/// The tokenizer of a `tokenize { }` section (SPEC 2.7).
enum class TokenizerKind { None, Bytes, Words, Bpe };
const char *toString(TokenizerKind kind);

/// `tokenize { words(vocab = N, lowercase = true); pad(T) }`: text samples
/// become T token ids, the model's i32[T] input. Ids: 0 padding; bytes:
/// byte + 1; words: 1 unknown, 2.. by frequency in the training split;
/// bpe: 1 unknown, 2.. SentencePiece BPE pieces trained on the training split.
struct Tokenize {
  TokenizerKind kind = TokenizerKind::None;
  int64_t vocab = 0;     ///< ids are < vocab (bytes: 257)
  bool lowercase = true; ///< words
  int64_t length = 0;    ///< pad(T)
  SourceRange range;     ///< the tokenizer's call
  SourceRange padRange;  ///< pad(T)
};

/// `features { mfcc(...) | log_mel(...) }` of an audio(...) dataset (SPEC
/// 2.8): each clip becomes f32[frames, width] (docs/language.md, runtime
/// AudioFeatures.h for the formulas).
enum class FeatureKind { None, Mfcc, LogMel };
const char *toString(FeatureKind kind);

struct Features {
  FeatureKind kind = FeatureKind::None;
  int64_t coefficients = 0; ///< mfcc
  int64_t mels = 0;
  double window = 0, hop = 0; ///< seconds
  /// Derived from the audio source: samples per clip, window and hop in
  /// samples, and the per-clip shape [frames, width].
  int64_t frames = 0, width = 0;
  SourceRange range; ///< the features call
};

struct Dataset {
  std::string name;
  DataSource train, validation, test; ///< kind None when absent
  std::vector<DataOp> clean, preprocess, augment;
  Tokenize tokenize;
  Features features;
  int64_t batch = 32;
  bool shuffle = false;
  bool dropLast = false;
  /// Shuffling and augmentation of this dataset's batches; -1 (not set): the
  /// run's seed. `--seed` overrides both.
  int64_t seed = -1;
  SourceRange range;
};

//===----------------------------------------------------------------------===//
// Training runs
//===----------------------------------------------------------------------===//

enum class LossKind { Mse, Mae, Huber, CrossEntropy, BinaryCrossEntropy };
const char *toString(LossKind kind);

struct Loss {
  LossKind kind = LossKind::Mse;
  double delta = 1.0;          ///< huber
  double labelSmoothing = 0.0; ///< cross_entropy
  SourceRange range;
};

enum class OptimizerKind { Sgd, Adam, AdamW, RmsProp };
const char *toString(OptimizerKind kind);

/// torch.optim semantics and defaults.
struct Optimizer {
  OptimizerKind kind = OptimizerKind::Sgd;
  double lr = 0.001;
  double momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double alpha = 0.99; ///< rmsprop
  SourceRange range;
};

enum class ScheduleKind { Constant, Step, Exponential, Cosine, Linear };
const char *toString(ScheduleKind kind);

/// Periods and warmup in epochs; applied per optimizer step by the runtime.
struct Schedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double every = 0;  ///< step
  double gamma = 0.1;
  double warmup = 0; ///< cosine, linear
  double minLr = 0;  ///< cosine
  double endLr = 0;  ///< linear
  SourceRange range;
};

enum class MetricKind {
  Accuracy,
  Precision,
  Recall,
  F1,
  Mse,
  Mae,
  R2,
  Perplexity,
  Confusion
};
const char *toString(MetricKind kind);

struct EarlyStopping {
  bool enabled = false;
  std::string monitor = "val_loss";
  int64_t patience = 0;
  double minDelta = 0;
  bool maximize = false; ///< mode = max
  SourceRange range;
};

struct Rename {
  std::string from, to;
  bool prefix = false; ///< `"features.": "stem."` or `"features.*": "stem.*"`
  SourceRange range;
};

struct FreezeSpec {
  std::vector<std::string> names;      ///< groups / labels as written
  std::vector<std::string> paramNames; ///< the parameters they cover
  int64_t until = 0; ///< frozen for epochs 1..until; 0: for the whole run
  SourceRange range;
};

/// `adapters = lora(rank, alpha, on = [...])` (SPEC 2.10, PEFT's LoRA):
/// each dense weight W [out, in] of the layers named by `on` (layer kinds,
/// labels or groups) gains lora_A [rank, in] and lora_B [out, rank]; only
/// those train.
struct LoraSpec {
  bool enabled = false;
  int64_t rank = 8;
  double alpha = 8;
  std::vector<std::string> on;
  SourceRange range;
};

/// `prune = magnitude(sparsity, start, end)` (SPEC 2.12): gradual magnitude
/// pruning (Zhu & Gupta) of every dense, conv and attention weight at the
/// end of epochs start..end to `sparsity`; each pruned weight has a mask
/// buffer `<weight>_mask` (torch.nn.utils.prune's name).
struct PruneSpec {
  bool enabled = false;
  double sparsity = 0;
  int64_t start = 1, end = 1;
  /// Model::params indices of each pruned weight and its mask.
  std::vector<std::pair<unsigned, unsigned>> masks;
  SourceRange range;
};

struct LrScale {
  std::string name;
  double factor = 1;
  std::vector<std::string> paramNames;
  SourceRange range;
};

struct TrainRun {
  std::string name;
  bool finetune = false;
  int model = -1;   ///< index into Program::models
  int dataset = -1; ///< index into Program::datasets
  Loss loss;
  Optimizer optimizer;
  Schedule schedule;
  int64_t epochs = 1;
  /// A run in optimizer steps (`steps = N`, evaluated every `eval_every`
  /// steps, by default N / 10 rounded up) instead of epochs; 0: epochs.
  int64_t steps = 0;
  int64_t evalEvery = 0;
  /// `accumulate = k`: the gradients of k batches make one optimizer step
  /// (1: every batch is a step).
  int64_t accumulate = 1;
  /// `nnc --distributed`: the program trains data-parallel under mpirun
  /// (it has nnc_grad and nnc_update, as with accumulate > 1).
  bool distributed = false;
  /// `sync_batchnorm = true`: batchnorm's training statistics are every
  /// data-parallel rank's batch together (nn.batchnorm's `sync`).
  bool syncBatchnorm = false;
  std::vector<MetricKind> metrics;
  std::string checkpoint; ///< directory; empty: none
  EarlyStopping earlyStopping;
  double clipGradNorm = 0; ///< 0: off
  int64_t seed = 0;
  int64_t batch = 0;       ///< override of the dataset's batch; 0: none
  int dropLast = -1;       ///< override: -1 none, 0 false, 1 true
  // finetune
  std::string from;
  std::vector<Rename> renames;
  FreezeSpec freeze;
  std::map<std::string, int64_t> unfreeze; ///< group/label -> epoch
  std::vector<LrScale> lrScales;
  LoraSpec lora;
  PruneSpec prune;
  /// `precision = bf16` (SPEC 2.10): the operands of matrix products are
  /// rounded to bf16 and accumulate in f32; parameters, optimizer state,
  /// norms, softmax and losses stay f32.
  bool bf16 = false;
  /// With adapters, `model` is a copy of the declared model with the
  /// adapter parameters; `baseModel` the declared one (else -1). With
  /// pruning, `model` is a copy with the masks (baseModel stays -1).
  int baseModel = -1;
  SourceRange range;
};

struct Program {
  std::vector<Model> models;
  std::vector<Dataset> datasets;
  std::vector<TrainRun> runs;

  const Model *findModel(const std::string &name) const;
  const Dataset *findDataset(const std::string &name) const;
  const TrainRun *findRun(const std::string &name) const;
};

} // namespace sema
} // namespace nnc

#endif // NNC_FRONTEND_PROGRAM_H
