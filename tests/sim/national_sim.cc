// The national simulation (issue 17, item 6b): the 3,321 communes of 2025,
// their 34 provincial hubs and a national tier, in one process, over days
// of normal work. It measures the bytes, sessions and envelopes each level
// exchanges per day and checks that everything converged.
//
// Nodes are real (SQLite stores, keys, sealed and signed envelopes,
// SyncSession, the importer's records); only the links are simulated, in
// memory (memory_link.h), and counted there. Commune nodes are opened in
// turns (a province's hub stays open), so the run needs a few hundred file
// descriptors whatever its size.
//
// Each simulated day, in each of --rounds rounds, every commune registers
// its share of the day's records (the project's generator; a tenth of a
// commune's lines, rounded down, are corrections) one registration per
// commit, then syncs with its provincial hub (the commune dials, as
// `tuphap sync` does); after each round every hub syncs with the national
// tier. Before day 1 the setup (init, enrolment, each node's first
// session, which brings it the province's certificates and key grants) is
// counted apart.
//
// The national tier. Today's trust model cannot hold several provinces in
// one node: a node pins one province root, a HELLO is accepted only from a
// key certified by that root, and a hub offers a commune-role peer only its
// commune's feed and the public one (node/peers.cc) — the only peer a hub
// offers every feed is a hub-role key, its own (docs/security.md,
// docs/protocol.md). So the tier is simulated as docs/scaling.md, "A
// national tier", describes it: one national relay per province, which
// stores and verifies the province's envelopes unread. Each relay here is a
// real node of the province, enrolled at its hub by today's enrolment (as a
// secondary node of the province's first simulated commune, whose key it
// is therefore granted), dialling the hub with a real SyncSession that
// verifies and commits every BATCH and acknowledges it. The hub's side of
// that link is the one part that does not exist in tuphap: it answers as a
// hub would a peer it offered every feed (its full HELLO, then every feed's
// envelopes past the relay's heads, in BATCHes bounded like SyncSession's
// by 1,000 envelopes and the link's frame budget, then DONE) — the offer
// rule a national relay would need. No new message is used.
//
//   national_sim [--provinces N] [--communes-per-province N|all] [--days D]
//                [--rounds R] [--records-per-day N] [--seed S] [--dir PATH]
//                [--keep] [--fault skip-national]
//
// Exit status 0 when every check of convergence passed, 1 otherwise, 2 for
// bad arguments. `--fault skip-national` leaves out the last hub → national
// session of the first province, so the checks must fail (its ctest case
// expects exit 1).
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/hex.h"
#include "node/domain/record_generator.h"
#include "node/domain/reference_data.h"
#include "node/domain/registry.h"
#include "node/node.h"
#include "node/store/test_access.h"
#include "node/sync.h"
#include "node/test_keys.h"
#include "replication/certificate.h"
#include "replication/protocol.h"
#include "tests/bench/bench_util.h"
#include "tests/sim/memory_link.h"

namespace tuphap::node::sim {
namespace {

namespace fs = std::filesystem;
using replication::FeedHeadWire;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kStart = 1'751'328'000'000;  // 2025-07-01 00:00 UTC

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) throw Failure(what + ": " + r.status().ToString());
  return std::move(r).value();
}
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) throw Failure(what + ": " + s.ToString());
}

struct Options {
  int provinces = 34;
  int communes_per_province = 0;  // 0: all
  int days = 2;
  int rounds = 2;
  int records_per_day = 6;
  uint64_t seed = 1;
  fs::path dir = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  bool keep = false;
  bool skip_national = false;
};

// What one level exchanged in one phase.
struct Level {
  LinkTally link;
  uint64_t sessions = 0;
  uint64_t envelopes_up = 0, envelopes_down = 0;
  double seconds = 0;
  void Add(const Level& o) {
    link += o.link;
    sessions += o.sessions;
    envelopes_up += o.envelopes_up;
    envelopes_down += o.envelopes_down;
    seconds += o.seconds;
  }
};

struct Commune {
  std::string code;
  std::string dir;
  replication::PublicKey box_key{};
  PeerMemory memory;               // what the commune keeps of its hub
  PeerMemory hub_memory;           // what the hub keeps of the commune
  std::unique_ptr<Node> node;      // open while its province is simulated
  std::vector<std::string> lines;  // what its officers will register
  size_t lines_taken = 0;
  std::vector<std::string> created;  // record ids registered
};

