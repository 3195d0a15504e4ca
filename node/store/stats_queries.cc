// Statistics read from the indexed columns of records (scope, type,
// event_date, revoked, invalid: the records_stats index) rather than from
// the states: only violation decisions in force are decoded (their fines).
#include <map>
#include <tuple>

#include "node/store/record_codec.h"
#include "node/store/store.h"

namespace tuphap::store {
namespace {

// Registrations whose event date starts with YYYY-MM-DD, in [?1, ?2] (each
// empty: any), over columns named `d` and `type`. Ten ASCII bytes first: then
// substr, which counts characters, cuts the same bytes the report would.
#define TUPHAP_STATS_DATED(d)                                              \
  "type <> '' AND substr(type, 1, 1) <> '_' AND " d                        \
  " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND (?1 = '' OR " d \
  " >= ?1) AND (?2 "                                                       \
  "= '' OR substr(" d ", 1, 10) <= ?2)"

constexpr const char* kHeldBack = "EXISTS (SELECT 1 FROM person_conflicts c WHERE c.record = r.id)";

}  // namespace

Result<std::vector<Store::StatsCount>> Store::StatsCounts(std::string_view from,
                                                          std::string_view to) {
  AssertOwnerThread();
  // Grouped by the whole date first, in index order (no sort), then by
  // month over those ~365 groups per type and scope: the date tests run
  // once per group, not once per record (the CTE is materialised so they
  // are not pushed down into the scan).
  std::map<std::tuple<std::string, std::string, std::string>, StatsCount> by;
  auto at = [&](std::string_view scope, std::string_view type,
                std::string_view month) -> StatsCount& {
    auto [it, added] = by.try_emplace({std::string(scope), std::string(type), std::string(month)});
    if (added) {
      it->second.scope = std::get<0>(it->first);
      it->second.type = std::get<1>(it->first);
      it->second.month = std::get<2>(it->first);
    }
    return it->second;
  };
  {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("WITH g AS MATERIALIZED (SELECT type, scope, event_date AS d, "
                             "count(*) AS n, sum(CASE WHEN coalesce(invalid, '') <> '' THEN 1 "
                             "ELSE 0 END) AS i, sum(CASE WHEN coalesce(invalid, '') = '' AND "
                             "revoked <> 0 THEN 1 ELSE 0 END) AS v FROM records INDEXED BY "
                             "records_stats GROUP BY type, scope, event_date) "
                             "SELECT scope, type, substr(d, 1, 7), sum(n), sum(i), sum(v) FROM g "
                             "WHERE " TUPHAP_STATS_DATED("d") " GROUP BY type, scope, "
                                                              "substr(d, 1, 7)"));
    q.Bind(1, from).Bind(2, to);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      StatsCount& c = at(q.Text(0), q.Text(1), q.Text(2));
      c.records += static_cast<uint64_t>(q.Int(3));
      c.invalid += static_cast<uint64_t>(q.Int(4));
      c.revoked += static_cast<uint64_t>(q.Int(5));
    }
  }
  {
    // Few: driven by person_conflicts.
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT scope, type, substr(event_date, 1, 7), count(*) FROM "
                             "records r WHERE r.id IN (SELECT record FROM person_conflicts) AND "
                             "coalesce(invalid, '') = '' AND revoked = 0 AND " TUPHAP_STATS_DATED(
                                 "event_date") " GROUP BY 1, 2, 3"));
    q.Bind(1, from).Bind(2, to);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      at(q.Text(0), q.Text(1), q.Text(2)).held_back += static_cast<uint64_t>(q.Int(3));
    }
  }
  std::vector<StatsCount> out;
  out.reserve(by.size());
  for (auto& [key, c] : by) out.push_back(std::move(c));
  return out;
}

Status Store::ForEachStatsState(
    std::string_view type, std::string_view from, std::string_view to,
    const std::function<void(std::string_view scope, std::string_view month,
                             const crdt::RecordState& state)>& fn) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare(std::string("SELECT scope, substr(event_date, 1, 7), state FROM records "
                                       "r INDEXED BY records_stats WHERE r.type = ?3 AND "
                                       "coalesce(invalid, '') = '' AND revoked = 0 AND NOT ") +
                           kHeldBack + " AND " TUPHAP_STATS_DATED("event_date")));
  q.Bind(1, from).Bind(2, to).Bind(3, type);
  OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                    [this](int64_t id) { return OriginKey(id); }};
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    crdt::RecordState state;
    std::vector<ChangeRef> history;
    TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(2), origins, &state, &history));
    fn(q.Text(0), q.Text(1), state);
  }
  return Status::Ok();
}

Result<std::vector<Store::StatsOddRecord>> Store::StatsOddRecords() {
  AssertOwnerThread();
  // The index finds them (a scan of the table would read every state).
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare(std::string("SELECT record_id, scope, state, invalid, invalid_field, ") +
                   kHeldBack +
                   " FROM records r INDEXED BY records_stats WHERE type <> '' AND substr(type, "
                   "1, 1) <> '_' AND NOT (coalesce(event_date, '') GLOB "
                   "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')"));
  OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                    [this](int64_t id) { return OriginKey(id); }};
  std::vector<StatsOddRecord> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StatsOddRecord o;
    o.record.record_id = std::string(q.Text(0));
    o.record.scope = std::string(q.Text(1));
    if (!q.IsNull(3)) o.record.invalid = {std::string(q.Text(3)), std::string(q.Text(4))};
    o.held_back = q.Int(5) != 0;
    TUPHAP_RETURN_IF_ERROR(
        DecodeRecordBlob(q.Blob(2), origins, &o.record.state, &o.record.history));
    out.push_back(std::move(o));
  }
  return out;
}

#undef TUPHAP_STATS_DATED

}  // namespace tuphap::store
