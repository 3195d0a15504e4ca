#include "node/store/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/random.h"
#include "node/store/draft_opener.h"
#include "node/store/schema.h"
#include "node/store/test_access.h"
#include "node/store/trust_probe.h"
#include "replication/change_codec.h"
#include "replication/seal.h"
#include "tests/property/crdt_sim.h"

namespace tuphap::store {
namespace {

using crdt::Change;
using crdt::Dot;
using crdt::Hlc;
using crdt::ReplicaId;
using crdt::Value;

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tuphap-store-" + std::to_string(getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = Open("a.db");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(const std::string& name, StoreOptions options = {}) {
    auto s = Store::Open((dir_ / name).string(), Database::OpenMode::kCreate, std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  // A chain of drafts per feed, built in creation order.
  replication::Envelope Draft(const Change& c) {
    auto& prev = prev_[{c.origin, c.scope}];
    replication::Envelope e = replication::MakeDraft(c, prev);
    prev = e.hash();
    return e;
  }

  static Change Make(uint64_t origin, uint64_t seq, const std::string& record,
                     std::vector<crdt::Op> ops, uint64_t ms = 1'751'328'000'000) {
    Change c;
    c.origin = ReplicaId::ForTest(origin);
    c.scope = "18568";
    c.seq = seq;
    c.hlc = Hlc::FromParts(ms + seq, static_cast<uint16_t>(origin));
    c.officer = "officer";
    c.records.push_back({record, std::move(ops)});
    return c;
  }

  ApplyReport ApplyAll(Store& s, std::vector<replication::Envelope> envs) {
    std::vector<Store::Incoming> batch;
    for (auto& e : envs) batch.push_back({std::move(e), std::nullopt});
    auto r = s.Apply(batch, opener_, ApplyOptions{.allow_drafts = true});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(!r.ok() || r->outcomes.size() == envs.size()) << "one outcome per input";
    return r.ok() ? *r : ApplyReport{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  DraftOpener opener_;
  std::map<std::pair<ReplicaId, std::string>, replication::Hash> prev_;
};

TEST_F(StoreTest, AppliesAChangeAndAdvancesTheFeedHead) {
  auto e = Draft(
      Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}, {"name", Value::String("An"), {}}}));
  ApplyReport rep = ApplyAll(*store_, {e});
  EXPECT_EQ(rep.appended, 1u);
  EXPECT_EQ(rep.materialised, 1u);
  auto head = store_->Head({ReplicaId::ForTest(1), "18568"});
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 1u);
  EXPECT_EQ((*head)->hash, e.hash());
  auto rec = store_->GetRecord("r1");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->state.Type(), "birth");
  EXPECT_EQ((*rec)->state.Field("name")->Winner()->value, Value::String("An"));
  EXPECT_EQ((*rec)->history.size(), 1u);
}

TEST_F(StoreTest, HeadsStampMovesWithEveryWriteHereOrElsewhereAndOnlyThen) {
  auto stamp = [](Store& s) {
    auto r = s.HeadsStamp();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Store::Stamp{};
  };
  const Store::Stamp start = stamp(*store_);
  EXPECT_EQ(stamp(*store_), start);  // reading changes nothing
  ApplyAll(*store_, {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}))});
  const Store::Stamp after_own = stamp(*store_);
  EXPECT_NE(after_own, start);
  // A second connection to the same file (another process, say) writes.
  std::unique_ptr<Store> other = Open("a.db");
  ApplyAll(*other, {Draft(Make(1, 2, "r2", {{"$type", Value::String("birth"), {}}}))});
  EXPECT_NE(stamp(*store_), after_own);
}

// The listener's network thread reads the trust stamp through a
// connection of its own: the same stamp as the store's, moving when trust
// is written through another connection, and only then.
TEST_F(StoreTest, ATrustProbeReadsTheStoresTrustStampFromAConnectionOfItsOwn) {
  auto probe = TrustProbe::Open((dir_ / "a.db").string(), "P56");
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  const auto before = (*probe)->Stamp();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, *store_->TrustStamp("P56"));
  // Records of a commune are not trust.
  ApplyAll(*store_, {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}))});
  EXPECT_EQ(*(*probe)->Stamp(), *before);
  ASSERT_TRUE(store_->AddTrustObject("_cert-x#1", "certificate", "bytes").ok());
  const auto after = (*probe)->Stamp();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  EXPECT_EQ(*after, *store_->TrustStamp("P56"));
  EXPECT_FALSE(TrustProbe::Open((dir_ / "none.db").string(), "P56").ok());
}

TEST_F(StoreTest, ApplyingTheSameChangeTwiceChangesNothing) {
  auto e = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  ApplyAll(*store_, {e});
  auto before = store_->Digests();
  ApplyReport rep = ApplyAll(*store_, {e, e});
  EXPECT_EQ(rep.duplicates, 2u);
  EXPECT_EQ(rep.appended, 0u);
  auto after = store_->Digests();
  EXPECT_EQ(before->front().digest, after->front().digest);
  EXPECT_EQ((*store_->GetRecord("r1"))->history.size(), 1u);
}

