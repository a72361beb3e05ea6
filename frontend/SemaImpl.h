//===- SemaImpl.h - Private interfaces of semantic analysis -------*- C++ -*-===//
//
// Shared by the Sema*.cpp files only: evaluated values, the signature tables
// that every callable (layer, loss, optimizer, schedule, source, data step,
// metric) is bound through, and the Sema class holding the analysis state.
//
//===----------------------------------------------------------------------===//
#ifndef NNC_FRONTEND_SEMAIMPL_H
#define NNC_FRONTEND_SEMAIMPL_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"
#include "frontend/Program.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace nnc {
namespace sema {

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

/// An evaluated argument or setting value. Arithmetic is folded, block
/// parameters substituted; calls and maps keep their expression.
struct Value {
  enum Kind { Invalid, Number, Bool, String, Ident, List, Call, Map };
  Kind kind = Invalid;
  double num = 0;
  bool isInt = false;
  std::string str; ///< string, identifier or callee
  std::vector<Value> list;
  SourceRange range;
  const ast::Expr *expr = nullptr;

  bool isNumber() const { return kind == Number; }
  bool isIntegral() const;
};

/// Block arguments in scope: name -> value.
using Env = std::map<std::string, Value>;

/// `1.5`, `"a"`, `same`, `[1, 2]`, `true`.
std::string formatValue(const Value &v);
/// A double as the user would write it: 64, 0.001, 1e-08.
std::string formatNumber(double x);
/// "a number", "a string", "an identifier", ...
const char *describe(Value::Kind kind);

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

/// Buffers are indexed with 64-bit offsets, but a tensor of more than 2^31
/// f32 elements (8 GiB) is beyond any model this machine trains; past it a
/// typo (`dense(2147483647)`) would only fail at link or run time.
constexpr int64_t kMaxTensorElements = int64_t(1) << 31;
constexpr const char kTensorLimit[] =
    "the limit is 2147483648 (2^31) elements per tensor";

enum class Category {
  Layer,
  Loss,
  Optimizer,
  Schedule,
  Source,
  Clean,
  Preprocess,
  Augment,
  Tokenize,
  Features,
  Metric,
  Adapter,
  Pruning,
};
/// "layer", "loss", "optimizer", ... for messages.
const char *toString(Category cat);

enum class ArgType {
  Int,          ///< integer
  Number,       ///< any number
  Bool,         ///< true / false
  String,       ///< "text"
  Enum,         ///< one identifier of `enums`
  IntOrEnum,    ///< `same`, `valid` or an integer
  NumberOrEnum, ///< `mean`, `median` or a number
  NumberOrList, ///< a number or a list of numbers (per channel)
  IntOrPair,    ///< `3` or `[3, 5]`
  IntList,      ///< `[3, 32, 32]`
  StringOrList, ///< `"y"` or `["a", "b"]`
  StringList,   ///< `["a", "b"]`
  NameList,     ///< `dense` or `[attention, "encoder"]`: names or strings
};

/// An allowed interval; the default allows everything.
struct Interval {
  bool active = false;
  double lo = 0, hi = 0;
  bool loOpen = false, hiOpen = false;
  bool contains(double x) const;
  std::string str() const; ///< "[0, 1)", "(0, inf)"
};

struct ParamSpec {
  std::string name;
  ArgType type = ArgType::Number;
  /// "!" required, "" optional without a value, else the default as the
  /// user would write it ("0.5", "true", "valid").
  std::string defaultText;
  std::vector<std::string> enums;
  Interval range;
  /// Subject of a range message ("dropout probability"); default
  /// "argument 'p' of 'dropout'".
  std::string what;
  /// Only by keyword (`l2 = k`, `init = ...` added to every layer).
  bool keywordOnly = false;
};

struct Signature {
  std::string name;
  Category category = Category::Layer;
  std::vector<ParamSpec> params;
  /// add / concat: any number of positional values (not bound here).
  bool variadic = false;
  /// Category::Layer: the layer kind it declares (Input for blocks).
  LayerKind layer = LayerKind::Input;
  const ParamSpec *find(const std::string &name) const;
};

/// The signature of `name` in `cat`, or null.
const Signature *findSignature(Category cat, const std::string &name);
/// Every name of a category, for did-you-mean.
std::vector<std::string> signatureNames(Category cat);

/// A call whose arguments were checked against its signature; absent
/// optional arguments are missing from `args`, defaults are filled in.
struct BoundCall {
  const Signature *sig = nullptr;
  SourceRange range, nameRange;
  std::map<std::string, Value> args;
  std::vector<Value> positional; ///< variadic calls: the positional values
  bool ok = true;

