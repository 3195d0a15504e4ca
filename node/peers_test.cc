// What a node remembers of its peers (peer_heads), and trust re-read only
// when it changed: the bounds of docs/security.md on real nodes and stores.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <map>

#include "base/hex.h"
#include "node/store/test_access.h"
#include "node/sync.h"
#include "node/test_nodes.h"
#include "replication/hash.h"

namespace tuphap::node {
namespace {

using replication::FeedHeadWire;
using Source = Node::PeerHeadsSource;
using Heads = std::map<store::FeedKey, uint64_t>;

class PeersTest : public NodesTest {
 protected:
  static FeedHeadWire Head(const replication::PublicKey& origin, const std::string& scope,
                           uint64_t seq) {
    FeedHeadWire h;
    h.origin.bytes = origin;
    h.scope = scope;
    h.seq = seq;
    return h;
  }
  static store::FeedKey Feed(const replication::PublicKey& origin, const std::string& scope) {
    return store::FeedKey{crdt::ReplicaId{origin}, scope};
  }
  static Heads Known(Node& n, const replication::PublicKey& peer) {
    auto known = n.PeerHeads(peer);
    EXPECT_TRUE(known.ok()) << known.status().ToString();
    return known.ok() ? *known : Heads{};
  }
  static int64_t Rows(Node& n) {
    auto q = store::TestAccess::Db(n.store()).Prepare("SELECT count(*) FROM peer_heads");
    EXPECT_TRUE(q.ok() && *q->Step());
    return q->Int(0);
  }
  static replication::PublicKey Stranger(uint64_t i) {
    const replication::Hash h = replication::Blake2b256("stranger-" + std::to_string(i));
    replication::PublicKey k;
    std::copy(h.begin(), h.end(), k.begin());
    return k;
  }
  const std::string public_scope_ = replication::PublicScope(kProvince);
};

TEST_F(PeersTest, HelloReplacesWhatIsKnownAndOnlyFeedsThePeerMayHoldAreKept) {
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  auto b = Make("b", Role::kCommune, kOtherCommune);
  Enrol(*hub, *a);
  Enrol(*hub, *b);
  const replication::Certificate cert = *hub->trust()->CertFor(a->sign_key());
  const auto& A = a->sign_key();
  const auto& B = b->sign_key();
  const auto& H = hub->sign_key();
  ASSERT_TRUE(
      hub->SavePeerHeads(cert,
                         {Head(A, kCommune, 3), Head(H, public_scope_, 2), Head(H, kCommune, 1),
                          Head(B, kOtherCommune, 5),       // not offered to a
                          Head(A, kOtherCommune, 4),       // a does not write there
                          Head(B, kCommune, 4),            // nor b here
                          Head(Stranger(1), kCommune, 9),  // no certificate
                          Head(A, public_scope_, 7),       // a commune writes no public feed
                          Head(H, kCommune, 0)},           // holds nothing
                         Source::kHello)
          .ok());
  EXPECT_EQ(Known(*hub, A),
            (Heads{{Feed(A, kCommune), 3}, {Feed(H, public_scope_), 2}, {Feed(H, kCommune), 1}}));
  // A later HELLO is the truth: lower (a restored backup) and fewer feeds.
  ASSERT_TRUE(hub->SavePeerHeads(cert, {Head(A, kCommune, 2)}, Source::kHello).ok());
  EXPECT_EQ(Known(*hub, A), (Heads{{Feed(A, kCommune), 2}}));
  // An ACK only raises, and adds feeds that pass the same filter.
  ASSERT_TRUE(hub->SavePeerHeads(cert,
                                 {Head(A, kCommune, 1), Head(H, public_scope_, 4),
                                  Head(B, kOtherCommune, 9), Head(Stranger(2), kCommune, 9)},
                                 Source::kAck)
                  .ok());
  EXPECT_EQ(Known(*hub, A), (Heads{{Feed(A, kCommune), 2}, {Feed(H, public_scope_), 4}}));
  ASSERT_TRUE(hub->SavePeerHeads(cert, {Head(A, kCommune, 6)}, Source::kAck).ok());
  EXPECT_EQ(Known(*hub, A)[Feed(A, kCommune)], 6u);
  // Another peer's set is its own.
  const replication::Certificate cert_b = *hub->trust()->CertFor(B);
  ASSERT_TRUE(hub->SavePeerHeads(cert_b, {Head(B, kOtherCommune, 5)}, Source::kHello).ok());
  // A HELLO that names nothing: the peer holds nothing (any more).
  ASSERT_TRUE(hub->SavePeerHeads(cert, {}, Source::kHello).ok());
  EXPECT_TRUE(Known(*hub, A).empty());
  EXPECT_EQ(Known(*hub, B), (Heads{{Feed(B, kOtherCommune), 5}}));
}

TEST_F(PeersTest, HellosNamingThousandsOfHeadsStoreOnlyTheRealFeedsEveryTime) {
  // The attack: an enrolled commune names 20,000 heads per HELLO,
  // different ones each time. What is stored never grows.
  auto hub = Make("hub", Role::kHub);
  auto a = Make("a");
  Enrol(*hub, *a);
  const replication::Certificate cert = *hub->trust()->CertFor(a->sign_key());
  uint64_t next = 0;
  for (int hello = 0; hello < 40; ++hello) {
    std::vector<FeedHeadWire> heads{Head(a->sign_key(), kCommune, 10 + hello)};
    for (int i = 0; i < 20'000; ++i) heads.push_back(Head(Stranger(next++), kCommune, 1));
    ASSERT_TRUE(hub->SavePeerHeads(cert, heads, Source::kHello).ok());
    ASSERT_EQ(Rows(*hub), 1);
  }
  EXPECT_EQ(Known(*hub, a->sign_key()), (Heads{{Feed(a->sign_key(), kCommune), 49}}));
}

TEST_F(PeersTest, OverTheCapTheFeedsThisNodeHoldsWinAndAnAckAddsNothingMore) {
  NodeOptions o;
  o.max_peer_heads = 2;
  auto hub = Make("hub", Role::kHub, kCommune, o);
  auto a = Make("a");
  auto a2 = MakeSecondary("a2");
  Enrol(*hub, *a);
  Enrol(*hub, *a2);
  ASSERT_TRUE(a->CreateRecord("R1", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*a, kCommune));
  // The hub holds (a, commune) and its public feed, not (a2, commune) nor
  // (hub, commune).
  const auto& A = a->sign_key();
  const auto& A2 = a2->sign_key();
  const auto& H = hub->sign_key();
  ASSERT_TRUE(hub->store().Head(Feed(A, kCommune))->has_value());
  ASSERT_TRUE(hub->store().Head(Feed(H, public_scope_))->has_value());
  ASSERT_FALSE(hub->store().Head(Feed(H, kCommune))->has_value());
  const replication::Certificate cert = *hub->trust()->CertFor(A2);
  ASSERT_TRUE(hub->SavePeerHeads(cert,
                                 {Head(A2, kCommune, 3), Head(H, kCommune, 1), Head(A, kCommune, 1),
                                  Head(H, public_scope_, 5)},
                                 Source::kHello)
                  .ok());
  EXPECT_EQ(Known(*hub, A2), (Heads{{Feed(A, kCommune), 1}, {Feed(H, public_scope_), 5}}));
  // Under the cap, nothing is dropped; the set is replaced.
  ASSERT_TRUE(
      hub->SavePeerHeads(cert, {Head(A2, kCommune, 3), Head(H, kCommune, 1)}, Source::kHello).ok());
  EXPECT_EQ(Known(*hub, A2), (Heads{{Feed(A2, kCommune), 3}, {Feed(H, kCommune), 1}}));
  // At the cap, an ACK raises what is known and adds no new feed.
  ASSERT_TRUE(
      hub->SavePeerHeads(cert, {Head(H, public_scope_, 6), Head(A2, kCommune, 4)}, Source::kAck)
          .ok());
  EXPECT_EQ(Known(*hub, A2), (Heads{{Feed(A2, kCommune), 4}, {Feed(H, kCommune), 1}}));
}

TEST_F(PeersTest, TrustIsReloadedWhenAnotherProcessChangedItAndOnlyThen) {
  auto hub = Make("hub", Role::kHub);
  auto signer = Open("hub");  // `tuphap enroll sign` while `serve` runs
  auto c = Make("c");
  auto request = c->EnrollRequestFile("test");
  ASSERT_TRUE(request.ok());
  // Nothing changed since the node opened: no reload, the same trust.
  const uint64_t loads = hub->trust_loads();
  const Trust* before = hub->trust();
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), false);
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), false);
  EXPECT_EQ(hub->trust_loads(), loads);
  EXPECT_EQ(hub->trust(), before);

  ASSERT_TRUE(signer->EnrollSign(*request, 365).ok());
  EXPECT_EQ(hub->trust()->CertFor(c->sign_key()), nullptr);  // not read yet
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), true);
  EXPECT_NE(hub->trust()->CertFor(c->sign_key()), nullptr);
  EXPECT_EQ(hub->trust_loads(), loads + 1);
  const Trust* after = hub->trust();
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), false);
  EXPECT_EQ(hub->trust(), after);

  // Another process writes something that is not trust: still no reload.
  ASSERT_TRUE(signer->CreateRecord("R1", "note", kCommune, {}).ok());
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), false);
  EXPECT_EQ(hub->trust_loads(), loads + 1);

  // A revocation by the other process is seen at once.
  ASSERT_TRUE(signer->RevokeNode(ToHex(replication::AsBytes(c->sign_key())), "lost", {}).ok());
  EXPECT_FALSE(hub->trust()->IsRevoked(c->sign_key()));
  EXPECT_EQ(*hub->ReloadTrustIfChanged(), true);
  EXPECT_TRUE(hub->trust()->IsRevoked(c->sign_key()));
}

