// The trust objects a node keeps (certificates, revocations and key grants
// signed by the province root), by the id each has as a record of the
// public scope. Rows are only ever added.
#include "base/hex.h"
#include "node/store/scoped_queries.h"
#include "node/store/store.h"
#include "node/store/trust_probe.h"

namespace tuphap::store {

Status Store::AddTrustObject(std::string_view record_id, std::string_view kind,
                             std::string_view bytes) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt ins,
      db_->Prepare("INSERT OR IGNORE INTO trust_objects(record_id, kind, bytes) VALUES(?, ?, ?)"));
  return ins.Bind(1, record_id).Bind(2, kind).BindBlob(3, bytes).Run();
}

Result<std::vector<std::pair<std::string, std::string>>> Store::TrustObjects() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          db_->Prepare("SELECT kind, bytes FROM trust_objects ORDER BY record_id"));
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(std::string(q.Text(0)), std::string(q.Blob(1)));
  }
  return out;
}

Result<bool> Store::HasTrustObjectIn(std::string_view lo, std::string_view hi) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT 1 FROM trust_objects WHERE record_id >= ? AND record_id < ?"));
  q.Bind(1, lo).Bind(2, hi);
  return q.Step();
}

Result<std::string> Store::TrustStamp(std::string_view public_scope) {
  AssertOwnerThread();
  return ReadTrustStamp(*db_, public_scope);
}

}  // namespace tuphap::store