struct Province {
  std::string code;
  std::string dir;
  std::unique_ptr<Node> hub;
  std::vector<Commune> communes;
  std::unique_ptr<Node> relay;  // the national relay of this province
  PeerMemory relay_memory;      // the relay's of the hub
  LinkBudget hub_budget;        // the hub's frame size towards the relay
};

// The hub's side of the national link: what a hub would answer a peer it
// offered every feed it holds (see the file comment). Bounded like
// SyncSession::Pump: at most `batch_envelopes` envelopes and the link
// budget's frame bytes per BATCH, at most `window` BATCHes unacknowledged.
class FullOffer {
 public:
  FullOffer(Node& hub, LinkBudget& budget, size_t window = 4, size_t batch_envelopes = 1000)
      : hub_(hub), budget_(budget), window_(window), batch_envelopes_(batch_envelopes) {}

  Status OnFrame(std::string_view frame, std::vector<std::string>* out) {
    bytes_in_ += frame.size();
    TUPHAP_ASSIGN_OR_RETURN(replication::Message msg, replication::Decode(frame));
    if (auto* hello = std::get_if<replication::Hello>(&msg)) return Hello(*hello, out);
    if (auto* ack = std::get_if<replication::Ack>(&msg)) {
      auto it = in_flight_.find(ack->batch_no);
      if (it == in_flight_.end()) return Status::Internal("an ACK of no batch in flight");
      acked_out_ += it->second;
      in_flight_.erase(it);
      if (ack->refused != 0)
        return Status::Internal(std::to_string(ack->refused) + " envelopes refused by the relay");
      budget_.Acknowledged(bytes_in_ + acked_out_);
      return Pump(out);
    }
    if (std::holds_alternative<replication::Done>(msg)) {
      peer_done_ = true;
      return Pump(out);
    }
    if (auto* e = std::get_if<replication::ErrorMessage>(&msg))
      return Status::Aborted("the relay ended the session: " + e->code + " " + e->message);
    return Status::Internal("an unexpected message on the national link");
  }
  bool caught_up() const { return sent_done_ && peer_done_; }
  uint64_t sent() const { return sent_; }

 private:
  Status Hello(const replication::Hello& peer, std::vector<std::string>* out) {
    std::map<store::FeedKey, uint64_t> theirs;
    for (const auto& h : peer.heads) theirs[{h.origin, h.scope}] = h.seq;
    replication::Hello reply;
    reply.node = hub_.sign_key();
    reply.role = "hub";
    for (const auto& h : Must(hub_.store().Heads(), "hub heads")) {
      if (h.seq == 0) continue;
      reply.heads.push_back({h.feed.origin, h.feed.scope, h.seq, h.hash});
      const uint64_t from = theirs.count(h.feed) ? theirs[h.feed] : 0;
      if (from < h.seq) cursors_.push_back({h.feed, from + 1});
    }
    out->push_back(replication::Encode(reply));
    return Pump(out);
  }
  Status Pump(std::vector<std::string>* out) {
    while (in_flight_.size() < window_ && !cursors_.empty()) {
      replication::Batch batch;
      batch.batch_no = next_batch_++;
      size_t bytes = 0;
      while (!cursors_.empty() && batch.envelopes.size() < batch_envelopes_) {
        auto& [feed, next] = cursors_.front();
        const size_t room = budget_.frame_bytes() - std::min(bytes, budget_.frame_bytes());
        TUPHAP_ASSIGN_OR_RETURN(
            store::Store::EnvelopeRun run,
            hub_.store().ReadEnvelopeRun(feed, next, batch_envelopes_ - batch.envelopes.size(),
                                         room, batch.envelopes.empty()));
        for (auto& env : run.envelopes) {
          bytes += env.size();
          batch.envelopes.push_back(std::move(env));
        }
        next += run.envelopes.size();
        if (run.end) {
          cursors_.erase(cursors_.begin());
          continue;
        }
        break;  // the frame is full
      }
      if (batch.envelopes.empty()) break;
      sent_ += batch.envelopes.size();
      std::string frame = replication::Encode(batch);
      in_flight_.emplace(batch.batch_no, frame.size());
      out->push_back(std::move(frame));
    }
    if (cursors_.empty() && in_flight_.empty() && !sent_done_) {
      sent_done_ = true;
      out->push_back(replication::Encode(replication::Done{}));
    }
    return Status::Ok();
  }

