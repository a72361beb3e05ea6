//===- Codegen.cpp - MLIRGen, passes, backend and link ---------------------===//
#include "tools/nnc/Codegen.h"
#include "RuntimeLink.h"

#include "backend/Backend.h"
#include "backend/ObjectCache.h"
#include "frontend/MLIRGen.h"
#include "frontend/RunConfig.h"
#include "ir/NNDialect.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"

#ifdef NNC_IN_PROCESS_LLD
#include "lld/Common/Driver.h"
LLD_HAS_DRIVER(elf)
#endif

#include <algorithm>
#include <cstdio>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

using namespace mlir;

namespace nnc {
namespace {

enum ExitCode { Ok = 0, InputError = 1, UsageError = 2, InternalError = 3 };

/// Runs the pipeline `pm` on `module` and verifies the result once. MLIR's
/// verifier after every pass (the PassManager's default, and nnc-opt's)
/// took about a fifth of a compile, resnet_mini's 3.5-3.8 s down to
/// 2.7-2.9 s without it: nnc verifies after each pipeline instead, which
/// still stops invalid IR before the next one, and verifies after every
/// pass with --verify-each.
LogicalResult runPipeline(PassManager &pm, ModuleOp module, bool verifyEach) {
  pm.enableVerifier(verifyEach);
  if (failed(pm.run(module)))
    return failure();
  return verifyEach ? success() : verify(module);
}

/// Picks the run named by --train, or the only one.
const sema::TrainRun *selectRun(const sema::Program &program,
                                const CodegenRequest &req) {
  if (!req.trainName.empty()) {
    if (const sema::TrainRun *run = program.findRun(req.trainName))
      return run;
    std::cerr << "nnc: error: no train or finetune declaration named '"
              << req.trainName << "'";
    std::string names;
    for (const auto &r : program.runs)
      names += (names.empty() ? "" : ", ") + ("'" + r.name + "'");
    if (!names.empty())
      std::cerr << " (the file declares " << names << ")";
    std::cerr << "\n";
    return nullptr;
  }
  if (program.runs.size() == 1)
    return &program.runs[0];
  if (program.runs.empty()) {
    std::cerr << "nnc: error: nothing to compile: the file declares no train "
                 "or finetune block\n";
    return nullptr;
  }
  std::cerr << "nnc: error: the file declares " << program.runs.size()
            << " training runs; choose one with --train NAME:";
  for (const auto &r : program.runs)
    std::cerr << " " << r.name;
  std::cerr << "\n";
  return nullptr;
}

/// Prints MLIR (or LLVM) text to the requested output.
int writeText(const std::string &path,
              const std::function<void(llvm::raw_ostream &)> &write) {
  std::string error;
  auto out = mlir::openOutputFile(path.empty() ? "-" : path, &error);
  if (!out) {
    std::cerr << "nnc: error: " << error << "\n";
    return InputError;
  }
  write(out->os());
  out->keep();
  return Ok;
}

/// Reads the state layout that nn-export-abi recorded.
bool readStateLayout(ModuleOp module, RunConfigInputs &in) {
  DictionaryAttr abi =
      nnc::nn::NNDialect::AbiAttrHelper(module.getContext()).getAttr(module);
  IntegerAttr size =
      nnc::nn::NNDialect::AbiStateSizeAttrHelper(module.getContext())
          .getAttr(module);
  if (!abi || !size)
    return false;
  for (NamedAttribute entry : abi) {
    auto arr = dyn_cast<DenseI64ArrayAttr>(entry.getValue());
    if (!arr || arr.size() != 2)
      return false;
    if (entry.getName() == "decode.cache") {
      in.decodeCache = arr[1];
      continue;
    }
    if (entry.getName() == "grads") {
      in.gradsSize = arr[1];
      continue;
    }
    in.state.push_back({entry.getName().str(), arr[0], arr[1]});
  }
  llvm::sort(in.state, [](const StateSlot &a, const StateSlot &b) {
    return a.offset < b.offset;
  });
  in.stateSize = size.getInt();
  return true;
}

/// A program in the object cache, whole (see runCodegen): a header of lines
/// (the layer-function decision, the state layout), then each object as its
/// length on a line and its bytes.
std::string packProgram(const RunConfigInputs &config, int64_t layerFunctions,
                        const std::vector<std::string> &objects) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "nnc-program 1\n"
     << layerFunctions << " " << config.stateSize << " " << config.decodeCache
     << " " << config.gradsSize << " " << config.state.size() << "\n";
  for (const StateSlot &slot : config.state)
    os << slot.offset << " " << slot.size << " " << slot.name << "\n";
  os << objects.size() << "\n";
  for (const std::string &object : objects)
    os << object.size() << "\n" << object;
  return out;
}

/// The inverse of packProgram; false when `bundle` is not one, and then
/// `config`, `layerFunctions` and `objects` are as they were.
bool unpackProgram(StringRef bundle, RunConfigInputs &config,
                   int64_t &layerFunctions, std::vector<std::string> &objects) {
  RunConfigInputs parsed = config;
  std::vector<std::string> parsedObjects;
  auto line = [&]() -> std::optional<StringRef> {
    size_t end = bundle.find('\n');
    if (end == StringRef::npos)
      return std::nullopt;
    StringRef text = bundle.take_front(end);
    bundle = bundle.drop_front(end + 1);
    return text;
  };
  auto integers = [&](size_t count) -> std::optional<SmallVector<int64_t>> {
    std::optional<StringRef> text = line();
    if (!text)
      return std::nullopt;
    SmallVector<StringRef> fields;
    text->split(fields, ' ');
    if (fields.size() != count)
      return std::nullopt;
    SmallVector<int64_t> values;
    for (StringRef field : fields)
      if (field.getAsInteger(10, values.emplace_back()))
        return std::nullopt;
    return values;
  };
  auto bytes = [&](std::string &out) {
    std::optional<SmallVector<int64_t>> size = integers(1);
    if (!size || (*size)[0] < 0 || uint64_t((*size)[0]) > bundle.size())
      return false;
    out = bundle.take_front((*size)[0]).str();
    bundle = bundle.drop_front((*size)[0]);
    return true;
  };
  if (line() != StringRef("nnc-program 1"))
    return false;
  std::optional<SmallVector<int64_t>> header = integers(5);
  if (!header || (*header)[4] < 0)
    return false;
  parsed.stateSize = (*header)[1];
  parsed.decodeCache = (*header)[2];
  parsed.gradsSize = (*header)[3];
  parsed.state.clear();
  for (int64_t i = 0; i < (*header)[4]; ++i) {
    std::optional<StringRef> text = line();
    if (!text)
      return false;
    auto [offset, rest] = text->split(' ');
    auto [size, name] = rest.split(' ');
    StateSlot slot{name.str(), 0, 0};
    if (offset.getAsInteger(10, slot.offset) ||
        size.getAsInteger(10, slot.size))
      return false;
    parsed.state.push_back(std::move(slot));
  }
  std::optional<SmallVector<int64_t>> count;
  if (!(count = integers(1)) || (*count)[0] < 0)
    return false;
  parsedObjects.assign((*count)[0], std::string());
  for (std::string &object : parsedObjects)
    if (!bytes(object))
      return false;
  if (!bundle.empty())
    return false;
  layerFunctions = (*header)[0];
  config = std::move(parsed);
  objects = std::move(parsedObjects);
  return true;
}

/// `module` printed without its locations, which only diagnostics read: what
/// the cache keys a whole program or library by (with its options).
std::string withoutLocations(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, OpPrintingFlags().enableDebugInfo(false));
  return text;
}

