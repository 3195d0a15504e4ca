// WAL checkpoints on a thread of their own, for a serving hub (issue 17,
// "a serve loop that never waits on disk").
//
// Under WAL every commit appends the pages it changed to the -wal file; a
// checkpoint copies them back into the database file and syncs it. SQLite's
// automatic checkpoint runs inside the commit that crosses its threshold, on
// the committing thread: the serve loop's worker then writes and syncs up to
// 64 MiB of pages before it answers the next frame (about 6 % of a hub's
// worker time under load_bench, and all of its disk waits besides the
// commits' own). Here the writer's WAL hook only notes the WAL's size and
// wakes this thread, which checkpoints PASSIVE through a connection of its
// own: a PASSIVE checkpoint never blocks the writer, and the writer never
// waits for it. Durability is unchanged: every commit still syncs the WAL
// (synchronous=FULL), and a checkpoint syncs the database file before the
// WAL is reused.
//
// Bound: a PASSIVE checkpoint copies the frames committed before it began,
// and SQLite starts the WAL over only when a checkpoint has copied every
// frame; under a writer that never pauses the thread may not catch up, or
// may be slower than the disk's writes. So a commit that finds the WAL at 4
// times the threshold waits for the thread's checkpoint, if one runs, and
// checkpoints itself, as SQLite's own hook would: with no commit between,
// that one copies every frame (unless another process reads an old
// snapshot, as with SQLite's own checkpoints; in this process the trust
// probe's connection reads between commits only, one statement at a time),
// and the next transaction starts the WAL over. The WAL therefore holds at most 4 times the
// threshold and one transaction's pages.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "node/store/sqlite.h"

namespace tuphap::store {

class BackgroundCheckpointer {
 public:
  // Takes over `writer`'s WAL hook (SQLite's automatic checkpoint is off
  // while it runs) and checkpoints once the WAL holds `pages` pages.
  // `writer` must outlive this object.
  static Result<std::unique_ptr<BackgroundCheckpointer>> Start(Database& writer, int pages);
  // Stops the thread and gives `writer` SQLite's automatic checkpoint back.
  ~BackgroundCheckpointer();
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;

  struct Counts {
    uint64_t background = 0;  // checkpoints this thread ran without error (SQLITE_OK)
    uint64_t whole = 0;       // of those, the ones that copied every frame then in the WAL
    uint64_t inline_ = 0;     // checkpoints a commit ran itself (the WAL at 4 times the threshold)
    uint64_t failed = 0;      // checkpoints (of either) that returned an error other than BUSY
    // Frames in the WAL after the writer's last commit (SQLite starts the
    // log over at the first write after a checkpoint that copied every
    // frame and no reader needs; the file keeps its size up to the bound).
    uint64_t wal_frames = 0;
  };
  Counts counts() const;

 private:
  BackgroundCheckpointer(Database& writer, std::unique_ptr<Database> own, int pages);
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  Database& writer_;
  std::unique_ptr<Database> own_;  // used by the thread only
  const int pages_;
  std::mutex checkpointing_;  // held through each checkpoint, on either thread
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stop_ = false;
  Counts counts_;
  std::atomic<int> wal_frames_{0};  // set at every commit, without the lock
  std::thread thread_;
};

}  // namespace tuphap::store
