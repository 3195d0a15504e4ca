// The person index and the person conflicts (schema version 8): written by
// a session's flush for every record it writes, judged again for every ID
// whose entries — or whose partners' entries — changed, and rebuilt whole
// by Reindex. Both tables are derived: a function of the records alone, so
// every replica holding the same records holds the same person conflicts.
#include <algorithm>
#include <map>

#include "node/store/store.h"

namespace tuphap::store {
namespace {

// The columns ReadRow reads, from person_index p joined with records r,
// for one personal ID (?1).
constexpr std::string_view kRowColumns =
    "p.personal_id, p.role, p.field, p.date, p.partner, p.ended, p.stated, p.record, "
    "r.record_id, r.scope, r.type, r.revoked, r.invalid IS NOT NULL, p.family";
constexpr std::string_view kRowFrom =
    " FROM person_index p JOIN records r ON r.id = p.record WHERE p.personal_id = ?1";

// Every entry, in record order, at most ?2.
const std::string& AllRowsSql() {
  static const std::string sql = "SELECT " + std::string(kRowColumns) + std::string(kRowFrom) +
                                 " ORDER BY p.record, p.field LIMIT ?2";
  return sql;
}

// What the rules judge: of each family of roles the first ?2 entries that
// count, in registration order — a deterministic prefix, so entries of one
// family (a thousand confirmations) cannot push another's (a second
// birth) out of judgement. The extra column n is not read.
const std::string& JudgedRowsSql() {
  static const std::string sql =
      "SELECT * FROM (SELECT " + std::string(kRowColumns) +
      ", row_number() OVER (PARTITION BY p.family ORDER BY p.date, r.scope, r.record_id, "
      "p.field) AS n" +
      std::string(kRowFrom) +
      " AND p.family > 0 AND r.revoked = 0 AND r.invalid IS NULL) WHERE n <= ?2";
  return sql;
}

PersonRow ReadRow(const Stmt& q) {
  PersonRow row;
  row.personal_id = q.Text(0);
  row.role = q.Text(1);
  row.field = q.Text(2);
  row.date = q.Text(3);
  row.partner = q.Text(4);
  row.ended = q.Text(5);
  row.stated = q.Text(6);
  row.record = q.Int(7);
  row.record_id = q.Text(8);
  row.scope = q.Text(9);
  row.type = q.Text(10);
  row.revoked = q.Int(11) != 0;
  row.invalid = q.Int(12) != 0;
  row.family = static_cast<int>(q.Int(13));
  return row;
}

}  // namespace

Result<std::vector<PersonRow>> Store::PersonRows(std::string_view personal_id, bool judged_only,
                                                 size_t limit) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(judged_only ? JudgedRowsSql() : AllRowsSql()));
  q.Bind(1, personal_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<PersonRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadRow(q));
  }
  return out;
}

Status Store::PeopleOfRecord(int64_t rowid, PersonsTouched* touched) {
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      db_->Prepare("SELECT personal_id, role FROM person_index WHERE record = ? AND family > 0"));
  q.Bind(1, rowid);
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Ok();
    touched->ids.emplace(q.Text(0));
    if (q.Text(1) == "deceased") touched->deaths.emplace(q.Text(0));
  }
}

Status Store::WritePersons(int64_t rowid, bool replace, const std::vector<PersonRef>& persons,
                           PersonsTouched* touched) {
  if (replace) {
    TUPHAP_RETURN_IF_ERROR(PeopleOfRecord(rowid, touched));
    TUPHAP_ASSIGN_OR_RETURN(Stmt del, db_->Prepare("DELETE FROM person_index WHERE record = ?"));
    TUPHAP_RETURN_IF_ERROR(del.Bind(1, rowid).Run());
  }
  for (const auto& p : persons) {
    if (p.family > 0) {
      touched->ids.insert(p.personal_id);
      if (p.role == "deceased") touched->deaths.insert(p.personal_id);
    }
    // One entry per (ID, field): the same ID twice in one field (two
    // competing values that are equal) is one entry.
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt ins,
        db_->Prepare("INSERT OR IGNORE INTO person_index(personal_id, record, field, role, "
                     "date, partner, ended, stated, family) VALUES(?, ?, ?, ?, ?, ?, ?, "
                     "?, ?)"));
    TUPHAP_RETURN_IF_ERROR(ins.Bind(1, p.personal_id)
                               .Bind(2, rowid)
                               .Bind(3, p.field)
                               .Bind(4, p.role)
                               .Bind(5, p.date)
                               .Bind(6, p.partner)
                               .Bind(7, p.ended)
                               .Bind(8, p.stated)
                               .Bind(9, int64_t{p.family})
                               .Run());
  }
  return Status::Ok();
}

