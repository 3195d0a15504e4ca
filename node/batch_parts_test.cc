// A listener that others wait on ingests a peer's batch in parts
// (SyncSession::SetYield, Node::Ingest's yield, store::ApplyOptions::yield):
// each part is committed before the worker turns to anything else, and the
// batch is acknowledged once, after its last part, as if whole. Two real
// nodes, the sessions driven frame by frame.
#include <gtest/gtest.h>

#include <deque>

#include "node/sync.h"
#include "node/test_nodes.h"
#include "replication/protocol.h"

namespace tuphap::node {
namespace {

using replication::MessageType;

bool Is(const std::string& frame, MessageType t) {
  return replication::PeekType(frame) == static_cast<uint64_t>(t);
}

size_t Count(const std::vector<std::string>& frames, MessageType t) {
  size_t n = 0;
  for (const auto& f : frames) n += Is(f, t);
  return n;
}

class BatchPartsTest : public NodesTest {
 protected:
  void SetUp() override {
    NodesTest::SetUp();
    hub_ = Make("hub", Role::kHub);
    commune_ = Make("a");
    Enrol(*hub_, *commune_);
    for (int i = 0; i < kRecords; ++i)
      ASSERT_TRUE(commune_->CreateRecord("", "note", "", {}).ok()) << i;
  }
  // What the hub has committed of the commune's feed (no write session is
  // open between two parts, so this is what a crash would leave).
  uint64_t HubHead() {
    const store::FeedKey feed{crdt::ReplicaId{commune_->sign_key()}, kCommune};
    auto head = hub_->store().Head(feed);
    EXPECT_TRUE(head.ok());
    return head.ok() && *head ? (*head)->seq : 0;
  }
  static constexpr int kRecords = 400;
  std::unique_ptr<Node> hub_, commune_;
};

TEST_F(BatchPartsTest,
       a_batch_is_committed_part_by_part_and_acknowledged_once_after_its_last_part) {
  SyncSession dialer(*commune_, SyncSession::Side::kDialer, std::nullopt);
  SyncSession listener(*hub_, SyncSession::Side::kListener, std::nullopt);
  size_t asked = 0;
  listener.SetYield([&] {
    ++asked;
    return true;  // someone always waits: every part is its own
  });
  auto hello = dialer.Start();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  std::deque<std::string> to_listener{*hello}, to_dialer;
  size_t batches = 0, acks = 0, split = 0;
  for (int rounds = 0; (!to_listener.empty() || !to_dialer.empty()) && rounds < 10000; ++rounds) {
    std::vector<std::string> out;
    if (!to_listener.empty()) {
      const std::string frame = std::move(to_listener.front());
      to_listener.pop_front();
      const bool batch = Is(frame, MessageType::kBatch);
      batches += batch;
      uint64_t before = HubHead();
      ASSERT_TRUE(listener.OnFrame(frame, &out).ok());
      size_t parts = 1;
      while (listener.batch_in_hand()) {
        // Nothing is answered while the batch is in hand, and each part
        // is committed: the hub's head moves by one part.
        EXPECT_EQ(Count(out, MessageType::kAck), 0u);
        const uint64_t now = HubHead();
        EXPECT_EQ(now - before, store::kYieldEnvelopes);
        before = now;
        ASSERT_TRUE(listener.ContinueBatch(&out).ok());
        ++parts;
      }
      if (batch) {
        // The batch's one answer, after its last part, names the head of
        // all of it.
        ASSERT_EQ(Count(out, MessageType::kAck), 1u);
        for (const auto& f : out) {
          if (!Is(f, MessageType::kAck)) continue;
          auto msg = replication::Decode(f);
          ASSERT_TRUE(msg.ok());
          const auto& ack = std::get<replication::Ack>(*msg);
          EXPECT_EQ(ack.refused, 0u);
          bool named = false;
          for (const auto& h : ack.heads) {
            if (h.origin.bytes != commune_->sign_key() || h.scope != kCommune) continue;
            named = true;
            EXPECT_EQ(h.seq, HubHead());
          }
          EXPECT_TRUE(named);
        }
        acks += 1;
        split += parts > 1;
      }
      for (auto& f : out) to_dialer.push_back(std::move(f));
      out.clear();
    }
    if (!to_dialer.empty()) {
      ASSERT_TRUE(dialer.OnFrame(to_dialer.front(), &out).ok());
      to_dialer.pop_front();
      for (auto& f : out) to_listener.push_back(std::move(f));
    }
  }
  EXPECT_GT(batches, 0u);
  EXPECT_EQ(acks, batches);
  EXPECT_GT(split, 0u) << "no batch was large enough to be split";
  EXPECT_GT(asked, 0u);
  EXPECT_EQ(HubHead(), static_cast<uint64_t>(kRecords));
  EXPECT_EQ(listener.stats().received, static_cast<uint64_t>(kRecords));
  EXPECT_TRUE(dialer.caught_up());
  EXPECT_TRUE(listener.caught_up());
}

TEST_F(BatchPartsTest, the_next_frame_of_the_peer_finishes_the_batch_in_hand_first) {
  SyncSession dialer(*commune_, SyncSession::Side::kDialer, std::nullopt);
  SyncSession listener(*hub_, SyncSession::Side::kListener, std::nullopt);
  listener.SetYield([] { return true; });
  auto hello = dialer.Start();
  ASSERT_TRUE(hello.ok());
  std::vector<std::string> to_dialer, to_listener;
  ASSERT_TRUE(listener.OnFrame(*hello, &to_dialer).ok());
  for (const auto& f : to_dialer) ASSERT_TRUE(dialer.OnFrame(f, &to_listener).ok());
  std::vector<std::string> batches;
  for (const auto& f : to_listener)
    if (Is(f, MessageType::kBatch)) batches.push_back(f);
  ASSERT_GE(batches.size(), 2u);
  // The first batch is left in hand after its first part; the second
  // arrives (a transport that does not hold the connection): the first
  // is finished and answered before the second is looked at.
  std::vector<std::string> out;
  ASSERT_TRUE(listener.OnFrame(batches[0], &out).ok());
  ASSERT_TRUE(listener.batch_in_hand());
  EXPECT_TRUE(out.empty());
  listener.SetYield([] { return false; });
  ASSERT_TRUE(listener.OnFrame(batches[1], &out).ok());
  EXPECT_FALSE(listener.batch_in_hand());
  ASSERT_EQ(Count(out, MessageType::kAck), 2u);
  std::vector<uint64_t> acked;
  for (const auto& f : out) {
    auto msg = replication::Decode(f);
    if (msg.ok() && std::holds_alternative<replication::Ack>(*msg))
      acked.push_back(std::get<replication::Ack>(*msg).batch_no);
  }
  ASSERT_EQ(acked.size(), 2u);
  EXPECT_LT(acked[0], acked[1]);
}

// Node::Ingest with a yield: the public feed's envelopes are applied whole
// first, wherever they stand in the batch; the rest in parts of 64, what
// is left staying in the batch in its order for the next call.
TEST_F(BatchPartsTest, ingest_in_parts_applies_the_public_feed_first_and_leaves_the_rest_in_order) {
  const std::vector<replication::Envelope> ours = Envelopes(*commune_, kCommune);
  const std::vector<replication::Envelope> pub =
      Envelopes(*hub_, replication::PublicScope(kProvince));
  ASSERT_EQ(ours.size(), static_cast<size_t>(kRecords));
  ASSERT_FALSE(pub.empty());
  std::vector<store::Store::Incoming> batch;
  for (size_t i = 0; i < 100; ++i) batch.push_back({ours[i], std::nullopt});
  for (const auto& e : pub) batch.push_back({e, std::nullopt});  // the hub's own: duplicates
  for (size_t i = 100; i < ours.size(); ++i) batch.push_back({ours[i], std::nullopt});
  const std::function<bool()> always = [] { return true; };
  auto first = hub_->Ingest(batch, always);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->taken, pub.size() + store::kYieldEnvelopes);
  EXPECT_EQ(first->duplicates, pub.size());
  EXPECT_EQ(first->appended, store::kYieldEnvelopes);
  EXPECT_TRUE(first->outcomes.empty());
  EXPECT_EQ(HubHead(), store::kYieldEnvelopes);
  // Left: the commune's envelopes after the first part, in order, none of
  // the public feed.
  ASSERT_EQ(batch.size(), ours.size() - store::kYieldEnvelopes);
  for (size_t k = 0; k < batch.size(); ++k)
    ASSERT_EQ(batch[k].envelope.hash(), ours[store::kYieldEnvelopes + k].hash()) << k;
  EXPECT_GT(first->signatures_checked, 0u);
  size_t calls = 1;
  while (!batch.empty()) {
    auto part = hub_->Ingest(batch, always);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    EXPECT_EQ(part->appended, std::min<size_t>(store::kYieldEnvelopes, part->taken));
    // Checked with the first part: not again.
    EXPECT_EQ(part->signatures_checked, 0u);
    ++calls;
  }
  EXPECT_EQ(calls, (ours.size() + store::kYieldEnvelopes - 1) / store::kYieldEnvelopes);
  EXPECT_EQ(HubHead(), ours.size());
}

// A verdict carried to a later part holds there: an envelope whose
// signature failed when the first part checked the batch is refused in its
// own part without being checked again, and what follows it waits as after
// any gap.
TEST_F(BatchPartsTest, an_envelope_whose_signature_failed_is_refused_in_a_later_part) {
  const std::vector<replication::Envelope> ours = Envelopes(*commune_, kCommune);
  constexpr size_t kBad = 100;  // in the second part
  std::vector<store::Store::Incoming> batch;
  for (size_t i = 0; i < ours.size(); ++i) {
    std::string bytes = ours[i].bytes();
    if (i == kBad) {
      const size_t at = static_cast<size_t>(ours[i].signature().data() - ours[i].bytes().data());
      bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    }
    auto env = replication::Envelope::Parse(std::move(bytes));
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    batch.push_back({std::move(*env), std::nullopt});
  }
  const std::function<bool()> always = [] { return true; };
  auto first = hub_->Ingest(batch, always);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->appended, store::kYieldEnvelopes);
  EXPECT_EQ(first->refused, 0u);
  auto second = hub_->Ingest(batch, always);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->signatures_checked, 0u);
  EXPECT_EQ(second->refused, 1u);
  EXPECT_EQ(second->refusals.count("E_BAD_SIGNATURE"), 1u);
  EXPECT_EQ(HubHead(), kBad);  // the envelopes before it, and not one after
}

}  // namespace
}  // namespace tuphap::node
