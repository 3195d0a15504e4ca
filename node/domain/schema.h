// Record schemas: for each of the nine record types, every field with its
// kind, whether it is required, its merge policy, and the rules between
// fields — declared as data in schema.cc, one table per type, and read by
// the validator and the store's conflict policy.
//
// Paths are dot-separated from the record root ("data.child.given_name").
// A field inside an optional block ("data.father") is checked only when the
// block is present and not null.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/json.h"

namespace tuphap::domain {

enum class Kind : unsigned char {
  kNamePart,        // family / middle / given name: 50 characters, name repertoire
  kFullName,        // a person's full name: 150, name repertoire
  kPersonName,      // a name written whole (declarant, signer, registrar): 150, repertoire
  kText,            // short or free text: 2,000
  kPlace,           // a place or address: 500
  kNotes,           // free notes: 2,000; latest-wins
  kDate,            // YYYY-MM-DD
  kDateTime,        // YYYY-MM-DDTHH:MM
  kInt,             // a JSON integer
  kYear,            // a JSON integer year
  kMoney,           // whole VND, a JSON integer
  kEnum,            // text, one of `choices`
  kCommuneCode,     // a commune code in force (checked: commune_unknown, out_of_scope)
  kOldCommuneCode,  // a commune code of a historic registration: 5 digits, may be closed
  kProvinceCode,    // 2 digits
  kPersonalId,      // 12 ASCII digits (checked with the person: id_* classes)
  kEnterpriseCode,  // 10 digits, or 10 digits + "-NNN"
  kTextList,        // a list of text
  kIntList,         // a list of integers
  kBlock,           // an object (a person, the book, ...)
};

enum class Merge : unsigned char {
  kAdjudicate,  // concurrent different values wait for a person
  kLatest,      // the deterministic winner is taken; the other stays in history
};

struct FieldSpec {
  std::string path;
  Kind kind;
  bool required = false;  // present, not null, not ""
  bool nullable = false;  // may be JSON null (a block: an unknown parent)
  Merge merge = Merge::kAdjudicate;
  std::vector<std::string> choices;  // kEnum
  std::string block;                 // the optional block this field lives in ("" = none)
  // Filled by TypeSchema::BuildIndex: positions in `fields` of the parent
  // object and of `block` (-1: the record root / none).
  int parent_index = -1;
  int block_index = -1;
};

enum class RuleKind : unsigned char {
  kPersonId,         // a = person prefix; b = path of the sex, or "M"/"F" when implied
  kFullName,         // a = person prefix
  kDeathAfterBirth,  // a = birth date, b = death date(time)
  kNotAfter,         // a <= b (chronology)
  kBefore2016,       // a < 2016-01-01 (re-registration)
  kMinAge,           // a = person prefix, b = date the age is taken on, n = years
  kSexIs,            // a = person prefix, b = "M" or "F"
  kFine,             // the fine rules of a violation decision (classes 21-24)
  kEditedAfter,      // edits: edited_at on or after registered_at
};

struct Rule {
  RuleKind kind;
  std::string a;
  std::string b;
  int n = 0;
};

struct TypeSchema {
  std::string type;
  std::string variant;  // "individual", "organization", or the re-registered event
  std::vector<FieldSpec> fields;
  std::vector<Rule> rules;
  std::vector<std::string> name_paths;  // full names indexed for search
  std::vector<std::string> id_paths;    // identifiers indexed for search

  const FieldSpec* Find(std::string_view path) const;
  // Position of a field in `fields`, or -1.
  int IndexOf(std::string_view path) const;
  // The keys a block ("" = the record root) may hold.
  const std::unordered_set<std::string_view>* ChildKeys(std::string_view block) const;

  // Lookup tables, filled once the schema is built.
  void BuildIndex();

 private:
  std::unordered_map<std::string_view, int> index_;
  std::unordered_map<std::string_view, std::unordered_set<std::string_view>> children_;
};

// Every schema: each type, and each variant of a type, in the order of
// DOMAIN.md.
const std::vector<TypeSchema>& AllSchemas();
std::string_view KindName(Kind kind);
std::string_view MergeName(Merge merge);

// The record types, in the order of DOMAIN.md.
const std::vector<std::string>& RecordTypes();
bool IsRecordType(std::string_view type);
// The register a new record of `type` is entered in ("KS", ...). For a
// re-registration, the register of `event_type`.
std::string_view RegisterOf(std::string_view type, std::string_view event_type = {});

// The schema for a record of `type`, in the variant the document selects
// (violator kind; re-registered event type). nullptr for an unknown type.
const TypeSchema* SchemaFor(std::string_view type, const Json& doc);
// Any variant of `type` that knows `path` (for merge policy lookups).
const FieldSpec* FindField(std::string_view type, std::string_view path);

// The last entry number of a register-year (six digits in a reference).
inline constexpr int64_t kLastEntryNo = 999'999;

// Top-level keys that are part of a line but not of the record.
bool IsLineOnlyKey(std::string_view key);

}  // namespace tuphap::domain