/// Embeds the run configuration as the NUL-terminated global `nnc_config`.
void embedConfig(ModuleOp module, const std::string &config) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  std::string text = config;
  text.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
  b.create<LLVM::GlobalOp>(module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, "nnc_config",
                           b.getStringAttr(text));
}

/// A --target cuda program: the global `nnc_cuda_arch` (NUL-terminated)
/// names the architecture of its kernels; the runtime opens the GPU at
/// start-up when it is there (runtime/program/ABI.h).
void markCudaProgram(ModuleOp module, StringRef arch) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  std::string text = arch.str();
  text.push_back('\0');
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
  b.create<LLVM::GlobalOp>(module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, "nnc_cuda_arch",
                           b.getStringAttr(text));
}

/// Embeds `bytes` as the global `name` (an i8 array) and its size as
/// `name`_size (i64).
void embedBytes(ModuleOp module, StringRef name, const std::string &bytes) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  auto type = LLVM::LLVMArrayType::get(b.getI8Type(), bytes.size());
  b.create<LLVM::GlobalOp>(module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, name,
                           b.getStringAttr(bytes));
  b.create<LLVM::GlobalOp>(
      module.getLoc(), b.getI64Type(), /*isConstant=*/true,
      LLVM::Linkage::External, (name + "_size").str(),
      b.getI64IntegerAttr(static_cast<int64_t>(bytes.size())));
}

/// The program's side of the int8 inference library it links (see the
/// inference library in generate()): `nnc_quant_sizes` (range floats, qf32
/// floats, qi8 bytes, as nn-quantize laid them out) and `nnc_qinfer_slots`
/// (the count, then the state slots nnc_qinfer's weights hold) for
/// `./model export --int8`, and weak stand-ins for the data the library's
/// model_predict reads, which only the exported archive defines (the program
/// never calls it).
void addQuantizationGlobals(ModuleOp module, ArrayRef<int64_t> sizes,
                            ArrayRef<int64_t> slots) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  for (auto [name, values] :
       {std::pair{"nnc_quant_sizes", sizes}, {"nnc_qinfer_slots", slots}})
    b.create<LLVM::GlobalOp>(
        loc, LLVM::LLVMArrayType::get(b.getI64Type(), values.size()),
        /*isConstant=*/true, LLVM::Linkage::External, name,
        b.getI64TensorAttr(values));
  for (const char *name :
       {"nnc_model_weights", "nnc_model_qf", "nnc_model_qi8"})
    b.create<LLVM::GlobalOp>(
        loc, LLVM::LLVMArrayType::get(b.getF32Type(), 1),
        /*isConstant=*/true, LLVM::Linkage::Weak, name,
        b.getZeroAttr(RankedTensorType::get({1}, b.getF32Type())));
}

/// The inference library's C entry point, in the LLVM dialect next to
/// nnc_infer (batches of `batch` samples of `in` floats to `out` floats):
///   int model_predict(const float *in, float *out, int n)
/// runs nnc_infer on whole batches straight from `in` to `out`; of a last
/// partial batch, fewer than a quarter of a batch go one by one through
/// nnc_infer_1 (the batch-1 object, when batch > 1), more through
/// zero-padded buffers of its own. The weights are the global
/// nnc_model_weights (the exported file's). 0 on success, 1 for n < 0.
/// The entry points of an inference library and the globals they read
/// after (weights, x, out).
struct LibraryEntries {
  StringRef whole, single;
  SmallVector<StringRef> data;
};

