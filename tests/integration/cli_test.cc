// The CLI end to end: the real binary on real stores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/json.h"
#include "tests/integration/cli_runner.h"

namespace tuphap {
namespace {

using testing_support::RunTuphap;

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tuphap-cli-" + std::to_string(getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    data_ = (dir_ / "node").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Json JsonOf(const testing_support::CliResult& r) {
    auto j = ParseJson(r.out, nullptr);
    EXPECT_TRUE(j.has_value()) << "not JSON: " << r.out << r.err;
    return j ? *j : Json();
  }

  std::filesystem::path dir_;
  std::string data_;
};

TEST_F(CliTest, RoundTripWithGlobalOptionsBeforeOrAfterTheCommand) {
  ASSERT_EQ(
      RunTuphap({"--data", data_, "init", "--role", "commune", "--commune", "22333"}).exit_code, 0);
  auto add = RunTuphap(
      {"record", "add", "--type", "note", "--field", "title=hello", "--data", data_, "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = JsonOf(add).Find("id")->as_string();
  auto amend = RunTuphap({"--data", data_, "record", "amend", id, "--field", "title=world"});
  ASSERT_EQ(amend.exit_code, 0) << amend.err;
  auto show = RunTuphap({"--json", "--data", data_, "record", "show", id});
  ASSERT_EQ(show.exit_code, 0);
  Json rec = JsonOf(show);
  EXPECT_EQ(rec.Find("fields")->Find("title")->as_string(), "world");
  EXPECT_EQ(rec.Find("type")->as_string(), "note");
  EXPECT_EQ(rec.Find("scope")->as_string(), "22333");
  auto history = RunTuphap({"record", "history", id, "--json", "--data", data_});
  ASSERT_EQ(history.exit_code, 0);
  const Json history_json = JsonOf(history);
  const Json& h = *history_json.Find("history");
  ASSERT_EQ(h.as_array().size(), 2u);
  EXPECT_EQ(h.as_array()[1].Find("ops")->as_array()[0].Find("old")->as_string(), "hello");
  auto d1 = RunTuphap({"--data", data_, "--json", "digest"});
  auto d2 = RunTuphap({"digest", "--json", "--data", data_, "--scope", "22333"});
  ASSERT_EQ(d1.exit_code, 0);
  EXPECT_EQ(d1.out, d2.out);
  Json digests = JsonOf(d1);
  ASSERT_EQ(digests.as_array().size(), 1u);
  EXPECT_EQ(digests.as_array()[0].Find("records")->as_int(), 1);
  EXPECT_EQ(digests.as_array()[0].Find("digest")->as_string().size(), 64u);
}

TEST_F(CliTest, DataDirComesFromTheEnvironment) {
  ASSERT_EQ(RunTuphap({"init", "--commune", "22333"}, "TUPHAP_DATA=" + data_).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(data_ + "/tuphap.db"));
  EXPECT_EQ(RunTuphap({"digest"}, "TUPHAP_DATA=" + data_).exit_code, 0);
}

TEST_F(CliTest, ErrorsAreClearAndExitNonZero) {
  auto missing = RunTuphap({"--data", data_, "record", "show", "X"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("no tuphap node"), std::string::npos) << missing.err;
  ASSERT_EQ(RunTuphap({"--data", data_, "init", "--commune", "22333"}).exit_code, 0);
  auto unknown = RunTuphap({"--data", data_, "record", "show", "NO-SUCH-ID"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("NO-SUCH-ID"), std::string::npos);
  auto malformed =
      RunTuphap({"--data", data_, "record", "add", "--type", "note", "--field", "novalue"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("KEY=VALUE"), std::string::npos);
  auto json_err = RunTuphap({"--data", data_, "--json", "record", "show", "NOPE"});
  EXPECT_EQ(json_err.exit_code, 3);
  auto j = ParseJson(json_err.err, nullptr);
  ASSERT_TRUE(j.has_value()) << json_err.err;
  EXPECT_EQ(j->Find("error")->Find("code")->as_string(), "not found");
  EXPECT_EQ(RunTuphap({"--data", data_, "init", "--commune", "22333"}).exit_code, 4);  // exists
  EXPECT_EQ(RunTuphap({"--data", data_, "no-such-command"}).exit_code, 2);
}

TEST_F(CliTest, ConfigFileSetsTheOfficerAndBadConfigIsReported) {
  ASSERT_EQ(RunTuphap({"--data", data_, "init", "--commune", "22333"}).exit_code, 0);
  {
    FILE* f = fopen((data_ + "/tuphap.toml").c_str(), "w");
    fputs("officer = \"Lê Văn Nam\"\n", f);
    fclose(f);
  }
  auto add = RunTuphap({"--data", data_, "--json", "record", "add", "--type", "note"},
                       "env -u TUPHAP_OFFICER");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = JsonOf(add).Find("id")->as_string();
  auto h = RunTuphap({"--data", data_, "--json", "record", "history", id}, "env -u TUPHAP_OFFICER");
  EXPECT_EQ(JsonOf(h).Find("history")->as_array()[0].Find("officer")->as_string(), "Lê Văn Nam");
  {
    FILE* f = fopen((data_ + "/tuphap.toml").c_str(), "w");
    fputs("oficer = 1\n", f);
    fclose(f);
  }
  auto bad = RunTuphap({"--data", data_, "digest"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("tuphap.toml:1"), std::string::npos) << bad.err;
}

TEST_F(CliTest, DemoRunsAndCleansUp) {
  auto demo = RunTuphap({"demo"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  EXPECT_NE(demo.out.find("state digest"), std::string::npos);
  EXPECT_NE(demo.out.find("Nguyễn Thị Hồng -> Nguyễn Thị Hồng Đào"), std::string::npos);
}

}  // namespace
}  // namespace tuphap
