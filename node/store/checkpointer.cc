#include "node/store/checkpointer.h"

#include <system_error>

#include "obs/log.h"

namespace tuphap::store {

Result<std::unique_ptr<BackgroundCheckpointer>> BackgroundCheckpointer::Start(Database& writer,
                                                                              int pages) {
  if (pages < 1) return Status::InvalidArgument("a checkpoint threshold must be at least 1 page");
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> own,
                          Database::Open(writer.path(), Database::OpenMode::kExisting));
  try {
    return std::unique_ptr<BackgroundCheckpointer>(
        new BackgroundCheckpointer(writer, std::move(own), pages));
  } catch (const std::system_error& e) {  // no thread could be started
    return Status::ResourceExhausted(std::string("cannot start a thread: ") + e.what());
  }
}

BackgroundCheckpointer::BackgroundCheckpointer(Database& writer, std::unique_ptr<Database> own,
                                               int pages)
    : writer_(writer), own_(std::move(own)), pages_(pages) {
  thread_ = std::thread([this] { Run(); });
  // Replaces SQLite's automatic checkpoint (sqlite3_wal_autocheckpoint and
  // sqlite3_wal_hook share one slot).
  sqlite3_wal_hook(writer_.handle(), &BackgroundCheckpointer::OnCommit, this);
}

BackgroundCheckpointer::~BackgroundCheckpointer() {
  sqlite3_wal_autocheckpoint(writer_.handle(), 1000);  // SQLite's default again
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

BackgroundCheckpointer::Counts BackgroundCheckpointer::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  Counts c = counts_;
  c.wal_frames = static_cast<uint64_t>(wal_frames_.load(std::memory_order_relaxed));
  return c;
}

// On the writer's thread, after each commit, with the WAL's size in pages.
int BackgroundCheckpointer::OnCommit(void* arg, sqlite3* db, const char* name, int pages) {
  auto* self = static_cast<BackgroundCheckpointer*>(arg);
  self->wal_frames_.store(pages, std::memory_order_relaxed);
  if (pages < self->pages_) return SQLITE_OK;
  if (pages >= 4 * self->pages_) {
    // The thread is behind: bound the WAL here, as SQLite's hook would,
    // once its checkpoint (if one runs) is done, so this one is not BUSY.
    int rc;
    {
      std::lock_guard<std::mutex> running(self->checkpointing_);
      rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      obs::Log().warn("checkpointing the store's write-ahead log: {}",
                      self->writer_.Error(rc, "checkpoint").ToString());
    }
    std::lock_guard<std::mutex> lock(self->mu_);
    ++self->counts_.inline_;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) ++self->counts_.failed;
    return SQLITE_OK;
  }
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->wanted_ = true;
  }
  self->wake_.notify_one();
  return SQLITE_OK;
}

void BackgroundCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return wanted_ || stop_; });
    if (stop_) return;
    wanted_ = false;
    lock.unlock();
    int log = -1, done = -1;
    int rc;
    {
      // The commit at 4 times the threshold waits on this (OnCommit).
      std::lock_guard<std::mutex> running(checkpointing_);
      rc = sqlite3_wal_checkpoint_v2(own_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                     &done);
    }
    // BUSY: another checkpoint (the writer's fallback, another process's)
    // runs; the next commit over the threshold asks again.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      obs::Log().warn("checkpointing the store's write-ahead log: {}",
                      own_->Error(rc, "checkpoint").ToString());
    }
    lock.lock();
    if (rc == SQLITE_OK) ++counts_.background;
    if (rc == SQLITE_OK && log >= 0 && done == log) ++counts_.whole;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) ++counts_.failed;
  }
}

}  // namespace tuphap::store
