// Every fuzz target defines LLVMFuzzerTestOneInput and FuzzSeeds (valid
// inputs to start mutating from). Built two ways: with clang's libFuzzer
// (-DTUPHAP_FUZZ=ON, for long runs), and as a ctest smoke test with a seeded
// mutator (fuzz_smoke_main.cc) so every decoder meets hostile bytes in CI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
std::vector<std::string> FuzzSeeds();
