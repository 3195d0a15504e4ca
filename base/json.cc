#include "base/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

#include "base/utf8.h"

namespace tuphap {

double Json::as_double() const {
  if (is_int()) return static_cast<double>(as_int());
  return std::get<double>(v_);
}

const Json* Json::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json* Json::Find(std::string_view key) {
  return const_cast<Json*>(static_cast<const Json*>(this)->Find(key));
}

Json& Json::Set(std::string key, Json value) {
  for (auto& [k, v] : as_object()) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  as_object().emplace_back(std::move(key), std::move(value));
  return as_object().back().second;
}

Json& Json::Push(Json value) {
  as_array().push_back(std::move(value));
  return as_array().back();
}

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void Json::DumpTo(std::string* out) const {
  char buf[32];
  switch (type()) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(as_bool() ? "true" : "false");
      break;
    case Type::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, as_int());
      out->append(buf, r.ptr);
      break;
    }
    case Type::kDouble: {
      const double d = std::get<double>(v_);
      if (!std::isfinite(d)) {  // JSON has no infinity or NaN
        out->append("null");
        break;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      const std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
      out->append(text);
      // Keep a double a double when read back: "-2500" would parse as an integer.
      if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");
      break;
    }
    case Type::kString:
      AppendJsonString(as_string(), out);
      break;
    case Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : as_array()) {
        if (!first) out->push_back(',');
        first = false;
        e.DumpTo(out);
      }
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : as_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(k, out);
        out->push_back(':');
        v.DumpTo(out);
      }
      out->push_back('}');
      break;
    }
  }
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

namespace {

// ECMAScript's Number::toString (ECMA-262, 7.1.12.1), which RFC 8785
// section 3.2.2.3 makes the canonical form of a number. `d` is finite.
void AppendEcmaScriptNumber(double d, std::string* out) {
  if (d == 0) {  // +0 and -0
    out->push_back('0');
    return;
  }
  if (d < 0) {
    out->push_back('-');
    d = -d;
  }
  // The shortest digits that read back as `d` (nearest first, as ECMAScript
  // asks), in the form D[.DDD]e±XX.
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  const size_t e = sci.find('e');
  std::string digits(1, sci[0]);
  if (e > 1) digits.append(sci.substr(2, e - 2));
  int exponent = 0;
  std::from_chars(sci.data() + e + 2, sci.data() + sci.size(), exponent);
  if (sci[e + 1] == '-') exponent = -exponent;
  // ECMA-262 names: k digits, the value is 0.digits x 10^n.
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out->append(digits);
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits, 0, static_cast<size_t>(n));
    out->push_back('.');
    out->append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits);
  } else {
    out->push_back(digits[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(digits, 1);
    }
    out->push_back('e');
    out->push_back(n - 1 < 0 ? '-' : '+');
    out->append(std::to_string(n - 1 < 0 ? 1 - n : n - 1));
  }
}

// A name as UTF-16 code units: RFC 8785 sorts members by them, which
// differs from UTF-8 (code point) order for names with characters above
// U+FFFF against U+E000-U+FFFF.
std::u16string Utf16(std::string_view utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  for (size_t pos = 0; pos < utf8.size();) {
    const char32_t cp = NextCodePoint(utf8, &pos);
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    }
  }
  return out;
}

Status NotUtf8() {
  return Status::InvalidArgument("JSON text that is not UTF-8 has no canonical form");
}

}  // namespace

