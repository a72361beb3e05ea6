//===- SemaShapes.cpp - Per-sample shape inference for every layer --------===//
//
// Shapes are per sample, NCHW (the batch dimension is implicit), f32.
// Parameter layouts are PyTorch's: dense weight [out, in], conv2d weight
// [out, in, kh, kw], batchnorm weight/bias/running_mean/running_var [C] and
// num_batches_tracked (an i64 scalar). All size arithmetic is checked: an
// absurd shape is reported as too large, never overflowed.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <algorithm>
#include <cmath>

namespace nnc {
namespace sema {

namespace {

/// torch.nn.init's formulas for a dense or conv2d parameter. A bias follows
/// `init` only for zeros and ones; otherwise it keeps PyTorch's default,
/// U(+-1/sqrt(fan_in)), as torch.nn.Linear / Conv2d's reset_parameters().
InitDist initDist(InitKind init, bool bias, const std::vector<int64_t> &dims,
                  int64_t fanInElems) {
  double fanIn = static_cast<double>(std::max<int64_t>(fanInElems, 1));
  // fan_out = out * receptive field, as torch.nn.init computes it.
  double fanOut = dims.empty() ? 1 : static_cast<double>(dims[0]);
  for (size_t d = 2; d < dims.size(); ++d)
    fanOut *= static_cast<double>(dims[d]);
  auto uniform = [](double lo, double hi) {
    return InitDist{InitDist::Uniform, 0, lo, hi, 0, 0};
  };
  auto normal = [](double mean, double std) {
    return InitDist{InitDist::Normal, 0, 0, 0, mean, std};
  };
  // Kaiming-uniform with a = sqrt(5): gain sqrt(1/3), bound
  // sqrt(3) * gain / sqrt(fan_in) = 1/sqrt(fan_in), the same as the bias's.
  double kaimingBound = 1.0 / std::sqrt(fanIn);
  if (bias && init != InitKind::Zeros && init != InitKind::Ones)
    return uniform(-kaimingBound, kaimingBound);
  switch (init) {
  case InitKind::Zeros:
    return InitDist{InitDist::Constant, 0.0};
  case InitKind::Ones:
    return InitDist{InitDist::Constant, 1.0};
  case InitKind::Default:
  case InitKind::KaimingUniform:
    return uniform(-kaimingBound, kaimingBound);
  case InitKind::KaimingNormal: // a = 0: gain sqrt(2)
    return normal(0, std::sqrt(2.0 / fanIn));
  case InitKind::XavierUniform:
    return uniform(-std::sqrt(6.0 / (fanIn + fanOut)),
                   std::sqrt(6.0 / (fanIn + fanOut)));
  case InitKind::XavierNormal:
    return normal(0, std::sqrt(2.0 / (fanIn + fanOut)));
  case InitKind::Normal: // torch.nn.init.normal_'s defaults
    return normal(0, 1);
  case InitKind::Uniform: // torch.nn.init.uniform_'s defaults
    return uniform(0, 1);
  }
  return uniform(-kaimingBound, kaimingBound); // not reached: -Wswitch
}

/// For a layer over time given one vector per sample.
const char *const kSequenceHint =
    "a sequence is [time, features]: 'embedding' makes one from token ids, "
    "and a recurrent layer before this one gives one with 'sequences = true'";

struct Ctx {
  Sema &s;
  LayerKind kind;
  const BoundCall &bc;
  Node &node;
  std::vector<Parameter> &params;
  const char *name() const { return toString(kind); }

