#include "node/domain/person_rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "node/domain/vn_text.h"

namespace tuphap::domain {
namespace {

// Where a role's ID sits, relative to the data block.
struct RoleSpec {
  const char* block;  // "child" -> data.child.personal_id
  const char* role;
};

// Blocks of each record type that name a person by ID, and their roles.
std::vector<RoleSpec> RolesOf(std::string_view type) {
  if (type == "birth")
    return {
        {"child", "child"}, {"mother", "parent"}, {"father", "parent"}, {"declarant", "declarant"}};
  if (type == "death") return {{"deceased", "deceased"}, {"declarant", "declarant"}};
  if (type == "marriage") return {{"husband", "husband"}, {"wife", "wife"}};
  if (type == "parent_child_recognition") return {{"parent", "parent"}, {"child", "child"}};
  if (type == "guardianship") return {{"ward", "ward"}, {"guardian", "guardian"}};
  if (type == "change_correction") return {{"subject", "subject"}};
  if (type == "marital_status_confirmation") return {{"subject", "requester"}};
  if (type == "violation_decision") return {{"violator", "violator"}};
  return {};
}

// The family of roles a rule reads an entry in (person_index.family; each
// is bounded apart), 0 for roles no rule reads: a birth's child; a death;
// a marriage party; the parties who must be alive otherwise.
int FamilyOf(std::string_view type, std::string_view role) {
  if (role == "child") return type == "birth" ? 1 : 0;
  if (role == "deceased") return 2;
  if (role == "husband" || role == "wife") return 3;
  if (role == "guardian" || role == "requester") return 4;
  if (role == "parent") return type == "parent_child_recognition" ? 4 : 0;
  return 0;
}

std::string First(const ValuesAt& values, const std::string& path) {
  std::vector<std::string> v = values(path);
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return v.front();  // of competing values, the least: the same on every replica
}

bool IsPersonalId(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The rows that count: records neither revoked nor judged invalid (a
// flagged record takes no number and counts in no statistic; it waits on
// the attention list, and counts here once its flag clears).
std::vector<store::PersonRow> Live(std::vector<store::PersonRow> rows) {
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [](const auto& r) { return r.revoked || r.invalid; }),
             rows.end());
  return rows;
}

// Registration order: by the role's date, then commune and record id (the
// same order on every replica).
bool Earlier(const store::PersonRow& a, const store::PersonRow& b) {
  return std::tie(a.date, a.scope, a.record_id) < std::tie(b.date, b.scope, b.record_id);
}

bool IsBirth(const store::PersonRow& r) {
  return r.role == "child" && (r.type == "birth" || r.type == "re_registration");
}
bool IsDeath(const store::PersonRow& r) { return r.role == "deceased"; }
bool IsMarriage(const store::PersonRow& r) { return r.role == "husband" || r.role == "wife"; }
// Parties who must be alive on the registration date.
bool MustBeAlive(const store::PersonRow& r) {
  return (IsMarriage(r) && r.type == "marriage") || r.role == "guardian" || r.role == "requester" ||
         (r.role == "parent" && r.type == "parent_child_recognition");
}

std::string_view RuleName(ErrorClass c) { return ErrorClassName(c); }

// The earliest death among `rows` (live), if any.
const store::PersonRow* FirstDeath(const std::vector<store::PersonRow>& rows) {
  const store::PersonRow* first = nullptr;
  for (const auto& r : rows)
    if (IsDeath(r) && (first == nullptr || Earlier(r, *first))) first = &r;
  return first;
}

// When marriage `m` (a live row of one party) ended: its recorded
// dissolution or the spouse's recorded death, whichever is first; "" while
// it stands.
Result<std::string> EndOf(const store::PersonRow& m, const store::PersonRowsOf& rows_of) {
  std::string end = m.ended;
  if (m.partner.empty()) return end;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> spouse, rows_of(m.partner));
  spouse = Live(std::move(spouse));
  if (const store::PersonRow* death = FirstDeath(spouse)) {
    if (end.empty() || death->date < end) end = death->date;
  }
  return end;
}

// Whether a marriage that ended on `end` ("" = stands) had ended by `date`.
bool EndedBy(std::string_view end, std::string_view date) { return !end.empty() && end <= date; }

// Every conflict among one person's live rows.
Result<std::vector<store::PersonConflict>> Judge(std::string_view id,
                                                 std::vector<store::PersonRow> rows,
                                                 const store::PersonRowsOf& rows_of) {
  std::vector<store::PersonConflict> out;
  std::sort(rows.begin(), rows.end(), Earlier);
  auto add = [&](ErrorClass rule, const store::PersonRow& later, const store::PersonRow& first) {
    if (later.record == first.record && later.scope == first.scope &&
        later.record_id == first.record_id)
      return;  // one record naming the person twice
    out.push_back({std::string(id), std::string(RuleName(rule)), later.record, first.record});
  };
  // One birth registration per child, one death per person: every later
  // one collides with the first.
  for (auto [rule, is] : {std::pair{ErrorClass::kChildAlreadyRegistered, &IsBirth},
                          std::pair{ErrorClass::kDeathAlreadyRegistered, &IsDeath}}) {
    const store::PersonRow* first = nullptr;
    for (const auto& r : rows) {
      if (!is(r)) continue;
      if (first == nullptr) {
        first = &r;
      } else {
        add(rule, r, *first);
      }
    }
  }
  // Recorded dead before a registration that needs the person alive.
  if (const store::PersonRow* death = FirstDeath(rows)) {
    for (const auto& r : rows)
      if (MustBeAlive(r) && r.date > death->date) add(ErrorClass::kPersonDeceased, r, *death);
  }
  // A marriage while an earlier one stands: each names the earliest
  // earlier marriage not ended by its date. Dates only grow along the
  // list, so a marriage ended by one date is ended by every later one: one
  // pass.
  std::vector<const store::PersonRow*> marriages;
  std::vector<std::string> ends;
  // Each spouse is read once, however many marriages name them.
  std::map<std::string, std::vector<store::PersonRow>, std::less<>> spouses;
  const store::PersonRowsOf spouse_rows =
      [&](std::string_view p) -> Result<std::vector<store::PersonRow>> {
    auto it = spouses.find(p);
    if (it == spouses.end()) {
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> read, rows_of(p));
      it = spouses.emplace(std::string(p), std::move(read)).first;
    }
    return it->second;
  };
  for (const auto& r : rows) {
    if (!IsMarriage(r)) continue;
    marriages.push_back(&r);
    TUPHAP_ASSIGN_OR_RETURN(std::string end, EndOf(r, spouse_rows));
    ends.push_back(std::move(end));
  }
  size_t standing = 0;  // every earlier marriage before it had ended
  for (size_t j = 1; j < marriages.size(); ++j) {
    while (standing < j && EndedBy(ends[standing], marriages[j]->date)) ++standing;
    if (standing < j) add(ErrorClass::kAlreadyMarried, *marriages[j], *marriages[standing]);
  }
  // A confirmation the records contradict: "never married" with a
  // marriage on record, "divorced" or "widowed" while one stands.
  for (const auto& q : rows) {
    if (q.role != "requester" || q.stated.empty() || q.stated == "married") continue;
    for (size_t i = 0; i < marriages.size() && marriages[i]->date <= q.date; ++i) {
      if (q.stated == "never_married" || !EndedBy(ends[i], q.date)) {
        add(ErrorClass::kMaritalStatusContradicted, q, *marriages[i]);
        break;
      }
    }
  }
  return out;
}

}  // namespace

