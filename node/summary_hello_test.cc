// The summary form of HELLO (protocol version 2, docs/protocol.md): two real
// nodes holding many feeds announce them summarised, expand only the
// buckets that differ, and converge exactly as after a full HELLO. The
// threshold is lowered so a few dozen feeds (a hub's record in each of
// province 42's 69 communes) take the path a hub with thousands takes.
#include <gtest/gtest.h>

#include <deque>

#include "node/domain/reference_data.h"
#include "node/sync.h"
#include "node/test_nodes.h"
#include "replication/protocol.h"

namespace tuphap::node {
namespace {

using replication::Decode;
using replication::Encode;

// Frames between the two sessions until neither has anything to say.
struct Exchange {
  std::vector<std::string> to_listener, to_dialer;  // every frame, in order
  Status dialer_status, listener_status;
};
Exchange RunSessions(SyncSession& dialer, SyncSession& listener) {
  Exchange x;
  auto hello = dialer.Start();
  EXPECT_TRUE(hello.ok()) << hello.status().ToString();
  std::deque<std::string> to_l{*hello}, to_d;
  x.to_listener.push_back(*hello);
  for (int rounds = 0; (!to_l.empty() || !to_d.empty()) && rounds < 100000; ++rounds) {
    std::vector<std::string> out;
    if (!to_l.empty()) {
      Status s = listener.OnFrame(to_l.front(), &out);
      to_l.pop_front();
      if (!s.ok()) x.listener_status = s;
      for (auto& f : out) {
        x.to_dialer.push_back(f);
        to_d.push_back(std::move(f));
      }
      out.clear();
    }
    if (!to_d.empty()) {
      Status s = dialer.OnFrame(to_d.front(), &out);
      to_d.pop_front();
      if (!s.ok()) x.dialer_status = s;
      for (auto& f : out) {
        x.to_listener.push_back(f);
        to_l.push_back(std::move(f));
      }
    }
  }
  return x;
}

size_t CountType(const std::vector<std::string>& frames, replication::MessageType t) {
  size_t n = 0;
  for (const auto& f : frames) n += replication::PeekType(f) == static_cast<uint64_t>(t);
  return n;
}

class SummaryHelloTest : public NodesTest {
 protected:
  // Province 42's communes, from the reference data.
  static std::vector<std::string> Communes() {
    std::vector<std::string> out;
    for (const auto* c : domain::ReferenceData::Get().CommunesOf(kProvince)) out.push_back(c->code);
    return out;
  }
  void SetUp() override {
    NodesTest::SetUp();
    hub_ = Make("hub", Role::kHub);
    a_ = Make("a");
    b_ = Make("b", Role::kCommune, kOtherCommune);
    Enrol(*hub_, *a_);
    Enrol(*hub_, *b_);
    communes_ = Communes();
    ASSERT_GE(communes_.size(), 60u);
    for (const auto& c : communes_) ASSERT_TRUE(hub_->CreateRecord("", "note", c, {}).ok()) << c;
    ASSERT_TRUE(a_->CreateRecord("", "note", "", {}).ok());
    ASSERT_TRUE(b_->CreateRecord("", "note", "", {}).ok());
  }
  static std::map<store::FeedKey, std::pair<uint64_t, replication::Hash>> HeadsOf(Node& n) {
    std::map<store::FeedKey, std::pair<uint64_t, replication::Hash>> out;
    for (const auto& h : *n.store().Heads())
      if (h.seq > 0) out[h.feed] = {h.seq, h.hash};
    return out;
  }
  // `a` dials `b` (a commune relay: both offer everything), both sessions
  // summarising above `full_max` heads.
  Exchange Sync(size_t full_max = 16, size_t per_bucket = 2) {
    dialer_ = std::make_unique<SyncSession>(*a_, SyncSession::Side::kDialer, b_->box_key());
    listener_ = std::make_unique<SyncSession>(*b_, SyncSession::Side::kListener, a_->box_key());
    dialer_->SetSummaryPolicy(full_max, per_bucket);
    listener_->SetSummaryPolicy(full_max, per_bucket);
    return RunSessions(*dialer_, *listener_);
  }
  std::unique_ptr<Node> hub_, a_, b_;
  std::vector<std::string> communes_;
  std::unique_ptr<SyncSession> dialer_, listener_;
};

TEST_F(SummaryHelloTest, only_the_buckets_that_differ_are_expanded_and_both_converge) {
  Ingest(*a_, Envelopes(*hub_));
  Ingest(*b_, Envelopes(*hub_));
  Ingest(*a_, Envelopes(*b_, kOtherCommune));
  Ingest(*b_, Envelopes(*a_, kCommune));
  ASSERT_EQ(HeadsOf(*a_), HeadsOf(*b_));
  const size_t feeds = HeadsOf(*a_).size();
  ASSERT_GT(feeds, 60u);
  // Three communes' feeds move on at `a` only.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(hub_->CreateRecord("", "note", communes_[10 + i * 7], {}).ok());
  Ingest(*a_, Envelopes(*hub_));

  const Exchange x = Sync();
  ASSERT_TRUE(x.dialer_status.ok()) << x.dialer_status.ToString();
  ASSERT_TRUE(x.listener_status.ok()) << x.listener_status.ToString();
  // Both HELLOs summarised, each well under 64 KB.
  for (const auto* frame : {&x.to_listener.front(), &x.to_dialer.front()}) {
    auto hello = Decode(*frame);
    ASSERT_TRUE(hello.ok());
    const auto& h = std::get<replication::Hello>(*hello);
    ASSERT_TRUE(h.summary.has_value());
    EXPECT_EQ(h.version, 2u);
    EXPECT_TRUE(h.heads.empty());
    EXPECT_EQ(h.summary->buckets.size(), 64u);  // ~70 heads, 2 per bucket
    EXPECT_LT(frame->size(), 64u * 1024);
  }
  // HEADS carry the three buckets that differ, no more.
  const replication::HeadsSummary from_a =
      *std::get<replication::Hello>(*Decode(x.to_listener.front())).summary;
  const replication::HeadsSummary from_b =
      *std::get<replication::Hello>(*Decode(x.to_dialer.front())).summary;
  size_t differ = 0, in_differ_a = 0, in_differ_b = 0;
  for (size_t i = 0; i < from_a.buckets.size(); ++i) {
    if (from_a.buckets[i] == from_b.buckets[i]) continue;
    ++differ;
    in_differ_a += from_a.buckets[i].count;
    in_differ_b += from_b.buckets[i].count;
  }
  EXPECT_GE(differ, 1u);
  EXPECT_LE(differ, 3u);
  EXPECT_EQ(dialer_->expanded_heads_out(), in_differ_a);
  EXPECT_EQ(listener_->expanded_heads_out(), in_differ_b);
  EXPECT_EQ(dialer_->expanded_heads_in(), in_differ_b);
  EXPECT_LT(in_differ_a, feeds / 4);
  EXPECT_GE(CountType(x.to_listener, replication::MessageType::kHeads), 1u);
  // Then the session goes on as after a full HELLO: `b` is sent the three
  // envelopes it lacked, and both catch up with the same heads.
  EXPECT_TRUE(dialer_->caught_up());
  EXPECT_TRUE(listener_->caught_up());
  EXPECT_EQ(dialer_->stats().sent, 3u);
  EXPECT_EQ(listener_->stats().sent, 0u);
  EXPECT_EQ(HeadsOf(*a_), HeadsOf(*b_));
  // What each remembers of the other (peer_heads), as after a full HELLO.
  auto known = b_->PeerHeads(a_->sign_key());
  ASSERT_TRUE(known.ok());
  EXPECT_GT(known->size(), 60u);
}

TEST_F(SummaryHelloTest, when_everything_differs_every_head_is_expanded_and_both_converge) {
  Ingest(*a_, Envelopes(*hub_));  // `b` holds none of the hub's communes
  const Exchange x = Sync();
  ASSERT_TRUE(x.dialer_status.ok()) << x.dialer_status.ToString();
  ASSERT_TRUE(x.listener_status.ok()) << x.listener_status.ToString();
  EXPECT_TRUE(dialer_->caught_up());
  EXPECT_TRUE(listener_->caught_up());
  EXPECT_EQ(HeadsOf(*a_), HeadsOf(*b_));
  EXPECT_GT(dialer_->expanded_heads_out(), 40u);
}

TEST_F(SummaryHelloTest, a_node_with_few_feeds_sends_the_version_1_hello_and_is_answered_so) {
  Ingest(*a_, Envelopes(*hub_));
  const Exchange x = Sync(/*full_max=*/replication::kMaxFullHelloSent, 64);
  ASSERT_TRUE(x.dialer_status.ok()) << x.dialer_status.ToString();
  EXPECT_EQ(static_cast<uint8_t>(x.to_listener.front()[0]), 0x95);  // array(5): version 1
  EXPECT_EQ(static_cast<uint8_t>(x.to_dialer.front()[0]), 0x95);
  EXPECT_EQ(CountType(x.to_listener, replication::MessageType::kHeads), 0u);
  EXPECT_EQ(CountType(x.to_dialer, replication::MessageType::kHeads), 0u);
  EXPECT_EQ(HeadsOf(*a_), HeadsOf(*b_));
}

TEST_F(SummaryHelloTest, heads_out_of_bounds_or_out_of_order_end_the_session) {
  Ingest(*a_, Envelopes(*hub_));
  Ingest(*b_, Envelopes(*hub_));
  auto start = [&](SyncSession& listener, std::vector<std::string>* out) {
    SyncSession dialer(*a_, SyncSession::Side::kDialer, b_->box_key());
    dialer.SetSummaryPolicy(16, 2);
    auto hello = dialer.Start();
    ASSERT_TRUE(hello.ok());
    ASSERT_TRUE(listener.OnFrame(*hello, out).ok());
  };
  auto code_of = [](const std::vector<std::string>& out) {
    auto m = Decode(out.back());
    return m.ok() && std::holds_alternative<replication::ErrorMessage>(*m)
               ? std::get<replication::ErrorMessage>(*m).code
               : std::string("none");
  };
  const replication::FeedHeadWire own{crdt::ReplicaId{a_->sign_key()}, kCommune, 1, {}};
  {  // a BATCH before the last HEADS
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    std::vector<std::string> out;
    start(l, &out);
    EXPECT_FALSE(l.hello_done());
    EXPECT_FALSE(l.OnFrame(Encode(replication::Batch{1, {}}), &out).ok());
    EXPECT_EQ(code_of(out), "E_PROTOCOL_ORDER");
  }
  {  // a head of a bucket whose summaries agree, or more than a bucket counts
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    std::vector<std::string> out;
    start(l, &out);
    // `a` holds its own feed, `b` does not: that bucket differs; every
    // other feed of the hub agrees.
    const auto hub_head = (*hub_->store().Heads()).front();
    replication::FeedHeadWire agreed{hub_head.feed.origin, hub_head.feed.scope, hub_head.seq,
                                     hub_head.hash};
    if (replication::SummaryBucket(agreed.origin, agreed.scope, 6) !=
        replication::SummaryBucket(own.origin, own.scope, 6)) {
      EXPECT_FALSE(l.OnFrame(Encode(replication::HeadsMessage{false, {agreed}}), &out).ok());
      EXPECT_EQ(code_of(out), "E_PROTOCOL");
    }
  }
  {
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    std::vector<std::string> out;
    start(l, &out);
    std::vector<replication::FeedHeadWire> many(100, own);
    EXPECT_FALSE(l.OnFrame(Encode(replication::HeadsMessage{false, many}), &out).ok());
    EXPECT_EQ(code_of(out), "E_PROTOCOL");
  }
  {  // a last HEADS that does not match the summary it expands
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    std::vector<std::string> out;
    start(l, &out);
    EXPECT_FALSE(l.OnFrame(Encode(replication::HeadsMessage{true, {}}), &out).ok());
    EXPECT_EQ(code_of(out), "E_PROTOCOL");
  }
  {  // HEADS in a version-1 session
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    SyncSession dialer(*a_, SyncSession::Side::kDialer, b_->box_key());
    std::vector<std::string> out;
    ASSERT_TRUE(l.OnFrame(*dialer.Start(), &out).ok());
    EXPECT_FALSE(l.OnFrame(Encode(replication::HeadsMessage{true, {}}), &out).ok());
    EXPECT_EQ(code_of(out), "E_PROTOCOL_ORDER");
  }
  {  // a commune node's summary counting more than a version-1 HELLO may name
    SyncSession dialer(*a_, SyncSession::Side::kDialer, b_->box_key());
    dialer.SetSummaryPolicy(16, 2);
    auto hello = Decode(*dialer.Start());
    ASSERT_TRUE(hello.ok());
    auto& h = std::get<replication::Hello>(*hello);
    ASSERT_TRUE(h.summary.has_value());
    h.summary->buckets.front().count = replication::kMaxHelloHeads + 1;
    ASSERT_TRUE(Decode(Encode(h)).ok()) << "within what a hub's summary may count";
    SyncSession l(*b_, SyncSession::Side::kListener, a_->box_key());
    std::vector<std::string> out;
    EXPECT_FALSE(l.OnFrame(Encode(h), &out).ok());
    EXPECT_EQ(code_of(out), "E_PROTOCOL");
    EXPECT_FALSE(l.hello_done());
  }
  {  // a dialler answered in the other form
    SyncSession d(*a_, SyncSession::Side::kDialer, b_->box_key());
    ASSERT_TRUE(d.Start().ok());  // full (69 heads < 512)
    SyncSession summarising(*b_, SyncSession::Side::kDialer, a_->box_key());
    summarising.SetSummaryPolicy(16, 2);
    std::vector<std::string> out;
    EXPECT_FALSE(d.OnFrame(*summarising.Start(), &out).ok());  // b's summary HELLO
    EXPECT_EQ(code_of(out), "E_PROTOCOL_ORDER");
  }
}

}  // namespace
}  // namespace tuphap::node
