//===- AudioFeatures.h - mfcc and log_mel features of clips -*- C++ -*-----===//
//
// `features { mfcc(coefficients, mels, window, hop) | log_mel(mels, window,
// hop) }` with torchaudio 0.13's conventions, for a clip x of n samples at
// rate R:
//
//   n_fft = win_length = round(window * R), hop = round(hop * R)
//   frames = 1 + (n + 2 floor(n_fft / 2) - n_fft) / hop   (integer division)
//   power[t, f] = |rfft(w * frame_t)|^2, w = torch.hann_window(n_fft)
//       (periodic), frame_t = x reflect-padded by floor(n_fft / 2) on each
//       side (center = true), from t * hop; f < n_fft / 2 + 1
//   mel[t, m] = sum_f power[t, f] fb[f, m], fb = melscale_fbanks(n_fft/2+1,
//       f_min = 0, f_max = R // 2, mels, R, norm = None, mel_scale = "htk")
//   db[t, m] = max(10 log10(max(mel, 1e-10)), max over the clip - 80)
//       (AmplitudeToDB("power", top_db = 80))
//   log_mel = db                                   -> [frames, mels]
//   mfcc[t, k] = sum_m db[t, m] dct[m, k], dct = create_dct(coefficients,
//       mels, "ortho") (DCT-II, orthonormal)         -> [frames, coefficients]
//
// i.e. torchaudio.transforms.MFCC(R, coefficients, melkwargs = {n_fft,
// hop_length, n_mels}) and AmplitudeToDB("power", 80)(MelSpectrogram(...)),
// transposed to time-major [frames, features], the model's [T, F]. The FFT
// is FFTW's single-precision r2c, planned once per extractor (under a lock:
// FFTW's planner is not thread-safe) and executed on per-call buffers, so
// compute() may run on many threads at once.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_AUDIOFEATURES_H
#define NNRT_AUDIOFEATURES_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nnrt {

struct FeatureOptions {
  enum class Kind { Mfcc, LogMel };
  Kind kind = Kind::Mfcc;
  int32_t rate = 16000;
  int64_t coefficients = 13; ///< mfcc
  int64_t mels = 40;
  double window = 0.025, hop = 0.010; ///< seconds

  /// "mfcc(coefficients = 13, mels = 40, window = 0.025, hop = 0.01)".
  std::string describe() const;
};

class AudioFeatures {
public:
  /// Throws nnrt::Error when the window or hop is under one sample or
  /// `coefficients` exceeds `mels`.
  AudioFeatures(FeatureOptions options, size_t samples);
  ~AudioFeatures();
  AudioFeatures(const AudioFeatures &) = delete;
  AudioFeatures &operator=(const AudioFeatures &) = delete;

  size_t frames() const { return numFrames; }
  size_t width() const { return numFeatures; }
  /// [frames, width]
  std::vector<int64_t> shape() const {
    return {int64_t(numFrames), int64_t(numFeatures)};
  }
  size_t size() const { return numFrames * numFeatures; }
  size_t samples() const { return numSamples; }
  const FeatureOptions &options() const { return opts; }

  /// The features of one clip (samples() values) into out[0 .. size()).
  /// Thread-safe.
  void compute(const float *clip, float *out) const;

  /// A storage of every clip's features (F32, shape()), computed on oneTBB
  /// threads; targets, classes and paths are copied from `clips`.
  std::shared_ptr<const DatasetStorage>
  computeAll(const DatasetStorage &clips) const;

private:
  FeatureOptions opts;
  size_t numSamples, nfft, hop, numFrames, numFeatures, bins;
  std::vector<float> window;     ///< nfft, periodic Hann
  std::vector<float> filterbank; ///< bins x mels, as torchaudio's fb
  std::vector<float> dct;        ///< mels x coefficients (mfcc)
  void *plan = nullptr;          ///< fftwf_plan
};

} // namespace nnrt

#endif // NNRT_AUDIOFEATURES_H
