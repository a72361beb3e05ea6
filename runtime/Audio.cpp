//===- Audio.cpp - audio(...) sources: decoded, mono, resampled clips -----===//
#include "runtime/Audio.h"

#include "runtime/ClassFolders.h"
#include "runtime/Error.h"
#include "runtime/HugePages.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>

namespace fs = std::filesystem;

namespace nnrt {

namespace {

const SampleFiles kAudioFiles = {"audio()", ".wav/.flac/.ogg/.aiff files",
                                 "no .wav/.flac/.ogg/.aiff files", isAudioFile};

struct SndFileCloser {
  void operator()(SNDFILE *f) const { sf_close(f); }
};

/// Decodes every file into its clip of `storage`, in parallel; the first
/// failure in path order is reported.
void decodeAll(const std::vector<std::string> &paths,
               const AudioOptions &options, DatasetStorage &storage) {
  size_t samples = options.samples();
  storage.featureType = FeatureType::F32;
  storage.featureShape = {int64_t(samples)};
  storage.featureSize = samples;
  storage.sampleRate = options.rate;
  zerosOnHugePages(storage.f32, paths.size() * samples);
  storage.numSamples = paths.size();
  loadInParallel(paths.size(), [&](size_t i) {
    readAudioClip(paths[i], options, storage.f32.data() + i * samples);
  });
}

} // namespace

size_t AudioOptions::samples() const {
  return size_t(std::llround(seconds * double(rate)));
}

bool isAudioFile(const std::string &path) {
  std::string ext = fs::path(path).extension().string();
  for (char &c : ext)
    c = char(std::tolower(static_cast<unsigned char>(c)));
  std::string name = fs::path(path).filename().string();
  if (name.empty() || name[0] == '.')
    return false;
  return ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".aif" ||
         ext == ".aiff";
}

std::vector<float> resample(const std::vector<float> &in, int32_t fromRate,
                            int32_t toRate, const std::string &what) {
  if (fromRate == toRate)
    return in;
  double ratio = double(toRate) / double(fromRate);
  if (!src_is_valid_ratio(ratio))
    throw Error(what + ": cannot resample from " + std::to_string(fromRate) +
                " Hz to " + std::to_string(toRate) +
                " Hz (libsamplerate converts by factors up to 256)");
  std::vector<float> out(size_t(std::ceil(double(in.size()) * ratio)) + 16);
  SRC_DATA data{};
  data.data_in = in.data();
  data.input_frames = long(in.size());
  data.data_out = out.data();
  data.output_frames = long(out.size());
  data.src_ratio = ratio;
  data.end_of_input = 1;
  if (int err = src_simple(&data, SRC_SINC_MEDIUM_QUALITY, 1))
    throw Error(what + ": resampling failed: " + src_strerror(err));
  out.resize(size_t(data.output_frames_gen));
  return out;
}

void readAudioClip(const std::string &path, const AudioOptions &options,
                   float *out) {
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndFileCloser> file;
  std::string openError;
  {
    // A failed sf_open leaves its reason in libsndfile's one global error
    // slot: open under a lock so that the message is this file's.
    static std::mutex openLock;
    std::lock_guard<std::mutex> guard(openLock);
    file.reset(sf_open(path.c_str(), SFM_READ, &info));
    if (!file)
      openError = sf_strerror(nullptr);
  }
  if (!file) {
    std::error_code ec;
    if (!fs::exists(path, ec))
      throw Error(path + ": no such file");
    while (!openError.empty() &&
           (openError.back() == '.' || openError.back() == '\n'))
      openError.pop_back();
    throw Error(path + ": not a sound file libsndfile can decode (" +
                openError + "); audio() reads WAV, FLAC, OGG and AIFF files");
  }
  if (info.frames <= 0)
    throw Error(path + ": holds no samples (0 seconds of audio)");
  if (info.channels <= 0 || info.samplerate <= 0)
    throw Error(path + ": bad header (" + std::to_string(info.channels) +
                " channels at " + std::to_string(info.samplerate) + " Hz)");
  // A header may claim more frames than the file holds: read in blocks
  // and keep what comes.
  size_t channels = size_t(info.channels);
  std::vector<float> mono;
  mono.reserve(size_t(std::min<sf_count_t>(info.frames, 1 << 24)));
  std::vector<float> block(4096 * channels);
  for (;;) {
    sf_count_t got = sf_readf_float(file.get(), block.data(), 4096);
    if (got <= 0)
      break;
    for (sf_count_t f = 0; f < got; ++f) {
      float sum = 0;
      for (size_t c = 0; c < channels; ++c)
        sum += block[size_t(f) * channels + c];
      mono.push_back(sum / float(channels));
    }
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR)
    throw Error(path + ": cannot decode: " + sf_strerror(file.get()));
  if (mono.empty())
    throw Error(path + ": holds no samples (0 seconds of audio)");
  for (float v : mono)
    if (!std::isfinite(v))
      throw Error(path + ": holds a sample that is not a finite number");
  std::vector<float> clip = resample(mono, info.samplerate, options.rate, path);
  size_t n = options.samples();
  size_t keep = std::min(n, clip.size());
  std::copy_n(clip.begin(), keep, out);
  std::fill(out + keep, out + n, 0.0f);
}

Dataset loadAudioFolder(const std::string &dir, const AudioOptions &options) {
  ClassFolderScan scan =
      scanClassFolders(dir, options.classes, options.numClasses, kAudioFiles);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = dir;
  decodeAll(scan.paths, options, *storage);
  setClassTargets(*storage, std::move(scan), options.numClasses);
  return Dataset(std::move(storage));
}

std::vector<std::string> audioClasses(const std::string &dir) {
  return classSubfolders(dir, kAudioFiles);
}

Dataset loadAudioInputs(const std::string &path, const AudioOptions &options) {
  std::vector<std::string> paths = listInputFiles(path, kAudioFiles);
  auto storage = std::make_shared<DatasetStorage>();
  storage->source = path;
  decodeAll(paths, options, *storage);
  storage->paths = std::move(paths);
  return Dataset(std::move(storage));
}

} // namespace nnrt
