// Whole-database operations of a Store: a plain write transaction, a read
// snapshot, and a consistent copy in one file.
#include "node/store/store.h"

namespace tuphap::store {

Result<std::unique_ptr<Transaction>> Store::BeginTransaction() {
  AssertOwnerThread();
  auto txn = std::make_unique<Transaction>(*db_);
  TUPHAP_RETURN_IF_ERROR(txn->status());
  return txn;
}

Status Store::Snapshot(const std::string& path) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("VACUUM INTO ?"));
  q.Bind(1, path);
  return q.Step().status();
}

ReadSnapshot::ReadSnapshot(Store& store) : store_(store), began_(false) {
  store_.AssertOwnerThread();
  // A plain BEGIN fails inside a transaction: then the reads are already in
  // one snapshot.
  began_ = store_.db_->Exec("BEGIN").ok();
}

ReadSnapshot::~ReadSnapshot() {
  if (began_) (void)store_.db_->Exec("ROLLBACK");
}

}  // namespace tuphap::store
