#include "node/store/trust_probe.h"

#include "base/hex.h"
#include "node/store/scoped_queries.h"

namespace tuphap::store {

Result<std::string> ReadTrustStamp(Database& db, std::string_view public_scope) {
  // trust_objects rows are only ever inserted, and a public record changes
  // only when its feed materialises one more change: counts and sums say
  // whether anything trust is read from moved. About 30 µs on a province's
  // worth of objects and feeds, against ~30 ms for reading trust.
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db.Prepare(kTrustStamp.sql));
  q.Bind(1, public_scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("the trust stamp query returned nothing");
  return ToHex(q.Blob(0)) + "|" + std::to_string(q.Int(1)) + "|" + std::string(q.Text(2));
}

Result<std::unique_ptr<TrustProbe>> TrustProbe::Open(const std::string& path,
                                                     std::string public_scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                          Database::Open(path, Database::OpenMode::kExisting));
  // A reader waits only while the file is being recovered or checkpointed
  // in full; the caller then asks the store's owner instead.
  sqlite3_busy_timeout(db->handle(), 0);
  TUPHAP_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=ON"));
  return std::unique_ptr<TrustProbe>(new TrustProbe(std::move(db), std::move(public_scope)));
}

Result<std::string> TrustProbe::Stamp() {
  int64_t version = -1;
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("PRAGMA data_version"));
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Internal("PRAGMA data_version returned nothing");
    version = q.Int(0);
  }
  if (version == data_version_ && !stamp_.empty()) return stamp_;
  TUPHAP_ASSIGN_OR_RETURN(std::string stamp, ReadTrustStamp(*db_, scope_));
  data_version_ = version;
  stamp_ = stamp;
  return stamp;
}

}  // namespace tuphap::store
