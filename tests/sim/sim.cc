// One-seed deterministic simulation (issue 15, part 4): one hub and five
// communes of province 56 (one of them only reachable through a relaying
// neighbour) plus a secondary node that turns hostile, over simulated days.
// Every choice — officers' work, which links meet, how each link drops,
// duplicates, reorders, delays, cuts and mangles frames, which process
// crashes, the clocks' drift, the attack, the backup and its restore — is
// drawn from one seed, and so are libsodium's random bytes (keys, nonces),
// so a seed replays exactly: same trace, same digests.
//
// Nodes are real (SQLite stores, keys, sealed envelopes, SyncSession); only
// the link between them is simulated, in memory, as in
// tests/property/sync_property_test.cc. At the end of every seed, after
// clean sessions to quiescence, the invariants are checked: equal digests
// per scope on every replica holding it, every change a node reported
// committed present at the hub exactly once, conflicts visible on every
// replica of the record, no equivocation except the one the scenario made.
//
//   tuphap_sim --seeds N [--first S]     N seeds from S (default 1)
//   tuphap_sim --seed S                  replay one seed, printing its trace
//   tuphap_sim --check-determinism ...   run each seed twice, compare traces
//   --days D (default 3)  --dir PATH (default /dev/shm, else the temp dir)
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/hex.h"
#include "base/random.h"
#include "node/node.h"
#include "node/store/sqlite.h"
#include "node/store/test_access.h"
#include "node/sync.h"
#include "node/test_keys.h"
#include "replication/certificate.h"
#include "replication/protocol.h"

namespace tuphap::node::sim {
namespace {

namespace fs = std::filesystem;

constexpr char kProvince[] = "56";
constexpr const char* kCommunes[] = {"22333", "22366", "22390", "22402", "22411"};
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kStart = 1'751'328'000'000;  // 2025-07-01 00:00 UTC
// How far ahead of a node's clock a stamp may be (NodeOptions; 24 h by
// default, lowered so the drift below comes near it), and each node's clock
// error: two clocks differ by at most 110 minutes, and a wall clock that
// jumps back when its drift is drawn again falls less than 2 h behind the
// stamps it has seen, so no honest change is ever refused for its stamp.
constexpr int64_t kMaxClockAhead = 2 * kHour;
constexpr int64_t kMaxDrift = 55 * kMinute;
constexpr int kHoursPerDay = 6;

// --- libsodium's randomness from the seed -----------------------------------
// Keys, nonces and salts decide node ids, and node ids decide orders (feeds,
// tie-breaks between concurrent values): drawn from the seed, a seed replays
// byte for byte. This binary only; never a real node.
Random g_sodium_random(0);
const char* SimRandomName() { return "tuphap-sim"; }
uint32_t SimRandom() { return static_cast<uint32_t>(g_sodium_random.Next()); }
void SimRandomBuf(void* const buf, const size_t size) {
  auto* p = static_cast<uint8_t*>(buf);
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t v = g_sodium_random.Next();
    std::memcpy(p + i, &v, std::min<size_t>(8, size - i));
  }
}
randombytes_implementation g_sim_randombytes = {SimRandomName, SimRandom,    nullptr,
                                                nullptr,       SimRandomBuf, nullptr};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Fail(const std::string& what) { throw SimFailure(what); }
void Check(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Fail(what + ": " + r.status().ToString());
  return std::move(r).value();
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) Fail(what + ": " + s.ToString());
}

struct Counts {
  uint64_t seeds = 0, failures = 0, changes = 0, sessions = 0, crashes = 0, conflicts = 0;
  uint64_t refused = 0, mangled = 0;
};

struct SimNode {
  std::string name;
  Role role = Role::kCommune;
  std::string code;  // commune, or the hub's province
  bool secondary = false;
  std::string dir;
  ManualClock clock{kStart};
  int64_t drift = 0;
  std::unique_ptr<Node> node;
  bool active = true;  // still in the scenario (not revoked, not forked)
};

// How one link misbehaves during one session.
struct LinkPlan {
  double drop = 0, duplicate = 0, reorder = 0, delay = 0;
  size_t cut_after = SIZE_MAX;    // frames delivered before the link is cut
  size_t crash_after = SIZE_MAX;  // frames delivered before one side's process dies
  bool crash_dialer = false;
  size_t mangle_at = SIZE_MAX;  // the delivery whose frame is mangled on the way
  bool truncate = false;        // mangled by truncation (else one byte flipped)
  bool live_writes = false;     // the dialler's officers work during the session
  size_t window = 4, batch = 1000;
};

enum class End { kCaughtUp, kCut, kFailed, kStalled, kCrashed };
const char* EndName(End e) {
  switch (e) {
    case End::kCaughtUp:
      return "caught-up";
    case End::kCut:
      return "cut";
    case End::kFailed:
      return "failed";
    case End::kStalled:
      return "stalled";
    case End::kCrashed:
      return "crashed";
  }
  return "?";
}

