//===- Backend.cpp - LLVM dialect -> optimized native code ----------------===//
//
// MLIR's LLVM dialect -> llvm::Module -> LLVM -O<n> (new pass manager) for
// the host CPU -> object file, assembly or IR. Everything is in-process: no
// llc/clang is needed at compile time.
//
//===----------------------------------------------------------------------===//
#include "backend/Backend.h"
#include "backend/ObjectCache.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
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
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <atomic>
#include <mutex>
#include <numeric>
#include <thread>

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
  return opts.timing ? nestedPhase(*opts.timing, name) : mlir::TimingScope();
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// x86-64's medium code model: data past this size goes in .lbss (see
/// createTargetMachine).
static constexpr uint64_t kLargeDataThreshold = 64 * 1024;

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
  // x86-64: the medium code model puts data larger than 64 KiB (a big
  // model's workspace) in .lbss, addressed with 64-bit offsets, so that a
  // program past 2 GiB of static buffers still links; small data and code
  // keep the small model's 32-bit addressing.
  bool x86_64 = llvm::Triple(triple).getArch() == llvm::Triple::x86_64;
  std::optional<llvm::CodeModel::Model> codeModel;
  if (x86_64)
    codeModel = llvm::CodeModel::Medium;
  // Loops start on 32-byte boundaries (x86's default is 16): short inner
  // loops (a kernel's byte copy) ran 20% slower or not depending on where
  // the code before them happened to end. The int8 library's batch of 64,
  // the same code in two placements: 3.70 ms both when aligned to 32 or 64
  // bytes; 3.70 and 4.44 ms at 16. A few bytes of padding per loop.
  if (x86_64)
    targetOptions.LoopAlignment = 32;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, targetOptions,
                                  llvm::Reloc::PIC_, codeModel, level));
  if (!machine)
    return makeError("could not create a target machine for '" + triple +
                     "' (cpu " + cpu + ")");
  if (x86_64)
    machine->setLargeDataThreshold(kLargeDataThreshold);
  return machine;
}

/// nnc's -O2 (the default): the passes of LLVM's -O1 pipeline that still
/// find work in the kernels as nnc-cpu-codegen leaves them (tiled,
/// vectorized, their loop invariants hoisted), each once: InstCombine three
/// times instead of eight, without -O1's second loop-rotation round, loop
/// distribution, loop-load elimination, SCCP/BDCE/ADCE and its coroutine
/// and OpenMP passes. The loop vectorizer stays for the loops that nnc left
/// scalar (a GPT kernel ran 8-10x slower without it), SLP for the
/// `<1 x float>` chains some kernels build (resnet_mini's 3x3 weight
/// transform was scalar without it). Made by removing -O1's passes one at
/// a time and comparing every function's code: the same as -O1's for SPEC
/// 2.3's CNN, resnet_mini and the batch-1 library but for a few bytes of
/// glue, in 30-40% less time (SPEC 2.3's CNN's program on one thread 0.66
/// -> 0.46 s, resnet_mini's 1.17 -> 0.78), the same training and
/// inference speed (bench/results/compile_time_experiments.md, section 6).
static constexpr const char *kKernelPipeline =
    // Kernel arguments that every call passes alike (the workspace's
    // address) become the global itself, the arguments go, and
    // alias analysis knows the workspace apart from the other pointers.
    "ipsccp,deadargelim,cgscc(inline,function-attrs),"
    "require<globals-aa>,function(invalidate<aa>),"
    "function("
    // InstCombine before SROA and CSE: after them it hoisted each constant
    // offset from a tile's base as a pointer of its own (spilled).
    "instcombine<max-iterations=1;no-verify-fixpoint>,simplifycfg,"
    "sroa,early-cse<memssa>,reassociate,"
    "loop-mssa(licm<no-allowspeculation>,loop-rotate,licm),"
    "loop(loop-idiom,indvars,loop-deletion),memcpyopt,"
    "loop-vectorize,infer-alignment,slp-vectorizer,vector-combine,"
    "instcombine<max-iterations=1;no-verify-fixpoint>,simplifycfg,sroa,"
    "instcombine<max-iterations=1;no-verify-fixpoint>,"
    "loop-mssa(licm),loop-sink,instsimplify,tailcallelim),"
    "globaldce";

