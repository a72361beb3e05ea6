//===- Backend.cpp - LLVM dialect -> optimized native code ----------------===//
//
// MLIR's LLVM dialect -> llvm::Module -> LLVM -O<n> (new pass manager) for
// the host CPU -> object file, assembly or IR. Everything is in-process: no
// llc/clang is needed at compile time.
//
//===----------------------------------------------------------------------===//
#include "backend/Backend.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/PassTimingInfo.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/OptimizationLevel.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <mutex>

using namespace nnc;

void nnc::registerBackendTranslations(mlir::DialectRegistry &registry) {
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

static std::string hostFeatures() {
  std::string features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    if (!features.empty())
      features += ',';
    features += (feature.second ? '+' : '-');
    features += feature.first().str();
  }
  return features;
}

/// A timer for one backend phase, nested under `opts.timing` (or a no-op).
static mlir::TimingScope phase(const BackendOptions &opts, const char *name) {
  if (!opts.timing)
    return mlir::TimingScope();
  return opts.timing->nest(static_cast<const void *>(name),
                           [name] { return std::string(name); });
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
nnc::createTargetMachine(const BackendOptions &opts) {
  initializeNativeTarget();
  std::string triple =
      opts.triple.empty() ? llvm::sys::getDefaultTargetTriple() : opts.triple;
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("no LLVM target for '" + triple + "': " + error);
  std::string cpu =
      opts.cpu == "host" ? llvm::sys::getHostCPUName().str() : opts.cpu;
  std::string features =
      opts.features == "host" ? hostFeatures() : opts.features;
  llvm::CodeGenOptLevel level =
      llvm::CodeGenOpt::getLevel(std::min(opts.optLevel, 3u))
          .value_or(llvm::CodeGenOptLevel::Default);
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, targetOptions,
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    return makeError("could not create a target machine for '" + triple +
                     "' (cpu " + cpu + ")");
  return machine;
}

/// Runs LLVM's standard -O<n> module pipeline, tuned by `machine`'s cost
/// model (vector widths, FMA, ...).
static void optimize(llvm::Module &module, llvm::TargetMachine &machine,
                     unsigned optLevel, bool timePasses) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  // No loop unrolling: nnc-cpu-codegen already unrolled every kernel into
  // register tiles of vector ops. LLVM unrolling them again (and fully
  // unrolling the short outer loops of tiles) more than doubled the code,
  // and with it the time of the -O pipeline and of code generation, for no
  // measurable speed (the fashion_cnn example: 280 KB of text -> 117 KB).
  tuning.LoopUnrolling = false;
  // --time-passes: LLVM's per-pass timers (printed by the caller).
  llvm::PassInstrumentationCallbacks instrumentation;
  llvm::StandardInstrumentations standard(module.getContext(),
                                          /*DebugLogging=*/false);
  if (timePasses)
    standard.registerCallbacks(instrumentation, &mam);
  llvm::PassBuilder builder(&machine, tuning, std::nullopt,
                            timePasses ? &instrumentation : nullptr);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);

  llvm::ModulePassManager mpm;
  if (optLevel == 0) {
    mpm = builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0);
  } else {
    llvm::OptimizationLevel level = optLevel == 1 ? llvm::OptimizationLevel::O1
                                    : optLevel == 2
                                        ? llvm::OptimizationLevel::O2
                                        : llvm::OptimizationLevel::O3;
    mpm = builder.buildPerModuleDefaultPipeline(level);
  }
  mpm.run(module, mam);
}

/// Translation + optimization with a given machine.
static llvm::Expected<std::unique_ptr<llvm::Module>>
translate(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
          llvm::TargetMachine &machine, const BackendOptions &opts) {
  mlir::TimingScope translation = phase(opts, "translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, "nnc");
  if (!llvmModule)
    return makeError("could not translate the module to LLVM IR (is it "
                     "entirely in the LLVM dialect?)");
  llvmModule->setTargetTriple(machine.getTargetTriple().str());
  llvmModule->setDataLayout(machine.createDataLayout());
  // Per-function attributes so that every later consumer (also a reader of
  // the .ll file) sees the target CPU.
  std::string cpu = machine.getTargetCPU().str();
  std::string features = machine.getTargetFeatureString().str();
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", cpu);
    if (!features.empty())
      function.addFnAttr("target-features", features);
  }
  std::string verifierMessage;
  llvm::raw_string_ostream verifierStream(verifierMessage);
  if (llvm::verifyModule(*llvmModule, &verifierStream))
    return makeError("invalid LLVM IR after translation: " + verifierMessage);
  translation.stop();
  mlir::TimingScope optimization = phase(opts, "LLVM -O pipeline");
  optimize(*llvmModule, machine, opts.optLevel, opts.timing != nullptr);
  return llvmModule;
}

llvm::Expected<std::unique_ptr<llvm::Module>>
nnc::translateAndOptimize(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                          const BackendOptions &opts) {
  auto machine = createTargetMachine(opts);
  if (!machine)
    return machine.takeError();
  return translate(module, llvmContext, **machine, opts);
}

static llvm::Error emitFile(mlir::ModuleOp module, const BackendOptions &opts,
                            llvm::raw_pwrite_stream &os,
                            llvm::CodeGenFileType fileType) {
  auto machine = createTargetMachine(opts);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  if (opts.timing)
    llvm::TimePassesIsEnabled = true; // the legacy (codegen) pass manager
  auto llvmModule = translate(module, llvmContext, **machine, opts);
  if (!llvmModule)
    return llvmModule.takeError();
  // Code generation still runs on the legacy pass manager in LLVM 19.
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr, fileType))
    return makeError("the target cannot emit this file type");
  mlir::TimingScope codegenTimer = phase(opts, "LLVM code generation");
  codegen.run(**llvmModule);
  return llvm::Error::success();
}

llvm::Error nnc::emitObject(mlir::ModuleOp module, const BackendOptions &opts,
                            llvm::raw_pwrite_stream &os) {
  return emitFile(module, opts, os, llvm::CodeGenFileType::ObjectFile);
}

llvm::Error nnc::emitAssembly(mlir::ModuleOp module, const BackendOptions &opts,
                              llvm::raw_pwrite_stream &os) {
  return emitFile(module, opts, os, llvm::CodeGenFileType::AssemblyFile);
}

llvm::Error nnc::emitLLVMIR(mlir::ModuleOp module, const BackendOptions &opts,
                            llvm::raw_ostream &os) {
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateAndOptimize(module, llvmContext, opts);
  if (!llvmModule)
    return llvmModule.takeError();
  (*llvmModule)->print(os, nullptr);
  return llvm::Error::success();
}