Status Store::JudgePersons(const PersonsTouched& touched) {
  if (!options_.person_rules || touched.ids.empty()) return Status::Ok();
  // A person's verdict also reads the deaths of the IDs their entries name
  // as partners (a spouse's death ends a marriage): whoever names as
  // partner an ID whose death entries changed is judged again too. Asked
  // of the index rather than of that ID's own entries, which need not name
  // them back (a field in conflict holds two IDs; an entry names one
  // partner).
  std::set<std::string> ids = touched.ids;
  // A spouse named by many judged IDs is read once.
  std::map<std::string, std::vector<PersonRow>, std::less<>> partners;
  const PersonRowsOf rows_of = [&](std::string_view p) -> Result<std::vector<PersonRow>> {
    auto it = partners.find(p);
    if (it == partners.end()) {
      if (partners.size() >= 4096) partners.clear();  // memory stays bounded
      TUPHAP_ASSIGN_OR_RETURN(std::vector<PersonRow> read, PersonRows(p, true));
      it = partners.emplace(std::string(p), std::move(read)).first;
    }
    return it->second;
  };
  for (const auto& id : touched.deaths) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT DISTINCT personal_id FROM person_index WHERE partner = ? AND "
                             "partner <> '' AND family > 0"));
    q.Bind(1, id);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ids.emplace(q.Text(0));
    }
  }
  for (const auto& id : ids) {
    // Every rule is about two entries of one ID: an ID named once (most of
    // them, in an import or a sync) has no conflict to judge, which a probe
    // of the primary key tells without the judged rows' window query. Its
    // entries are read once and handed to the rules.
    int64_t entries = 0;
    {
      TUPHAP_ASSIGN_OR_RETURN(Stmt probe,
                              db_->Prepare("SELECT count(*) FROM (SELECT 1 FROM person_index WHERE "
                                           "personal_id = ? AND family > 0 LIMIT 2)"));
      probe.Bind(1, id);
      TUPHAP_ASSIGN_OR_RETURN(bool row, probe.Step());
      if (row) entries = probe.Int(0);
    }
    std::vector<PersonRow> own;
    if (entries > 1) {
      TUPHAP_ASSIGN_OR_RETURN(own, PersonRows(id, true));
    }
    std::vector<PersonConflict> found;
    if (own.size() > 1) {
      const PersonRowsOf cached = [&](std::string_view p) -> Result<std::vector<PersonRow>> {
        if (p == id) return own;
        return rows_of(p);
      };
      TUPHAP_ASSIGN_OR_RETURN(found, options_.person_rules(id, cached));
    }
    std::sort(found.begin(), found.end());
    {
      TUPHAP_ASSIGN_OR_RETURN(Stmt del,
                              db_->Prepare("DELETE FROM person_conflicts WHERE personal_id = ?"));
      TUPHAP_RETURN_IF_ERROR(del.Bind(1, id).Run());
    }
    for (const auto& c : found) {
      if (c.personal_id != id) {
        return Status::Internal("the person rules judged " + id + " and returned a conflict of " +
                                c.personal_id);
      }
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt ins, db_->Prepare("INSERT OR IGNORE INTO person_conflicts(personal_id, rule, "
                                 "record, other) VALUES(?, ?, ?, ?)"));
      TUPHAP_RETURN_IF_ERROR(
          ins.Bind(1, c.personal_id).Bind(2, c.rule).Bind(3, c.record).Bind(4, c.other).Run());
    }
  }
  return Status::Ok();
}

