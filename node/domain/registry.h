// Registry: the civil-status domain on top of a Node — import of record
// lines, the officer's registrations and amendments, conflict resolution,
// search, and register entry numbers. Everything written is validated first
// (validator.h); what needs the store (duplicates, the edit classes) is
// checked here, inside the write transaction.
//
// Officer commands return InvalidArgument for a refused record, with the
// error class as reason() and "field: sentence" as the message.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "node/domain/person_rules.h"
#include "node/domain/validator.h"
#include "node/node.h"

namespace tuphap::domain {

struct LineResult {
  enum class Outcome { kAccepted, kDuplicate, kRefused };
  Outcome outcome = Outcome::kAccepted;
  std::optional<Problem> problem;  // when refused
  std::string record_id;
};

struct SearchHit {
  std::string record_id;
  std::string scope;
  std::string type;
  std::string date;       // registration date
  std::string names;      // the names as written
  bool exact = false;     // the query matched the names with their accents
  bool together = false;  // the query's words, in order, within one name
};

// A line checked as far as it can be without the store — parsed, and for a
// create every class up to entry_invalid, flattened into its ops — so that
// an import can do this part on another thread.
struct PreparedLine {
  enum class Kind { kRefused, kCreate, kEdit };
  Kind kind = Kind::kRefused;
  std::optional<Problem> problem;  // kRefused
  std::string record_id;
  std::string scope;
  node::Node::PreparedOps ops;  // kCreate: one record: $type and every field, sorted
  std::string entry;            // kCreate: "register year entry_no", for a duplicate's message
  Json doc;                     // kEdit: the line
};

class Registry {
 public:
  Registry(node::Node& node, Lang lang);
  const Validator& validator() const { return validator_; }
  node::Node& node() { return node_; }

  // One JSON line of an import file, inside `session`. Refusals and
  // duplicates are results; an error Status is a store failure.
  Result<LineResult> ImportLine(store::Store::Session& session, std::string_view line);
  // The two halves of ImportLine. Prepare touches no store and may run on
  // any thread; Commit runs on the session's thread, in line order.
  PreparedLine Prepare(std::string_view line) const;
  Result<LineResult> Commit(store::Store::Session& session, PreparedLine&& line);

  // Registers a new record from `line`, a create line (at least its
  // "data"). Missing header fields are filled in: this node's commune
  // (`scope` on a hub), today's date, and the next entry number of the
  // register. Returns the record id.
  // A marital-status confirmation states what the records show of its
  // subject (person_rules.h): `marital`, when given, receives it, and an
  // absent data.marital_status is filled in with it.
  Result<std::string> Register(std::string_view type, Json line, const std::string& scope = {},
                               MaritalRecord* marital = nullptr);
  // Officer input "path=text" read as the field's kind: numbers for numeric
  // fields, JSON for lists and blocks, text otherwise.
  static Json CoerceField(std::string_view type, const std::string& path, const std::string& text);
  // Sets fields given as (path, text); text is read as the field's kind
  // (numbers for numeric fields, JSON for lists). Immutable fields refused.
  Status Amend(const std::string& id,
               const std::vector<std::pair<std::string, std::string>>& fields,
               const std::string& reason, const std::string& scope = {});
  // Settles a conflicted field on `value` (an op over all competing values).
  Status Resolve(const std::string& id, const std::string& field, const std::string& value,
                 const std::string& reason, const std::string& scope = {});

  // Diacritic-insensitive search over names, ID numbers and register
  // references; matches with the accents as typed come first.
  Result<std::vector<SearchHit>> Search(std::string_view query, std::string_view type,
                                        std::string_view from, std::string_view to,
                                        size_t limit = 200);

  // Register numbers (numbering.cc).
  Result<int64_t> NextEntry(const std::string& commune, std::string_view register_code, int year);
  // On a commune's primary node: lease the next `count` numbers of a
  // register-year to another node of the commune. Returns the first number.
  Result<int64_t> GrantLease(const std::string& holder, std::string_view register_code, int year,
                             int count);

 private:
  struct FieldChange {
    std::string path;
    Json value;
    std::optional<Json> old;  // expected current value (import edits)
  };
  struct Edit {
    std::string scope;
    std::string record_id;
    std::vector<FieldChange> changes;
    std::optional<int64_t> base_version;
    std::string edit_id;
    std::string edited_at;
    std::string reason;
    bool resolve = false;  // a conflict resolution: no other checks of the record
  };
  Result<LineResult> ImportEdit(store::Store::Session& session, const Json& line);
  // Checks and appends an edit; a refusal comes back as a LineResult.
  Result<LineResult> ApplyEdit(store::Store::Session& session, const Edit& edit);
  // Whether `rec` was created by exactly these (sorted) ops.
  Result<bool> SameCreation(const store::RecordView& rec, const crdt::RecordOps& ops);
  Status Refusal(const Problem& p) const;
  // A validated create: refused as a duplicate entry, skipped as already
  // present, or appended.
  Result<LineResult> AppendCreate(store::Store::Session& session, PreparedLine& line);
  PreparedLine PrepareCreate(Json doc) const;
  // The person rules (person_rules.h) for a record of `type` naming
  // `refs`, against what `session` holds: a refusal, or nothing.
  // `before`: an edit's entries before it; only a collision the edit makes
  // is refused.
  Result<std::optional<LineResult>> CheckPersons(
      store::Store::Session& session, const std::string& scope, const std::string& record_id,
      std::string_view type, const std::vector<store::PersonRef>& refs,
      const std::vector<store::PersonRef>* before = nullptr);

  node::Node& node_;
  Validator validator_;
};

}  // namespace tuphap::domain
