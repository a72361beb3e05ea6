//===- SemaModels.cpp - Block expansion into a flat layer graph -----------===//
//
// A model body is expanded into a DAG of layer nodes. The "running value"
// starts as the model input; a bare statement applies to it; `name = value`
// binds a named value and makes it the running value; `input` is the input
// of the enclosing block (or model); `group` and `repeat` share the scope of
// values of their enclosing body.
//
// Parameter naming (deterministic, printed by --emit graph and `info`):
//   full name = scope components joined by '.', then the parameter suffix
//   (weight, bias, running_mean, running_var, num_batches_tracked).
//   Scope components, outermost first:
//   - a group: its name (`group body { }` -> "body");
//   - a block instance: "<block>_<i>", i counting the unlabelled instances of
//     that block in the enclosing scope from 0 (always numbered);
//   - a layer: "<layer>" when it is the only unlabelled layer of its kind in
//     its scope, "<layer>_<i>" otherwise (i counting that kind in the scope
//     from 0 in order of appearance, repeat iterations included).
//   A label (`head: dense(10)`, `proj: residual(8)`) replaces the component.
//   Hence stem.conv_bn_relu_0.conv2d.weight, head.weight, dense_0.bias.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <climits>

namespace nnc {
namespace sema {

namespace {

/// A failed sub-expression: consumers propagate it silently, so that one
/// error does not cascade into many.
constexpr unsigned kPoison = UINT_MAX;
constexpr size_t kMaxNodes = 100000;
constexpr int64_t kMaxRepeat = 10000;

struct NamingScope {
  int parent = -1;
  std::string component;
  std::map<std::string, int> layerCount; ///< unlabelled layers per kind
  std::map<std::string, int> blockCount; ///< unlabelled instances per block
  std::map<std::string, int> groups;     ///< group name -> scope index
};

struct Binding {
  unsigned node = 0;
  SourceRange range;
  bool used = false;
};

struct Frame {
  std::map<std::string, Binding> values;
  unsigned input = 0;
  Env env;
  std::string inputAlias; ///< the model's parameter name
};

struct PendingName {
  int scope = 0;
  std::string kind;
  int index = 0;
  std::string label;
  std::vector<int> selectorScopes; ///< enclosing groups / labelled blocks
};

class ModelBuilder {
public:
  ModelBuilder(Sema &s, Model &m, ModelInfo &info)
      : s(s), m(m), info(info) {}

  void build(const ast::Decl &d);

private:
  unsigned body(const std::vector<ast::StmtPtr> &stmts, Frame &f, int scope,
                unsigned cur);
  unsigned stmt(const ast::Stmt &st, Frame &f, int scope, unsigned cur);
  unsigned pipeline(const ast::Expr &e, Frame &f, int scope, unsigned cur);
  unsigned stage(const ast::Expr &e, Frame &f, int scope, unsigned cur,
                 const std::string &label);
  unsigned variadic(LayerKind kind, const ast::Expr &e, Frame &f, int scope,
                    unsigned cur, const std::string &label);
  unsigned callBlock(const ast::Decl &b, const ast::Expr &e, Frame &f,
                     int scope, unsigned cur, const std::string &label);
  unsigned addNode(LayerKind kind, const BoundCall &bc,
                   std::vector<unsigned> inputs, int scope,
                   const std::string &label);
  /// A named value (or `input`, or the model's parameter name), marking it
  /// used; false when `name` is none.
  bool lookupValue(Frame &f, const std::string &name, unsigned &node);
  void checkUnused(Frame &f);
  void finishNames();
  std::string scopePath(int scope) const;
  std::vector<std::string> valueNames(const Frame &f) const;