  Node& hub_;
  LinkBudget& budget_;
  size_t window_, batch_envelopes_;
  std::vector<std::pair<store::FeedKey, uint64_t>> cursors_;
  std::map<uint64_t, uint64_t> in_flight_;  // batch_no -> frame bytes
  uint64_t next_batch_ = 1, bytes_in_ = 0, acked_out_ = 0, sent_ = 0;
  bool sent_done_ = false, peer_done_ = false;
};

std::string Date(int64_t ms) {
  const time_t t = static_cast<time_t>(ms / 1000);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &parts);
  return buf;
}

class NationalSim {
 public:
  explicit NationalSim(Options o) : o_(std::move(o)) {
    root_ = o_.dir / ("tuphap-national-" + std::to_string(getpid()));
  }
  ~NationalSim() {
    provinces_.clear();
    std::error_code ec;
    if (!o_.keep) fs::remove_all(root_, ec);
  }

  // Returns the process's exit status.
  int Run() {
    fs::remove_all(root_);
    fs::create_directories(root_);
    Pick();
    std::printf(
        "%zu provinces, %zu communes, %d days x %d rounds, %d records a commune a day, "
        "stores in %s\n",
        provinces_.size(), communes_, o_.days, o_.rounds, o_.records_per_day, root_.c_str());
    std::fflush(stdout);
    bench::Stopwatch total;
    // Provinces do not meet: each is simulated whole (setup, the days, its
    // checks) in turn, its commune nodes open only meanwhile.
    days_.resize(static_cast<size_t>(o_.days));
    day_seconds_.resize(static_cast<size_t>(o_.days));
    size_t done = 0;
    for (auto& p : provinces_) {
      bench::Stopwatch w;
      Setup(*p);
      for (int day = 0; day < o_.days; ++day) Day(*p, day);
      Check(*p);
      for (Commune& c : p->communes) c.node.reset();
      p->hub.reset();
      p->relay.reset();
      std::error_code ec;
      if (!o_.keep) fs::remove_all(p->dir, ec);  // /dev/shm is memory
      done += p->communes.size();
      std::printf("province %s: %zu communes, %.1f s (%zu of %zu communes done, %.0f s)\n",
                  p->code.c_str(), p->communes.size(), w.Seconds(), done, communes_,
                  total.Seconds());
      std::fflush(stdout);
    }
    Print();
    std::printf(
        "total wall time %.1f s (setup %.1f s, days %.1f s, checks %.1f s), peak RSS %ld "
        "MB\n",
        total.Seconds(), setup_seconds_, work_seconds_, check_seconds_, bench::PeakRssKb() / 1024);
    std::printf(
        "checked: %llu records at their hubs, %llu envelopes of %llu feeds at the national "
        "tier, %zu failures\n",
        static_cast<unsigned long long>(records_at_hubs_),
        static_cast<unsigned long long>(envelopes_at_national_),
        static_cast<unsigned long long>(feeds_), failures_.size());
    std::printf("convergence: %s\n", failures_.empty() ? "OK" : "FAILED");
    return failures_.empty() ? 0 : 1;
  }

 private:
  void Pick() {
    const auto& ref = domain::ReferenceData::Get();
    for (int p = 1; p <= 99 && static_cast<int>(provinces_.size()) < o_.provinces; ++p) {
      const std::string code = (p < 10 ? "0" : "") + std::to_string(p);
      if (ref.ProvinceName(code).empty()) continue;
      auto prov = std::make_unique<Province>();
      prov->code = code;
      prov->dir = (root_ / ("P" + prov->code)).string();
      for (const domain::CommuneInfo* c : ref.CommunesOf(code)) {
        if (o_.communes_per_province > 0 &&
            static_cast<int>(prov->communes.size()) == o_.communes_per_province)
          break;
        Commune commune;
        commune.code = c->code;
        commune.dir = prov->dir + "/" + c->code;
        prov->communes.push_back(std::move(commune));
      }
      communes_ += prov->communes.size();
      provinces_.push_back(std::move(prov));
    }
  }

