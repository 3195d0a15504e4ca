// Reconcile on real nodes and stores, in one process: what it finds, and
// that it keeps the store's one-thread rule (store.h).
#include "node/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "node/store/recon_hash.h"
#include "node/store/test_access.h"
#include "node/test_nodes.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

using ReconcileTest = NodesTest;

// The threads a source's share check was called from: the check runs
// wherever that source reads its store.
class ThreadLog {
 public:
  StoreSource::Shares Shares(const store::EnvelopeOpener& opener) {
    return [this, &opener](std::string_view scope) {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.insert(std::this_thread::get_id());
      return opener.CanRead(scope);
    };
  }
  std::set<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::set<std::thread::id> threads_;
};

// A Store is not thread-safe, and neither are the node's opener and trust:
// both sides are read from the thread that calls Reconcile, none from a
// helper thread (reconcile once built our trees in a second thread while
// the other side built its own).
TEST_F(ReconcileTest, BothSidesAreReadFromTheCallingThreadOnly) {
  auto hub = Make("hub", Role::kHub);
  auto c = Make("c");
  Enrol(*hub, *c);
  for (int i = 0; i < 20; ++i) {
    auto id = c->CreateRecord("R" + std::to_string(i), "note", kCommune,
                              {{"text", crdt::Value::String("note " + std::to_string(i))}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  Ingest(*hub, Envelopes(*c, kCommune));
  // One record corrected at the commune only: one difference.
  ASSERT_TRUE(c->SetFields("R7", {{"text", crdt::Value::String("corrected")}}).ok());

  ThreadLog ours_log, theirs_log;
  StoreSource ours(c->store(), c->opener(), ours_log.Shares(c->opener()));
  StoreSource theirs(hub->store(), hub->opener(), theirs_log.Shares(hub->opener()));
  auto report = Reconcile(ours, theirs, {kCommune});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->equal);
  ASSERT_EQ(report->differences.size(), 1u);
  EXPECT_EQ(report->differences[0].record_id, "R7");
  EXPECT_EQ(report->differences[0].reason, "missing_changes");

  const std::set<std::thread::id> caller{std::this_thread::get_id()};
  EXPECT_EQ(ours_log.threads(), caller) << "our store was read from another thread";
  EXPECT_EQ(theirs_log.threads(), caller) << "their store was read from another thread";
}

// --- the maintained tree --------------------------------------------------

// The tree of `scope` computed from the rows now, compared with the one
// the store maintains: every leaf, and every node down to a bucket and one
// level below it.
void ExpectMaintainedTreeIsTheScratchTree(store::Store& st, const std::string& scope) {
  std::vector<store::ReconLeaf> rows;
  ASSERT_TRUE(st.ForEachStoredState(scope, [&](const store::Store::StoredState& s) {
                  ASSERT_TRUE(s.parsed);
                  const replication::Hash h = replication::Blake2b256(s.state_bytes);
                  ASSERT_EQ(replication::AsBytes(h), s.stored_hash);
                  rows.push_back({store::ReconPlace(s.record_id), std::string(s.record_id),
                                  store::Truncate16(h)});
                }).ok());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.place != b.place ? a.place < b.place : a.record_id < b.record_id;
  });
  std::vector<store::ReconLeaf> kept;
  ASSERT_TRUE(
      st.ForEachReconLeaf(scope, [&](const store::ReconLeaf& l) { kept.push_back(l); }).ok());
  ASSERT_EQ(kept.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(kept[i].record_id, rows[i].record_id);
    EXPECT_EQ(kept[i].place, rows[i].place);
    EXPECT_EQ(kept[i].leaf, rows[i].leaf) << rows[i].record_id;
  }
  const store::ReconLeaf* all = rows.data();
  auto root = st.ReconRoot(scope);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(*root, store::ScratchSummary(all, all + rows.size(), 0));
  EXPECT_EQ(root->records, rows.size());
  // Every node holding a record, down to one level below the buckets.
  std::set<std::string> prefixes{""};
  for (const auto& r : rows) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r.place));
    for (size_t d = 1; d <= store::kReconBucketDepth + 1; ++d) prefixes.insert(std::string(hex, d));
  }
  for (const auto& p : prefixes) {
    auto kids = st.ReconChildren(scope, p);
    ASSERT_TRUE(kids.ok()) << p << ": " << kids.status().ToString();
    for (unsigned d = 0; d < 16; ++d) {
      const std::string child = p + "0123456789abcdef"[d];
      std::vector<store::ReconLeaf> under;
      for (const auto& r : rows) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r.place));
        if (std::string_view(hex).substr(0, child.size()) == child) under.push_back(r);
      }
      EXPECT_EQ((*kids)[d],
                store::ScratchSummary(under.data(), under.data() + under.size(), child.size()))
          << "node " << child;
    }
  }
}

