// A province's communes syncing to one hub at once, and staying connected
// (issue 17, load), with the real binary over loopback:
//
//   (a) C communes (default 168: Hồ Chí Minh City, province 79) with R
//       records each (default 2,000) run `sync --once` against one fresh hub
//       at the same moment, R runs over (default 5): the time until the last
//       has caught up, the hub's peak resident memory, and whether the hub
//       holds every record with nothing refused;
//   (b) with --idle SECONDS: the C communes each run `serve --upstream` to
//       the hub; once every one is connected and caught up, the hub's CPU
//       use (utime + stime from /proc) over SECONDS of idle sessions.
//
//   load_bench [--province P] [--communes C] [--per-commune R] [--runs N]
//              [--idle SECONDS] [--cache DIR] [--max-catching-up N]
//              [--senders-dir DIR] [--keep-hub DIR]
//
// --keep-hub copies the hub of the last run to DIR (sqlite_floor_bench
// replays its rows).
//
// --senders-dir puts the communes' copies in DIR (say /dev/shm), so that the
// 168 senders' own commits, which share the hub's disk and cores here but
// would each have a machine of their own in the field, do not wait on the
// disk the hub syncs to. The hub stays in the scratch folder.
//
// Building the stores (C inits, enrolments and imports) takes minutes, so
// they are kept under --cache (default: $TUPHAP_BENCH_DIR or the temporary
// folder) and reused when they were built with the same arguments; each run
// works on fresh copies of them.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
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
namespace fs = std::filesystem;

