// Value: what one field holds. Scalars (null, bool, integer, text) and, for
// lists such as a decision's additional penalties, canonical JSON text.
// Values are totally ordered (kind, then content) so that anything hashed or
// compared is deterministic.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tuphap::crdt {

class Value {
 public:
  enum class Kind : unsigned char { kNull = 0, kBool = 1, kInt = 2, kString = 3, kJson = 4 };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Bool(bool b) { return Value(Kind::kBool, b ? 1 : 0, {}); }
  static Value Int(int64_t i) { return Value(Kind::kInt, i, {}); }
  static Value String(std::string s) { return Value(Kind::kString, 0, std::move(s)); }
  // `text` must be canonical JSON (as written by tuphap::Json::Dump).
  static Value JsonText(std::string text) { return Value(Kind::kJson, 0, std::move(text)); }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  // The text of a string or JSON value.
  const std::string& text() const { return text_; }
  // Human-readable: strings as they are, others as JSON.
  std::string ToDisplay() const;

  friend bool operator==(const Value&, const Value&) = default;
  friend std::strong_ordering operator<=>(const Value& a, const Value& b) {
    if (auto c = a.kind_ <=> b.kind_; c != 0) return c;
    if (auto c = a.int_ <=> b.int_; c != 0) return c;
    return a.text_.compare(b.text_) <=> 0;
  }

 private:
  Value(Kind k, int64_t i, std::string t) : kind_(k), int_(i), text_(std::move(t)) {}
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  std::string text_;
};

}  // namespace tuphap::crdt