/// Runs the -O pipeline of nnc's -O<n> (kKernelPipeline at -O2, LLVM's
/// own at the others), tuned by `machine`'s cost model (vector widths, FMA,
/// ...).
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

  // -O3 is LLVM's -O3, -O1 LLVM's -O1 (no vectorizers), -O0 LLVM's -O0.
  llvm::ModulePassManager mpm;
  if (optLevel == 2)
    llvm::cantFail(builder.parsePassPipeline(mpm, kKernelPipeline));
  else if (optLevel == 0)
    mpm = builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0);
  else
    mpm = builder.buildPerModuleDefaultPipeline(
        optLevel == 1 ? llvm::OptimizationLevel::O1
                      : llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
}

/// Translation to LLVM IR for `machine` (no optimization).
static llvm::Expected<std::unique_ptr<llvm::Module>>
translateOnly(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
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
  return llvmModule;
}

/// Translation + optimization with a given machine.
static llvm::Expected<std::unique_ptr<llvm::Module>>
translate(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
          llvm::TargetMachine &machine, const BackendOptions &opts) {
  auto llvmModule = translateOnly(module, llvmContext, machine, opts);
  if (!llvmModule)
    return llvmModule.takeError();
  mlir::TimingScope optimization = phase(opts, "LLVM -O pipeline");
  optimize(**llvmModule, machine, opts.optLevel, opts.timing != nullptr);
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

/// Code generation of an optimized module into `os` (on the legacy pass
/// manager, as in LLVM 19).
static llvm::Error generateCode(llvm::Module &module,
                                llvm::TargetMachine &machine,
                                llvm::raw_pwrite_stream &os,
                                llvm::CodeGenFileType fileType) {
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, os, nullptr, fileType))
    return makeError("the target cannot emit this file type");
  codegen.run(module);
  return llvm::Error::success();
}

/// What decides an object besides its LLVM IR: the target machine and the
/// optimization level (ObjectCache keys).
static std::string machineIdentity(const llvm::TargetMachine &machine,
                                   unsigned optLevel) {
  return (machine.getTargetTriple().str() + " " + machine.getTargetCPU().str() +
          " " + machine.getTargetFeatureString().str() + " -O" +
          std::to_string(optLevel) + " pic " +
          std::to_string(machine.getCodeModel()) + " " +
          std::to_string(kLargeDataThreshold) + " loops " +
          std::to_string(machine.Options.LoopAlignment));
}

std::string nnc::targetIdentity(const BackendOptions &opts) {
  auto machine = createTargetMachine(opts);
  if (!machine) {
    std::string message = llvm::toString(machine.takeError());
    return "no target: " + message;
  }
  return machineIdentity(**machine, opts.optLevel);
}