  NodeOptions Opts(const std::string& officer) {
    NodeOptions o;
    o.clock = &clock_;
    o.officer = officer;
    return TestOptions(o);
  }
  std::unique_ptr<Node> Open(const std::string& dir) {
    return Must(Node::Open(dir, Opts("officer")), "open " + dir);
  }
  void Enrol(Node& hub, Node& node) {
    auto request = Must(node.EnrollRequestFile("sim"), "enroll request");
    auto file = Must(hub.EnrollSign(request, 365), "enroll sign");
    Must(node.EnrollAccept(file.file).status(), "enroll accept");
  }

  // --- setup: init, enrolment, the first sessions ---------------------------
  void Setup(Province& p) {
    bench::Stopwatch w;
    clock_.SetWall(kStart - kDay + 8 * kHour);
    fs::create_directories(p.dir);
    InitParams hp;
    hp.role = Role::kHub;
    hp.province = p.code;
    hp.now_ms = clock_.WallMillis();
    Must(InitForTest(p.dir + "/hub", hp), "init hub " + p.code);
    p.hub = Open(p.dir + "/hub");
    for (Commune& c : p.communes) {
      InitParams cp;
      cp.commune = c.code;
      cp.now_ms = clock_.WallMillis();
      Must(InitForTest(c.dir, cp), "init " + c.code);
      c.node = Open(c.dir);
      Enrol(*p.hub, *c.node);
      c.box_key = c.node->box_key();
      c.lines = Lines(c);
    }
    // The national relay: a node of the province, enrolled by today's
    // enrolment (a secondary of the first commune).
    InitParams rp;
    rp.commune = p.communes.front().code;
    rp.secondary = true;
    rp.now_ms = clock_.WallMillis();
    Must(InitForTest(p.dir + "/national", rp), "init relay " + p.code);
    p.relay = Open(p.dir + "/national");
    Enrol(*p.hub, *p.relay);
    // First sessions: each commune receives its province's certificates and
    // grants, then the national tier its copy.
    for (Commune& c : p.communes) CommuneSession(p, c, setup_[0]);
    NationalSession(p, setup_[1]);
    setup_seconds_ += w.Seconds();
  }

  // --- a day ----------------------------------------------------------------
  void Day(Province& p, int day) {
    bench::Stopwatch w;
    Level* day_levels = days_[static_cast<size_t>(day)].data();
    uint64_t registered = 0, refused = 0;
    for (int round = 0; round < o_.rounds; ++round) {
      clock_.SetWall(kStart + day * kDay + (9 + 8 * round / o_.rounds) * kHour);
      // The day's records of a commune, spread over the rounds.
      const int upto_before = o_.records_per_day * day + o_.records_per_day * round / o_.rounds;
      const int upto = o_.records_per_day * day + o_.records_per_day * (round + 1) / o_.rounds;
      for (Commune& c : p.communes) {
        const auto [ok, no] = Work(c, static_cast<size_t>(upto - upto_before));
        registered += ok;
        refused += no;
        CommuneSession(p, c, day_levels[0]);
      }
      const bool skip = o_.skip_national && &p == provinces_.front().get() && day == o_.days - 1 &&
                        round == o_.rounds - 1;
      if (!skip) NationalSession(p, day_levels[1]);
    }
    lines_ += registered;
    refused_ += refused;
    day_seconds_[static_cast<size_t>(day)] += w.Seconds();
    work_seconds_ += w.Seconds();
  }