std::vector<store::PersonRef> PersonRefsOf(std::string_view type_arg, const ValuesAt& values) {
  std::string type(type_arg);
  std::string d = "data";
  std::string event_date = First(values, "registered_at");
  if (type == "re_registration") {
    type = First(values, "data.event_type");
    d = "data.event";
    // A re-registered marriage dates from its first registration.
    if (type == "marriage") event_date = First(values, "data.original_registered_at");
  }
  std::vector<store::PersonRef> out;
  const std::vector<RoleSpec> roles = RolesOf(type);
  for (const auto& spec : roles) {
    const std::string field = d + "." + spec.block + ".personal_id";
    for (const auto& id : values(field)) {
      if (!IsPersonalId(id)) continue;  // no ID, no link
      store::PersonRef ref;
      ref.personal_id = id;
      ref.role = spec.role;
      ref.field = field;
      ref.date = event_date;
      if (ref.role == "deceased") ref.date = First(values, d + ".death_datetime").substr(0, 10);
      if (ref.role == "husband" || ref.role == "wife") {
        // Of competing values, the least that is an ID: the same on every
        // replica, and a value that is no ID never hides one that is.
        std::vector<std::string> spouse =
            values(d + "." + (ref.role == "husband" ? "wife" : "husband") + ".personal_id");
        std::erase_if(spouse, [&](const std::string& s) { return !IsPersonalId(s) || s == id; });
        std::sort(spouse.begin(), spouse.end());
        if (!spouse.empty()) ref.partner = spouse.front();
        ref.ended = First(values, d + ".dissolved_on");
      }
      if (ref.role == "requester") ref.stated = First(values, "data.marital_status");
      ref.family = FamilyOf(type, ref.role);
      out.push_back(std::move(ref));
    }
  }
  return out;
}

