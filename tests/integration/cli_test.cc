// The CLI end to end: the real binary on real stores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

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

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

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
  const std::string one = (dir_ / "one.jsonl").string();
  ASSERT_EQ(RunTuphap({"generate", "--records", "1", "--commune", "22333", "--out", one}).exit_code,
            0);
  const std::string type = ParseJson(ReadFile(one), nullptr)->Find("type")->as_string();
  auto add =
      RunTuphap({"record", "add", "--type", type, "--input", one, "--data", data_, "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = JsonOf(add).Find("id")->as_string();
  auto amend = RunTuphap(
      {"--data", data_, "record", "amend", id, "--field", "data.notes=world", "--reason", "r"});
  ASSERT_EQ(amend.exit_code, 0) << amend.err;
  auto show = RunTuphap({"--json", "--data", data_, "record", "show", id});
  ASSERT_EQ(show.exit_code, 0);
  Json rec = JsonOf(show);
  EXPECT_EQ(rec.Find("fields")->Find("data.notes")->as_string(), "world");
  EXPECT_EQ(rec.Find("document")->Find("data")->Find("notes")->as_string(), "world");
  EXPECT_EQ(rec.Find("type")->as_string(), type);
  EXPECT_EQ(rec.Find("scope")->as_string(), "22333");
  auto history = RunTuphap({"record", "history", id, "--json", "--data", data_});
  ASSERT_EQ(history.exit_code, 0);
  const Json history_json = JsonOf(history);
  const Json& h = *history_json.Find("history");
  ASSERT_EQ(h.as_array().size(), 2u);
  EXPECT_EQ(h.as_array()[1].Find("reason")->as_string(), "r");
  auto d1 = RunTuphap({"--data", data_, "--json", "digest"});
  auto d2 = RunTuphap({"digest", "--json", "--data", data_, "--scope", "22333"});
  ASSERT_EQ(d1.exit_code, 0);
  EXPECT_EQ(d1.out, d2.out);
  Json digests = JsonOf(d1);
  ASSERT_EQ(digests.as_array().size(), 1u);
  EXPECT_EQ(digests.as_array()[0].Find("records")->as_int(), 1);
  EXPECT_EQ(digests.as_array()[0].Find("digest")->as_string().size(), 64u);
}

TEST_F(CliTest, ImportReportsEveryRefusedLineThenASummary) {
  ASSERT_EQ(RunTuphap({"--data", data_, "init", "--commune", "22333"}).exit_code, 0);
  const std::string file = (dir_ / "in.jsonl").string();
  ASSERT_EQ(RunTuphap({"generate", "--records", "400", "--edits", "40", "--bad", "0.1", "--commune",
                       "22333", "--seed", "9", "--out", file})
                .exit_code,
            0);
  auto imp = RunTuphap({"--data", data_, "--json", "import", file});
  ASSERT_EQ(imp.exit_code, 2) << imp.err;  // invalid input: some lines were refused
  // One JSON object per refused line, then the summary.
  std::map<int64_t, std::string> refused;
  Json summary;
  size_t start = 0;
  while (start < imp.out.size()) {
    const size_t nl = imp.out.find('\n', start);
    auto j = ParseJson(imp.out.substr(start, nl - start), nullptr);
    ASSERT_TRUE(j.has_value());
    if (j->Find("summary")) {
      summary = *j->Find("summary");
    } else {
      refused[j->Find("line")->as_int()] = j->Find("class")->as_string();
      EXPECT_FALSE(j->Find("message")->as_string().empty());
    }
    start = nl + 1;
  }
  ASSERT_TRUE(summary.is_object());
  EXPECT_EQ(summary.Find("refused")->as_int(), static_cast<int64_t>(refused.size()));
  EXPECT_GT(refused.size(), 10u);
  // Every refusal is the class the line was built for.
  const std::string lines = ReadFile(file);
  int64_t n = 0;
  size_t pos = 0;
  while (pos < lines.size()) {
    const size_t nl = lines.find('\n', pos);
    const std::string line = lines.substr(pos, nl - pos);
    ++n;
    const size_t tag = line.find("\"expect_error\":\"");
    const std::string expected =
        tag == std::string::npos ? "" : line.substr(tag + 16, line.find('"', tag + 16) - tag - 16);
    EXPECT_EQ(refused.count(n) ? refused[n] : "", expected) << "line " << n;
    pos = nl + 1;
  }
  // Again: nothing new, and it says so.
  auto again = RunTuphap({"--data", data_, "import", file});
  EXPECT_EQ(again.exit_code, 2);  // the bad lines are refused again
  EXPECT_NE(again.out.find("accepted 0,"), std::string::npos) << again.out;
}

TEST_F(CliTest, SearchConflictsAndVietnameseMessages) {
  ASSERT_EQ(RunTuphap({"--data", data_, "init", "--commune", "22333"}).exit_code, 0);
  const std::string file = (dir_ / "in.jsonl").string();
  ASSERT_EQ(
      RunTuphap({"generate", "--records", "200", "--commune", "22333", "--out", file}).exit_code,
      0);
  ASSERT_EQ(RunTuphap({"--data", data_, "import", file}).exit_code, 0);
  auto search = RunTuphap({"--data", data_, "--json", "record", "search", "nguyen"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_FALSE(JsonOf(search).Find("results")->as_array().empty());
  auto by_ref = RunTuphap({"--data", data_, "--json", "record", "search", "22333-KS-2025-000001"});
  EXPECT_EQ(JsonOf(by_ref).Find("results")->as_array().at(0).Find("record_id")->as_string(),
            "22333-KS-2025-000001");
  auto conflicts = RunTuphap({"--data", data_, "--json", "conflicts", "list"});
  ASSERT_EQ(conflicts.exit_code, 0);
  EXPECT_TRUE(JsonOf(conflicts).Find("conflicts")->as_array().empty());
  auto not_conflicted = RunTuphap({"--data", data_, "conflicts", "resolve", "22333-KS-2025-000001",
                                   "data.notes", "--value", "x"});
  EXPECT_EQ(not_conflicted.exit_code, 4);
  auto vi = RunTuphap({"--data", data_, "record", "amend", "22333-KS-2025-000001", "--field",
                       "data.child.birth_date=2025-7-1"},
                      "LANG=vi_VN.UTF-8");
  EXPECT_EQ(vi.exit_code, 2);
  EXPECT_NE(vi.err.find("phải là ngày"), std::string::npos) << vi.err;
  auto en = RunTuphap({"--data", data_, "record", "amend", "22333-KS-2025-000001", "--field",
                       "data.child.birth_date=2025-7-1"},
                      "LANG=C");
  EXPECT_NE(en.err.find("must be a date"), std::string::npos) << en.err;
  EXPECT_NE(en.err.find("date_format"), std::string::npos);
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
  const std::string one = (dir_ / "one.jsonl").string();
  ASSERT_EQ(RunTuphap({"generate", "--records", "1", "--commune", "22333", "--out", one}).exit_code,
            0);
  auto add = RunTuphap({"--data", data_, "--json", "record", "add", "--input", one},
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

TEST_F(CliTest, SecondaryNodeTakesNumbersOnlyFromLeases) {
  const std::string primary = (dir_ / "primary").string();
  const std::string secondary = (dir_ / "secondary").string();
  ASSERT_EQ(RunTuphap({"--data", primary, "init", "--commune", "22333"}).exit_code, 0);
  auto init2 =
      RunTuphap({"--data", secondary, "--json", "init", "--commune", "22333", "--secondary"});
  ASSERT_EQ(init2.exit_code, 0) << init2.err;
  const std::string id2 = JsonOf(init2).Find("node_id")->as_string();
  const std::string one = (dir_ / "one.json").string();
  {
    std::ofstream out(one);
    out << R"({"child":{"family_name":"Lê","given_name":"An","full_name":"Lê An","sex":"M",)"
        << R"("birth_date":"2026-01-02","birth_place":"Trạm Y tế","ethnicity":"Kinh",)"
        << R"("nationality":"VN","personal_id":"056226000123"},"declarant":{"full_name":"Lê Bình"}})";
  }
  // No block leased yet: the secondary refuses rather than guess a number.
  auto refused =
      RunTuphap({"--data", secondary, "record", "add", "--type", "birth", "--input", one});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("no register numbers left"), std::string::npos) << refused.err;
  // The primary numbers its own book and leases a block above what it used.
  auto first =
      RunTuphap({"--data", primary, "--json", "record", "add", "--type", "birth", "--input", one});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(JsonOf(first).Find("id")->as_string().find("-KS-"), std::string::npos);
  auto lease = RunTuphap({"--data", primary, "--json", "register", "lease", "--to", id2,
                          "--register", "KS", "--year", "2026", "--count", "50"});
  ASSERT_EQ(lease.exit_code, 0) << lease.err;
  EXPECT_GE(JsonOf(lease).Find("first")->as_int(), 2);
  auto bad = RunTuphap(
      {"--data", primary, "register", "lease", "--to", id2, "--register", "ZZ", "--year", "2026"});
  EXPECT_EQ(bad.exit_code, 2);
  auto not_primary = RunTuphap({"--data", secondary, "register", "lease", "--to", id2, "--register",
                                "KS", "--year", "2026"});
  EXPECT_EQ(not_primary.exit_code, 4);
}

TEST_F(CliTest, RecordFormatDocShowsTheSchemasTheValidatorUses) {
  auto schema = RunTuphap({"schema"});
  ASSERT_EQ(schema.exit_code, 0);
  const std::string doc = ReadFile(std::string(TUPHAP_SOURCE_DIR) + "/docs/record-format.md");
  const std::string begin = "<!-- schema:begin -->\n```text\n";
  const size_t b = doc.find(begin);
  const size_t e = doc.find("```\n<!-- schema:end -->");
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), schema.out)
      << "docs/record-format.md is out of date: run scripts/dev.sh docs";
  auto one = RunTuphap({"--json", "schema", "violation_decision"});
  ASSERT_EQ(one.exit_code, 0);
  const Json j = JsonOf(one);
  ASSERT_EQ(j.as_array().size(), 2u);  // an individual and an organisation violator
  EXPECT_EQ(RunTuphap({"schema", "adoption"}).exit_code, 2);
}

TEST_F(CliTest, DemoSyncsAHubAndThreeCommunesAndCleansUp) {
  // The demo works in a temporary folder of its own: other tests (the
  // language walk) run demos at the same time in the shared one.
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() / ("demo-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  setenv("TMPDIR", tmp.c_str(), 1);
  auto demo = RunTuphap({"demo", "--records", "60"});
  if (old_tmpdir != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  // Every commune's digest equals the hub's, and none differs.
  size_t equal = 0;
  for (size_t at = demo.out.find("  yes\n"); at != std::string::npos;
       at = demo.out.find("  yes\n", at + 1))
    ++equal;
  EXPECT_EQ(equal, 3u) << demo.out;
  EXPECT_EQ(demo.out.find("  NO\n"), std::string::npos) << demo.out;
  // The concurrent correction is a conflict on both sides, with both values.
  EXPECT_NE(demo.out.find("at hub: "), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("at 22333: "), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("\"Khoa\""), std::string::npos);
  EXPECT_NE(demo.out.find("\"Bình\""), std::string::npos);
  // The hub's statistics count every record the three communes registered.
  EXPECT_NE(demo.out.find("registrations at the hub"), std::string::npos);
  EXPECT_NE(demo.out.find("  22390    birth"), std::string::npos) << demo.out;
  // Nothing left behind in its temporary folder.
  for (const auto& e : std::filesystem::directory_iterator(tmp))
    EXPECT_NE(e.path().filename().string().rfind("tuphap-demo-", 0), 0u) << e.path();
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace tuphap
