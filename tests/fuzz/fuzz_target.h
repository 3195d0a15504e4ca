// Every fuzz target defines LLVMFuzzerTestOneInput and FuzzSeeds (valid
// inputs to start mutating from). Built two ways: with clang's libFuzzer
// (-DTUPHAP_FUZZ=ON, for long runs), and as a ctest smoke test with a seeded
// mutator (fuzz_smoke_main.cc) so every decoder meets hostile bytes in CI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::string> FuzzSeeds();

namespace tuphap::fuzz {
// Bytes written as hex (a failing input, as the smoke test prints it).
inline std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}
}  // namespace tuphap::fuzz

// An invariant broken: says which (file, line, the condition) and aborts,
// which libFuzzer and the smoke test report as a crash with the input.
#define FUZZ_FAIL_IF(cond)                                                                      \
  do {                                                                                          \
    if (cond) {                                                                                 \
      std::fprintf(stderr, "fuzz: invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)
