// Sync with real processes on loopback: the real `tuphap` binary serving and
// syncing, real ZeroMQ with CURVE, real stores. Plus hostile input on the
// wire from a raw ZeroMQ client, and bundles.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "base/json.h"
#include "node/keys.h"
#include "node/store/sqlite.h"
#include "node/transport.h"
#include "replication/msgpack.h"
#include "replication/protocol.h"
#include "tests/integration/cli_runner.h"
#include "tests/integration/sync_fixture.h"

namespace tuphap {
namespace {

namespace fs = std::filesystem;
using sync_testing::ErrorCode;
using sync_testing::HubBoxKey;
using sync_testing::JsonOf;
using sync_testing::kCommunes;
using sync_testing::RawPeer;
using sync_testing::StartServe;
using sync_testing::SyncTest;
using sync_testing::WaitFor;
using testing_support::CliResult;
using testing_support::RunTuphap;

TEST_F(SyncTest, hub_and_five_communes_converge_with_a_conflict_visible_on_both_sides) {
  InitHub();
  for (int i = 0; i < 5; ++i) {
    const std::string name = std::string("c") + kCommunes[i];
    Init(name, kCommunes[i]);
    Enrol(name);
    Records(name, kCommunes[i], 150, i + 1);  // offline work
  }
  StartHub();
  for (int i = 0; i < 5; ++i) {
    auto r = Sync(std::string("c") + kCommunes[i]);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json j = JsonOf(r);
    EXPECT_EQ(j.Find("sent")->as_int(), 150);
    EXPECT_EQ(j.Find("refused")->as_int(), 0);
    EXPECT_EQ(j.Find("sessions")->as_int(), 1) << "a clean link needs one connection";
    EXPECT_FALSE(j.Find("node_id")->as_string().empty());
  }
  for (int i = 0; i < 5; ++i) {
    const std::string d = Digest(std::string("c") + kCommunes[i], kCommunes[i]);
    EXPECT_EQ(d, Digest("hub", kCommunes[i]));
    EXPECT_NE(d.find("/150"), std::string::npos);
  }
  // One record edited at the commune and at the hub, concurrently.
  const std::string c0 = std::string("c") + kCommunes[0];
  const std::string id = FirstRecordId(c0);
  ASSERT_EQ(Tp(c0, {"record", "amend", id, "--field", "data.notes=commune says A"}).exit_code, 0);
  ASSERT_EQ(Tp("hub",
               {"record", "amend", id, "--field", "data.notes=hub says B", "--scope", kCommunes[0]})
                .exit_code,
            0);
  ASSERT_EQ(Sync(c0).exit_code, 0);
  EXPECT_EQ(Digest(c0, kCommunes[0]), Digest("hub", kCommunes[0]));
  for (const std::string& n : {c0, std::string("hub")}) {
    auto r = Tp(n, {"--json", "record", "show", id});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("commune says A"), std::string::npos) << n << r.out;
    EXPECT_NE(r.out.find("hub says B"), std::string::npos) << n << r.out;
  }
  // The commune sees the hub's status and its peer.
  auto st = Tp(c0, {"--json", "status"});
  EXPECT_NE(JsonOf(st).Find("peers"), nullptr) << st.out;
}

TEST_F(SyncTest, commune_killed_mid_sync_twenty_times_converges_with_nothing_lost) {
  InitHub();
  EnrolledCommune("c", kCommunes[1], 2000, 7);
  StartHub();
  std::mt19937 rng(static_cast<unsigned>(time(nullptr)));
  std::printf("kill delays seeded with the clock\n");
  for (int k = 0; k < 20; ++k) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string data = Dir("c");
      const int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(TUPHAP_BINARY, TUPHAP_BINARY, "--data", data.c_str(), "sync", endpoint_.c_str(),
            "--once", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 300));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  auto r = Sync("c");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Digest("c", kCommunes[1]), Digest("hub", kCommunes[1]));
  EXPECT_NE(Digest("hub", kCommunes[1]).find("/2000"), std::string::npos);
  // The store of the killed process opens cleanly and is whole.
  auto check = Tp("c", {"--json", "status"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST_F(SyncTest, bad_input_on_the_wire_is_refused_and_the_hub_keeps_serving) {
  InitHub();
  EnrolledCommune("c", kCommunes[0], 20, 3);
  EnrolledCommune("good", kCommunes[2], 20, 4);
  StartHub();
  const replication::PublicKey hub_box = HubBoxKey(Dir("hub"));
  {
    RawPeer peer(Dir("c"), endpoint_, hub_box);
    EXPECT_EQ(ErrorCode(peer.Ask("\xc1\xff garbage")), "E_PROTOCOL");  // malformed msgpack
    replication::MsgpackWriter w;
    w.ArrayHeader(2);
    w.Uint(99);
    w.Uint(1);
    EXPECT_EQ(ErrorCode(peer.Ask(w.Take())), "E_UNKNOWN_MESSAGE");
    // Deep nesting: 100,000 nested arrays where heads belong.
    std::string deep = "\x95\x01\x01";
    deep += "\xc4\x20" + std::string(32, 'k') + "\xa7" + "commune";
    deep += std::string(100000, '\x91');
    EXPECT_EQ(ErrorCode(peer.Ask(deep)), "E_PROTOCOL");
    // A batch before HELLO (wrong order).
    EXPECT_EQ(ErrorCode(peer.Ask(replication::Encode(replication::Batch{1, {}}))),
              "E_PROTOCOL_ORDER");
    // A HELLO naming another node than the transport key.
    replication::Hello h;
    h.node[0] = 1;
    h.role = "commune";
    EXPECT_EQ(ErrorCode(peer.Ask(replication::Encode(h))), "E_UNKNOWN_ORIGIN");
    // An oversize frame: dropped by libzmq before decoding (no answer).
    EXPECT_EQ(peer.Ask(std::string(replication::kMaxFrameBytes + 1024, 'x'), 1500), "");
  }
  // The hub is still up and serves a well-behaved commune.
  auto r = Sync("good");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Digest("good", kCommunes[2]), Digest("hub", kCommunes[2]));
  // A node with no enrolment is refused at the handshake, with a clear reason.
  Init("rogue", kCommunes[0]);
  auto rogue = Tp("rogue", {"sync", endpoint_, "--once", "--timeout", "5"});
  EXPECT_NE(rogue.exit_code, 0);
  EXPECT_NE(rogue.err.find("not enrolled"), std::string::npos) << rogue.err;
}

TEST_F(SyncTest, rogue_key_is_refused_by_the_zap_handler) {
  InitHub();
  EnrolledCommune("c", kCommunes[0]);
  StartHub();
  // Keys of a node that is not enrolled at this hub (its own hub enrolled it).
  ASSERT_EQ(Tp("hub2", {"init", "--role", "hub", "--province", "56"}).exit_code, 0);
  Init("x", kCommunes[0]);
  const std::string req = Dir("x.req"), cert = Dir("x.enrol");
  ASSERT_EQ(Tp("x", {"enroll", "request", "--out", req}).exit_code, 0);
  ASSERT_EQ(Tp("hub2", {"enroll", "sign", req, "--out", cert}).exit_code, 0);
  ASSERT_EQ(Tp("x", {"enroll", "accept", cert}).exit_code, 0);
  RawPeer peer(Dir("x"), endpoint_, HubBoxKey(Dir("hub")));
  EXPECT_EQ(peer.Ask(replication::Encode(replication::Done{}), 1500), "");  // never admitted
  auto ok = Sync("c");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(SyncTest, bundle_carries_changes_once_and_refuses_truncated_or_altered_files) {
  InitHub();
  EnrolledCommune("c", kCommunes[3], 300, 5);
  const std::string hub_id = JsonOf(Tp("hub", {"--json", "status"})).Find("node_id")->as_string();
  const std::string b1 = Dir("b1.bundle");
  ASSERT_EQ(Tp("c", {"bundle", "export", "--for", hub_id, "--out", b1}).exit_code, 0);
  // Damaged copies are refused and apply nothing.
  std::ifstream in(b1, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : {size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(Dir("cut.bundle"), std::ios::binary) << bytes.substr(0, cut);
    auto r = Tp("hub", {"bundle", "import", Dir("cut.bundle")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << r.err;
  }
  std::string altered = bytes;
  altered[altered.size() * 3 / 4] ^= 0x01;
  std::ofstream(Dir("alt.bundle"), std::ios::binary) << altered;
  EXPECT_NE(Tp("hub", {"bundle", "import", Dir("alt.bundle")}).exit_code, 0);
  EXPECT_NE(Digest("hub", kCommunes[3]).find("/0"), std::string::npos);  // nothing of it applied
  // The genuine one: applied once; again, no effect.
  auto first = Tp("hub", {"--json", "bundle", "import", b1});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(JsonOf(first).Find("new")->as_int(), 300);
  EXPECT_EQ(Digest("hub", kCommunes[3]), Digest("c", kCommunes[3]));
  auto again = Tp("hub", {"--json", "bundle", "import", b1});
  EXPECT_EQ(JsonOf(again).Find("new")->as_int(), 0);
  // An older bundle after newer changes: no effect either.
  ASSERT_EQ(Tp("c", {"record", "amend", FirstRecordId("c"), "--field", "data.notes=usb"}).exit_code,
            0);
  const std::string b2 = Dir("b2.bundle");
  ASSERT_EQ(Tp("c", {"bundle", "export", "--for", hub_id, "--out", b2, "--all"}).exit_code, 0);
  ASSERT_EQ(Tp("hub", {"bundle", "import", b2}).exit_code, 0);
  const std::string after = Digest("hub", kCommunes[3]);
  EXPECT_EQ(after, Digest("c", kCommunes[3]));
  EXPECT_EQ(JsonOf(Tp("hub", {"--json", "bundle", "import", b1})).Find("new")->as_int(), 0);
  EXPECT_EQ(Digest("hub", kCommunes[3]), after);
}

TEST_F(SyncTest, live_changes_are_pushed_both_ways_and_sigterm_stops_cleanly) {
  InitHub();
  EnrolledCommune("c", kCommunes[0], 50, 1);
  StartHub();
  const pid_t commune = Spawned(StartServe(Dir("c"), Dir("c.log"), {"--upstream", endpoint_}));
  ASSERT_TRUE(
      WaitFor([&] { return Digest("hub", kCommunes[0]).find("/50") != std::string::npos; }, 20));
  // A new record at the commune reaches the hub without anyone syncing:
  // `record add` of a generated record's data (it takes the next entry
  // number; the generated line's own number is taken already).
  ASSERT_EQ(RunTuphap({"generate", "--records", "1", "--commune", kCommunes[0], "--seed", "99",
                       "--out", Dir("one.jsonl")})
                .exit_code,
            0);
  std::string line;
  std::getline(std::ifstream(Dir("one.jsonl")), line);
  const std::optional<Json> generated = ParseJson(line, nullptr);
  ASSERT_TRUE(generated && generated->Find("data") != nullptr) << line;
  std::ofstream(Dir("one.json")) << generated->Find("data")->Dump();
  const CliResult added = Tp("c", {"record", "add", "--type", generated->Find("type")->as_string(),
                                   "--input", Dir("one.json")});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(WaitFor([&] { return Digest("hub", kCommunes[0]) == Digest("c", kCommunes[0]); }, 20))
      << "the commune's new record was not pushed";
  EXPECT_NE(Digest("hub", kCommunes[0]).find("/51"), std::string::npos);
  // A correction at the hub reaches the commune the same way.
  const std::string id = FirstRecordId("c");
  ASSERT_EQ(Tp("hub", {"record", "amend", id, "--field", "data.notes=from the hub", "--scope",
                       kCommunes[0]})
                .exit_code,
            0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return Tp("c", {"record", "show", id}).out.find("from the hub") != std::string::npos;
      },
      20))
      << "the hub's correction was not pushed";
  // SIGTERM: both stop cleanly (exit 0) and say so.
  kill(commune, SIGTERM);
  int status = 0;
  waitpid(commune, &status, 0);
  std::erase(spawned_, commune);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_GT(hub_pid_, 0);  // never kill(-1, …)
  kill(hub_pid_, SIGTERM);
  waitpid(hub_pid_, &status, 0);
  hub_pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::ifstream log(Dir("hub.log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("stopped"), std::string::npos) << text;
}

TEST_F(SyncTest, commune_relays_a_neighbours_changes_encrypted_to_the_hub) {
  InitHub();
  Init("a", kCommunes[0]);
  Init("b", kCommunes[1]);
  Enrol("a");
  Enrol("b");
  Records("b", kCommunes[1], 40, 2);
  // A learns its neighbours' certificates from the hub's public feed (a
  // relay admits only keys it can check), then the hub goes offline.
  StartHub();
  ASSERT_EQ(Sync("a").exit_code, 0);
  StopHub(SIGTERM);
  // B has no link to the hub; A listens for its neighbours.
  const std::string a_endpoint = node::FreeLoopbackEndpoint();
  const pid_t a = Spawned(StartServe(Dir("a"), Dir("a.log"), {"--listen", a_endpoint}));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream l(Dir("a.log"));
        std::string t((std::istreambuf_iterator<char>(l)), std::istreambuf_iterator<char>());
        return t.find("listening on") != std::string::npos;
      },
      10));
  const std::string a_id = JsonOf(Tp("a", {"--json", "status"})).Find("node_id")->as_string();
  auto relay = Tp("b", {"--json", "sync", a_endpoint, "--peer", a_id, "--timeout", "20"});
  ASSERT_EQ(relay.exit_code, 0) << relay.err;
  EXPECT_EQ(JsonOf(relay).Find("sent")->as_int(), 40);
  kill(a, SIGTERM);
  int status = 0;
  waitpid(a, &status, 0);
  std::erase(spawned_, a);
  // A holds them but cannot read them.
  EXPECT_NE(Digest("a", kCommunes[1]).find("/0"), std::string::npos) << Digest("a", kCommunes[1]);
  // A later syncs with the hub: B's records arrive, readable there.
  StartHub();
  auto up = Sync("a");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(Digest("hub", kCommunes[1]), Digest("b", kCommunes[1]));
  EXPECT_NE(Digest("hub", kCommunes[1]).find("/40"), std::string::npos);
}

TEST_F(SyncTest, hub_killed_mid_sync_loses_nothing) {
  InitHub();
  EnrolledCommune("c", kCommunes[2], 2000, 11);
  std::mt19937 rng(static_cast<unsigned>(time(nullptr)));
  for (int k = 0; k < 5; ++k) {
    StartHub();
    const pid_t sync = fork();
    if (sync == 0) {
      const std::string data = Dir("c");
      const int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(TUPHAP_BINARY, TUPHAP_BINARY, "--data", data.c_str(), "sync", endpoint_.c_str(),
            "--once", "--timeout", "5", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    StopHub(SIGKILL);
    kill(sync, SIGKILL);  // its side is not what this test is about
    int status = 0;
    waitpid(sync, &status, 0);
  }
  StartHub();
  auto r = Sync("c");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Digest("hub", kCommunes[2]), Digest("c", kCommunes[2]));
  EXPECT_NE(Digest("hub", kCommunes[2]).find("/2000"), std::string::npos);
}

// Whether every tag of an HTML/SVG document is closed in order (void and
// self-closing elements aside): "well formed" enough for a browser and a
// parser.
bool TagsBalanced(const std::string& html, std::string* why) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    const size_t end = html.find('>', i);
    if (end == std::string::npos) {
      *why = "unterminated tag";
      return false;
    }
    std::string tag = html.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty() || tag[0] == '!') continue;  // <!DOCTYPE html>
    if (tag.back() == '/') continue;             // <meta .../>, <rect .../>
    const bool closing = tag[0] == '/';
    std::string name = tag.substr(closing ? 1 : 0,
                                  tag.find_first_of(" \t\n", closing ? 1 : 0) - (closing ? 1 : 0));
    if (!closing) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      *why = "</" + name + "> closes " + (open.empty() ? "nothing" : "<" + open.back() + ">");
      return false;
    } else {
      open.pop_back();
    }
  }
  if (!open.empty()) *why = "<" + open.back() + "> never closed";
  return open.empty();
}

