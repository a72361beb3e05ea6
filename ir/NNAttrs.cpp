//===- NNAttrs.cpp - Attributes and enums of the nn dialect ---------------===//
#include "ir/NNAttrs.h"
#include "ir/NNDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <charconv>
#include <cmath>

using namespace mlir;
using namespace nnc::nn;

#include "ir/NNEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/NNAttrs.cpp.inc"

FailureOr<APFloat> nnc::nn::parseF64(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return APFloat(value);
}

void nnc::nn::printF64(AsmPrinter &printer, const APFloat &value) {
  double v = value.convertToDouble();
  if (!std::isfinite(v))
    return printer.printFloat(value);
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, r.ptr);
  // MLIR's float literals need a fraction: 1e-05 is 1.0e-05, 2 is 2.0.
  if (s.find('.') == std::string::npos) {
    size_t exp = s.find('e');
    s.insert(exp == std::string::npos ? s.size() : exp, ".0");
  }
  printer << s;
}

FailureOr<bool> nnc::nn::parseFlag(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  return parser.emitError(parser.getCurrentLocation(),
                          "expected 'true' or 'false'");
}

LogicalResult ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   ScheduleKind kind, APFloat warmup,
                                   APFloat every, APFloat gamma, APFloat minLr,
                                   APFloat endLr) {
  if (kind == ScheduleKind::Step && !(every.convertToDouble() > 0))
    return emitError() << "a step schedule needs every > 0";
  return success();
}

void NNDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/NNAttrs.cpp.inc"
      >();
}