namespace {

// utime + stime of a process, in clock ticks.
long CpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f;
  std::string cur;
  for (size_t i = close + 2; i < s.size(); ++i) {
    if (s[i] == ' ') {
      f.push_back(cur);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  // After ")": state is field 3 of stat, utime 14 and stime 15 (1-based).
  return f.size() > 12 ? std::stol(f[11]) + std::stol(f[12]) : 0;
}

struct Setup {
  std::string hub;                    // the enrolled hub, never served: copied per run
  std::vector<std::string> communes;  // commune node folders, likewise
  uint64_t records = 0;
};

// The province's first `count` communes, as the generator names them.
std::vector<std::string> CommuneCodes(const std::string& province, int count,
                                      const std::string& file) {
  Check(Run({"generate", "--province", province, "--communes", std::to_string(count), "--records",
             std::to_string(count * 40), "--seed", "9", "--out", file}),
        "generate (commune list)");
  std::set<std::string> codes;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    codes.insert(ParseJson(line, nullptr)->Find("commune_code")->as_string());
  fs::remove(file);
  return {codes.begin(), codes.end()};
}

Setup Build(const fs::path& at, const std::string& province, int communes, int per_commune) {
  Setup s;
  s.hub = (at / "hub").string();
  const std::string done = (at / "complete").string();
  const std::vector<std::string> codes =
      CommuneCodes(province, communes, (at.parent_path() / "codes.jsonl").string());
  for (const auto& code : codes) s.communes.push_back((at / ("n-" + code)).string());
  s.records = static_cast<uint64_t>(codes.size()) * static_cast<uint64_t>(per_commune);
  if (fs::exists(done)) return s;
  fs::remove_all(at);
  fs::create_directories(at);
  bench::Stopwatch w;
  Check(Run({"--data", s.hub, "init", "--role", "hub", "--province", province}), "init hub");
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string& node = s.communes[i];
    const std::string file = (at / "lines.jsonl").string();
    Check(Run({"--data", node, "init", "--role", "commune", "--commune", codes[i]}), "init");
    bench::Enrol(s.hub, node, at.string());
    Check(Run({"generate", "--commune", codes[i], "--records", std::to_string(per_commune),
               "--seed", std::to_string(100 + i), "--out", file}),
          "generate");
    Check(Run({"--data", node, "import", file}), "import");
  }
  std::ofstream(done) << "ok\n";
  std::printf("load_bench: built %zu communes x %d records in %.0f s (kept in %s)\n", codes.size(),
              per_commune, w.Seconds(), at.c_str());
  return s;
}

struct RunFigures {
  double seconds = 0;
  double peak_mb = 0;
  double hub_cpu = 0;         // the hub's CPU seconds (user + system) until all caught up
  double hub_written_mb = 0;  // what the hub passed to write(2) and pwrite(2) until then
  int failed = 0;
  uint64_t hub_records = 0;
  uint64_t refused = 0;
};

// The hub's records (`report status`) and refusals (`status`), once it stopped.
void HubCounts(const std::string& hub, const std::string& out, RunFigures* f) {
  Check(Run({"--data", hub, "--json", "report", "status"}, out), "report status");
  const Json report = *ParseJson(bench::LastLine(out), nullptr);
  if (const Json* cs = report.Find("communes"); cs != nullptr && cs->is_array()) {
    for (const Json& c : cs->as_array()) {
      if (const Json* n = c.Find("records"); n != nullptr) f->hub_records += n->as_int();
    }
  }
  Check(Run({"--data", hub, "--json", "status"}, out), "status");
  const Json status = *ParseJson(bench::LastLine(out), nullptr);
  if (const Json* n = status.Find("refused"); n != nullptr) f->refused = n->as_int();
}

std::string g_max_catching_up = "16";  // the hub's serve --max-catching-up
std::string g_senders_dir;             // where the communes' copies go, if not beside the hub
std::string g_keep_hub;                // where the last run's hub is copied, if anywhere

RunFigures OneRun(const Setup& s, const fs::path& dir, int port) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string hub = (dir / "hub").string();
  fs::copy(s.hub, hub, fs::copy_options::recursive);
  const fs::path senders = g_senders_dir.empty() ? dir : fs::path(g_senders_dir) / "load-bench";
  if (senders != dir) {
    fs::remove_all(senders);
    fs::create_directories(senders);
  }
  std::vector<std::string> nodes;
  for (const auto& c : s.communes) {
    nodes.push_back((senders / fs::path(c).filename()).string());
    fs::copy(c, nodes.back(), fs::copy_options::recursive);
  }
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string log = (dir / "hub.log").string();
  const pid_t hub_pid = Spawn({"--data", hub, "serve", "--exit-with-parent", "--listen", ep,
                               "--max-catching-up", g_max_catching_up},
                              log);
  bench::WaitForLog(log, "listening on", 10);
  RunFigures f;
  bench::Stopwatch all;
  std::map<pid_t, size_t> syncs;  // pid -> index in nodes
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::vector<std::string> args = {"--data", nodes[i], "--json",    "sync",
                                           ep,       "--once", "--timeout", "120"};
    syncs[Spawn(args, nodes[i] + ".json", false)] = i;
  }
  long peak = 0;
  std::vector<std::pair<double, size_t>> finished;  // seconds, node
  while (!syncs.empty()) {
    int status = 0;
    const pid_t p = waitpid(-1, &status, WNOHANG);
    if (p <= 0) {
      peak = std::max(peak, bench::ProcStatusKb(hub_pid, "VmHWM"));
      usleep(20000);
      continue;
    }
    auto it = syncs.find(p);
    if (it == syncs.end()) continue;
    finished.emplace_back(all.Seconds(), it->second);
    f.failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    syncs.erase(it);
  }
  f.seconds = all.Seconds();
  // The slowest three, with the connections their sync needed: a tail
  // shows here first.
  std::sort(finished.rbegin(), finished.rend());
  std::vector<double> times;
  for (const auto& [t, i] : finished) times.push_back(t);
  std::printf("    communes caught up after %.1f / %.1f / %.1f s (median / p90 / last);",
              bench::Percentile(times, 0.5), bench::Percentile(times, 0.9),
              bench::Percentile(times, 1.0));
  for (size_t k = 0; k < std::min<size_t>(3, finished.size()); ++k) {
    const auto [t, i] = finished[k];
    const auto j = ParseJson(bench::LastLine(nodes[i] + ".json"), nullptr);
    const Json* sessions = j ? j->Find("sessions") : nullptr;
    std::printf(" %s %.1f s %lld connection(s);", fs::path(nodes[i]).filename().c_str(), t,
                sessions != nullptr ? static_cast<long long>(sessions->as_int()) : -1LL);
  }
  std::printf("\n");
  peak = std::max(peak, bench::ProcStatusKb(hub_pid, "VmHWM"));
  f.peak_mb = static_cast<double>(peak) / 1024.0;
  f.hub_cpu = static_cast<double>(CpuTicks(hub_pid)) / static_cast<double>(sysconf(_SC_CLK_TCK));
  f.hub_written_mb = static_cast<double>(bench::ProcField(hub_pid, "io", "wchar")) / 1e6;
  bench::StopChild(hub_pid);
  HubCounts(hub, (dir / "status.json").string(), &f);
  if (!g_keep_hub.empty()) {
    fs::remove_all(g_keep_hub);
    fs::copy(hub, g_keep_hub, fs::copy_options::recursive);
  }
  if (senders != dir) fs::remove_all(senders);
  return f;
}

