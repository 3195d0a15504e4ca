// LinkBudget: how big a BATCH frame to a peer is, from what its links have
// carried (docs/protocol.md, Frame size).
#include <gtest/gtest.h>

#include "node/sync.h"

namespace tuphap::node {
namespace {

TEST(LinkBudgetTest, DoublesWithEachAcknowledgementUpToOneMebibyteOnALinkNeverLost) {
  LinkBudget b;
  EXPECT_EQ(b.frame_bytes(), 64u << 10);
  b.Acknowledged(100 << 10);
  EXPECT_EQ(b.frame_bytes(), 128u << 10);
  for (int i = 0; i < 10; ++i) b.Acknowledged(1 << 20);
  EXPECT_EQ(b.frame_bytes(), LinkBudget::kMaxBytes);
  EXPECT_EQ(b.losses(), 0u);
}

TEST(LinkBudgetTest, ALostConnectionCutsTheFrameToAnEighthOfWhatItCarried) {
  LinkBudget b;
  b.Lost(200 << 10);  // a link cut after 200 KB
  EXPECT_EQ(b.frame_bytes(), (200u << 10) / 8);
  // It grows again, but only up to an eighth of what a connection carried.
  for (int i = 0; i < 10; ++i) b.Acknowledged(200 << 10);
  EXPECT_EQ(b.frame_bytes(), (200u << 10) / 8);
  // A connection that lasts longer raises that ceiling; the frame doubles
  // towards it, one acknowledgement at a time.
  b.Acknowledged(800 << 10);
  EXPECT_EQ(b.frame_bytes(), 2 * ((200u << 10) / 8));
  b.Acknowledged(800 << 10);
  EXPECT_EQ(b.frame_bytes(), (800u << 10) / 8);
  b.Acknowledged(800 << 10);
  EXPECT_EQ(b.frame_bytes(), (800u << 10) / 8);
}

TEST(LinkBudgetTest, RepeatedLossesHalveAtLeastAndFloorAtOneByteSoOneEnvelopeStillGoes) {
  LinkBudget b;
  b.Lost(10 << 20);  // a long connection lost: still at most half the size before
  EXPECT_EQ(b.frame_bytes(), (64u << 10) / 2);
  for (int i = 0; i < 40; ++i) b.Lost(0);
  EXPECT_EQ(b.frame_bytes(), 1u);  // a batch always carries one envelope
  EXPECT_EQ(b.losses(), 41u);
  b.Acknowledged(0);
  EXPECT_GE(b.frame_bytes(), 1u);
}

TEST(LinkBudgetTest, ASessionThatLosesItsConnectionWithFramesInFlightShrinksItsPeersBudget) {
  PeerMemory memory;
  EXPECT_EQ(memory.budget.frame_bytes(), 64u << 10);
  memory.budget.Lost(24 << 10);
  EXPECT_EQ(memory.budget.frame_bytes(), 3u << 10);
}

}  // namespace
}  // namespace tuphap::node
