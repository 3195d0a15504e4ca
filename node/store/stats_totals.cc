#include "node/store/stats_totals.h"

namespace tuphap::store {
namespace {

bool Digit(char c) { return c >= '0' && c <= '9'; }

// GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' (TUPHAP_STATS_DATED).
bool StartsWithDate(std::string_view d) {
  if (d.size() < 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!Digit(d[i])) return false;
  }
  return true;
}

}  // namespace

StatsPart& StatsPart::operator+=(const StatsPart& o) {
  records += o.records;
  invalid += o.invalid;
  revoked += o.revoked;
  fines += o.fines;
  fines_issued_vnd += o.fines_issued_vnd;
  fines_paid_vnd += o.fines_paid_vnd;
  fines_outstanding_vnd += o.fines_outstanding_vnd;
  return *this;
}

StatsPart& StatsPart::operator-=(const StatsPart& o) {
  records -= o.records;
  invalid -= o.invalid;
  revoked -= o.revoked;
  fines -= o.fines;
  fines_issued_vnd -= o.fines_issued_vnd;
  fines_paid_vnd -= o.fines_paid_vnd;
  fines_outstanding_vnd -= o.fines_outstanding_vnd;
  return *this;
}

bool StatsPart::IsZero() const {
  return records == 0 && invalid == 0 && revoked == 0 && fines == 0 && fines_issued_vnd == 0 &&
         fines_paid_vnd == 0 && fines_outstanding_vnd == 0;
}

// The SQL twin is TUPHAP_STATS_PARTS over the rows TUPHAP_STATS_DATED keeps
// (store/scoped_queries.h): the two must count alike, which stats_test and
// store_test check by recounting after random work.
std::optional<std::pair<StatsKey, StatsPart>> StatsPartOf(std::string_view scope,
                                                          std::string_view type,
                                                          std::string_view event_date, bool revoked,
                                                          bool invalid,
                                                          const std::optional<StatsFine>& fine) {
  if (type.empty() || type[0] == '_' || !StartsWithDate(event_date)) return std::nullopt;
  StatsPart p;
  p.records = 1;
  if (invalid) {
    p.invalid = 1;
  } else if (revoked) {
    p.revoked = 1;
  } else if (fine) {
    p.fines = 1;
    p.fines_issued_vnd = fine->issued_vnd;
    if (fine->paid_vnd) {
      p.fines_paid_vnd = *fine->paid_vnd;
    } else {
      p.fines_outstanding_vnd = fine->issued_vnd;
    }
  }
  return std::make_pair(
      StatsKey{std::string(scope), std::string(type), std::string(event_date.substr(0, 7))}, p);
}

std::optional<StatsFine> StoredFine(const Stmt& q, int col) {
  if (q.IsNull(col)) return std::nullopt;
  StatsFine f;
  f.issued_vnd = q.Int(col);
  if (!q.IsNull(col + 1)) f.paid_vnd = q.Int(col + 1);
  return f;
}

void BindFine(Stmt& q, int at, const std::optional<StatsFine>& fine) {
  if (!fine) {
    q.BindNull(at).BindNull(at + 1);
    return;
  }
  q.Bind(at, fine->issued_vnd);
  if (fine->paid_vnd) {
    q.Bind(at + 1, *fine->paid_vnd);
  } else {
    q.BindNull(at + 1);
  }
}

void StatsDeltas::Move(const std::optional<std::pair<StatsKey, StatsPart>>& before,
                       const std::optional<std::pair<StatsKey, StatsPart>>& after) {
  if (before) by_key_[before->first] -= before->second;
  if (after) by_key_[after->first] += after->second;
}

Status StatsDeltas::Write(Database& db) {
  for (const auto& [key, d] : by_key_) {
    if (d.IsZero()) continue;  // an edit that left the record's part where it was
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q,
        db.Prepare("INSERT INTO stats_totals(scope, type, month, records, invalid, revoked, "
                   "fines, fines_issued_vnd, fines_paid_vnd, fines_outstanding_vnd) VALUES(?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(scope, type, month) DO UPDATE SET records "
                   "= records + excluded.records, invalid = invalid + excluded.invalid, revoked = "
                   "revoked + excluded.revoked, fines = fines + excluded.fines, fines_issued_vnd = "
                   "fines_issued_vnd + excluded.fines_issued_vnd, fines_paid_vnd = fines_paid_vnd "
                   "+ excluded.fines_paid_vnd, fines_outstanding_vnd = fines_outstanding_vnd + "
                   "excluded.fines_outstanding_vnd"));
    TUPHAP_RETURN_IF_ERROR(q.Bind(1, std::get<0>(key))
                               .Bind(2, std::get<1>(key))
                               .Bind(3, std::get<2>(key))
                               .Bind(4, d.records)
                               .Bind(5, d.invalid)
                               .Bind(6, d.revoked)
                               .Bind(7, d.fines)
                               .Bind(8, d.fines_issued_vnd)
                               .Bind(9, d.fines_paid_vnd)
                               .Bind(10, d.fines_outstanding_vnd)
                               .Run());
    if (d.records < 0) {
      // The last record of the key moved away: no row stays behind, as a
      // recount would leave none.
      TUPHAP_ASSIGN_OR_RETURN(Stmt del, db.Prepare("DELETE FROM stats_totals WHERE scope = ? AND "
                                                   "type = ? AND month = ? AND records = 0"));
      TUPHAP_RETURN_IF_ERROR(
          del.Bind(1, std::get<0>(key)).Bind(2, std::get<1>(key)).Bind(3, std::get<2>(key)).Run());
    }
  }
  by_key_.clear();
  return Status::Ok();
}

}  // namespace tuphap::store
