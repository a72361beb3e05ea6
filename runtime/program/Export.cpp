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
//===----------------------------------------------------------------------===//
#include "runtime/Archive.h"
#include "runtime/AtomicWrite.h"
#include "runtime/Error.h"
#include "runtime/SafeTensors.h"
#include "runtime/program/ABI.h"
#include "runtime/program/Checkpoint.h"
#include "runtime/program/Commands.h"
#include "runtime/program/Data.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
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

} // namespace

int exportLibrary(const RunConfig &cfg, const std::string &weights,
                  const std::string &dir) {
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
  if (nnc_fold)
    nnc_fold(state.data());
  std::vector<float> blob(state.begin(), state.begin() + prefix);
  blob.insert(blob.end(), scale.begin(), scale.end());
  blob.insert(blob.end(), shift.begin(), shift.end());

  std::string code(nnc_export_object, size_t(nnc_export_object_size));
  std::string data = elfDataObject("nnc_model_weights", blob.data(),
                                   blob.size() * sizeof(float));
  std::vector<ArchiveMember> members{
      {"model.o", code, {"model_predict", "nnc_infer"}},
      {"weights.o", data, {"nnc_model_weights"}}};
  if (nnc_export_object_1) {
    members.push_back(
        {"model_1.o",
         std::string(nnc_export_object_1, size_t(nnc_export_object_1_size)),
         {"nnc_infer_1"}});
    code += members.back().data;
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
