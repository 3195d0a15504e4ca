// Store schema and its migrations.
//
// The schema version is SQLite's `PRAGMA user_version`. Each migration takes
// the store from version N-1 to N inside one transaction, so an interrupted
// upgrade leaves the old version intact. A store written by a newer tuphap
// (a version above the newest we know) is refused rather than guessed at.
#pragma once

#include <span>

#include "node/store/sqlite.h"

namespace tuphap::store {

struct Migration {
  int version;      // the version this migration produces
  const char* sql;  // statements run in one transaction
};

// The migrations of this build, in order.
std::span<const Migration> StoreMigrations();
int LatestSchemaVersion();

// Brings `db` to the last version of `migrations`. FailedPrecondition when the
// file is newer than that; the failing migration's error otherwise (nothing
// of it applied).
Status Migrate(Database& db, std::span<const Migration> migrations);
Result<int> SchemaVersion(Database& db);

}  // namespace tuphap::store