  bool has(const std::string &n) const { return args.count(n) != 0; }
  const Value &get(const std::string &n) const;
  double num(const std::string &n) const;
  int64_t integer(const std::string &n) const;
  bool flag(const std::string &n) const;
  std::string str(const std::string &n) const;
  SourceRange rangeOf(const std::string &n) const;
};

//===----------------------------------------------------------------------===//
// Analysis state
//===----------------------------------------------------------------------===//

/// What cross checks need to know about a dataset beyond Program::Dataset.
struct DatasetInfo {
  bool hasValidation = false;
  int64_t featureCount = -1; ///< csv with explicit features
  int64_t targetWidth = -1;  ///< -1: unknown
  bool oneHot = false;
  std::vector<int64_t> imageSize;
  /// The last random_crop's size and where it is written: the model's
  /// input is then size x size (0: no crop).
  int64_t cropSize = 0;
  SourceRange cropRange;
  /// corpus(...): the block size and the tokenizer's ids (0: not a corpus).
  int64_t block = 0, vocab = 0;
};

/// What cross checks need to know about a model.
struct ModelInfo {
  /// Every group and label, with their paths (for did-you-mean).
  std::vector<std::string> selectorNames;
};

class Sema {
public:
  Sema(const SourceManager &sm, DiagnosticEngine &diags)
      : sm(sm), diags(diags) {}

  std::unique_ptr<Program> run(const std::vector<const ast::Module *> &mods);
  /// `nnc --batch N`: the batch of every run (0: as the file says).
  int64_t batchOverride = 0;
  /// `nnc --distributed`: every run is built for data-parallel training.
  bool distributed = false;

  // Diagnostics. Identical errors (same place, same text) are reported
  // once: a block expanded many times would otherwise repeat them.
  void error(SourceRange r, const std::string &msg,
             const std::string &hint = "");
  void warning(SourceRange r, const std::string &msg,
               const std::string &hint = "");
  void note(SourceRange r, const std::string &msg);

  // Values (SemaValues.cpp).
  Value eval(const ast::Expr *e, const Env &env);
  /// Binds the arguments of `call` (a Call or an Ident) to `sig`.
  BoundCall bind(const Signature &sig, const ast::Expr &call, const Env &env);
  /// Checks / converts `v` against `spec`; reports and returns false.
  bool convertArg(const Signature &sig, const ParamSpec &spec, Value &v);
  /// Binds a setting value that names a callable of `cat`
  /// (`loss = mse`, `optimizer = adam(lr = 0.1)`); reports unknown names.
  bool bindSetting(Category cat, const ast::Expr *e, BoundCall &out);
  /// Integer conversion with "too large" checks.
  bool toInt(const Value &v, const std::string &what, int64_t &out);

  /// A block's parameters as a signature, with evaluated defaults; checked
  /// once per block (SemaModels.cpp).
  struct BlockSig {
    Signature sig;
    Env defaults;
  };
  const BlockSig &blockSignature(const ast::Decl &d);
  std::map<std::string, BlockSig> blockSigs;

