//===- Export.cpp - ./model export: the inference library ----------------===//
//
// The library is nnc's: the inference object (nnc_infer, the evaluation-mode
// forward pass on folded batchnorm with the preprocessing in front, and
// model_predict around it, serial code) was generated with the program and
// is embedded in it (nnc_export_object). Export only supplies its data: the
// checkpoint's parameters and buffers, folded by the generated nnc_fold,
// and the preprocessing as a scale and shift per feature, in one ELF data
// object (nnc_model_weights), archived with the code into libmodel.a, and
// model.h describing it.
//
// `--int8` (programs compiled with `nnc --int8`): the int8 object
// (nnc_export_qobject, nn-quantize's) instead, whose data the program
// computes with generated entry points it links: nnc_observe over the
// first N training samples (each quantized layer's input range),
// nnc_quantize (int8 weights and scales: nnc_model_qf, nnc_model_qi8), and
// nnc_qinfer next to nnc_predict on the test split for the accuracies it
// prints. The runtime passes batches and buffers; it quantizes nothing.
//
//===----------------------------------------------------------------------===//
#include "runtime/Archive.h"
#include "runtime/AtomicWrite.h"
#include "runtime/Error.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Checkpoint.h"
#include "runtime/program/Commands.h"
#include "runtime/program/Data.h"
#include "runtime/program/Evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace nnrt {
namespace {

/// The preprocessing as x' = x scale + shift per feature, or an error
/// naming the step that is not such a map (clip).
void affinePreprocessing(const RunConfig &cfg, const Preprocessor &pre,
                         std::vector<float> &scale, std::vector<float> &shift) {
  size_t n = static_cast<size_t>(cfg.inputSize());
  std::vector<float> at0(n, 0.0f), at1(n, 1.0f);
  pre.apply(at0.data());
  pre.apply(at1.data());
  scale.resize(n);
  shift = at0;
  for (size_t i = 0; i < n; ++i)
    scale[i] = at1[i] - at0[i];
  // An affine map gives these too; clip does not (raw values are 0-255
  // for images, any for tables: probe both ends).
  for (float probe : {255.0f, -1000.0f, 1000.0f}) {
    std::vector<float> x(n, probe);
    pre.apply(x.data());
    for (size_t i = 0; i < n; ++i) {
      double want = double(scale[i]) * probe + shift[i];
      if (std::fabs(x[i] - want) > 1e-4 * std::max(1.0, std::fabs(want)))
        throw UsageError("export: the preprocessing of run '" + cfg.run +
                         "' (" + pre.describe() +
                         ") is not a scale and shift per feature; the "
                         "library applies only such steps (scale, "
                         "normalize, standardize, minmax), not clip");
    }
  }
}

/// A C string literal of `s`.
std::string cString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\')
      out += '\\', out += static_cast<char>(c);
    else if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\{:03o}", c);
    else
      out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string header(const RunConfig &cfg, const Preprocessor &pre,
                   const std::vector<std::string> &classes) {
  std::ostringstream h;
  std::string shape;
  for (int64_t d : cfg.inputShape)
    shape += (shape.empty() ? "" : ", ") + std::to_string(d);
  h << "/* model.h: the inference library of run '" << cfg.run << "' (model '"
    << cfg.modelName << "'), written by `./model export`. */\n"
    << "#ifndef MODEL_H\n#define MODEL_H\n\n"
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "/* One sample: [" << shape << "] raw features, as `./model predict` "
    << "reads them\n   (pixel values 0-255 for images); the preprocessing ("
    << pre.describe() << ") is applied inside. */\n"
    << "#define MODEL_INPUT_SIZE " << cfg.inputSize() << "\n"
    << "/* One output row: "
    << (cfg.isClassifier() ? (cfg.loss == "binary_cross_entropy"
                                  ? "the probability of class 1."
                                  : "a probability per class.")
                           : "the predicted values.")
    << " */\n#define MODEL_OUTPUT_SIZE " << cfg.outputSize() << "\n";
  if (cfg.isClassifier()) {
    int32_t n = cfg.numClasses();
    h << "#define MODEL_NUM_CLASSES " << n << "\n"
      << "static const char *const model_class_names[" << n << "] = {";
    for (int32_t c = 0; c < n; ++c)
      h << (c ? ", " : "")
        << cString(c < int32_t(classes.size()) ? classes[c]
                                               : std::to_string(c));
    h << "};\n";
  }
  h << "\n/* Predicts `n` samples: `in` holds n x MODEL_INPUT_SIZE floats, "
       "`out` receives\n   n x MODEL_OUTPUT_SIZE. Returns 0 on success, 1 "
       "when n < 0. Not reentrant\n   (static buffers): call it from one "
       "thread at a time. */\n"
    << "int model_predict(const float *in, float *out, int n);\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* MODEL_H */\n";
  return h.str();
}

/// The int8 library's data (nn-quantize's qf32 and qi8) and the scores of
/// the f32 and int8 forward passes, from the generated calibration entries
/// linked into this program. `weights`: the folded parameters and buffers
/// with the preprocessing's slots; the batches come preprocessed, so the
/// generated code runs on a copy whose preprocessing is the identity.
struct Quantized {
  std::vector<float> weights; ///< nnc_qinfer's (see nnc_qinfer_slots)
  std::vector<float> qf;
  std::vector<int8_t> qi8;
};

/// nnc_qinfer's weights from the whole `blob` (parameters, buffers, scale,
/// shift).
std::vector<float> qinferWeights(const RunConfig &cfg,
                                 const std::vector<float> &blob) {
  std::vector<float> out;
  for (int64_t i = 0; i < nnc_qinfer_slots[0]; ++i) {
    const StateSlot &s = cfg.slots.at(size_t(nnc_qinfer_slots[1 + i]));
    out.insert(out.end(), blob.begin() + s.offset,
               blob.begin() + s.offset + s.size);
  }
  out.insert(out.end(), blob.end() - 2 * cfg.inputSize(), blob.end());
  return out;
}

/// Calls `fn` on each non-empty batch of `data` in file order, samples
/// shaped as evaluation reads them (the centre crop when augmentation
/// crops), until it returns false.
template <typename F>
void forEachBatch(const RunConfig &cfg, const Dataset &data,
                  const Preprocessor &pre, F fn) {
  BatchLoader loader(data, pre, loaderOptions(cfg, cfg.batch, false));
  std::unique_ptr<Augmenter> crop = evalCropFor(cfg, data);
  loader.setEvalCrop(crop.get());
  size_t batches = loader.beginEpoch();
  Batch batch;
  for (size_t i = 0; i < batches; ++i) {
    loader.fillBatch(i, batch);
    if (batch.count != 0 && !fn(batch))
      return;
  }
}

Quantized quantize(const RunConfig &cfg, const CommonOptions &common,
                   const ExportOptions &opts, const SafeTensorsFile &file,
                   std::vector<float> &state, const std::vector<float> &real) {
  if (!nnc_export_qobject || !nnc_quant_sizes || !nnc_qinfer_slots ||
      !nnc_observe || !nnc_quantize || !nnc_qinfer)
    throw UsageError("export --int8: this program has no int8 inference "
                     "library; compile it with 'nnc FILE.nn -o PROGRAM "
                     "--int8' (models of float features with dense or "
                     "conv2d layers)");
  int64_t n = cfg.inputSize();
  std::vector<float> blob = real;
  std::fill(blob.end() - 2 * n, blob.end() - n, 1.0f); // scale
  std::fill(blob.end() - n, blob.end(), 0.0f);         // shift
  DataOptions dopts = dataOptions(common);
  bool test = cfg.data.test.present();
  dopts.needTrain = true;
  dopts.needTest = test;
  dopts.needValidation = !test;
  RunData rd = loadRunData(cfg, dopts);
  if (!rd.hasTrain)
    throw Error("export --int8: dataset '" + cfg.data.name +
                "' has no training split to calibrate on");
  rd.preprocessor->restore(file, rd.train.store().featureShape);
  rd.preprocessor->reshape(cfg.inputShape);

  // Calibration: the first N training samples in file order; padding rows
  // repeat the first row, which leaves minima and maxima alone.
  int64_t wanted = opts.calibrate > 0 ? opts.calibrate : 1000;
  size_t layers = size_t(nnc_quant_sizes[0] / 2);
  std::vector<float> ranges(2 * layers), next(2 * layers);
  for (size_t l = 0; l < layers; ++l) {
    ranges[2 * l] = std::numeric_limits<float>::infinity();
    ranges[2 * l + 1] = -std::numeric_limits<float>::infinity();
  }
  Buffers buf(cfg);
  int64_t seen = 0;
  forEachBatch(cfg, rd.train, *rd.preprocessor, [&](const Batch &batch) {
    buf.load(batch, cfg.classTargets);
    size_t rows = std::min<size_t>(batch.count, size_t(wanted - seen));
    for (size_t r = rows; r < size_t(cfg.batch); ++r)
      std::copy_n(buf.x.begin(), n, buf.x.begin() + r * n);
    nnc_observe(blob.data(), buf.x.data(), buf.result.data(), ranges.data(),
                next.data());
    ranges.swap(next);
    seen += int64_t(rows);
    return seen < wanted;
  });
  Quantized q;
  q.qf.assign(size_t(nnc_quant_sizes[1]), 0.0f);
  q.qi8.assign(size_t(nnc_quant_sizes[2]), 0);
  nnc_quantize(blob.data(), ranges.data(), q.qf.data(), q.qi8.data());
  std::vector<float> identity = qinferWeights(cfg, blob);
  q.weights = qinferWeights(cfg, real);

  const Dataset &eval = test ? rd.test : rd.validation;
  std::string split = test ? "test" : "validation";
  if (!(test ? rd.hasTest : rd.hasValidation) || eval.size() == 0) {
    std::printf("calibrated on %lld training samples; dataset '%s' has no "
                "test or validation split to score the int8 model on\n",
                static_cast<long long>(seen), cfg.data.name.c_str());
    return q;
  }
  // The f32 (nnc_predict) and int8 (nnc_qinfer) predictions scored alike:
  // probabilities, which rank classes as logits do (binary: p - 1/2 as
  // the logit's sign).
  Scores f32(cfg), int8(cfg);
  std::vector<float> preds(size_t(cfg.batch * cfg.outputSize()));
  bool binary = cfg.loss == "binary_cross_entropy";
  forEachBatch(cfg, eval, *rd.preprocessor, [&](const Batch &batch) {
    auto score = [&](Scores &scores) {
      if (binary)
        for (float &p : preds)
          p -= 0.5f;
      scores.add(cfg, buf, preds.data(), 0.0, batch.count);
    };
    buf.load(batch, cfg.classTargets);
    nnc_predict(state.data(), buf.x.data(), preds.data());
    score(f32);
    nnc_qinfer(identity.data(), buf.x.data(), preds.data(), q.qf.data(),
               q.qi8.data());
    score(int8);
    return true;
  });
  std::printf("calibrated on %lld training samples; on the %s split "
              "(%zu samples):\n",
              static_cast<long long>(seen), split.c_str(), f32.samples);
  auto a = f32.metrics(cfg.metrics), b = int8.metrics(cfg.metrics);
  std::printf("  %-10s %10s %10s\n", "", "f32", "int8");
  for (size_t i = 0; i < a.size(); ++i)
    std::printf("  %-10s %10.4f %10.4f\n", a[i].first.c_str(), a[i].second,
                b[i].second);
  return q;
}

} // namespace

