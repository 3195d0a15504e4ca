// Smoke fuzzing under ctest: mutates the target's seeds (bit flips, byte
// sets, truncations, insertions, splices) for a fixed number of runs with a
// printed, replayable seed (TUPHAP_SEED). The sanitizer build turns any
// memory error into a failure; the target itself asserts its invariants.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "base/random.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

std::string Mutate(const std::string& in, tuphap::Random& rng,
                   const std::vector<std::string>& seeds) {
  std::string s = in;
  const int steps = 1 + static_cast<int>(rng.Uniform(4));
  for (int i = 0; i < steps; ++i) {
    switch (rng.Uniform(6)) {
      case 0:
        if (!s.empty()) s[rng.Uniform(s.size())] ^= static_cast<char>(1 << rng.Uniform(8));
        break;
      case 1:
        if (!s.empty()) s[rng.Uniform(s.size())] = static_cast<char>(rng.Uniform(256));
        break;
      case 2:
        if (!s.empty()) s.resize(rng.Uniform(s.size()));
        break;
      case 3:
        s.insert(s.begin() + static_cast<long>(rng.Uniform(s.size() + 1)),
                 static_cast<char>(rng.Uniform(256)));
        break;
      case 4: {  // interesting bytes for msgpack/JSON headers
        static const char kMagic[] = {'\xdd', '\xdb', '\xc6', '\xff', '\x00', '\x7f',
                                      '\x80', '"',    '{',    '[',    '\\'};
        if (!s.empty()) s[rng.Uniform(s.size())] = kMagic[rng.Uniform(sizeof kMagic)];
        break;
      }
      default: {
        const std::string& other = seeds[rng.Uniform(seeds.size())];
        if (!other.empty()) s += other.substr(rng.Uniform(other.size()));
      }
    }
  }
  return s;
}

TEST(FuzzSmoke, MutatedSeedsNeverCrash) {
  const uint64_t seed = std::getenv("TUPHAP_SEED")
                            ? std::strtoull(std::getenv("TUPHAP_SEED"), nullptr, 10)
                            : static_cast<uint64_t>(time(nullptr));
  const long runs =
      std::getenv("TUPHAP_FUZZ_RUNS") ? std::atol(std::getenv("TUPHAP_FUZZ_RUNS")) : 20000;
  std::printf("fuzz smoke seed=%llu runs=%ld (replay with TUPHAP_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), runs, static_cast<unsigned long long>(seed));
  const std::vector<std::string> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  for (const auto& s : seeds)
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  tuphap::Random rng(seed);
  for (long i = 0; i < runs; ++i) {
    const std::string input = Mutate(seeds[rng.Uniform(seeds.size())], rng, seeds);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
}

}  // namespace