void addModelPredict(ModuleOp module, int64_t batch, int64_t in, int64_t out,
                     const LibraryEntries &names) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  Location loc = module.getLoc();
  b.setInsertionPointToEnd(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type f32 = b.getF32Type(), i64 = b.getI64Type(), i32 = b.getI32Type();
  SmallVector<StringRef> globals{"nnc_model_weights"};
  globals.append(names.data);
  for (StringRef global : globals)
    b.create<LLVM::GlobalOp>(loc, LLVM::LLVMArrayType::get(f32, 1),
                             /*isConstant=*/true, LLVM::Linkage::External,
                             global, Attribute());
  auto zeroGlobal = [&](StringRef name, int64_t n) {
    auto type = LLVM::LLVMArrayType::get(f32, n);
    auto g =
        b.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/false,
                                 LLVM::Linkage::Internal, name, Attribute());
    OpBuilder::InsertionGuard guard(b);
    b.createBlock(&g.getInitializerRegion());
    b.create<LLVM::ReturnOp>(loc,
                             b.create<LLVM::ZeroOp>(loc, type).getResult());
  };
  zeroGlobal("nnc_tail_in", batch * in);
  zeroGlobal("nnc_tail_out", batch * out);
  bool single = batch > 1;
  SmallVector<Type> argTypes(3 + names.data.size(), ptr);
  if (single)
    b.create<LLVM::LLVMFuncOp>(
        loc, names.single,
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), argTypes));
  auto fnType = LLVM::LLVMFunctionType::get(i32, {ptr, ptr, i32});
  auto fn = b.create<LLVM::LLVMFuncOp>(loc, "model_predict", fnType);
  Block *entry = fn.addEntryBlock(b);
  Region &body = fn.getBody();
  auto block = [&](ArrayRef<Type> args = {}) {
    Block *blk = new Block();
    for (Type t : args)
      blk->addArgument(t, loc);
    body.push_back(blk);
    return blk;
  };
  Block *loop = block({i64}), *step = block(), *whole = block(),
        *tail = block(), *done = block(), *bad = block();
  // Without the batch-1 object a partial batch is always padded.
  Block *partial = single ? block() : tail, *one = single ? block() : nullptr;
  auto i64c = [&](int64_t v) {
    return b.create<LLVM::ConstantOp>(loc, i64, v).getResult();
  };
  auto ret = [&](int64_t v) {
    b.create<LLVM::ReturnOp>(
        loc, b.create<LLVM::ConstantOp>(loc, i32, v).getResult());
  };
  Value inPtr = entry->getArgument(0), outPtr = entry->getArgument(1);
  b.setInsertionPointToStart(entry);
  Value n = b.create<LLVM::SExtOp>(loc, i64, entry->getArgument(2));
  Value weights = b.create<LLVM::AddressOfOp>(loc, ptr, "nnc_model_weights");
  SmallVector<Value> data;
  for (StringRef global : names.data)
    data.push_back(b.create<LLVM::AddressOfOp>(loc, ptr, global));
  auto args = [&](Value from, Value to) {
    SmallVector<Value> all{weights, from, to};
    all.append(data);
    return all;
  };
  Value negative =
      b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::slt, n, i64c(0));
  b.create<LLVM::CondBrOp>(loc, negative, bad, ValueRange{}, loop,
                           ValueRange{i64c(0)});
  b.setInsertionPointToStart(bad);
  ret(1);
  // loop(i): rows i.. of n remain.
  b.setInsertionPointToStart(loop);
  Value i = loop->getArgument(0);
  Value left = b.create<LLVM::SubOp>(loc, n, i);
  Value finished =
      b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::sle, left, i64c(0));
  b.create<LLVM::CondBrOp>(loc, finished, done, step);
  b.setInsertionPointToStart(step);
  Value full =
      b.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::sge, left, i64c(batch));
  Value x = b.create<LLVM::GEPOp>(
      loc, ptr, f32, inPtr,
      ValueRange{b.create<LLVM::MulOp>(loc, i, i64c(in))});
  Value y = b.create<LLVM::GEPOp>(
      loc, ptr, f32, outPtr,
      ValueRange{b.create<LLVM::MulOp>(loc, i, i64c(out))});
  b.create<LLVM::CondBrOp>(loc, full, whole, partial);
  // `blk`: `entry` on rows i.., then on from row i + rows.
  auto callAndAdvance = [&](Block *blk, StringRef entry, int64_t rows) {
    b.setInsertionPointToStart(blk);
    b.create<LLVM::CallOp>(loc, TypeRange{}, entry, args(x, y));
    b.create<LLVM::BrOp>(
        loc, ValueRange{b.create<LLVM::AddOp>(loc, i, i64c(rows))}, loop);
  };
  callAndAdvance(whole, names.whole, batch);
  if (single) {
    // A few samples left: one by one at batch 1.
    b.setInsertionPointToStart(partial);
    Value few = b.create<LLVM::ICmpOp>(
        loc, LLVM::ICmpPredicate::slt,
        b.create<LLVM::MulOp>(loc, left, i64c(4)), i64c(batch));
    b.create<LLVM::CondBrOp>(loc, few, one, tail);
    callAndAdvance(one, names.single, 1);
  }
  b.setInsertionPointToStart(tail);
  Value tailIn = b.create<LLVM::AddressOfOp>(loc, ptr, "nnc_tail_in");
  Value tailOut = b.create<LLVM::AddressOfOp>(loc, ptr, "nnc_tail_out");
  Value zero = b.create<LLVM::ConstantOp>(loc, b.getI8Type(), 0);
  b.create<LLVM::MemsetOp>(loc, tailIn, zero, i64c(batch * in * 4),
                           /*isVolatile=*/false);
  b.create<LLVM::MemcpyOp>(loc, tailIn, x,
                           b.create<LLVM::MulOp>(loc, left, i64c(in * 4)),
                           /*isVolatile=*/false);
  b.create<LLVM::CallOp>(loc, TypeRange{}, names.whole, args(tailIn, tailOut));
  b.create<LLVM::MemcpyOp>(loc, y, tailOut,
                           b.create<LLVM::MulOp>(loc, left, i64c(out * 4)),
                           /*isVolatile=*/false);
  b.create<LLVM::BrOp>(loc, ValueRange{}, done);
  b.setInsertionPointToStart(done);
  ret(0);
}

