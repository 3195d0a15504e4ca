// The SQL of every query that reads the data of one scope (a commune), or
// of every scope at once for a status or a report, kept in one place with
// the plan it must keep. A province hub holds 1-3 million records of 60-170
// communes: a query for one commune that walks the whole `records` table
// costs as much as one for the whole province, and a status page that did
// so per commune would take seconds. store_test's ScopedQueries test runs
// EXPLAIN QUERY PLAN on each entry of kScopedQueries against a store at the
// latest schema and fails when a plan walks a table whole (`SCAN records`)
// where it should search an index (`SEARCH records USING INDEX
// records_scope (scope=?)`), so an edit of the SQL that loses its index is
// caught. Code uses these constants; new per-scope SQL belongs here.
#pragma once

#include <string_view>

namespace tuphap::store {

struct ScopedQuery {
  std::string_view name;
  std::string_view sql;
  // What the plan must contain ('|' between several): the index that
  // makes it cheap.
  std::string_view must_use;
  // The plan lines that may walk something whole ('|' between several,
  // each a prefix of a line): a small table that drives the query (the
  // open conflicts, the person conflicts, the per-scope counts), or an
  // index walked whole by design (a partial index of the few records it
  // holds, or every record for a report over all of them). Any other line
  // starting "SCAN " fails, except scans of subqueries ("SCAN (") and
  // "SCAN CONSTANT ROW".
  std::string_view may_scan = {};
};

// --- the records of one scope (index records_scope, schema 13) ----------

// Every record of ?1 (reconcile's tree, Store::ForEachStoredState).
inline constexpr ScopedQuery kRecordsOfScope{
    "records_of_scope", "SELECT record_id, state, state_hash FROM records WHERE scope = ?1",
    "SEARCH records USING INDEX records_scope (scope=?)"};

// The digest of ?1: its records in id order, no sort (Store::Digests).
inline constexpr ScopedQuery kDigestOfScope{
    "digest_of_scope",
    "SELECT record_id, state_hash FROM records WHERE scope = ?1 ORDER BY record_id",
    "SEARCH records USING INDEX records_scope (scope=?)"};

// The digests of every scope: every record once, scope by scope in id
// order, no sort.
inline constexpr ScopedQuery kDigestsOfAll{
    "digests_of_all",
    "SELECT scope, record_id, state_hash FROM records INDEXED BY records_scope ORDER BY scope, "
    "record_id",
    "SCAN records USING INDEX records_scope", "SCAN records USING INDEX records_scope"};

// The highest record id of ?3 in [?1, ?2] not judged invalid
// (Store::MaxRecordId).
inline constexpr ScopedQuery kMaxRecordId{
    "max_record_id",
    "SELECT record_id FROM records WHERE scope = ?3 AND record_id BETWEEN ?1 AND ?2 AND invalid "
    "IS NULL ORDER BY record_id DESC LIMIT 1",
    "SEARCH records USING INDEX records_scope (scope=? AND record_id>? AND record_id<?)"};

// The ids of ?3 in [?1, ?2], in order (Store::FirstFreeNumber).
inline constexpr ScopedQuery kIdsInRange{
    "ids_in_range",
    "SELECT record_id FROM records WHERE scope = ?3 AND record_id BETWEEN ?1 AND ?2 ORDER BY "
    "record_id",
    "SEARCH records USING COVERING INDEX records_scope (scope=? AND record_id>? AND "
    "record_id<?)"};

// The ids of ?2 starting with ?1, in order (Store::RecordsWithPrefix).
inline constexpr ScopedQuery kIdsWithPrefix{
    "ids_with_prefix",
    "SELECT record_id FROM records WHERE scope = ?2 AND record_id >= ?1 AND record_id < ?1 || "
    "x'ff' ORDER BY record_id",
    "SEARCH records USING COVERING INDEX records_scope (scope=? AND record_id>? AND "
    "record_id<?)"};

// The records of ?1 starting with ?2, to judge again (a lease's book:
// Store::Batch::RejudgePrefix).
inline constexpr ScopedQuery kRecordsWithPrefix{
    "records_with_prefix",
    "SELECT id, record_id, state, invalid, invalid_field, invalid_history FROM records WHERE "
    "scope = ?1 AND record_id >= ?2 AND record_id < ?2 || x'ff'",
    "SEARCH records USING INDEX records_scope (scope=? AND record_id>? AND record_id<?)"};

// Every scope that has records, one index search each (a skip over the
// index rather than a walk of every entry: Store::Rejudge).
inline constexpr ScopedQuery kScopesWithRecords{
    "scopes_with_records",
    "WITH RECURSIVE s(scope) AS (SELECT min(scope) FROM records UNION ALL SELECT (SELECT "
    "min(scope) FROM records WHERE scope > s.scope) FROM s WHERE s.scope IS NOT NULL) SELECT "
    "scope FROM s WHERE scope IS NOT NULL",
    "SEARCH records USING COVERING INDEX records_scope (scope>?)", "SCAN s"};

// The records of ?1 that are the later registration of an open person
// conflict (Store::HeldForPersonConflicts).
inline constexpr ScopedQuery kHeldBackOfScope{
    "held_back_of_scope",
    "SELECT r.record_id FROM records r WHERE r.scope = ?1 AND EXISTS (SELECT 1 FROM "
    "person_conflicts c WHERE c.record = r.id)",
    "SEARCH r USING COVERING INDEX records_scope (scope=?)|SEARCH c USING COVERING INDEX "
    "person_conflicts_record (record=?)"};

// The open person conflicts with a record of ?1 (Store::PersonConflicts
// with a scope, a hub's record page), driven by the conflicts: the table
// holds only open ones, a few per commune, where the records_scope route
// (through either record's index) measured 25 ms for a commune of 15,000
// records against under 1 ms this way.
inline constexpr ScopedQuery kPersonConflictsOfScope{
    "person_conflicts_of_scope",
    "SELECT c.personal_id, c.rule, a.record_id, a.scope, a.type, coalesce(a.event_date, ''), "
    "b.record_id, b.scope, b.type, coalesce(b.event_date, '') FROM person_conflicts c CROSS JOIN "
    "records a ON a.id = c.record CROSS JOIN records b ON b.id = c.other WHERE a.scope = ?1 OR "
    "b.scope = ?1 ORDER BY c.personal_id, c.rule, a.record_id, b.record_id",
    "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)|SEARCH b USING INTEGER PRIMARY KEY (rowid=?)",
    "SCAN c"};

// Every open person conflict (Store::PersonConflicts without a scope).
inline constexpr ScopedQuery kPersonConflictsOfAll{
    "person_conflicts_of_all",
    "SELECT c.personal_id, c.rule, a.record_id, a.scope, a.type, coalesce(a.event_date, ''), "
    "b.record_id, b.scope, b.type, coalesce(b.event_date, '') FROM person_conflicts c CROSS JOIN "
    "records a ON a.id = c.record CROSS JOIN records b ON b.id = c.other ORDER BY "
    "c.personal_id, c.rule, a.record_id, b.record_id",
    "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)", "SCAN c"};

// The duplicate keys (more than one unrevoked record) that a record of ?1
// has, in key order (Store::DuplicateGroups with a scope).
inline constexpr ScopedQuery kDuplicateKeysOfScope{
    "duplicate_keys_of_scope",
    "SELECT r.duplicate_key FROM records r WHERE r.scope = ?1 AND r.duplicate_key IS NOT NULL "
    "AND r.revoked = 0 AND EXISTS (SELECT 1 FROM records o WHERE o.duplicate_key = "
    "r.duplicate_key AND o.revoked = 0 AND o.id <> r.id) GROUP BY r.duplicate_key",
    "SEARCH r USING INDEX records_scope (scope=?)|SEARCH o USING INDEX records_duplicate_key "
    "(duplicate_key=?)"};

// Every duplicate key of more than one unrevoked record (the partial
// index of births and deaths, walked once).
inline constexpr ScopedQuery kDuplicateKeysOfAll{
    "duplicate_keys_of_all",
    "SELECT duplicate_key FROM records WHERE duplicate_key IS NOT NULL AND revoked = 0 GROUP BY "
    "duplicate_key HAVING count(*) > 1",
    "records_duplicate_key", "SCAN records USING INDEX records_duplicate_key"};

// --- per-scope counts for status (report status, the hub console) ------

// Records per scope: kept by every write (scope_counts, schema 13), so a
// status reads 65 rows instead of counting a million.
inline constexpr ScopedQuery kRecordCounts{
    "record_counts", "SELECT scope, records FROM scope_counts WHERE records > 0", "scope_counts",
    "SCAN scope_counts"};

inline constexpr ScopedQuery kHeldCounts{
    "held_counts", "SELECT scope, count(*) FROM held GROUP BY scope", "held", "SCAN held"};

// Open conflicts per scope, driven by the conflicts (few): left to itself
// SQLite walks every record through records_scope to avoid a sort.
inline constexpr ScopedQuery kOpenConflictCounts{
    "open_conflict_counts",
    "SELECT r.scope, count(*) FROM conflicts c CROSS JOIN records r ON r.id = c.record GROUP BY "
    "r.scope",
    "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", "SCAN c"};

inline constexpr ScopedQuery kEquivocationCounts{
    "equivocation_counts", "SELECT scope, count(*) FROM equivocations GROUP BY scope",
    "equivocations", "SCAN equivocations"};

// Open person conflicts under each commune a conflict's records belong to
// (once when both do), driven by the person conflicts.
inline constexpr ScopedQuery kPersonConflictCounts{
    "person_conflict_counts",
    "SELECT scope, count(*) FROM (SELECT a.scope AS scope FROM person_conflicts c CROSS JOIN "
    "records a ON a.id = c.record UNION ALL SELECT b.scope FROM person_conflicts c CROSS JOIN "
    "records a ON a.id = c.record CROSS JOIN records b ON b.id = c.other WHERE b.scope <> "
    "a.scope) GROUP BY scope",
    "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)|SEARCH b USING INTEGER PRIMARY KEY (rowid=?)",
    "SCAN c"};

// Field conflicts of every scope with their records (report conflicts,
// the hub's conflict queue), driven by the conflicts.
inline constexpr ScopedQuery kConflictRows{
    "conflict_rows",
    "SELECT r.record_id, r.scope, r.type, c.field, r.state FROM conflicts c CROSS JOIN records r "
    "ON r.id = c.record ORDER BY r.record_id, c.field",
    "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", "SCAN c"};

// Records judged invalid (report attention), through their partial index.
inline constexpr ScopedQuery kFlaggedRecords{
    "flagged_records",
    "SELECT record_id, scope, type, invalid, invalid_field, revoked FROM records INDEXED BY "
    "records_invalid WHERE invalid IS NOT NULL AND (?1 OR revoked = 0) ORDER BY scope, record_id",
    "records_invalid", "SCAN records USING INDEX records_invalid"};

inline constexpr ScopedQuery kInvalidCounts{
    "invalid_counts",
    "SELECT scope, invalid, count(*) FROM records INDEXED BY records_invalid WHERE invalid IS NOT "
    "NULL AND revoked = 0 GROUP BY scope, invalid ORDER BY scope, invalid",
    "records_invalid", "SCAN records USING INDEX records_invalid"};

// The trust stamp (Store::TrustStamp, at every handshake and HELLO): the
// public scope ?1's feeds through feeds_scope (schema 13), not every feed
// of the province.
inline constexpr ScopedQuery kTrustStamp{
    "trust_stamp",
    "SELECT (SELECT value FROM meta WHERE key = 'root_key'), (SELECT count(*) FROM "
    "trust_objects), (SELECT count(*) || '/' || coalesce(sum(applied_seq), 0) FROM feeds WHERE "
    "scope = ?1)",
    "SEARCH feeds USING INDEX feeds_scope (scope=?)", "SCAN trust_objects"};

// --- report stats: maintained totals (store/stats_queries.cc) -----------

// Registrations whose event date starts with YYYY-MM-DD, in [?1, ?2] (each
// empty: any), over columns named `d` and `type`. Ten ASCII bytes first: then
// substr, which counts characters, cuts the same bytes the report would.
#define TUPHAP_STATS_DATED(d)                                              \
  "type <> '' AND substr(type, 1, 1) <> '_' AND " d                        \
  " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND (?1 = '' OR " d \
  " >= ?1) AND (?2 "                                                       \
  "= '' OR substr(" d ", 1, 10) <= ?2)"
// The registrations the index does not hold a YYYY-MM-DD… event date for:
// these terms are the WHERE of the partial index records_stats_odd
// (schema 13) word for word, so SQLite can use it.
#define TUPHAP_STATS_ODD                              \
  "type <> '' AND substr(type, 1, 1) <> '_' AND NOT " \
  "(coalesce(event_date, '') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*')"
#define TUPHAP_STATS_HELD_BACK "EXISTS (SELECT 1 FROM person_conflicts c WHERE c.record = r.id)"
// A violation decision in force with a fine (records.fine_vnd, schema 15).
#define TUPHAP_STATS_FINE "(coalesce(invalid, '') = '' AND revoked = 0 AND fine_vnd IS NOT NULL)"
// The columns of stats_totals after (scope, type, month), summed over a
// group of rows: what StatsPartOf (store/stats_totals.cc) counts of one.
#define TUPHAP_STATS_PARTS                                                                     \
  "count(*), sum(coalesce(invalid, '') <> ''), sum(coalesce(invalid, '') = '' AND revoked <> " \
  "0), sum(" TUPHAP_STATS_FINE "), sum(CASE WHEN " TUPHAP_STATS_FINE                           \
  " THEN fine_vnd ELSE 0 END), sum(CASE WHEN " TUPHAP_STATS_FINE                               \
  " THEN coalesce(fine_paid_vnd, 0) ELSE 0 END), sum(CASE WHEN " TUPHAP_STATS_FINE             \
  " AND "                                                                                      \
  "fine_paid_vnd IS NULL THEN fine_vnd ELSE 0 END)"

// The totals kept (schema 15) of the months after ?1 and before ?2 (each a
// YYYY-MM, or empty: any), and of ?1 itself when ?3, of ?2 when ?4: a few
// thousand rows however many records.
inline constexpr ScopedQuery kStatsTotals{
    "stats_totals",
    "SELECT scope, type, month, records, invalid, revoked, fines, fines_issued_vnd, "
    "fines_paid_vnd, fines_outstanding_vnd FROM stats_totals WHERE records > 0 AND (?1 = '' OR "
    "month > ?1 OR (?3 AND month = ?1)) AND (?2 = '' OR month < ?2 OR (?4 AND month = ?2))",
    "SCAN stats_totals", "SCAN stats_totals"};

// Whether the month of a period's first day ?2 holds an event date before
// it, from ?1 (the month and '-') on: then the month is not wholly in the
// period. One index seek (a date of the month before its first day is no
// real date).
inline constexpr ScopedQuery kStatsBeforeFirstDay{
    "stats_before_first_day",
    "SELECT 1 FROM records INDEXED BY records_event_date WHERE event_date >= ?1 AND event_date < "
    "?2 LIMIT 1",
    "SEARCH records USING COVERING INDEX records_event_date (event_date>? AND event_date<?)"};

// Whether the month of a period's last day ?1 holds an event date after it,
// before ?2 (the month and '.'): one seek, and a walk over that day's dates.
inline constexpr ScopedQuery kStatsAfterLastDay{
    "stats_after_last_day",
    "SELECT 1 FROM records INDEXED BY records_event_date WHERE event_date > ?1 AND event_date < "
    "?2 AND substr(event_date, 1, 10) > ?1 LIMIT 1",
    "SEARCH records USING COVERING INDEX records_event_date (event_date>? AND event_date<?)"};

// The month a period starts or ends in, counted from its rows: those whose
// event date is in [?3, ?4) through records_event_date, then [?1, ?2].
inline constexpr ScopedQuery kStatsOfMonth{
    "stats_of_month",
    "SELECT scope, type, substr(event_date, 1, 7), " TUPHAP_STATS_PARTS
    " FROM records INDEXED BY records_event_date WHERE event_date >= ?3 AND event_date < ?4 "
    "AND " TUPHAP_STATS_DATED("event_date") " GROUP BY scope, type, substr(event_date, 1, 7)",
    "SEARCH records USING INDEX records_event_date (event_date>? AND event_date<?)"};

// stats_totals counted again from every row (Store::RecountStatsTotals,
// Reindex, the upgrade to schema 15; ?1 and ?2 bound empty): a walk of the
// table by design.
inline constexpr ScopedQuery kStatsRecount{
    "stats_recount",
    "INSERT INTO stats_totals(scope, type, month, records, invalid, revoked, fines, "
    "fines_issued_vnd, fines_paid_vnd, fines_outstanding_vnd) SELECT scope, type, "
    "substr(event_date, 1, 7), " TUPHAP_STATS_PARTS " FROM records WHERE " TUPHAP_STATS_DATED(
        "event_date") " GROUP BY scope, type, substr(event_date, 1, 7)",
    "SCAN records", "SCAN records"};

// The held-back registrations, driven by person_conflicts (few), with the
// fines the totals counted for them.
inline constexpr ScopedQuery kStatsHeldBack{
    "stats_held_back",
    "SELECT scope, type, substr(event_date, 1, 7), " TUPHAP_STATS_PARTS
    " FROM records r WHERE r.id IN (SELECT record FROM person_conflicts) AND coalesce(invalid, "
    "'') = '' AND revoked = 0 AND " TUPHAP_STATS_DATED("event_date") " GROUP BY 1, 2, 3",
    "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", "SCAN person_conflicts"};

// The odd ones, through their partial index: a few rows, not a walk of
// every index entry with a GLOB each.
inline constexpr ScopedQuery kStatsOdd{
    "stats_odd",
    "SELECT record_id, scope, state, invalid, invalid_field, " TUPHAP_STATS_HELD_BACK
    " FROM records r INDEXED BY records_stats_odd WHERE " TUPHAP_STATS_ODD,
    "records_stats_odd", "SCAN r USING INDEX records_stats_odd"};

inline constexpr ScopedQuery kScopedQueries[] = {
    kRecordsOfScope,
    kDigestOfScope,
    kDigestsOfAll,
    kMaxRecordId,
    kIdsInRange,
    kIdsWithPrefix,
    kRecordsWithPrefix,
    kScopesWithRecords,
    kHeldBackOfScope,
    kPersonConflictsOfScope,
    kPersonConflictsOfAll,
    kDuplicateKeysOfScope,
    kDuplicateKeysOfAll,
    kRecordCounts,
    kHeldCounts,
    kOpenConflictCounts,
    kEquivocationCounts,
    kPersonConflictCounts,
    kConflictRows,
    kFlaggedRecords,
    kInvalidCounts,
    kTrustStamp,
    kStatsTotals,
    kStatsOfMonth,
    kStatsRecount,
    kStatsHeldBack,
    kStatsOdd,
};

#undef TUPHAP_STATS_DATED
#undef TUPHAP_STATS_ODD
#undef TUPHAP_STATS_HELD_BACK
#undef TUPHAP_STATS_FINE
#undef TUPHAP_STATS_PARTS

}  // namespace tuphap::store