  // The commune's generated lines, the same on every call: one stream per
  // commune for the whole run (records registered earlier that a later
  // line corrects or names are the commune's own).
  std::vector<std::string> Lines(const Commune& c) {
    domain::GeneratorOptions g;
    g.seed = o_.seed * 1'000'003 + std::stoull(c.code);
    g.communes = {c.code};
    const int creates = o_.records_per_day * o_.days;
    g.edits = creates / 10;
    g.records = creates - g.edits;
    // Registered in the month before the simulated days: no date is ahead
    // of the officers' clocks.
    g.from = Date(kStart - 30 * kDay);
    g.to = Date(kStart - kDay);
    std::vector<std::string> lines;
    domain::GenerateRecords(g, [&](const std::string& line) { lines.push_back(line); });
    return lines;
  }
  // Registers the commune's next `count` lines, one commit each (an
  // officer's registration). Returns (accepted, refused).
  std::pair<uint64_t, uint64_t> Work(Commune& c, size_t count) {
    if (count == 0) return {0, 0};
    Node& n = *c.node;
    const std::vector<std::string>& lines = c.lines;
    domain::Registry registry(n, domain::Lang::kEnglish);
    uint64_t ok = 0, no = 0;
    for (size_t i = 0; i < count && c.lines_taken < lines.size(); ++i) {
      const std::string& line = lines[c.lines_taken++];
      auto session = Must(n.BeginSession(), "begin");
      auto r = Must(registry.ImportLine(*session, line), "register at " + c.code);
      Must(session->Commit(), "commit at " + c.code);
      if (r.outcome == domain::LineResult::Outcome::kAccepted) {
        ++ok;
        if (line.find("\"op\":\"create\"") != std::string::npos) c.created.push_back(r.record_id);
      } else {
        ++no;
      }
    }
    return {ok, no};
  }

  // --- sessions -------------------------------------------------------------
  void CommuneSession(Province& p, Commune& c, Level& level) {
    bench::Stopwatch w;
    SyncSession dialer(*c.node, SyncSession::Side::kDialer, p.hub->box_key(), &c.memory);
    SyncSession listener(*p.hub, SyncSession::Side::kListener, c.box_key, &c.hub_memory);
    Must(RunCleanSession(dialer, listener, &level.link), "session " + c.code + " -> hub");
    ++level.sessions;
    level.envelopes_up += dialer.stats().sent;
    level.envelopes_down += listener.stats().sent;
    level.seconds += w.Seconds();
  }
  // The national relay dials its hub. Up: relay -> hub; down: hub -> relay.
  void NationalSession(Province& p, Level& level) {
    bench::Stopwatch w;
    SyncSession relay(*p.relay, SyncSession::Side::kDialer, p.hub->box_key(), &p.relay_memory);
    FullOffer hub(*p.hub, p.hub_budget);
    const std::string hello = Must(relay.Start(), "relay hello");
    Must(RunCleanLink(
             hello,
             [&](std::string_view f, std::vector<std::string>* out) {
               return relay.OnFrame(f, out);
             },
             [&](std::string_view f, std::vector<std::string>* out) { return hub.OnFrame(f, out); },
             [&] { return relay.caught_up() && hub.caught_up(); }, &level.link),
         "national session of province " + p.code);
    ++level.sessions;
    level.envelopes_up += relay.stats().sent;
    level.envelopes_down += hub.sent();
    level.seconds += w.Seconds();
  }