std::string DuplicateKeyOf(std::string_view type_arg, const ValuesAt& values) {
  std::string type(type_arg);
  std::string d = "data";
  if (type == "re_registration") {
    type = First(values, "data.event_type");
    d = "data.event";
  }
  if (type != "birth" && type != "death") return {};
  const std::string person = d + (type == "birth" ? ".child" : ".deceased");
  const std::string name = FoldForSearch(First(values, person + ".full_name"));
  const std::string born = First(values, person + ".birth_date");
  if (name.empty() || born.empty()) return {};
  std::string key = type + "|" + name + "|" + born;
  if (type == "birth") {
    key += "|" + FoldForSearch(First(values, d + ".mother.full_name"));
    key += "|" + FoldForSearch(First(values, d + ".father.full_name"));
  }
  return key;
}

Result<std::vector<store::PersonConflict>> JudgePerson(std::string_view personal_id,
                                                       const store::PersonRowsOf& rows_of) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> rows, rows_of(personal_id));
  return Judge(personal_id, Live(std::move(rows)), rows_of);
}

Result<std::vector<PersonProblem>> CheckRegistration(std::string_view scope,
                                                     std::string_view record_id,
                                                     std::string_view type,
                                                     const std::vector<store::PersonRef>& refs,
                                                     const store::PersonRowsOf& rows_of) {
  // The new record as a row of its own (record 0 with its id), in place of
  // what the store holds of it (an edit).
  auto is_this = [&](const store::PersonRow& r) {
    return r.scope == scope && r.record_id == record_id;
  };
  const store::PersonRowsOf with_new =
      [&](std::string_view id) -> Result<std::vector<store::PersonRow>> {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> rows, rows_of(id));
    rows.erase(std::remove_if(rows.begin(), rows.end(), is_this), rows.end());
    for (const auto& ref : refs) {
      if (ref.personal_id != id || ref.family == 0) continue;
      store::PersonRow row;
      static_cast<store::PersonRef&>(row) = ref;
      row.record = 0;
      row.record_id = std::string(record_id);
      row.scope = std::string(scope);
      row.type = std::string(type);
      rows.push_back(std::move(row));
    }
    return rows;
  };
  std::vector<PersonProblem> out;
  auto rank = [](ErrorClass c) {
    return std::find(std::begin(kPersonRules), std::end(kPersonRules), c) -
           std::begin(kPersonRules);
  };
  std::set<std::string> ids;
  for (const auto& ref : refs)
    if (ref.family > 0) ids.insert(ref.personal_id);
  for (const auto& id : ids) {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> rows, with_new(id));
    rows = Live(std::move(rows));
    // Records are told apart by id here: the new one has no rowid yet.
    std::map<std::pair<std::string, std::string>, int64_t> numbers;
    for (auto& r : rows) {
      auto [it, fresh] = numbers.emplace(std::pair{r.scope, r.record_id},
                                         static_cast<int64_t>(numbers.size()) + 1);
      r.record = it->second;
    }
    const int64_t self = numbers.count({std::string(scope), std::string(record_id)}) != 0
                             ? numbers.at({std::string(scope), std::string(record_id)})
                             : -1;
    TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflict> found, Judge(id, rows, with_new));
    for (const auto& c : found) {
      if (c.record != self && c.other != self) continue;  // two records already stored
      const int64_t other_no = c.record == self ? c.other : c.record;
      const store::PersonRow* other = nullptr;
      const store::PersonRow* mine = nullptr;
      for (const auto& r : rows) {
        if (r.record == other_no && other == nullptr) other = &r;
        if (r.record == self && mine == nullptr) mine = &r;
      }
      if (other == nullptr) continue;
      ErrorClass rule = ErrorClass::kChildAlreadyRegistered;
      for (ErrorClass k : kPersonRules)
        if (ErrorClassName(k) == c.rule) rule = k;
      if (mine == nullptr) continue;
      out.push_back(PersonProblem{rule, id, *mine, *other});
    }
  }
  std::stable_sort(out.begin(), out.end(), [&](const PersonProblem& a, const PersonProblem& b) {
    if (rank(a.rule) != rank(b.rule)) return rank(a.rule) < rank(b.rule);
    return Earlier(a.other, b.other);
  });
  return out;
}

