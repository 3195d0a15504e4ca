// Tests only: a Store's SQLite connection, to look at tables directly or to
// damage them as an editor outside tuphap would. Production code reaches
// SQLite through Store's methods: SQL lives in node/store/ only.
#pragma once

#include "node/store/store.h"

namespace tuphap::store {

class TestAccess {
 public:
  static Database& Db(Store& store) { return *store.db_; }
};

}  // namespace tuphap::store