  // Declarations (SemaDatasets.cpp, SemaModels.cpp, SemaTrain.cpp).
  void analyzeDataset(const ast::Decl &d);
  /// The `tokenize { }` section of dataset `ds` (SemaTokens.cpp); null when
  /// absent. Checks that text sources and tokenizers come together.
  void analyzeTokenize(const ast::Stmt *section, Dataset &ds);
  /// A run feeding dataset `ds` to model `m` (SemaTokens.cpp): token ids
  /// must meet an i32 input of their length, and no step may compute on
  /// token ids. `dataRange` is the run's `data = ...`.
  void checkTokenInput(const Model &m, const Dataset &ds,
                       SourceRange dataRange);
  /// Validation and test sources (not splits) are of `kind` exactly when
  /// the train source is: text and audio sources need their own sections.
  void checkSourceKinds(const Dataset &ds, SourceKind kind);
  /// A section only `kind` sources take (`tokenize`, `features`): reports
  /// it on a dataset of another kind, or its absence on one of that kind
  /// (with `hint`). Returns where the section is named; an invalid range
  /// when there is nothing more to check.
  SourceRange sourceSection(const ast::Stmt *section, const Dataset &ds,
                            SourceKind kind, const char *name,
                            const std::string &hint);
  /// The `features { }` section of dataset `ds` (SemaAudio.cpp); null when
  /// absent. Checks that audio sources and features come together, and
  /// that the augmentations fit the samples.
  void analyzeFeatures(const ast::Stmt *section, Dataset &ds);
  /// A run feeding audio dataset `ds` to model `m` (SemaAudio.cpp): the
  /// model's input must be the features' f32[frames, width].
  void checkAudioInput(const Model &m, const Dataset &ds,
                       SourceRange dataRange);
  void analyzeModel(const ast::Decl &d);
  void analyzeRun(const ast::Decl &d);
  /// `adapters = lora(...)` of a finetune run (SemaAdapters.cpp): points
  /// the run at an adapted copy of its model.
  void analyzeAdapters(TrainRun &run, const ast::Expr *e);
  /// `prune = magnitude(...)` of a train or finetune run (SemaPrune.cpp):
  /// points the run at a copy of its model with a mask per pruned weight.
  void analyzePrune(TrainRun &run, const ast::Expr *e);
  /// Located errors for the values of `m` at `batch` rows past the size
  /// limit (kMaxTensorElements).
  void checkSizes(const Model &m, int64_t batch, SourceRange batchRange,
                  const std::string &batchNote);

  /// Collects `key = value` settings of a declaration body, reporting
  /// unknown and repeated keys. Sections go to `sections` when allowed.
  std::map<std::string, const ast::Stmt *>
  collectSettings(const ast::Decl &d, const std::string &declDesc,
                  const std::vector<std::string> &keys,
                  const std::vector<std::string> &sectionNames,
                  std::map<std::string, const ast::Stmt *> *sections);

  const SourceManager &sm;
  DiagnosticEngine &diags;
  std::unique_ptr<Program> prog;

  std::map<std::string, const ast::Decl *> blocks;
  std::map<std::string, const ast::Decl *> modelDecls;
  std::map<std::string, const ast::Decl *> datasetDecls;
  std::map<std::string, int> modelIndex, datasetIndex;
  std::map<std::string, DatasetInfo> datasetInfo;
  std::map<std::string, ModelInfo> modelInfo;

private:
  std::set<std::tuple<unsigned, unsigned, unsigned, std::string>> reported;
};

/// Shape inference for one layer (SemaShapes.cpp): fills the node's
/// attributes, output type and FLOPs from the bound call and input types,
/// and appends its parameters (named by their suffix: "weight", "bias", ...).
/// Reports and returns false when the layer cannot take its input.
bool inferLayer(Sema &s, LayerKind kind, const BoundCall &bc,
                const std::vector<TensorType> &inputs, Node &node,
                std::vector<Parameter> &params);

/// Names of an ast::Expr kind for messages ("a number", "a list", ...).
const char *describe(const ast::Expr &e);

} // namespace sema
} // namespace nnc

#endif // NNC_FRONTEND_SEMAIMPL_H
