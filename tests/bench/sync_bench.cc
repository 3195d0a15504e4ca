// Sync over loopback with the real binary (issue 5, benchmarks):
//
//   (a) initial sync of N generated records (default 100,000) from one
//       commune to its hub: records/s and bytes on the wire per record;
//   (b) then 10 new changes at the commune: the incremental sync's wall time
//       and bytes exchanged;
//   (c) C communes (default 50) with R records each (default 2,000) syncing
//       to one hub at the same time: time until all have caught up, and the
//       hub's peak memory.
//
//   sync_bench [--records N] [--communes C] [--per-commune R] [--baseline BINARY]
//
// --baseline: (a) is also run, on copies of the same two stores, with an
// earlier build of tuphap, alternately with this one (three runs each), to
// compare the clean-link speed in one run on one machine.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/child.h"

using namespace tuphap;
using bench::Check;
using bench::ChildRun;
using bench::Run;
using bench::Spawn;

namespace {

int Port(int offset) { return 20000 + (getpid() % 20000) + offset; }

Json SyncJson(const std::string& node, const std::string& endpoint, const std::string& out,
              double* seconds) {
  const ChildRun r = Run({"--data", node, "--json", "sync", endpoint, "--once"}, out);
  Check(r, "tuphap sync");
  *seconds = r.seconds;
  return *ParseJson(bench::LastLine(out), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("TUPHAP_PASSPHRASE", "bench-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
  std::string records = "100000";
  int communes = 50, per_commune = 2000;
  std::string baseline;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--records") records = v;
    if (k == "--communes") communes = std::stoi(v);
    if (k == "--per-commune") per_commune = std::stoi(v);
    if (k == "--baseline") baseline = v;
  }
  bench::ScratchDir dir("sync-bench");
  const std::string hub = dir.File("hub"), c = dir.File("c"), file = dir.File("c.jsonl");
  Check(Run({"--data", hub, "init", "--role", "hub", "--province", "56"}), "init hub");
  Check(Run({"--data", c, "init", "--role", "commune", "--commune", "22333"}), "init commune");
  bench::Enrol(hub, c, dir.path().string());
  Check(Run({"generate", "--records", records, "--commune", "22333", "--seed", "1", "--out", file}),
        "generate");
  Check(Run({"--data", c, "import", file}), "import");

  if (!baseline.empty()) {
    // The same initial sync on fresh copies of two stores, with the earlier
    // build and with this one, alternately: medians of three. The earlier
    // build makes its own pair (it may not open a newer store schema).
    const std::string bhub = dir.File("hub-base"), bc = dir.File("c-base");
    setenv("TUPHAP_BENCH_BINARY", baseline.c_str(), 1);
    Check(Run({"--data", bhub, "init", "--role", "hub", "--province", "56"}), "init hub (base)");
    Check(Run({"--data", bc, "init", "--role", "commune", "--commune", "22333"}),
          "init commune (base)");
    std::filesystem::create_directories(dir.File("e-base"));
    bench::Enrol(bhub, bc, dir.File("e-base"));
    Check(Run({"--data", bc, "import", file}), "import (base)");
    unsetenv("TUPHAP_BENCH_BINARY");
    std::map<std::string, std::vector<double>> rates;
    for (int round = 0; round < 3; ++round) {
      for (const std::string& which : {std::string("baseline"), std::string("this build")}) {
        const std::string tag = (which == "baseline" ? "b" : "t") + std::to_string(round);
        const std::string h = dir.File("hub-" + tag), cc = dir.File("c-" + tag);
        const bool base = which == "baseline";
        std::filesystem::copy(base ? bhub : hub, h, std::filesystem::copy_options::recursive);
        std::filesystem::copy(base ? bc : c, cc, std::filesystem::copy_options::recursive);
        if (which == "baseline") setenv("TUPHAP_BENCH_BINARY", baseline.c_str(), 1);
        const std::string e =
            "tcp://127.0.0.1:" + std::to_string(Port(2 + round * 2 + (which == "baseline")));
        const std::string l = dir.File("hub-" + tag + ".log");
        const pid_t p = Spawn({"--data", h, "serve", "--exit-with-parent", "--listen", e}, l);
        bench::WaitForLog(l, "listening on", 20);
        double t = 0;
        Json j = SyncJson(cc, e, dir.File("a-" + tag + ".json"), &t);
        bench::StopChild(p);
        unsetenv("TUPHAP_BENCH_BINARY");
        rates[which].push_back(static_cast<double>(j.Find("sent")->as_int()) / t);
        std::filesystem::remove_all(h);
        std::filesystem::remove_all(cc);
      }
    }
    for (auto& [which, r] : rates) {
      std::sort(r.begin(), r.end());
      std::printf("sync_bench (a') initial sync, %s: %.0f records/s (median of %.0f, %.0f, %.0f)\n",
                  which.c_str(), r[1], r[0], r[1], r[2]);
    }
    std::printf("sync_bench (a') this build / baseline: %.3f\n",
                rates["this build"][1] / rates["baseline"][1]);
  }

  // (a) initial sync
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(Port(0));
  const std::string hub_log = dir.File("hub.log");
  pid_t hub_pid = Spawn({"--data", hub, "serve", "--exit-with-parent", "--listen", ep}, hub_log);
  bench::WaitForLog(hub_log, "listening on", 20);
  double secs = 0;
  Json a = SyncJson(c, ep, dir.File("a.json"), &secs);
  const double n = static_cast<double>(a.Find("sent")->as_int());
  const double bytes =
      static_cast<double>(a.Find("bytes_out")->as_int() + a.Find("bytes_in")->as_int());
  std::printf(
      "sync_bench (a) initial sync commune -> hub: %.0f records in %.2f s = %.0f records/s, "
      "%.0f bytes on the wire per record (goal >= 40,000 records/s, issue 17)\n",
      n, secs, n / secs, bytes / n);

  // (b) 10 new changes on nodes that already share everything
  {
    std::ifstream in(file);
    std::string line;
    for (int k = 0; k < 10 && std::getline(in, line); ++k) {
      const std::string id = ParseJson(line, nullptr)->Find("record_id")->as_string();
      Check(Run({"--data", c, "record", "amend", id, "--field",
                 "data.notes=bench " + std::to_string(k)}),
            "amend");
    }
  }
  Json b = SyncJson(c, ep, dir.File("b.json"), &secs);
  std::printf(
      "sync_bench (b) incremental sync of %lld changes: %.1f ms wall (process start "
      "included), %lld bytes exchanged (goal < 100 ms, < 20 KB)\n",
      static_cast<long long>(b.Find("sent")->as_int()), secs * 1000,
      static_cast<long long>(b.Find("bytes_out")->as_int() + b.Find("bytes_in")->as_int()));
  bench::StopChild(hub_pid);

  // (c) many communes at once
  const std::string hub2 = dir.File("hub2");
  Check(Run({"--data", hub2, "init", "--role", "hub", "--province", "56"}), "init hub2");
  Check(
      Run({"generate", "--province", "56", "--communes", std::to_string(communes), "--records",
           std::to_string(communes * per_commune), "--seed", "5", "--out", dir.File("all.jsonl")}),
      "generate");
  // One file per commune, from the generated province file.
  const std::vector<std::string> codes =
      bench::SplitByCommune(dir.File("all.jsonl"), dir.path().string());
  std::vector<std::string> nodes;
  for (const std::string& code : codes) {
    const std::string node = dir.File("n-" + code);
    Check(Run({"--data", node, "init", "--role", "commune", "--commune", code}), "init");
    const std::string sub = dir.File("e-" + code);
    std::filesystem::create_directories(sub);
    bench::Enrol(hub2, node, sub);
    Check(Run({"--data", node, "import", dir.File("c-" + code + ".jsonl")}), "import");
    nodes.push_back(node);
  }
  const std::string ep2 = "tcp://127.0.0.1:" + std::to_string(Port(1));
  const std::string log2 = dir.File("hub2.log");
  hub_pid = Spawn({"--data", hub2, "serve", "--exit-with-parent", "--listen", ep2}, log2);
  bench::WaitForLog(log2, "listening on", 20);
  bench::Stopwatch all;
  std::vector<pid_t> syncs;
  for (const auto& node : nodes)
    syncs.push_back(Spawn({"--data", node, "sync", ep2, "--once", "--timeout", "120"}));
  int failed = 0;
  long peak = 0;
  for (pid_t p : syncs) {
    int status = 0;
    while (waitpid(p, &status, WNOHANG) == 0) {
      peak = std::max(peak, bench::ProcStatusKb(hub_pid, "VmHWM"));
      usleep(20000);
    }
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const double all_s = all.Seconds();
  peak = std::max(peak, bench::ProcStatusKb(hub_pid, "VmHWM"));
  bench::StopChild(hub_pid);
  std::printf(
      "sync_bench (c) %zu communes x ~%d records to one hub at once: all caught up in "
      "%.1f s (%d failed), hub peak memory %.1f MB (goal < 60 s)\n",
      nodes.size(), per_commune, all_s, failed, static_cast<double>(peak) / 1024.0);
  return failed == 0 ? 0 : 1;
}
