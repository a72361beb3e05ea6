//===- NNDialect.h - The nn dialect --------------------------------*- C++ -*-===//
#ifndef NNC_IR_NNDIALECT_H
#define NNC_IR_NNDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

// The dialect's discardable attribute helpers name the attribute classes.
#include "ir/NNAttrs.h"

#include "ir/NNDialect.h.inc"

#endif // NNC_IR_NNDIALECT_H