static std::string bitcodeOf(const llvm::Module &module) {
  std::string buffer;
  llvm::raw_string_ostream os(buffer);
  llvm::WriteBitcodeToFile(module, os);
  return buffer;
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
  auto llvmModule = translateOnly(module, llvmContext, **machine, opts);
  if (!llvmModule)
    return llvmModule.takeError();
  // Objects come from the cache when their module's IR was compiled before.
  std::string key;
  if (opts.cache && fileType == llvm::CodeGenFileType::ObjectFile) {
    mlir::TimingScope lookupTimer = phase(opts, "object cache");
    key = opts.cache->key(bitcodeOf(**llvmModule),
                          machineIdentity(**machine, opts.optLevel));
    if (std::optional<std::string> object = opts.cache->lookup(key)) {
      os << *object;
      return llvm::Error::success();
    }
  }
  {
    mlir::TimingScope optimization = phase(opts, "LLVM -O pipeline");
    optimize(**llvmModule, **machine, opts.optLevel, opts.timing != nullptr);
  }
  mlir::TimingScope codegenTimer = phase(opts, "LLVM code generation");
  if (key.empty())
    return generateCode(**llvmModule, **machine, os, fileType);
  llvm::SmallString<0> object;
  llvm::raw_svector_ostream objectStream(object);
  if (llvm::Error error =
          generateCode(**llvmModule, **machine, objectStream, fileType))
    return error;
  opts.cache->store(key, object);
  os << object;
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

llvm::Expected<std::vector<std::string>>
nnc::emitObjects(mlir::ModuleOp module, const BackendOptions &opts,
                 unsigned threads) {
  auto machine = createTargetMachine(opts);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  auto llvmModule = translateOnly(module, llvmContext, **machine, opts);
  if (!llvmModule)
    return llvmModule.takeError();

  // Partitions travel to their threads as bitcode: an LLVMContext is not
  // shared between threads. Local symbols (the kernels) are made external so
  // that a kernel and its callers may land in different partitions.
  mlir::TimingScope splitTimer = phase(opts, "split into partitions");
  std::vector<std::string> bitcode;
  // Three partitions per thread, compiled largest first by whichever thread
  // is free: SplitModule's partitions differ in compile time by up to 1.7x
  // (SPEC 2.3's CNN in two: 0.33 and 0.56 s), and one per thread left one
  // thread idle for the difference (SPEC 2.3's CNN compiles in 1.57-1.65 s
  // with three per thread, 1.69-1.76 with one; four is slower again).
  threads = std::max(threads, 1u);
  unsigned parts = 3 * threads;
  // A small program has fewer functions than partitions: the empty ones
  // (nothing defined) are not compiled.
  llvm::SplitModule(**llvmModule, parts,
                    [&](std::unique_ptr<llvm::Module> part) {
                      auto defined = [](const llvm::GlobalValue &value) {
                        return !value.isDeclaration();
                      };
                      if (llvm::any_of(part->functions(), defined) ||
                          llvm::any_of(part->globals(), defined))
                        bitcode.push_back(bitcodeOf(*part));
                    });
  llvmModule->reset();
  splitTimer.stop();

  mlir::TimingScope compileTimer =
      phase(opts, "LLVM -O pipeline + code generation (parallel)");
  std::vector<std::string> objects(bitcode.size()), errors(bitcode.size());
  std::string identity = machineIdentity(**machine, opts.optLevel);
  auto compilePart = [&](size_t i) {
    // A partition whose IR was compiled before (the same kernels, the same
    // machine) is taken from the cache.
    std::string key;
    if (opts.cache) {
      key = opts.cache->key(bitcode[i], identity);
      if (std::optional<std::string> object = opts.cache->lookup(key)) {
        objects[i] = std::move(*object);
        return;
      }
    }
    llvm::LLVMContext context;
    auto part = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(bitcode[i], "nnc-part"), context);
    if (!part) {
      errors[i] = llvm::toString(part.takeError());
      return;
    }
    auto partMachine = createTargetMachine(opts);
    if (!partMachine) {
      errors[i] = llvm::toString(partMachine.takeError());
      return;
    }
    // LLVM's pass timers are not thread-safe: phases only.
    optimize(**part, **partMachine, opts.optLevel, /*timePasses=*/false);
    llvm::SmallString<0> object;
    llvm::raw_svector_ostream os(object);
    if (llvm::Error error = generateCode(**part, **partMachine, os,
                                         llvm::CodeGenFileType::ObjectFile)) {
      errors[i] = llvm::toString(std::move(error));
      return;
    }
    objects[i] = std::string(object.str());
    if (opts.cache)
      opts.cache->store(key, objects[i]);
  };
  // Largest first, each thread taking the next part when it is done.
  std::vector<size_t> order(bitcode.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bitcode[a].size() > bitcode[b].size();
  });
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < order.size();)
      compilePart(order[k]);
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < std::min<size_t>(threads, order.size()); ++t)
    workers.emplace_back(worker);
  worker();
  for (std::thread &thread : workers)
    thread.join();
  for (const std::string &error : errors)
    if (!error.empty())
      return makeError(error);
  return objects;
}
