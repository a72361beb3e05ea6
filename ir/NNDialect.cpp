//===- NNDialect.cpp - The nn dialect's registration -----------------------===//
#include "ir/NNDialect.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nnc::nn;

#include "ir/NNDialect.cpp.inc"

void NNDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "ir/NNOps.cpp.inc"
      >();
}
