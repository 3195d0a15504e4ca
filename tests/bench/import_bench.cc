// Import benchmark (issue 3, deliverable 8). Prints its figures.
//
// Runs the real `tuphap import` on a file of generated records into a hub
// of the records' province — wall time, records/s and the import process's
// peak resident memory (wait4) — and, in the same run, the foundation's
// plain batch-apply figure (store_bench (b)), printed as a ratio.
//
// Usage: import_bench [--records N] [--province PP] [--communes N] [--seed S]
//                     [--file FILE.jsonl]
// Without --file the records come from `tuphap generate` with the given
// options (default 100,000 records, province 56, 50 communes, seed 1); with
// --file (say, the output of ../shared/workload/gen.py) that file is imported
// into a hub of --province.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/child.h"
#include "tests/bench/store_apply.h"

using namespace tuphap;
using bench::Check;
using bench::ChildRun;
using bench::LastLine;
using bench::Run;

int main(int argc, char** argv) {
  // The node's keys unlock from the environment; a benchmark passphrase
  // guards nothing, so the smallest Argon2id limits.
  setenv("TUPHAP_PASSPHRASE", "bench-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
  std::string records = "100000", province = "56", communes = "50", seed = "1", file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--records") {
      records = v;
    } else if (k == "--province") {
      province = v;
    } else if (k == "--communes") {
      communes = v;
    } else if (k == "--seed") {
      seed = v;
    } else if (k == "--file") {
      file = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  bench::ScratchDir dir("tuphap-import-bench");
  std::string source = "file " + file;
  if (file.empty()) {
    file = dir.File("in.jsonl");
    Check(Run({"generate", "--records", records, "--seed", seed, "--province", province,
               "--communes", communes, "--out", file}),
          "tuphap generate");
    source = "tuphap generate --records " + records + " --seed " + seed + " --province " +
             province + " --communes " + communes;
  }
  const std::string hub = dir.File("hub");
  Check(Run({"--data", hub, "init", "--role", "hub", "--province", province}), "tuphap init");
  const std::string out = dir.File("out.jsonl");
  const ChildRun imp = Run({"--data", hub, "--json", "import", file}, out);
  Check(imp, "tuphap import");
  auto summary = ParseJson(LastLine(out), nullptr);
  const Json* s = summary ? summary->Find("summary") : nullptr;
  if (s == nullptr) {
    std::fprintf(stderr, "no summary in the import output\n");
    return 1;
  }
  const double accepted = static_cast<double>(s->Find("accepted")->as_int());
  const double lines = static_cast<double>(s->Find("lines")->as_int());
  const double rate = accepted / imp.seconds;

  const uint64_t changes = 100000;
  const double apply = bench::StoreApply(dir, changes, 1000, 15);
  const double apply_rate = static_cast<double>(changes) / apply;

  std::printf("import into a hub of province %s (%s):\n", province.c_str(), source.c_str());
  std::printf("    %.0f lines, %.0f accepted, %lld refused: %.2f s  %.0f records/s  %.0f lines/s\n",
              lines, accepted, static_cast<long long>(s->Find("refused")->as_int()), imp.seconds,
              rate, lines / imp.seconds);
  std::printf("    peak memory of the import process: %.1f MB\n", imp.peak_rss_kb / 1024.0);
  std::printf("plain batch apply (store_bench (b)), same run: %.0f changes/s of 15 ops\n",
              apply_rate);
  std::printf("    ratio import records/s : batch-apply changes/s = %.2f\n", rate / apply_rate);
  std::printf("goal: >= 20,000 records/s and < 100 MB: %s, %s\n", rate >= 20000 ? "met" : "NOT met",
              imp.peak_rss_kb < 100 * 1024 ? "met" : "NOT met");
  return 0;
}