/// Links the program's object with the runtime (nnrt_program, nnrt) and
/// its libraries: with lld in this process where nnc was built with it (the
/// C++ driver's link line, read when nnc was configured, around the inputs;
/// see tools/nnc/CMakeLists.txt), else through the system's C++ driver.
int link(const std::vector<std::string> &objects, const std::string &output) {
  std::vector<std::string> inputs = objects;
  for (llvm::StringRef lib : llvm::split(NNC_RUNTIME_LINK_LIBS, ';'))
    if (!lib.empty())
      inputs.push_back(lib.str());
  inputs.push_back("-lpthread");
  inputs.push_back("-lm");
#ifdef NNC_IN_PROCESS_LLD
  std::vector<std::string> args = {"ld.lld"};
  for (llvm::StringRef arg : llvm::split(NNC_SYSTEM_LINK_ARGS, ';')) {
    if (arg == "NNC_OUTPUT")
      args.push_back(output);
    else if (arg == "NNC_INPUTS.o")
      args.insert(args.end(), inputs.begin(), inputs.end());
    else if (!arg.empty())
      args.push_back(arg.str());
  }
  std::vector<const char *> argv;
  for (const std::string &arg : args)
    argv.push_back(arg.c_str());
  // lld prints its own errors (undefined symbols, unwritable output).
  lld::Result result = lld::lldMain(argv, llvm::outs(), llvm::errs(),
                                    {{lld::Gnu, &lld::elf::link}});
  llvm::errs().flush();
  if (result.retCode != 0) {
    std::cerr << "nnc: error: linking '" << output << "' failed\n";
    return InternalError;
  }
  return Ok;
#else
  auto cxx = llvm::sys::findProgramByName("c++");
  if (!cxx) {
    std::cerr << "nnc: error: cannot find the system linker driver 'c++'; "
                 "install g++\n";
    return UsageError;
  }
  std::vector<std::string> args = {*cxx, "-o", output};
  // LLVM's linker when the system has it: a third of the GNU linker's
  // time on a program (issue 17's compile time).
  if (llvm::sys::findProgramByName("ld.lld"))
    args.push_back("-fuse-ld=lld");
  args.insert(args.end(), inputs.begin(), inputs.end());
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*cxx, argRefs, std::nullopt, {}, 0, 0,
                                     &error);
  if (rc != 0) {
    std::cerr << "nnc: error: linking '" << output << "' failed"
              << (error.empty() ? "" : ": " + error) << "\n";
    return InternalError;
  }
  return Ok;
#endif
}

/// The dialects and interfaces every module nnc compiles needs.
DialectRegistry codegenRegistry(bool gpu = false) {
  DialectRegistry registry;
  registry.insert<nn::NNDialect>();
  registerCPUCodegenDialects(registry);
  // --target cuda's dialects and translations (loading them costs every
  // CPU compile time otherwise).
  if (gpu)
    registerGPUCodegenDialects(registry);
  registerBackendTranslations(registry);
  func::registerInlinerExtension(registry);
  return registry;
}

/// nn-outline-layers' min-ops for every function of the program and its
/// inference library: 0 (each distinct layer a function, in every entry
/// point) when the program's largest function in the nn dialect (the
/// training step, built by the nn passes) has at least `minOps` top-level
/// operations, else -1 (none). One decision per model: the evaluation and
/// inference passes of a large model then share its layer functions
/// (resnet_mini compiles in 3.7 s instead of 4.9, the GPT in 2.4 instead
/// of 3.6, at the same speed of training), and small models, which train a
/// few percent slower with them (the MLP, SPEC 2.3's CNN), stay whole. Made
/// this early so that the inference library, on its own thread, does not
/// wait for the program's lowering to linalg.
int64_t layerFunctionsFor(ModuleOp module, int64_t minOps) {
  if (minOps < 0)
    return -1;
  int64_t largest = 0;
  for (auto fn : module.getOps<func::FuncOp>())
    if (!fn.isExternal())
      largest = std::max<int64_t>(largest,
                                  fn.getBody().front().getOperations().size());
  return largest >= minOps ? 0 : -1;
}

