// The hub operator's reports (issue 6): statistics of registrations and
// violation decisions per commune and period, and the open conflicts —
// competing field values and, since issue 13, person conflicts (two records
// of one personal ID the person rules say cannot both stand) — and the
// possible duplicates. Pure queries over the store; formatting is the
// CLI's (cli/report_format).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "node/domain/messages.h"
#include "node/node.h"

namespace tuphap::report {

struct StatsOptions {
  std::string from;  // YYYY-MM-DD, inclusive; empty: no bound
  std::string to;
  bool by_commune = true;
  bool by_type = true;
  bool by_month = true;
};

// One group: records of `type` in `commune` whose event date (registration,
// or decision for a violation) falls in `period` (YYYY-MM, or "all").
struct StatsRow {
  std::string commune;  // "all" when not grouped by commune
  std::string type;     // "all" when not grouped by type
  std::string period;
  uint64_t count = 0;    // records in force (not revoked)
  uint64_t revoked = 0;  // records revoked
  // Records whose content was judged invalid (domain/content_rules.h),
  // revoked or not: in no other count of the row.
  uint64_t invalid = 0;
  // Records held back: the later registration of an open person conflict
  // (report conflicts), not counted until the conflict is settled — the
  // record it collides with is counted, so a person is counted once. In no
  // other count of the row.
  uint64_t held_back = 0;
  // Violation decisions with a fine (cancelled ones excluded):
  uint64_t fines = 0;
  int64_t fines_issued_vnd = 0;
  int64_t fines_paid_vnd = 0;
  int64_t fines_outstanding_vnd = 0;
};

// InvalidArgument when a date is not YYYY-MM-DD or `from` is after `to`.
// The winning value of a field (its text; an integer as decimal), "" when
// unset; and the winning integer, 0 when unset or not an integer.
std::string Winner(const crdt::RecordState& s, std::string_view field);
int64_t WinnerInt(const crdt::RecordState& s, std::string_view field);

Result<std::vector<StatsRow>> Stats(node::Node& node, const StatsOptions& options);

// An open conflict with its competing values (display winner first), each
// with officer, origin and time.
struct ConflictReportRow {
  store::ConflictRow row;
  std::vector<node::EntryView> values;
  crdt::Hlc since;  // the oldest competing value
};

// Every open conflict, oldest first (by the earliest of its values).
Result<std::vector<ConflictReportRow>> Conflicts(node::Node& node);

// Every open person conflict (store::Store::PersonConflicts), by personal
// ID; those touching `scope` only when it is given.
Result<std::vector<store::PersonConflictRow>> PersonConflicts(node::Node& node,
                                                              std::string_view scope = {});

// One record of a possible-duplicate group, with what made it one: the
// names and birth date as written.
struct DuplicateMember {
  std::string record_id, commune, type;
  std::string personal_id;  // the person's ID on the record, "" when missing
  std::string full_name, birth_date, registered_at;
  std::string mother, father;  // births: the parents' names as written
};
struct DuplicateReportGroup {
  std::string key;  // the folded name, birth date and parents' names shared
  std::vector<DuplicateMember> members;
};

// Records that may be one person under different or missing personal IDs
// (store::Store::DuplicateGroups): only possible duplicates, for a person to
// look at — nothing is blocked or merged. At most `limit` groups, those with
// a record of `scope` only when it is given. InvalidArgument for a scope that
// is not a commune code.
Result<std::vector<DuplicateReportGroup>> Duplicates(node::Node& node, std::string_view scope,
                                                     size_t limit);

// One node of a commune, as this node knows it.
struct NodeStatusRow {
  std::string node_id;  // text form
  std::string role;
  bool revoked = false;
  int64_t last_contact_ms = 0;  // 0: never
  int64_t last_success_ms = 0;
  uint64_t pending_out = 0, pending_in = 0;
  uint64_t refused = 0;  // of its changes, refused here over all sessions
};

struct CommuneStatusRow {
  std::string commune;
  std::string name;
  std::vector<NodeStatusRow> nodes;  // enrolled nodes of the commune
  uint64_t records = 0;
  uint64_t held = 0;       // envelopes waiting on a gap
  uint64_t conflicts = 0;  // open conflicts
  // Open person conflicts with a record of the commune (one between two
  // communes counts in both).
  uint64_t person_conflicts = 0;
  uint64_t equivocations = 0;
  uint64_t invalid = 0;  // unrevoked records judged invalid (report attention)
};

struct StatusReport {
  std::vector<CommuneStatusRow> communes;
  std::vector<store::RefusalCount> refusals;  // by reason, this node
  // Unrevoked records judged invalid, per commune and reason (counted under
  // E_INVALID_CONTENT with the reason as detail).
  std::vector<store::InvalidCount> invalid;
};

// One record of the attention list: content judged invalid, with why, in
// the officer's language, and who registered it.
struct AttentionRow {
  store::FlaggedRecord record;
  std::string message;
  std::vector<std::string> created_by;  // node id texts of its creations
  crdt::ReplicaId last_origin;          // the change that last touched it
  crdt::Hlc last_change;
};

// Records judged invalid and not revoked (with `include_revoked`, revoked
// ones too), by commune and id.
Result<std::vector<AttentionRow>> Attention(node::Node& node, domain::Lang lang,
                                            bool include_revoked = false);

// Per commune this node serves (a hub: its province's communes that have a
// node or records here; a commune node: its own) and per node.
Result<StatusReport> StatusOf(node::Node& node);

}  // namespace tuphap::report