  Sema &s;
  Model &m;
  ModelInfo &info;
  std::vector<NamingScope> scopes;
  std::vector<PendingName> pending; ///< parallel to m.nodes
  std::vector<int> selectorStack;
  std::vector<std::string> blockStack;
  bool tooBig = false;
};

bool ModelBuilder::lookupValue(Frame &f, const std::string &name,
                               unsigned &node) {
  auto it = f.values.find(name);
  if (it != f.values.end()) {
    it->second.used = true;
    node = it->second.node;
    return true;
  }
  if (name == "input" || (!f.inputAlias.empty() && name == f.inputAlias)) {
    node = f.input;
    return true;
  }
  return false;
}

std::vector<std::string> ModelBuilder::valueNames(const Frame &f) const {
  std::vector<std::string> names = {"input"};
  for (const auto &kv : f.values)
    names.push_back(kv.first);
  return names;
}

void ModelBuilder::checkUnused(Frame &f) {
  for (const auto &kv : f.values)
    if (!kv.second.used)
      s.warning(kv.second.range, "value '" + kv.first + "' is never used");
}

std::string ModelBuilder::scopePath(int scope) const {
  std::string path;
  for (int i = scope; i > 0; i = scopes[i].parent)
    path = scopes[i].component + (path.empty() ? "" : "." + path);
  return path;
}

unsigned ModelBuilder::addNode(LayerKind kind, const BoundCall &bc,
                               std::vector<unsigned> inputs, int scope,
                               const std::string &label) {
  for (unsigned in : inputs)
    if (in == kPoison)
      return kPoison;
  if (m.nodes.size() >= kMaxNodes) {
    if (!tooBig)
      s.error(bc.range, "model '" + m.name + "' expands to more than " +
                            std::to_string(kMaxNodes) + " layers");
    tooBig = true;
    return kPoison;
  }
  Node n;
  n.id = static_cast<unsigned>(m.nodes.size());
  n.kind = kind;
  n.inputs = inputs;
  n.range = bc.range;
  std::vector<TensorType> types;
  for (unsigned in : inputs)
    types.push_back(m.nodes[in].type);
  std::vector<Parameter> params;
  if (!inferLayer(s, kind, bc, types, n, params))
    return kPoison;
  for (auto &p : params) {
    p.node = n.id;
    n.params.push_back(static_cast<unsigned>(m.params.size()));
    m.params.push_back(std::move(p));
  }
  PendingName pn;
  pn.scope = scope;
  pn.kind = toString(kind);
  pn.label = label;
  if (label.empty())
    pn.index = scopes[scope].layerCount[pn.kind]++;
  pn.selectorScopes = selectorStack;
  m.nodes.push_back(std::move(n));
  pending.push_back(std::move(pn));
  return m.nodes.back().id;
}

unsigned ModelBuilder::variadic(LayerKind kind, const ast::Expr &e, Frame &f,
                                int scope, unsigned cur,
                                const std::string &label) {
  const char *name = toString(kind);
  std::vector<unsigned> inputs;
  bool ok = true;
  for (const auto &entry : e.entries) {
    s.error(entry.keyRange, "unknown argument '" + entry.key + "' for '" +
                                name + "'");
    ok = false;
  }
  for (const auto &arg : e.elements) {
    if (!arg)
      continue;
    unsigned node;
    if (arg->kind != ast::ExprKind::Ident) {
      s.error(arg->range, std::string("'") + name +
                              "' takes named values, got " + describe(*arg));
      ok = false;
    } else if (!lookupValue(f, arg->text, node)) {
      s.error(arg->range, "unknown value '" + arg->text + "'",
              didYouMean(arg->text, valueNames(f)));
      ok = false;
    } else {
      inputs.push_back(node);
    }
  }
  if (!ok)
    return kPoison;
  // add(v...) adds the running value and v; concat(a) joins the running
  // value and a; concat(a, b, ...) joins exactly its arguments.
  if (e.elements.empty()) {
    s.error(e.range, std::string("'") + name + "' needs at least one value",
            kind == LayerKind::Add ? "write add(skip) to add 'skip' to the "
                                     "running value"
                                   : "write concat(a, b)");
    return kPoison;
  }
  if (kind == LayerKind::Add || inputs.size() == 1)
    inputs.insert(inputs.begin(), cur);
  BoundCall bc;
  bc.range = e.range;
  bc.nameRange = e.nameRange;
  return addNode(kind, bc, inputs, scope, label);
}

unsigned ModelBuilder::stage(const ast::Expr &e, Frame &f, int scope,
                             unsigned cur, const std::string &label) {
  if (e.kind != ast::ExprKind::Ident && e.kind != ast::ExprKind::Call) {
    s.error(e.range, std::string("expected a layer or a block, got ") +
                         describe(e));
    return kPoison;
  }
  SourceRange nr = e.nameRange.isValid() ? e.nameRange : e.range;
  const std::string &name = e.text;
  if (const Signature *sig = findSignature(Category::Layer, name)) {
    if (sig->variadic)
      return variadic(sig->layer, e, f, scope, cur, label);
    BoundCall bc = s.bind(*sig, e, f.env);
    if (!bc.ok)
      return kPoison;
    return addNode(sig->layer, bc, {cur}, scope, label);
  }
  auto b = s.blocks.find(name);
  if (b != s.blocks.end())
    return callBlock(*b->second, e, f, scope, cur, label);
  unsigned dummy;
  if (e.kind == ast::ExprKind::Ident && lookupValue(f, name, dummy)) {
    s.error(nr, "'" + name + "' is a value, not a layer",
            "only the first stage of a pipeline can be a value");
    return kPoison;
  }
  std::vector<std::string> names = signatureNames(Category::Layer);
  for (const auto &kv : s.blocks)
    names.push_back(kv.first);
  s.error(nr, "unknown layer or block '" + name + "'",
          didYouMean(name, names));
  return kPoison;
}

unsigned ModelBuilder::pipeline(const ast::Expr &e, Frame &f, int scope,
                                unsigned cur) {
  if (e.elements.empty())
    return kPoison;
  unsigned v = cur;
  for (size_t i = 0; i < e.elements.size(); ++i) {
    const ast::Expr *st = e.elements[i].get();
    if (!st)
      return kPoison;
    if (i == 0 && st->kind == ast::ExprKind::Ident &&
        lookupValue(f, st->text, v))
      continue;
    v = stage(*st, f, scope, v, "");
    if (v == kPoison)
      return kPoison;
  }
  return v;
}

unsigned ModelBuilder::callBlock(const ast::Decl &b, const ast::Expr &e,
                                 Frame &f, int scope, unsigned cur,
                                 const std::string &label) {
  for (size_t i = 0; i < blockStack.size(); ++i)
    if (blockStack[i] == b.name) {
      std::string chain;
      for (size_t j = i; j < blockStack.size(); ++j)
        chain += blockStack[j] + " -> ";
      s.error(e.range, "block '" + b.name + "' expands itself",
              "expansion chain: " + chain + b.name);
      return kPoison;
    }
  const Sema::BlockSig &bs = s.blockSignature(b);
  BoundCall bc = s.bind(bs.sig, e, f.env);
  if (!bc.ok)
    return kPoison;
  Frame child;
  child.input = cur;
  child.env = bs.defaults;
  for (auto &kv : bc.args)
    child.env[kv.first] = kv.second;
  NamingScope ns;
  ns.parent = scope;
  ns.component = label.empty()
                     ? b.name + "_" +
                           std::to_string(scopes[scope].blockCount[b.name]++)
                     : label;
  scopes.push_back(ns);
  int inner = static_cast<int>(scopes.size() - 1);
  if (!label.empty()) {
    selectorStack.push_back(inner);
    m.selectors[scopePath(inner)];
  }
  blockStack.push_back(b.name);
  unsigned out = body(b.body, child, inner, cur);
  blockStack.pop_back();
  if (!label.empty())
    selectorStack.pop_back();
  checkUnused(child);
  return out;
}

unsigned ModelBuilder::stmt(const ast::Stmt &st, Frame &f, int scope,
                            unsigned cur) {
  switch (st.kind) {
  case ast::StmtKind::Expr: {
    if (!st.value)
      return kPoison;
    const ast::Expr &e = *st.value;
    if (e.kind == ast::ExprKind::Pipeline)
      return pipeline(e, f, scope, cur);
    unsigned v;
    if (e.kind == ast::ExprKind::Ident && lookupValue(f, e.text, v))
      return v;
    return stage(e, f, scope, cur, "");
  }
  case ast::StmtKind::Assign: {
    SourceRange nr = st.nameRange.isValid() ? st.nameRange : st.range;
    if (st.name == "input" || st.name == f.inputAlias) {
      s.error(nr, "cannot assign to '" + st.name + "'",
              "'" + st.name + "' is the input; choose another name");
      return cur;
    }
    if (findSignature(Category::Layer, st.name) || s.blocks.count(st.name)) {
      s.error(nr, "value '" + st.name + "' has the name of a layer or block");
      return cur;
    }
    if (!st.value)
      return kPoison;
    const ast::Expr &e = *st.value;
    unsigned v = kPoison;
    if (e.kind == ast::ExprKind::Pipeline)
      v = pipeline(e, f, scope, cur);
    else if (e.kind == ast::ExprKind::Ident && lookupValue(f, e.text, v))
      ;
    else if (e.kind == ast::ExprKind::Ident || e.kind == ast::ExprKind::Call)
      v = stage(e, f, scope, cur, "");
    else
      s.error(e.range, std::string("expected a value, a layer or a "
                                   "pipeline, got ") +
                           describe(e));
    auto prev = f.values.find(st.name);
    if (prev != f.values.end() && !prev->second.used)
      s.warning(prev->second.range,
                "value '" + st.name + "' is never used");
    Binding bnd;
    bnd.node = v;
    bnd.range = nr;
    f.values[st.name] = bnd;
    return v;
  }
  case ast::StmtKind::Label: {
    if (!st.value)
      return kPoison;
    const ast::Expr &e = *st.value;
    if (e.kind != ast::ExprKind::Ident && e.kind != ast::ExprKind::Call) {
      s.error(e.range, "a label must name a layer or a block call, got " +
                           std::string(describe(e)));
      return kPoison;
    }
    return stage(e, f, scope, cur, st.name);
  }
  case ast::StmtKind::Group: {
    auto &groups = scopes[scope].groups;
    auto it = groups.find(st.name);
    int inner;
    if (it != groups.end()) {
      inner = it->second;
    } else {
      NamingScope ns;
      ns.parent = scope;
      ns.component = st.name;
      scopes.push_back(ns);
      inner = static_cast<int>(scopes.size() - 1);
      scopes[scope].groups[st.name] = inner;
    }
    m.selectors[scopePath(inner)];
    selectorStack.push_back(inner);
    cur = body(st.body, f, inner, cur);
    selectorStack.pop_back();
    return cur;
  }
  case ast::StmtKind::Repeat: {
    Value count = s.eval(st.value.get(), f.env);
    int64_t n = 0;
    if (count.kind == Value::Invalid)
      return kPoison;
    if (!s.toInt(count, "repeat count", n))
      return kPoison;
    if (n < 1 || n > kMaxRepeat) {
      s.error(count.range, "repeat count must be between 1 and " +
                               std::to_string(kMaxRepeat) + ", got " +
                               std::to_string(n));
      return kPoison;
    }
    for (int64_t i = 0; i < n && !tooBig; ++i)
      cur = body(st.body, f, scope, cur);
    return cur;
  }
  case ast::StmtKind::Section:
    s.error(st.nameRange.isValid() ? st.nameRange : st.range,
            "unexpected section '" + st.name + "' in a model or block body",
            "sections belong in datasets");
    return cur;
  }
  return cur;
}

unsigned ModelBuilder::body(const std::vector<ast::StmtPtr> &stmts, Frame &f,
                            int scope, unsigned cur) {
  for (const auto &st : stmts) {
    if (!st)
      continue;
    cur = stmt(*st, f, scope, cur);
    if (tooBig)
      return kPoison;
  }
  return cur;
}

void ModelBuilder::finishNames() {
  std::map<std::string, unsigned> owners; // full param name -> node
  for (size_t i = 1; i < m.nodes.size(); ++i) {
    Node &n = m.nodes[i];
    const PendingName &pn = pending[i];
    std::string comp = pn.label;
    if (comp.empty())
      comp = scopes[pn.scope].layerCount[pn.kind] == 1
                 ? pn.kind
                 : pn.kind + "_" + std::to_string(pn.index);
    std::string path = scopePath(pn.scope);
    n.name = path.empty() ? comp : path + "." + comp;
    for (int sc : pn.selectorScopes)
      n.selectors.push_back(scopePath(sc));
    if (!pn.label.empty()) {
      n.selectors.push_back(n.name);
      m.selectors[n.name];
    }
    for (unsigned pi : n.params) {
      Parameter &p = m.params[pi];
      p.name = n.name + "." + p.name;
      auto prev = owners.find(p.name);
      if (prev != owners.end() && prev->second != n.id) {
        s.error(n.range, "parameter name '" + p.name +
                             "' is already used by another layer",
                "label one of the layers differently");
        s.note(m.nodes[prev->second].range, "the other layer is here");
      }
      owners[p.name] = n.id;
      for (const auto &sel : n.selectors)
        m.selectors[sel].push_back(pi);
      int64_t elems = p.type.numElements();
      if (elems < 0 || elems > kMaxTensorElements)
        s.error(n.range, "parameter '" + p.name + "' " + toString(p.type) +
                             " is too large: " +
                             (elems < 0 ? std::string("its size overflows")
                                        : std::to_string(elems) + " elements") +
                             "; " + kTensorLimit);
      if (p.trainable) {
        int64_t e = p.type.numElements();
        if (e < 0 || __builtin_add_overflow(m.numParams, e, &m.numParams))
          s.error(n.range, "model '" + m.name + "' has too many parameters");
      } else {
        m.numBufferElems += p.type.numElements();
      }
    }
    if (__builtin_add_overflow(m.flops, n.flops, &m.flops))
      m.flops = INT64_MAX;
  }
  for (const auto &kv : m.selectors)
    info.selectorNames.push_back(kv.first);
}

/// `f32[1, 28, 28]` of a model's input or output.
bool parseTensorType(Sema &s, const ast::TypeRef &t, bool isInput,
                     TensorType &out) {
  SourceRange nr = t.nameRange.isValid() ? t.nameRange : t.range;
  if (t.name == "f32")
    out.elem = ElemType::F32;
  else if (t.name == "i32" && isInput)
    out.elem = ElemType::I32;
  else {
    s.error(nr, std::string("model ") + (isInput ? "input" : "output") +
                    " type must be " + (isInput ? "f32 or i32" : "f32") +
                    ", got '" + t.name + "'",
            didYouMean(t.name, {"f32", "i32"}));
    out.known = false;
    return false;
  }
  if (!t.hasDims || t.dims.empty()) {
    s.error(t.range, "expected a tensor type with dimensions, like " +
                         t.name + "[1, 28, 28]");
    out.known = false;
    return false;
  }
  bool ok = true;
  for (const auto &d : t.dims) {
    Value v = s.eval(d.get(), Env());
    int64_t n = 0;
    if (v.kind == Value::Invalid) {
      ok = false;
    } else if (!s.toInt(v, "a dimension", n)) {
      ok = false;
    } else if (n < 1) {
      s.error(v.range, "dimensions must be positive, got " +
                           std::to_string(n));
      ok = false;
    }
    out.dims.push_back(n);
  }
  if (ok && out.numElements() < 0) {
    s.error(t.range, "tensor type " + t.name + "[...] is too large");
    ok = false;
  } else if (ok && out.numElements() > kMaxTensorElements) {
    s.error(t.range, "tensor type " + toString(out) + " is too large: " +
                         std::to_string(out.numElements()) + " elements; " +
                         kTensorLimit);
    ok = false;
  }
  out.known = ok;
  return ok;
}

void ModelBuilder::build(const ast::Decl &d) {
  m.name = d.name;
  m.range = d.range;
  SourceRange nr = d.nameRange.isValid() ? d.nameRange : d.range;
  Node input;
  input.kind = LayerKind::Input;
  input.range = nr;
  input.type.known = false;
  if (d.params.size() != 1) {
    s.error(nr, "model '" + d.name + "' must have exactly one input, has " +
                    std::to_string(d.params.size()),
            "write model " + d.name + "(x: f32[...]) -> f32[...] { ... }");
  } else {
    m.inputName = d.params[0].name;
    input.range = d.params[0].range;
    parseTensorType(s, d.params[0].type, true, m.inputType);
    input.type = m.inputType;
  }
  if (!d.hasResult) {
    s.error(nr, "model '" + d.name + "' needs an output type",
            "write '-> f32[N]' after the input");
    m.outputType.known = false;
  } else {
    parseTensorType(s, d.result, false, m.outputType);
  }
  input.name = m.inputName;
  m.nodes.push_back(input);
  pending.emplace_back();
  scopes.emplace_back();
  Frame root;
  root.input = 0;
  root.inputAlias = m.inputName;
  // A broken input type still expands the body (unknown shapes propagate
  // silently) so that name errors in it are reported.
  unsigned out = body(d.body, root, 0, 0);
  checkUnused(root);
  finishNames();
  if (out == kPoison)
    return;
  m.output = out;
  const TensorType &got = m.nodes[out].type;
  if (got.known && m.outputType.known && got != m.outputType)
    s.error(d.hasResult ? d.result.range : nr,
            "model '" + d.name + "' produces " + toString(got) +
                " but declares " + toString(m.outputType));
}

} // namespace

const Sema::BlockSig &Sema::blockSignature(const ast::Decl &d) {
  auto it = blockSigs.find(d.name);
  if (it != blockSigs.end())
    return it->second;
  BlockSig &bs = blockSigs[d.name];
  bs.sig.name = d.name;
  bs.sig.category = Category::Layer;
  static const std::vector<std::pair<std::string, ArgType>> types = {
      {"int", ArgType::Int},
      {"float", ArgType::Number},
      {"bool", ArgType::Bool},
      {"string", ArgType::String}};
  std::set<std::string> seen;
  for (const auto &p : d.params) {
    ParamSpec spec;
    spec.name = p.name;
    spec.defaultText = p.defaultValue ? "" : "!";
    bool known = false;
    for (const auto &t : types)
      if (t.first == p.type.name) {
        spec.type = t.second;
        known = true;
      }
    SourceRange tr = p.type.nameRange.isValid() ? p.type.nameRange
                                                : p.type.range;
    if (!known) {
      std::vector<std::string> names = {"int", "float", "bool", "string"};
      error(tr, "unknown type '" + p.type.name + "' for parameter '" +
                    p.name + "' of block '" + d.name + "'",
            p.type.hasDims ? "block parameters are int, float, bool or string"
                           : didYouMean(p.type.name, names));
    }
    if (!seen.insert(p.name).second)
      error(p.nameRange.isValid() ? p.nameRange : p.range,
            "duplicate parameter '" + p.name + "' in block '" + d.name + "'");
    if (p.defaultValue && known) {
      Value v = eval(p.defaultValue.get(), Env());
      if (convertArg(bs.sig, spec, v))
        bs.defaults[p.name] = v;
    }
    bs.sig.params.push_back(spec);
  }
  return bs;
}

void Sema::analyzeModel(const ast::Decl &d) {
  for (const auto &kv : blocks)
    blockSignature(*kv.second);
  modelIndex[d.name] = static_cast<int>(prog->models.size());
  prog->models.emplace_back();
  ModelBuilder b(*this, prog->models.back(), modelInfo[d.name]);
  b.build(d);
}

} // namespace sema
} // namespace nnc
