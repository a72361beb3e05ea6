//===- AudioTest.cpp - audio sources, resampling, mfcc/log_mel, clip
// augmentation ===//
#include "runtime/Audio.h"
#include "runtime/AudioFeatures.h"
#include "runtime/Augment.h"
#include "runtime/Batch.h"
#include "runtime/Preprocess.h"

#include "TestUtil.h"

#include <sndfile.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

using namespace nnrt;
using namespace nnrt::test;

namespace fs = std::filesystem;

namespace {

const double kPi = 3.14159265358979323846;

/// Writes interleaved `frames` x `channels` floats as a sound file.
void writeSound(const std::string &path, const std::vector<float> &samples,
                int channels, int rate,
                int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT) {
  fs::create_directories(fs::path(path).parent_path());
  SF_INFO info{};
  info.channels = channels;
  info.samplerate = rate;
  info.format = format;
  SNDFILE *f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  sf_writef_float(f, samples.data(), sf_count_t(samples.size() / channels));
  sf_close(f);
}

std::vector<float> sine(double hz, double amplitude, int rate, size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = float(amplitude * std::sin(2 * kPi * hz * double(i) / rate));
  return v;
}

/// The frequency (Hz, a multiple of `step`) of the largest DFT magnitude.
double peakFrequency(const std::vector<float> &x, int rate, double step) {
  double best = 0, bestHz = 0;
  for (double hz = step; hz < rate / 2.0; hz += step) {
    double re = 0, im = 0, w = 2 * kPi * hz / rate;
    for (size_t i = 0; i < x.size(); ++i) {
      re += x[i] * std::cos(w * double(i));
      im -= x[i] * std::sin(w * double(i));
    }
    if (re * re + im * im > best) {
      best = re * re + im * im;
      bestHz = hz;
    }
  }
  return bestHz;
}

double rms(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i)
    s += double(x[i]) * x[i];
  return std::sqrt(s / double(n));
}

std::vector<float> clipOf(const std::string &path, int32_t rate,
                          double seconds) {
  AudioOptions o;
  o.rate = rate;
  o.seconds = seconds;
  std::vector<float> clip(o.samples());
  readAudioClip(path, o, clip.data());
  return clip;
}

FeatureOptions mfcc(int32_t rate, int64_t coefficients, int64_t mels,
                    double window, double hop) {
  FeatureOptions o;
  o.kind = FeatureOptions::Kind::Mfcc;
  o.rate = rate;
  o.coefficients = coefficients;
  o.mels = mels;
  o.window = window;
  o.hop = hop;
  return o;
}

FeatureOptions logMel(int32_t rate, int64_t mels, double window, double hop) {
  FeatureOptions o = mfcc(rate, 0, mels, window, hop);
  o.kind = FeatureOptions::Kind::LogMel;
  return o;
}

void run(const std::string &command) {
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

} // namespace

TEST(AudioFeatures, FramesOfCenteredWindows) {
  // torchaudio, center = true: 1 + samples / hop for an even window.
  AudioFeatures f(mfcc(16000, 13, 40, 0.025, 0.010), 16000);
  EXPECT_EQ(f.frames(), 101u);
  EXPECT_EQ(f.width(), 13u);
  EXPECT_EQ(f.shape(), (std::vector<int64_t>{101, 13}));
  // An odd window (551 samples) pads 275 on each side: 1 + (n - 1) / hop.
  AudioFeatures odd(logMel(22050, 64, 0.025, 0.010), 22050);
  EXPECT_EQ(odd.frames(), 1u + (22050u - 1u) / 221u);
  EXPECT_EQ(odd.width(), 64u);
  EXPECT_NE(
      errorOf([] { AudioFeatures(mfcc(16000, 41, 40, 0.025, 0.01), 16000); }),
      "");
  EXPECT_NE(
      errorOf([] { AudioFeatures(mfcc(16000, 13, 40, 0.025, 0.01), 100); }),
      "");
}

