// The totals report stats reads (schema 15, table stats_totals): per
// (scope, type, month of the event date), what the registrations there
// count — records, invalid, revoked, and the fines of violation decisions in
// force. Every write of a record row moves that row's part from its old key
// to its new one: StatsDeltas gathers the moves of one write transaction
// (every flush of a session) in memory and writes each key once at commit,
// so the totals are always the sum of the rows' parts (kStatsRecount
// recomputes them from the rows).
// Internal to the store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "base/status.h"
#include "node/store/sqlite.h"
#include "node/store/store.h"

namespace tuphap::store {

// One row's contribution, or a sum of them (a delta may be negative).
struct StatsPart {
  int64_t records = 0, invalid = 0, revoked = 0;
  int64_t fines = 0, fines_issued_vnd = 0, fines_paid_vnd = 0, fines_outstanding_vnd = 0;

  StatsPart& operator+=(const StatsPart& o);
  StatsPart& operator-=(const StatsPart& o);
  bool IsZero() const;
};

using StatsKey = std::tuple<std::string, std::string, std::string>;  // scope, type, month

// What a record row counts for in stats_totals, from the columns it has
// (or is about to have): nothing when it is no registration (type empty or
// "_…") or its event date does not start with YYYY-MM-DD — those are read
// whole by StatsOddRecords, as the index WHERE TUPHAP_STATS_ODD holds them.
// `invalid`: its content was judged invalid (a non-empty reason).
std::optional<std::pair<StatsKey, StatsPart>> StatsPartOf(std::string_view scope,
                                                          std::string_view type,
                                                          std::string_view event_date, bool revoked,
                                                          bool invalid,
                                                          const std::optional<StatsFine>& fine);

// records.fine_vnd and fine_paid_vnd: read from columns `col` and `col` + 1,
// bound to parameters `at` and `at` + 1 (NULL: no fine; not paid).
std::optional<StatsFine> StoredFine(const Stmt& q, int col);
void BindFine(Stmt& q, int at, const std::optional<StatsFine>& fine);

// The moves of one write batch, summed per key.
class StatsDeltas {
 public:
  // Moves a row's part from `before` (what its stored columns counted) to
  // `after` (what the columns written count); either may be none.
  void Move(const std::optional<std::pair<StatsKey, StatsPart>>& before,
            const std::optional<std::pair<StatsKey, StatsPart>>& after);
  // Adds every non-zero sum to stats_totals, one statement per key, and
  // forgets them.
  Status Write(Database& db);

 private:
  std::map<StatsKey, StatsPart> by_key_;
};

}  // namespace tuphap::store