// The C communes serving with the hub upstream; the hub's CPU while idle.
void Idle(const Setup& s, const fs::path& dir, int port, int seconds) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string hub = (dir / "hub").string();
  fs::copy(s.hub, hub, fs::copy_options::recursive);
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string log = (dir / "hub.log").string();
  const pid_t hub_pid = Spawn({"--data", hub, "serve", "--exit-with-parent", "--listen", ep}, log);
  bench::WaitForLog(log, "listening on", 10);
  std::vector<pid_t> serves;
  std::vector<std::string> logs;
  for (const auto& c : s.communes) {
    const std::string node = (dir / fs::path(c).filename()).string();
    fs::copy(c, node, fs::copy_options::recursive);
    logs.push_back(node + ".log");
    serves.push_back(Spawn(
        {"--data", node, "serve", "--exit-with-parent", "--upstream", ep, "--log-level", "info"},
        logs.back()));
  }
  bench::Stopwatch w;
  for (const auto& l : logs) bench::WaitForLog(l, "caught up", 300);
  std::printf("load_bench (b) %zu communes connected and caught up in %.1f s\n", logs.size(),
              w.Seconds());
  std::fflush(stdout);
  const long hz = sysconf(_SC_CLK_TCK);
  const long t0 = CpuTicks(hub_pid);
  bench::Stopwatch idle;
  sleep(static_cast<unsigned>(seconds));
  const long t1 = CpuTicks(hub_pid);
  const double elapsed = idle.Seconds();
  const double cpu = static_cast<double>(t1 - t0) / static_cast<double>(hz);
  std::printf(
      "load_bench (b) %zu idle `serve --upstream` sessions for %.0f s: hub CPU %.2f s = %.2f %% "
      "of one core, hub RSS %.1f MB (goal < 2 %%)\n",
      serves.size(), elapsed, cpu, 100.0 * cpu / elapsed,
      static_cast<double>(bench::ProcStatusKb(hub_pid, "VmRSS")) / 1024.0);
  for (pid_t p : serves) kill(p, SIGTERM);
  for (pid_t p : serves) waitpid(p, nullptr, 0);
  bench::StopChild(hub_pid);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("TUPHAP_PASSPHRASE", "bench-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
  std::string province = "79", cache;
  int communes = 168, per_commune = 2000, runs = 5, idle = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--province") province = v;
    if (k == "--communes") communes = std::stoi(v);
    if (k == "--per-commune") per_commune = std::stoi(v);
    if (k == "--runs") runs = std::stoi(v);
    if (k == "--idle") idle = std::stoi(v);
    if (k == "--cache") cache = v;
    if (k == "--max-catching-up") g_max_catching_up = v;
    if (k == "--senders-dir") g_senders_dir = v;
    if (k == "--keep-hub") g_keep_hub = v;
  }
  if (cache.empty()) {
    const char* base = std::getenv("TUPHAP_BENCH_DIR");
    cache = (fs::path(base != nullptr ? base : fs::temp_directory_path().string()) /
             "tuphap-load-bench")
                .string();
  }
  const fs::path store_cache = fs::path(cache) / (province + "-" + std::to_string(communes) + "x" +
                                                  std::to_string(per_commune));
  fs::create_directories(store_cache.parent_path());
  const Setup s = Build(store_cache, province, communes, per_commune);
  bench::ScratchDir dir("load-bench");
  const int port = 20000 + (getpid() % 20000);
  std::vector<double> secs, peaks;
  bool all_ok = true;
  for (int r = 0; r < runs; ++r) {
    const RunFigures f = OneRun(s, dir.path() / "run", port);
    secs.push_back(f.seconds);
    peaks.push_back(f.peak_mb);
    const bool ok = f.failed == 0 && f.refused == 0 && f.hub_records >= s.records;
    all_ok = all_ok && ok;
    std::printf(
        "load_bench (a) run %d: %zu communes x %d records to one hub at once: all caught up in "
        "%.1f s, hub peak RSS %.1f MB, hub CPU %.1f s, hub wrote %.0f MB, %d failed, hub holds "
        "%llu "
        "of %llu records, %llu refused%s\n",
        r + 1, s.communes.size(), per_commune, f.seconds, f.peak_mb, f.hub_cpu, f.hub_written_mb,
        f.failed, static_cast<unsigned long long>(f.hub_records),
        static_cast<unsigned long long>(s.records), static_cast<unsigned long long>(f.refused),
        ok ? "" : "  <- NOT WHOLE");
    std::fflush(stdout);
  }
  if (runs > 0) {
    std::printf(
        "load_bench (a) over %d runs: caught up in %.1f / %.1f / %.1f s (min / median / max), "
        "hub peak RSS %.1f / %.1f / %.1f MB (goal < 30 s, < 256 MB, every run whole)\n",
        runs, bench::Percentile(secs, 0), bench::Percentile(secs, 0.5),
        bench::Percentile(secs, 1.0), bench::Percentile(peaks, 0), bench::Percentile(peaks, 0.5),
        bench::Percentile(peaks, 1.0));
  }
  if (idle > 0) Idle(s, dir.path() / "idle", port + 1, idle);
  return all_ok ? 0 : 1;
}
