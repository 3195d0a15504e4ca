// The hub's delivery receipts a node keeps for its own feeds, and the
// rollbacks seen (a hub that later announced less than it signed for).
// Local rows: no change, feed or bundle ever carries them.
#include <string_view>

#include "node/store/key_blob.h"
#include "node/store/store.h"

namespace tuphap::store {
Status Store::SaveReceipt(const ReceiptRow& r) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt up,
      db_->Prepare("INSERT INTO receipts(hub, origin, scope, seq, hash, received_ms, body, "
                   "signature) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                   "ON CONFLICT(hub, origin, scope) DO UPDATE SET seq = ?4, hash = ?5, "
                   "received_ms = ?6, body = ?7, signature = ?8 WHERE seq < ?4"));
  return up.BindBlob(1, Blob(r.hub))
      .BindBlob(2, Blob(r.feed.origin))
      .Bind(3, r.feed.scope)
      .Bind(4, static_cast<int64_t>(r.seq))
      .BindBlob(5, std::string_view(reinterpret_cast<const char*>(r.hash.data()), r.hash.size()))
      .Bind(6, r.received_ms)
      .BindBlob(7, r.body)
      .BindBlob(8, r.signature)
      .Run();
}

Result<std::vector<ReceiptRow>> Store::Receipts() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT hub, origin, scope, seq, hash, received_ms, body, signature "
                           "FROM receipts ORDER BY scope, origin, hub"));
  std::vector<ReceiptRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ReceiptRow r;
    if (!ReadKey(q.Blob(0), &r.hub) || !ReadKey(q.Blob(1), &r.feed.origin)) continue;
    r.feed.scope = std::string(q.Text(2));
    r.seq = static_cast<uint64_t>(q.Int(3));
    const std::string_view hash = q.Blob(4);
    if (hash.size() == r.hash.size()) std::copy(hash.begin(), hash.end(), r.hash.begin());
    r.received_ms = q.Int(5);
    r.body = std::string(q.Blob(6));
    r.signature = std::string(q.Blob(7));
    out.push_back(std::move(r));
  }
  return out;
}

Status Store::RecordHubRollback(const HubRollbackRow& r) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Transaction> txn, BeginTransaction());
  // The same rollback seen again (a hub that stays behind, or catches up
  // over several sessions) is one event: one row and one refusal per
  // receipt the hub fell below, so the table stays bounded by what really
  // happened.
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt seen, db_->Prepare("SELECT 1 FROM hub_rollbacks WHERE hub = ? AND origin = ? AND "
                              "scope = ? AND signed_seq = ?"));
  TUPHAP_ASSIGN_OR_RETURN(bool already, seen.BindBlob(1, Blob(r.hub))
                                            .BindBlob(2, Blob(r.feed.origin))
                                            .Bind(3, r.feed.scope)
                                            .Bind(4, static_cast<int64_t>(r.signed_seq))
                                            .Step());
  if (already) return Status::Ok();
  TUPHAP_ASSIGN_OR_RETURN(Stmt ins,
                          db_->Prepare("INSERT INTO hub_rollbacks(hub, origin, scope, signed_seq, "
                                       "announced_seq, seen_ms) VALUES(?, ?, ?, ?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.BindBlob(1, Blob(r.hub))
                             .BindBlob(2, Blob(r.feed.origin))
                             .Bind(3, r.feed.scope)
                             .Bind(4, static_cast<int64_t>(r.signed_seq))
                             .Bind(5, static_cast<int64_t>(r.announced_seq))
                             .Bind(6, r.seen_ms)
                             .Run());
  TUPHAP_RETURN_IF_ERROR(AddRefusals("E_HUB_ROLLBACK", 1, r.hub, r.feed.scope, r.announced_seq));
  return txn->Commit();
}

Result<std::vector<HubRollbackRow>> Store::HubRollbacks() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT hub, origin, scope, signed_seq, announced_seq, seen_ms FROM "
                           "hub_rollbacks ORDER BY id"));
  std::vector<HubRollbackRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    HubRollbackRow r;
    if (!ReadKey(q.Blob(0), &r.hub) || !ReadKey(q.Blob(1), &r.feed.origin)) continue;
    r.feed.scope = std::string(q.Text(2));
    r.signed_seq = static_cast<uint64_t>(q.Int(3));
    r.announced_seq = static_cast<uint64_t>(q.Int(4));
    r.seen_ms = q.Int(5);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tuphap::store
