#include "crdt/hlc.h"

#include <gtest/gtest.h>

namespace tuphap::crdt {
namespace {

constexpr int64_t kDay = 86'400'000;

TEST(HlcTest, PacksMillisAndCounter) {
  Hlc h = Hlc::FromParts(1'751'328'000'123, 7);
  EXPECT_EQ(h.millis(), 1'751'328'000'123u);
  EXPECT_EQ(h.counter(), 7);
  EXPECT_LT(Hlc::FromParts(5, 0xFFFF), Hlc::FromParts(6, 0));
  EXPECT_EQ(Hlc::FromParts(1'751'328'000'123, 0).ToString(), "2025-07-01T00:00:00.123Z");
  EXPECT_EQ(Hlc::FromParts(0, 2).ToString(), "1970-01-01T00:00:00.000Z+2");
}

TEST(HlcTest, StaysMonotonicWhenWallClockGoesBack) {
  ManualClock clock(1'000'000);
  HlcClock hlc(clock, kDay);
  Hlc a = *hlc.Now();
  clock.SetWall(999'000);  // one second back
  Hlc b = *hlc.Now();
  Hlc c = *hlc.Now();
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(b.millis(), a.millis());
  clock.SetWall(1'000'500);
  Hlc d = *hlc.Now();
  EXPECT_EQ(d, Hlc::FromParts(1'000'500, 0));
}

TEST(HlcTest, CounterOverflowAdvancesMillis) {
  ManualClock clock(10);
  HlcClock hlc(clock, kDay);
  hlc.Restore(Hlc::FromParts(10, 0xFFFF));
  Hlc next = *hlc.Now();
  EXPECT_EQ(next, Hlc::FromParts(11, 0));
}

TEST(HlcTest, NextStampExceedsObservedRemote) {
  ManualClock clock(1'000'000);
  HlcClock hlc(clock, kDay);
  Hlc remote = Hlc::FromParts(1'005'000, 3);
  ASSERT_TRUE(hlc.Observe(remote).ok());
  EXPECT_GT(*hlc.Now(), remote);
}

TEST(HlcTest, RefusesRemoteTimeTooFarAhead) {
  ManualClock clock(1'000'000);
  HlcClock hlc(clock, kDay);
  Hlc remote = Hlc::FromParts(1'000'000 + kDay + 1, 0);
  Status s = hlc.Observe(remote);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.reason(), "E_CLOCK_AHEAD");
  EXPECT_NE(s.message().find("ahead"), std::string::npos);
  EXPECT_EQ(hlc.last(), Hlc());  // unchanged
  EXPECT_TRUE(hlc.Observe(Hlc::FromParts(1'000'000 + kDay, 0)).ok());
}

TEST(HlcTest, RefusesLocalStampWhenClockFellFarBehind) {
  ManualClock clock(10 * kDay);
  HlcClock hlc(clock, kDay);
  ASSERT_TRUE(hlc.Now().ok());
  clock.SetWall(8 * kDay);  // set back two days
  auto r = hlc.Now();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "E_CLOCK_BEHIND");
  // The operator says the clock is right: stamps go on after the last one.
  auto forced = hlc.Now(HlcClock::WhenBehind::kContinueLogically);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->millis(), 10 * static_cast<uint64_t>(kDay));
  clock.SetWall(9 * kDay + 1);  // within the bound again
  EXPECT_TRUE(hlc.Now().ok());
}

}  // namespace
}  // namespace tuphap::crdt
