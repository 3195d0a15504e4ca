// Whether the province's trust may have moved since a stamp was taken,
// asked from a thread that does not own the node's Store: the listener's
// network thread answers CURVE handshakes (ZAP) from a cache of admitted
// keys and asks this before each answer. A connection of its own on the
// same file, read-only: under WAL a reader never waits for the writer, so
// a handshake never waits behind a commit.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "node/store/sqlite.h"

namespace tuphap::store {

// What Store::TrustStamp reads (one statement, on any connection).
Result<std::string> ReadTrustStamp(Database& db, std::string_view public_scope);

class TrustProbe {
 public:
  // Opens `path` (an existing store) on a connection of its own.
  static Result<std::unique_ptr<TrustProbe>> Open(const std::string& path,
                                                  std::string public_scope);
  // The trust stamp as the file holds it now: one pragma when nothing was
  // written since the last call, the stamp's query (~30 µs) otherwise.
  Result<std::string> Stamp();

 private:
  TrustProbe(std::unique_ptr<Database> db, std::string scope)
      : db_(std::move(db)), scope_(std::move(scope)) {}
  std::unique_ptr<Database> db_;
  std::string scope_;
  int64_t data_version_ = -1;
  std::string stamp_;
};

}  // namespace tuphap::store
