#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>

namespace tuphap::config {
namespace {

TEST(ConfigTest, ReadsKnownKeys) {
  auto c = ParseConfig("officer = \"Trần Thị Lan\"\nmax_clock_ahead_seconds = 600\n", "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->officer, "Trần Thị Lan");
  EXPECT_EQ(c->max_clock_ahead_seconds, 600);
}

TEST(ConfigTest, LogLevelIsOneOfTheNamedLevels) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    auto c = ParseConfig(std::string("log_level = \"") + level + "\"\n", "node.toml");
    ASSERT_TRUE(c.ok()) << level << ": " << c.status().ToString();
    EXPECT_EQ(c->log_level, level);
  }
  for (const char* bad : {"\"verbose\"", "\"INFO\"", "\"\"", "3"}) {
    auto c = ParseConfig(std::string("log_level = ") + bad + "\n", "node.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("node.toml:1"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("log_level"), std::string::npos) << c.status().message();
  }
}

TEST(ConfigTest, MetricsIsAnAddressWithAPort) {
  for (const char* at : {"127.0.0.1:9464", "0.0.0.0:1", "[::1]:65535", "localhost:9100"}) {
    auto c = ParseConfig(std::string("metrics = \"") + at + "\"\n", "node.toml");
    ASSERT_TRUE(c.ok()) << at << ": " << c.status().ToString();
    EXPECT_EQ(c->metrics, at);
  }
  for (const char* bad :
       {"\"127.0.0.1\"", "\":9464\"", "\"127.0.0.1:\"", "\"127.0.0.1:0\"", "\"127.0.0.1:65536\"",
        "\"127.0.0.1:94x4\"", "\"h:123456\"", "9464", "\"\""}) {
    auto c = ParseConfig(std::string("metrics = ") + bad + "\n", "node.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("node.toml:1"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("'metrics'"), std::string::npos) << c.status().message();
  }
}

TEST(ConfigTest, UnknownKeyIsAnErrorWithItsPosition) {
  auto c = ParseConfig("officer = \"a\"\nofficr = \"b\"\n", "node.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("node.toml:2"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("officr"), std::string::npos);
}

TEST(ConfigTest, SyntaxAndTypeErrorsSayWhere) {
  auto bad = ParseConfig("officer = \n", "x.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("x.toml:1"), std::string::npos);
  auto wrong = ParseConfig("max_clock_ahead_seconds = \"ten\"\n", "x.toml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("an integer number of seconds"), std::string::npos)
      << wrong.status().message();
}

// Tricky numbers for an integer key: found by fuzzing, `4E40` was undefined
// behaviour inside toml++'s conversion to int64_t, `1.5e3` was taken as
// 1500, and a huge integer overflowed once multiplied by 1000.
TEST(ConfigTest, NumbersAreIntegersWithinTheirRange) {
  struct Case {
    const char* text;
    std::optional<int64_t> accepted;  // nullopt: refused
  };
  const Case cases[] = {
      {"600", 600},
      {"+600", 600},
      {"60", 60},
      {"31536000", 31536000},
      {"1_000", 1000},
      {"0x3c", 60},
      {"0o74", 60},
      {"0b111100", 60},
      {"59", std::nullopt},
      {"0", std::nullopt},
      {"-1", std::nullopt},
      {"-600", std::nullopt},
      {"31536001", std::nullopt},
      {"9223372036854775807", std::nullopt},
      {"-9223372036854775808", std::nullopt},
      {"9223372036854775808", std::nullopt},
      {"99999999999999999999999", std::nullopt},
      {"4E40", std::nullopt},
      {"4e40", std::nullopt},
      {"-4E40", std::nullopt},
      {"1.5e3", std::nullopt},
      {"1500.0", std::nullopt},
      {"600.5", std::nullopt},
      {"6e2", std::nullopt},
      {"1e308", std::nullopt},
      {"inf", std::nullopt},
      {"-inf", std::nullopt},
      {"nan", std::nullopt},
      {"true", std::nullopt},
      {"\"600\"", std::nullopt},
      {"[600]", std::nullopt},
      {"{ seconds = 600 }", std::nullopt},
      {"1979-05-27", std::nullopt},
      {"07:32:00", std::nullopt},
  };
  for (const Case& c : cases) {
    const std::string text = std::string("max_clock_ahead_seconds = ") + c.text + "\n";
    auto r = ParseConfig(text, "n.toml");
    if (c.accepted) {
      ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().ToString();
      EXPECT_EQ(r->max_clock_ahead_seconds, *c.accepted) << c.text;
    } else {
      ASSERT_FALSE(r.ok()) << c.text << " was accepted as " << r->max_clock_ahead_seconds.value();
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
      EXPECT_NE(r.status().message().find("n.toml:1"), std::string::npos) << r.status().message();
    }
  }
  // A refusal of a number says the range.
  auto big = ParseConfig("max_clock_ahead_seconds = 4E40\n", "n.toml");
  EXPECT_NE(big.status().message().find("from 60 to 31536000"), std::string::npos)
      << big.status().message();
}

// Random text after the key: accepted only as an in-range integer, refused
// otherwise, never a crash (seeded; TUPHAP_SEED replays).
TEST(ConfigTest, RandomValuesAreAcceptedOnlyInRange) {
  uint64_t seed = 20261127;
  if (const char* s = std::getenv("TUPHAP_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::mt19937_64 rng(seed);
  const std::string alphabet = "0123456789+-._eExXoObBinfa\"[]{} ";
  for (int i = 0; i < 20000; ++i) {
    std::string value;
    const size_t len = 1 + rng() % 24;
    for (size_t k = 0; k < len; ++k) value += alphabet[rng() % alphabet.size()];
    auto r = ParseConfig("max_clock_ahead_seconds = " + value + "\n", "f.toml");
    if (r.ok()) {
      ASSERT_TRUE(r->max_clock_ahead_seconds.has_value()) << value << " (seed " << seed << ")";
      EXPECT_GE(*r->max_clock_ahead_seconds, kMinClockAheadSeconds) << value;
      EXPECT_LE(*r->max_clock_ahead_seconds, kMaxClockAheadSeconds) << value;
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument)
          << value << " (seed " << seed << ")";
    }
  }
}

TEST(ConfigTest, ADirectoryOrAnEndlessFileIsRefused) {
  auto dir = LoadConfigFile("/tmp");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dir.status().message().find("/tmp is a directory"), std::string::npos)
      << dir.status().message();
  auto zero = LoadConfigFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find(std::to_string(kMaxConfigBytes)), std::string::npos);
}

TEST(ConfigTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadConfigFile("/nonexistent/tuphap.toml").status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, ExampleConfigParses) {
  auto c = LoadConfigFile(TUPHAP_SOURCE_DIR "/config/example.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "tcp://0.0.0.0:7700");
  ASSERT_TRUE(c->upstreams.has_value());
  EXPECT_EQ(c->upstreams->size(), 1u);
  EXPECT_TRUE(c->metrics.has_value());  // the example documents every key
  auto bad = ParseConfig("upstream = \"tcp://x:1\"\n", "t.toml");
  EXPECT_NE(bad.status().message().find("t.toml:1:"), std::string::npos) << bad.status().ToString();
}

}  // namespace
}  // namespace tuphap::config