/// Only the entry points (`entry`, and `nnc_observe`/`nnc_quantize` of the
/// int8 library) stay a library object's symbols: its kernels and helpers
/// become internal, so that they clash neither with each other's nor with
/// the user's, and are named after the entry point
/// (`nnc_infer_1.__nnc_kernel_3`): every object of the exported library is
/// linked into the user's program, where profilers and debuggers tell
/// functions apart by name. One walk renames the calls and addresses.
void internalizeKernels(ModuleOp lib, StringRef entry) {
  llvm::StringMap<FlatSymbolRefAttr> renamed;
  for (auto fn : lib.getOps<LLVM::LLVMFuncOp>()) {
    if (fn.isExternal() || fn.getName() == entry ||
        fn.getName() == "nnc_observe" || fn.getName() == "nnc_quantize")
      continue;
    fn.setLinkage(LLVM::Linkage::Internal);
    renamed[fn.getName()] = FlatSymbolRefAttr::get(
        lib.getContext(), (entry + "." + fn.getName()).str());
  }
  auto newName = [&](std::optional<StringRef> name) -> FlatSymbolRefAttr {
    auto it = name ? renamed.find(*name) : renamed.end();
    return it == renamed.end() ? FlatSymbolRefAttr() : it->second;
  };
  lib.walk([&](Operation *op) {
    if (auto call = dyn_cast<LLVM::CallOp>(op)) {
      if (FlatSymbolRefAttr to = newName(call.getCallee()))
        call.setCalleeAttr(to);
    } else if (auto address = dyn_cast<LLVM::AddressOfOp>(op)) {
      if (FlatSymbolRefAttr to = newName(address.getGlobalName()))
        address.setGlobalNameAttr(to);
    } else if (auto fn = dyn_cast<LLVM::LLVMFuncOp>(op)) {
      if (FlatSymbolRefAttr to = newName(fn.getName()))
        fn.setSymName(to.getValue());
    }
  });
}

/// The inference library of `./model export`, for models of f32 inputs:
/// the evaluation-mode forward pass on folded batchnorm for the compiled
/// batch, serial (no runtime, no oneTBB), with model_predict around it, as
/// an object embedded in the program (nnc_export_object), and the same at
/// batch 1 for latency (nnc_export_object_1). With --int8 the same in int8
/// (`export --int8`: nnc_export_qobject(_1), the first with the
/// calibration entries), also linked into the program, which calibrates,
/// quantizes and measures it in process; not by default, it costs more
/// compile time than the f32 library. Built in an MLIRContext of its own,
/// so that it compiles on a thread of its own while the program's passes
/// run; its errors are collected for the caller to print.
struct InferenceLibrary {
  std::vector<std::pair<std::string, std::string>> embedded; ///< global, object
  std::vector<std::string> linked;
  SmallVector<int64_t> quantSizes, inferSlots;
  bool ok = true;
  std::string errors;
};

void buildInferenceLibrary(const sema::Program &program,
                           const sema::TrainRun &run, const SourceManager &sm,
                           const CodegenRequest &req, int64_t compiledBatch,
                           std::shared_future<int64_t> layerMinOps,
                           ObjectCache *cache, TimingScope &exportTimer,
                           InferenceLibrary &out) {
  MLIRContext context(codegenRegistry(), MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  llvm::raw_string_ostream errors(out.errors);
  ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      errors << "nnc: internal error: " << d.getLocation() << ": " << d << "\n";
    return success();
  });
  BackendOptions beOpts;
  beOpts.optLevel = static_cast<unsigned>(req.optLevel);
  beOpts.cache = cache;
  bool vnni = beOpts.features == "host" &&
              llvm::sys::getHostCPUFeatures().lookup("avx512vnni");
  const sema::Model &model = program.models[run.model];
  // False on failure; out.quantSizes empty when an int8 module has no
  // layer to quantize.
  // The target in the cache's keys, the same for every library.
  std::string target = cache ? targetIdentity(beOpts) : std::string();
  auto library = [&](int64_t batch, StringRef entry, StringRef global,
                     Quantization quant, const LibraryEntries *predict,
                     bool linked) -> bool {
    TimingScope libTimer = nestedPhase(exportTimer, global.data());
    sema::TrainRun sized = run;
    sized.batch = batch;
    // Its warnings are the program's, already printed once.
    std::ostringstream repeated;
    DiagnosticEngine quiet(sm, repeated);
    OwningOpRef<ModuleOp> lib = mlirGen(context, program, sized, sm, quiet);
    if (!lib)
      return false;
    // A library whose module and options were compiled before is taken
    // whole from the cache, without its passes: its object is determined by
    // its module before them (printed without locations: the library's
    // diagnostics are internal errors), the options below and the target
    // and compiler in the cache's key. Not the calibrated int8 library,
    // whose quantization layout the passes compute.
    std::string key;
    if (cache && quant != Quantization::Int8WithCalibration) {
      std::string text = withoutLocations(*lib);
      llvm::raw_string_ostream os(text);
      os << "\nlibrary " << entry << " " << static_cast<int>(quant) << " "
         << batch << " " << layerMinOps.get() << " " << vnni << " "
         << model.inputType.numElements() << " "
         << model.outputType.numElements() << " "
         << (predict ? predict->whole + " " + predict->single : "");
      if (predict)
        for (StringRef name : predict->data)
          os << " " << name;
      key = cache->key(text, target);
      if (std::optional<std::string> object = cache->lookup(key)) {
        out.embedded.emplace_back(global.str(), *object);
        if (linked)
          out.linked.push_back(std::move(*object));
        return true;
      }
    }
    PassManager linalgPM(&context);
    linalgPM.enableTiming(libTimer);
    buildNNInferencePipeline(linalgPM, entry, quant);
    buildNNToLinalgPipeline(linalgPM);
    if (failed(runPipeline(linalgPM, *lib, req.verifyEach)))
      return false;
    PassManager libPM(&context);
    libPM.enableTiming(libTimer);
    CPUCodegenOptions serial;
    serial.parallelChunks = 0;
    // Layer functions as in the program (see layerFunctionsFor): the
    // decision waits for the program's training step.
    serial.layerMinOps = layerMinOps.get();
    serial.int8Vnni = vnni;
    buildCPUCodegenPipeline(libPM, serial);
    if (failed(runPipeline(libPM, *lib, req.verifyEach)))
      return false;
    if (quant == Quantization::Int8WithCalibration) {
      auto sizes =
          nnc::nn::NNDialect::QuantSizesAttrHelper(&context).getAttr(*lib);
      if (!sizes)
        return true;
      out.quantSizes.assign(sizes.asArrayRef().begin(),
                            sizes.asArrayRef().end());
      auto kept =
          nnc::nn::NNDialect::InferSlotsAttrHelper(&context).getAttr(*lib);
      out.inferSlots.assign({int64_t(kept.size())});
      out.inferSlots.append(kept.asArrayRef().begin(), kept.asArrayRef().end());
    }
    internalizeKernels(*lib, entry);
    if (predict)
      addModelPredict(*lib, batch, model.inputType.numElements(),
                      model.outputType.numElements(), *predict);
    llvm::SmallString<0> object;
    llvm::raw_svector_ostream os(object);
    TimingScope backendTimer = nestedPhase(libTimer, "backend");
    // Kept whole under `key` (below), not also as an object of its IR.
    BackendOptions libOpts = beOpts;
    if (!key.empty())
      libOpts.cache = nullptr;
    if (llvm::Error e = emitObject(*lib, libOpts, os)) {
      errors << "nnc: internal error: " << llvm::toString(std::move(e)) << "\n";
      return false;
    }
    if (!key.empty())
      cache->store(key, object);
    out.embedded.emplace_back(global.str(), std::string(object.str()));
    if (linked)
      out.linked.push_back(std::string(object.str()));
    return true;
  };
  LibraryEntries f32{"nnc_infer", "nnc_infer_1", {}};
  LibraryEntries int8{
      "nnc_qinfer", "nnc_qinfer_1", {"nnc_model_qf", "nnc_model_qi8"}};
  bool single = compiledBatch > 1;
  out.ok =
      library(compiledBatch, f32.whole, "nnc_export_object", Quantization::None,
              &f32, false) &&
      (!single || library(1, f32.single, "nnc_export_object_1",
                          Quantization::None, nullptr, false)) &&
      (!req.int8 || library(compiledBatch, int8.whole, "nnc_export_qobject",
                            Quantization::Int8WithCalibration, &int8, true)) &&
      (out.quantSizes.empty() || !single ||
       library(1, int8.single, "nnc_export_qobject_1", Quantization::Int8,
               nullptr, true));
}

} // namespace