  bool fail(const std::string &msg, const std::string &hint = "") {
    s.error(bc.range, msg, hint);
    return false;
  }
  bool tooLarge() {
    return fail(std::string("'") + name() +
                "' is too large: its sizes "
                "overflow 64-bit integers");
  }
  bool mul(int64_t a, int64_t b, int64_t &out) {
    return !__builtin_mul_overflow(a, b, &out);
  }
  void param(const std::string &suffix, std::vector<int64_t> dims,
             bool trainable = true, int64_t fanIn = 0,
             ElemType elem = ElemType::F32) {
    Parameter p;
    p.name = suffix;
    p.type.elem = elem;
    p.type.dims = std::move(dims);
    p.trainable = trainable;
    p.init = node.attrs.init;
    p.fanIn = fanIn;
    p.dist = initDist(p.init, suffix == "bias", p.type.dims, fanIn);
    p.range = bc.range;
    params.push_back(std::move(p));
  }
  /// A parameter or buffer that starts at `value` whatever `init` says:
  /// normalization layers (weight 1, bias 0, running_var 1, ...).
  void constParam(const std::string &suffix, std::vector<int64_t> dims,
                  double value, bool trainable = true,
                  ElemType elem = ElemType::F32) {
    param(suffix, std::move(dims), trainable, 0, elem);
    params.back().dist = InitDist{InitDist::Constant, value};
  }
  /// `3` -> {3, 3}; `[3, 5]` -> {3, 5}.
  void pair(const std::string &arg, int64_t out[2]) {
    const Value &v = bc.get(arg);
    if (v.kind == Value::List && v.list.size() == 2) {
      out[0] = static_cast<int64_t>(v.list[0].num);
      out[1] = static_cast<int64_t>(v.list[1].num);
    } else if (v.kind == Value::Number) {
      out[0] = out[1] = static_cast<int64_t>(v.num);
    }
  }
  std::string hw(int64_t h, int64_t w) {
    return std::to_string(h) + "x" + std::to_string(w);
  }
  bool needRank3(const TensorType &in) {
    if (in.dims.size() == 3)
      return true;
    return fail(
        std::string(name()) + " expects a [C, H, W] input, got " + toString(in),
        in.dims.size() == 1 ? "reshape the input to [C, H, W] first" : "");
  }

