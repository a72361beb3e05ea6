//===- SemaAudio.cpp - Audio sources, features { }, their model inputs ----===//
//
// `audio("dir", rate = R, seconds = S)` yields clips of round(S R) samples;
// `features { mfcc(...) | log_mel(...) }` turns each into f32[frames, width]
// (torchaudio's conventions, center = true: frames = 1 + samples / hop for
// an even window), the model's input. An audio source needs features (the
// models take [T, F] sequences, not raw waveforms); features need an audio
// source; audio clips are augmented by noise and time_shift only.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <cmath>

namespace nnc {
namespace sema {

void Sema::analyzeFeatures(const ast::Stmt *section, Dataset &ds) {
  bool audio = ds.train.kind == SourceKind::Audio;
  checkSourceKinds(ds, SourceKind::Audio);
  // One model input shape: every source makes the same clips.
  for (auto [src, name] : {std::pair<const DataSource *, const char *>{
                               &ds.validation, "validation"},
                           {&ds.test, "test"}})
    if (audio && src->kind == SourceKind::Audio &&
        (src->rate != ds.train.rate || src->seconds != ds.train.seconds))
      error(src->range,
            std::string("the ") + name + " source of dataset '" + ds.name +
                "' makes clips of " + formatNumber(src->seconds) + " s at " +
                std::to_string(src->rate) + " Hz, its train source of " +
                formatNumber(ds.train.seconds) + " s at " +
                std::to_string(ds.train.rate) + " Hz",
            "give every audio source the train source's rate and seconds");
  // Clips are augmented as waveforms: noise and time_shift; the image
  // transforms have no meaning there, and time_shift none elsewhere.
  for (const DataOp &op : ds.augment) {
    bool clipOp =
        op.kind == DataOpKind::Noise || op.kind == DataOpKind::TimeShift;
    if (audio && !clipOp)
      error(op.range,
            std::string("'") + toString(op.kind) +
                "' does not apply to the audio clips of dataset '" + ds.name +
                "'",
            "audio clips take noise(std) and time_shift(fraction)");
    else if (!audio && op.kind == DataOpKind::TimeShift &&
             ds.train.kind != SourceKind::None)
      error(op.range,
            std::string("'time_shift' applies to audio(...) clips, but "
                        "dataset '") +
                ds.name + "' reads " + toString(ds.train.kind) + "(...)");
  }
  SourceRange where = sourceSection(
      section, ds, SourceKind::Audio, "features",
      "add 'features { mfcc(coefficients = 13, mels = 40, window = 0.025, "
      "hop = 0.010) }' or 'features { log_mel(mels = 40) }'");
  if (!where.isValid())
    return;
  Features &f = ds.features;
  bool attempted = false; // a feature call was written, usable or not
  bool bound = false;
  BoundCall bc; // the feature call
  for (const auto &sp : section->body) {
    if (!sp)
      continue;
    const ast::Stmt &st = *sp;
    if (st.kind != ast::StmtKind::Expr || !st.value) {
      error(st.range, "expected an audio feature call in 'features'",
            "write 'mfcc(...)' or 'log_mel(...)'");
      continue;
    }
    attempted = true;
    BoundCall call;
    if (!bindSetting(Category::Features, st.value.get(), call))
      continue;
    if (bound) {
      error(call.range, std::string("a second feature '") + call.sig->name +
                            "': a dataset has one, here '" + toString(f.kind) +
                            "'");
      continue;
    }
    bc = call;
    bound = true;
    f.range = call.range;
    f.kind = call.sig->name == "mfcc" ? FeatureKind::Mfcc : FeatureKind::LogMel;
    f.coefficients =
        f.kind == FeatureKind::Mfcc ? call.integer("coefficients") : 0;
    f.mels = call.integer("mels");
    f.window = call.num("window");
    f.hop = call.num("hop");
  }
  if (!bound) {
    if (!attempted)
      error(where, "'features' names no audio feature",
            "add 'mfcc(coefficients = 13, mels = 40)' or 'log_mel(mels = "
            "40)'");
    return;
  }

  // Samples of a clip, of the window (n_fft) and of the hop, as the runtime
  // rounds them.
  int64_t rate = ds.train.rate;
  int64_t samples = std::llround(ds.train.seconds * double(rate));
  int64_t nfft = std::llround(f.window * double(rate));
  int64_t hop = std::llround(f.hop * double(rate));
  std::string at = " at " + std::to_string(rate) + " Hz";
  bool ok = true;
  if (samples < 1) {
    error(ds.train.range, "clips of " + formatNumber(ds.train.seconds) +
                              " seconds" + at + " hold no sample");
    ok = false;
  }
  if (nfft < 2) {
    error(bc.rangeOf("window"),
          "a window of " + formatNumber(f.window) + " s is " +
              std::to_string(nfft) + " sample(s)" + at +
              "; the FFT needs at least 2",
          "make the window at least " + formatNumber(2.0 / double(rate)) +
              " s");
    ok = false;
  } else if (samples >= 1 && samples <= nfft / 2) {
    // center = true reflects half a window at each end of the clip.
    error(bc.rangeOf("window"),
          "a window of " + std::to_string(nfft) +
              " samples is too long for "
              "clips of " +
              std::to_string(samples) + " samples" + at +
              " (center = true pads half a window by reflection)",
          "use a window shorter than twice the clip");
    ok = false;
  }
  if (hop < 1) {
    error(bc.rangeOf("hop"), "a hop of " + formatNumber(f.hop) +
                                 " s is less than one sample" + at);
    ok = false;
  }
  if (f.kind == FeatureKind::Mfcc && f.coefficients > f.mels) {
    error(bc.rangeOf("coefficients"),
          "mfcc(coefficients = " + std::to_string(f.coefficients) +
              ") needs at least as many mels, got mels = " +
              std::to_string(f.mels),
          "the DCT keeps at most 'mels' coefficients");
    ok = false;
  }
  if (nfft >= 2 && f.mels > nfft / 2 + 1) {
    error(bc.rangeOf("mels"),
          std::to_string(f.mels) + " mel filters over the " +
              std::to_string(nfft / 2 + 1) + " frequency bins of a " +
              std::to_string(nfft) + "-sample window leave filters empty",
          "use at most " + std::to_string(nfft / 2 + 1) +
              " mels or a longer window");
    ok = false;
  }
  if (!ok)
    return;
  f.frames = 1 + (samples + 2 * (nfft / 2) - nfft) / hop;
  f.width = f.kind == FeatureKind::Mfcc ? f.coefficients : f.mels;
}

void Sema::checkAudioInput(const Model &m, const Dataset &ds,
                           SourceRange dataRange) {
  const Features &f = ds.features;
  if (f.kind == FeatureKind::None || f.frames == 0)
    return;
  TensorType features{ElemType::F32, {f.frames, f.width}};
  if (m.inputType == features)
    return;
  error(dataRange,
        "dataset '" + ds.name + "' yields features " + toString(features) +
            " but model '" + m.name + "' takes " + toString(m.inputType),
        "declare the model's input as '" + m.inputName + ": " +
            toString(features) + "'");
  int64_t hop = std::llround(f.hop * double(ds.train.rate));
  note(f.range,
       std::string(toString(f.kind)) + " makes " + std::to_string(f.frames) +
           " frames (hop " + std::to_string(hop) + " samples, " +
           formatNumber(ds.train.seconds) + " s at " +
           std::to_string(ds.train.rate) + " Hz) of " +
           std::to_string(f.width) +
           (f.kind == FeatureKind::Mfcc ? " coefficients" : " mels") + " here");
}

} // namespace sema
} // namespace nnc