std::string DescribePersonProblem(Lang lang, const PersonProblem& p) {
  // Said from the new record's side: it may be the later of the two, or
  // the one the other record now contradicts (a death dated before a
  // marriage on record, a marriage dated before a confirmation).
  const bool later = !Earlier(p.self, p.other);
  Msg msg = Msg::kChildAlreadyRegistered;
  std::string_view detail = p.self.date;
  switch (p.rule) {
    case ErrorClass::kDeathAlreadyRegistered:
      msg = Msg::kDeathAlreadyRegistered;
      break;
    case ErrorClass::kPersonDeceased:
      msg = IsDeath(p.self) ? Msg::kPersonDeceasedLater : Msg::kPersonDeceased;
      break;
    case ErrorClass::kAlreadyMarried:
      msg = later ? Msg::kAlreadyMarried : Msg::kAlreadyMarriedLater;
      break;
    case ErrorClass::kMaritalStatusContradicted:
      if (IsMarriage(p.self)) {
        msg = Msg::kMaritalStatusContradictedLater;
        detail = p.other.stated;
      } else {
        msg = Msg::kMaritalStatusContradicted;
        detail = p.self.stated;
      }
      break;
    default:
      break;
  }
  return Format(lang, msg, {p.personal_id, p.other.record_id, p.other.scope, p.other.date, detail});
}

Result<MaritalRecord> MaritalStatusOnRecord(std::string_view personal_id, std::string_view date,
                                            const store::PersonRowsOf& rows_of) {
  MaritalRecord out;
  if (!IsPersonalId(personal_id)) return out;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonRow> rows, rows_of(personal_id));
  rows = Live(std::move(rows));
  std::sort(rows.begin(), rows.end(), Earlier);
  out.status = "never_married";
  for (const auto& r : rows) {
    if (!IsMarriage(r) || r.date > date) continue;
    out.marriages.push_back(r);
  }
  if (const store::PersonRow* death = FirstDeath(rows); death != nullptr && death->date <= date)
    out.deceased = *death;
  if (out.marriages.empty()) return out;
  const store::PersonRow& last = out.marriages.back();
  TUPHAP_ASSIGN_OR_RETURN(std::string end, EndOf(last, rows_of));
  if (!EndedBy(end, date)) {
    out.status = "married";
  } else {
    out.status = !last.ended.empty() && last.ended <= date ? "divorced" : "widowed";
  }
  return out;
}

}  // namespace tuphap::domain