  // --- convergence ------------------------------------------------------------
  uint64_t LogRows(Node& n) {
    auto q = Must(store::TestAccess::Db(n.store()).Prepare("SELECT count(*) FROM changes"),
                  "count changes");
    Must(q.Step().status(), "count changes");
    return static_cast<uint64_t>(q.Int(0));
  }
  static std::optional<store::ScopeDigest> DigestOf(Node& n, const std::string& scope) {
    // Digests takes a commune code, or nothing for every scope.
    const bool commune = !replication::IsPublicScope(scope);
    for (const auto& d : Must(
             n.Digests(commune ? std::optional<std::string_view>(scope) : std::nullopt), "digests"))
      if (d.scope == scope) return d;
    return std::nullopt;
  }
  void Check(Province& p) {
    bench::Stopwatch w;
    auto fail = [&](std::string what) {
      if (failures_.size() < 20) std::printf("  FAILED: %s\n", what.c_str());
      failures_.push_back(std::move(what));
    };
    Node& hub = *p.hub;
    const std::string pub = replication::PublicScope(p.code);
    const auto hub_public = DigestOf(hub, pub);
    // Commune <-> hub: the commune's feed at the hub is the commune's own,
    // whole and applied; equal digests of its scope and of the public
    // scope; every record it registered at the hub exactly once.
    for (Commune& c : p.communes) {
      Node* n = c.node.get();
      const store::FeedKey own{n->info().id, c.code};
      const auto mine = Must(n->store().Head(own), "head");
      const auto there = Must(hub.store().Head(own), "head at hub");
      if (mine.has_value() != there.has_value() ||
          (mine && (mine->seq != there->seq || mine->hash != there->hash ||
                    there->applied_seq != there->seq)))
        fail(c.code + "'s feed at its hub differs from its own");
      const auto at_commune = DigestOf(*n, c.code);
      const auto at_hub = DigestOf(hub, c.code);
      if (at_commune.has_value() != at_hub.has_value() ||
          (at_commune &&
           (at_commune->digest != at_hub->digest || at_commune->records != at_hub->records)))
        fail("digest of scope " + c.code + " differs between the commune and its hub");
      if (DigestOf(*n, pub).value_or(store::ScopeDigest{}).digest !=
          hub_public.value_or(store::ScopeDigest{}).digest)
        fail("digest of " + pub + " differs between " + c.code + " and its hub");
      const std::set<std::string> ids(c.created.begin(), c.created.end());
      if (ids.size() != c.created.size()) fail(c.code + " registered a record id twice");
      if ((at_hub ? at_hub->records : 0) != ids.size())
        fail("the hub holds " + std::to_string(at_hub ? at_hub->records : 0) + " records of " +
             c.code + ", which registered " + std::to_string(ids.size()));
      for (const std::string& id : ids) {
        auto rec = hub.GetRecord(id, c.code);
        if (!rec.ok()) {
          fail("record " + id + " of " + c.code + " is missing at its hub");
          continue;
        }
        std::set<std::pair<std::string, uint64_t>> seen;
        for (const auto& h : rec->history)
          if (!seen.insert({h.origin.Hex(), h.seq}).second)
            fail("record " + id + " has a change applied twice at its hub");
      }
      records_at_hubs_ += ids.size();
    }
    if (Must(hub.store().HeldCount(), "held") != 0)
      fail("hub " + p.code + " holds envelopes on a gap");
    // Hub -> national: every feed of the hub at the relay, to the same
    // head (seq and envelope id: the same hash chain), nothing more,
    // nothing held, each envelope once.
    Node& relay = *p.relay;
    const auto hub_heads = Must(hub.store().Heads(), "hub heads");
    uint64_t envelopes = 0;
    for (const auto& h : hub_heads) {
      const auto r = Must(relay.store().Head(h.feed), "relay head");
      if (!r || r->seq != h.seq || r->hash != h.hash)
        fail("the national tier holds " + std::to_string(r ? r->seq : 0) + " of " +
             std::to_string(h.seq) + " envelopes of a feed of " + h.feed.scope);
      envelopes += h.seq;
    }
    if (Must(relay.store().Heads(), "relay heads").size() != hub_heads.size())
      fail("the national tier holds feeds of province " + p.code + " its hub does not");
    if (Must(relay.store().HeldCount(), "held") != 0)
      fail("the national tier holds envelopes of province " + p.code + " on a gap");
    if (LogRows(relay) != envelopes || LogRows(hub) != envelopes)
      fail("province " + p.code + ": the logs hold " + std::to_string(LogRows(hub)) +
           " (hub) and " + std::to_string(LogRows(relay)) + " (national) envelopes, the " +
           "heads say " + std::to_string(envelopes));
    for (Node* n : {&hub, &relay})
      if (!Must(n->Security(), "security").equivocations.empty())
        fail("an equivocation reported in province " + p.code);
    envelopes_at_national_ += envelopes;
    feeds_ += hub_heads.size();
    check_seconds_ += w.Seconds();
  }