// The features of real speech (espeak-ng) against torchaudio 0.13, at the
// clip's own rate so that resampling does not enter: the 16 kHz clip is
// sox's, the 22.05 kHz one espeak-ng's own (odd window, rounded hop).
TEST(AudioFeatures, MatchTorchaudio) {
  TempDir dir;
  std::string raw = dir.file("seven.wav"), at16 = dir.file("seven16.wav");
  run("espeak-ng -v en-us+m3 -s 160 -w " + raw + " seven");
  run("sox " + raw + " -r 16000 " + at16);
  struct Case {
    std::string path;
    double seconds;
    FeatureOptions options;
  };
  std::vector<Case> cases = {
      {at16, 1.0, mfcc(16000, 13, 40, 0.025, 0.010)},
      {at16, 1.0, logMel(16000, 40, 0.025, 0.010)},
      {raw, 0.8, mfcc(22050, 20, 64, 0.03, 0.012)},
      {raw, 0.8, logMel(22050, 80, 0.025, 0.010)},
  };
  nlohmann::json input;
  input["wav"] = at16;
  std::vector<std::vector<float>> ours;
  for (const Case &c : cases) {
    std::vector<float> clip = clipOf(c.path, c.options.rate, c.seconds);
    AudioFeatures f(c.options, clip.size());
    std::vector<float> values(f.size());
    f.compute(clip.data(), values.data());
    ours.push_back(values);
    input["cases"].push_back(
        {{"clip", clip},
         {"rate", c.options.rate},
         {"n_fft", std::llround(c.options.window * c.options.rate)},
         {"hop", std::llround(c.options.hop * c.options.rate)},
         {"mels", c.options.mels},
         {"coefficients", c.options.kind == FeatureOptions::Kind::Mfcc
                              ? c.options.coefficients
                              : 0}});
  }
  nlohmann::json out = runPythonReference("audio_reference.py", input);
  ASSERT_FALSE(out.is_null());
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c) + ": " +
                 cases[c].options.describe());
    const nlohmann::json &ref = out["features"][c];
    size_t width = ref[0].size();
    ASSERT_EQ(ref.size() * width, ours[c].size());
    double worst = 0;
    for (size_t t = 0; t < ref.size(); ++t)
      for (size_t k = 0; k < width; ++k) {
        double want = ref[t][k].get<double>(), got = ours[c][t * width + k];
        double err = std::abs(got - want) / (1e-3 + 1e-4 * std::abs(want));
        worst = std::max(worst, err);
        ASSERT_LE(std::abs(got - want), 1e-3 + 1e-4 * std::abs(want))
            << "frame " << t << ", feature " << k;
      }
    std::printf("%s: worst error %.3g of the tolerance\n",
                cases[c].options.describe().c_str(), worst);
  }
  // The 16 kHz clip is the file's samples / 32768 (no resampling), zero
  // padded to one second.
  std::vector<float> clip = clipOf(at16, 16000, 1.0);
  const nlohmann::json &wav = out["wav"];
  ASSERT_GT(wav.size(), 8000u);
  ASSERT_LT(wav.size(), 16000u);
  for (size_t i = 0; i < wav.size(); ++i)
    ASSERT_EQ(clip[i], float(wav[i].get<double>())) << i;
  for (size_t i = wav.size(); i < clip.size(); ++i)
    ASSERT_EQ(clip[i], 0.0f) << i;
}

