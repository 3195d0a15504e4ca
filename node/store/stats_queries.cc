// Statistics read from the totals kept per (scope, type, month) (schema
// 15, store/stats_totals.h) rather than from the records: a few thousand
// rows however many records a hub holds. Only the registrations without a
// YYYY-MM-DD event date (few, their own partial index) are read whole.
#include <map>
#include <set>
#include <tuple>

#include "node/store/record_codec.h"
#include "node/store/scoped_queries.h"
#include "node/store/stats_totals.h"
#include "node/store/store.h"

namespace tuphap::store {

namespace {

using Totals = std::map<StatsKey, Store::StatsTotal>;

// Adds the rows of `q` — (scope, type, month, then the columns of
// TUPHAP_STATS_PARTS) — to `out`.
Status AddParts(Stmt& q, Totals* out) {
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StatsKey key{std::string(q.Text(0)), std::string(q.Text(1)), std::string(q.Text(2))};
    auto [it, added] = out->try_emplace(key);
    Store::StatsTotal& t = it->second;
    if (added) std::tie(t.scope, t.type, t.month) = key;
    t.records += static_cast<uint64_t>(q.Int(3));
    t.invalid += static_cast<uint64_t>(q.Int(4));
    t.revoked += static_cast<uint64_t>(q.Int(5));
    t.fines += static_cast<uint64_t>(q.Int(6));
    t.fines_issued_vnd += q.Int(7);
    t.fines_paid_vnd += q.Int(8);
    t.fines_outstanding_vnd += q.Int(9);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Store::StatsTotal>> Store::StatsTotals(std::string_view from,
                                                          std::string_view to) {
  AssertOwnerThread();
  if ((!from.empty() && from.size() != 10) || (!to.empty() && to.size() != 10))
    return Status::InvalidArgument("a statistics period is bounded by YYYY-MM-DD dates");
  const std::string from_month(from.substr(0, 7)), to_month(to.substr(0, 7));
  // The month the period starts in is wholly in it unless it holds an
  // event date before the first day (the 1st: only a date that is none,
  // "…-00"); the month it ends in, unless it holds one after the last day.
  auto none_in = [&](const ScopedQuery& probe, std::string_view a,
                     std::string_view b) -> Result<bool> {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(probe.sql));
    q.Bind(1, a).Bind(2, b);
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    return !row;
  };
  bool whole_first = true, whole_last = true;
  if (!from.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(whole_first, none_in(kStatsBeforeFirstDay, from_month + "-", from));
  }
  if (!to.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(whole_last, none_in(kStatsAfterLastDay, to, to_month + "."));
  }
  if (from_month == to_month && !(whole_first && whole_last)) whole_first = whole_last = false;
  Totals by;
  {
    // The months wholly inside the period, as kept.
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsTotals.sql));
    q.Bind(1, from_month).Bind(2, to_month).Bind(3, whole_first).Bind(4, whole_last);
    TUPHAP_RETURN_IF_ERROR(AddParts(q, &by));
  }
  // A month the period starts or ends in that holds days outside it:
  // counted from its rows.
  std::set<std::string> edges;
  if (!whole_first) edges.insert(from_month);
  if (!whole_last) edges.insert(to_month);
  for (const std::string& month : edges) {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsOfMonth.sql));
    q.Bind(1, from).Bind(2, to).Bind(3, month + "-").Bind(4, month + ".");
    TUPHAP_RETURN_IF_ERROR(AddParts(q, &by));
  }
  {
    // The held back (few, driven by person_conflicts) are counted apart,
    // their fines not at all.
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsHeldBack.sql));
    q.Bind(1, from).Bind(2, to);
    Totals held;
    TUPHAP_RETURN_IF_ERROR(AddParts(q, &held));
    for (const auto& [key, h] : held) {
      auto it = by.find(key);
      if (it == by.end()) return Status::Corruption("stats_totals lacks records held back");
      Store::StatsTotal& t = it->second;
      t.held_back += h.records;
      t.fines -= h.fines;
      t.fines_issued_vnd -= h.fines_issued_vnd;
      t.fines_paid_vnd -= h.fines_paid_vnd;
      t.fines_outstanding_vnd -= h.fines_outstanding_vnd;
    }
  }
  std::vector<StatsTotal> out;
  out.reserve(by.size());
  for (auto& [key, t] : by) out.push_back(std::move(t));
  return out;
}

Status Store::RecountStatsTotals() {
  AssertOwnerThread();
  TUPHAP_RETURN_IF_ERROR(db_->Exec("DELETE FROM stats_totals"));
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kStatsRecount.sql));
  return q.Bind(1, "").Bind(2, "").Run();
}

Status Store::RebuildStatsTotals() {
  AssertOwnerThread();
  Transaction txn(*db_);
  TUPHAP_RETURN_IF_ERROR(txn.status());
  if (options_.index) {
    // The fines: only violation decisions have one. A walk of the table
    // finds them (once, at the upgrade to 15 or a reindex, which walks it
    // anyway); no index is kept for this alone (schema 16).
    OriginMap origins{[this](const crdt::ReplicaId& k) { return origin_ids_.at(k); },
                      [this](int64_t id) { return OriginKey(id); }};
    std::vector<std::pair<int64_t, std::optional<StatsFine>>> fines;
    {
      TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id, record_id, state FROM records "
                                                   "WHERE type = ?"));
      q.Bind(1, "violation_decision");
      while (true) {
        TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        crdt::RecordState state;
        std::vector<ChangeRef> history;
        TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(2), origins, &state, &history));
        std::optional<StatsFine> fine = options_.index(q.Text(1), state).fine;
        if (fine) fines.emplace_back(q.Int(0), fine);
      }
    }
    for (const auto& [rowid, fine] : fines) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt u, db_->Prepare("UPDATE records SET fine_vnd = ?, fine_paid_vnd = ? WHERE id = ?"));
      BindFine(u, 1, fine);
      TUPHAP_RETURN_IF_ERROR(u.Bind(3, rowid).Run());
    }
  }
  TUPHAP_RETURN_IF_ERROR(RecountStatsTotals());
  // Without the domain's index no fine is known yet: the next open with it
  // reads them.
  if (options_.index) TUPHAP_RETURN_IF_ERROR(SetMeta("stats_rebuild", "0"));
  return txn.Commit();
}

Result<std::vector<Store::StatsOddRecord>> Store::StatsOddRecords() {
  AssertOwnerThread();
  // Their partial index finds them (a walk of the table would read every
  // state).
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
