#include "node/store/sqlite.h"

#include <cassert>

namespace tuphap::store {

Stmt::~Stmt() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (in_use_ != nullptr) *in_use_ = false;
}

// Binding fails only on misuse (an index out of range): a bug, so asserted.
Stmt& Stmt::Bind(int i, int64_t v) {
  [[maybe_unused]] const int rc = sqlite3_bind_int64(stmt_, i, v);
  assert(rc == SQLITE_OK);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  // An empty view may have a null data pointer, which SQLite binds as NULL.
  [[maybe_unused]] const int rc = sqlite3_bind_text(
      stmt_, i, text.empty() ? "" : text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  assert(rc == SQLITE_OK);
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL.
  [[maybe_unused]] const int rc =
      sqlite3_bind_blob(stmt_, i, bytes.empty() ? "" : bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT);
  assert(rc == SQLITE_OK);
  return *this;
}

Stmt& Stmt::BindBlobNoCopy(int i, std::string_view bytes) {
  [[maybe_unused]] const int rc = sqlite3_bind_blob(stmt_, i, bytes.empty() ? "" : bytes.data(),
                                                    static_cast<int>(bytes.size()), SQLITE_STATIC);
  assert(rc == SQLITE_OK);
  return *this;
}

Stmt& Stmt::BindNull(int i) {
  [[maybe_unused]] const int rc = sqlite3_bind_null(stmt_, i);
  assert(rc == SQLITE_OK);
  return *this;
}

Result<bool> Stmt::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, sqlite3_sql(stmt_));
}

Status Stmt::Run() {
  while (true) {
    auto r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::string_view Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p == nullptr ? std::string_view()
                      : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::string_view Stmt::Blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p == nullptr ? std::string_view()
                      : std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, OpenMode mode) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == OpenMode::kCreate) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));
  if (rc != SQLITE_OK) {
    if (mode == OpenMode::kExisting && rc == SQLITE_CANTOPEN) {
      return Status::NotFound("no store at " + path);
    }
    return db->Error(rc, "opening " + path);
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10'000);
  if (mode == OpenMode::kExisting) TUPHAP_RETURN_IF_ERROR(db->CheckExisting());
  // Legal registers: a commit reported to an officer must survive power loss,
  // so FULL, not NORMAL (which may lose the last commits after a power cut).
  TUPHAP_RETURN_IF_ERROR(
      db->Exec("PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA "
               "foreign_keys=ON;"
               "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;"));
  return db;
}

// Before the pragmas: switching an empty file to WAL, or the first
// migration, would write a new store into it.
Status Database::CheckExisting() {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
  int64_t version = 0;
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      version = sqlite3_column_int64(stmt, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  if ((rc & 0xFF) == SQLITE_NOTADB) {
    return Status::Corruption("the store file " + path_ +
                              " is not an SQLite database: it is damaged or is some other file")
        .WithReason("E_STORE_CORRUPT");
  }
  if (rc != SQLITE_OK) return Error(rc, "reading " + path_);
  if (version == 0) {
    return Status::Corruption("the store file " + path_ +
                              " is empty or holds no tuphap store (nothing was written to it; "
                              "restore it from a backup or snapshot, or init a new node elsewhere)")
        .WithReason("E_STORE_CORRUPT");
  }
  return Status::Ok();
}

Database::~Database() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    return Error(rc, message.empty() ? sql : message);
  }
  return Status::Ok();
}

Result<Stmt> Database::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end() && *it->second.in_use) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql);
    return Stmt(this, stmt, nullptr, /*owned=*/true);
  }
  if (it == statements_.end()) {
    Cached c;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &c.stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, sql);
    it = statements_.emplace(std::string(sql), std::move(c)).first;
  }
  *it->second.in_use = true;
  return Stmt(this, it->second.stmt, it->second.in_use.get(), /*owned=*/false);
}

Status Database::Error(int rc, std::string_view what) const {
  const std::string detail = std::string(sqlite3_errstr(rc)) + " (" + std::string(what) + ")";
  switch (rc & 0xFF) {
    case SQLITE_FULL:
      return Status::ResourceExhausted("the disk is full: " + detail).WithReason("E_DISK_FULL");
    case SQLITE_IOERR:
      return Status::IoError("disk I/O failed, nothing was recorded: " + detail).WithReason("E_IO");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption("the store file " + path_ + " is damaged: " + detail)
          .WithReason("E_STORE_CORRUPT");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("the store is busy (another tuphap process holds it): " + detail)
          .WithReason("E_BUSY");
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(detail);
    case SQLITE_READONLY:
      return Status::PermissionDenied("the store is read-only: " + detail);
    case SQLITE_CANTOPEN:
      return Status::IoError("cannot open the store: " + detail);
    default:
      return Status::Internal("SQLite: " + detail);
  }
}

Transaction::Transaction(Database& db) : db_(db) {
  begin_status_ = db_.Exec("BEGIN IMMEDIATE");
  open_ = begin_status_.ok();
}

Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (!open_)
    return begin_status_.ok() ? Status::Internal("commit of a closed transaction") : begin_status_;
  Status s = db_.Exec("COMMIT");
  // A failed COMMIT leaves the transaction open; the destructor rolls back.
  if (s.ok()) open_ = false;
  return s;
}

}  // namespace tuphap::store