TEST_F(StoreTest, ChangeAheadOfAGapIsHeldThenApplied) {
  auto e1 = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  auto e2 = Draft(Make(1, 2, "r1", {{"name", Value::String("An"), {}}}));
  auto e3 = Draft(Make(1, 3, "r1", {{"note", Value::String("x"), {}}}));
  ApplyReport rep = ApplyAll(*store_, {e3, e2});
  EXPECT_EQ(rep.held, 2u);
  EXPECT_FALSE(store_->GetRecord("r1")->has_value());
  EXPECT_FALSE(store_->Head({ReplicaId::ForTest(1), "18568"})->has_value());
  rep = ApplyAll(*store_, {e1});
  EXPECT_EQ(rep.appended, 1u);
  EXPECT_EQ(rep.released, 2u);
  EXPECT_EQ(rep.materialised, 3u);
  EXPECT_EQ((*store_->Head({ReplicaId::ForTest(1), "18568"}))->seq, 3u);
  EXPECT_EQ((*store_->GetRecord("r1"))->state.Field("note")->Winner()->value, Value::String("x"));
}

TEST_F(StoreTest, HeldEnvelopeTwiceIsADuplicateAndAForkWhileHeldIsEquivocation) {
  auto e1 = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  Change c2 = Make(1, 2, "r1", {{"name", Value::String("An"), {}}});
  auto e2 = Draft(c2);
  ApplyReport rep = ApplyAll(*store_, {e2, e2});
  EXPECT_EQ(rep.held, 1u);
  EXPECT_EQ(rep.duplicates, 1u);
  c2.records[0].ops[0].value = Value::String("Ân");
  auto fork = replication::MakeDraft(c2, e1.hash());
  rep = ApplyAll(*store_, {fork});
  EXPECT_EQ(rep.equivocations, 1u);
}

TEST_F(StoreTest, ChangeWaitsForTheChangesItsPredsName) {
  auto a = Draft(
      Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}, {"name", Value::String("An"), {}}}));
  auto b =
      Draft(Make(2, 1, "r1", {{"name", Value::String("Anh"), {Dot{ReplicaId::ForTest(1), 1, 1}}}}));
  ApplyReport rep = ApplyAll(*store_, {b});
  EXPECT_EQ(rep.appended, 1u);      // in the log ...
  EXPECT_EQ(rep.materialised, 0u);  // ... but not applied before its cause
  EXPECT_FALSE(store_->GetRecord("r1")->has_value());
  rep = ApplyAll(*store_, {a});
  EXPECT_EQ(rep.materialised, 2u);
  auto rec = *store_->GetRecord("r1");
  EXPECT_EQ(rec->state.Field("name")->entries().size(), 1u);
  EXPECT_EQ(rec->state.Field("name")->Winner()->value, Value::String("Anh"));
}

TEST_F(StoreTest, PendingChangeSurvivesReopenAndIsAppliedLater) {
  auto a = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  auto b = Draft(
      Make(2, 1, "r1", {{"$type", Value::String("birth"), {Dot{ReplicaId::ForTest(1), 1, 0}}}}));
  ApplyAll(*store_, {b});
  store_.reset();
  store_ = Open("a.db");
  ApplyReport rep = ApplyAll(*store_, {a});
  EXPECT_EQ(rep.materialised, 2u);
}

TEST_F(StoreTest, DifferentEnvelopeForTakenSeqIsEquivocationAndQuarantinesTheOrigin) {
  Change c = Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}});
  auto first = replication::MakeDraft(c, {});
  c.records[0].ops[0].value = Value::String("death");
  auto fork = replication::MakeDraft(c, {});
  ApplyAll(*store_, {first});
  auto before = store_->Digests();
  ApplyReport rep = ApplyAll(*store_, {fork});
  EXPECT_EQ(rep.equivocations, 1u);
  EXPECT_EQ(before->front().digest,
            store_->Digests()->front().digest);  // nothing of the fork merged
  // Both envelopes are kept as evidence.
  auto q = TestAccess::Db(*store_).Prepare("SELECT ours, theirs FROM equivocations");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Blob(0), first.bytes());
  EXPECT_EQ(q->Blob(1), fork.bytes());
  // Later changes of that origin are refused, and counted as refusals so
  // the sender's ACK and this node's status say so.
  Change next = Make(1, 2, "r1", {{"x", Value::String("y"), {}}});
  rep = ApplyAll(*store_, {replication::MakeDraft(next, first.hash())});
  EXPECT_EQ(rep.quarantined, 1u);
  EXPECT_EQ(rep.refused, 1u);
  EXPECT_EQ(rep.refusals["E_QUARANTINED"], 1u);
  EXPECT_EQ(rep.outcomes[0].disposition, Disposition::kQuarantined);
  auto refusals = store_->Refusals();
  ASSERT_TRUE(refusals.ok());
  ASSERT_EQ(refusals->size(), 1u);
  EXPECT_EQ((*refusals)[0].reason, "E_QUARANTINED");
  EXPECT_EQ((*refusals)[0].count, 1u);
  EXPECT_EQ((*refusals)[0].last_origin, ReplicaId::ForTest(1));
  EXPECT_EQ((*refusals)[0].last_seq, 2u);
  EXPECT_EQ((*store_->Head({ReplicaId::ForTest(1), "18568"}))->seq, 1u);  // nothing merged
}

