// Smoke fuzzing under ctest: mutates the target's seeds (bit flips, byte
// sets, truncations, insertions, splices) for a fixed number of runs with a
// printed, replayable seed (TUPHAP_SEED). The sanitizer build turns any
// memory error into a failure; the target itself asserts its invariants.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>

#include "base/random.h"
#include "tests/fuzz/fuzz_target.h"

#ifndef TUPHAP_FUZZ_DEFAULT_RUNS
#define TUPHAP_FUZZ_DEFAULT_RUNS 20000
#endif

namespace {

// The input being run, printed in hex when a target aborts or a sanitizer
// kills the run, so the failure can be turned into a test with its bytes.
const std::string* g_current = nullptr;

void PrintCurrent(int sig) {
  static const char kHex[] = "0123456789abcdef";
  if (g_current != nullptr) {
    const char head[] = "\nfuzz smoke: failing input (hex): ";
    (void)!write(2, head, sizeof head - 1);
    for (unsigned char c : *g_current) {
      const char pair[2] = {kHex[c >> 4], kHex[c & 15]};
      (void)!write(2, pair, 2);
    }
    (void)!write(2, "\n", 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

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
  // A target whose decoder works on a real node (SQLite, signatures) sets a
  // lower default, so each smoke test stays short under the sanitizers.
  const long runs = std::getenv("TUPHAP_FUZZ_RUNS") ? std::atol(std::getenv("TUPHAP_FUZZ_RUNS"))
                                                    : TUPHAP_FUZZ_DEFAULT_RUNS;
  std::printf("fuzz smoke seed=%llu runs=%ld (replay with TUPHAP_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), runs, static_cast<unsigned long long>(seed));
  const std::vector<std::string> seeds = FuzzSeeds();
  ASSERT_FALSE(seeds.empty());
  std::signal(SIGABRT, PrintCurrent);
  std::signal(SIGSEGV, PrintCurrent);
  for (const auto& s : seeds) {
    g_current = &s;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  tuphap::Random rng(seed);
  for (long i = 0; i < runs; ++i) {
    const std::string input = Mutate(seeds[rng.Uniform(seeds.size())], rng, seeds);
    g_current = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  g_current = nullptr;
}

}  // namespace