class Sim {
 public:
  Sim(uint64_t seed, fs::path root, int days, bool verbose)
      : seed_(seed), rng_(seed), root_(std::move(root)), days_(days), verbose_(verbose) {}
  ~Sim() {
    nodes_.clear();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  void Run() {
    fs::remove_all(root_);
    fs::create_directories(root_);
    Trace("seed " + std::to_string(seed_) + ", " + std::to_string(days_) + " days");
    Setup();
    for (int day = 0; day < days_; ++day) Day(day);
    Quiesce();
    CheckInvariants();
  }

  uint64_t trace_hash() const { return trace_hash_; }
  const Counts& counts() const { return counts_; }

 private:
  // --- trace ----------------------------------------------------------------
  void Trace(const std::string& line) {
    for (unsigned char ch : line) trace_hash_ = (trace_hash_ ^ ch) * 1099511628211ull;
    trace_hash_ = (trace_hash_ ^ '\n') * 1099511628211ull;
    if (verbose_)
      std::printf("  [%lld] %s\n", static_cast<long long>((now_ - kStart) / kMinute), line.c_str());
  }

  // --- nodes ----------------------------------------------------------------
  SimNode* Add(const std::string& name, Role role, const std::string& code, bool secondary) {
    auto n = std::make_unique<SimNode>();
    n->name = name;
    n->role = role;
    n->code = code;
    n->secondary = secondary;
    n->dir = (root_ / name).string();
    n->clock.SetWall(now_);
    InitParams p;
    p.role = role;
    (role == Role::kHub ? p.province : p.commune) = code;
    p.secondary = secondary;
    p.now_ms = now_;
    Must(InitForTest(n->dir, p), "init " + name);
    SimNode* raw = n.get();
    nodes_.push_back(std::move(n));
    Open(*raw);
    return raw;
  }
  void Open(SimNode& n) {
    NodeOptions o;
    o.clock = &n.clock;
    o.officer = "officer-" + n.name;
    o.max_clock_ahead_ms = kMaxClockAhead;
    n.node = Must(Node::Open(n.dir, TestOptions(o)), "open " + n.name);
  }
  // The process dies: the Node is gone with everything it kept in memory
  // (its sessions' memory of peers included); its files stay.
  void Crash(SimNode& n, const std::string& why) {
    n.node.reset();
    for (auto it = memories_.begin(); it != memories_.end();)
      it = it->first.first == n.name ? memories_.erase(it) : std::next(it);
    ++counts_.crashes;
    Trace("crash " + n.name + " (" + why + ")");
    Open(n);
  }
  void SetClocks() {
    for (auto& n : nodes_) n->clock.SetWall(now_ + n->drift);
  }
  void Advance(int64_t ms) {
    now_ += ms;
    SetClocks();
  }

  std::string Hex(const replication::PublicKey& k) {
    return ToHex(std::span<const uint8_t>(k.data(), k.size()));
  }
  uint64_t OwnHead(SimNode& holder, SimNode& origin, const std::string& scope) {
    auto h = Must(holder.node->store().Head({origin.node->info().id, scope}), "head");
    return h ? h->seq : 0;
  }
  uint64_t Refusals(SimNode& n, const std::string& reason) {
    for (const auto& r : Must(n.node->store().Refusals(), "refusals"))
      if (r.reason == reason) return r.count;
    return 0;
  }

  // What `n` holds past a gap, per feed.
  std::string Held(SimNode& n) {
    std::string which;
    auto q = Must(store::TestAccess::Db(n.node->store())
                      .Prepare("SELECT hex(o.key), h.scope, min(h.seq), count(*) FROM held h "
                               "JOIN origins o ON o.id = h.origin GROUP BY 1, 2 ORDER BY 1, 2"),
                  "held");
    while (*q.Step())
      for (SimNode* x : All())
        if (x->node->info().id.Hex() == ToLower(q.Text(0)))
          which += " " + x->name + "/" + std::string(q.Text(1)) + " from seq " +
                   std::to_string(q.Int(2)) + " (" + std::to_string(q.Int(3)) + ")";
    return which;
  }

  uint64_t HeldOf(SimNode& holder, SimNode& origin, const std::string& scope) {
    auto q = Must(store::TestAccess::Db(holder.node->store())
                      .Prepare("SELECT count(*) FROM held h JOIN origins o ON o.id = h.origin "
                               "WHERE lower(hex(o.key)) = ? AND h.scope = ?"),
                  "held");
    q.Bind(1, origin.node->info().id.Hex()).Bind(2, scope);
    Must(q.Step().status(), "held");
    return static_cast<uint64_t>(q.Int(0));
  }
  // Whether the hub or `origin` itself flagged a fork of `origin`.
  bool FlaggedEquivocation(SimNode& origin) {
    for (SimNode* n : {hub_, &origin})
      for (const auto& e : Must(n->node->Security(), "security").equivocations)
        if (e.origin == origin.node->info().id) return true;
    return false;
  }

  // --- setup ----------------------------------------------------------------
  void Setup() {
    now_ = kStart + 8 * kHour;
    public_scope_ = replication::PublicScope(kProvince);
    hub_ = Add("hub", Role::kHub, kProvince, false);
    for (int i = 0; i < 5; ++i)
      communes_.push_back(Add("c" + std::to_string(i), Role::kCommune, kCommunes[i], false));
    // A second desk of the last commune; it is stolen on the second day.
    rogue_ = Add("rogue", Role::kCommune, kCommunes[4], true);
    // Offline work before enrolment: drafts, sealed when the enrolment is
    // accepted.
    for (SimNode* c : communes_)
      for (int k = static_cast<int>(rng_.Uniform(3)); k > 0; --k) Create(*c, c->code);
    for (SimNode* c : All()) {
      if (c == hub_) continue;
      auto request = Must(c->node->EnrollRequestFile("sim"), "enroll request " + c->name);
      auto file = Must(hub_->node->EnrollSign(request, 365), "enroll sign " + c->name);
      auto accepted = Must(c->node->EnrollAccept(file.file), "enroll accept " + c->name);
      Trace("enrolled " + c->name + " sealed " + std::to_string(accepted.second));
    }
    backup_hour_ = static_cast<int>(rng_.Uniform(kHoursPerDay));
    attack_hour_ = static_cast<int>(rng_.Uniform(kHoursPerDay));
    restore_hour_ = static_cast<int>(rng_.Uniform(kHoursPerDay));
    restore_writes_first_ = rng_.OneIn(2);
  }
  std::vector<SimNode*> All() {
    std::vector<SimNode*> v;
    for (auto& n : nodes_) v.push_back(n.get());
    return v;
  }

  // --- officers' work -------------------------------------------------------
  void Committed(SimNode& n, const std::string& scope) {
    ++committed_[{n.name, scope}];
    ++counts_.changes;
  }
  std::string Value(const std::string& who) {
    return who + "-" + std::to_string(rng_.Uniform(1000));
  }

  void Create(SimNode& n, const std::string& scope) {
    const std::string id = "R" + scope + "-" + std::to_string(next_id_++);
    auto r = n.node->CreateRecord(id, "note", n.role == Role::kHub ? scope : "",
                                  {{"name", crdt::Value::String(Value(n.name))}});
    Must(r.status(), n.name + " creates " + id);
    Committed(n, scope);
    created_[{scope, id}] = {n.name, OwnHead(n, n, scope)};
    by_scope_[scope].push_back(id);
    Trace(n.name + " creates " + id);
  }
  // A record of `scope` that `n` holds and may still amend; "" when none.
  std::string Pick(SimNode& n, const std::string& scope) {
    auto& ids = by_scope_[scope];
    for (int tries = 0; tries < 4 && !ids.empty(); ++tries) {
      const std::string& id = ids[rng_.Uniform(ids.size())];
      auto rec = n.node->GetRecord(id, scope);
      if (rec.ok() && !rec->state.Revoked()) return id;
    }
    return "";
  }
  bool Amend(SimNode& n, const std::string& scope, const std::string& value = {}) {
    const std::string id = Pick(n, scope);
    if (id.empty()) return false;
    Amend(n, scope, id, value.empty() ? Value(n.name) : value);
    return true;
  }
  void Amend(SimNode& n, const std::string& scope, const std::string& id, const std::string& v) {
    Must(n.node->SetFields(id, {{"name", crdt::Value::String(v)}}, "", scope),
         n.name + " amends " + id);
    Committed(n, scope);
    Trace(n.name + " amends " + id + " = " + v);
  }
  void RevokeRecord(SimNode& n, const std::string& scope) {
    const std::string id = Pick(n, scope);
    if (id.empty()) return;
    Must(n.node->Revoke(id, "entered twice", scope), n.name + " revokes " + id);
    Committed(n, scope);
    Trace(n.name + " revokes record " + id);
  }
  void Work(SimNode& n) {
    if (&n == restored_) DetectFork();  // a node that flagged its own fork writes nothing more
    if (!n.active) return;
    const std::string scope = n.role == Role::kHub ? kCommunes[rng_.Uniform(5)] : n.code;
    for (int k = static_cast<int>(rng_.Uniform(4)); k > 0; --k) {
      const uint64_t r = rng_.Uniform(100);
      if (r < 45) {
        Create(n, scope);
      } else if (r < 92) {
        Amend(n, scope);
      } else {
        RevokeRecord(n, scope);
      }
    }
  }
  // The same record corrected at its commune and at the hub before either
  // hears of the other: both values must survive as a conflict.
  void ConcurrentCorrection(SimNode& c, bool expect) {
    if (!c.active) return;
    const std::string id = Pick(c, c.code);
    if (id.empty()) return;
    auto at_hub = hub_->node->GetRecord(id, c.code);
    if (!at_hub.ok() || at_hub->state.Revoked()) return;
    Amend(c, c.code, id, "commune-" + std::to_string(next_id_++));
    Amend(*hub_, c.code, id, "hub-" + std::to_string(next_id_++));
    if (expect) expected_conflicts_.insert({c.code, id});
  }

  // --- sessions -------------------------------------------------------------
  // One session between `a` (dialer) and `b` (listener) over a link
  // following `plan`. Returns how it ended; a crash leaves the crashed
  // node reopened.
  End Session(SimNode& a, SimNode& b, const LinkPlan& plan, bool must_complete = false) {
    ++counts_.sessions;
    last_error_.clear();
    End end = RunSession(a, b, plan);
    Trace("session " + a.name + "->" + b.name + " " + EndName(end) +
          (last_error_.empty() ? "" : " (" + last_error_ + ")"));
    if (must_complete && end != End::kCaughtUp)
      Fail("a clean session " + a.name + "->" + b.name + " did not complete: " + EndName(end) +
           (last_error_.empty() ? "" : " (" + last_error_ + ")"));
    if (end == End::kCrashed) Crash(plan.crash_dialer ? a : b, "mid-session");
    return end;
  }
  End RunSession(SimNode& a, SimNode& b, const LinkPlan& f) {
    SyncSession da(*a.node, SyncSession::Side::kDialer, b.node->box_key(),
                   &memories_[{a.name, b.name}], f.window, f.batch);
    SyncSession lb(*b.node, SyncSession::Side::kListener, a.node->box_key(),
                   &memories_[{b.name, a.name}], f.window, f.batch);
    auto lost = [&](End e) {
      da.ConnectionLost();
      lb.ConnectionLost();
      return e;
    };
    std::deque<std::string> to_b, to_a;
    auto hello = da.Start();
    if (!hello.ok()) {
      last_error_ = a.name + ": " + hello.status().ToString();
      return End::kFailed;
    }
    to_b.push_back(*hello);
    size_t delivered = 0;
    for (int step = 0; step < 20000; ++step) {
      if (da.caught_up() && lb.caught_up()) return End::kCaughtUp;
      if (delivered >= f.cut_after) return lost(End::kCut);
      if (delivered >= f.crash_after) return lost(End::kCrashed);
      if (f.live_writes && rng_.NextDouble() < 0.05 && a.active) {
        // Officers keep working while the session runs.
        Work(a);
        std::vector<std::string> out;
        if (Status st = da.Pump(&out); !st.ok()) {
          last_error_ = a.name + ": " + st.ToString();
          return lost(End::kFailed);
        }
        for (auto& o : out) to_b.push_back(std::move(o));
      }
      const bool pick_b = !to_b.empty() && (to_a.empty() || rng_.NextDouble() < 0.5);
      std::deque<std::string>& q = pick_b ? to_b : to_a;
      if (q.empty()) return lost(End::kStalled);  // a lost message: nothing moves
      size_t i = 0;
      if (q.size() > 1 && rng_.NextDouble() < f.reorder) i = rng_.Uniform(q.size());
      if (q.size() > 1 && rng_.NextDouble() < f.delay) {  // held back behind the others
        std::string m = std::move(q[i]);
        q.erase(q.begin() + static_cast<long>(i));
        q.push_back(std::move(m));
        continue;
      }
      std::string m = q[i];
      if (rng_.NextDouble() >= f.duplicate) q.erase(q.begin() + static_cast<long>(i));
      if (rng_.NextDouble() < f.drop) continue;
      const bool mangled = delivered == f.mangle_at && !m.empty();
      if (mangled) {
        ++counts_.mangled;
        if (f.truncate) {
          m.resize(rng_.Uniform(m.size()));  // the link died inside the frame
        } else {
          m[rng_.Uniform(m.size())] ^= static_cast<char>(1 + rng_.Uniform(255));
        }
      }
      ++delivered;
      std::vector<std::string> out;
      SyncSession& s = pick_b ? lb : da;
      const Status st = s.OnFrame(m, &out);
      if (mangled && f.truncate && st.ok())
        Fail("a frame truncated to " + std::to_string(m.size()) + " bytes was accepted by " +
             (pick_b ? b.name : a.name));
      if (!st.ok()) {
        last_error_ = (pick_b ? b.name : a.name) + ": " + st.ToString();
        return lost(End::kFailed);
      }
      std::deque<std::string>& back = pick_b ? to_a : to_b;
      for (auto& o : out) back.push_back(std::move(o));
    }
    return lost(End::kStalled);
  }
  LinkPlan FaultyPlan(bool allow_crash) {
    LinkPlan p;
    p.drop = rng_.NextDouble() * 0.2;
    p.duplicate = rng_.NextDouble() * 0.15;
    p.reorder = rng_.NextDouble() * 0.4;
    p.delay = rng_.NextDouble() * 0.15;
    if (rng_.OneIn(3)) p.cut_after = 1 + rng_.Uniform(15);
    if (allow_crash && rng_.OneIn(8)) {
      p.crash_after = 1 + rng_.Uniform(10);
      p.crash_dialer = rng_.OneIn(2);
    }
    if (rng_.OneIn(6)) {
      p.mangle_at = rng_.Uniform(8);
      p.truncate = rng_.OneIn(2);
    }
    p.live_writes = rng_.OneIn(3);
    p.window = 1 + rng_.Uniform(4);
    p.batch = 1 + rng_.Uniform(40);
    return p;
  }
  LinkPlan CleanPlan() {
    LinkPlan p;
    p.window = 1 + rng_.Uniform(4);
    p.batch = 1 + rng_.Uniform(200);
    return p;
  }
  // Who meets whom: c0, c1, c2 and c4 dial the hub; c3 reaches it through
  // c2 (which relays its feed) and only rarely directly; c0, c2 and c4 also
  // meet each other. c1 talks to the hub alone (it is restored from a
  // backup: only the hub can give back what it lost). The rogue desk syncs
  // with the hub until it is stolen.
  void RandomSession() {
    SimNode* a = nullptr;
    SimNode* b = nullptr;
    const uint64_t r = rng_.Uniform(100);
    if (r < 45) {
      const int direct[] = {0, 1, 2, 4};
      a = communes_[direct[rng_.Uniform(4)]];
      b = hub_;
    } else if (r < 65) {
      a = communes_[3];
      b = communes_[2];
    } else if (r < 70) {
      a = communes_[3];
      b = hub_;
    } else if (r < 90) {
      const int relays[] = {0, 2, 4};
      a = communes_[relays[rng_.Uniform(3)]];
      b = communes_[relays[rng_.Uniform(3)]];
    } else if (rogue_->active) {
      a = rogue_;
      b = hub_;
    }
    if (a == nullptr || a == b || !a->active || !b->active) return;
    Session(*a, *b, FaultyPlan(true));
  }

  // --- the day --------------------------------------------------------------
  void Day(int day) {
    now_ = kStart + day * kDay + 8 * kHour;
    for (auto& n : nodes_)
      n->drift = static_cast<int64_t>(rng_.Uniform(2 * kMaxDrift + 1)) - kMaxDrift;
    SetClocks();
    Trace("day " + std::to_string(day));
    for (int hour = 0; hour < kHoursPerDay; ++hour) {
      for (SimNode* n : All())
        if (n != rogue_ || rng_.OneIn(3)) Work(*n);
      if (rng_.OneIn(4)) ConcurrentCorrection(*communes_[rng_.Uniform(5)], false);
      for (int s = static_cast<int>(1 + rng_.Uniform(4)); s > 0; --s) RandomSession();
      if (rng_.OneIn(5)) {
        SimNode* n = All()[rng_.Uniform(nodes_.size())];
        if (n->active) Crash(*n, "between sessions");
      }
      if (day == 0 && hour == backup_hour_) Backup(*communes_[1]);
      if (day == std::min(1, days_ - 1) && hour == attack_hour_) Attack();
      if (day == days_ - 1 && hour == restore_hour_) Restore(*communes_[1]);
      Advance(kHour + static_cast<int64_t>(rng_.Uniform(kHour)));
    }
  }

  // --- backup and restore ---------------------------------------------------
  void Backup(SimNode& n) {
    n.node.reset();  // the operator copies the data directory of a stopped node
    backup_dir_ = (root_ / (n.name + ".backup")).string();
    fs::copy(n.dir, backup_dir_, fs::copy_options::recursive);
    backup_committed_ = committed_[{n.name, n.code}];
    Open(n);
    Trace("backup of " + n.name + " at seq " + std::to_string(backup_committed_));
  }
  // The laptop's disk is replaced by the backup. What reached the hub comes
  // back from the hub; what never left the laptop is lost with its disk.
  // Writing before the first sync forks the node's feed when the hub holds
  // more than the backup: the hub must see the equivocation and merge
  // nothing of the fork.
  void Restore(SimNode& n) {
    if (backup_dir_.empty()) return;
    n.node.reset();
    fs::remove_all(n.dir);
    fs::copy(backup_dir_, n.dir, fs::copy_options::recursive);
    Open(n);
    const uint64_t at_hub = OwnHead(*hub_, n, n.code);
    const uint64_t own = OwnHead(n, n, n.code);
    Check(own == backup_committed_, "restored " + n.name + " holds seq " + std::to_string(own) +
                                        ", the backup had " + std::to_string(backup_committed_));
    Trace("restore " + n.name + " from seq " + std::to_string(own) + ", hub holds " +
          std::to_string(at_hub) + (restore_writes_first_ ? ", writes first" : ", pulls first") +
          "; the hub holds past a gap:" + Held(*hub_));
    // Changes past the backup that the hub does not hold never left the
    // laptop: lost with its disk (unless the hub held them past a gap and
    // releases them when the node sends what precedes them).
    for (auto it = created_.begin(); it != created_.end();) {
      const bool lost = it->second.first == n.name && it->second.second > own &&
                        !hub_->node->GetRecord(it->first.second, it->first.first).ok();
      it = lost ? created_.erase(it) : std::next(it);
    }
    RebuildByScope();
    committed_[{n.name, n.code}] = own;
    restored_ = &n;
    restore_base_ = own;
    // Writing a seq the hub holds another envelope of forks the feed. The
    // hub offers only a contiguous feed, so what it holds of the old
    // history past a gap is never given back: the node writes those seqs
    // again and forks even when it pulls first.
    restore_fork_made_ = restore_writes_first_ && at_hub > own;
    restore_fork_possible_ = restore_fork_made_ || HeldOf(*hub_, n, n.code) > 0;
    if (restore_writes_first_) {
      Create(n, n.code);
      if (restore_fork_made_) fork_id_ = by_scope_[n.code].back();
    }
    // The officers go on working there; the fork shows once both copies of
    // a seq meet (Quiesce, CheckInvariants).
    Session(n, *hub_, CleanPlan(), true);
    Trace("after it: " + n.name + " at seq " + std::to_string(OwnHead(n, n, n.code)) +
          ", the hub at " + std::to_string(OwnHead(*hub_, n, n.code)) +
          (FlaggedEquivocation(n) ? ", fork flagged" : ", nothing flagged"));
    if (!restore_fork_possible_)
      Check(OwnHead(n, n, n.code) == OwnHead(*hub_, n, n.code),
            "restored " + n.name + " and the hub disagree on its feed after a clean session");
  }
  // A restored node whose fork was flagged leaves the scenario: its
  // operator must revoke it and enrol the laptop again.
  void DetectFork() {
    if (!restore_fork_possible_ || forked_ != nullptr || !FlaggedEquivocation(*restored_)) return;
    forked_ = restored_;
    forked_->active = false;
    // What its officer sees on the next write (reported, not judged here).
    auto write = forked_->node->CreateRecord("Rforked-" + std::to_string(next_id_++), "note", "",
                                             {{"name", crdt::Value::String("after the fork")}});
    Trace("restored " + forked_->name + " flagged as forked; a write there: " +
          (write.ok() ? std::string("ok") : write.status().ToString()));
  }
  void RebuildByScope() {
    by_scope_.clear();
    for (const auto& [key, who] : created_) by_scope_[key.first].push_back(key.second);
  }

  // --- the stolen desk ------------------------------------------------------
  // The rogue desk, still enrolled, pushes at every bound of the hub's
  // listener; each push must be refused (and counted where the protocol
  // counts it) with nothing stored. Then its clock runs far ahead; then the
  // hub revokes it, which rotates its commune's key.
  std::vector<store::FeedHead> HubHeads() { return Must(hub_->node->store().Heads(), "heads"); }
  static bool SameHeads(const std::vector<store::FeedHead>& x,
                        const std::vector<store::FeedHead>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].seq != y[i].seq || x[i].hash != y[i].hash || !(x[i].feed == y[i].feed)) return false;
    return true;
  }
  // A fresh session of the rogue at the hub past HELLO; returns the
  // listener's answer to `frame`.
  Status Push(const std::string& frame) {
    SyncSession dialer(*rogue_->node, SyncSession::Side::kDialer, hub_->node->box_key());
    SyncSession listener(*hub_->node, SyncSession::Side::kListener, rogue_->node->box_key());
    std::vector<std::string> out;
    Must(listener.OnFrame(Must(dialer.Start(), "rogue hello"), &out), "hub takes rogue's hello");
    out.clear();
    ++counts_.sessions;
    return listener.OnFrame(frame, &out);
  }
  void Attack() {
    if (!rogue_->active) return;
    Trace("rogue attacks");
    const auto before = HubHeads();
    const uint64_t malformed_before = Refusals(*hub_, "E_MALFORMED");
    // A BATCH of one envelope more than the protocol allows.
    Check(!Push(replication::Encode(replication::Batch{
                    1, std::vector<std::string>(replication::kMaxBatchEnvelopes + 1, "x")}))
               .ok(),
          "a BATCH of 2001 envelopes was accepted");
    // A HELLO naming one head more than the protocol allows.
    {
      replication::Hello hello;
      hello.node = rogue_->node->sign_key();
      hello.role = "secondary";
      hello.heads.resize(replication::kMaxHelloHeads + 1);
      for (auto& h : hello.heads) h.scope = rogue_->code;
      SyncSession listener(*hub_->node, SyncSession::Side::kListener, rogue_->node->box_key());
      std::vector<std::string> out;
      ++counts_.sessions;
      Check(!listener.OnFrame(replication::Encode(hello), &out).ok(),
            "a HELLO of 20001 heads was accepted");
    }
    // A frame one byte over the frame limit.
    Check(!Push(std::string(replication::kMaxFrameBytes + 1, '\x92')).ok(),
          "a frame over 8 MiB was accepted");
    // Junk envelopes: each refused and counted, the session goes on.
    const size_t junk = 1 + rng_.Uniform(50);
    std::vector<std::string> envelopes;
    for (size_t i = 0; i < junk; ++i) {
      std::string e(1 + rng_.Uniform(300), '\0');
      for (char& ch : e) ch = static_cast<char>(rng_.Uniform(256));
      envelopes.push_back(std::move(e));
    }
    Must(Push(replication::Encode(replication::Batch{1, envelopes})), "a batch of junk");
    Check(Refusals(*hub_, "E_MALFORMED") == malformed_before + junk,
          "junk envelopes were not all counted as E_MALFORMED");
    // One of its own envelopes with one byte changed: a bad signature (or
    // malformed), never stored.
    const uint64_t own = OwnHead(*rogue_, *rogue_, rogue_->code);
    if (own > 0) {
      auto env = Must(rogue_->node->store().GetEnvelope({rogue_->node->info().id, rogue_->code},
                                                        1 + rng_.Uniform(own)),
                      "rogue envelope");
      if (env) {
        std::string bytes(env->bytes());
        bytes[rng_.Uniform(bytes.size())] ^= static_cast<char>(1 + rng_.Uniform(255));
        Must(Push(replication::Encode(replication::Batch{1, {bytes}})), "an altered envelope");
      }
    }
    Check(SameHeads(before, HubHeads()), "the hub stored something of a refused push");
    counts_.refused += 3 + junk;  // the HELLO, the BATCH, the frame and each junk envelope
    // Its clock runs 25 hours ahead: what it writes now is refused as from
    // the future, counted, and stays with it.
    const uint64_t ahead_before = Refusals(*hub_, "E_CLOCK_AHEAD");
    Session(*rogue_, *hub_, CleanPlan());  // first deliver its honest work
    const uint64_t honest = OwnHead(*hub_, *rogue_, rogue_->code);
    rogue_->drift = 25 * kHour;
    SetClocks();
    Create(*rogue_, rogue_->code);
    const std::string future_id = by_scope_[rogue_->code].back();
    created_.erase({rogue_->code, future_id});
    RebuildByScope();
    Session(*rogue_, *hub_, CleanPlan());
    Check(Refusals(*hub_, "E_CLOCK_AHEAD") > ahead_before,
          "a change stamped 25 h ahead was not refused as E_CLOCK_AHEAD");
    Check(OwnHead(*hub_, *rogue_, rogue_->code) == honest,
          "the hub stored a change stamped 25 h ahead");
    ahead_refused_ = Refusals(*hub_, "E_CLOCK_AHEAD");
    // The desk is reported stolen: revoked where the hub's copy ends, and
    // the commune's key rotated.
    auto revoked =
        Must(hub_->node->RevokeNode(Hex(rogue_->node->sign_key()), "stolen", std::nullopt),
             "revoke the rogue");
    Check(revoked.scope == rogue_->code && revoked.new_epoch >= 2,
          "revoking a node did not rotate its commune's key");
    Trace("rogue revoked at seq " + std::to_string(honest) + ", key epoch " +
          std::to_string(revoked.new_epoch));
    // What the hub had not received of it is lost by design.
    for (auto it = created_.begin(); it != created_.end();)
      it = it->second.first == rogue_->name && it->second.second > honest ? created_.erase(it)
                                                                          : std::next(it);
    RebuildByScope();
    committed_[{rogue_->name, rogue_->code}] = honest;
    rotated_epoch_ = revoked.new_epoch;
    rogue_->drift = 0;
    SetClocks();
    // Its next HELLO is refused.
    SyncSession dialer(*rogue_->node, SyncSession::Side::kDialer, hub_->node->box_key());
    SyncSession listener(*hub_->node, SyncSession::Side::kListener, rogue_->node->box_key());
    std::vector<std::string> out;
    auto hello = dialer.Start();
    Check(hello.ok() && !listener.OnFrame(*hello, &out).ok(), "a revoked node's HELLO was taken");
    rogue_->active = false;
  }

  // --- the end --------------------------------------------------------------
  std::vector<SimNode*> Replicas() {
    std::vector<SimNode*> v{hub_};
    for (SimNode* c : communes_)
      if (c->active) v.push_back(c);
    return v;
  }
  void Converge() {
    // Trust first: a commune knows the certificates of nodes enrolled after
    // it only from the hub's public feed.
    for (SimNode* c : communes_)
      if (c->active && c != communes_[3]) Session(*c, *hub_, CleanPlan(), true);
    // The remote commune's work reaches the hub through its relay.
    for (int round = 0; round < 2; ++round) {
      Session(*communes_[3], *communes_[2], CleanPlan(), true);
      Session(*communes_[2], *hub_, CleanPlan(), true);
    }
    Check(OwnHead(*hub_, *communes_[3], communes_[3]->code) ==
              OwnHead(*communes_[3], *communes_[3], communes_[3]->code),
          "the relay did not deliver c3's feed to the hub");
    for (int pass = 0; pass < 2; ++pass)
      for (SimNode* c : communes_)
        if (c->active) Session(*c, *hub_, CleanPlan(), true);
  }
  void Quiesce() {
    Advance(kHour);
    Trace("quiesce");
    Converge();
    // A restored node that wrote again where the hub held its old history
    // past a gap forked: flagged, it is out of the scenario like a node
    // that wrote before pulling.
    DetectFork();
    // Fresh concurrent corrections, then clean sessions: each must show as
    // a conflict on both replicas.
    for (SimNode* c : communes_) ConcurrentCorrection(*c, true);
    Converge();
  }

  void CheckInvariants() {
    DetectFork();
    if (restore_fork_made_) {
      // Flagged on the hub or on the restored node itself, whichever met
      // both copies of a seq; the fork's first change never merged at the
      // hub.
      Check(forked_ != nullptr, "the fork of restored " + restored_->name + " (it wrote seq " +
                                    std::to_string(restore_base_ + 1) +
                                    " again, the hub holding another) was flagged nowhere");
      Check(!hub_->node->GetRecord(fork_id_, forked_->code).ok(),
            "the hub merged a change of the fork");
    }
    const auto replicas = Replicas();
    auto digest_of = [&](SimNode& n, const std::string& scope) {
      for (const auto& d : Must(n.node->Digests(std::nullopt), "digests"))
        if (d.scope == scope) return std::make_pair(d.records, ToHex(d.digest));
      return std::make_pair(uint64_t{0}, std::string());
    };
    auto conflicts_of = [&](SimNode& n, const std::string& scope) {
      std::set<std::pair<std::string, std::string>> out;
      for (const auto& c : Must(n.node->Conflicts(), "conflicts"))
        if (c.scope == scope) out.insert({c.record_id, c.field});
      return out;
    };
    // Equal digests and conflicts per scope on every replica holding it.
    for (SimNode* c : replicas) {
      if (c == hub_) continue;
      for (const std::string& scope : {c->code, public_scope_}) {
        if (digest_of(*c, scope) != digest_of(*hub_, scope)) {
          std::string which;
          for (const auto& [key, who] : created_) {
            if (key.first != scope) continue;
            auto x = c->node->GetRecord(key.second, scope);
            auto y = hub_->node->GetRecord(key.second, scope);
            if (x.ok() != y.ok() || (x.ok() && x->state_hash != y->state_hash))
              which += " " + key.second + (x.ok() ? "" : " (missing here)") +
                       (y.ok() ? "" : " (missing at the hub)");
          }
          Fail("digest of scope " + scope + " differs between " + c->name +
               " and the hub:" + which);
        }
        Check(conflicts_of(*c, scope) == conflicts_of(*hub_, scope),
              "conflicts of scope " + scope + " differ between " + c->name + " and the hub");
      }
    }
    for (const auto& [scope, id] : expected_conflicts_) {
      if (forked_ != nullptr && scope == forked_->code) continue;  // its side never merges
      for (SimNode* n : replicas) {
        if (n != hub_ && n->code != scope) continue;
        Check(conflicts_of(*n, scope).count({id, "name"}) == 1,
              "the concurrent corrections of " + id + " show no conflict on " + n->name);
      }
    }
    // Nothing lost: every change a node reported committed is at the hub,
    // applied, and the node's feed there is the node's own.
    for (const auto& [key, count] : committed_) {
      const auto& [name, scope] = key;
      SimNode* n = nullptr;
      for (SimNode* x : All())
        if (x->name == name) n = x;
      if (n == forked_ || (n == hub_ && scope == public_scope_)) continue;
      auto there = Must(hub_->node->store().Head({n->node->info().id, scope}), "head");
      if (count == 0 && !there) continue;
      // A restored node may get back from the hub more than it counted (its
      // old changes the hub held past a gap).
      const bool exact = n != restored_;
      Check(there.has_value() && (exact ? there->seq == count : there->seq >= count) &&
                there->applied_seq == there->seq,
            "the hub holds " + std::to_string(there ? there->seq : 0) + " (applied " +
                std::to_string(there ? there->applied_seq : 0) + ") of " + name + "'s " +
                std::to_string(count) + " committed changes to " + scope);
      if (n->active && n != hub_) {
        auto own = Must(n->node->store().Head({n->node->info().id, scope}), "head");
        Check(own && own->seq == there->seq && own->hash == there->hash,
              name + "'s feed of " + scope + " differs from the hub's copy");
      }
    }
    // Nothing held past a gap, but what remains of a restored node's old
    // history (its disk was replaced: those gaps never fill).
    uint64_t stale = 0;
    if (restore_fork_possible_) stale = HeldOf(*hub_, *restored_, restored_->code);
    if (Must(hub_->node->store().HeldCount(), "held") != stale)
      Fail("the hub holds envelopes on a gap:" + Held(*hub_));
    // Every record created is at the hub, no change applied twice.
    for (const auto& [key, who] : created_) {
      if (forked_ != nullptr && who.first == forked_->name && who.second > restore_base_) continue;
      auto rec = hub_->node->GetRecord(key.second, key.first);
      Check(rec.ok(), "record " + key.second + " (by " + who.first + ") is missing at the hub");
      std::set<std::pair<std::string, uint64_t>> seen;
      for (const auto& h : rec->history)
        Check(seen.insert({h.origin.Hex(), h.seq}).second,
              "record " + key.second + " has a change applied twice at the hub");
    }
    // No equivocation but the one the restore made.
    for (SimNode* n : All()) {
      for (const auto& e : Must(n->node->Security(), "security").equivocations)
        Trace(n->name + " reports equivocation " + e.kind + " of " + e.origin.ShortHex() + " " +
              e.scope + " at seq " + std::to_string(e.seq));
    }
    for (SimNode* n : replicas) {
      for (const auto& e : Must(n->node->Security(), "security").equivocations) {
        Check(forked_ != nullptr && e.origin == forked_->node->info().id,
              n->name + " reports an equivocation the scenario did not make");
      }
    }
    // Clocks drifting within the bound: no honest change refused for its
    // stamp anywhere (the hub's refusals are the rogue's, counted then).
    for (SimNode* n : replicas)
      Check(Refusals(*n, "E_CLOCK_AHEAD") == (n == hub_ ? ahead_refused_ : 0),
            n->name + " refused an honest change as stamped too far ahead");
    // The rotated key reached the stolen desk's commune: its later changes
    // use it (and the hub read them: equal digests above).
    if (rotated_epoch_ != 0 && communes_[4]->active) {
      Must(communes_[4]->node->Unlock(), "unlock");
      auto epochs = Must(communes_[4]->node->Security(), "security").key_epochs;
      Check(epochs[communes_[4]->code] == rotated_epoch_,
            communes_[4]->name + " did not get the key rotated when the rogue desk was revoked");
    }
    for (const auto& c : Must(hub_->node->Conflicts(), "conflicts")) {
      (void)c;
      ++counts_.conflicts;
    }
    // The trace ends with the state: a replay must reach the same bytes.
    for (SimNode* n : replicas)
      for (const auto& d : Must(n->node->Digests(std::nullopt), "digests"))
        Trace("digest " + n->name + " " + d.scope + " " + std::to_string(d.records) + " " +
              ToHex(d.digest));
  }

  uint64_t seed_;
  std::string last_error_;  // why the last session failed
  Random rng_;
  fs::path root_;
  int days_;
  bool verbose_;
  int64_t now_ = kStart;
  std::string public_scope_;
  uint64_t trace_hash_ = 14695981039346656037ull;
  Counts counts_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
  SimNode* hub_ = nullptr;
  std::vector<SimNode*> communes_;
  SimNode* rogue_ = nullptr;
  std::map<std::pair<std::string, std::string>, PeerMemory> memories_;
  uint64_t next_id_ = 0;
  // (node, scope) -> changes it reported committed.
  std::map<std::pair<std::string, std::string>, uint64_t> committed_;
  // (scope, id) -> (creator, seq of the creating change).
  std::map<std::pair<std::string, std::string>, std::pair<std::string, uint64_t>> created_;
  std::map<std::string, std::vector<std::string>> by_scope_;
  std::set<std::pair<std::string, std::string>> expected_conflicts_;
  int backup_hour_ = 0, attack_hour_ = 0, restore_hour_ = 0;
  bool restore_writes_first_ = false;
  std::string backup_dir_;
  uint64_t backup_committed_ = 0;
  uint64_t ahead_refused_ = 0;  // the hub's E_CLOCK_AHEAD refusals after the attack
  uint32_t rotated_epoch_ = 0;  // the stolen desk's commune key after its revocation
  SimNode* restored_ = nullptr;
  uint64_t restore_base_ = 0;  // its feed's head as restored
  SimNode* forked_ = nullptr;
  bool restore_fork_made_ = false;
  bool restore_fork_possible_ = false;
  std::string fork_id_;
};

