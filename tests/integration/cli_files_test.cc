// The CLI with files and flags it cannot use: each case is a defect found
// by running the real binary (issue 12, "smaller defects" and "files and
// flags"), and the test fails on the code before its fix.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>

#include "base/json.h"
#include "tests/integration/cli_runner.h"

namespace tuphap {
namespace {

namespace fs = std::filesystem;
using testing_support::CliResult;
using testing_support::RunTuphap;

class CliFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tuphap-cli-files-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    data_ = Dir("node");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Dir(const std::string& name) const { return (dir_ / name).string(); }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static Json JsonOf(const CliResult& r) {
    auto j = ParseJson(r.out, nullptr);
    EXPECT_TRUE(j.has_value()) << "not JSON: " << r.out << r.err;
    return j ? *j : Json();
  }
  void InitCommune(const std::string& data, const std::string& commune = "22333") {
    auto r = RunTuphap({"--data", data, "init", "--commune", commune});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The record count of a node (all scopes).
  int64_t Records(const std::string& data) {
    auto d = RunTuphap({"--data", data, "--json", "digest"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    int64_t n = 0;
    const Json digests = JsonOf(d);
    if (!digests.is_array()) return -1;
    for (const auto& s : digests.as_array()) n += s.Find("records")->as_int();
    return n;
  }
  // A birth's data object.
  std::string BirthInput() {
    const std::string path = Dir("birth.json");
    WriteFile(
        path,
        R"({"child":{"family_name":"Lê","given_name":"An","full_name":"Lê An","sex":"M",)"
        R"("birth_date":"2026-01-02","birth_place":"Trạm Y tế","ethnicity":"Kinh",)"
        R"("nationality":"VN","personal_id":"056226000123"},"declarant":{"full_name":"Lê Bình"}})");
    return path;
  }

  fs::path dir_;
  std::string data_;
};

// SIGFPE (exit -1 here: killed by a signal) for a one-day reversed range; a
// wider one wrote the year 1805419103.
TEST_F(CliFilesTest, GenerateRefusesAReversedDateRange) {
  for (const auto& [from, to] :
       {std::pair{"2026-01-02", "2026-01-01"}, std::pair{"2026-06-30", "2025-07-01"}}) {
    auto r =
        RunTuphap({"generate", "--records", "2", "--commune", "22333", "--from", from, "--to", to});
    EXPECT_EQ(r.exit_code, 2) << from << ".." << to << ": " << r.err;
    EXPECT_NE(r.err.find("the date range is empty"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
  }
  auto bad_date = RunTuphap({"generate", "--commune", "22333", "--from", "2026-02-30"});
  EXPECT_EQ(bad_date.exit_code, 2);
  EXPECT_NE(bad_date.err.find("--from '2026-02-30'"), std::string::npos) << bad_date.err;
  auto one_day = RunTuphap({"generate", "--records", "3", "--commune", "22333", "--from",
                            "2026-01-01", "--to", "2026-01-01"});
  EXPECT_EQ(one_day.exit_code, 0) << one_day.err;
  // --communes counts a province's communes; alone it used to be ignored.
  auto communes = RunTuphap({"generate", "--commune", "22333", "--communes", "3"});
  EXPECT_EQ(communes.exit_code, 2);
  EXPECT_NE(communes.err.find("--province"), std::string::npos) << communes.err;
}

// `--config DIR` was read as an empty config; `--config /dev/zero` and
// `--input /dev/zero` grew until an uncaught std::bad_alloc; `--input DIR`
// printed "basic_filebuf::underflow error reading the file".
TEST_F(CliFilesTest, FilesAreReadWithABoundAndDirectoriesRefused) {
  InitCommune(data_);
  auto config_dir = RunTuphap({"--data", data_, "--config", dir_.string(), "digest"});
  EXPECT_EQ(config_dir.exit_code, 2) << config_dir.err;
  EXPECT_NE(config_dir.err.find(dir_.string() + " is a directory"), std::string::npos)
      << config_dir.err;
  auto config_zero = RunTuphap({"--data", data_, "--config", "/dev/zero", "digest"});
  EXPECT_EQ(config_zero.exit_code, 2) << config_zero.err;
  EXPECT_NE(config_zero.err.find("/dev/zero is larger than the 1048576 bytes"), std::string::npos)
      << config_zero.err;
  auto input_zero =
      RunTuphap({"--data", data_, "record", "add", "--type", "birth", "--input", "/dev/zero"});
  EXPECT_EQ(input_zero.exit_code, 2) << input_zero.err;
  EXPECT_NE(input_zero.err.find("/dev/zero is larger than"), std::string::npos) << input_zero.err;
  auto input_dir =
      RunTuphap({"--data", data_, "record", "add", "--type", "birth", "--input", dir_.string()});
  EXPECT_EQ(input_dir.exit_code, 2) << input_dir.err;
  EXPECT_NE(input_dir.err.find("is a directory, not a file"), std::string::npos) << input_dir.err;
  EXPECT_EQ(input_dir.err.find("basic_filebuf"), std::string::npos) << input_dir.err;
  auto import_dir = RunTuphap({"--data", data_, "import", dir_.string()});
  EXPECT_EQ(import_dir.exit_code, 2) << import_dir.err;
  EXPECT_NE(import_dir.err.find("is a directory"), std::string::npos) << import_dir.err;
  auto import_zero = RunTuphap({"--data", data_, "import", "/dev/zero"});
  EXPECT_EQ(import_zero.exit_code, 2) << import_zero.err;
  EXPECT_NE(import_zero.err.find("without a line end"), std::string::npos) << import_zero.err;
  auto request_zero = RunTuphap({"--data", data_, "enroll", "accept", "/dev/zero"});
  EXPECT_EQ(request_zero.exit_code, 2) << request_zero.err;
  EXPECT_NE(request_zero.err.find("larger than"), std::string::npos) << request_zero.err;
  // A config number with a fraction is refused with its range, not rounded.
  WriteFile(Dir("c.toml"), "max_clock_ahead_seconds = 1.5e3\n");
  auto config_float = RunTuphap({"--data", data_, "--config", Dir("c.toml"), "digest"});
  EXPECT_EQ(config_float.exit_code, 2);
  EXPECT_NE(config_float.err.find("from 60 to 31536000"), std::string::npos) << config_float.err;
  EXPECT_EQ(Records(data_), 0);
}

// A commune node of 22333 wrote a 22333 record for `--scope 22366` and
// exited 0.
TEST_F(CliFilesTest, FlagsThatCannotApplyAreRefused) {
  InitCommune(data_);
  const std::string birth = BirthInput();
  auto other = RunTuphap(
      {"--data", data_, "record", "add", "--type", "birth", "--input", birth, "--scope", "22366"});
  EXPECT_EQ(other.exit_code, 2) << other.out << other.err;
  EXPECT_NE(other.err.find("--scope 22366 cannot apply"), std::string::npos) << other.err;
  auto other_vi = RunTuphap(
      {"--data", data_, "record", "add", "--type", "birth", "--input", birth, "--scope", "22366"},
      "LANG=vi_VN.UTF-8");
  EXPECT_EQ(other_vi.exit_code, 2);
  EXPECT_NE(other_vi.err.find("không áp dụng được"), std::string::npos) << other_vi.err;
  EXPECT_EQ(Records(data_), 0);
  auto own = RunTuphap(
      {"--data", data_, "record", "add", "--type", "birth", "--input", birth, "--scope", "22333"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(Records(data_), 1);
  // init: a commune's province comes from its code; a hub has no commune.
  auto commune_province =
      RunTuphap({"--data", Dir("c2"), "init", "--commune", "22333", "--province", "01"});
  EXPECT_EQ(commune_province.exit_code, 2) << commune_province.err;
  EXPECT_FALSE(fs::exists(Dir("c2")));
  auto hub_commune = RunTuphap(
      {"--data", Dir("h2"), "init", "--role", "hub", "--province", "56", "--commune", "22333"});
  EXPECT_EQ(hub_commune.exit_code, 2) << hub_commune.err;
  auto hub_secondary =
      RunTuphap({"--data", Dir("h3"), "init", "--role", "hub", "--province", "56", "--secondary"});
  EXPECT_EQ(hub_secondary.exit_code, 2) << hub_secondary.err;
  // reconcile from a file: --peer-id and --timeout are for a peer.
  auto peer_id = RunTuphap({"--data", data_, "report", "reconcile", "--from", Dir("x.db"),
                            "--peer-id", "0000-0000-0000-0000-0000"});
  EXPECT_EQ(peer_id.exit_code, 2) << peer_id.err;
  EXPECT_NE(peer_id.err.find("--peer-id cannot apply with --from"), std::string::npos)
      << peer_id.err;
  auto timeout =
      RunTuphap({"--data", data_, "report", "reconcile", "--from", Dir("x.db"), "--timeout", "5"});
  EXPECT_EQ(timeout.exit_code, 2) << timeout.err;
  EXPECT_EQ(RunTuphap({"--data", data_, "record", "search", "An", "--limit", "0"}).exit_code, 2);
}

// `status` on a 0-byte tuphap.db wrote a new store into it.
TEST_F(CliFilesTest, AnEmptyStoreFileIsAnErrorAndStaysEmpty) {
  fs::create_directories(data_);
  WriteFile(data_ + "/tuphap.db", "");
  auto status = RunTuphap({"--data", data_, "status"});
  EXPECT_EQ(status.exit_code, 1) << status.err;
  EXPECT_NE(status.err.find("is empty or holds no tuphap store"), std::string::npos) << status.err;
  EXPECT_EQ(fs::file_size(data_ + "/tuphap.db"), 0u);
  WriteFile(data_ + "/tuphap.db", "hello, I am not a database, just a text file of some length\n");
  auto text = RunTuphap({"--data", data_, "digest"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.err.find("is not an SQLite database"), std::string::npos) << text.err;
}

// `import` exited 0 when lines were refused; the README gives 2 for invalid
// input. The summary is still printed.
TEST_F(CliFilesTest, ImportExitsTwoWhenAnyLineIsRefused) {
  InitCommune(data_);
  const std::string file = Dir("in.jsonl");
  ASSERT_EQ(RunTuphap({"generate", "--records", "30", "--bad", "0.3", "--commune", "22333",
                       "--seed", "4", "--out", file})
                .exit_code,
            0);
  auto imp = RunTuphap({"--data", data_, "import", file});
  EXPECT_EQ(imp.exit_code, 2) << imp.err;
  EXPECT_NE(imp.out.find("accepted "), std::string::npos) << imp.out;
  EXPECT_NE(imp.err.find("line(s) refused"), std::string::npos) << imp.err;
  auto json = RunTuphap({"--data", data_, "--json", "import", file});
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_NE(json.out.find("\"summary\""), std::string::npos);
  EXPECT_NE(json.err.find("\"invalid argument\""), std::string::npos) << json.err;
  // A clean file: exit 0.
  const std::string clean = Dir("clean.jsonl");
  ASSERT_EQ(
      RunTuphap({"generate", "--records", "5", "--commune", "22333", "--seed", "5", "--out", clean})
          .exit_code,
      0);
  InitCommune(Dir("fresh"));
  auto ok = RunTuphap({"--data", Dir("fresh"), "import", clean});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(RunTuphap({"--data", Dir("fresh"), "import", clean}).exit_code, 0);  // already in
}

// The production binary honoured TUPHAP_KDF=weak: a hub's province root key
// could be made with the weakest key derivation. Only a build with
// -DTUPHAP_TEST_KDF=ON takes it; any other build warns and ignores it.
TEST_F(CliFilesTest, WeakKdfOnlyInTestBuilds) {
  auto init =
      RunTuphap({"--data", data_, "init", "--role", "hub", "--province", "56"}, "TUPHAP_KDF=weak");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // The clear header: [magic, format, ops, mem, salt]; ops and mem are
  // positive fixints or uint32 right after the format.
  const std::string keys = ReadFile(data_ + "/keys");
  const size_t magic = keys.find("tuphap-keys");
  ASSERT_NE(magic, std::string::npos);
  const auto* p = reinterpret_cast<const uint8_t*>(keys.data()) + magic + 11 + 1;
  const uint8_t ops = p[0];
  if (TUPHAP_TEST_KDF) {
    EXPECT_EQ(ops, 1);
    EXPECT_EQ(init.err.find("warning"), std::string::npos) << init.err;
  } else {
    EXPECT_EQ(ops, 2);  // libsodium's interactive limits
    EXPECT_NE(init.err.find("warning: ignoring TUPHAP_KDF=weak"), std::string::npos) << init.err;
  }
  auto unknown = RunTuphap({"--data", Dir("n2"), "init", "--commune", "22333"}, "TUPHAP_KDF=fast");
  ASSERT_EQ(unknown.exit_code, 0) << unknown.err;
  EXPECT_NE(unknown.err.find("warning: ignoring TUPHAP_KDF=fast"), std::string::npos)
      << unknown.err;
}

// Without the keys, the officer of a value was "?" in `record show` and
// `conflicts list` and blank in `report conflicts`: one rendering now.
TEST_F(CliFilesTest, ALockedKeyringShowsTheOfficerTheSameWayEverywhere) {
  const std::string hub = Dir("hub"), c = Dir("c");
  ASSERT_EQ(RunTuphap({"--data", hub, "init", "--role", "hub", "--province", "56"}).exit_code, 0);
  InitCommune(c);
  ASSERT_EQ(RunTuphap({"--data", c, "enroll", "request", "--out", Dir("req")}).exit_code, 0);
  ASSERT_EQ(RunTuphap({"--data", hub, "enroll", "sign", Dir("req"), "--out", Dir("enr")}).exit_code,
            0);
  ASSERT_EQ(RunTuphap({"--data", c, "enroll", "accept", Dir("enr")}).exit_code, 0);
  const std::string hub_id =
      JsonOf(RunTuphap({"--data", hub, "--json", "status"})).Find("node_id")->as_string();
  auto add = RunTuphap(
      {"--data", c, "--json", "record", "add", "--type", "birth", "--input", BirthInput()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string id = JsonOf(add).Find("id")->as_string();
  auto carry = [&] {
    auto ex = RunTuphap(
        {"--data", c, "bundle", "export", "--for", hub_id, "--all", "--out", Dir("b.tpb")});
    ASSERT_EQ(ex.exit_code, 0) << ex.err;
    auto im = RunTuphap({"--data", hub, "bundle", "import", Dir("b.tpb")});
    ASSERT_EQ(im.exit_code, 0) << im.err;
  };
  carry();
  // Concurrent amendments at the commune and at the hub: a conflict.
  auto amend = [&](const std::string& data, const std::string& officer, const std::string& name) {
    auto r = RunTuphap({"--data", data, "--officer", officer, "record", "amend", id, "--field",
                        "data.child.given_name=" + name, "--field",
                        "data.child.full_name=Lê " + name, "--reason", "r"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  amend(c, "Lan", "Khoa");
  amend(hub, "Minh", "Bình");
  carry();
  auto unlocked = RunTuphap({"--data", hub, "conflicts", "list"});
  ASSERT_EQ(unlocked.exit_code, 0) << unlocked.err;
  ASSERT_NE(unlocked.out.find("Lan"), std::string::npos) << unlocked.out;
  ASSERT_NE(unlocked.out.find("Minh"), std::string::npos) << unlocked.out;
  const std::string locked = "TUPHAP_PASSPHRASE=not-the-passphrase";
  for (const auto& [lang, text] :
       {std::pair{"LANG=C", "(encrypted)"}, std::pair{"LANG=vi_VN.UTF-8", "(mã hoá)"}}) {
    const std::string env = locked + " " + lang;
    auto show = RunTuphap({"--data", hub, "record", "show", id}, env);
    auto list = RunTuphap({"--data", hub, "conflicts", "list"}, env);
    auto report = RunTuphap({"--data", hub, "report", "conflicts"}, env);
    for (const CliResult* r : {&show, &list, &report}) {
      EXPECT_EQ(r->exit_code, 0) << r->err;
      EXPECT_NE(r->out.find(text), std::string::npos) << lang << "\n" << r->out;
      EXPECT_EQ(r->out.find(" ?"), std::string::npos) << r->out;
      EXPECT_EQ(r->out.find("Lan"), std::string::npos) << r->out;
    }
  }
  auto json = RunTuphap({"--data", hub, "--json", "conflicts", "list"}, locked);
  ASSERT_EQ(json.exit_code, 0);
  const Json listed = JsonOf(json);
  const Json& values = *listed.Find("conflicts")->as_array()[0].Find("values");
  for (const auto& v : values.as_array()) EXPECT_TRUE(v.Find("sealed")->as_bool());
}

// Each atomic write (a temporary file renamed) is followed by an fsync of
// the directory, so a power cut after the command cannot lose the new name
// (the key file after `init`, a request, a bundle, a snapshot). Checked on
// the system calls, with strace.
TEST_F(CliFilesTest, EveryRenameIsFollowedByAnFsyncOfItsDirectory) {
  ASSERT_EQ(system("strace -V >/dev/null 2>&1"), 0)
      << "strace is needed (scripts/dev.sh installs it)";
  const std::string hub = Dir("hub"), c = Dir("c");
  ASSERT_EQ(RunTuphap({"--data", hub, "init", "--role", "hub", "--province", "56"}).exit_code, 0);
  const std::string hub_id =
      JsonOf(RunTuphap({"--data", hub, "--json", "status"})).Find("node_id")->as_string();
  struct Step {
    std::vector<std::string> args;
    bool writes_a_file;  // else a step the next ones need
  };
  const std::vector<Step> steps = {
      {{"--data", c, "init", "--commune", "22333"}, true},
      {{"--data", c, "enroll", "request", "--out", Dir("req")}, true},
      {{"--data", hub, "enroll", "sign", Dir("req"), "--out", Dir("enr")}, true},
      {{"--data", c, "enroll", "accept", Dir("enr")}, false},
      {{"--data", c, "bundle", "export", "--for", hub_id, "--all", "--out", Dir("b.tpb")}, true},
      {{"--data", c, "snapshot", "--out", Dir("snap.db")}, true},
  };
  int renames = 0;
  for (const Step& step : steps) {
    if (!step.writes_a_file) {
      auto r = RunTuphap(step.args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      continue;
    }
    const std::string log = Dir("strace.log");
    // LeakSanitizer cannot run under ptrace: the sanitizer build's leak
    // check is switched off for the traced command only.
    auto r = RunTuphap(step.args,
                       "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 "
                       "strace -f -qq -o " +
                           log +
                           " -e trace=openat,open,fsync,fdatasync,rename,renameat,"
                           "renameat2,close");
    ASSERT_EQ(r.exit_code, 0) << step.args[2] << ": " << r.err;
    // rename("…/x.tmp-…", "…/x") = 0, then openat(…, "…", O_RDONLY|O_DIRECTORY…) = FD
    // and fsync(FD) = 0 in the same process, FD being the folder of the new
    // name (init moves its files out of a staging folder).
    std::istringstream in(ReadFile(log));
    std::string line;
    std::map<std::string, std::string> pending;  // pid -> renamed file's directory
    std::map<std::string, std::string> dir_fd;   // pid -> fd of that directory
    const std::regex rename_re(
        R"re(^(\d+) +rename(?:at2?)?\(.*, .*"([^"]*)/[^"/]*"(?:, \w+)?\) = 0)re");
    const std::regex open_re(
        R"re(^(\d+) +open(?:at)?\(.*"([^"]*)", O_RDONLY[^)]*O_DIRECTORY.*\) = (\d+))re");
    const std::regex fsync_re(R"re(^(\d+) +fsync\((\d+)\) += 0)re");
    std::smatch m;
    int synced = 0, renamed = 0;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, rename_re)) {
        pending[m[1]] = m[2];
        ++renamed;
      } else if (std::regex_search(line, m, open_re)) {
        if (pending.count(m[1]) && pending[m[1]] == m[2].str()) dir_fd[m[1]] = m[3];
      } else if (std::regex_search(line, m, fsync_re)) {
        if (dir_fd.count(m[1]) && dir_fd[m[1]] == m[2].str()) {
          ++synced;
          pending.erase(m[1]);
          dir_fd.erase(m[1]);
        }
      }
    }
    EXPECT_GE(renamed, 1) << step.args[2] << " renamed nothing";
    EXPECT_EQ(synced, renamed) << step.args[2] << ": " << renamed << " renames, " << synced
                               << " followed by a directory fsync";
    renames += renamed;
  }
  EXPECT_GE(renames, 5);
}

}  // namespace
}  // namespace tuphap