// Property: after random creations, corrections and revocations, applied
// locally at a commune and ingested at the hub in random batches, both
// stores' maintained trees are the trees built from their rows; and a
// store whose tree was dropped (a store from before schema 14) fills it
// again on open to the same rows.
TEST_F(ReconcileTest, TheMaintainedTreeIsTheTreeOfTheRowsAfterRandomWork) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string hub_name = "hub" + std::to_string(seed), c_name = "c" + std::to_string(seed);
    auto hub = Make(hub_name, Role::kHub);
    auto c = Make(c_name);
    Enrol(*hub, *c);
    std::mt19937 rng(seed);
    std::vector<std::string> ids;
    size_t synced = 0;  // envelopes of the commune's feed the hub has
    for (int step = 0; step < 120; ++step) {
      const unsigned what = rng() % 10;
      if (ids.empty() || what < 5) {
        const std::string id = "R" + std::to_string(seed) + "-" + std::to_string(step);
        auto made =
            c->CreateRecord(id, "note", kCommune, {{"text", crdt::Value::String("note " + id)}});
        ASSERT_TRUE(made.ok()) << made.status().ToString();
        ids.push_back(id);
      } else if (what < 8) {
        const std::string& id = ids[rng() % ids.size()];
        // Corrections at both ends: the hub's make concurrent values.
        Node& at = (rng() % 3 == 0) ? *hub : *c;
        Status s = at.SetFields(id, {{"text", crdt::Value::String("v" + std::to_string(step))}}, "",
                                kCommune);
        // The hub may not have the record yet; a revoked one is not amended.
        ASSERT_TRUE(s.ok() || s.code() == StatusCode::kNotFound ||
                    s.code() == StatusCode::kFailedPrecondition)
            << s.ToString();
      } else {
        Status s = c->Revoke(ids[rng() % ids.size()], "entered twice");
        ASSERT_TRUE(s.ok() || s.code() == StatusCode::kFailedPrecondition) << s.ToString();
      }
      if (rng() % 4 == 0) {
        // A random batch of what the hub lacks.
        const std::vector<replication::Envelope> all = Envelopes(*c, kCommune);
        std::vector<replication::Envelope> more;
        const size_t n = std::min(all.size() - synced, size_t{1} + rng() % 8);
        for (size_t i = synced; i < synced + n; ++i) more.push_back(all[i]);
        synced += n;
        if (!more.empty()) Ingest(*hub, more);
      }
    }
    Ingest(*hub, Envelopes(*c, kCommune));
    ExpectMaintainedTreeIsTheScratchTree(c->store(), kCommune);
    ExpectMaintainedTreeIsTheScratchTree(hub->store(), kCommune);
    // Before schema 14 there was no tree: dropped, it is filled on open.
    hub.reset();
    {
      auto db =
          store::Database::Open(Dir(hub_name) + "/tuphap.db", store::Database::OpenMode::kExisting);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      ASSERT_TRUE((*db)
                      ->Exec("DROP TABLE recon_leaves; "
                             "DELETE FROM meta WHERE key = 'recon_rebuild'; "
                             "DROP TABLE stats_totals; ALTER TABLE records DROP COLUMN fine_vnd; "
                             "ALTER TABLE records DROP COLUMN fine_paid_vnd; "
                             "PRAGMA user_version=13")
                      .ok());
    }
    hub = Open(hub_name);
    ASSERT_NE(hub, nullptr);
    ExpectMaintainedTreeIsTheScratchTree(hub->store(), kCommune);
  }
}