TEST_F(StoreTest, HeldEnvelopesPerFeedAreBoundedAndTheRestRefusedAndCounted) {
  // Seq 1 is missing: everything after it waits. One more than the limit,
  // in two sessions (the second counts what the first left held).
  std::vector<replication::Envelope> feed;
  for (uint64_t seq = 1; seq <= kMaxHeldPerFeed + 2; ++seq)
    feed.push_back(
        Draft(Make(1, seq, "r" + std::to_string(seq), {{"$type", Value::String("birth"), {}}})));
  const std::vector<replication::Envelope> first(feed.begin() + 1,
                                                 feed.begin() + 1 + kMaxHeldPerFeed / 2);
  const std::vector<replication::Envelope> rest(feed.begin() + 1 + kMaxHeldPerFeed / 2, feed.end());
  EXPECT_EQ(ApplyAll(*store_, first).held, kMaxHeldPerFeed / 2);
  ApplyReport rep = ApplyAll(*store_, rest);
  EXPECT_EQ(rep.held, kMaxHeldPerFeed - kMaxHeldPerFeed / 2);
  EXPECT_EQ(rep.refused, 1u);
  EXPECT_EQ(rep.refusals["E_HELD_LIMIT"], 1u);
  EXPECT_EQ(rep.outcomes.back().disposition, Disposition::kRefused);
  EXPECT_EQ(rep.outcomes.back().reason, "E_HELD_LIMIT");
  EXPECT_EQ(*store_->HeldCount(), kMaxHeldPerFeed);  // nothing of the refused one was kept
  auto refusals = store_->Refusals();
  ASSERT_EQ(refusals->size(), 1u);
  EXPECT_EQ((*refusals)[0].reason, "E_HELD_LIMIT");
  EXPECT_EQ((*refusals)[0].last_seq, kMaxHeldPerFeed + 2);
  // Re-sending one already held is a duplicate, not a refusal.
  rep = ApplyAll(*store_, {feed[1]});
  EXPECT_EQ(rep.duplicates, 1u);
  EXPECT_EQ(rep.refused, 0u);
  // Another origin's feed has its own limit.
  Draft(Make(2, 1, "x1", {{"$type", Value::String("birth"), {}}}));  // never sent: a gap
  rep = ApplyAll(*store_, {Draft(Make(2, 2, "x2", {{"$type", Value::String("birth"), {}}}))});
  EXPECT_EQ(rep.held, 1u);
  EXPECT_EQ(rep.refused, 0u);
  // The gap fills: everything held joins the log, and the refused one is
  // welcome now that it is no longer ahead of a gap.
  rep = ApplyAll(*store_, {feed[0]});
  EXPECT_EQ(rep.released, kMaxHeldPerFeed);
  EXPECT_EQ((*store_->Head({ReplicaId::ForTest(1), "18568"}))->seq, kMaxHeldPerFeed + 1);
  rep = ApplyAll(*store_, {feed.back()});
  EXPECT_EQ(rep.appended, 1u);
}

TEST_F(StoreTest, HeldBytesPerFeedAreBoundedAndReleasedOnesMakeRoomAgain) {
  std::vector<replication::Envelope> feed;
  for (uint64_t seq = 1; seq <= 6; ++seq)
    feed.push_back(Draft(Make(1, seq, "r" + std::to_string(seq),
                              {{"$type", Value::String("birth"), {}},
                               {"note", Value::String(std::string(1000, 'x')), {}}})));
  StoreOptions o;
  // Room for two of these envelopes, not three.
  o.max_held_bytes_per_feed = feed[1].bytes().size() + feed[2].bytes().size() + 10;
  auto s = Open("bytes.db", o);
  ApplyReport rep = ApplyAll(*s, {feed[1], feed[2], feed[3]});
  EXPECT_EQ(rep.held, 2u);
  EXPECT_EQ(rep.refusals["E_HELD_LIMIT"], 1u);
  EXPECT_EQ(*s->HeldCount(), 2u);
  // The gap fills and the held ones are released: the next gap has room.
  rep = ApplyAll(*s, {feed[0]});
  EXPECT_EQ(rep.released, 2u);
  rep = ApplyAll(*s, {feed[4], feed[5]});
  EXPECT_EQ(rep.held, 2u);
  EXPECT_EQ(rep.refused, 0u);
}

