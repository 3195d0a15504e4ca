// Random: a small seeded generator (xoshiro256**) for tests, simulation,
// jitter and ids. Not for keys: cryptographic randomness comes from libsodium.
#pragma once

#include <cstdint>

namespace tuphap {

class Random {
 public:
  explicit Random(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n); n must be > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

}  // namespace tuphap
