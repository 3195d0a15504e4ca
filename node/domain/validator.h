// Validation of record lines and records against the schemas: each check
// belongs to an error class, classes run in their fixed order, and the first
// problem found is reported with the field path and a sentence for people.
//
// What needs the store (entry_duplicate, the edit classes) is the caller's
// (node/domain/registry.h); everything else is here and pure.
#pragma once

#include <optional>
#include <string>

#include "base/json.h"
#include "node/domain/error_class.h"
#include "node/domain/messages.h"
#include "node/domain/schema.h"

namespace tuphap::domain {

struct Problem {
  ErrorClass error_class;
  std::string field;    // dot path ("data.child.birth_date"), or "" for the line
  std::string message;  // in the officer's language
};

// Whose records a node accepts: a commune node its commune's, a hub its
// province's.
struct AcceptScope {
  bool hub = false;
  std::string commune;   // commune node
  std::string province;  // hub
};

// What CheckRecord makes of keys the schema does not name. A writer
// refuses them; a receiver judging a stored record ignores them, so that a
// field a newer rule set added is kept and not held against the record
// (docs/record-format.md, "When two rule sets meet").
enum class UnknownFields { kRefuse, kIgnore };

class Validator {
 public:
  Validator(Lang lang, AcceptScope scope) : lang_(lang), scope_(std::move(scope)) {}

  // Classes 1-3 on raw line bytes: on success `*doc` holds the object.
  std::optional<Problem> ParseLine(std::string_view line, Json* doc) const;
  // Classes 3 (type) and 4-25 on a create line or a record document.
  std::optional<Problem> CheckRecord(const Json& doc, std::string_view type,
                                     UnknownFields unknown = UnknownFields::kRefuse) const;
  // The edit line's own shape (classes 4-8 on its keys).
  std::optional<Problem> CheckEditLine(const Json& line) const;
  // A violation decision's status may move from `from` to `to`.
  static bool StatusTransitionAllowed(std::string_view from, std::string_view to);

  Lang lang() const { return lang_; }
  const AcceptScope& scope() const { return scope_; }
  Problem Make(ErrorClass c, std::string field, Msg msg,
               std::initializer_list<std::string_view> args) const;

 private:
  Lang lang_;
  AcceptScope scope_;
};

}  // namespace tuphap::domain
