// The accounts of the web app's users (schema version 9): plain rows, each
// read or write one statement, so that no call holds the write lock while a
// password is hashed (app/officers.cc does that between calls).
#include <string_view>

#include "node/store/store.h"

namespace tuphap::store {
namespace {

constexpr const char* kColumns =
    "id, login, name, role, password_hash, disabled, failures, locked_until_ms, created_ms, "
    "changed_ms";

Store::OfficerRow ReadRow(const Stmt& q) {
  Store::OfficerRow r;
  r.id = q.Int(0);
  r.login = std::string(q.Text(1));
  r.name = std::string(q.Text(2));
  r.role = std::string(q.Text(3));
  r.password_hash = std::string(q.Text(4));
  r.disabled = q.Int(5) != 0;
  r.failures = static_cast<int>(q.Int(6));
  r.locked_until_ms = q.Int(7);
  r.created_ms = q.Int(8);
  r.changed_ms = q.Int(9);
  return r;
}

Result<std::optional<Store::OfficerRow>> OneRow(Stmt& q) {
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Store::OfficerRow>();
  return std::optional<Store::OfficerRow>(ReadRow(q));
}

}  // namespace

Result<int64_t> Store::AddOfficer(const OfficerRow& row) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt ins, db_->Prepare("INSERT INTO officers(login, name, role, password_hash, disabled, "
                             "failures, locked_until_ms, created_ms, changed_ms) "
                             "VALUES(?, ?, ?, ?, ?, 0, 0, ?, ?) RETURNING id"));
  ins.Bind(1, row.login)
      .Bind(2, row.name)
      .Bind(3, row.role)
      .Bind(4, row.password_hash)
      .Bind(5, int64_t{row.disabled})
      .Bind(6, row.created_ms)
      .Bind(7, row.created_ms);
  TUPHAP_ASSIGN_OR_RETURN(bool got, ins.Step());
  if (!got) return Status::Internal("INSERT INTO officers returned no id");
  const int64_t id = ins.Int(0);
  TUPHAP_RETURN_IF_ERROR(ins.Run());  // finishes the statement, so the row is written
  return id;
}

Result<std::vector<Store::OfficerRow>> Store::Officers() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare(std::string("SELECT ") + kColumns + " FROM officers ORDER BY login"));
  std::vector<OfficerRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadRow(q));
  }
  return out;
}

Result<std::optional<Store::OfficerRow>> Store::FindOfficer(std::string_view login) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare(std::string("SELECT ") + kColumns + " FROM officers WHERE login = ?"));
  q.Bind(1, login);
  return OneRow(q);
}

Result<std::optional<Store::OfficerRow>> Store::OfficerById(int64_t id) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare(std::string("SELECT ") + kColumns + " FROM officers WHERE id = ?"));
  q.Bind(1, id);
  return OneRow(q);
}

Result<bool> Store::SetOfficerDisabled(std::string_view login, bool disabled, int64_t now_ms) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt up, db_->Prepare("UPDATE officers SET disabled = ?, changed_ms = max(?, changed_ms + 1) "
                            "WHERE login = ?"));
  TUPHAP_RETURN_IF_ERROR(up.Bind(1, int64_t{disabled}).Bind(2, now_ms).Bind(3, login).Run());
  return db_->Changes() > 0;
}

Result<bool> Store::SetOfficerPassword(std::string_view login, std::string_view password_hash,
                                       int64_t now_ms) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt up,
                          db_->Prepare("UPDATE officers SET password_hash = ?, failures = 0, "
                                       "locked_until_ms = 0, changed_ms = max(?, changed_ms + 1) "
                                       "WHERE login = ?"));
  TUPHAP_RETURN_IF_ERROR(up.Bind(1, password_hash).Bind(2, now_ms).Bind(3, login).Run());
  return db_->Changes() > 0;
}

Result<std::optional<Store::OfficerRow>> Store::AddOfficerFailure(std::string_view login,
                                                                  int max_failures,
                                                                  int64_t lockout_ms,
                                                                  int64_t now_ms) {
  AssertOwnerThread();
  // One statement, so two processes counting failures at once both count.
  // Every right-hand side reads the row as it was: `fresh` is whether a
  // lock has run out (the count starts again), and a lock still running is
  // kept as it is rather than pushed further by failures racing with it.
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt up,
      db_->Prepare(std::string("UPDATE officers SET "
                               "failures = CASE WHEN locked_until_ms <> 0 AND locked_until_ms <= "
                               "?2 THEN 1 ELSE failures + 1 END, "
                               "locked_until_ms = CASE "
                               "WHEN locked_until_ms > ?2 THEN locked_until_ms "
                               "WHEN (CASE WHEN locked_until_ms <> 0 THEN 1 ELSE failures + 1 "
                               "END) >= ?3 THEN ?2 + ?4 "
                               "ELSE 0 END "
                               "WHERE login = ?1 RETURNING ") +
                   kColumns));
  up.Bind(1, login).Bind(2, now_ms).Bind(3, int64_t{max_failures}).Bind(4, lockout_ms);
  TUPHAP_ASSIGN_OR_RETURN(std::optional<OfficerRow> row, OneRow(up));
  if (row) TUPHAP_RETURN_IF_ERROR(up.Run());
  return row;
}

Result<bool> Store::ClearOfficerFailures(int64_t id, std::string_view password_hash,
                                         int64_t now_ms) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt up,
                          db_->Prepare("UPDATE officers SET failures = 0, locked_until_ms = 0 "
                                       "WHERE id = ? AND password_hash = ? AND disabled = 0 "
                                       "AND locked_until_ms <= ?"));
  TUPHAP_RETURN_IF_ERROR(up.Bind(1, id).Bind(2, password_hash).Bind(3, now_ms).Run());
  return db_->Changes() > 0;
}

}  // namespace tuphap::store
