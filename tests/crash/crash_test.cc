// Crash test (issue 2): a child process applying batches is killed with
// SIGKILL at random moments; after each kill the database must open, pass
// PRAGMA integrity_check, and hold exactly the batches that had committed:
// every batch the child reported, possibly the one it committed but had not
// yet reported, and nothing partial. Seeded; the seed is printed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/random.h"
#include "node/store/draft_opener.h"
#include "node/store/store.h"
#include "node/store/test_access.h"
#include "replication/draft.h"
#include "tests/crash/batch_source.h"

namespace tuphap {
namespace {

constexpr uint64_t kBatchSize = 25;
constexpr int kFields = 15;

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child Spawn(const std::string& db) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(TUPHAP_CRASH_CHILD, TUPHAP_CRASH_CHILD, db.c_str(), std::to_string(kBatchSize).c_str(),
          std::to_string(kFields).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return {pid, fds[0]};
}

void ParseReports(std::string* partial, uint64_t* last) {
  size_t nl;
  while ((nl = partial->find('\n')) != std::string::npos) {
    *last = std::strtoull(partial->substr(0, nl).c_str(), nullptr, 10);
    partial->erase(0, nl + 1);
  }
}

// After the child is dead: everything it wrote, up to end of file.
uint64_t DrainReports(int fd, uint64_t last, std::string* partial) {
  fcntl(fd, F_SETFL, 0);  // blocking: the writer is gone, so read ends at EOF
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) partial->append(buf, static_cast<size_t>(n));
  ParseReports(partial, &last);
  return last;
}

// Reads the child's reports for `run_ms`; returns the last one.
uint64_t ReadReports(int fd, int64_t run_ms, uint64_t last, std::string* partial) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    partial->append(buf, static_cast<size_t>(n));
    ParseReports(partial, &last);
  }
  return last;
}

// The same batches applied without crashes, to compare digests with.
class Reference {
 public:
  explicit Reference(const std::string& path) {
    store_ = std::move(store::Store::Open(path, store::Database::OpenMode::kCreate)).value();
  }
  // Digest of the state after `batches` whole batches.
  replication::Hash DigestAfter(uint64_t batches) {
    while (applied_ < batches) {
      std::vector<store::Store::Incoming> batch;
      for (uint64_t i = 0; i < kBatchSize; ++i) {
        crdt::Change c = testing_support::BatchChange(++seq_, kFields, /*with_amends=*/true);
        replication::Envelope e = replication::MakeDraft(c, prev_);
        prev_ = e.hash();
        batch.push_back({std::move(e), std::move(c)});
      }
      EXPECT_TRUE(store_->Apply(batch, opener_, store::ApplyOptions{.allow_drafts = true}).ok());
      ++applied_;
    }
    auto d = store_->Digests("56001");
    return d.ok() && !d->empty() ? d->front().digest : replication::Hash{};
  }

 private:
  std::unique_ptr<store::Store> store_;
  store::DraftOpener opener_;
  uint64_t applied_ = 0;
  uint64_t seq_ = 0;
  replication::Hash prev_{};
};

TEST(CrashTest, KillNineDuringBatchApplyKeepsExactlyTheCommittedBatches) {
  const uint64_t seed = std::getenv("TUPHAP_SEED")
                            ? std::strtoull(std::getenv("TUPHAP_SEED"), nullptr, 10)
                            : static_cast<uint64_t>(time(nullptr));
  std::printf("crash test seed=%llu (replay with TUPHAP_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  Random rng(seed);
  const auto dir =
      std::filesystem::temp_directory_path() / ("tuphap-crash-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "crash.db").string();
  // The store exists before the first child runs, so a kill before the
  // child's first commit still leaves a store to open.
  ASSERT_TRUE(store::Store::Open(db, store::Database::OpenMode::kCreate).ok());
  Reference reference((dir / "reference.db").string());

  const int kKills = 60;
  uint64_t reported = 0;
  int extra_commits = 0;
  for (int kill_no = 0; kill_no < kKills; ++kill_no) {
    Child child = Spawn(db);
    std::string partial;
    // Kill at a random moment: sometimes before the first commit, mostly mid-run.
    reported = ReadReports(child.out, rng.Range(5, 150), reported, &partial);
    kill(child.pid, SIGKILL);
    int status = 0;
    waitpid(child.pid, &status, 0);
    // Reports written before the kill may still be in the pipe.
    reported = DrainReports(child.out, reported, &partial);
    close(child.out);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child ended on its own (status " << status << ") at kill " << kill_no << ", seed "
        << seed;

    auto store = store::Store::Open(db, store::Database::OpenMode::kExisting);
    ASSERT_TRUE(store.ok()) << store.status().ToString() << " seed " << seed;
    {
      auto q = store::TestAccess::Db(**store).Prepare("PRAGMA integrity_check");
      ASSERT_TRUE(q.ok());
      ASSERT_TRUE(*q->Step());
      ASSERT_EQ(q->Text(0), "ok") << "seed " << seed << " kill " << kill_no;
    }
    auto head = (*store)->Head({testing_support::BatchOrigin(), "56001"});
    ASSERT_TRUE(head.ok());
    const uint64_t seq = *head ? (**head).seq : 0;
    ASSERT_EQ(seq % kBatchSize, 0u) << "a partial batch is visible; seed " << seed;
    const uint64_t batches = seq / kBatchSize;
    ASSERT_GE(batches, reported) << "a reported batch was lost; seed " << seed;
    ASSERT_LE(batches, reported + 1) << "more batches than could have committed; seed " << seed;
    extra_commits += static_cast<int>(batches - reported);
    reported = batches;  // the child resumes from the stored head

    auto q = store::TestAccess::Db(**store).Prepare(
        "SELECT count(*) FROM records WHERE scope = '56001'");
    ASSERT_TRUE(*q->Step());
    ASSERT_EQ(static_cast<uint64_t>(q->Int(0)), testing_support::CreatedUpTo(seq, true))
        << "records do not match the log; seed " << seed;
    // The state is exactly that of the committed batches, amendments included.
    auto digest = (*store)->Digests("56001");
    ASSERT_TRUE(digest.ok());
    ASSERT_EQ(digest->front().digest, reference.DigestAfter(batches))
        << "state differs from the committed batches; seed " << seed << " kill " << kill_no;
  }
  std::printf("kills=%d batches=%llu committed-but-unreported=%d\n", kKills,
              static_cast<unsigned long long>(reported), extra_commits);
  EXPECT_GT(reported, 0u) << "the child never committed: the test exercised nothing";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tuphap