// A QueryChannel straight into a responder, as `asker`; `between` runs
// before each answer (another asker's whole run).
class ResponderChannel final : public QueryChannel {
 public:
  ResponderChannel(ReconcileResponder& r, const replication::Certificate& asker)
      : r_(r), asker_(asker) {}
  Result<std::string> Ask(const std::string& what, std::string body) override {
    if (between) between();
    ++asked;
    return r_.Answer(asker_, what, body, now_ms);
  }
  std::function<void()> between;
  int64_t now_ms = 0;
  int asked = 0;

 private:
  ReconcileResponder& r_;
  const replication::Certificate& asker_;
};

// Two communes reconcile against one hub's responder at once: every query
// of one run is answered between two queries of the other, and both find
// exactly their own differences (the responder keeps nothing per run).
TEST_F(ReconcileTest, TwoAskersAtOnceAreAnsweredFromTheSameTree) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  auto b = Make("b", Role::kCommune, kOtherCommune);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(a->CreateRecord("A" + std::to_string(i), "note", kCommune,
                                {{"text", crdt::Value::String("a " + std::to_string(i))}})
                    .ok());
    ASSERT_TRUE(b->CreateRecord("B" + std::to_string(i), "note", kOtherCommune,
                                {{"text", crdt::Value::String("b " + std::to_string(i))}})
                    .ok());
  }
  Ingest(*hub, Envelopes(*a, kCommune));
  Ingest(*hub, Envelopes(*b, kOtherCommune));
  ASSERT_TRUE(a->SetFields("A7", {{"text", crdt::Value::String("corrected at a")}}).ok());
  ASSERT_TRUE(b->SetFields("B9", {{"text", crdt::Value::String("corrected at b")}}).ok());
  ASSERT_TRUE(hub->SetFields("B90", {{"text", crdt::Value::String("corrected at the hub")}}, "",
                             kOtherCommune)
                  .ok());

  ReconcileResponder responder(*hub);
  const replication::Certificate a_cert = *hub->trust()->CertFor(a->sign_key());
  const replication::Certificate b_cert = *hub->trust()->CertFor(b->sign_key());
  ResponderChannel to_a(responder, a_cert), to_b(responder, b_cert);
  auto theirs_a = RemoteSource(to_a);
  auto theirs_b = RemoteSource(to_b);
  const store::EnvelopeOpener* ao = &a->opener();
  const store::EnvelopeOpener* bo = &b->opener();
  StoreSource ours_a(a->store(), *ao, [ao](std::string_view s) { return ao->CanRead(s); });
  // b's runs, one after each query of a's run.
  std::vector<ReconcileReport> b_reports;
  to_a.between = [&] {
    StoreSource ours_b(b->store(), *bo, [bo](std::string_view s) { return bo->CanRead(s); });
    auto r = Reconcile(ours_b, *theirs_b, {kOtherCommune});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    b_reports.push_back(*r);
  };
  auto ra = Reconcile(ours_a, *theirs_a, {kCommune});
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_EQ(ra->differences.size(), 1u);
  EXPECT_EQ(ra->differences[0].record_id, "A7");
  EXPECT_GE(to_a.asked, 3);
  ASSERT_EQ(b_reports.size(), static_cast<size_t>(to_a.asked));
  for (const auto& rb : b_reports) {
    std::set<std::string> ids;
    for (const auto& d : rb.differences) ids.insert(d.record_id);
    EXPECT_EQ(ids, (std::set<std::string>{"B9", "B90"}));
  }
  EXPECT_TRUE(responder.refusals().empty());
}