std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(cell);
      cell.clear();
    } else if (c == '\r') {
    } else if (c == '\n') {
      rows.back().push_back(cell);
      cell.clear();
      rows.emplace_back();
    } else {
      cell += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

TEST_F(SyncTest, reports_on_a_synced_hub_match_the_generated_input_in_every_format) {
  InitHub();
  std::map<std::pair<std::string, std::string>, int64_t> expected;  // (commune, type) -> count
  for (int i = 0; i < 2; ++i) {
    const std::string name = std::string("c") + kCommunes[i];
    Init(name, kCommunes[i]);
    Enrol(name);
    Records(name, kCommunes[i], 120, 20 + i);
    std::ifstream in(Dir(name + ".jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      auto j = ParseJson(line, nullptr);
      ASSERT_TRUE(j.has_value() && j->Find("commune_code") != nullptr) << line;
      ++expected[{j->Find("commune_code")->as_string(), j->Find("type")->as_string()}];
    }
  }
  StartHub();
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Sync(std::string("c") + kCommunes[i]).exit_code, 0);
  // stats: JSON counts equal the generated input
  auto js = Tp("hub", {"--json", "report", "stats", "--by", "commune,type"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  std::map<std::pair<std::string, std::string>, int64_t> got;
  const Json stats = JsonOf(js);
  ASSERT_NE(stats.Find("rows"), nullptr) << js.out;
  for (const auto& r : stats.Find("rows")->as_array())
    got[{r.Find("commune")->as_string(), r.Find("type")->as_string()}] = r.Find("count")->as_int();
  EXPECT_EQ(got, expected);
  // CSV parses: a header and one row per group, the counts summing to all.
  auto csv = Tp("hub", {"report", "stats", "--by", "commune,type,month", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto rows = ParseCsv(csv.out);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "commune");
  // CSV is a machine format: the same header line in Vietnamese, and
  // --bom puts one UTF-8 byte order mark before it (spreadsheet programs).
  auto vi = RunTuphap({"--data", Dir("hub"), "report", "stats", "--by", "commune,type,month",
                       "--format", "csv", "--bom"},
                      "LANG=vi_VN.UTF-8");
  ASSERT_EQ(vi.exit_code, 0) << vi.err;
  ASSERT_EQ(vi.out.rfind("\xEF\xBB\xBF", 0), 0u) << vi.out.substr(0, 40);
  EXPECT_EQ(vi.out.substr(3, vi.out.find('\n') - 2), csv.out.substr(0, csv.out.find('\n') + 1));
  EXPECT_EQ(csv.out.find("\xEF\xBB\xBF"), std::string::npos);
  int64_t total = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), rows[0].size()) << i;
    total += std::stoll(rows[i][3]);
  }
  EXPECT_EQ(total, 240);
  // HTML: one self-contained, well-formed document with a chart.
  auto html = Tp("hub", {"report", "stats", "--format", "html"});
  ASSERT_EQ(html.exit_code, 0);
  std::string why;
  EXPECT_TRUE(TagsBalanced(html.out, &why)) << why;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.out.find("<svg"), std::string::npos);
  EXPECT_EQ(html.out.find("http://", html.out.find("<svg") + 60), std::string::npos)
      << "no external assets";
  // conflicts: a concurrent correction, visible with both values
  const std::string c0 = std::string("c") + kCommunes[0];
  const std::string id = FirstRecordId(c0);
  ASSERT_EQ(Tp(c0, {"record", "amend", id, "--field", "data.notes=A"}).exit_code, 0);
  ASSERT_EQ(Tp("hub", {"record", "amend", id, "--field", "data.notes=B", "--scope", kCommunes[0]})
                .exit_code,
            0);
  ASSERT_EQ(Sync(c0).exit_code, 0);
  // data.notes merges by "latest": not a conflict. A legal fact does not.
  auto before = JsonOf(Tp("hub", {"--json", "report", "conflicts"}));
  ASSERT_NE(before.Find("conflicts"), nullptr);
  EXPECT_TRUE(before.Find("conflicts")->as_array().empty());
  ASSERT_EQ(Tp(c0, {"record", "amend", id, "--field", "registered_at=2025-07-02"}).exit_code, 0);
  ASSERT_EQ(Tp("hub", {"record", "amend", id, "--field", "registered_at=2025-07-03", "--scope",
                       kCommunes[0]})
                .exit_code,
            0);
  ASSERT_EQ(Sync(c0).exit_code, 0);
  for (const std::string& n : {std::string("hub"), c0}) {
    Json j = JsonOf(Tp(n, {"--json", "report", "conflicts"}));
    ASSERT_NE(j.Find("conflicts"), nullptr) << n;
    const auto& list = j.Find("conflicts")->as_array();
    ASSERT_EQ(list.size(), 1u) << n;
    EXPECT_EQ(list[0].Find("record_id")->as_string(), id);
    EXPECT_EQ(list[0].Find("field")->as_string(), "registered_at");
    ASSERT_EQ(list[0].Find("values")->as_array().size(), 2u);
    for (const auto& v : list[0].Find("values")->as_array()) {
      EXPECT_FALSE(v.Find("origin")->as_string().empty());
      EXPECT_FALSE(v.Find("officer")->as_string().empty());
      EXPECT_FALSE(v.Find("hlc")->as_string().empty());
    }
    auto ccsv = ParseCsv(Tp(n, {"report", "conflicts", "--format", "csv"}).out);
    EXPECT_EQ(ccsv.size(), 3u);  // header + one line per competing value
    EXPECT_TRUE(TagsBalanced(Tp(n, {"report", "conflicts", "--format", "html"}).out, &why)) << why;
  }
  // status: each commune with its node, last sync, records and the conflict
  auto st = Tp("hub", {"--json", "report", "status"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  const Json status = JsonOf(st);
  ASSERT_NE(status.Find("communes"), nullptr) << st.out;
  std::map<std::string, const Json*> communes;
  for (const auto& c : status.Find("communes")->as_array())
    communes[c.Find("commune")->as_string()] = &c;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(communes.count(kCommunes[i]), 1u) << st.out;
    const Json& c = *communes[kCommunes[i]];
    EXPECT_EQ(c.Find("records")->as_int(), 120);
    EXPECT_EQ(c.Find("conflicts")->as_int(), i == 0 ? 1 : 0);
    ASSERT_EQ(c.Find("nodes")->as_array().size(), 1u);
    const Json& node = c.Find("nodes")->as_array()[0];
    const std::string node_id = JsonOf(Tp(std::string("c") + kCommunes[i], {"--json", "status"}))
                                    .Find("node_id")
                                    ->as_string();
    EXPECT_EQ(node.Find("node_id")->as_string(), node_id);
    // ISO 8601 with the node zone's offset.
    const std::string last_sync = node.Find("last_sync")->as_string();
    EXPECT_TRUE(std::regex_match(last_sync,
                                 std::regex("20\\d\\d-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\+07:00")))
        << last_sync;
    EXPECT_EQ(node.Find("pending_out")->as_int(), 0);
  }
  EXPECT_TRUE(TagsBalanced(Tp("hub", {"report", "status", "--format", "html"}).out, &why)) << why;
  EXPECT_GE(ParseCsv(Tp("hub", {"report", "status", "--format", "csv"}).out).size(), 3u);
}

// --- reconcile ---------------------------------------------------------------

Json Reconcile(const CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Json j = JsonOf(r);
  EXPECT_NE(j.Find("differences"), nullptr) << r.out;
  return j;
}

// (record_id, field) -> reason, for comparing runs.
std::map<std::pair<std::string, std::string>, std::string> Reasons(const Json& j) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  if (j.Find("differences") == nullptr) return out;
  for (const auto& d : j.Find("differences")->as_array())
    out[{d.Find("record_id")->as_string(), d.Find("field")->as_string()}] =
        d.Find("reason")->as_string();
  return out;
}

