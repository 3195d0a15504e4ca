#include "config/config.h"

#include <gtest/gtest.h>

namespace tuphap::config {
namespace {

TEST(ConfigTest, ReadsKnownKeys) {
  auto c = ParseConfig("officer = \"Trần Thị Lan\"\nmax_clock_ahead_seconds = 600\n", "node.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->officer, "Trần Thị Lan");
  EXPECT_EQ(c->max_clock_ahead_seconds, 600);
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
  EXPECT_NE(wrong.status().message().find("positive integer"), std::string::npos);
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
  auto bad = ParseConfig("upstream = \"tcp://x:1\"\n", "t.toml");
  EXPECT_NE(bad.status().message().find("t.toml:1:"), std::string::npos) << bad.status().ToString();
}

}  // namespace
}  // namespace tuphap::config