Status Json::DumpCanonicalTo(std::string* out) const {
  switch (type()) {
    case Type::kNull:
    case Type::kBool:
      DumpTo(out);
      return Status::Ok();
    case Type::kInt: {
      // Every JSON number is a double to RFC 8785: an integer no double
      // equals would be rounded, i.e. changed, so it has no canonical form.
      const int64_t v = as_int();
      const double d = static_cast<double>(v);
      if (d >= 9223372036854775808.0 || static_cast<int64_t>(d) != v) {
        return Status::InvalidArgument(
            "the integer " + std::to_string(v) +
            " is not exactly a double (canonical JSON, RFC 8785, carries integers up to 2^53)");
      }
      // Below 1e21 ECMAScript writes an integral double as its digits.
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof buf, v);
      out->append(buf, r.ptr);
      return Status::Ok();
    }
    case Type::kDouble: {
      const double d = std::get<double>(v_);
      if (!std::isfinite(d))
        return Status::InvalidArgument("a number that is not finite has no canonical JSON form");
      AppendEcmaScriptNumber(d, out);
      return Status::Ok();
    }
    case Type::kString:
      if (!IsValidUtf8(as_string())) return NotUtf8();
      AppendJsonString(as_string(), out);
      return Status::Ok();
    case Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : as_array()) {
        if (!first) out->push_back(',');
        first = false;
        TUPHAP_RETURN_IF_ERROR(e.DumpCanonicalTo(out));
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Type::kObject: {
      std::vector<std::pair<std::u16string, const Member*>> sorted;
      sorted.reserve(as_object().size());
      for (const auto& m : as_object()) {
        if (!IsValidUtf8(m.first)) return NotUtf8();
        sorted.emplace_back(Utf16(m.first), &m);
      }
      std::sort(sorted.begin(), sorted.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0 && sorted[i].first == sorted[i - 1].first) {
          return Status::InvalidArgument("an object naming member \"" + sorted[i].second->first +
                                         "\" twice has no canonical JSON form");
        }
        if (i > 0) out->push_back(',');
        AppendJsonString(sorted[i].second->first, out);
        out->push_back(':');
        TUPHAP_RETURN_IF_ERROR(sorted[i].second->second.DumpCanonicalTo(out));
      }
      out->push_back('}');
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<std::string> Json::DumpCanonical() const {
  std::string out;
  TUPHAP_RETURN_IF_ERROR(DumpCanonicalTo(&out));
  return out;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, JsonParseError* error, const JsonLimits& limits)
      : s_(text), error_(error), limits_(limits), scratch_(ThreadScratch(limits.max_depth)) {}

  std::optional<Json> ParseDocument() {
    SkipSpace();
    Json value;
    if (!ParseValue(&value, 0)) return std::nullopt;
    SkipSpace();
    if (pos_ != s_.size()) return Fail("unexpected text after the JSON value");
    return value;
  }

 private:
  std::nullopt_t Fail(const char* message,
                      JsonParseError::Kind kind = JsonParseError::Kind::kSyntax) {
    if (error_ != nullptr && error_->kind == JsonParseError::Kind::kNone) {
      error_->kind = kind;
      error_->offset = pos_;
      error_->message = message;
    }
    return std::nullopt;
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Json* out, int depth) {
    if (pos_ >= s_.size()) {
      Fail("the text ends where a value was expected");
      return false;
    }
    switch (s_[pos_]) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string str;
        if (!ParseString(&str)) return false;
        *out = Json(std::move(str));
        return true;
      }
      case 't':
        if (Literal("true")) {
          *out = Json(true);
          return true;
        }
        break;
      case 'f':
        if (Literal("false")) {
          *out = Json(false);
          return true;
        }
        break;
      case 'n':
        if (Literal("null")) {
          *out = Json();
          return true;
        }
        break;
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return ParseNumber(out);
    }
    Fail("not a JSON value");
    return false;
  }

  bool ParseNumber(Json* out) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
      Fail("a number needs digits");
      return false;
    }
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && IsDigit(s_[pos_ + 1])) {
      Fail("a number may not have leading zeros");
      return false;
    }
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    bool is_integer = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_integer = false;
      ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        Fail("a fraction needs digits");
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_integer = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        Fail("an exponent needs digits");
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (is_integer) {
      int64_t v = 0;
      auto r = std::from_chars(first, last, v);
      if (r.ec == std::errc() && r.ptr == last) {
        *out = Json(v);
        return true;
      }
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last) {
      pos_ = start;
      Fail("number out of range");
      return false;
    }
    *out = Json(d);
    return true;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ParseHex4(char32_t* cp) {
    if (pos_ + 4 > s_.size()) {
      Fail("a \\u escape needs four hex digits");
      return false;
    }
    char32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(s_[pos_ + i]);
      if (h < 0) {
        Fail("a \\u escape needs four hex digits");
        return false;
      }
      v = (v << 4) | static_cast<char32_t>(h);
    }
    pos_ += 4;
    *cp = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    size_t run = pos_;
    while (true) {
      if (pos_ >= s_.size()) {
        Fail("a string is not closed");
        return false;
      }
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        out->append(s_.data() + run, pos_ - run);
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        Fail("a control character must be escaped inside a string");
        return false;
      }
      if (c != '\\') {
        ++pos_;
        continue;
      }
      out->append(s_.data() + run, pos_ - run);
      ++pos_;
      if (pos_ >= s_.size()) {
        Fail("a string ends inside an escape");
        return false;
      }
      char e = s_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          char32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            char32_t low;
            if (!(Literal("\\u") && ParseHex4(&low)) || low < 0xDC00 || low > 0xDFFF) {
              Fail("a \\u surrogate escape is not paired");
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            Fail("a \\u surrogate escape is not paired");
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          --pos_;
          Fail("unknown escape in a string");
          return false;
      }
      run = pos_;
    }
  }

  bool ParseArray(Json* out, int depth) {
    if (depth > limits_.max_depth) {
      Fail("nested too deeply", JsonParseError::Kind::kTooDeep);
      return false;
    }
    ++pos_;
    Json::Array items;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      *out = Json(std::move(items));
      return true;
    }
    while (true) {
      SkipSpace();
      Json item;
      if (!ParseValue(&item, depth)) return false;
      items.push_back(std::move(item));
      SkipSpace();
      if (pos_ >= s_.size()) {
        Fail("an array is not closed");
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        break;
      }
      Fail("expected ',' or ']' in an array");
      return false;
    }
    *out = Json(std::move(items));
    return true;
  }

  // Members gather in a scratch vector kept per depth and reused, so an
  // object costs one exact-size allocation, not a growing vector's several.
  // (Sized once in the constructor: a resize here would move the vectors
  // that outer levels still hold references to.)
  Json::Object& Scratch(int depth) {
    Json::Object& s = scratch_[static_cast<size_t>(depth)];
    s.clear();
    return s;
  }

  static Json Exact(Json::Object& members) {
    Json::Object out;
    out.reserve(members.size());
    for (auto& m : members) out.push_back(std::move(m));
    members.clear();
    return Json(std::move(out));
  }

  bool ParseObject(Json* out, int depth) {
    if (depth > limits_.max_depth) {
      Fail("nested too deeply", JsonParseError::Kind::kTooDeep);
      return false;
    }
    ++pos_;
    Json::Object& members = Scratch(depth);
    std::set<std::string> large_keys;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      *out = Exact(members);
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        Fail("expected a quoted key in an object");
        return false;
      }
      const size_t key_pos = pos_;
      std::string key;
      if (!ParseString(&key)) return false;
      // Linear scan while small; a set once an object is large, so a hostile
      // object with many keys cannot make this quadratic.
      bool duplicate = false;
      if (members.size() < kLinearKeys) {
        for (const auto& m : members) duplicate = duplicate || m.first == key;
      } else {
        if (large_keys.empty()) {
          for (const auto& m : members) large_keys.insert(m.first);
        }
        duplicate = !large_keys.insert(key).second;
      }
      {
        if (duplicate) {
          pos_ = key_pos;
          Fail("duplicate key in an object", JsonParseError::Kind::kDuplicateKey);
          if (error_ != nullptr) error_->message = "duplicate key \"" + key + "\" in an object";
          return false;
        }
      }
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') {
        Fail("expected ':' after a key");
        return false;
      }
      ++pos_;
      SkipSpace();
      Json value;
      if (!ParseValue(&value, depth)) return false;
      members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ >= s_.size()) {
        Fail("an object is not closed");
        return false;
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        break;
      }
      Fail("expected ',' or '}' in an object");
      return false;
    }
    *out = Exact(members);
    return true;
  }

  static constexpr size_t kLinearKeys = 32;
  std::string_view s_;
  size_t pos_ = 0;
  JsonParseError* error_;
  JsonLimits limits_;
  std::vector<Json::Object>& scratch_;  // per depth, kept between parses on this thread

  static std::vector<Json::Object>& ThreadScratch(int max_depth) {
    thread_local std::vector<Json::Object> scratch;
    const size_t want = static_cast<size_t>(std::max(max_depth, 0)) + 2;
    if (scratch.size() < want) scratch.resize(want);
    return scratch;
  }
};

}  // namespace

std::optional<Json> ParseJson(std::string_view text, JsonParseError* error,
                              const JsonLimits& limits) {
  JsonParseError local;
  JsonParseError* err = error != nullptr ? error : &local;
  *err = JsonParseError{};
  const size_t bad = limits.utf8_checked ? std::string_view::npos : FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    err->kind = JsonParseError::Kind::kEncoding;
    err->offset = bad;
    err->message = "the text is not valid UTF-8";
    return std::nullopt;
  }
  return Parser(text, err, limits).ParseDocument();
}

}  // namespace tuphap