// libsamplerate's sinc converter from 44.1 kHz to 16 kHz: a 1 kHz and a
// 3 kHz tone keep their frequency, amplitude and length; a 10 kHz tone,
// above the new Nyquist frequency, is filtered out instead of aliasing to
// 6 kHz.
TEST(AudioSource, ResamplingKeepsFrequencyAndLength) {
  TempDir dir;
  for (double hz : {1000.0, 3000.0}) {
    SCOPED_TRACE(hz);
    std::string path = dir.file("tone.wav");
    writeSound(path, sine(hz, 0.5, 44100, 44100), 1, 44100);
    std::vector<float> clip = clipOf(path, 16000, 1.0);
    ASSERT_EQ(clip.size(), 16000u);
    EXPECT_EQ(peakFrequency(clip, 16000, 5.0), hz);
    // Full length: the last samples are the tone, not padding.
    EXPECT_NEAR(rms(clip.data() + 100, 15800), 0.5 / std::sqrt(2.0), 0.005);
    EXPECT_GT(rms(clip.data() + 15900, 90), 0.2);
  }
  std::string high = dir.file("high.wav");
  writeSound(high, sine(10000, 0.5, 44100, 44100), 1, 44100);
  std::vector<float> clip = clipOf(high, 16000, 1.0);
  EXPECT_LT(rms(clip.data() + 100, 15800), 0.005);
  // Upsampling (8 kHz FLAC, 16-bit) keeps the tone too.
  std::string flac = dir.file("tone.flac");
  writeSound(flac, sine(440, 0.5, 8000, 8000), 1, 8000,
             SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::vector<float> up = clipOf(flac, 16000, 1.0);
  EXPECT_EQ(peakFrequency(up, 16000, 5.0), 440.0);
  EXPECT_NEAR(rms(up.data() + 100, 15800), 0.5 / std::sqrt(2.0), 0.005);
}

TEST(AudioSource, StereoIsTheMeanOfItsChannels) {
  TempDir dir;
  std::vector<float> left = sine(440, 0.6, 16000, 8000);
  std::vector<float> frames;
  for (size_t i = 0; i < left.size(); ++i) {
    frames.push_back(left[i]);
    frames.push_back(0.2f);
  }
  std::string path = dir.file("stereo.wav");
  writeSound(path, frames, 2, 16000);
  std::vector<float> clip = clipOf(path, 16000, 1.0);
  for (size_t i = 0; i < left.size(); ++i)
    ASSERT_FLOAT_EQ(clip[i], (left[i] + 0.2f) / 2) << i;
  // Half a second of sound in a one-second clip: zeros after it.
  for (size_t i = left.size(); i < clip.size(); ++i)
    ASSERT_EQ(clip[i], 0.0f) << i;
  // A shorter clip cuts the end.
  std::vector<float> cut = clipOf(path, 16000, 0.25);
  ASSERT_EQ(cut.size(), 4000u);
  EXPECT_FLOAT_EQ(cut[3999], (left[3999] + 0.2f) / 2);
}

TEST(AudioSource, ClassFoldersAndInputs) {
  TempDir dir;
  writeSound(dir.file("a/yes/1.wav"), sine(300, 0.5, 16000, 4000), 1, 16000);
  writeSound(dir.file("a/yes/2.flac"), sine(300, 0.5, 16000, 4000), 1, 16000,
             SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  writeSound(dir.file("a/no/1.wav"), sine(900, 0.5, 22050, 4000), 2, 22050);
  writeFile(dir.file("a/no/notes.txt"), "not a sample: ignored");
  AudioOptions o;
  o.rate = 16000;
  o.seconds = 0.5;
  Dataset d = loadAudioFolder(dir.file("a"), o);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.store().classNames, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(d.label(0), 0);
  EXPECT_EQ(d.label(1), 1);
  EXPECT_EQ(d.featureShape(), (std::vector<int64_t>{8000}));
  EXPECT_EQ(d.store().sampleRate, 16000);
  Dataset inputs = loadAudioInputs(dir.file("a"), o);
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_EQ(fs::path(inputs.store().paths[0]).filename(), "1.wav");
  EXPECT_EQ(loadAudioInputs(dir.file("a/yes/2.flac"), o).size(), 1u);
}

// Each bad input is one line naming the file.
TEST(AudioSource, BadInputs) {
  TempDir dir;
  AudioOptions o;
  // A text file named .wav.
  writeFile(dir.file("text.wav"), "hello, I am not a sound\n");
  EXPECT_EQ(errorOf([&] { clipOf(dir.file("text.wav"), 16000, 1.0); }),
            dir.file("text.wav") +
                ": not a sound file libsndfile can decode (Format not "
                "recognised); audio() reads WAV, FLAC, OGG and AIFF files");
  // A WAV of 0 samples.
  writeSound(dir.file("empty.wav"), {}, 1, 16000);
  EXPECT_EQ(errorOf([&] { clipOf(dir.file("empty.wav"), 16000, 1.0); }),
            dir.file("empty.wav") + ": holds no samples (0 seconds of audio)");
  // 16-bit IEEE floats (WAVE_FORMAT_IEEE_FLOAT with 16 bits per sample), an
  // encoding libsndfile does not decode.
  std::string header = std::string("RIFF") + std::string("\x4a\0\0\0", 4) +
                       "WAVEfmt " + std::string("\x10\0\0\0", 4) +
                       std::string("\x03\0\x01\0\x80\x3e\0\0\0\x7d\0\0"
                                   "\x02\0\x10\0",
                                   16) +
                       "data" + std::string("\x26\0\0\0", 4) +
                       std::string(38, '\0');
  writeFile(dir.file("half.wav"), header);
  std::string half = errorOf([&] { clipOf(dir.file("half.wav"), 16000, 1.0); });
  EXPECT_EQ(half.rfind(dir.file("half.wav") +
                           ": not a sound file libsndfile can decode (",
                       0),
            0u)
      << half;
  EXPECT_EQ(half.find('\n'), std::string::npos);
  // A class folder without sound files, a missing folder, a missing file.
  writeSound(dir.file("set/yes/1.wav"), sine(300, 0.5, 16000, 400), 1, 16000);
  fs::create_directories(dir.file("set/no"));
  writeFile(dir.file("set/no/readme.txt"), "no sounds here");
  EXPECT_EQ(errorOf([&] { loadAudioFolder(dir.file("set"), o); }),
            dir.file("set/no") +
                ": class folder holds no .wav/.flac/.ogg/.aiff files");
  EXPECT_EQ(errorOf([&] { loadAudioFolder(dir.file("nowhere"), o); }),
            dir.file("nowhere") +
                ": no such folder; audio() expects a folder with one "
                "subfolder per class");
  EXPECT_EQ(errorOf([&] { loadAudioInputs(dir.file("gone.wav"), o); }),
            dir.file("gone.wav") + ": no such file or folder");
  // The first bad file in path order is the one reported.
  writeSound(dir.file("two/a/1.wav"), sine(300, 0.5, 16000, 400), 1, 16000);
  writeFile(dir.file("two/a/2.wav"), "text");
  writeFile(dir.file("two/b/3.wav"), "text");
  EXPECT_EQ(errorOf([&] {
              loadAudioFolder(dir.file("two"), o);
            }).rfind(dir.file("two/a/2.wav") + ": ", 0),
            0u);
}

TEST(AudioAugment, TimeShiftMovesTheClipWithZeroFill) {
  std::vector<float> clip = {1, 2, 3, 4, 5};
  shiftClip(clip.data(), 5, 2);
  EXPECT_EQ(clip, (std::vector<float>{0, 0, 1, 2, 3}));
  clip = {1, 2, 3, 4, 5};
  shiftClip(clip.data(), 5, -1);
  EXPECT_EQ(clip, (std::vector<float>{2, 3, 4, 5, 0}));
  clip = {1, 2, 3};
  shiftClip(clip.data(), 3, 7);
  EXPECT_EQ(clip, (std::vector<float>{0, 0, 0}));
  // Offsets stay within fraction * samples and take both signs.
  AugmentOp shift;
  shift.kind = AugmentOp::Kind::TimeShift;
  shift.fraction = 0.1;
  Augmenter a({shift}, {100}, 7);
  int lowest = 0, highest = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    std::vector<float> ramp(100);
    for (size_t i = 0; i < 100; ++i)
      ramp[i] = float(i + 1);
    Rng rng = a.stream(1, s);
    a.applyClip(ramp.data(), rng);
    // The first nonzero value tells the offset.
    int offset = ramp[0] == 0 ? int(std::find_if(ramp.begin(), ramp.end(),
                                                 [](float v) { return v; }) -
                                    ramp.begin())
                              : -int(ramp[0] - 1);
    lowest = std::min(lowest, offset);
    highest = std::max(highest, offset);
  }
  EXPECT_EQ(lowest, -10);
  EXPECT_EQ(highest, 10);
  EXPECT_NE(errorOf([&] { Augmenter({shift}, {1, 28, 28}, 0); }), "");
}

// With augmentation the loader featurizes augmented clips: features change
// from epoch to epoch, reproducibly from the seed; evaluation (features
// computed once, no augmenter) gives the clean features every epoch.
TEST(AudioAugment, FeaturesChangeByEpochButNotInEvaluation) {
  auto clips = std::make_shared<DatasetStorage>();
  clips->source = "mem";
  clips->featureType = FeatureType::F32;
  clips->featureShape = {8000};
  clips->featureSize = 8000;
  clips->sampleRate = 16000;
  clips->numSamples = 3;
  for (double hz : {300.0, 700.0, 1500.0}) {
    std::vector<float> s = sine(hz, 0.3, 16000, 6000);
    s.resize(8000, 0.0f);
    clips->f32.insert(clips->f32.end(), s.begin(), s.end());
  }
  clips->targetKind = TargetKind::ClassIndex;
  clips->numClasses = 3;
  clips->labels = {0, 1, 2};
  Dataset waves(clips);
  AudioFeatures features(mfcc(16000, 13, 40, 0.025, 0.010), 8000);
  Dataset values(features.computeAll(*clips));
  ASSERT_EQ(values.featureShape(), (std::vector<int64_t>{51, 13}));
  std::vector<float> clean(features.size());
  features.compute(clips->f32.data(), clean.data());
  for (size_t i = 0; i < clean.size(); ++i)
    ASSERT_EQ(values.store().f32[i], clean[i]);

  Preprocessor pre;
  pre.fit(values);
  AugmentOp noise;
  noise.kind = AugmentOp::Kind::Noise;
  noise.stddev = 0.005;
  AugmentOp shift;
  shift.kind = AugmentOp::Kind::TimeShift;
  shift.fraction = 0.1;
  Augmenter augmenter({noise, shift}, waves.featureShape(), 42);
  auto epochBatch = [&](uint64_t epoch, uint64_t seed) {
    Augmenter a({noise, shift}, waves.featureShape(), seed);
    BatchLoader loader(waves, pre, LoaderOptions{3, false, false});
    loader.setAugmenter(&a);
    loader.setClipFeatures(&features);
    EXPECT_EQ(loader.featureSize(), features.size());
    loader.beginEpoch(epoch);
    Batch b;
    loader.fillBatch(0, b);
    return b.x;
  };
  std::vector<float> e1 = epochBatch(1, 42), e2 = epochBatch(2, 42);
  ASSERT_EQ(e1.size(), 3 * features.size());
  EXPECT_NE(e1, e2);
  EXPECT_EQ(e1, epochBatch(1, 42));
  EXPECT_NE(e1, epochBatch(1, 43));
  std::vector<float> first(e1.begin(), e1.begin() + features.size());
  EXPECT_NE(first, clean);

  BatchLoader eval(values, pre, LoaderOptions{3, false, false});
  for (uint64_t epoch : {1, 2}) {
    eval.beginEpoch(epoch);
    Batch b;
    eval.fillBatch(0, b);
    for (size_t i = 0; i < clean.size(); ++i)
      ASSERT_EQ(b.x[i], clean[i]) << "epoch " << epoch;
  }
}

// Audio features [T, F]: standardize pools the frames, one mean and std per
// feature (column), over all frames of all training samples.
TEST(AudioPreprocess, StandardizePerFeatureOverFrames) {
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = "mem";
  storage->featureType = FeatureType::F32;
  storage->featureShape = {3, 2};
  storage->featureSize = 6;
  storage->numSamples = 2;
  // Column 0: 1 2 3 4 5 6 (mean 3.5); column 1: 10 x 6 (constant).
  storage->f32 = {1, 10, 2, 10, 3, 10, 4, 10, 5, 10, 6, 10};
  Dataset d(storage);
  Preprocessor pre;
  pre.setColumnStatistics(2);
  pre.addStandardize();
  pre.fit(d);
  std::vector<float> x = {3.5f, 10, 6, 10, 1, 12};
  pre.apply(x.data());
  double sd = std::sqrt(17.5 / 6);
  EXPECT_FLOAT_EQ(x[0], 0.0f);
  EXPECT_FLOAT_EQ(x[2], float(2.5 / sd));
  EXPECT_FLOAT_EQ(x[4], float(-2.5 / sd));
  EXPECT_FLOAT_EQ(x[1], 0.0f); // constant feature: std 1
  EXPECT_FLOAT_EQ(x[5], 2.0f);
  std::vector<TensorData> state = pre.state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].shape, (std::vector<int64_t>{2}));
}
