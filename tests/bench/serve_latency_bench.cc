// How long a hub that ingests at full speed keeps a newcomer and an idle
// peer waiting (issue 17, "a serve loop that never waits on disk"): a real
// `tuphap serve` hub, C communes (default 2) making their initial sync into
// it with `tuphap sync --once` (N records generated, default 90,000, for
// C + 1 communes: 60,000 sent), and meanwhile, from this process, the
// remaining commune, enrolled and idle, that over and over
//
//   (a) opens a new CURVE connection and times its handshake (connect() to
//       the monitor's HANDSHAKE_SUCCEEDED: the hub's ZAP answer included);
//   (b) on it, times a HELLO -> HELLO round trip (a session's first answer);
//
// then closes it. Prints p50/p99/max of each, quiet (before the communes
// start) and under load, with the load's records/s (goal: p99 < 50 ms).
//
//   serve_latency_bench [--records N] [--communes C] [--probe-gap MS]
//                       [--baseline BINARY]
//
// --probe-gap: the pause between two probes (default 20 ms). A HELLO may
// make the hub commit the batch it holds so far (architecture.md, "A batch
// in parts"; at most once per 20 ms), so the probes' rate slows the load
// they measure: the load's records/s is printed with them.
//
// --baseline: the same run (on fresh copies of the same stores) with an
// earlier build too, first, so both are measured in one run on one machine.
#include <signal.h>
#include <sys/wait.h>
#include <zmq.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "base/json.h"
#include "node/keys.h"
#include "replication/protocol.h"
#include "tests/bench/bench_util.h"
#include "tests/bench/child.h"

using namespace tuphap;
using bench::Check;
using bench::Run;
using bench::Spawn;
using Clock = std::chrono::steady_clock;