TEST_F(SyncTest, reconcile_finds_a_row_edited_behind_tuphaps_back_and_a_deleted_row) {
  InitHub();
  EnrolledCommune("c", kCommunes[0], 150, 41);
  StartHub();
  ASSERT_EQ(Sync("c").exit_code, 0);
  Json same = Reconcile(Tp("c", {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_TRUE(same.Find("equal")->as_bool()) << same.Dump();
  EXPECT_TRUE(same.Find("differences")->as_array().empty());
  // Equal stores are compared by their roots alone.
  EXPECT_LT(same.Find("bytes_sent")->as_int() + same.Find("bytes_received")->as_int(), 1000);

  // Behind tuphap's back: one name changed inside a stored row (same
  // length, so the row still decodes), another record's row deleted.
  std::string edited, deleted;
  {
    auto db = store::Database::Open(Dir("c") + "/tuphap.db", store::Database::OpenMode::kExisting);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const std::string old_name = "Nguyễn", new_name = "Nguyeeen";
    std::string blob;
    {
      auto q = (*db)->Prepare(
          "SELECT record_id, state FROM records WHERE scope = ? AND instr(state, ?) > 0 "
          "ORDER BY record_id LIMIT 1");
      ASSERT_TRUE(q.ok());
      q->Bind(1, std::string(kCommunes[0])).Bind(2, std::string_view(old_name));
      ASSERT_TRUE(*q->Step()) << "no generated record holds the name " << old_name;
      edited = std::string(q->Text(0));
      blob = std::string(q->Blob(1));
    }
    blob.replace(blob.find(old_name), old_name.size(), new_name);
    auto u = (*db)->Prepare("UPDATE records SET state = ? WHERE record_id = ?");
    ASSERT_TRUE(u.ok());
    u->BindBlob(1, blob).Bind(2, edited);
    ASSERT_TRUE(u->Step().ok());
    auto pick = (*db)->Prepare(
        "SELECT record_id FROM records WHERE scope = ? AND record_id <> ? ORDER BY record_id "
        "DESC LIMIT 1");
    ASSERT_TRUE(pick.ok());
    pick->Bind(1, std::string(kCommunes[0])).Bind(2, edited);
    ASSERT_TRUE(*pick->Step());
    deleted = std::string(pick->Text(0));
    // With what is derived from it (the person index), or the foreign keys
    // refuse.
    for (const char* sql :
         {"DELETE FROM person_index WHERE record IN (SELECT id FROM records WHERE record_id = ?)",
          "DELETE FROM records WHERE record_id = ?"}) {
      auto del = (*db)->Prepare(sql);
      ASSERT_TRUE(del.ok());
      del->Bind(1, deleted);
      ASSERT_TRUE(del->Step().ok()) << sql;
    }
  }
  Json j = Reconcile(Tp("c", {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_FALSE(j.Find("equal")->as_bool());
  const auto& diffs = j.Find("differences")->as_array();
  ASSERT_EQ(diffs.size(), 2u) << j.Dump();
  std::map<std::string, const Json*> by_id;
  for (const auto& d : diffs) by_id[d.Find("record_id")->as_string()] = &d;
  ASSERT_EQ(by_id.count(edited), 1u) << j.Dump();
  const Json& e = *by_id[edited];
  EXPECT_EQ(e.Find("reason")->as_string(), "tampered");
  EXPECT_EQ(e.Find("scope")->as_string(), kCommunes[0]);
  EXPECT_NE(e.Find("ours")->as_string().find("Nguyeeen"), std::string::npos);
  EXPECT_NE(e.Find("theirs")->as_string().find("Nguyễn"), std::string::npos);
  EXPECT_NE(e.Find("field")->as_string(), "*");
  EXPECT_FALSE(e.Find("theirs_values")->as_array()[0].Find("officer")->as_string().empty());
  ASSERT_EQ(by_id.count(deleted), 1u) << j.Dump();
  const Json& d = *by_id[deleted];
  EXPECT_EQ(d.Find("field")->as_string(), "*");
  EXPECT_TRUE(d.Find("ours")->is_null());
  EXPECT_EQ(d.Find("theirs")->as_string(), "present");
  EXPECT_EQ(d.Find("reason")->as_string(), "tampered");
  // The drill-down moved a few records' worth, not the store.
  EXPECT_LT(j.Find("bytes_received")->as_int(), 40000);
}

TEST_F(SyncTest, reconcile_tells_missing_changes_from_concurrent_edits_alike_live_and_from_files) {
  InitHub();
  EnrolledCommune("c", kCommunes[0], 80, 42);
  StartHub();
  ASSERT_EQ(Sync("c").exit_code, 0);
  std::vector<std::string> ids;
  {
    std::ifstream in(Dir("c.jsonl"));
    std::string line;
    while (ids.size() < 2 && std::getline(in, line))
      ids.push_back(ParseJson(line, nullptr)->Find("record_id")->as_string());
  }
  // A: the same legal fact corrected at the commune and at the hub;
  // B: a note written at the commune only.
  ASSERT_EQ(Tp("c", {"record", "amend", ids[0], "--field", "registered_at=2025-07-02"}).exit_code,
            0);
  ASSERT_EQ(Tp("hub", {"record", "amend", ids[0], "--field", "registered_at=2025-07-03", "--scope",
                       kCommunes[0]})
                .exit_code,
            0);
  ASSERT_EQ(Tp("c", {"record", "amend", ids[1], "--field", "data.notes=chỉ ở xã"}).exit_code, 0);
  Json live = Reconcile(Tp("c", {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_FALSE(live.Find("equal")->as_bool());
  const auto reasons = Reasons(live);
  ASSERT_EQ(reasons.count({ids[0], "registered_at"}), 1u) << live.Dump();
  EXPECT_EQ(reasons.at({ids[0], "registered_at"}), "conflict");
  ASSERT_EQ(reasons.count({ids[1], "data.notes"}), 1u) << live.Dump();
  EXPECT_EQ(reasons.at({ids[1], "data.notes"}), "missing_changes");
  for (const auto& d : live.Find("differences")->as_array()) {
    if (d.Find("record_id")->as_string() == ids[1] &&
        d.Find("field")->as_string() == "data.notes") {
      EXPECT_EQ(d.Find("ours")->as_string(), "chỉ ở xã");
      EXPECT_NE(d.Find("detail")->as_string().find("theirs lacks 1"), std::string::npos);
    }
  }
  // The same answer from a snapshot of the hub and from a full bundle.
  ASSERT_EQ(Tp("hub", {"snapshot", "--out", Dir("hub.snapshot")}).exit_code, 0);
  const std::string c_id = JsonOf(Tp("c", {"--json", "status"})).Find("node_id")->as_string();
  ASSERT_EQ(
      Tp("hub", {"bundle", "export", "--for", c_id, "--all", "--out", Dir("hub.bundle")}).exit_code,
      0);
  for (const std::string& file : {Dir("hub.snapshot"), Dir("hub.bundle")}) {
    Json j = Reconcile(Tp("c", {"--json", "report", "reconcile", "--from", file}));
    EXPECT_EQ(Reasons(j), reasons) << file;
  }
  // Every format: CSV parses to one line per difference, HTML is well formed.
  auto csv = ParseCsv(Tp("c", {"report", "reconcile", "--peer", endpoint_, "--format", "csv"}).out);
  EXPECT_EQ(csv.size(), reasons.size() + 1);
  std::string why;
  auto html = Tp("c", {"report", "reconcile", "--peer", endpoint_, "--format", "html"});
  EXPECT_TRUE(TagsBalanced(html.out, &why)) << why;
  auto table = Tp("c", {"report", "reconcile", "--peer", endpoint_});
  EXPECT_NE(table.out.find("chỉ ở xã"), std::string::npos);
  // Once synced, both copies are equal again.
  ASSERT_EQ(Sync("c").exit_code, 0);
  Json after = Reconcile(Tp("c", {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_TRUE(after.Find("equal")->as_bool()) << after.Dump();
}

std::string ReconQuery(const std::string& what, const std::string& scope,
                       const std::vector<std::string>& list) {
  replication::MsgpackWriter w;
  w.ArrayHeader(3);
  w.Str("run-1");
  w.Str(scope);
  w.ArrayHeader(static_cast<uint32_t>(list.size()));
  for (const auto& s : list) w.Str(s);
  return replication::Encode(replication::Query{7, what, w.Take()});
}

TEST_F(SyncTest, reconcile_queries_are_confined_to_the_askers_commune) {
  InitHub();
  for (int i = 0; i < 2; ++i) {
    Init(std::string("c") + kCommunes[i], kCommunes[i]);
    Enrol(std::string("c") + kCommunes[i]);
    Records(std::string("c") + kCommunes[i], kCommunes[i], 30, 50 + i);
  }
  StartHub();
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Sync(std::string("c") + kCommunes[i]).exit_code, 0);
  RawPeer peer(Dir(std::string("c") + kCommunes[0]), endpoint_, HubBoxKey(Dir("hub")));
  // Roots: only the asker's commune and the public feed, whatever it asks.
  auto roots = replication::Decode(peer.Ask(ReconQuery("recon.roots", "", {kCommunes[1]})));
  ASSERT_TRUE(roots.ok());
  auto* answer = std::get_if<replication::Answer>(&*roots);
  ASSERT_NE(answer, nullptr) << ErrorCode(replication::Encode(*roots));
  EXPECT_EQ(answer->query_no, 7u);
  replication::MsgpackReader r(answer->body);
  std::vector<std::string> scopes;
  const uint32_t n = r.ReadArrayHeader();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(2);
    scopes.emplace_back(r.ReadStr());
    r.Skip();
  }
  EXPECT_EQ(scopes, (std::vector<std::string>{kCommunes[0], "P56"}));
  // Another commune's tree and records are refused.
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.leaves", kCommunes[1], {""}))),
            "E_NOT_AUTHORISED");
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.children", kCommunes[1], {""}))),
            "E_NOT_AUTHORISED");
  // Malformed queries get their code, and the hub keeps serving.
  EXPECT_EQ(ErrorCode(peer.Ask(replication::Encode(replication::Query{8, "recon.roots", "\xc1"}))),
            "E_PROTOCOL");
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.children", kCommunes[0], {"zz"}))), "E_PROTOCOL");
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.nope", kCommunes[0], {}))), "E_UNKNOWN_MESSAGE");
  Json j = Reconcile(
      Tp(std::string("c") + kCommunes[0], {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_TRUE(j.Find("equal")->as_bool());
}

TEST_F(SyncTest, a_listening_commune_answers_no_other_commune_about_its_records) {
  InitHub();
  const std::string a = std::string("c") + kCommunes[0], b = std::string("c") + kCommunes[1];
  for (const auto& [name, commune] : {std::pair{a, kCommunes[0]}, std::pair{b, kCommunes[1]}}) {
    Init(name, commune);
    Enrol(name);
    Records(name, commune, 20, 60);
  }
  StartHub();
  ASSERT_EQ(Sync(a).exit_code, 0);
  ASSERT_EQ(Sync(b).exit_code, 0);
  // Commune A listens (a relay); B, enrolled in the same province, asks it.
  const std::string ep = node::FreeLoopbackEndpoint();
  const pid_t pid = Spawned(fork());
  if (pid == 0) {
    const std::string data = Dir(a), log = Dir("a.log");
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(TUPHAP_BINARY, TUPHAP_BINARY, "--data", data.c_str(), "serve", "--exit-with-parent",
          "--listen", ep.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream log(Dir("a.log"));
        std::string t((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
        return t.find("listening on") != std::string::npos;
      },
      10));
  RawPeer peer(Dir(b), ep, HubBoxKey(Dir(a)));
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.leaves", kCommunes[0], {""}))),
            "E_NOT_AUTHORISED");
  auto roots = replication::Decode(peer.Ask(ReconQuery("recon.roots", "only", {kCommunes[0]})));
  ASSERT_TRUE(roots.ok());
  ASSERT_NE(std::get_if<replication::Answer>(&*roots), nullptr);
  EXPECT_EQ(std::get<replication::Answer>(*roots).body, "\x90");  // no scope at all
  // Through the CLI: only the public feed is common to both.
  const std::string a_id = JsonOf(Tp(a, {"--json", "status"})).Find("node_id")->as_string();
  Json j = Reconcile(Tp(b, {"--json", "report", "reconcile", "--peer", a_id + "@" + ep}));
  for (const auto& sc : j.Find("scopes")->as_array()) {
    if (sc.Find("compared")->as_bool()) {
      EXPECT_EQ(sc.Find("scope")->as_string(), "P56");
    }
  }
  auto named = Tp(b, {"report", "reconcile", "--peer", a_id + "@" + ep, "--scope", kCommunes[0]});
  EXPECT_NE(named.exit_code, 0);
  EXPECT_NE(named.err.find("cannot be compared"), std::string::npos) << named.err;
}

TEST_F(SyncTest, reconcile_against_a_hub_that_lost_a_commune_is_not_equal) {
  InitHub();
  EnrolledCommune("c", kCommunes[0], 25, 61);
  // The hub never received the commune's records (a hub restored empty).
  StartHub();
  Json j = Reconcile(Tp("c", {"--json", "report", "reconcile", "--peer", endpoint_}));
  EXPECT_FALSE(j.Find("equal")->as_bool()) << j.Dump();
  size_t absent = 0;
  for (const auto& d : j.Find("differences")->as_array()) {
    if (d.Find("scope")->as_string() != kCommunes[0]) continue;
    EXPECT_EQ(d.Find("field")->as_string(), "*");
    EXPECT_TRUE(d.Find("theirs")->is_null());
    EXPECT_EQ(d.Find("reason")->as_string(), "missing_changes");
    ++absent;
  }
  EXPECT_EQ(absent, 25u);
  // Overlapping tree paths in one query are refused, not hashed twice.
  RawPeer peer(Dir("c"), endpoint_, HubBoxKey(Dir("hub")));
  EXPECT_EQ(ErrorCode(peer.Ask(ReconQuery("recon.children", kCommunes[0], {"a", "ab"}))),
            "E_PROTOCOL");
}

}  // namespace
}  // namespace tuphap
