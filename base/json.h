// A small JSON value, parser and writer.
//
// Why our own: Debian 12 ships no JSON library among the project's allowed
// dependencies (Boost 1.74 predates Boost.JSON), and the import path needs
// things general libraries do not give together: duplicate keys reported as
// errors, the byte offset of every error, hard depth limits, and speed on
// millions of ~1 KB lines.
//
// Objects keep their members in input order (output is stable and readable);
// lookups are linear, which is faster than hashing at the sizes we see.
// Input must be UTF-8; ParseJson checks it and says where it is not.
//
// Two writers: Dump keeps member order (what people read: CLI output), and
// DumpCanonical writes RFC 8785 (JCS), the one byte form of a value that a
// JSON value inside a change must have (docs/envelope.md), so that two
// implementations writing the same value write the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace tuphap {

class Json {
 public:
  enum class Type : unsigned char { kNull, kBool, kInt, kDouble, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() = default;
  Json(std::nullptr_t) {}                       // NOLINT
  Json(bool b) : v_(b) {}                       // NOLINT
  Json(int i) : v_(static_cast<int64_t>(i)) {}  // NOLINT
  Json(int64_t i) : v_(i) {}                    // NOLINT
  // Above INT64_MAX a JSON number is kept as a double, never wrapped.
  Json(uint64_t i) {  // NOLINT
    if (i <= static_cast<uint64_t>(INT64_MAX)) {
      v_ = static_cast<int64_t>(i);
    } else {
      v_ = static_cast<double>(i);
    }
  }
  Json(double d) : v_(d) {}                         // NOLINT
  Json(std::string s) : v_(std::move(s)) {}         // NOLINT
  Json(std::string_view s) : v_(std::string(s)) {}  // NOLINT
  Json(const char* s) : v_(std::string(s)) {}       // NOLINT
  Json(Array a) : v_(std::move(a)) {}               // NOLINT
  Json(Object o) : v_(std::move(o)) {}              // NOLINT

  static Json MakeArray() { return Json(Array{}); }
  static Json MakeObject() { return Json(Object{}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_bool() const { return type() == Type::kBool; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_number() const { return type() == Type::kInt || type() == Type::kDouble; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const;  // an int converts
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // Object member by key, or nullptr (also when this is not an object).
  const Json* Find(std::string_view key) const;
  Json* Find(std::string_view key);
  // Sets (replacing) an object member; this must be an object.
  Json& Set(std::string key, Json value);
  // Appends to an array; this must be an array.
  Json& Push(Json value);

  // Compact JSON, members in their order; a double keeps a '.' or an
  // exponent so that it reads back as a double. For people and files.
  std::string Dump() const;
  void DumpTo(std::string* out) const;

  // RFC 8785 (JSON Canonicalization Scheme): no whitespace; object members
  // sorted by the UTF-16 code units of their names; strings escaped as
  // ECMAScript's JSON.stringify does (`\"`, `\\`, \b \t \n \f \r by name,
  // other controls below U+0020 as \u00xx in lower case, everything else as
  // UTF-8); every number as the IEEE-754 double it denotes, in ECMAScript's
  // shortest round-trip form (3.0 is "3", 1e21 is "1e+21", -0 is "0").
  // InvalidArgument when the value has no canonical form: a number no double
  // equals exactly (an integer beyond 2^53 that is not a multiple of the
  // doubles' spacing there — JCS would round it), a double that is not
  // finite, text that is not UTF-8, or an object naming a member twice.
  Result<std::string> DumpCanonical() const;
  Status DumpCanonicalTo(std::string* out) const;

  friend bool operator==(const Json& a, const Json& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

struct JsonParseError {
  enum class Kind { kNone, kEncoding, kSyntax, kDuplicateKey, kTooDeep };
  Kind kind = Kind::kNone;
  size_t offset = 0;    // byte offset in the input where the problem is
  std::string message;  // a sentence for people
};

struct JsonLimits {
  int max_depth = 64;
  bool utf8_checked = false;  // the caller has already checked the text is UTF-8
};

// Parses exactly one JSON value (surrounding whitespace allowed).
std::optional<Json> ParseJson(std::string_view text, JsonParseError* error,
                              const JsonLimits& limits = {});

// Appends `s` to `out` as a quoted JSON string.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace tuphap
