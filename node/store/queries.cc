// Read-only queries for reports and search.
#include "node/store/scoped_queries.h"
#include "node/store/store.h"

namespace tuphap::store {

Result<std::map<std::string, uint64_t>> Store::CountByScope(Counted what) {
  AssertOwnerThread();
  std::string_view sql;
  switch (what) {
    case Counted::kRecords:
      sql = kRecordCounts.sql;
      break;
    case Counted::kHeld:
      sql = kHeldCounts.sql;
      break;
    case Counted::kOpenConflicts:
      sql = kOpenConflictCounts.sql;
      break;
    case Counted::kEquivocations:
      sql = kEquivocationCounts.sql;
      break;
    case Counted::kPersonConflicts:
      // Under each commune a conflict's records belong to (once when both do).
      sql = kPersonConflictCounts.sql;
      break;
  }
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(sql));
  std::map<std::string, uint64_t> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[std::string(q.Text(0))] = static_cast<uint64_t>(q.Int(1));
  }
  return out;
}

Result<std::vector<Store::SearchRow>> Store::SearchRecords(std::string_view match,
                                                           std::string_view type,
                                                           std::string_view from,
                                                           std::string_view to, size_t limit) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("SELECT r.record_id, r.scope, r.type, coalesce(r.event_date, ''), s.display "
                   "FROM record_search s JOIN records r ON r.id = s.rowid "
                   "WHERE record_search MATCH ?1 AND (?2 = '' OR r.type = ?2) AND (?3 = '' OR "
                   "r.event_date >= ?3) "
                   "AND (?4 = '' OR r.event_date <= ?4) ORDER BY r.event_date DESC, r.record_id "
                   "LIMIT ?5"));
  q.Bind(1, match).Bind(2, type).Bind(3, from).Bind(4, to).Bind(5, static_cast<int64_t>(limit));
  std::vector<SearchRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({std::string(q.Text(0)), std::string(q.Text(1)), std::string(q.Text(2)),
                   std::string(q.Text(3)), std::string(q.Text(4))});
  }
  return out;
}

Result<std::set<std::string>> Store::HeldForPersonConflicts(std::string_view scope) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kHeldBackOfScope.sql));
  q.Bind(1, scope);
  std::set<std::string> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace(q.Text(0));
  }
  return out;
}

}  // namespace tuphap::store
