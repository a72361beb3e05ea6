//===- PollyPluginInfo.cpp - Polly's plugin entry for a static nnc --------===//
//
// Debian builds LLVM with Polly linked into its tools: libLLVMLTO.a, which a
// static nnc pulls in with lld (lld's LTO), registers Polly's passes through
// getPollyPluginInfo(), defined only in libLLVM.so (there is no libPolly.a).
// nnc links objects, never bitcode, so lld never runs LTO: Polly's entry
// here registers nothing.
//
//===----------------------------------------------------------------------===//
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

llvm::PassPluginLibraryInfo getPollyPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "Polly", "none", [](llvm::PassBuilder &) {}};
}