namespace {

int Port(int offset) { return 20000 + (getpid() % 20000) + offset; }

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Keys {
  replication::PublicKey sign{}, box{}, hub_box{};
  std::string box_secret;
};

Keys ReadKeys(const std::string& node, const std::string& hub) {
  const char* p = std::getenv("TUPHAP_PASSPHRASE");
  const replication::SecretBytes pass(p, std::strlen(p));
  auto n = node::ReadKeyFile(node::KeyFilePath(node), pass);
  auto h = node::ReadKeyFile(node::KeyFilePath(hub), pass);
  if (!n.ok() || !h.ok()) {
    std::fprintf(stderr, "cannot read the key files\n");
    std::exit(1);
  }
  Keys k;
  k.sign = n->sign.public_key();
  k.box = n->box.public_key();
  k.box_secret = std::string(reinterpret_cast<const char*>(n->box.secret().data()), 32);
  k.hub_box = h->box.public_key();
  return k;
}

// One probe: a new connection's handshake, then a HELLO's answer on it.
// Negative: it failed (no handshake, or no HELLO within 10 s).
struct Probe {
  double handshake_ms = -1;
  double hello_ms = -1;
};

Probe ProbeOnce(zmq::context_t& ctx, const Keys& k, const std::string& endpoint,
                std::vector<replication::FeedHeadWire>& heads) {
  static int counter = 0;
  const std::string mon = "inproc://latency-monitor-" + std::to_string(counter++);
  zmq::socket_t s(ctx, zmq::socket_type::dealer), m(ctx, zmq::socket_type::pair);
  s.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(k.hub_box.data(), 32));
  s.set(zmq::sockopt::curve_publickey, zmq::const_buffer(k.box.data(), 32));
  s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(k.box_secret.data(), 32));
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::reconnect_ivl, -1);
  m.set(zmq::sockopt::linger, 0);
  zmq_socket_monitor(s.handle(), mon.c_str(),
                     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  m.connect(mon);
  Probe p;
  const auto t0 = Clock::now();
  s.connect(endpoint);
  bool ok = false;
  while (MsSince(t0) < 10000) {
    zmq::pollitem_t items[] = {{m.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
    zmq::message_t ev;
    if (!m.recv(ev, zmq::recv_flags::dontwait)) continue;
    uint16_t event = 0;
    std::memcpy(&event, ev.data(), sizeof event);
    if (ev.more()) {
      zmq::message_t addr;
      (void)m.recv(addr, zmq::recv_flags::none);
    }
    ok = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
    break;
  }
  if (!ok) return p;
  p.handshake_ms = MsSince(t0);
  replication::Hello h;
  h.node = k.sign;
  h.role = "commune";
  h.heads = heads;
  const auto t1 = Clock::now();
  s.send(zmq::buffer(replication::Encode(h)), zmq::send_flags::none);
  while (MsSince(t1) < 10000) {
    zmq::pollitem_t items[] = {{s.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 1, std::chrono::milliseconds(100));
    zmq::message_t f;
    if (!s.recv(f, zmq::recv_flags::dontwait)) continue;
    if (replication::PeekType(f.to_string_view()) !=
        static_cast<uint64_t>(replication::MessageType::kHello))
      continue;  // the public feed's BATCH of the first probe
    p.hello_ms = MsSince(t1);
    // Later probes announce what the hub holds of the feeds it offers us:
    // an idle peer that is up to date, so the hub sends nothing more.
    if (heads.empty()) {
      auto msg = replication::Decode(f.to_string_view());
      if (msg.ok()) heads = std::get<replication::Hello>(*msg).heads;
    }
    break;
  }
  return p;
}

struct Series {
  std::vector<double> handshake, hello;
  int failed = 0;
  void Add(const Probe& p) {
    if (p.handshake_ms < 0 || p.hello_ms < 0) {
      ++failed;
      return;
    }
    handshake.push_back(p.handshake_ms);
    hello.push_back(p.hello_ms);
  }
};

void PrintSeries(const std::string& label, const Series& s) {
  auto line = [&](const char* what, const std::vector<double>& v) {
    double max = 0;
    for (double x : v) max = std::max(max, x);
    std::printf("serve_latency_bench %s %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu probes)\n",
                label.c_str(), what, bench::Percentile(v, 0.5), bench::Percentile(v, 0.99), max,
                v.size());
  };
  line("CURVE handshake", s.handshake);
  line("HELLO->HELLO", s.hello);
  if (s.failed > 0)
    std::printf("serve_latency_bench %s: %d probes failed\n", label.c_str(), s.failed);
}

// One run with the binary Spawn uses now: fresh copies of the stores.
void RunOnce(const bench::ScratchDir& dir, const std::string& tag, const std::string& hub,
             const std::vector<std::string>& communes, const std::string& probe, int port,
             long long records, int probe_gap_ms) {
  const std::string h = dir.File("hub-" + tag);
  std::filesystem::copy(hub, h, std::filesystem::copy_options::recursive);
  std::vector<std::string> cs;
  for (size_t i = 0; i < communes.size(); ++i) {
    cs.push_back(dir.File("c" + std::to_string(i) + "-" + tag));
    std::filesystem::copy(communes[i], cs.back(), std::filesystem::copy_options::recursive);
  }
  const Keys k = ReadKeys(probe, h);
  const std::string ep = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string log = dir.File("hub-" + tag + ".log");
  const pid_t hub_pid = Spawn({"--data", h, "serve", "--exit-with-parent", "--listen", ep}, log);
  bench::WaitForLog(log, "listening on", 20);
  zmq::context_t ctx;
  std::vector<replication::FeedHeadWire> heads;
  Series quiet, loaded;
  for (int i = 0; i < 40; ++i) {
    const Probe p = ProbeOnce(ctx, k, ep, heads);
    if (i > 0) quiet.Add(p);  // the first learns the hub's heads
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bench::Stopwatch all;
  std::vector<pid_t> syncs;
  for (const auto& c : cs)
    syncs.push_back(Spawn({"--data", c, "sync", ep, "--once", "--timeout", "300"}));
  size_t running = syncs.size();
  int failed = 0;
  while (running > 0) {
    loaded.Add(ProbeOnce(ctx, k, ep, heads));
    std::this_thread::sleep_for(std::chrono::milliseconds(probe_gap_ms));
    for (pid_t& p : syncs) {
      int status = 0;
      if (p > 0 && waitpid(p, &status, WNOHANG) == p) {
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        p = 0;
        --running;
      }
    }
  }
  const double secs = all.Seconds();
  bench::StopChild(hub_pid);
  std::printf(
      "serve_latency_bench [%s] %zu communes sent %lld records in %.1f s = %.0f records/s "
      "(%d syncs failed)\n",
      tag.c_str(), cs.size(), records, secs, static_cast<double>(records) / secs, failed);
  PrintSeries("[" + tag + "] quiet", quiet);
  PrintSeries("[" + tag + "] while ingesting", loaded);
  std::filesystem::remove_all(h);
  for (const auto& c : cs) std::filesystem::remove_all(c);
}

}  // namespace

int main(int argc, char** argv) {
  setenv("TUPHAP_PASSPHRASE", "bench-passphrase", 0);
  setenv("TUPHAP_KDF", "weak", 0);
  long long records = 90000;
  int communes = 2;
  int probe_gap_ms = 20;
  std::string baseline;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--records") records = std::stoll(v);
    if (k == "--communes") communes = std::stoi(v);
    if (k == "--baseline") baseline = v;
    if (k == "--probe-gap") probe_gap_ms = std::stoi(v);
  }
  bench::ScratchDir dir("serve-latency-bench");
  const std::string hub = dir.File("hub");
  Check(Run({"--data", hub, "init", "--role", "hub", "--province", "56"}), "init hub");
  // One commune more than those that sync: the idle prober.
  Check(Run({"generate", "--province", "56", "--communes", std::to_string(communes + 1),
             "--records", std::to_string(records), "--seed", "7", "--out", dir.File("all.jsonl")}),
        "generate");
  const std::vector<std::string> codes =
      bench::SplitByCommune(dir.File("all.jsonl"), dir.path().string());
  std::vector<std::string> nodes;
  std::string probe;
  long long sent = 0;
  for (const std::string& code : codes) {
    const std::string node = dir.File("n-" + code);
    Check(Run({"--data", node, "init", "--role", "commune", "--commune", code}), "init");
    const std::string sub = dir.File("e-" + code);
    std::filesystem::create_directories(sub);
    bench::Enrol(hub, node, sub);
    if (probe.empty()) {  // the first commune only probes: it imports nothing
      probe = node;
      continue;
    }
    Check(Run({"--data", node, "import", dir.File("c-" + code + ".jsonl")}), "import");
    std::ifstream in(dir.File("c-" + code + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) ++sent;
    nodes.push_back(node);
  }
  if (!baseline.empty()) {
    setenv("TUPHAP_BENCH_BINARY", baseline.c_str(), 1);
    RunOnce(dir, "baseline", hub, nodes, probe, Port(0), sent, probe_gap_ms);
    unsetenv("TUPHAP_BENCH_BINARY");
  }
  RunOnce(dir, "this build", hub, nodes, probe, Port(1), sent, probe_gap_ms);
  std::printf("serve_latency_bench goal: p99 < 50 ms for both, while ingesting\n");
  return 0;
}
