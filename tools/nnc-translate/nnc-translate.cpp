//===- nnc-translate.cpp - MLIR -> object file / assembly / LLVM IR -------===//
//
// The backend on the command line, for lit tests and benchmarks:
//   nnc-translate in.mlir --emit=obj -o out.o          (LLVM dialect input)
//   nnc-translate in.mlir --codegen --emit=obj -o out.o (linalg on tensors)
// With --codegen the module first runs through nnc-cpu-codegen.
//
//===----------------------------------------------------------------------===//
#include "backend/Backend.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace llvm;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::init("-"));
static cl::opt<std::string> outputFile("o", cl::desc("output file"),
                                       cl::init("-"));
enum class Emit { Object, Assembly, LLVMIR, MLIR };
static cl::opt<Emit>
    emit("emit", cl::desc("what to write"), cl::init(Emit::Object),
         cl::values(clEnumValN(Emit::Object, "obj", "ELF object file"),
                    clEnumValN(Emit::Assembly, "asm", "assembly"),
                    clEnumValN(Emit::LLVMIR, "llvm", "optimized LLVM IR"),
                    clEnumValN(Emit::MLIR, "mlir",
                               "the LLVM-dialect module (after --codegen)")));
static cl::opt<bool> codegen("codegen",
                             cl::desc("run nnc-cpu-codegen on the input first"),
                             cl::init(false));
static cl::opt<std::string>
    codegenOptions("codegen-options",
                   cl::desc("options of nnc-cpu-codegen, e.g. "
                            "\"matmul-tile-sizes=8,32,4\""),
                   cl::init(""));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::Prefix, cl::init(3));
static cl::opt<std::string> mcpu("mcpu", cl::desc("target CPU"),
                                 cl::init("host"));
static cl::opt<std::string> mattr("mattr", cl::desc("target features"),
                                  cl::init("host"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "nnc backend driver\n");

  mlir::DialectRegistry registry;
  registry.insert<mlir::LLVM::LLVMDialect>();
  nnc::registerCPUCodegenDialects(registry);
  nnc::registerBackendTranslations(registry);
  mlir::MLIRContext context(registry);

  std::string error;
  auto input = mlir::openInputFile(inputFile, &error);
  if (!input) {
    errs() << "nnc-translate: " << error << "\n";
    return 1;
  }
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  if (codegen) {
    auto options = nnc::CPUCodegenOptions::createFromString(codegenOptions);
    if (!options)
      return 1;
    mlir::PassManager pm(&context);
    nnc::buildCPUCodegenPipeline(pm, *options);
    if (mlir::failed(pm.run(*module)))
      return 1;
  }

  auto output = mlir::openOutputFile(outputFile, &error);
  if (!output) {
    errs() << "nnc-translate: " << error << "\n";
    return 1;
  }
  nnc::BackendOptions opts;
  opts.optLevel = optLevel;
  opts.cpu = mcpu;
  opts.features = mattr;
  auto write = [&]() -> Error {
    switch (emit) {
    case Emit::Object:
      return nnc::emitObject(*module, opts, output->os());
    case Emit::Assembly:
      return nnc::emitAssembly(*module, opts, output->os());
    case Emit::LLVMIR:
      return nnc::emitLLVMIR(*module, opts, output->os());
    case Emit::MLIR:
      module->print(output->os());
      return Error::success();
    }
    return Error::success();
  };
  Error result = write();
  if (result) {
    logAllUnhandledErrors(std::move(result), errs(), "nnc-translate: ");
    return 1;
  }
  output->keep();
  return 0;
}