int exportLibrary(const RunConfig &cfg, const CommonOptions &common,
                  const ExportOptions &opts) {
  const std::string &weights = opts.weights, &dir = opts.dir;
  if (opts.calibrate > 0 && !opts.int8)
    throw UsageError("export: --calibrate N goes with --int8");
  if (!nnc_export_object)
    throw UsageError("export: run '" + cfg.run +
                     "' has no inference "
                     "library: its model takes token ids; the library "
                     "covers models of float features");
  if (makeAudioFeatures(cfg))
    throw UsageError("export: run '" + cfg.run +
                     "' computes audio features "
                     "from sound files at run time; the library covers "
                     "models of features as the files hold them");
  SafeTensorsFile file = SafeTensorsFile::read(weights);
  std::vector<float> state(cfg.stateSize, 0.0f);
  readCheckpoint(cfg, file, state, /*full=*/false);
  std::unique_ptr<Preprocessor> pre = makePreprocessor(cfg);
  pre->restore(file, cfg.inputShape);
  std::vector<float> scale, shift;
  affinePreprocessing(cfg, *pre, scale, shift);
  // The parameters and buffers lead the state; optimizer state follows.
  int64_t prefix = 0;
  for (const StateSlot &s : cfg.slots)
    if (s.name.rfind("optimizer.", 0) != 0)
      prefix = std::max(prefix, s.offset + s.size);
  // The f32 scores of `--int8` come from nnc_predict, on the unfolded
  // state.
  std::vector<float> folded = state;
  if (nnc_fold)
    nnc_fold(folded.data());
  std::vector<float> blob(folded.begin(), folded.begin() + prefix);
  blob.insert(blob.end(), scale.begin(), scale.end());
  blob.insert(blob.end(), shift.begin(), shift.end());

  std::vector<ArchiveMember> members;
  std::string code, data;
  auto addCode = [&](const char *member, const char *object, int64_t size,
                     const std::vector<std::string> &symbols) {
    members.push_back({member, std::string(object, size_t(size)), symbols});
    code += members.back().data;
  };
  auto addData = [&](const char *member, const char *symbol, const void *bytes,
                     size_t size) {
    members.push_back({member, elfDataObject(symbol, bytes, size), {symbol}});
    data += members.back().data;
  };
  if (opts.int8) {
    Quantized q = quantize(cfg, common, opts, file, state, blob);
    addCode("model.o", nnc_export_qobject, nnc_export_qobject_size,
            {"model_predict", "nnc_qinfer"});
    if (nnc_export_qobject_1)
      addCode("model_1.o", nnc_export_qobject_1, nnc_export_qobject_1_size,
              {"nnc_qinfer_1"});
    addData("weights.o", "nnc_model_weights", q.weights.data(),
            q.weights.size() * sizeof(float));
    addData("qf.o", "nnc_model_qf", q.qf.data(), q.qf.size() * sizeof(float));
    addData("qi8.o", "nnc_model_qi8", q.qi8.data(), q.qi8.size());
  } else {
    addCode("model.o", nnc_export_object, nnc_export_object_size,
            {"model_predict", "nnc_infer"});
    if (nnc_export_object_1)
      addCode("model_1.o", nnc_export_object_1, nnc_export_object_1_size,
              {"nnc_infer_1"});
    addData("weights.o", "nnc_model_weights", blob.data(),
            blob.size() * sizeof(float));
  }
  std::string library = arArchive(members);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error("export: cannot create '" + dir + "': " + ec.message());
  std::string libPath = (fs::path(dir) / "libmodel.a").string();
  std::string headerPath = (fs::path(dir) / "model.h").string();
  std::string text = header(cfg, *pre, checkpointClassNames(file));
  writeFileAtomically(libPath, {{library.data(), library.size()}});
  writeFileAtomically(headerPath, {{text.data(), text.size()}});
  std::printf(
      "exported %s (%s KiB: code %s KiB, weights %s KiB) and %s\n",
      libPath.c_str(), fmt::format("{:.1f}", library.size() / 1024.0).c_str(),
      fmt::format("{:.1f}", code.size() / 1024.0).c_str(),
      fmt::format("{:.1f}", data.size() / 1024.0).c_str(), headerPath.c_str());
  std::printf("link: cc main.c -I %s %s -lm\n", dir.c_str(), libPath.c_str());
  return Ok;
}

} // namespace nnrt
