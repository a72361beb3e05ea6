//===- AudioFeatures.cpp - mfcc and log_mel features of clips -------------===//
#include "runtime/AudioFeatures.h"

#include "runtime/ClassFolders.h"
#include "runtime/Error.h"
#include "runtime/HugePages.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>

namespace nnrt {

namespace {

/// FFTW's planner (and plan destruction) is not thread-safe; execution of a
/// finished plan on other arrays is.
std::mutex &fftwLock() {
  static std::mutex lock;
  return lock;
}

struct FftwFree {
  void operator()(void *p) const { fftwf_free(p); }
};

double hzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double melToHz(double mel) {
  return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

} // namespace

std::string FeatureOptions::describe() const {
  std::ostringstream os;
  if (kind == Kind::Mfcc)
    os << "mfcc(coefficients = " << coefficients << ", ";
  else
    os << "log_mel(";
  os << "mels = " << mels << ", window = " << window << ", hop = " << hop
     << ")";
  return os.str();
}

AudioFeatures::AudioFeatures(FeatureOptions options, size_t samples)
    : opts(options), numSamples(samples) {
  nfft = size_t(std::llround(opts.window * opts.rate));
  hop = size_t(std::llround(opts.hop * opts.rate));
  if (nfft < 2 || hop < 1)
    throw Error(opts.describe() +
                ": the window must span at least 2 samples "
                "and the hop at least 1 at " +
                std::to_string(opts.rate) + " Hz");
  if (opts.mels < 1 ||
      (opts.kind == FeatureOptions::Kind::Mfcc &&
       (opts.coefficients < 1 || opts.coefficients > opts.mels)))
    throw Error(opts.describe() + ": needs 1 <= coefficients <= mels");
  // Reflect padding (center = true) needs half a window inside the clip.
  if (numSamples <= nfft / 2)
    throw Error(opts.describe() + ": clips of " + std::to_string(numSamples) +
                " samples are shorter than half a window (" +
                std::to_string(nfft) + " samples)");
  bins = nfft / 2 + 1;
  numFrames = 1 + (numSamples + 2 * (nfft / 2) - nfft) / hop;
  size_t mels = size_t(opts.mels);
  numFeatures = opts.kind == FeatureOptions::Kind::Mfcc
                    ? size_t(opts.coefficients)
                    : mels;

  // torch.hann_window(nfft) (periodic).
  const double pi = 3.14159265358979323846;
  window.resize(nfft);
  for (size_t k = 0; k < nfft; ++k)
    window[k] = float(0.5 - 0.5 * std::cos(2 * pi * double(k) / double(nfft)));

  // torchaudio.functional.melscale_fbanks, HTK scale, no norm; the bins sit
  // at linspace(0, R // 2, bins).
  double fMax = double(opts.rate / 2);
  std::vector<double> fPts(mels + 2);
  double mMax = hzToMel(fMax);
  for (size_t i = 0; i < mels + 2; ++i)
    fPts[i] = melToHz(mMax * double(i) / double(mels + 1));
  filterbank.assign(bins * mels, 0.0f);
  for (size_t f = 0; f < bins; ++f) {
    double hz = fMax * double(f) / double(bins - 1);
    for (size_t m = 0; m < mels; ++m) {
      double down = (hz - fPts[m]) / (fPts[m + 1] - fPts[m]);
      double up = (fPts[m + 2] - hz) / (fPts[m + 2] - fPts[m + 1]);
      filterbank[f * mels + m] = float(std::max(0.0, std::min(down, up)));
    }
  }

  // torchaudio.functional.create_dct(coefficients, mels, "ortho").
  if (opts.kind == FeatureOptions::Kind::Mfcc) {
    size_t n = size_t(opts.coefficients);
    dct.resize(mels * n);
    for (size_t m = 0; m < mels; ++m)
      for (size_t k = 0; k < n; ++k) {
        double v = std::cos(pi / double(mels) * (double(m) + 0.5) * double(k));
        v *= std::sqrt(2.0 / double(mels));
        if (k == 0)
          v /= std::sqrt(2.0);
        dct[m * n + k] = float(v);
      }
  }

  std::lock_guard<std::mutex> guard(fftwLock());
  std::unique_ptr<float, FftwFree> in(fftwf_alloc_real(nfft));
  std::unique_ptr<fftwf_complex, FftwFree> out(fftwf_alloc_complex(bins));
  plan = fftwf_plan_dft_r2c_1d(int(nfft), in.get(), out.get(), FFTW_ESTIMATE);
  if (!plan)
    throw Error("internal: FFTW could not plan a transform of " +
                std::to_string(nfft) + " points");
}

AudioFeatures::~AudioFeatures() {
  std::lock_guard<std::mutex> guard(fftwLock());
  fftwf_destroy_plan(static_cast<fftwf_plan>(plan));
}

void AudioFeatures::compute(const float *clip, float *out) const {
  // Buffers from fftwf_alloc_* share the alignment of the planning arrays,
  // as fftwf_execute_dft_r2c requires.
  std::unique_ptr<float, FftwFree> frame(fftwf_alloc_real(nfft));
  std::unique_ptr<fftwf_complex, FftwFree> spectrum(fftwf_alloc_complex(bins));
  size_t mels = size_t(opts.mels);
  std::vector<float> db(numFrames * mels);
  std::vector<float> power(bins);
  const int64_t n = int64_t(numSamples), pad = int64_t(nfft / 2);
  for (size_t t = 0; t < numFrames; ++t) {
    for (size_t k = 0; k < nfft; ++k) {
      int64_t i = int64_t(t * hop + k) - pad; // reflect padding
      if (i < 0)
        i = -i;
      if (i >= n)
        i = 2 * (n - 1) - i;
      frame.get()[k] = clip[i] * window[k];
    }
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plan), frame.get(),
                          spectrum.get());
    for (size_t f = 0; f < bins; ++f) {
      float re = spectrum.get()[f][0], im = spectrum.get()[f][1];
      power[f] = re * re + im * im;
    }
    float *row = db.data() + t * mels;
    std::fill(row, row + mels, 0.0f);
    for (size_t f = 0; f < bins; ++f) {
      const float *fb = filterbank.data() + f * mels;
      for (size_t m = 0; m < mels; ++m)
        row[m] += power[f] * fb[m];
    }
  }
  // AmplitudeToDB("power", top_db = 80): amin 1e-10, reference 1, and a
  // floor 80 dB under the clip's loudest value.
  float top = -INFINITY;
  for (float &v : db) {
    v = 10.0f * std::log10(std::max(v, 1e-10f));
    top = std::max(top, v);
  }
  for (float &v : db)
    v = std::max(v, top - 80.0f);
  if (opts.kind == FeatureOptions::Kind::LogMel) {
    std::copy(db.begin(), db.end(), out);
    return;
  }
  size_t c = numFeatures;
  for (size_t t = 0; t < numFrames; ++t) {
    float *o = out + t * c;
    std::fill(o, o + c, 0.0f);
    const float *row = db.data() + t * mels;
    for (size_t m = 0; m < mels; ++m)
      for (size_t k = 0; k < c; ++k)
        o[k] += row[m] * dct[m * c + k];
  }
}

std::shared_ptr<const DatasetStorage>
AudioFeatures::computeAll(const DatasetStorage &clips) const {
  if (clips.featureSize != numSamples)
    throw Error("internal: clips of " + std::to_string(clips.featureSize) +
                " samples for features of " + std::to_string(numSamples));
  auto out = std::make_shared<DatasetStorage>();
  out->copySamplesOf(clips);
  out->featureType = FeatureType::F32;
  out->featureShape = shape();
  out->featureSize = size();
  zerosOnHugePages(out->f32, clips.numSamples * size());
  loadInParallel(clips.numSamples, [&](size_t i) {
    compute(clips.f32.data() + i * numSamples, out->f32.data() + i * size());
  });
  return out;
}

} // namespace nnrt