std::string RootsQuery() {
  replication::MsgpackWriter w;
  w.ArrayHeader(3);
  w.Str("run-1");
  w.Str("");
  w.ArrayHeader(1);
  w.Str("18568");  // NodesTest::kCommune
  return w.Take();
}

// An enrolled node cannot make the hub answer without end: past its
// budget of queries, or of answer bytes, a key is refused E_RATE_LIMITED
// (counted by budget) until time refills it; another key keeps its own.
TEST_F(ReconcileTest, EachAskingKeyHasABudgetOfQueriesAndAnswerBytes) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  auto b = Make("b", Role::kCommune, kOtherCommune);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  ASSERT_TRUE(a->CreateRecord("A1", "note", kCommune, {{"text", crdt::Value::String("a")}}).ok());
  Ingest(*hub, Envelopes(*a, kCommune));
  const replication::Certificate a_cert = *hub->trust()->CertFor(a->sign_key());
  const replication::Certificate b_cert = *hub->trust()->CertFor(b->sign_key());

  ReconcileResponder::Limits lim;
  lim.queries_per_second = 2;
  lim.query_burst = 3;
  ReconcileResponder r(*hub, lim);
  const std::string q = RootsQuery();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(r.Answer(a_cert, "recon.roots", q, 1000).ok()) << i;
  auto refused = r.Answer(a_cert, "recon.roots", q, 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "E_RATE_LIMITED");
  EXPECT_EQ(r.refusals().at("E_RATE_LIMITED queries"), 1u);
  // Another key is not held back by the first one's budget.
  EXPECT_TRUE(r.Answer(b_cert, "recon.roots", q, 1000).ok());
  // Half a second later, one more query (2 a second).
  EXPECT_TRUE(r.Answer(a_cert, "recon.roots", q, 1500).ok());
  EXPECT_FALSE(r.Answer(a_cert, "recon.roots", q, 1500).ok());
  EXPECT_EQ(r.refusals().at("E_RATE_LIMITED queries"), 2u);
  EXPECT_EQ(r.answered(), 5u);

  // Bytes: a budget smaller than two answers.
  ReconcileResponder::Limits small;
  auto one = r.Answer(a_cert, "recon.roots", q, 5000);
  ASSERT_TRUE(one.ok());
  small.byte_burst = static_cast<double>(one->size()) + 1;
  small.bytes_per_minute = 60.0 * static_cast<double>(one->size());  // one answer a second
  ReconcileResponder rb(*hub, small);
  EXPECT_TRUE(rb.Answer(a_cert, "recon.roots", q, 0).ok());
  EXPECT_TRUE(rb.Answer(a_cert, "recon.roots", q, 0).ok());  // 1 byte left: answered, in debt
  auto over = rb.Answer(a_cert, "recon.roots", q, 0);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().reason(), "E_RATE_LIMITED");
  EXPECT_EQ(rb.refusals().at("E_RATE_LIMITED bytes"), 1u);
  EXPECT_TRUE(rb.Answer(a_cert, "recon.roots", q, 2000).ok());  // refilled
  // Malformed queries are refused and counted by their code.
  EXPECT_FALSE(rb.Answer(a_cert, "recon.children", "\xc1", 10000).ok());
  EXPECT_EQ(rb.refusals().at("E_PROTOCOL"), 1u);

  // An answer over the size limit is refused, and what was built of it is
  // charged: asking again and again for it soon stops before any work.
  ReconcileResponder::Limits tight = small;
  tight.max_answer_bytes = one->size() - 1;
  tight.byte_burst = 1.5 * static_cast<double>(one->size());
  ReconcileResponder rt(*hub, tight);
  for (int i = 0; i < 2; ++i) {
    auto large = rt.Answer(a_cert, "recon.roots", q, 0);
    ASSERT_FALSE(large.ok()) << i;
    EXPECT_EQ(large.status().reason(), "E_TOO_LARGE") << i;
  }
  auto spent = rt.Answer(a_cert, "recon.roots", q, 0);
  ASSERT_FALSE(spent.ok());
  EXPECT_EQ(spent.status().reason(), "E_RATE_LIMITED") << spent.status().ToString();
  EXPECT_EQ(rt.refusals().at("E_TOO_LARGE"), 2u);
  EXPECT_EQ(rt.refusals().at("E_RATE_LIMITED bytes"), 1u);
}

