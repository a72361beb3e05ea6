//===- Rng.h - the runtime's seeded, serializable random generator -*- C++
//-*-===//
//
// nnrt uses one documented generator everywhere (data splits, per-epoch
// shuffles, later augmentation) so that runs are reproducible across
// compilers and standard libraries, which std::shuffle and
// std::uniform_int_distribution are not:
//
//   * state: xoshiro256** (Blackman & Vigna), four 64-bit words;
//   * seeding: the four words are successive outputs of splitmix64 started at
//     the user's seed;
//   * below(n): Lemire's multiply-shift with rejection, unbiased;
//   * shuffle: Fisher-Yates from the back, for i = n-1 .. 1: swap(a[i],
//     a[below(i + 1)]).
//
// The whole state is 32 bytes and round-trips exactly through saveState /
// restoreState (little-endian), e.g. as a U8 tensor in a checkpoint.
//
//===----------------------------------------------------------------------===//
#ifndef NNRT_RNG_H
#define NNRT_RNG_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnrt {

class Rng {
public:
  static constexpr size_t StateBytes = 32;

  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed);
  /// The next 64 random bits.
  uint64_t next();
  /// A uniform integer in [0, n); n must be > 0.
  uint64_t below(uint64_t n);
  /// A uniform double in [0, 1) with 53 random bits.
  double uniform();

  /// Shuffles `values` in place with the Fisher-Yates rule described above.
  template <typename T> void shuffle(std::vector<T> &values) {
    for (size_t i = values.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      std::swap(values[i - 1], values[j]);
    }
  }

  std::array<uint8_t, StateBytes> saveState() const;
  /// Restores a state produced by saveState; throws nnrt::Error if `bytes`
  /// has the wrong size or is the all-zero state (which xoshiro cannot leave).
  void restoreState(const uint8_t *bytes, size_t size);

  bool operator==(const Rng &other) const { return s == other.s; }
  bool operator!=(const Rng &other) const { return s != other.s; }

private:
  std::array<uint64_t, 4> s;
};

} // namespace nnrt

#endif // NNRT_RNG_H