  /// conv2d / pools: out = floor((H + 2p - k) / s) + 1 (PyTorch, no
  /// dilation, floor mode). `same` requires stride 1 as torch.nn.Conv2d does
  /// and pads (k - 1) / 2 (an even kernel pads one more at the end, as
  /// PyTorch does; MLIRGen emits the asymmetric padding).
  bool window(const TensorType &in, int64_t oh_ow[2]) {
    LayerAttrs &a = node.attrs;
    const Value &pad = bc.get("padding");
    if (pad.kind == Value::Ident && pad.str == "same") {
      a.samePadding = true;
      if (a.stride[0] != 1 || a.stride[1] != 1)
        return fail(std::string("padding 'same' requires stride 1 in '") +
                        name() + "'",
                    "use an explicit padding with strides");
      a.padding[0] = (a.kernel[0] - 1) / 2;
      a.padding[1] = (a.kernel[1] - 1) / 2;
    } else if (pad.kind == Value::Number) {
      a.padding[0] = a.padding[1] = static_cast<int64_t>(pad.num);
    }
    bool pool = kind == LayerKind::MaxPool || kind == LayerKind::AvgPool;
    // torch.nn.MaxPool2d / AvgPool2d: "pad should be at most half of kernel".
    if (pool && !a.samePadding &&
        (a.padding[0] > a.kernel[0] / 2 || a.padding[1] > a.kernel[1] / 2))
      return fail(
          std::string(name()) + " padding " + std::to_string(a.padding[0]) +
          " is more than half the pool size " + hw(a.kernel[0], a.kernel[1]));
    for (int i = 0; i < 2; ++i) {
      int64_t size = in.dims[1 + i], padded;
      if (__builtin_mul_overflow(a.padding[i], 2, &padded) ||
          __builtin_add_overflow(padded, size, &padded))
        return tooLarge();
      if (a.samePadding) {
        oh_ow[i] = size;
        continue;
      }
      if (padded < a.kernel[i]) {
        if (pool)
          return fail(
              std::string(name()) + " window " + hw(a.kernel[0], a.kernel[1]) +
              " is larger than its padded input " +
              hw(in.dims[1] + 2 * a.padding[0], in.dims[2] + 2 * a.padding[1]));
        std::string k = a.kernel[0] == a.kernel[1]
                            ? std::to_string(a.kernel[0])
                            : hw(a.kernel[0], a.kernel[1]);
        return fail(std::string(name()) + " output would be empty: input " +
                        hw(in.dims[1], in.dims[2]) + ", kernel " + k +
                        (a.padding[0] || a.padding[1]
                             ? ", padding " + std::to_string(a.padding[0])
                             : ""),
                    "use padding = same or a smaller kernel");
      }
      oh_ow[i] = (padded - a.kernel[i]) / a.stride[i] + 1;
    }
    return true;
  }
};

} // namespace

bool inferLayer(Sema &s, LayerKind kind, const BoundCall &bc,
                const std::vector<TensorType> &inputs, Node &node,
                std::vector<Parameter> &params) {
  Ctx c{s, kind, bc, node, params};
  LayerAttrs &a = node.attrs;
  TensorType &out = node.type;
  out = TensorType();
  if (inputs.empty())
    return false;
  const TensorType &in = inputs[0];
  for (const TensorType &t : inputs)
    if (!t.known)
      return false;
  bool intInput = hasTrait(kind, layer_trait::IntInput);
  for (const TensorType &t : inputs)
    if (t.elem != ElemType::F32 && !(intInput && t.elem == ElemType::I32))
      return c.fail(std::string("'") + c.name() + "' cannot take an " +
                        toString(t.elem) + " input (" + toString(t) + ")",
                    t.elem == ElemType::I32
                        ? "token ids go through 'embedding(count, dim)' first"
                        : "");
  if (bc.has("l2"))
    a.l2 = bc.num("l2");
  if (bc.has("init")) {
    const std::vector<std::string> &inits = initKindNames();
    auto it = std::find(inits.begin(), inits.end(), bc.str("init"));
    if (it != inits.end())
      a.init = static_cast<InitKind>(it - inits.begin());
  }
  int64_t inElems = in.numElements();
  if (inElems < 0)
    return c.tooLarge();

  switch (kind) {
  case LayerKind::Input:
    return false;

  // y = x W^T + b (torch.nn.Linear).
  // On a sequence [T, F], applied to every step: [T, units].
  case LayerKind::Dense: {
    if (in.dims.empty() || in.dims.size() > 2)
      return c.fail("dense expects a [features] or [time, features] input, "
                    "got " +
                        toString(in),
                    in.dims.size() > 2 ? "insert 'flatten' before 'dense'"
                                       : "");
    a.units = bc.integer("units");
    a.bias = bc.flag("bias");
    int64_t features = in.dims.back();
    int64_t steps = in.dims.size() == 2 ? in.dims[0] : 1;
    int64_t w, f;
    if (!c.mul(a.units, features, w) || !c.mul(w, 2, f) || !c.mul(f, steps, f))
      return c.tooLarge();
    out.dims = in.dims;
    out.dims.back() = a.units;
    c.param("weight", {a.units, features}, true, features);
    if (a.bias)
      c.param("bias", {a.units}, true, features);
    node.flops = f;
    return true;
  }

  // torch.nn.Embedding: i32 ids [T] -> [T, dim], weight [count, dim] drawn
  // from N(0, 1) by default.
  case LayerKind::Embedding: {
    if (in.elem != ElemType::I32)
      return c.fail("embedding expects token ids (an i32 input), got " +
                        toString(in),
                    "declare the model input as i32[T], e.g. "
                    "`model m(tokens: i32[200])`");
    if (in.dims.size() != 1)
      return c.fail("embedding expects a sequence of ids [T], got " +
                    toString(in));
    a.count = bc.integer("count");
    a.units = bc.integer("dim");
    int64_t w;
    if (!c.mul(a.count, a.units, w) || !c.mul(in.dims[0], a.units, w))
      return c.tooLarge();
    out.dims = {in.dims[0], a.units};
    c.param("weight", {a.count, a.units}, true, a.units);
    if (a.init == InitKind::Default)
      params.back().dist = InitDist{InitDist::Normal, 0, 0, 0, 0, 1};
    node.flops = 0;
    return true;
  }

  // A learned position embedding (nanoGPT's wpe, SPEC 2.9): weight [T, dim]
  // added to the running [T, dim] value, one row per step, drawn from
  // N(0, 1) as torch.nn.Embedding's.
  case LayerKind::Positions: {
    if (in.dims.size() != 2)
      return c.fail("positions expects a sequence of vectors [T, dim], got " +
                        toString(in),
                    "put it after an embedding: `embedding(V, D); "
                    "positions(T)`");
    a.count = bc.integer("count");
    if (a.count != in.dims[0])
      return c.fail("positions(" + std::to_string(a.count) +
                        ") on a sequence of " + std::to_string(in.dims[0]) +
                        " steps: it needs one position per step",
                    "write positions(" + std::to_string(in.dims[0]) + ")");
    int64_t w;
    if (!c.mul(a.count, in.dims[1], w))
      return c.tooLarge();
    out.dims = in.dims;
    c.param("weight", {a.count, in.dims[1]}, true, in.dims[1]);
    if (a.init == InitKind::Default)
      params.back().dist = InitDist{InitDist::Normal, 0, 0, 0, 0, 1};
    node.flops = w;
    return true;
  }

  // torch.nn.MultiheadAttention(D, heads, batch_first = True) as
  // self-attention: [T, D] -> [T, D]. in_proj_weight [3D, D] (q, k, v rows)
  // xavier_uniform_, in_proj_bias [3D] and out_proj.bias [D] zeros,
  // out_proj.weight [D, D] as nn.Linear's (kaiming_uniform_, a = sqrt(5)).
  case LayerKind::Attention: {
    if (in.dims.size() != 2)
      return c.fail("attention expects a sequence [time, features], got " +
                        toString(in),
                    in.dims.size() == 1 ? kSequenceHint : "");
    a.heads = bc.integer("heads");
    a.causal = bc.flag("causal");
    a.p = bc.num("dropout");
    int64_t steps = in.dims[0], dim = in.dims[1];
    if (dim % a.heads != 0)
      return c.fail("attention(" + std::to_string(a.heads) +
                        ") on features of width " + std::to_string(dim) +
                        ": the heads must divide the width",
                    "each head gets width / heads features; pick heads "
                    "dividing " +
                        std::to_string(dim) + " or change the width");
    int64_t w3, flops, f;
    if (!c.mul(dim, 3, w3) || !c.mul(w3, dim, f) || !c.mul(f, steps, flops) ||
        !c.mul(dim, dim, f) || !c.mul(f, steps, f) ||
        __builtin_add_overflow(flops, f, &flops) || !c.mul(steps, steps, f) ||
        !c.mul(f, dim, f) || !c.mul(f, 2, f) ||
        __builtin_add_overflow(flops, f, &flops) || !c.mul(flops, 2, flops))
      return c.tooLarge();
    out = in;
    bool byDefault = a.init == InitKind::Default;
    c.param("in_proj_weight", {w3, dim}, true, dim);
    if (byDefault) // xavier_uniform_: fan_in D, fan_out 3D
      params.back().dist =
          initDist(InitKind::XavierUniform, false, {w3, dim}, dim);
    c.param("in_proj_bias", {w3}, true, dim);
    if (byDefault || a.init != InitKind::Ones)
      params.back().dist = InitDist{InitDist::Constant, 0.0};
    c.param("out_proj.weight", {dim, dim}, true, dim);
    c.param("out_proj.bias", {dim}, true, dim);
    if (byDefault || a.init != InitKind::Ones)
      params.back().dist = InitDist{InitDist::Constant, 0.0};
    node.flops = flops;
    return true;
  }

  // torch.nn.Conv2d, no dilation or groups.
  case LayerKind::Conv2d: {
    if (!c.needRank3(in))
      return false;
    a.filters = bc.integer("filters");
    a.bias = bc.flag("bias");
    c.pair("kernel", a.kernel);
    c.pair("stride", a.stride);
    int64_t o[2];
    if (!c.window(in, o))
      return false;
    out.dims = {a.filters, o[0], o[1]};
    int64_t fanIn, flops;
    if (!c.mul(in.dims[0], a.kernel[0], fanIn) ||
        !c.mul(fanIn, a.kernel[1], fanIn) || !c.mul(fanIn, a.filters, flops) ||
        !c.mul(flops, o[0], flops) || !c.mul(flops, o[1], flops) ||
        !c.mul(flops, 2, flops) || out.numElements() < 0)
      return c.tooLarge();
    c.param("weight", {a.filters, in.dims[0], a.kernel[0], a.kernel[1]}, true,
            fanIn);
    if (a.bias)
      c.param("bias", {a.filters}, true, fanIn);
    node.flops = flops;
    return true;
  }

  // torch.nn.Conv1d over the time axis of [T, F] (channels = F), no
  // dilation or groups: [T', filters], weight [filters, F, k]. Kept in
  // the [1, k] slots of the 2-d attributes (MLIRGen emits a conv2d).
  case LayerKind::Conv1d: {
    if (in.dims.size() != 2)
      return c.fail("conv1d expects a sequence [time, features], got " +
                        toString(in),
                    in.dims.size() == 1 ? kSequenceHint : "");
    a.filters = bc.integer("filters");
    a.bias = bc.flag("bias");
    int64_t k = bc.integer("kernel"), stride = bc.integer("stride");
    a.kernel[0] = a.stride[0] = 1;
    a.kernel[1] = k;
    a.stride[1] = stride;
    const Value &pad = bc.get("padding");
    int64_t steps = in.dims[0], o;
    if (pad.kind == Value::Ident && pad.str == "same") {
      if (stride != 1)
        return c.fail("padding 'same' requires stride 1 in 'conv1d'",
                      "use an explicit padding with strides");
      a.samePadding = true;
      a.padding[1] = (k - 1) / 2;
      o = steps;
    } else {
      a.padding[1] =
          pad.kind == Value::Number ? static_cast<int64_t>(pad.num) : 0;
      int64_t padded;
      if (!c.mul(a.padding[1], 2, padded) ||
          __builtin_add_overflow(padded, steps, &padded))
        return c.tooLarge();
      if (padded < k)
        return c.fail("conv1d output would be empty: " + std::to_string(steps) +
                          " steps, kernel " + std::to_string(k) +
                          (a.padding[1]
                               ? ", padding " + std::to_string(a.padding[1])
                               : ""),
                      "use padding = same or a smaller kernel");
      o = (padded - k) / stride + 1;
    }
    out.dims = {o, a.filters};
    int64_t fanIn, flops;
    if (!c.mul(in.dims[1], k, fanIn) || !c.mul(fanIn, a.filters, flops) ||
        !c.mul(flops, o, flops) || !c.mul(flops, 2, flops) ||
        out.numElements() < 0)
      return c.tooLarge();
    c.param("weight", {a.filters, in.dims[1], k}, true, fanIn);
    if (a.bias)
      c.param("bias", {a.filters}, true, fanIn);
    node.flops = flops;
    return true;
  }

  // torch.nn.RNN / LSTM / GRU (batch_first) over [T, F]: the state after
  // each sample's last real step [units x directions], or with `sequences`
  // every step's [T, units x directions]. Parameters in PyTorch's names and
  // order, all drawn from U(+-1/sqrt(units)) by default.
  case LayerKind::Rnn:
  case LayerKind::Lstm:
  case LayerKind::Gru: {
    if (in.dims.size() != 2)
      return c.fail(std::string(c.name()) +
                        " expects a sequence [time, features], got " +
                        toString(in),
                    in.dims.size() == 1 ? kSequenceHint : "");
    a.units = bc.integer("units");
    a.bidirectional = bc.flag("bidirectional");
    a.layers = bc.integer("layers");
    a.p = bc.num("dropout");
    a.sequences = bc.flag("sequences");
    if (kind == LayerKind::Rnn)
      a.reluActivation = bc.str("activation") == "relu";
    int64_t gates = kind == LayerKind::Lstm  ? 4
                    : kind == LayerKind::Gru ? 3
                                             : 1;
    int64_t dirs = a.bidirectional ? 2 : 1, width, gh, flops = 0;
    if (!c.mul(a.units, dirs, width) || !c.mul(a.units, gates, gh))
      return c.tooLarge();
    double bound = 1.0 / std::sqrt(static_cast<double>(a.units));
    int64_t features = in.dims[1];
    for (int64_t l = 0; l < a.layers; ++l) {
      int64_t inputs = l == 0 ? features : width, f;
      for (int64_t d = 0; d < dirs; ++d) {
        std::string suffix =
            "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
        c.param("weight_ih" + suffix, {gh, inputs}, true, inputs);
        c.param("weight_hh" + suffix, {gh, a.units}, true, a.units);
        c.param("bias_ih" + suffix, {gh}, true, a.units);
        c.param("bias_hh" + suffix, {gh}, true, a.units);
        // Biases follow `init` only for zeros and ones, as dense's.
        bool keepBiases = a.init != InitKind::Zeros && a.init != InitKind::Ones;
        for (size_t i = params.size() - 4; i < params.size(); ++i) {
          bool bias = i + 2 >= params.size();
          if (a.init == InitKind::Default || (bias && keepBiases))
            params[i].dist =
                InitDist{InitDist::Uniform, 0, -bound, bound, 0, 0};
        }
        if (!c.mul(gh, inputs + a.units, f) || !c.mul(f, 2 * in.dims[0], f) ||
            __builtin_add_overflow(flops, f, &flops))
          return c.tooLarge();
      }
    }
    out.dims = a.sequences ? std::vector<int64_t>{in.dims[0], width}
                           : std::vector<int64_t>{width};
    node.flops = flops;
    return true;
  }

  // torch.nn.MaxPool2d / AvgPool2d: stride defaults to the window size.
  case LayerKind::MaxPool:
  case LayerKind::AvgPool: {
    if (!c.needRank3(in))
      return false;
    c.pair("size", a.kernel);
    if (bc.has("stride"))
      c.pair("stride", a.stride);
    else {
      a.stride[0] = a.kernel[0];
      a.stride[1] = a.kernel[1];
    }
    int64_t o[2];
    if (!c.window(in, o))
      return false;
    out.dims = {in.dims[0], o[0], o[1]};
    int64_t n = out.numElements(), flops;
    if (n < 0 || !c.mul(n, a.kernel[0] * a.kernel[1], flops))
      return c.tooLarge();
    node.flops = flops;
    return true;
  }

  // Over H, W of [C, H, W], or over the (real) steps of [T, F].
  case LayerKind::GlobalAvgPool:
  case LayerKind::GlobalMaxPool:
    if (in.dims.size() == 2) {
      out.dims = {in.dims[1]};
      node.flops = inElems;
      return true;
    }
    if (kind == LayerKind::GlobalMaxPool)
      return c.fail("global_maxpool expects a sequence [time, features], "
                    "got " +
                    toString(in));
    if (in.dims.size() != 3)
      return c.fail("global_avgpool expects a [C, H, W] image or a "
                    "[time, features] sequence, got " +
                    toString(in));
    out.dims = {in.dims[0]};
    node.flops = inElems;
    return true;

  case LayerKind::Flatten:
    if (in.dims.empty())
      return c.fail("flatten expects a tensor input, got " + toString(in));
    out.dims = {inElems};
    return true;

  // One dimension may be -1 and is inferred (torch.reshape).
  case LayerKind::Reshape: {
    const Value &shape = bc.get("shape");
    int64_t known = 1;
    int inferred = -1;
    for (size_t i = 0; i < shape.list.size(); ++i) {
      int64_t d = static_cast<int64_t>(shape.list[i].num);
      if (d == -1) {
        if (inferred >= 0) {
          s.error(shape.list[i].range,
                  "reshape can infer only one dimension (-1)");
          return false;
        }
        inferred = static_cast<int>(i);
      } else if (d < 1) {
        s.error(shape.list[i].range,
                "reshape dimensions must be positive or -1, got " +
                    std::to_string(d));
        return false;
      } else if (!c.mul(known, d, known)) {
        return c.tooLarge();
      }
      out.dims.push_back(d);
    }
    std::string target = formatValue(shape);
    if (inferred >= 0) {
      if (inElems % known != 0)
        return c.fail("cannot reshape " + toString(in) + " to " + target +
                      ": " + std::to_string(inElems) +
                      " elements are not divisible by " +
                      std::to_string(known));
      out.dims[inferred] = inElems / known;
    } else if (known != inElems) {
      return c.fail("cannot reshape " + toString(in) + " to " + target + ": " +
                    std::to_string(inElems) + " elements vs " +
                    std::to_string(known));
    }
    a.shape = out.dims;
    return true;
  }

  case LayerKind::LeakyRelu:
    a.alpha = bc.num("alpha");
    out = in;
    node.flops = inElems;
    return true;
  case LayerKind::Dropout:
    a.p = bc.num("p");
    out = in;
    return true;
  case LayerKind::Relu:
  case LayerKind::Sigmoid:
  case LayerKind::Tanh:
  case LayerKind::Gelu:
    out = in;
    node.flops = inElems;
    return true;
  case LayerKind::Softmax:
    if (in.dims.empty())
      return c.fail("softmax expects a tensor input, got " + toString(in));
    out = in;
    node.flops = inElems;
    return true;

  // torch.nn.BatchNorm1d on features, BatchNorm2d on channels.
  case LayerKind::BatchNorm: {
    if (in.dims.size() != 1 && in.dims.size() != 3)
      return c.fail("batchnorm expects a rank-1 or [C, H, W] input, got " +
                    toString(in));
    a.momentum = bc.num("momentum");
    a.eps = bc.num("eps");
    int64_t ch = in.dims[0];
    out = in;
    c.constParam("weight", {ch}, 1);
    c.constParam("bias", {ch}, 0);
    c.constParam("running_mean", {ch}, 0, false);
    c.constParam("running_var", {ch}, 1, false);
    c.constParam("num_batches_tracked", {}, 0, false, ElemType::I64);
    node.flops = 2 * inElems;
    return true;
  }

  // torch.nn.LayerNorm(normalized_shape = last dimension).
  case LayerKind::LayerNorm: {
    if (in.dims.empty())
      return c.fail("layernorm expects a tensor input, got " + toString(in));
    a.eps = bc.num("eps");
    out = in;
    c.constParam("weight", {in.dims.back()}, 1);
    c.constParam("bias", {in.dims.back()}, 0);
    node.flops = 5 * inElems;
    return true;
  }

  case LayerKind::Add:
    for (size_t i = 1; i < inputs.size(); ++i)
      if (inputs[i] != in)
        return c.fail("cannot add " + toString(in) + " and " +
                          toString(inputs[i]),
                      "the values of 'add' must have the same shape");
    out = in;
    node.flops = inElems * static_cast<int64_t>(inputs.size() - 1);
    return true;

  // torch.cat(dim = 1) with a batch dimension: along channels.
  case LayerKind::Concat: {
    out = in;
    if (in.dims.empty())
      return c.fail("cannot concatenate scalars");
    for (size_t i = 1; i < inputs.size(); ++i) {
      const TensorType &t = inputs[i];
      bool ok = t.dims.size() == in.dims.size();
      for (size_t d = 1; ok && d < in.dims.size(); ++d)
        ok = t.dims[d] == in.dims[d];
      if (!ok)
        return c.fail("cannot concatenate " + toString(in) + " and " +
                          toString(t) + " along channels",
                      "all dimensions but the first must match");
      if (__builtin_add_overflow(out.dims[0], t.dims[0], &out.dims[0]))
        return c.tooLarge();
    }
    a.axis = 0;
    return true;
  }
  }
  return false;
}

} // namespace sema
} // namespace nnc
