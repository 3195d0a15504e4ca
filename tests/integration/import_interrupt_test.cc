// An import killed part-way (SIGKILL, or Ctrl-C) leaves exactly the batches
// it committed — the state of importing a whole-batch prefix of the file —
// and running the same import again finishes the job with the same result
// as one uninterrupted run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "base/json.h"
#include "node/domain/record_json.h"
#include "node/node.h"
#include "node/store/sqlite.h"
#include "node/test_keys.h"
#include "tests/integration/cli_runner.h"

namespace tuphap {
namespace {

using testing_support::RunTuphap;

constexpr int kBatch = 400;

// record id -> its document: what an officer sees, without the node's
// identities and clocks, so two nodes importing the same lines compare equal.
using Snapshot = std::map<std::string, std::string>;

Snapshot TakeSnapshot(const std::string& dir, const std::string& scope) {
  auto node = node::Node::Open(dir, node::TestOptions());
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  if (!node.ok()) return {};
  Snapshot snap;
  auto records = (*node)->store().RecordsWithPrefix(scope, "");
  EXPECT_TRUE(records.ok()) << records.status().ToString();
  if (!records.ok()) return {};
  for (const auto& r : *records) snap[r.record_id] = domain::Unflatten(r.state).Dump();
  return snap;
}

// Records committed so far, read while an import may be writing (WAL).
int64_t CommittedRecords(const std::string& dir) {
  auto db = store::Database::Open(node::StorePath(dir), store::Database::OpenMode::kExisting);
  if (!db.ok()) return -1;
  auto q = (*db)->Prepare("SELECT count(*) FROM records");
  if (!q.ok()) return -1;
  auto row = q->Step();
  return row.ok() && *row ? q->Int(0) : -1;
}

class ImportInterruptTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("tuphap-interrupt-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  void Init(const std::string& data) {
    ASSERT_EQ(RunTuphap({"--data", data, "init", "--commune", "22333"}).exit_code, 0);
  }

  // Starts `tuphap import` in the background; returns its pid.
  pid_t StartImport(const std::string& data, const std::string& file) {
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      const std::string batch = std::to_string(kBatch);
      execl(TUPHAP_BINARY, TUPHAP_BINARY, "--data", data.c_str(), "import", "--batch",
            batch.c_str(), file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }

  std::filesystem::path dir_;
};

TEST_F(ImportInterruptTest, KilledImportKeepsWholeBatchesAndARerunFinishes) {
  const std::string file = Path("in.jsonl");
  ASSERT_EQ(RunTuphap({"generate", "--records", "9000", "--edits", "900", "--seed", "5",
                       "--commune", "22333", "--out", file})
                .exit_code,
            0);
  // Records created by the first n lines, for every n.
  std::vector<std::string> lines;
  std::vector<size_t> created_by = {0};
  {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      auto j = ParseJson(line, nullptr);
      ASSERT_TRUE(j.has_value());
      created_by.push_back(created_by.back() + (j->Find("op")->as_string() == "create" ? 1 : 0));
      lines.push_back(std::move(line));
    }
  }
  const std::string data = Path("node");
  Init(data);

  // A reference store from the first `n` lines, imported without interruption.
  auto reference = [&](size_t n) {
    const std::string prefix = Path("prefix.jsonl");
    {
      std::ofstream out(prefix);
      for (size_t i = 0; i < n; ++i) out << lines[i] << '\n';
    }
    const std::string ref = Path("ref");
    std::filesystem::remove_all(ref);
    Init(ref);
    EXPECT_EQ(RunTuphap({"--data", ref, "import", prefix}).exit_code, 0);
    return TakeSnapshot(ref, "22333");
  };

  // Each run is killed once it has committed a batch of its own (so it is
  // past start-up and its Ctrl-C handler), after a growing extra delay; each
  // run skips what is already in and gets further.
  const int signals[] = {SIGKILL, SIGINT, SIGKILL, SIGKILL};
  int delay_ms = 0;
  size_t interrupted = 0;
  for (int sig : signals) {
    const int64_t before = CommittedRecords(data);
    const pid_t pid = StartImport(data, file);
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 2000 && !reaped && CommittedRecords(data) <= before; ++i) {
      reaped = waitpid(pid, &status, WNOHANG) == pid;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      kill(pid, sig);
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
    }
    delay_ms += 100;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      continue;  // finished first: nothing to check
    ++interrupted;
    if (sig == SIGINT) {
      ASSERT_TRUE(WIFEXITED(status));
      EXPECT_EQ(WEXITSTATUS(status), 130);
    } else {
      ASSERT_TRUE(WIFSIGNALED(status));
    }
    const Snapshot got = TakeSnapshot(data, "22333");
    // The committed state is that of a whole-batch prefix of the file...
    size_t batches = 0;
    bool found = false;
    // (The whole file is one too: its last batch may be short, and a run
    // can be killed after committing it but before it exits.)
    for (size_t b = 0; !found; ++b) {
      const size_t n = std::min(b * kBatch, lines.size());
      if (created_by[n] == got.size()) {
        batches = b;
        found = true;
      }
      if (n == lines.size()) break;
    }
    ASSERT_TRUE(found) << got.size() << " records is not the result of whole batches";
    // ... record for record, field for field.
    EXPECT_EQ(got, reference(std::min(batches * kBatch, lines.size())))
        << "after " << batches << " batches";
  }
  EXPECT_GE(interrupted, 2u) << "the imports finished before they could be interrupted";

  auto rerun = RunTuphap({"--data", data, "--json", "import", file});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto summary = ParseJson(rerun.out.substr(rerun.out.rfind("{\"summary\"")), nullptr);
  ASSERT_TRUE(summary.has_value()) << rerun.out;
  const Json& s = *summary->Find("summary");
  EXPECT_EQ(s.Find("refused")->as_int(), 0);
  EXPECT_EQ(static_cast<size_t>(s.Find("accepted")->as_int() + s.Find("duplicates")->as_int()),
            lines.size());
  EXPECT_GT(s.Find("duplicates")->as_int(), 0);
  EXPECT_EQ(TakeSnapshot(data, "22333"), reference(lines.size()));
}

}  // namespace
}  // namespace tuphap