// Tampering is still found with a maintained tree: a row of the asking
// side edited behind tuphap's back (its bytes no longer match its hash or
// its leaf) and one deleted are found by the asking side's pass over its
// rows; a row of the answering side edited, in a part of the tree that
// differs, answers the leaf of its bytes now and is drilled into.
TEST_F(ReconcileTest, RowsEditedBehindTuphapsBackAreFoundOnEitherSide) {
  auto hub = Make("hub", Role::kHub);
  auto c = Make("c");
  Enrol(*hub, *c);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(c->CreateRecord("R" + std::to_string(i), "note", kCommune,
                                {{"text", crdt::Value::String("Nguyễn " + std::to_string(i))}})
                    .ok());
  }
  Ingest(*hub, Envelopes(*c, kCommune));
  auto edit = [](store::Store& st, const std::string& id) {
    store::Database& db = store::TestAccess::Db(st);
    auto q = db.Prepare("SELECT state FROM records WHERE record_id = ?");
    ASSERT_TRUE(q.ok());
    q->Bind(1, id);
    ASSERT_TRUE(*q->Step());
    std::string blob(q->Blob(0));
    const std::string from = "Nguyễn", to = "Nguyeeen";
    blob.replace(blob.find(from), from.size(), to);
    auto u = db.Prepare("UPDATE records SET state = ? WHERE record_id = ?");
    ASSERT_TRUE(u.ok());
    u->BindBlob(1, blob).Bind(2, id);
    ASSERT_TRUE(u->Step().ok());
  };
  edit(c->store(), "R3");
  {
    store::Database& db = store::TestAccess::Db(c->store());
    for (const char* sql :
         {"DELETE FROM person_index WHERE record IN (SELECT id FROM records WHERE record_id = "
          "'R5')",
          "DELETE FROM records WHERE record_id = 'R5'"})
      ASSERT_TRUE(db.Exec(sql).ok()) << sql;
  }
  // At the hub: R11 edited, and R11 also corrected at the commune, so its
  // part of the tree differs.
  edit(hub->store(), "R11");
  ASSERT_TRUE(c->SetFields("R11", {{"text", crdt::Value::String("Nguyễn 11 sửa")}}).ok());

  ReconcileResponder responder(*hub);
  const replication::Certificate cert = *hub->trust()->CertFor(c->sign_key());
  ResponderChannel ch(responder, cert);
  auto theirs = RemoteSource(ch);
  const store::EnvelopeOpener* o = &c->opener();
  StoreSource ours(c->store(), *o, [o](std::string_view s) { return o->CanRead(s); });
  auto report = Reconcile(ours, *theirs, {kCommune});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::map<std::string, std::set<std::string>> reasons;
  for (const auto& d : report->differences) reasons[d.record_id].insert(d.reason);
  EXPECT_EQ(reasons["R3"], std::set<std::string>{"tampered"});
  EXPECT_EQ(reasons["R5"], std::set<std::string>{"tampered"});
  EXPECT_TRUE(reasons["R11"].count("tampered")) << "the hub's edited row";
  EXPECT_EQ(reasons.size(), 3u);
}

}  // namespace
}  // namespace tuphap::node
