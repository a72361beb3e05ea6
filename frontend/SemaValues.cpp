//===- SemaValues.cpp - Constant folding and generic call binding ---------===//
//
// Every callable of the language is bound here against its signature
// (SemaSignatures.cpp): positional arguments first, then keywords, with
// type and range checks and defaults filled in.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <cmath>
#include <cstdio>

namespace nnc {
namespace sema {

// Integers beyond 2^53 cannot be represented exactly by the double the
// evaluator computes with; larger ones are reported as too large.
static constexpr double kMaxExactInt = 9007199254740992.0;

bool Value::isIntegral() const {
  return kind == Number && std::isfinite(num) && std::floor(num) == num;
}

std::string formatNumber(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x < 0 ? "-inf" : "inf";
  char buf[64];
  if (std::floor(x) == x && std::fabs(x) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

std::string formatValue(const Value &v) {
  switch (v.kind) {
  case Value::Number:
    return formatNumber(v.num);
  case Value::Bool:
    return v.num != 0 ? "true" : "false";
  case Value::String:
    return "\"" + v.str + "\"";
  case Value::Ident:
    return v.str;
  case Value::List: {
    std::string s = "[";
    for (size_t i = 0; i < v.list.size(); ++i)
      s += (i ? ", " : "") + formatValue(v.list[i]);
    return s + "]";
  }
  case Value::Call:
    return v.str + "(...)";
  case Value::Map:
    return "{...}";
  case Value::Invalid:
    break;
  }
  return "?";
}

const char *describe(Value::Kind kind) {
  switch (kind) {
  case Value::Number:
    return "a number";
  case Value::Bool:
    return "a boolean";
  case Value::String:
    return "a string";
  case Value::Ident:
    return "an identifier";
  case Value::List:
    return "a list";
  case Value::Call:
    return "a call";
  case Value::Map:
    return "a map";
  case Value::Invalid:
    break;
  }
  return "an invalid value";
}

const char *describe(const ast::Expr &e) {
  switch (e.kind) {
  case ast::ExprKind::Number:
    return "a number";
  case ast::ExprKind::String:
    return "a string";
  case ast::ExprKind::Ident:
    return "an identifier";
  case ast::ExprKind::List:
    return "a list";
  case ast::ExprKind::Map:
    return "a map";
  case ast::ExprKind::Call:
    return "a call";
  case ast::ExprKind::Unary:
  case ast::ExprKind::Binary:
    return "an arithmetic expression";
  case ast::ExprKind::Pipeline:
    return "a pipeline";
  case ast::ExprKind::Until:
    return "an 'until' expression";
  }
  return "an expression";
}

bool Interval::contains(double x) const {
  if (!active)
    return true;
  if (std::isnan(x))
    return false;
  if (loOpen ? !(x > lo) : !(x >= lo))
    return false;
  if (hiOpen ? !(x < hi) : !(x <= hi))
    return false;
  return true;
}

std::string Interval::str() const {
  return std::string(loOpen ? "(" : "[") + formatNumber(lo) + ", " +
         formatNumber(hi) + (hiOpen ? ")" : "]");
}

const ParamSpec *Signature::find(const std::string &n) const {
  for (const auto &p : params)
    if (p.name == n)
      return &p;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// BoundCall accessors: absent arguments read as zero / empty.
//===----------------------------------------------------------------------===//

const Value &BoundCall::get(const std::string &n) const {
  static const Value invalid;
  auto it = args.find(n);
  return it == args.end() ? invalid : it->second;
}
double BoundCall::num(const std::string &n) const {
  const Value &v = get(n);
  return v.kind == Value::Number || v.kind == Value::Bool ? v.num : 0;
}
int64_t BoundCall::integer(const std::string &n) const {
  double x = num(n);
  if (!(std::fabs(x) <= kMaxExactInt))
    return 0;
  return static_cast<int64_t>(x);
}
bool BoundCall::flag(const std::string &n) const { return num(n) != 0; }
std::string BoundCall::str(const std::string &n) const { return get(n).str; }
SourceRange BoundCall::rangeOf(const std::string &n) const {
  auto it = args.find(n);
  return it == args.end() || !it->second.range.isValid() ? range
                                                         : it->second.range;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

bool Sema::toInt(const Value &v, const std::string &what, int64_t &out) {
  if (v.kind != Value::Number) {
    error(v.range, what + " must be an integer, got " + formatValue(v));
    return false;
  }
  if (!v.isIntegral()) {
    error(v.range, what + " must be an integer, got " + formatValue(v));
    return false;
  }
  if (std::fabs(v.num) > kMaxExactInt) {
    error(v.range, what + " is too large (" + formatValue(v) + ")");
    return false;
  }
  out = static_cast<int64_t>(v.num);
  return true;
}

Value Sema::eval(const ast::Expr *e, const Env &env) {
  Value v;
  if (!e)
    return v;
  v.range = e->range;
  v.expr = e;
  switch (e->kind) {
  case ast::ExprKind::Number:
    v.kind = Value::Number;
    v.num = e->number;
    v.isInt = e->isInteger;
    if (!std::isfinite(v.num)) {
      error(e->range, "number is too large");
      v.kind = Value::Invalid;
    }
    return v;
  case ast::ExprKind::String:
    v.kind = Value::String;
    v.str = e->text;
    return v;
  case ast::ExprKind::Ident: {
    auto it = env.find(e->text);
    if (it != env.end()) {
      Value bound = it->second;
      bound.range = e->range;
      bound.expr = e;
      return bound;
    }
    if (e->text == "true" || e->text == "false") {
      v.kind = Value::Bool;
      v.num = e->text == "true";
      return v;
    }
    v.kind = Value::Ident;
    v.str = e->text;
    return v;
  }
  case ast::ExprKind::List:
    v.kind = Value::List;
    for (const auto &el : e->elements) {
      v.list.push_back(eval(el.get(), env));
      if (v.list.back().kind == Value::Invalid)
        v.kind = Value::Invalid;
    }
    return v;
  case ast::ExprKind::Map:
    v.kind = Value::Map;
    return v;
  case ast::ExprKind::Call:
    v.kind = Value::Call;
    v.str = e->text;
    return v;
  case ast::ExprKind::Unary:
  case ast::ExprKind::Binary: {
    std::vector<Value> ops;
    for (const auto &el : e->elements)
      ops.push_back(eval(el.get(), env));
    bool ok = !ops.empty();
    for (const Value &op : ops) {
      if (op.kind == Value::Invalid) {
        ok = false;
      } else if (op.kind == Value::Ident) {
        std::vector<std::string> names;
        for (const auto &kv : env)
          names.push_back(kv.first);
        error(op.range, "unknown value '" + op.str + "'",
              didYouMean(op.str, names));
        ok = false;
      } else if (op.kind != Value::Number) {
        error(op.range, std::string("operator '") + e->text +
                            "' needs numbers, got " + describe(op.kind));
        ok = false;
      }
    }
    if (!ok || (e->kind == ast::ExprKind::Binary && ops.size() != 2))
      return v;
    v.kind = Value::Number;
    if (e->kind == ast::ExprKind::Unary) {
      v.num = e->text == "+" ? ops[0].num : -ops[0].num;
      v.isInt = ops[0].isInt;
      return v;
    }
    double a = ops[0].num, b = ops[1].num;
    bool bothInt = ops[0].isInt && ops[1].isInt;
    const std::string &op = e->text;
    if (op == "+")
      v.num = a + b;
    else if (op == "-")
      v.num = a - b;
    else if (op == "*")
      v.num = a * b;
    else if (op == "/") {
      if (b == 0) {
        error(e->range, "division by zero");
        v.kind = Value::Invalid;
        return v;
      }
      v.num = a / b;
    } else {
      error(e->range, "unknown operator '" + op + "'");
      v.kind = Value::Invalid;
      return v;
    }
    // `c / 2` stays an integer when it divides exactly (channel counts).
    v.isInt = bothInt && std::floor(v.num) == v.num;
    if (!std::isfinite(v.num)) {
      error(e->range, "number is too large");
      v.kind = Value::Invalid;
    }
    return v;
  }
  case ast::ExprKind::Pipeline:
  case ast::ExprKind::Until:
    error(e->range, std::string("unexpected ") + describe(*e) + " here");
    return v;
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Binding
//===----------------------------------------------------------------------===//

static std::string joinEnums(const std::vector<std::string> &enums) {
  std::string s;
  for (size_t i = 0; i < enums.size(); ++i) {
    if (i)
      s += i + 1 == enums.size() ? " or " : ", ";
    s += "'" + enums[i] + "'";
  }
  return s;
}

bool Sema::convertArg(const Signature &sig, const ParamSpec &spec, Value &v) {
  if (v.kind == Value::Invalid)
    return false; // already reported
  std::string subject =
      "argument '" + spec.name + "' of '" + sig.name + "'";
  auto fail = [&](const std::string &expected,
                  const std::string &hint = "") {
    error(v.range, subject + " must be " + expected + ", got " +
                       formatValue(v),
          hint);
    return false;
  };
  auto checkInt = [&](const Value &x) {
    if (x.kind != Value::Number || !x.isIntegral())
      return false;
    return true;
  };
  auto checkRange = [&](const Value &x) {
    if (spec.range.contains(x.num))
      return true;
    error(x.range, (spec.what.empty() ? subject : spec.what) +
                       " must be in " + spec.range.str() + ", got " +
                       formatValue(x));
    return false;
  };
  auto checkMagnitude = [&](const Value &x) {
    if (std::fabs(x.num) <= kMaxExactInt)
      return true;
    error(x.range, subject + " is too large (" + formatValue(x) + ")");
    return false;
  };
  switch (spec.type) {
  case ArgType::Int:
    if (!checkInt(v))
      return fail("an integer");
    return checkMagnitude(v) && checkRange(v);
  case ArgType::Number:
    if (v.kind != Value::Number)
      return fail("a number");
    return checkRange(v);
  case ArgType::Bool:
    if (v.kind != Value::Bool)
      return fail("'true' or 'false'");
    return true;
  case ArgType::String:
    if (v.kind != Value::String)
      return fail("a string");
    return true;
  case ArgType::Enum:
    if (v.kind == Value::Ident || v.kind == Value::String)
      for (const auto &en : spec.enums)
        if (en == v.str) {
          v.kind = Value::Ident;
          return true;
        }
    return fail("one of " + joinEnums(spec.enums),
                v.kind == Value::Ident ? didYouMean(v.str, spec.enums) : "");
  case ArgType::IntOrEnum:
  case ArgType::NumberOrEnum: {
    bool wantInt = spec.type == ArgType::IntOrEnum;
    if (v.kind == Value::Ident)
      for (const auto &en : spec.enums)
        if (en == v.str)
          return true;
    if (v.kind == Value::Number && (!wantInt || checkInt(v)))
      return checkMagnitude(v) && checkRange(v);
    return fail(joinEnums(spec.enums) +
                    (wantInt ? " or an integer" : " or a number"),
                v.kind == Value::Ident ? didYouMean(v.str, spec.enums) : "");
  }
  case ArgType::NumberOrList:
    if (v.kind == Value::Number)
      return checkRange(v);
    if (v.kind == Value::List && !v.list.empty()) {
      bool ok = true;
      for (const Value &x : v.list) {
        if (x.kind != Value::Number) {
          error(x.range, subject + " must be a number or a list of numbers, "
                                   "got " + formatValue(x));
          ok = false;
        } else if (!checkRange(x)) {
          ok = false;
        }
      }
      return ok;
    }
    return fail("a number or a list of numbers");
  case ArgType::IntOrPair:
  case ArgType::IntList: {
    bool pair = spec.type == ArgType::IntOrPair;
    if (pair && v.kind == Value::Number) {
      if (!checkInt(v))
        return fail("an integer or a list [h, w]");
      return checkMagnitude(v) && checkRange(v);
    }
    if (v.kind != Value::List || v.list.empty() ||
        (pair && v.list.size() != 2))
      return fail(pair ? "an integer or a list [h, w]"
                       : "a list of integers");
    bool ok = true;
    for (const Value &x : v.list) {
      if (!checkInt(x)) {
        error(x.range, subject + " must hold integers, got " +
                           formatValue(x));
        ok = false;
      } else if (!checkMagnitude(x) || !checkRange(x)) {
        ok = false;
      }
    }
    return ok;
  }
  case ArgType::NameList: {
    if (v.kind == Value::Ident || v.kind == Value::String)
      return true;
    if (v.kind != Value::List || v.list.empty())
      return fail("a name or a list of names");
    bool ok = true;
    for (const Value &x : v.list)
      if (x.kind != Value::Ident && x.kind != Value::String) {
        error(x.range, subject + " must hold names (layer kinds, labels or "
                                 "groups), got " + formatValue(x));
        ok = false;
      }
    return ok;
  }
  case ArgType::StringOrList:
  case ArgType::StringList: {
    if (spec.type == ArgType::StringOrList && v.kind == Value::String)
      return true;
    if (v.kind != Value::List)
      return fail(spec.type == ArgType::StringOrList
                      ? "a string or a list of strings"
                      : "a list of strings");
    bool ok = true;
    for (const Value &x : v.list)
      if (x.kind != Value::String) {
        error(x.range, subject + " must hold strings, got " +
                           formatValue(x));
        ok = false;
      }
    return ok;
  }
  }
  return true;
}

/// The default of a parameter as a value ("0.5", "true", "valid", "[]").
static Value defaultValue(const ParamSpec &spec, SourceRange range) {
  Value v;
  v.range = range;
  const std::string &t = spec.defaultText;
  if (t == "true" || t == "false") {
    v.kind = Value::Bool;
    v.num = t == "true";
  } else if (!t.empty() && (std::isdigit(static_cast<unsigned char>(t[0])) ||
                            t[0] == '-' || t[0] == '.')) {
    v.kind = Value::Number;
    v.num = std::strtod(t.c_str(), nullptr);
    v.isInt = t.find_first_of(".e") == std::string::npos;
  } else if (t == "[]") {
    v.kind = Value::List;
  } else if (!t.empty() && t[0] == '"') {
    v.kind = Value::String;
    v.str = t.substr(1, t.size() - 2);
  } else {
    v.kind = Value::Ident;
    v.str = t;
  }
  return v;
}

BoundCall Sema::bind(const Signature &sig, const ast::Expr &call,
                     const Env &env) {
  BoundCall bc;
  bc.sig = &sig;
  bc.range = call.range;
  bc.nameRange = call.nameRange.isValid() ? call.nameRange : call.range;
  std::map<std::string, SourceRange> given;
  size_t nextPos = 0;
  if (call.kind == ast::ExprKind::Call) {
    for (const auto &arg : call.elements) {
      if (sig.variadic) {
        bc.positional.push_back(eval(arg.get(), env));
        continue;
      }
      size_t numPositional = 0;
      for (const auto &p : sig.params)
        numPositional += !p.keywordOnly;
      if (nextPos >= numPositional) {
        error(arg ? arg->range : call.range,
              "too many arguments for '" + sig.name + "' (expected at most " +
                  std::to_string(numPositional) + ")");
        bc.ok = false;
        break;
      }
      // Keras spells settings as calls (`dense(128, l2(0.001))`); here they
      // are keyword arguments.
      if (arg && arg->kind == ast::ExprKind::Call && sig.find(arg->text) &&
          arg->elements.size() == 1 && arg->entries.empty()) {
        Value inner = eval(arg->elements[0].get(), env);
        error(arg->range,
              "'" + arg->text + "' is an argument of '" + sig.name +
                  "', not a call",
              "write " + arg->text + " = " +
                  (inner.kind == Value::Invalid ? std::string("...")
                                                : formatValue(inner)));
        bc.ok = false;
        ++nextPos;
        continue;
      }
      const ParamSpec &spec = sig.params[nextPos++];
      Value v = eval(arg.get(), env);
      if (!v.range.isValid())
        v.range = call.range;
      if (!convertArg(sig, spec, v))
        bc.ok = false;
      given[spec.name] = v.range;
      bc.args[spec.name] = v;
    }
    for (const auto &entry : call.entries) {
      const ParamSpec *spec = sig.find(entry.key);
      if (!spec) {
        std::vector<std::string> names;
        for (const auto &p : sig.params)
          names.push_back(p.name);
        error(entry.keyRange, "unknown argument '" + entry.key + "' for '" +
                                  sig.name + "'",
              didYouMean(entry.key, names));
        bc.ok = false;
        continue;
      }
      auto prev = given.find(entry.key);
      if (prev != given.end()) {
        error(entry.keyRange, "argument '" + entry.key + "' of '" + sig.name +
                                  "' is given twice");
        note(prev->second, "first given here");
        bc.ok = false;
        continue;
      }
      Value v = eval(entry.value.get(), env);
      if (!v.range.isValid())
        v.range = entry.keyRange;
      if (!convertArg(sig, *spec, v))
        bc.ok = false;
      given[entry.key] = entry.keyRange;
      bc.args[entry.key] = v;
    }
  }
  for (const auto &spec : sig.params) {
    if (bc.args.count(spec.name))
      continue;
    if (spec.defaultText == "!") {
      error(call.range, "missing required argument '" + spec.name +
                            "' for '" + sig.name + "'");
      bc.ok = false;
    } else if (!spec.defaultText.empty()) {
      bc.args[spec.name] = defaultValue(spec, SourceRange());
    }
  }
  return bc;
}

bool Sema::bindSetting(Category cat, const ast::Expr *e, BoundCall &out) {
  if (!e)
    return false;
  if (e->kind != ast::ExprKind::Ident && e->kind != ast::ExprKind::Call) {
    error(e->range, std::string("expected ") +
                        (cat == Category::Optimizer ? "an " : "a ") +
                        toString(cat) + ", got " + describe(*e));
    return false;
  }
  const Signature *sig = findSignature(cat, e->text);
  if (!sig) {
    SourceRange r = e->nameRange.isValid() ? e->nameRange : e->range;
    error(r, std::string("unknown ") + toString(cat) + " '" + e->text + "'",
          didYouMean(e->text, signatureNames(cat)));
    return false;
  }
  out = bind(*sig, *e, Env());
  return out.ok;
}

} // namespace sema
} // namespace nnc