TEST_F(PeersTest, AListenerAcceptsANodeEnrolledByAnotherProcessAtOnce) {
  auto hub = Make("hub", Role::kHub);
  auto signer = Open("hub");
  auto c = Make("c");
  auto request = c->EnrollRequestFile("test");
  ASSERT_TRUE(request.ok());
  auto file = signer->EnrollSign(*request, 365);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(c->EnrollAccept(file->file).ok());
  SyncSession dialer(*c, SyncSession::Side::kDialer, hub->box_key());
  SyncSession listener(*hub, SyncSession::Side::kListener, c->box_key());
  auto hello = dialer.Start();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  std::vector<std::string> out;
  Status s = listener.OnFrame(*hello, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(listener.hello_done());
}

// `tuphap revoke` beside a running `serve` rotates the commune's key; the
// serve hands the new epoch to the commune (it streams the public feed from
// the store), and the commune seals its next changes with it. The serve's
// node must open them: before, it had not read the key another process
// wrote, stopped the commune's feed at E_NO_KEY, and never tried it again.
TEST_F(PeersTest, ChangesSealedUnderAKeyAnotherProcessRotatedAreApplied) {
  auto hub = Make("hub", Role::kHub);  // `serve`
  auto c = Make("c");
  auto lost = MakeSecondary("lost");
  Enrol(*hub, *c);
  Enrol(*hub, *lost);
  ASSERT_TRUE(c->CreateRecord("R1", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*c, kCommune));
  auto revoker = Open("hub");  // `tuphap revoke`, another process
  ASSERT_TRUE(revoker->RevokeNode(NodeIdText(lost->sign_key()), "lost", std::nullopt).ok());
  Ingest(*c, Envelopes(*hub, public_scope_));
  ASSERT_EQ(c->Security()->key_epochs.at(kCommune), 2u);
  ASSERT_TRUE(c->CreateRecord("R2", "note", "", {}).ok());  // sealed under epoch 2

  Ingest(*hub, Envelopes(*c, kCommune));
  auto r2 = hub->GetRecord("R2", kCommune);
  EXPECT_TRUE(r2.ok()) << r2.status().ToString();
  auto q = store::TestAccess::Db(hub->store())
               .Prepare("SELECT count(*) FROM feeds WHERE blocked IS NOT NULL");
  ASSERT_TRUE(q.ok() && *q->Step());
  EXPECT_EQ(q->Int(0), 0);
  auto digests = [](Node& n) {
    auto d = n.Digests(std::string_view(kCommune));
    EXPECT_TRUE(d.ok() && d->size() == 1);
    return d.ok() && d->size() == 1 ? d->front().digest : replication::Hash{};
  };
  EXPECT_EQ(digests(*hub), digests(*c));
}

TEST_F(PeersTest, AFeedStoppedForWantOfAKeyResumesOnceTheKeyIsHere) {
  // A store left with such a stopped feed (by a build before the fix, or a
  // key that came later by any path) resumes at the next ingest of a node
  // that holds the key, though the ingest brings nothing new.
  auto hub = Make("hub", Role::kHub);
  auto c = Make("c");
  auto lost = MakeSecondary("lost");
  Enrol(*hub, *c);
  Enrol(*hub, *lost);
  ASSERT_TRUE(c->CreateRecord("R1", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*c, kCommune));
  ASSERT_TRUE(hub->RevokeNode(NodeIdText(lost->sign_key()), "lost", std::nullopt).ok());
  Ingest(*c, Envelopes(*hub, public_scope_));
  ASSERT_TRUE(c->CreateRecord("R2", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*c, kCommune));
  ASSERT_TRUE(hub->GetRecord("R2", kCommune).ok());
  // Stop the feed as a node without the key would have.
  ASSERT_TRUE(store::TestAccess::Db(hub->store())
                  .Exec("UPDATE feeds SET applied_seq = applied_seq - 1, blocked = 'seq 3: "
                        "E_NO_KEY' WHERE scope = '18568' AND applied_seq = head_seq AND "
                        "head_seq > 1")
                  .ok());
  {
    auto stopped = store::TestAccess::Db(hub->store())
                       .Prepare("SELECT count(*) FROM feeds WHERE blocked IS NOT NULL");
    ASSERT_TRUE(stopped.ok() && *stopped->Step());
    ASSERT_EQ(stopped->Int(0), 1) << "the test did not stop the commune's feed";
  }
  hub.reset();
  hub = Open("hub");                      // `serve` started again
  Ingest(*hub, Envelopes(*c, kCommune));  // nothing new in it
  auto q = store::TestAccess::Db(hub->store())
               .Prepare(
                   "SELECT count(*) FROM feeds WHERE blocked IS NOT NULL OR "
                   "applied_seq < head_seq");
  ASSERT_TRUE(q.ok() && *q->Step());
  EXPECT_EQ(q->Int(0), 0);
}

// A node restored from an old backup writes again before it pulls: its new
// change takes a seq the hub already holds from its old history. When both
// heads are at that seq, neither side had anything to send and both said
// caught up; the fork went unseen and the two changes never met. Each side
// now sends its envelope at a head the peer holds with another hash, so the
// fork is recorded (found by the one-seed simulation, seeds 2137 and 8806).
TEST_F(PeersTest, AForkAtTheSameHeadSeqIsRecordedAndTheForkedCopyMayNotWriteAgain) {
  auto hub = Make("hub", Role::kHub);
  auto c = Make("c");
  Enrol(*hub, *c);
  ASSERT_TRUE(c->CreateRecord("R1", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*c, kCommune));
  c.reset();
  std::filesystem::copy(Dir("c"), Dir("c-backup"), std::filesystem::copy_options::recursive);
  c = Open("c");
  ASSERT_TRUE(c->CreateRecord("R2", "note", "", {}).ok());
  Ingest(*hub, Envelopes(*c, kCommune));  // the hub holds R2 at the head seq
  c.reset();
  auto restored = Open("c-backup");
  ASSERT_TRUE(restored->CreateRecord("R3", "note", "", {}).ok());  // the same seq
  auto mine = Envelopes(*restored, kCommune);
  auto theirs = Envelopes(*hub, kCommune);
  ASSERT_EQ(mine.size(), theirs.size());
  ASSERT_NE(mine.back().hash(), theirs.back().hash());

  SyncSession dialer(*restored, SyncSession::Side::kDialer, hub->box_key());
  SyncSession listener(*hub, SyncSession::Side::kListener, restored->box_key());
  auto hello = dialer.Start();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  std::deque<std::pair<bool, std::string>> wire{{true, *hello}};  // true: to the listener
  for (int i = 0; i < 100 && !wire.empty(); ++i) {
    auto [to_listener, frame] = std::move(wire.front());
    wire.pop_front();
    std::vector<std::string> out;
    (void)(to_listener ? listener : dialer).OnFrame(frame, &out);
    for (auto& o : out) wire.emplace_back(!to_listener, std::move(o));
  }
  for (Node* n : {hub.get(), restored.get()}) {
    auto s = n->Security();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ(s->equivocations.size(), 1u) << (n == hub.get() ? "at the hub" : "at the node");
    EXPECT_EQ(s->equivocations[0].seq, mine.back().header().seq);
  }
  // The copy that learnt of its own fork may not sign again, and says why
  // (it was an internal error).
  auto more = restored->CreateRecord("R4", "note", "", {});
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().reason(), "E_QUARANTINED") << more.status().ToString();
  EXPECT_NE(more.status().message().find("revokes this node"), std::string::npos)
      << more.status().ToString();
}

}  // namespace
}  // namespace tuphap::node
