// Statistics read from the indexed columns of records (scope, type,
// event_date, revoked, invalid: the records_stats index) rather than from
// the states: only violation decisions in force are decoded (their fines).
#include <map>
#include <tuple>

#include "node/store/record_codec.h"
#include "node/store/scoped_queries.h"
#include "node/store/store.h"

namespace tuphap::store {

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
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsCounts.sql));
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
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsHeldBack.sql));
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
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsStates.sql));
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
  // Their partial index finds them (a walk of records_stats would test
  // every entry, a scan of the table would read every state).
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsOdd.sql));
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

}  // namespace tuphap::store