TEST_F(StoreTest, RefusalsThatNeverReachedApplyAreCountedWithoutAnOrigin) {
  ASSERT_TRUE(store_->CountRefusals("E_MALFORMED", 0).ok());
  EXPECT_TRUE(store_->Refusals()->empty());  // nothing to count: no row
  ASSERT_TRUE(store_->CountRefusals("E_MALFORMED", 2).ok());
  ASSERT_TRUE(store_->CountRefusals("E_MALFORMED", 3).ok());
  auto refusals = store_->Refusals();
  ASSERT_TRUE(refusals.ok());
  ASSERT_EQ(refusals->size(), 1u);
  EXPECT_EQ((*refusals)[0].reason, "E_MALFORMED");
  EXPECT_EQ((*refusals)[0].count, 5u);
  EXPECT_EQ((*refusals)[0].last_origin, ReplicaId{});
  EXPECT_EQ((*refusals)[0].last_scope, "");
}

TEST_F(StoreTest, UpgradeDropsPeerHeadSetsOverTheBoundAndKeepsTheOthers) {
  // A version-5 store where one peer named a head per feed forever.
  auto& db = TestAccess::Db(*store_);
  ASSERT_TRUE(db.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < "
                      "5000) INSERT INTO peer_heads(peer, origin, scope, seq) "
                      "SELECT x'aa', randomblob(32), '18568', i FROM n; "
                      "INSERT INTO peer_heads VALUES(x'bb', randomblob(32), '18568', 7); "
                      "DROP INDEX records_scope; DROP INDEX feeds_scope; "
                      "DROP TABLE scope_counts; DROP INDEX records_stats_odd; "
                      "DROP INDEX records_invalid; ALTER TABLE records DROP COLUMN invalid; "
                      "ALTER TABLE records DROP COLUMN invalid_field; "
                      "ALTER TABLE records DROP COLUMN invalid_history; "
                      "DROP TABLE person_index; DROP TABLE person_conflicts; DROP TABLE officers; "
                      "DROP TABLE receipts; DROP TABLE hub_rollbacks; "
                      "DROP TABLE recon_leaves; DROP TABLE stats_totals; "
                      "ALTER TABLE records DROP COLUMN fine_vnd; "
                      "ALTER TABLE records DROP COLUMN fine_paid_vnd; "
                      "DROP INDEX records_event_date; DROP INDEX records_duplicate_key; "
                      "ALTER TABLE records DROP COLUMN duplicate_key; "
                      "PRAGMA user_version = 5;")
                  .ok());
  store_.reset();
  store_ = Open("a.db");
  auto q = TestAccess::Db(*store_).Prepare("SELECT peer, count(*) FROM peer_heads GROUP BY peer");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Blob(0), "\xbb");
  EXPECT_EQ(q->Int(1), 1);
  EXPECT_FALSE(*q->Step());
}

TEST_F(StoreTest, PrevThatDoesNotChainIsEquivocation) {
  ApplyAll(*store_, {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}))});
  auto bad = replication::MakeDraft(Make(1, 2, "r1", {{"x", Value::String("y"), {}}}),
                                    replication::Blake2b256("other"));
  ApplyReport rep = ApplyAll(*store_, {bad});
  EXPECT_EQ(rep.equivocations, 1u);
  EXPECT_EQ(rep.appended, 0u);
}

class FailingOpener final : public EnvelopeOpener {
 public:
  bool CanRead(std::string_view) const override { return true; }
  Status Open(const replication::Envelope&, crdt::Change*) const override {
    return Status::Corruption("injected");
  }
};

TEST_F(StoreTest, AFailedBatchLeavesNothingBehind) {
  auto e1 = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  auto e2 = Draft(Make(1, 2, "r2", {{"$type", Value::String("birth"), {}}}));
  std::vector<Store::Incoming> batch{{e1, std::nullopt}, {e2, std::nullopt}};
  {
    auto session = store_->BeginSession(opener_, ApplyOptions{.allow_drafts = true});
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE((*session)->Apply(batch).ok());
    // Dropped before Commit: rolled back.
  }
  EXPECT_FALSE(store_->Head({ReplicaId::ForTest(1), "18568"})->has_value());
  EXPECT_TRUE(store_->Digests()->empty());
  // The same batch then applies cleanly.
  ApplyReport rep = ApplyAll(*store_, {e1, e2});
  EXPECT_EQ(rep.materialised, 2u);
}

TEST_F(StoreTest, RetryingTheSameBatchAfterAFailureLosesNothing) {
  Change c1 =
      Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}, {"name", Value::String("An"), {}}});
  auto e1 = Draft(c1);
  std::vector<Store::Incoming> batch{{e1, c1}};
  {
    auto session = store_->BeginSession(opener_, ApplyOptions{.allow_drafts = true});
    ASSERT_TRUE((*session)->Apply(batch).ok());
  }  // rolled back, as if the disk had failed
  ASSERT_TRUE(store_->Apply(batch, opener_, ApplyOptions{.allow_drafts = true}).ok());
  auto rec = store_->GetRecord("r1");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->state.Field("name")->Winner()->value, Value::String("An"));
}