struct Outcome {
  bool ok = true;
  std::string failure;
  uint64_t trace = 0;
  Counts counts;
};

Outcome RunSeed(uint64_t seed, const fs::path& root, int days, bool verbose) {
  // Every seed draws libsodium's bytes afresh from itself.
  g_sodium_random = Random(seed ^ 0x5eed50d1u);
  Outcome o;
  Sim sim(seed, root / ("seed-" + std::to_string(seed)), days, verbose);
  try {
    sim.Run();
  } catch (const SimFailure& f) {
    o.ok = false;
    o.failure = f.what();
  } catch (const std::exception& e) {
    o.ok = false;
    o.failure = std::string("exception: ") + e.what();
  }
  o.trace = sim.trace_hash();
  o.counts = sim.counts();
  return o;
}

int Main(int argc, char** argv) {
  uint64_t seeds = 1, first = 1;
  int days = 3;
  bool verbose = false, determinism = false;
  fs::path dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") {
      seeds = std::stoull(next());
    } else if (a == "--first") {
      first = std::stoull(next());
    } else if (a == "--seed") {
      first = std::stoull(next());
      seeds = 1;
      verbose = true;
    } else if (a == "--days") {
      days = std::max(1, std::stoi(next()));
    } else if (a == "--dir") {
      dir = next();
    } else if (a == "--check-determinism") {
      determinism = true;
    } else if (a == "--quiet") {
      verbose = false;
    } else {
      std::fprintf(stderr,
                   "usage: tuphap_sim [--seeds N] [--first S] [--seed S] [--days D] [--dir PATH] "
                   "[--check-determinism] [--quiet]\n");
      return 2;
    }
  }
  // Before libsodium first initialises: its random bytes come from the seed.
  randombytes_set_implementation(&g_sim_randombytes);
  if (sodium_init() < 0) return 1;
  const fs::path root = dir / ("tuphap-sim-" + std::to_string(getpid()));
  Counts total;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    if (verbose) std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    Outcome o = RunSeed(seed, root, days, verbose);
    if (o.ok && determinism) {
      Outcome again = RunSeed(seed, root, days, false);
      if (!again.ok || again.trace != o.trace) {
        o.ok = false;
        o.failure = "not deterministic: trace " + std::to_string(o.trace) + " then " +
                    std::to_string(again.trace) + (again.ok ? "" : " (" + again.failure + ")");
      }
    }
    ++total.seeds;
    total.changes += o.counts.changes;
    total.sessions += o.counts.sessions;
    total.crashes += o.counts.crashes;
    total.conflicts += o.counts.conflicts;
    total.refused += o.counts.refused;
    total.mangled += o.counts.mangled;
    if (!o.ok) {
      ++total.failures;
      std::printf("seed %llu FAILED: %s (replay: tuphap_sim --seed %llu)\n",
                  static_cast<unsigned long long>(seed), o.failure.c_str(),
                  static_cast<unsigned long long>(seed));
    } else if (verbose) {
      std::printf("seed %llu ok, trace %016llx\n", static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(o.trace));
    }
    std::fflush(stdout);
  }
  std::error_code ec;
  fs::remove_all(root, ec);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Before the counts: scripts read the last line.
  std::printf("%.1f s, %.2f seeds/s; %llu frames mangled on the way, %llu hostile pushes refused\n",
              secs, static_cast<double>(total.seeds) / secs,
              static_cast<unsigned long long>(total.mangled),
              static_cast<unsigned long long>(total.refused));
  std::printf(
      "simulate: %llu seeds, %llu failures, %llu changes, %llu sessions, %llu crashes, "
      "%llu conflicts\n",
      static_cast<unsigned long long>(total.seeds), static_cast<unsigned long long>(total.failures),
      static_cast<unsigned long long>(total.changes),
      static_cast<unsigned long long>(total.sessions),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.conflicts));
  return total.failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace tuphap::node::sim

int main(int argc, char** argv) { return tuphap::node::sim::Main(argc, argv); }
