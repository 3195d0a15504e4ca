// Import benchmark (issue 3, deliverable 8; issue 17, item 4). Prints its
// figures.
//
// Runs the real `tuphap import` on a file of generated records (a) into a
// hub of the records' province and (b) into an enrolled commune node (init
// hub, init commune, enroll request/sign/accept), whose every change is
// sealed, encrypted and signed for the hub — wall time, records/s and the
// import process's peak resident memory (wait4) — and, in the same run, the
// foundation's plain batch-apply figure (store_bench (b)), printed as a
// ratio.
//
// Usage: import_bench [--records N] [--province PP] [--communes N] [--seed S]
//                     [--file FILE.jsonl] [--commune CCCCC] [--only hub|commune]
// Without --file the records come from `tuphap generate` with the given
// options (default 100,000 records, province 56, 50 communes, seed 1; for
// (b) N records of commune --commune, default 22333); with --file (say, the
// output of ../shared/workload/gen.py) that file is imported into a hub of
// --province, and (b) is skipped unless --commune names the file's commune.
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

namespace {

struct Figures {
  double lines = 0, accepted = 0, refused = 0, seconds = 0, cpu = 0, peak_mb = 0;
  double rate() const { return accepted / seconds; }
};

// The real `tuphap import` of `file` into the node at `data`.
Figures Import(bench::ScratchDir& dir, const std::string& data, const std::string& file,
               const std::string& name) {
  const std::string out = dir.File(name + "-out.jsonl");
  const ChildRun imp = Run({"--data", data, "--json", "import", file}, out);
  Check(imp, "tuphap import");
  auto summary = ParseJson(LastLine(out), nullptr);
  const Json* s = summary ? summary->Find("summary") : nullptr;
  if (s == nullptr) {
    std::fprintf(stderr, "no summary in the import output\n");
    std::exit(1);
  }
  Figures f;
  f.accepted = static_cast<double>(s->Find("accepted")->as_int());
  f.lines = static_cast<double>(s->Find("lines")->as_int());
  f.refused = static_cast<double>(s->Find("refused")->as_int());
  f.seconds = imp.seconds;
  f.cpu = imp.cpu_seconds;
  f.peak_mb = imp.peak_rss_kb / 1024.0;
  return f;
}

void Print(const char* what, const std::string& source, const Figures& f) {
  std::printf("import into %s (%s):\n", what, source.c_str());
  std::printf("    %.0f lines, %.0f accepted, %.0f refused: %.2f s  %.0f records/s  %.0f lines/s\n",
              f.lines, f.accepted, f.refused, f.seconds, f.rate(), f.lines / f.seconds);
  std::printf(
      "    CPU time of the import process: %.2f s (%.1f us a record; the machine has %ld cores)\n",
      f.cpu, f.cpu * 1e6 / f.accepted, sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("    peak memory of the import process: %.1f MB\n", f.peak_mb);
}

}  // namespace

int main(int argc, char** argv) {
  // The node's keys unlock from the environment; a benchmark passphrase
  // guards nothing, so the smallest Argon2id limits.
  setenv("TUPHAP_PASSPHRASE", "bench-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
  std::string records = "100000", province = "56", communes = "50", seed = "1", file, commune, only;
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
    } else if (k == "--commune") {
      commune = v;
    } else if (k == "--only" && (v == "hub" || v == "commune")) {
      only = v;
    } else {
      std::fprintf(stderr, "unknown option %s %s\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  bench::ScratchDir dir("tuphap-import-bench");
  const bool from_file = !file.empty();
  if (commune.empty() && !from_file) commune = "22333";
  const bool do_hub = only != "commune";
  const bool do_commune = only != "hub" && !commune.empty();

  // (a) into a hub of the province.
  Figures hub_figures;
  if (do_hub) {
    std::string hub_file = file, source = "file " + file;
    if (!from_file) {
      hub_file = dir.File("in.jsonl");
      Check(Run({"generate", "--records", records, "--seed", seed, "--province", province,
                 "--communes", communes, "--out", hub_file}),
            "tuphap generate");
      source = "tuphap generate --records " + records + " --seed " + seed + " --province " +
               province + " --communes " + communes;
    }
    const std::string hub = dir.File("hub");
    Check(Run({"--data", hub, "init", "--role", "hub", "--province", province}), "tuphap init");
    hub_figures = Import(dir, hub, hub_file, "hub");
    Print(("a hub of province " + province).c_str(), source, hub_figures);
  }

  // (b) into an enrolled commune node: every change sealed for the hub.
  Figures commune_figures;
  if (do_commune) {
    std::string commune_file = file, source = "file " + file;
    if (!from_file) {
      commune_file = dir.File("commune.jsonl");
      Check(Run({"generate", "--records", records, "--seed", seed, "--commune", commune, "--out",
                 commune_file}),
            "tuphap generate");
      source = "tuphap generate --records " + records + " --seed " + seed + " --commune " + commune;
    }
    const std::string hub = dir.File("ehub"), node = dir.File("commune");
    Check(Run({"--data", hub, "init", "--role", "hub", "--province", province}),
          "tuphap init (hub)");
    Check(Run({"--data", node, "init", "--role", "commune", "--commune", commune}),
          "tuphap init (commune)");
    Check(Run({"--data", node, "enroll", "request", "--out", dir.File("req")}), "enroll request");
    Check(Run({"--data", hub, "enroll", "sign", dir.File("req"), "--out", dir.File("enrol")}),
          "enroll sign");
    Check(Run({"--data", node, "enroll", "accept", dir.File("enrol")}), "enroll accept");
    commune_figures = Import(dir, node, commune_file, "commune");
    Print(("an enrolled commune node " + commune).c_str(), source, commune_figures);
  }

  const uint64_t changes = 100000;
  const double apply = bench::StoreApply(dir, changes, 1000, 15);
  const double apply_rate = static_cast<double>(changes) / apply;
  std::printf("plain batch apply (store_bench (b)), same run: %.0f changes/s of 15 ops\n",
              apply_rate);
  if (do_hub) {
    std::printf("    ratio hub import records/s : batch-apply changes/s = %.2f\n",
                hub_figures.rate() / apply_rate);
    std::printf("goal (hub): >= 20,000 records/s and < 100 MB: %s, %s\n",
                hub_figures.rate() >= 20000 ? "met" : "NOT met",
                hub_figures.peak_mb < 100 ? "met" : "NOT met");
  }
  if (do_commune) {
    std::printf("    ratio commune import records/s : batch-apply changes/s = %.2f\n",
                commune_figures.rate() / apply_rate);
    std::printf("goal (enrolled commune, issue 17): >= 25,000 records/s and < 100 MB: %s, %s\n",
                commune_figures.rate() >= 25000 ? "met" : "NOT met",
                commune_figures.peak_mb < 100 ? "met" : "NOT met");
  }
  return 0;
}