  // --- the table --------------------------------------------------------------
  void Print() {
    Level total[2];
    for (const auto& d : days_)
      for (int l = 0; l < 2; ++l) total[l].Add(d[l]);
    const double days = o_.days;
    const double nodes[2] = {static_cast<double>(communes_),
                             static_cast<double>(provinces_.size())};
    const char* names[2] = {"commune -> hub", "hub -> national"};
    const char* per[2] = {"commune", "hub"};
    std::printf(
        "\nper day of normal work (%d days, %d rounds; %llu lines registered, %llu "
        "refused):\n",
        o_.days, o_.rounds, static_cast<unsigned long long>(lines_),
        static_cast<unsigned long long>(refused_));
    std::printf("%-16s %12s %12s %14s %14s %9s %11s %11s %9s\n", "level", "up B/day", "down B/day",
                "up B/node/day", "down B/node", "sessions", "env up", "env down", "wall s");
    for (int l = 0; l < 2; ++l) {
      const Level& v = total[l];
      std::printf("%-16s %12.0f %12.0f %14.0f %14.0f %9.0f %11.0f %11.0f %9.1f  (node: %s)\n",
                  names[l], v.link.up.bytes / days, v.link.down.bytes / days,
                  v.link.up.bytes / days / nodes[l], v.link.down.bytes / days / nodes[l],
                  v.sessions / days, v.envelopes_up / days, v.envelopes_down / days,
                  v.seconds / days, per[l]);
    }
    std::printf("setup (init, enrolment, first sessions; once):\n");
    for (int l = 0; l < 2; ++l) {
      const Level& v = setup_[l];
      std::printf("%-16s %12llu %12llu %14.0f %14.0f %9llu %11llu %11llu %9.1f\n", names[l],
                  static_cast<unsigned long long>(v.link.up.bytes),
                  static_cast<unsigned long long>(v.link.down.bytes), v.link.up.bytes / nodes[l],
                  v.link.down.bytes / nodes[l], static_cast<unsigned long long>(v.sessions),
                  static_cast<unsigned long long>(v.envelopes_up),
                  static_cast<unsigned long long>(v.envelopes_down), v.seconds);
    }
    std::printf(
        "(up: commune -> hub, national -> hub; wall s: time in the sessions; the days' "
        "whole wall time %.1f s, registering included)\n",
        work_seconds_);
    for (size_t d = 0; d < days_.size(); ++d)
      std::printf(
          "day %zu: commune -> hub %.2f MB up, %.2f MB down; hub -> national %.2f MB down, "
          "%.2f MB up; %.1f s\n",
          d + 1, static_cast<double>(days_[d][0].link.up.bytes) / 1e6,
          static_cast<double>(days_[d][0].link.down.bytes) / 1e6,
          static_cast<double>(days_[d][1].link.down.bytes) / 1e6,
          static_cast<double>(days_[d][1].link.up.bytes) / 1e6, day_seconds_[d]);
  }

  Options o_;
  fs::path root_;
  ManualClock clock_{kStart};
  std::vector<std::unique_ptr<Province>> provinces_;
  size_t communes_ = 0;
  Level setup_[2];
  std::vector<std::array<Level, 2>> days_;  // per day: commune -> hub, hub -> national
  std::vector<double> day_seconds_;
  uint64_t lines_ = 0, refused_ = 0;
  uint64_t records_at_hubs_ = 0, envelopes_at_national_ = 0, feeds_ = 0;
  std::vector<std::string> failures_;
  double setup_seconds_ = 0, work_seconds_ = 0, check_seconds_ = 0;
};

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--provinces") {
      o.provinces = std::clamp(std::stoi(next()), 1, 34);
    } else if (a == "--communes-per-province") {
      const std::string v = next();
      o.communes_per_province = v == "all" ? 0 : std::max(1, std::stoi(v));
    } else if (a == "--days") {
      o.days = std::max(1, std::stoi(next()));
    } else if (a == "--rounds") {
      o.rounds = std::max(1, std::stoi(next()));
    } else if (a == "--records-per-day") {
      o.records_per_day = std::max(0, std::stoi(next()));
    } else if (a == "--seed") {
      o.seed = std::stoull(next());
    } else if (a == "--dir") {
      o.dir = next();
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--fault" && next() == "skip-national") {
      o.skip_national = true;
    } else {
      std::fprintf(stderr,
                   "usage: national_sim [--provinces N] [--communes-per-province N|all] "
                   "[--days D] [--rounds R] [--records-per-day N] [--seed S] [--dir PATH] "
                   "[--keep] [--fault skip-national]\n");
      return 2;
    }
  }
  bench::PrintRunHeader(argc, argv, sqlite3_libversion());
  try {
    NationalSim sim(o);
    return sim.Run();
  } catch (const Failure& f) {
    std::printf("convergence: FAILED (%s)\n", f.what());
    return 1;
  }
}

}  // namespace
}  // namespace tuphap::node::sim

int main(int argc, char** argv) { return tuphap::node::sim::Main(argc, argv); }
