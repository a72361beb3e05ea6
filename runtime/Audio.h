//===- Audio.h - audio(...) sources: decoded, mono, resampled clips -*- C++
//-*-===//
//
// `audio("dir", rate = R, seconds = S)` reads one folder per class
// (ClassFolders.h) of sound files that libsndfile decodes (WAV, FLAC, OGG,
// AIFF, ...; the sample files are the names ending in .wav, .flac, .ogg,
// .aif, .aiff, any case). Every file becomes one clip of round(S * R)
// float samples:
//
//   1. decoded to floats in [-1, 1] (libsndfile's normalisation: integer PCM
//      divided by 2^(bits - 1), as torchaudio.load),
//   2. mixed down to mono: the mean of the channels of each frame,
//   3. resampled from the file's rate to R with libsamplerate's
//      SRC_SINC_MEDIUM_QUALITY band-limited sinc converter (not at all when
//      the rates agree),
//   4. cut, or padded with zeros at the end, to round(S * R) samples.
//
// Clips are kept as F32 storage of shape [samples] with `sampleRate` set;
// AudioFeatures.h turns them into the model's [frames, features] values.
// Files are decoded on oneTBB threads, once, when the data is loaded.
//
// Bad input is an nnrt::Error naming the file: not a sound file libsndfile
// knows, an encoding it cannot decode, a file without samples, a class
// folder without sound files, a missing folder.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_AUDIO_H
#define NNRT_AUDIO_H

#include "runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnrt {

struct AudioOptions {
  int32_t rate = 16000; ///< samples per second of every clip
  double seconds = 1.0; ///< clip length
  /// The classes the labels index, as TextSourceOptions::classes.
  std::vector<std::string> classes;
  /// The model's number of classes; more classes is an error. 0: no check.
  int32_t numClasses = 0;

  /// round(seconds * rate).
  size_t samples() const;
};

/// True for names ending in .wav, .flac, .ogg, .aif or .aiff (any case).
bool isAudioFile(const std::string &path);

/// Decodes one file into `out` (options.samples() values) through steps 1-4.
void readAudioClip(const std::string &path, const AudioOptions &options,
                   float *out);

/// Mono `in` at `fromRate` Hz resampled to `toRate` Hz
/// (SRC_SINC_MEDIUM_QUALITY); about in.size() * toRate / fromRate samples.
/// `what` names the source in errors.
std::vector<float> resample(const std::vector<float> &in, int32_t fromRate,
                            int32_t toRate, const std::string &what);

/// audio(dir): a folder of class folders.
Dataset loadAudioFolder(const std::string &dir, const AudioOptions &options);

/// The class subfolders of an audio folder, without decoding its files.
std::vector<std::string> audioClasses(const std::string &dir);

/// Clips to classify (predict): one sound file, or every sound file under
/// a folder (recursively, sorted by path). Samples record their path.
Dataset loadAudioInputs(const std::string &path, const AudioOptions &options);

} // namespace nnrt

#endif // NNRT_AUDIO_H