TEST_F(StoreTest, AnEnvelopeThatWillNotOpenIsRefusedAloneAndDoesNotWedgeItsFeed) {
  auto good_other = Draft(Make(2, 1, "r2", {{"$type", Value::String("death"), {}}}));
  Change bad = Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}});
  bad.records[0].ops[0].field = std::string(300, 'f');  // over the field-name limit
  replication::Envelope poison = replication::MakeDraft(bad, {});
  ApplyReport rep = ApplyAll(*store_, {poison, good_other});
  EXPECT_EQ(rep.refused, 1u);
  EXPECT_EQ(rep.outcomes[0].disposition, Disposition::kRefused);
  EXPECT_EQ(rep.refusals["E_FRAME_MALFORMED"], 1u);
  EXPECT_EQ(rep.appended, 1u);
  EXPECT_TRUE(store_->GetRecord("r2")->has_value());
  // The feed is still open at seq 1 for a good change.
  rep = ApplyAll(*store_, {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}))});
  EXPECT_EQ(rep.appended, 1u);
}

TEST_F(StoreTest, StoredChangeThatLaterFailsToOpenBlocksOnlyItsFeed) {
  // Stored unread (no key), then the key "arrives" but the body is bad.
  class Switch final : public EnvelopeOpener {
   public:
    bool readable = false;
    bool CanRead(std::string_view) const override { return readable; }
    Status Open(const replication::Envelope& e, crdt::Change* c) const override {
      if (e.header().origin == ReplicaId::ForTest(1))
        return Status::Corruption("bad").WithReason("E_DECRYPT");
      return replication::OpenDraft(e, replication::kDefaultLimits, c);
    }
  } opener;
  std::vector<Store::Incoming> batch{
      {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}})), {}},
      {Draft(Make(2, 1, "r2", {{"$type", Value::String("birth"), {}}})), {}}};
  ASSERT_TRUE(store_->Apply(batch, opener, ApplyOptions{.allow_drafts = true}).ok());
  EXPECT_FALSE(store_->GetRecord("r2")->has_value());  // unread
  opener.readable = true;
  std::vector<Store::Incoming> next{
      {Draft(Make(2, 2, "r3", {{"$type", Value::String("birth"), {}}})), {}}};
  auto rep = store_->Apply(next, opener, ApplyOptions{.allow_drafts = true});
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->blocked_feeds, 1u);
  EXPECT_TRUE(store_->GetRecord("r2")->has_value());
  EXPECT_TRUE(store_->GetRecord("r3")->has_value());
  EXPECT_FALSE(store_->GetRecord("r1")->has_value());
  auto q = TestAccess::Db(*store_).Prepare("SELECT blocked FROM feeds WHERE blocked IS NOT NULL");
  ASSERT_TRUE(*q->Step());
  EXPECT_NE(q->Text(0).find("E_DECRYPT"), std::string_view::npos);
}

TEST_F(StoreTest, RefusesDraftsFromElsewhereFutureStampsAndBadChainStarts) {
  auto e = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  std::vector<Store::Incoming> batch{{e, std::nullopt}};
  auto r = store_->Apply(batch, opener_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->refusals["E_UNSIGNED_DRAFT"], 1u);

  ManualClock clock(1'751'328'000'000);
  StoreOptions o;
  o.clock = &clock;
  o.max_clock_ahead_ms = 60'000;
  auto s = Open("clock.db", o);
  Change future =
      Make(3, 1, "r9", {{"$type", Value::String("birth"), {}}}, 1'751'328'000'000 + 3'600'000);
  ApplyReport rep = ApplyAll(*s, {replication::MakeDraft(future, {})});
  EXPECT_EQ(rep.refusals["E_CLOCK_AHEAD"], 1u);
  EXPECT_EQ(*s->LastHlc(), Hlc());  // the stored clock was not dragged ahead
  clock.Advance(3'600'000);         // later, the same change is welcome
  rep = ApplyAll(*s, {replication::MakeDraft(future, {})});
  EXPECT_EQ(rep.appended, 1u);

  Change first = Make(4, 1, "r8", {{"$type", Value::String("birth"), {}}});
  rep = ApplyAll(*store_, {replication::MakeDraft(first, replication::Blake2b256("x"))});
  EXPECT_EQ(rep.refusals["E_CHAIN_START"], 1u);
  rep =
      ApplyAll(*store_, {replication::MakeDraft(first, {})});  // and the origin is not quarantined
  EXPECT_EQ(rep.appended, 1u);
}

TEST_F(StoreTest, AChangeAppliedByAnotherProcessUnblocksItsDependents) {
  auto a = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  auto b =
      Draft(Make(2, 1, "r1", {{"name", Value::String("x"), {Dot{ReplicaId::ForTest(1), 1, 0}}}}));
  ApplyAll(*store_, {b});     // waits for a
  auto other = Open("a.db");  // a second handle on the same file, as another process
  ApplyAll(*other, {a});
  auto rec = other->GetRecord("r1");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_NE((*rec)->state.Field("name"), nullptr);
}

