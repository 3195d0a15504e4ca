// The register's person rules (docs/record-format.md, "Person rules"): the
// people a record names by 12-digit personal ID, with their roles (the
// person index), and the rules a registrar applies across one person's
// records — one birth registration per child, one death per person, no
// registration of a dead person as a party who must be alive, no second
// marriage while the first stands, no confirmation of a marital status the
// records contradict.
//
// A person is only ever linked by personal ID: names and birth dates
// collide massively (DOMAIN.md) and are only shown as possible duplicates
// (DuplicateKeyOf), never linked. Revoked records do not count, nor do
// records judged invalid (content rules) until their flag clears.
//
// The same judgement serves two places: a registration (import, record
// add, amend) is refused when it would collide (CheckRegistration), and
// the store keeps the collisions between records that met only after sync
// as person conflicts (JudgePerson, the store's person_rules hook).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/domain/error_class.h"
#include "node/domain/messages.h"
#include "node/store/store.h"

namespace tuphap::domain {

// The rules, in the order they are checked (each an error class).
inline constexpr ErrorClass kPersonRules[] = {
    ErrorClass::kChildAlreadyRegistered, ErrorClass::kDeathAlreadyRegistered,
    ErrorClass::kPersonDeceased, ErrorClass::kAlreadyMarried,
    ErrorClass::kMaritalStatusContradicted};

// The values a record holds at a dot path: every competing value of a
// field in conflict (a record state), or its one value (a new record).
using ValuesAt = std::function<std::vector<std::string>(std::string_view path)>;

// The person index entries of a record of `type` (the re-registered event
// type is read through `values`).
std::vector<store::PersonRef> PersonRefsOf(std::string_view type, const ValuesAt& values);
// The possible-duplicate key of a birth or death: its person's folded full
// name and birth date, and for a birth the parents' folded names; "" for
// other records or when the name or date is missing.
std::string DuplicateKeyOf(std::string_view type, const ValuesAt& values);

// The person conflicts among the records naming `personal_id`
// (StoreOptions::person_rules): a pure function of what `rows_of` returns.
Result<std::vector<store::PersonConflict>> JudgePerson(std::string_view personal_id,
                                                       const store::PersonRowsOf& rows_of);

// A registration refused by a person rule: the rule, the ID, and the record
// it collides with.
struct PersonProblem {
  ErrorClass rule;
  std::string personal_id;
  store::PersonRow self;   // the new record's entry naming that person
  store::PersonRow other;  // the record it collides with
};
// The person rules a record of `scope` / `record_id` with index entries
// `refs` would break against the records `rows_of` reads (the record's own
// stored entries, when it is an edit, are replaced by `refs`): in
// kPersonRules order, and within a rule the earliest other record first.
Result<std::vector<PersonProblem>> CheckRegistration(std::string_view scope,
                                                     std::string_view record_id,
                                                     std::string_view type,
                                                     const std::vector<store::PersonRef>& refs,
                                                     const store::PersonRowsOf& rows_of);
// The sentence for a problem, naming the other record.
std::string DescribePersonProblem(Lang lang, const PersonProblem& p);

// What the records show of a person's marital status on `date`.
struct MaritalRecord {
  // never_married (no marriage on record), married, divorced, widowed;
  // "" when the person has no personal ID.
  std::string status;
  // The person's death, when recorded on or before the date.
  std::optional<store::PersonRow> deceased;
  std::vector<store::PersonRow> marriages;  // live, registered on or before `date`
};
Result<MaritalRecord> MaritalStatusOnRecord(std::string_view personal_id, std::string_view date,
                                            const store::PersonRowsOf& rows_of);

}  // namespace tuphap::domain
