// Linked into each libFuzzer binary (-DTUPHAP_FUZZ=ON) beside its target:
// `fuzz_X --dump-seeds DIR` writes the target's seeds (FuzzSeeds, real
// outputs of the project's encoders) into DIR as files and exits, so
// scripts/dev.sh fuzz starts each corpus from them; any other arguments
// go to libFuzzer.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  if (*argc < 3 || std::strcmp((*argv)[1], "--dump-seeds") != 0) return 0;
  const std::string dir = (*argv)[2];
  mkdir(dir.c_str(), 0755);
  int n = 0;
  for (const std::string& seed : FuzzSeeds()) {
    // Named by content, as libFuzzer names what it adds: a second dump of
    // the same seeds adds no files.
    uint64_t h = 14695981039346656037ull;  // FNV-1a: no library needed
    for (unsigned char c : seed) h = (h ^ c) * 1099511628211ull;
    char name[17];
    std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(h));
    const std::string path = dir + "/seed-" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(seed.data(), 1, seed.size(), f) != seed.size() ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::exit(1);
    }
    ++n;
  }
  std::printf("%d seeds in %s\n", n, dir.c_str());
  std::exit(0);
}
