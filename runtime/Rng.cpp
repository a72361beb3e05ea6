//===- Rng.cpp - xoshiro256** seeded by splitmix64
//--------------------------===//
#include "runtime/Rng.h"

#include "runtime/Error.h"

namespace nnrt {

static uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

void Rng::reseed(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t &word : s)
    word = splitmix64(x);
}

uint64_t Rng::next() {
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::uniform() { return (next() >> 11) * 0x1.0p-53; }

std::array<uint8_t, Rng::StateBytes> Rng::saveState() const {
  std::array<uint8_t, StateBytes> bytes;
  for (size_t w = 0; w < 4; ++w)
    for (size_t b = 0; b < 8; ++b)
      bytes[w * 8 + b] = static_cast<uint8_t>(s[w] >> (8 * b));
  return bytes;
}

void Rng::restoreState(const uint8_t *bytes, size_t size) {
  if (size != StateBytes)
    throw Error("random generator state has " + std::to_string(size) +
                " bytes, expected " + std::to_string(StateBytes));
  std::array<uint64_t, 4> state{};
  for (size_t w = 0; w < 4; ++w)
    for (size_t b = 0; b < 8; ++b)
      state[w] |= static_cast<uint64_t>(bytes[w * 8 + b]) << (8 * b);
  if (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0)
    throw Error("random generator state is all zeros (corrupt checkpoint?)");
  s = state;
}

} // namespace nnrt