TEST_F(StoreTest, SessionReadsItsOwnWritesAndCheckpointsWithoutCommitting) {
  auto session = store_->BeginSession(opener_, ApplyOptions{.allow_drafts = true});
  ASSERT_TRUE(session.ok());
  std::vector<Store::Incoming> batch{
      {Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}})), {}}};
  ASSERT_TRUE((*session)->Apply(batch).ok());
  ASSERT_TRUE((*session)->Checkpoint().ok());
  auto seen = (*session)->GetRecord("18568", "r1");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->state.Type(), "birth");
  ASSERT_TRUE((*session)->Commit().ok());
  EXPECT_TRUE(store_->GetRecord("r1")->has_value());
}

TEST_F(StoreTest, ConcurrentEditsAreListedAsConflictsUntilResolved) {
  auto a = Draft(
      Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}, {"name", Value::String("An"), {}}}));
  Dot seen{ReplicaId::ForTest(1), 1, 1};
  auto b = Draft(Make(2, 1, "r1", {{"name", Value::String("Anh"), {seen}}}));
  auto c = Draft(Make(3, 1, "r1", {{"name", Value::String("Ánh"), {seen}}}));
  ApplyAll(*store_, {a, b, c});
  auto conflicts = store_->Conflicts();
  ASSERT_TRUE(conflicts.ok());
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].field, "name");
  EXPECT_EQ((*conflicts)[0].values.entries().size(), 2u);
  auto resolve =
      Draft(Make(1, 2, "r1",
                 {{"name",
                   Value::String("Anh"),
                   {Dot{ReplicaId::ForTest(2), 1, 0}, Dot{ReplicaId::ForTest(3), 1, 0}}}}));
  ApplyAll(*store_, {resolve});
  EXPECT_TRUE(store_->Conflicts()->empty());
}

TEST_F(StoreTest, LatestPolicyFieldsAreNotListedAsConflicts) {
  StoreOptions options;
  options.adjudicated = [](std::string_view, std::string_view field) { return field != "notes"; };
  auto s = Open("b.db", options);
  auto a = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  auto b = Draft(Make(2, 1, "r1", {{"notes", Value::String("x"), {}}}));
  auto c = Draft(Make(3, 1, "r1", {{"notes", Value::String("y"), {}}}));
  ApplyAll(*s, {a, b, c});
  EXPECT_TRUE(s->Conflicts()->empty());
  EXPECT_TRUE((*s->GetRecord("r1"))->state.Field("notes")->InConflict());  // kept, not flagged
}

