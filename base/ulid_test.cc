#include "base/ulid.h"

#include <gtest/gtest.h>

#include "base/random.h"

namespace tuphap {
namespace {

TEST(UlidTest, MatchesSpecEncodingOfTimeAndRandomness) {
  // Time 1469918176385 ms is "01ARYZ6S41" in the spec's example.
  std::array<uint8_t, 10> zero{};
  EXPECT_EQ(MakeUlid(1469918176385ULL, zero).substr(0, 10), "01ARYZ6S41");
  std::array<uint8_t, 10> ones;
  ones.fill(0xFF);
  EXPECT_EQ(MakeUlid(0, ones), "0000000000ZZZZZZZZZZZZZZZZ");
}

TEST(UlidTest, SortsByTime) {
  Random rng(1);
  std::array<uint8_t, 10> r{};
  for (auto& b : r) b = static_cast<uint8_t>(rng.Next());
  EXPECT_LT(MakeUlid(1000, r), MakeUlid(1001, r));
  EXPECT_EQ(MakeUlid(1000, r).size(), 26u);
}

}  // namespace
}  // namespace tuphap
