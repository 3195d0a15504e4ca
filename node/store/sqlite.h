// Owners for SQLite handles: Database (the connection and its cache of
// prepared statements), Stmt (a borrowed prepared statement that resets
// itself on every exit) and Transaction (BEGIN IMMEDIATE in the constructor,
// ROLLBACK unless Commit() succeeded). SQLite result codes become Status:
// a full disk is ResourceExhausted/E_DISK_FULL, I/O failures IoError,
// damaged files Corruption, a busy database Unavailable.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace tuphap::store {

class Database;

class Stmt {
 public:
  Stmt(Stmt&& other) noexcept
      : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_), owned_(other.owned_) {
    other.stmt_ = nullptr;
    other.in_use_ = nullptr;
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based; values are copied.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& BindBlob(int i, std::string_view bytes);
  // Without a copy: `bytes` must stay alive and unchanged until the
  // statement has run (use for large values bound and run in one expression).
  Stmt& BindBlobNoCopy(int i, std::string_view bytes);
  Stmt& BindNull(int i);

  // True when a row is ready, false when done.
  Result<bool> Step();
  // Steps to the end; for statements that return no rows.
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string_view Text(int col) const;
  std::string_view Blob(int col) const;

 private:
  friend class Database;
  Stmt(Database* db, sqlite3_stmt* stmt, bool* in_use, bool owned)
      : db_(db), stmt_(stmt), in_use_(in_use), owned_(owned) {}
  Database* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag, cleared when this Stmt goes away
  bool owned_;    // a one-off statement (the cached one was busy): finalize it
};

class Database {
 public:
  enum class OpenMode { kCreate, kExisting };

  // Opens (kCreate: or creates) the file with WAL, synchronous=FULL and a
  // busy timeout. kExisting opens only a store this program made and
  // writes nothing before checking: NotFound when there is no file,
  // Corruption (E_STORE_CORRUPT) when it is empty (0 bytes), not an SQLite
  // database, or an SQLite database without a schema version.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, OpenMode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql`; it resets when the Stmt goes away.
  // While one is alive, the same SQL gets a fresh statement (so nested uses
  // of one query never share bindings or cursors).
  Result<Stmt> Prepare(std::string_view sql);
  // Status for an SQLite result code, naming what was being done.
  Status Error(int rc, std::string_view what) const;
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status CheckExisting();
  sqlite3* db_;
  std::string path_;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    std::unique_ptr<bool> in_use = std::make_unique<bool>(false);
  };
  std::unordered_map<std::string, Cached> statements_;
};

class Transaction {
 public:
  // Begins with BEGIN IMMEDIATE: the write lock is taken now, so a busy
  // database fails here rather than at the first write.
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& status() const { return begin_status_; }
  Status Commit();

 private:
  Database& db_;
  Status begin_status_;
  bool open_ = false;
};

}  // namespace tuphap::store