int runCodegen(const sema::Program &program, const SourceManager &sm,
               DiagnosticEngine &diags, const CodegenRequest &req) {
  const sema::TrainRun *run = selectRun(program, req);
  if (!run)
    return program.runs.empty() ? InputError : UsageError;

  MLIRContext context(codegenRegistry(req.target == "cuda"));
  context.loadAllAvailableDialects();

  // Errors of later stages still point at the user's line.
  bool failedPass = false;
  // --target cuda: what the GPU passes cannot compile yet is the user's
  // to know about, not a bug (the first such error, as file:line:col).
  bool inGpuPipeline = false;
  std::string gpuUnsupported;
  // Whether the program's passes warned (see the cache below).
  bool passesWarned = false;
  ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      failedPass = true;
    if (inGpuPipeline && d.getSeverity() == DiagnosticSeverity::Error) {
      std::string message = d.str();
      if (StringRef(message).contains("--target cuda") ||
          StringRef(message).contains("device code")) {
        if (gpuUnsupported.empty()) {
          std::string where;
          d.getLocation()->walk([&](Location l) {
            if (auto file = dyn_cast<FileLineColLoc>(l)) {
              where = (file.getFilename().str() + ":" +
                       std::to_string(file.getLine()) + ":" +
                       std::to_string(file.getColumn()) + ": ");
              return WalkResult::interrupt();
            }
            return WalkResult::advance();
          });
          size_t prefix = message.find("--target cuda: ");
          if (prefix != std::string::npos)
            message.erase(prefix, strlen("--target cuda: "));
          gpuUnsupported = where + "error: --target cuda: " + message;
        }
        return success();
      }
    }
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "nnc: "
       << (d.getSeverity() == DiagnosticSeverity::Error ? "internal error: "
                                                        : "")
       << d.getLocation() << ": " << d << "\n";
    std::cerr << os.str();
    if (d.getSeverity() == DiagnosticSeverity::Warning)
      passesWarned = true;
    return success();
  });

  // --time-passes: one tree for the whole compile, printed to stderr when
  // `timing` goes out of scope.
  DefaultTimingManager timing;
  timing.setEnabled(req.timePasses);
  TimingScope root = timing.getRootScope();

  TimingScope mlirGenTimer = nestedPhase(root, "MLIRGen");
  OwningOpRef<ModuleOp> module = mlirGen(context, program, *run, sm, diags);
  mlirGenTimer.stop();
  if (!module) {
    diags.printSummary();
    return InputError;
  }
  // Objects compiled before come from the cache (executables only: --emit
  // writes what it compiles).
  std::unique_ptr<ObjectCache> cache;
  if (req.emit.empty() && !req.cacheDir.empty())
    cache = ObjectCache::open(req.cacheDir, req.cacheSalt, req.cacheBytes);
  auto reportCache = llvm::make_scope_exit([&] {
    if (!cache)
      return;
    cache->trim();
    if (req.timePasses)
      std::cerr << "nnc: object cache: " << cache->hits() << " of "
                << cache->lookups() << " objects reused (" << cache->directory()
                << ")\n";
  });
  // The inference library compiles on a thread of its own from here
  // (joined after the program's backend, or at any return).
  InferenceLibrary library;
  TimingScope libraryTimer;
  std::thread libraryThread;
  // Set once the program's training step is built (layerFunctionsFor); -1
  // (none) if it stops before.
  std::promise<int64_t> layerMinOps;
  bool layersDecided = false;
  auto decideLayers = [&](int64_t minOps) {
    if (!std::exchange(layersDecided, true))
      layerMinOps.set_value(minOps);
  };
  auto joinLibrary = llvm::make_scope_exit([&] {
    decideLayers(-1);
    if (libraryThread.joinable())
      libraryThread.join();
  });
  const sema::Model &model = program.models[run->model];
  if (req.emit.empty() && model.inputType.elem == sema::ElemType::F32) {
    libraryTimer = nestedPhase(root, "inference library (own thread)");
    libraryThread = std::thread([&, batch = batchSizeOf(program, *run),
                                 decision = layerMinOps.get_future().share()] {
      buildInferenceLibrary(program, *run, sm, req, batch, decision,
                            cache.get(), libraryTimer, library);
    });
  }

  if (!libraryThread.joinable() && req.int8 && req.emit.empty())
    std::cerr << "nnc: warning: --int8: model '" << model.name
              << "' takes token ids; the inference library covers models of "
                 "float features\n";
  BackendOptions beOpts;
  beOpts.optLevel = static_cast<unsigned>(req.optLevel);
  beOpts.cache = cache.get();
  RunConfigInputs config;
  config.program = &program;
  config.run = run;
  config.batch = batchSizeOf(program, *run);
  // Relative data paths resolve against the .nn file's folder wherever the
  // program later runs: record it absolute.
  llvm::SmallString<256> sourceDir(llvm::sys::path::parent_path(req.sourcePath));
  llvm::sys::fs::make_absolute(sourceDir);
  llvm::sys::path::remove_dots(sourceDir, /*remove_dot_dot=*/true);
  config.sourceDir = std::string(sourceDir);
  config.compilerVersion = req.version;

  // A program compiled before (the same module out of MLIRGen, the same
  // options, target and compiler) is taken from the cache whole: its
  // objects, its state layout and its layer-function decision. The module
  // is keyed without its locations, which only diagnostics read: a program
  // moved to another folder, or with lines added above a model, is the same
  // program. One whose passes warned is not kept (a hit would not warn
  // again). Not with --verify-each or --internal-error-test, which are
  // about the passes.
  std::vector<std::string> objects;
  std::string programKey;
  bool cachedProgram = false;
  if (cache && req.target == "cpu" && !req.verifyEach && !req.failPassForTest) {
    std::string text = withoutLocations(*module);
    llvm::raw_string_ostream os(text);
    os << "\nprogram " << req.parallelChunks << " " << req.layerFunctionsMinOps;
    programKey = cache->key(text, targetIdentity(beOpts));
    int64_t decision = -1;
    std::optional<std::string> bundle = cache->lookup(programKey);
    cachedProgram = bundle && unpackProgram(*bundle, config, decision, objects);
    if (cachedProgram)
      decideLayers(decision);
  }

  if (!cachedProgram) {
    PassManager nnPM(&context);
    TimingScope nnTimer = nestedPhase(root, "nn passes");
    nnPM.enableTiming(nnTimer);
    buildNNTrainingPipeline(nnPM);
    if (failed(runPipeline(nnPM, *module, req.verifyEach)))
      return InternalError;
    int64_t layerFunctions =
        layerFunctionsFor(*module, req.layerFunctionsMinOps);
    decideLayers(layerFunctions);
    if (req.failPassForTest) {
      emitError(module->getLoc(), "forced by --internal-error-test");
      return InternalError;
    }
    if (req.emit == "nn")
      return writeText(req.output, [&](llvm::raw_ostream &os) {
        // With locations in their parseable form: nnc-opt takes it as input.
        module->print(
            os, OpPrintingFlags().enableDebugInfo(true, /*prettyForm=*/false));
      });

    if (!readStateLayout(*module, config)) {
      std::cerr << "nnc: internal error: no state layout after nn-export-abi\n";
      return InternalError;
    }

    nnTimer.stop();
    PassManager linalgPM(&context);
    TimingScope linalgTimer = nestedPhase(root, "nn -> linalg passes");
    linalgPM.enableTiming(linalgTimer);
    buildNNToLinalgPipeline(linalgPM,
                            /*bySampleConvolutions=*/req.target != "cuda");
    if (failed(runPipeline(linalgPM, *module, req.verifyEach)))
      return InternalError;
    linalgTimer.stop();
    if (req.emit == "linalg")
      return writeText(req.output,
                       [&](llvm::raw_ostream &os) { module->print(os); });

    bool cuda = req.target == "cuda";
    PassManager llvmPM(&context);
    TimingScope codegenTimer = nestedPhase(
        root, cuda ? "nnc-gpu-codegen passes" : "nnc-cpu-codegen passes");
    llvmPM.enableTiming(codegenTimer);
    if (cuda) {
      // The step's kernels as PTX, the host code launching them (issue 15).
      GPUCodegenOptions gpuOpts;
      gpuOpts.chip = req.cudaArch;
      gpuOpts.features = req.cudaArch == "sm_80" ? "+ptx70" : "+ptx80";
      buildGPUCodegenPipeline(llvmPM, gpuOpts);
      inGpuPipeline = true;
    } else {
      CPUCodegenOptions cgOpts;
      cgOpts.parallelChunks = req.parallelChunks;
      cgOpts.layerMinOps = layerFunctions;
      buildCPUCodegenPipeline(llvmPM, cgOpts);
    }
    if (failed(runPipeline(llvmPM, *module, req.verifyEach))) {
      if (!gpuUnsupported.empty()) {
        std::cerr << gpuUnsupported << "\n"
                  << "hint: the GPU target cannot compile this model yet; "
                     "build it for the CPU (--target cpu)\n";
        return UsageError;
      }
      return InternalError;
    }
    inGpuPipeline = false;
    codegenTimer.stop();
    if (cuda)
      markCudaProgram(*module, req.cudaArch);

    // An executable's configuration goes into its data object (below), apart
    // from the code: a hyperparameter or a path then changes no partition of
    // the code, whose objects the cache keeps.
    if (!req.emit.empty())
      embedConfig(*module, buildRunConfig(config));
    if (req.emit == "llvm-mlir")
      return writeText(req.output,
                       [&](llvm::raw_ostream &os) { module->print(os); });

    TimingScope backendTimer = nestedPhase(root, "backend");
    if (req.timePasses)
      beOpts.timing = &backendTimer;
    auto emitTo = [&](const std::string &path, auto emitFn) -> int {
      std::string error;
      auto out = mlir::openOutputFile(path.empty() ? "-" : path, &error);
      if (!out) {
        std::cerr << "nnc: error: " << error << "\n";
        return InputError;
      }
      if (llvm::Error e = emitFn(*module, beOpts, out->os())) {
        std::cerr << "nnc: internal error: " << llvm::toString(std::move(e))
                  << "\n";
        return InternalError;
      }
      out->keep();
      return Ok;
    };
    if (req.emit == "llvm")
      return emitTo(req.output, emitLLVMIR);
    if (req.emit == "asm")
      return emitTo(req.output, emitAssembly);
    if (req.emit == "obj") {
      if (req.output.empty() || req.output == "-") {
        std::cerr << "nnc: error: --emit obj needs -o FILE\n";
        return UsageError;
      }
      return emitTo(req.output, emitObject);
    }

    // An executable: objects (three per backend thread) in temporary files,
    // then the link with nnrt.
    unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    auto compiled = emitObjects(*module, beOpts, threads);
    backendTimer.stop();
    if (!compiled) {
      std::cerr << "nnc: internal error: "
                << llvm::toString(compiled.takeError()) << "\n";
      return InternalError;
    }
    objects = std::move(*compiled);
    if (!programKey.empty() && !passesWarned)
      cache->store(programKey, packProgram(config, layerFunctions, objects));
  }
  std::string runConfig = buildRunConfig(config);
  // The inference library (see buildInferenceLibrary), built on its own
  // thread since the program's MLIRGen, joins only now: its objects go into
  // the program as data in an object of their own (or are linked), so that
  // the program's backend above did not wait for the library's last one.
  // That data object also holds the program's configuration.
  std::vector<std::string> linkedObjects;
  OwningOpRef<ModuleOp> data = ModuleOp::create(module->getLoc());
  embedConfig(*data, runConfig);
  if (libraryThread.joinable()) {
    libraryThread.join();
    libraryTimer.stop();
    if (!library.errors.empty())
      std::cerr << library.errors;
    if (!library.ok)
      return InternalError;
    for (auto &[global, object] : library.embedded)
      embedBytes(*data, global, object);
    linkedObjects = std::move(library.linked);
    if (!library.quantSizes.empty())
      addQuantizationGlobals(*data, library.quantSizes, library.inferSlots);
    else if (req.int8)
      std::cerr << "nnc: warning: --int8: model '" << model.name
                << "' has no dense or conv2d layer to quantize; the program "
                   "has no int8 library\n";
  }
  llvm::SmallString<0> dataObject;
  llvm::raw_svector_ostream dataStream(dataObject);
  if (llvm::Error e = emitObject(*data, BackendOptions{}, dataStream)) {
    std::cerr << "nnc: internal error: " << llvm::toString(std::move(e))
              << "\n";
    return InternalError;
  }
  objects.push_back(std::string(dataObject.str()));
  std::vector<std::string> objPaths;
  auto removeObjects = llvm::make_scope_exit([&] {
    for (const std::string &path : objPaths)
      llvm::sys::fs::remove(path);
  });
  for (const std::string &object :
       llvm::concat<const std::string>(objects, linkedObjects)) {
    llvm::SmallString<128> objPath;
    int fd;
    if (llvm::sys::fs::createTemporaryFile("nnc", "o", fd, objPath)) {
      std::cerr << "nnc: error: cannot create a temporary file\n";
      return InternalError;
    }
    objPaths.push_back(std::string(objPath));
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
    os.close();
    if (os.has_error()) {
      std::cerr << "nnc: error: cannot write '" << objPath.str().str()
                << "'\n";
      return InternalError;
    }
  }
  TimingScope linkTimer = nestedPhase(root, "link");
  int rc = link(objPaths, req.output);
  return rc;
}

} // namespace nnc