Result<std::vector<PersonConflictRow>> Store::PersonConflicts(std::string_view scope) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT c.personal_id, c.rule, a.record_id, a.scope, a.type, "
                           "coalesce(a.event_date, ''), b.record_id, b.scope, b.type, "
                           "coalesce(b.event_date, '') FROM person_conflicts c "
                           "JOIN records a ON a.id = c.record JOIN records b ON b.id = c.other "
                           "WHERE ?1 = '' OR a.scope = ?1 OR b.scope = ?1 "
                           "ORDER BY c.personal_id, c.rule, a.record_id, b.record_id"));
  q.Bind(1, scope);
  std::vector<PersonConflictRow> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    PersonConflictRow r;
    r.personal_id = q.Text(0);
    r.rule = q.Text(1);
    r.record_id = q.Text(2);
    r.scope = q.Text(3);
    r.type = q.Text(4);
    r.date = q.Text(5);
    r.other_id = q.Text(6);
    r.other_scope = q.Text(7);
    r.other_type = q.Text(8);
    r.other_date = q.Text(9);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<DuplicateGroup>> Store::DuplicateGroups(std::string_view scope, size_t limit) {
  AssertOwnerThread();
  // Candidate keys first (one walk of the partial index), then each group's
  // members with the ID their main person has in the index.
  std::vector<std::string> keys;
  {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT duplicate_key FROM records WHERE duplicate_key IS NOT NULL "
                             "AND revoked = 0 GROUP BY duplicate_key HAVING count(*) > 1 AND "
                             "(?1 = '' OR max(scope = ?1))"));
    q.Bind(1, scope);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      keys.emplace_back(q.Text(0));
    }
  }
  std::vector<DuplicateGroup> out;
  for (auto& key : keys) {
    if (out.size() >= limit) break;
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q,
        db_->Prepare(
            "SELECT r.record_id, r.scope, r.type, coalesce((SELECT min(p.personal_id) "
            "FROM person_index p WHERE p.record = r.id AND p.role IN ('child', 'deceased')), "
            "'') FROM records r WHERE r.duplicate_key = ? AND r.revoked = 0 "
            "ORDER BY r.record_id"));
    q.Bind(1, key);
    DuplicateGroup g;
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      g.members.push_back({std::string(q.Text(0)), std::string(q.Text(1)), std::string(q.Text(2)),
                           std::string(q.Text(3))});
    }
    // The same ID throughout: one person, and the person rules' business
    // (a second registration), not a possible duplicate.
    const bool one_id =
        std::all_of(g.members.begin(), g.members.end(), [&](const DuplicateGroup::Member& m) {
          return !m.personal_id.empty() && m.personal_id == g.members.front().personal_id;
        });
    if (g.members.size() < 2 || one_id) continue;
    g.key = std::move(key);
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::string> Store::PersonIndexDump() {
  AssertOwnerThread();
  std::string out;
  auto dump = [&](const char* sql) -> Status {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(sql));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      for (int i = 0; i < q.ColumnCount(); ++i) {
        out += i == 0 ? "" : "\t";
        out += q.Text(i);
      }
      out += "\n";
    }
    return Status::Ok();
  };
  TUPHAP_RETURN_IF_ERROR(
      dump("SELECT 'person', p.personal_id, r.scope, r.record_id, p.field, p.role, p.date, "
           "p.partner, p.ended, p.stated, p.family FROM person_index p JOIN records r ON r.id = "
           "p.record "
           "ORDER BY p.personal_id, r.scope, r.record_id, p.field"));
  TUPHAP_RETURN_IF_ERROR(
      dump("SELECT 'conflict', c.personal_id, c.rule, a.scope, a.record_id, b.scope, b.record_id "
           "FROM person_conflicts c JOIN records a ON a.id = c.record JOIN records b ON b.id = "
           "c.other ORDER BY c.personal_id, c.rule, a.scope, a.record_id, b.scope, b.record_id"));
  TUPHAP_RETURN_IF_ERROR(
      dump("SELECT 'key', scope, record_id, duplicate_key FROM records WHERE duplicate_key IS NOT "
           "NULL ORDER BY scope, record_id"));
  return out;
}

Result<std::string> Store::RebuiltPersonIndexDump() {
  AssertOwnerThread();
  Transaction txn(*db_);  // never committed: the rebuild is looked at, then dropped
  TUPHAP_RETURN_IF_ERROR(txn.status());
  TUPHAP_RETURN_IF_ERROR(ReindexIn());
  return PersonIndexDump();
}

}  // namespace tuphap::store