TEST_F(StoreTest, FirstFreeNumberWalksTakenIdsInOneQueryAndSkipsOtherShapes) {
  // Register numbering steps over every id a record holds, valid or not
  // (numbering.cc): entries 1-3 and 5 are taken; "…0000041" and "…-00004"
  // are ids of other shapes inside the range, and 4 stays free.
  std::vector<replication::Envelope> batch;
  uint64_t seq = 0;
  for (const char* id : {"18568-KS-2026-000001", "18568-KS-2026-000002", "18568-KS-2026-000003",
                         "18568-KS-2026-0000041", "18568-KS-2026--00004", "18568-KS-2026-000005",
                         "18568-KT-2026-000004"})
    batch.push_back(Draft(Make(1, ++seq, id, {{"$type", Value::String("birth"), {}}})));
  ApplyAll(*store_, batch);
  const std::string prefix = "18568-KS-2026-";
  EXPECT_EQ(*store_->FirstFreeNumber("18568", prefix, 1, 999'999), 4);
  EXPECT_EQ(*store_->FirstFreeNumber("18568", prefix, 4, 999'999), 4);
  EXPECT_EQ(*store_->FirstFreeNumber("18568", prefix, 5, 999'999), 6);
  EXPECT_EQ(*store_->FirstFreeNumber("18568", prefix, 1, 3), 4);        // all taken: to + 1
  EXPECT_EQ(*store_->FirstFreeNumber("22333", prefix, 1, 999'999), 1);  // another scope
}

TEST_F(StoreTest, SecondCreationOfTheSameIdIsFlagged) {
  auto a = Draft(Make(1, 1, "18568-KS-2025-000001", {{"$type", Value::String("birth"), {}}}));
  auto b = Draft(Make(2, 1, "18568-KS-2025-000001", {{"$type", Value::String("birth"), {}}}));
  ApplyAll(*store_, {a, b});
  auto conflicts = store_->Conflicts();
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ((*conflicts)[0].field, "$type");
}

TEST_F(StoreTest, RecordsAreKeyedByScopeWhateverTheArrivalOrder) {
  auto mine = Draft(Make(1, 1, "r1", {{"$type", Value::String("birth"), {}}}));
  Change theirs = Make(2, 1, "r1", {{"$type", Value::String("death"), {}}});
  theirs.scope = "22333";
  auto other = Draft(theirs);
  auto s1 = Open("o1.db");
  auto s2 = Open("o2.db");
  ApplyAll(*s1, {mine});
  ApplyAll(*s1, {other});
  ApplyAll(*s2, {other});
  ApplyAll(*s2, {mine});
  EXPECT_EQ(s1->Digests()->size(), 2u);
  for (const char* scope : {"18568", "22333"}) {
    EXPECT_EQ(s1->Digests(scope)->front().digest, s2->Digests(scope)->front().digest);
  }
  EXPECT_EQ((*s1->GetRecord("r1", "22333"))->state.Type(), "death");
  auto ambiguous = s1->GetRecord("r1");
  EXPECT_EQ(ambiguous.status().reason(), "E_AMBIGUOUS_ID");
  EXPECT_TRUE(s1->Conflicts()->empty());
}

TEST_F(StoreTest, StoreMatchesTheCrdtModelForRandomHistoriesInAnyOrder) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    crdt::sim::World w(3);
    Random rng(seed);
    std::vector<crdt::sim::Step> script(60);
    for (auto& st : script) {
      st = {static_cast<int>(rng.Uniform(7)), static_cast<int>(rng.Uniform(3)),
            static_cast<int>(rng.Uniform(3)), static_cast<int>(rng.Uniform(3)),
            static_cast<int>(rng.Uniform(4)), static_cast<int>(rng.Uniform(3)),
            static_cast<int>(rng.Uniform(2))};
    }
    w.Run(script);
    w.SyncAll();
    std::vector<replication::Envelope> envs;
    prev_.clear();
    for (const auto& m : w.changes()) envs.push_back(Draft(m.change));
    for (size_t i = envs.size(); i > 1; --i) std::swap(envs[i - 1], envs[rng.Uniform(i)]);
    auto s = Open("model-" + std::to_string(seed) + ".db");
    for (size_t i = 0; i < envs.size(); i += 7) {
      std::vector<replication::Envelope> part(
          envs.begin() + static_cast<long>(i),
          envs.begin() + static_cast<long>(std::min(envs.size(), i + 7)));
      ApplyAll(*s, part);
    }
    const crdt::ScopeState& model = w.state(0);
    size_t conflicts = 0;
    for (const auto& [id, rec] : model.records()) {
      auto stored = s->GetRecord(id);
      ASSERT_TRUE(stored.ok() && stored->has_value()) << "seed " << seed << " record " << id;
      EXPECT_EQ((*stored)->state, rec) << "seed " << seed << " record " << id;
      conflicts += rec.ConflictedFields().size() +
                   (rec.DuplicateCreation() && !rec.Field("$type")->InConflict());
    }
    EXPECT_EQ(s->Conflicts()->size(), conflicts) << "seed " << seed;
  }
}

TEST_F(StoreTest, DigestIsIndependentOfArrivalOrderAndSeesEveryDifference) {
  std::vector<replication::Envelope> envs;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    envs.push_back(
        Draft(Make(1, seq, "r" + std::to_string(seq), {{"$type", Value::String("birth"), {}}})));
  }
  auto other = Draft(Make(2, 1, "r9", {{"$type", Value::String("death"), {}}}));
  envs.push_back(other);
  auto s1 = Open("d1.db");
  auto s2 = Open("d2.db");
  ApplyAll(*s1, envs);
  std::vector<replication::Envelope> reversed(envs.rbegin(), envs.rend());
  ApplyAll(*s2, reversed);
  ASSERT_EQ(s1->Digests()->size(), 1u);
  EXPECT_EQ(s1->Digests()->front().digest, s2->Digests()->front().digest);
  EXPECT_EQ(s1->Digests()->front().records, 6u);
  // One more op anywhere changes it.
  ApplyAll(*s2, {Draft(Make(2, 2, "r9", {{"note", Value::String("x"), {}}}))});
  EXPECT_NE(s1->Digests()->front().digest, s2->Digests()->front().digest);
}

// Opens signed clear bodies (and drafts): enough to store a signed feed.
class ClearOpener final : public EnvelopeOpener {
 public:
  bool CanRead(std::string_view) const override { return true; }
  Status Open(const replication::Envelope& e, crdt::Change* change) const override {
    if (e.is_draft()) return replication::OpenDraft(e, replication::kDefaultLimits, change);
    return replication::OpenSealed(e, nullptr, replication::kDefaultLimits, change);
  }
};

TEST_F(StoreTest, EnvelopeRunsAreReadAsStoredUpToTheLimitsAndEndAtTheHeadOrADraft) {
  const replication::SigningKey key = replication::SigningKey::Generate();
  const ReplicaId origin{key.public_key()};
  std::vector<replication::Envelope> feed;
  replication::Hash prev{};
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    Change c = Make(1, seq, "r" + std::to_string(seq), {{"$type", Value::String("note"), {}}});
    c.origin = origin;
    replication::EnvelopeHeader h;
    h.origin = origin;
    h.scope = c.scope;
    h.seq = seq;
    h.prev = prev;
    h.hlc = c.hlc;
    feed.push_back(replication::SealBody(h, replication::EncodeChangeBody(c), nullptr, 0, key));
    prev = feed.back().hash();
  }
  Change last = Make(1, 6, "r6", {{"$type", Value::String("note"), {}}});
  last.origin = origin;
  feed.push_back(replication::MakeDraft(last, prev));  // a draft never leaves
  std::vector<Store::Incoming> batch;
  for (const auto& e : feed) batch.push_back({e, std::nullopt});
  ClearOpener opener;
  auto applied = store_->Apply(batch, opener, ApplyOptions{.allow_drafts = true});
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_EQ(applied->appended, 6u);

  const FeedKey fk{origin, "18568"};
  auto run = [&](uint64_t from, size_t count, size_t bytes, bool first) {
    auto r = store_->ReadEnvelopeRun(fk, from, count, bytes, first);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Store::EnvelopeRun{};
  };
  // Everything up to the draft, byte for byte as stored; the draft ends it.
  Store::EnvelopeRun all = run(1, 100, SIZE_MAX, true);
  ASSERT_EQ(all.envelopes.size(), 5u);
  EXPECT_TRUE(all.end);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(all.envelopes[i], feed[i].bytes());
  // A count limit: not the end.
  Store::EnvelopeRun two = run(2, 2, SIZE_MAX, true);
  ASSERT_EQ(two.envelopes.size(), 2u);
  EXPECT_EQ(two.envelopes[0], feed[1].bytes());
  EXPECT_FALSE(two.end);
  // A byte limit: the first always comes when asked, then nothing over it.
  const size_t one = feed[0].bytes().size();
  EXPECT_EQ(run(1, 100, one + 1, false).envelopes.size(), 1u);
  EXPECT_EQ(run(1, 100, 0, true).envelopes.size(), 1u);
  Store::EnvelopeRun none = run(1, 100, 0, false);
  EXPECT_TRUE(none.envelopes.empty());
  EXPECT_FALSE(none.end);
  // From the draft on, or past the head, or for an unknown feed: the end.
  EXPECT_TRUE(run(6, 100, SIZE_MAX, true).end);
  EXPECT_TRUE(run(7, 100, SIZE_MAX, true).envelopes.empty());
  EXPECT_TRUE(run(7, 100, SIZE_MAX, true).end);
  auto unknown = store_->ReadEnvelopeRun({ReplicaId::ForTest(9), "18568"}, 1, 100, SIZE_MAX, true);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->end && unknown->envelopes.empty());
}

// A serving hub's WAL is checkpointed by a thread of its own while the
// writer goes on committing; what was committed stays whole.
TEST_F(StoreTest, HubCheckpointsTheWalOnAThreadOfItsOwn) {
  EXPECT_FALSE(store_->checkpoints().has_value());
  ASSERT_TRUE(store_->UseHubSettings(/*checkpoint_pages=*/8).ok());
  const std::filesystem::path db = dir_ / "a.db";
  const auto db_size_before = std::filesystem::file_size(db);
  const std::string big(12'000, 'x');  // about one 16 KiB page per commit, and its indexes
  constexpr int kCommits = 60;
  const std::filesystem::path wal = dir_ / "a.db-wal";
  // The store's creation left its schema in the WAL: start from an empty one.
  ASSERT_TRUE(TestAccess::Db(*store_).Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  uintmax_t wal_peak = 0;  // after each commit (journal_size_limit cuts it back)
  for (int i = 1; i <= kCommits; ++i) {
    ApplyAll(*store_, {Draft(Make(1, i, "r" + std::to_string(i),
                                  {{"$type", Value::String("birth"), {}},
                                   {"note", Value::String(big + std::to_string(i)), {}}}))});
    wal_peak = std::max(wal_peak, std::filesystem::file_size(wal));
  }
  // The thread runs on its own time: wait for it.
  for (int i = 0; i < 500 && store_->checkpoints()->background == 0; ++i) usleep(10'000);
  const auto counts = *store_->checkpoints();
  EXPECT_GE(counts.background, 1u);
  EXPECT_GE(counts.whole, 1u);
  EXPECT_EQ(counts.failed, 0u);
  // Pages went back into the database file (under WAL nothing else writes it).
  EXPECT_GT(std::filesystem::file_size(db), db_size_before + 20 * 16384);
  // The WAL stayed bounded: at 4 times the threshold (32 pages) a commit
  // waits for the thread's checkpoint and checkpoints itself, and the next
  // one starts the WAL over; so it never held more than that and one
  // commit's pages (fewer than 16 here), each frame a 16 KiB page and its
  // 24-byte header (without the checkpointer: 15.8 MB at the end).
  EXPECT_LE(wal_peak, 32u + (4u * 8u + 16u) * (16384u + 24u));
  store_.reset();  // stops the thread before the connection closes
  store_ = Open("a.db");
  for (int i = 1; i <= kCommits; ++i) {
    auto rec = store_->GetRecord("r" + std::to_string(i));
    ASSERT_TRUE(rec.ok() && rec->has_value()) << i;
    EXPECT_EQ((*rec)->state.Field("note")->Winner()->value, Value::String(big + std::to_string(i)));
  }
}

}  // namespace
}  // namespace tuphap::store
