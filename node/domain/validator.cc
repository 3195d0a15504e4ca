#include "node/domain/validator.h"

#include <algorithm>
#include <functional>
#include <set>

#include "base/utf8.h"
#include "node/domain/dates.h"
#include "node/domain/record_json.h"
#include "node/domain/reference_data.h"
#include "node/domain/vn_text.h"

namespace tuphap::domain {
namespace {

bool IsText(Kind k) {
  switch (k) {
    case Kind::kNamePart:
    case Kind::kFullName:
    case Kind::kPersonName:
    case Kind::kText:
    case Kind::kPlace:
    case Kind::kNotes:
    case Kind::kDate:
    case Kind::kDateTime:
    case Kind::kEnum:
    case Kind::kCommuneCode:
    case Kind::kOldCommuneCode:
    case Kind::kProvinceCode:
    case Kind::kPersonalId:
    case Kind::kEnterpriseCode:
      return true;
    default:
      return false;
  }
}

bool IsName(Kind k) {
  return k == Kind::kNamePart || k == Kind::kFullName || k == Kind::kPersonName;
}

size_t MaxLength(Kind k) {
  switch (k) {
    case Kind::kNamePart:
      return 50;
    case Kind::kFullName:
    case Kind::kPersonName:
      return 150;
    case Kind::kPlace:
      return 500;
    default:
      return 2000;
  }
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

std::string JsonTypeName(const Json& j) {
  switch (j.type()) {
    case Json::Type::kNull:
      return "null";
    case Json::Type::kBool:
      return "true/false";
    case Json::Type::kInt:
    case Json::Type::kDouble:
      return "a number";
    case Json::Type::kString:
      return "text \"" + j.as_string().substr(0, 40) + "\"";
    case Json::Type::kArray:
      return "a list";
    case Json::Type::kObject:
      return "an object";
  }
  return "?";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Money(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return v < 0 ? "-" + out : out;
}

// Runs the checks of one record, class by class.
class Checker {
 public:
  Checker(const Validator& v, const Json& doc, const TypeSchema& schema, UnknownFields unknown)
      : v_(v), doc_(doc), s_(schema), unknown_(unknown) {
    // Every field's node, found once: a field inside an absent or null
    // block has none. Blocks come before their fields in the schema.
    nodes_.resize(s_.fields.size(), nullptr);
    raw_.resize(s_.fields.size(), nullptr);
    for (size_t i = 0; i < s_.fields.size(); ++i) {
      const FieldSpec& f = s_.fields[i];
      const size_t dot = f.path.rfind('.');
      const Json* parent = &doc_;
      if (dot != std::string::npos) {
        parent = f.parent_index >= 0 ? raw_[static_cast<size_t>(f.parent_index)]
                                     : JsonAt(doc_, std::string_view(f.path).substr(0, dot));
      }
      raw_[i] = parent != nullptr && parent->is_object()
                    ? parent->Find(
                          std::string_view(f.path).substr(dot == std::string::npos ? 0 : dot + 1))
                    : nullptr;
      bool in_block = true;
      if (!f.block.empty()) {
        const Json* b =
            f.block_index >= 0 ? raw_[static_cast<size_t>(f.block_index)] : JsonAt(doc_, f.block);
        in_block = b != nullptr && b->is_object();
      }
      nodes_[i] = in_block ? raw_[i] : nullptr;
    }
  }

  std::optional<Problem> Run() {
    using F = std::optional<Problem> (Checker::*)();
    static constexpr F kSteps[] = {
        &Checker::Missing,     &Checker::WrongType,  &Checker::TooLong,    &Checker::DateFormat,
        &Checker::DateInvalid, &Checker::NotNfc,     &Checker::NameChars,  &Checker::Commune,
        &Checker::OutOfScope,  &Checker::IdFormat,   &Checker::IdProvince, &Checker::IdCenturySex,
        &Checker::IdBirthYear, &Checker::FullNames,  &Checker::DeathBirth, &Checker::Chronology,
        &Checker::Ages,        &Checker::Sexes,      &Checker::FineRange,  &Checker::FineAuthority,
        &Checker::Penalty,     &Checker::Limitation, &Checker::Entry,
    };
    for (F step : kSteps) {
      if (auto p = (this->*step)()) return p;
    }
    return std::nullopt;
  }

 private:
  // The value of a field when its block (if any) is present.
  const Json* Value(const FieldSpec& f) const {
    return nodes_[static_cast<size_t>(&f - s_.fields.data())];
  }
  const Json* At(std::string_view path) const {
    const int i = s_.IndexOf(path);
    return i >= 0 ? raw_[static_cast<size_t>(i)] : JsonAt(doc_, path);
  }
  std::string TextAt(std::string_view path) const {
    const Json* j = At(path);
    return j != nullptr && j->is_string() ? j->as_string() : std::string();
  }
  std::optional<Date> DateAt(std::string_view path) const {
    const Json* j = At(path);
    if (j == nullptr || !j->is_string()) return std::nullopt;
    return ParseDateOrNull(j->as_string());
  }
  Problem P(ErrorClass c, const std::string& field, Msg m,
            std::initializer_list<std::string_view> a) const {
    return v_.Make(c, field, m, a);
  }

  // Visits every text value: fields of text kinds and text lists.
  template <class Fn>
  std::optional<Problem> EachText(Fn&& fn) const {
    for (const auto& f : s_.fields) {
      const Json* j = Value(f);
      if (j == nullptr) continue;
      if (j->is_string()) {
        if (auto p = fn(f, j->as_string())) return p;
      } else if (j->is_array() && f.kind == Kind::kTextList) {
        for (const auto& e : j->as_array()) {
          if (!e.is_string()) continue;
          if (auto p = fn(f, e.as_string())) return p;
        }
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> Missing() {
    // The record id is part of every create line.
    const Json* id = doc_.Find("record_id");
    if (id == nullptr || id->is_null() || (id->is_string() && id->as_string().empty()))
      return P(ErrorClass::kMissingRequired, "record_id", Msg::kMissing, {"record_id"});
    for (size_t i = 0; i < s_.fields.size(); ++i) {
      const FieldSpec& f = s_.fields[i];
      if (!f.required) continue;
      if (!f.block.empty()) {
        const Json* b = At(f.block);
        if (b == nullptr || !b->is_object()) continue;  // the block is judged on its own
      }
      const Json* j = raw_[i];
      if (j == nullptr || j->is_null() || (j->is_string() && j->as_string().empty())) {
        return P(ErrorClass::kMissingRequired, f.path, Msg::kMissing, {f.path});
      }
    }
    return std::nullopt;
  }

  // Unknown keys anywhere in the document are type errors: the schema says
  // what a record of this type holds.
  std::optional<Problem> UnknownKeys(const Json& node, const std::string& prefix) const {
    if (!node.is_object()) return std::nullopt;
    const auto* allowed = s_.ChildKeys(prefix);
    for (const auto& [k, v] : node.as_object()) {
      if (prefix.empty() && (IsLineOnlyKey(k) || k == "edit_ids"))
        continue;  // edit ids: registry.cc
      if (allowed == nullptr || allowed->count(k) == 0) {
        const std::string path = prefix.empty() ? k : prefix + "." + k;
        return P(ErrorClass::kWrongType, path, Msg::kUnknownField, {path, s_.type});
      }
      if (v.is_object()) {
        const std::string path = prefix.empty() ? k : prefix + "." + k;
        if (auto p = UnknownKeys(v, path)) return p;
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> WrongType() {
    if (!doc_.Find("record_id")->is_string())
      return P(ErrorClass::kWrongType, "record_id", Msg::kWrongTypeText, {"record_id"});
    for (const auto& f : s_.fields) {
      const Json* j = Value(f);
      if (j == nullptr || j->is_null()) continue;
      const std::string& path = f.path;
      if (f.kind == Kind::kBlock) {
        if (!j->is_object()) return P(ErrorClass::kWrongType, path, Msg::kWrongTypeObject, {path});
      } else if (IsText(f.kind)) {
        if (!j->is_string()) return P(ErrorClass::kWrongType, path, Msg::kWrongTypeText, {path});
        if (f.kind == Kind::kEnum && !j->as_string().empty()) {
          bool ok = false;
          for (const auto& c : f.choices) ok = ok || c == j->as_string();
          if (!ok)
            return P(ErrorClass::kWrongType, path, Msg::kNotOneOf,
                     {path, Join(f.choices), j->as_string()});
        }
      } else if (f.kind == Kind::kTextList || f.kind == Kind::kIntList) {
        if (!j->is_array()) return P(ErrorClass::kWrongType, path, Msg::kWrongTypeList, {path});
        for (const auto& e : j->as_array()) {
          if ((f.kind == Kind::kTextList && !e.is_string()) ||
              (f.kind == Kind::kIntList && !e.is_int())) {
            return P(ErrorClass::kWrongType, path,
                     f.kind == Kind::kTextList ? Msg::kWrongTypeText : Msg::kWrongTypeInt,
                     {path, JsonTypeName(e)});
          }
        }
      } else if (!j->is_int()) {  // kInt, kYear, kMoney
        return P(ErrorClass::kWrongType, path, Msg::kWrongTypeInt,
                 {path, j->is_number() ? j->Dump() : JsonTypeName(*j)});
      }
    }
    return unknown_ == UnknownFields::kRefuse ? UnknownKeys(doc_, "") : std::nullopt;
  }

  std::optional<Problem> TooLong() {
    return EachText([&](const FieldSpec& f, const std::string& text) -> std::optional<Problem> {
      const size_t n = CountCodePoints(text);
      if (n > MaxLength(f.kind)) {
        return P(ErrorClass::kFieldTooLong, f.path, Msg::kTooLong,
                 {f.path, std::to_string(n), std::to_string(MaxLength(f.kind))});
      }
      return std::nullopt;
    });
  }

  std::optional<Problem> Dates(DateProblem want) const {
    for (const auto& f : s_.fields) {
      if (f.kind != Kind::kDate && f.kind != Kind::kDateTime && f.kind != Kind::kYear) continue;
      const Json* j = Value(f);
      if (j == nullptr || j->is_null()) continue;
      if (f.kind == Kind::kYear) {
        if (want == DateProblem::kInvalid && j->is_int() &&
            (j->as_int() < 1900 || j->as_int() > 2100)) {
          return P(ErrorClass::kDateInvalid, f.path, Msg::kDateInvalid,
                   {f.path, std::to_string(j->as_int())});
        }
        continue;
      }
      Date d;
      if (ParseDate(j->as_string(), f.kind == Kind::kDateTime, &d) == want) {
        if (want == DateProblem::kFormat) {
          return P(ErrorClass::kDateFormat, f.path,
                   f.kind == Kind::kDate ? Msg::kDateFormat : Msg::kDateTimeFormat,
                   {f.path, j->as_string()});
        }
        return P(ErrorClass::kDateInvalid, f.path, Msg::kDateInvalid, {f.path, j->as_string()});
      }
    }
    return std::nullopt;
  }
  std::optional<Problem> DateFormat() { return Dates(DateProblem::kFormat); }
  std::optional<Problem> DateInvalid() { return Dates(DateProblem::kInvalid); }

  std::optional<Problem> NotNfc() {
    return EachText([&](const FieldSpec& f, const std::string& text) -> std::optional<Problem> {
      if (!IsNfc(text)) return P(ErrorClass::kNameNotNfc, f.path, Msg::kNotNfc, {f.path});
      return std::nullopt;
    });
  }

  std::optional<Problem> NameChars() {
    for (const auto& f : s_.fields) {
      if (!IsName(f.kind)) continue;
      const Json* j = Value(f);
      if (j == nullptr || !j->is_string() || j->as_string().empty()) continue;
      if (auto problem = CheckNameRepertoire(j->as_string())) {
        return P(ErrorClass::kNameInvalidChars, f.path, Msg::kNameChars, {f.path, problem->what});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> Commune() {
    const ReferenceData& ref = ReferenceData::Get();
    for (const auto& f : s_.fields) {
      if (f.kind != Kind::kCommuneCode && f.kind != Kind::kOldCommuneCode) continue;
      const Json* j = Value(f);
      if (j == nullptr || !j->is_string()) continue;
      const std::string& code = j->as_string();
      if (f.kind == Kind::kOldCommuneCode) {
        // A historic registration: any 5-digit code, closed ones included.
        if (code.size() != 5 || !AllDigits(code)) {
          return P(ErrorClass::kCommuneUnknown, f.path, Msg::kCommuneUnknown, {f.path, code});
        }
        continue;
      }
      if (ref.Commune(code) == nullptr) {
        return P(ErrorClass::kCommuneUnknown, f.path,
                 ref.IsClosedCommune(code) ? Msg::kCommuneClosed : Msg::kCommuneUnknown,
                 {f.path, code});
      }
    }
    const std::string province = TextAt("province_code");
    if (!province.empty()) {
      const CommuneInfo* c = ref.Commune(TextAt("commune_code"));
      if (c != nullptr && c->province_code != province) {
        return P(ErrorClass::kCommuneUnknown, "province_code", Msg::kProvinceMismatch,
                 {province, c->code, c->province_code});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> OutOfScope() {
    const std::string code = TextAt("commune_code");
    const AcceptScope& scope = v_.scope();
    if (!scope.hub) {
      if (code != scope.commune) {
        return P(ErrorClass::kOutOfScope, "commune_code", Msg::kOutOfScopeCommune,
                 {code, scope.commune});
      }
      return std::nullopt;
    }
    const CommuneInfo* c = ReferenceData::Get().Commune(code);
    if (c == nullptr || c->province_code != scope.province) {
      return P(ErrorClass::kOutOfScope, "commune_code", Msg::kOutOfScopeProvince,
               {code, scope.province});
    }
    return std::nullopt;
  }

  // Person ID rules: the ID and what it must agree with.
  struct IdFacts {
    std::string path;
    std::string id;
    int year = 0;     // 0: unknown
    std::string sex;  // "", "M", "F"
  };
  // Computed once per record: four classes look at the same IDs.
  const std::vector<IdFacts>& Ids() {
    if (ids_computed_) return ids_;
    ids_computed_ = true;
    std::vector<IdFacts>& out = ids_;
    for (const auto& r : s_.rules) {
      if (r.kind != RuleKind::kPersonId) continue;
      const Json* block = At(r.a);
      if (block == nullptr || !block->is_object()) continue;
      const Json* id = block->Find("personal_id");
      if (id == nullptr || !id->is_string() || id->as_string().empty()) continue;
      IdFacts f{r.a + ".personal_id", id->as_string(), 0, {}};
      if (auto d = DateAt(r.a + ".birth_date")) f.year = d->year;
      if (const Json* y = block->Find("birth_year"); y != nullptr && y->is_int())
        f.year = static_cast<int>(y->as_int());
      f.sex = r.b == "M" || r.b == "F" ? r.b : TextAt(r.b);
      out.push_back(std::move(f));
    }
    return out;
  }
  bool ids_computed_ = false;
  std::vector<IdFacts> ids_;
  std::optional<Problem> IdFormat() {
    for (const auto& f : Ids()) {
      if (f.id.size() != 12 || !AllDigits(f.id))
        return P(ErrorClass::kIdFormat, f.path, Msg::kIdFormat, {f.path, f.id});
    }
    return std::nullopt;
  }
  std::optional<Problem> IdProvince() {
    for (const auto& f : Ids()) {
      if (!ReferenceData::Get().IsIdProvinceCode(f.id.substr(0, 3))) {
        return P(ErrorClass::kIdProvinceUnknown, f.path, Msg::kIdProvince,
                 {f.path, f.id.substr(0, 3)});
      }
    }
    return std::nullopt;
  }
  std::optional<Problem> IdCenturySex() {
    for (const auto& f : Ids()) {
      if (f.year == 0 || (f.sex != "M" && f.sex != "F")) continue;
      const int expected = (f.year / 100 - 19) * 2 + (f.sex == "F" ? 1 : 0);
      if (f.id[3] - '0' != expected) {
        return P(
            ErrorClass::kIdCenturySexMismatch, f.path, Msg::kIdCenturySex,
            {f.path, f.id.substr(3, 1), f.sex, std::to_string(f.year), std::to_string(expected)});
      }
    }
    return std::nullopt;
  }
  std::optional<Problem> IdBirthYear() {
    for (const auto& f : Ids()) {
      if (f.year == 0) continue;
      if (std::stoi(f.id.substr(4, 2)) != f.year % 100) {
        return P(ErrorClass::kIdBirthYearMismatch, f.path, Msg::kIdBirthYear,
                 {f.path, f.id.substr(4, 2), std::to_string(f.year)});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> FullNames() {
    for (const auto& r : s_.rules) {
      if (r.kind != RuleKind::kFullName) continue;
      const Json* block = At(r.a);
      if (block == nullptr || !block->is_object()) continue;
      const Json* family = block->Find("family_name");
      const Json* given = block->Find("given_name");
      const Json* full = block->Find("full_name");
      if (family == nullptr || given == nullptr || full == nullptr || !family->is_string() ||
          !given->is_string() || !full->is_string()) {
        continue;  // a parent written by full name only
      }
      std::string joined;
      for (const std::string& part :
           {family->as_string(), TextAt(r.a + ".middle_name"), given->as_string()}) {
        if (part.empty()) continue;
        joined += (joined.empty() ? "" : " ") + part;
      }
      if (joined != full->as_string()) {
        return P(ErrorClass::kNameInconsistent, r.a + ".full_name", Msg::kNameInconsistent,
                 {r.a + ".full_name", full->as_string(), joined});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> DeathBirth() {
    for (const auto& r : s_.rules) {
      if (r.kind != RuleKind::kDeathAfterBirth) continue;
      auto birth = DateAt(r.a);
      auto death = DateAt(r.b);
      if (birth && death && *death < *birth) {
        return P(ErrorClass::kDeathBeforeBirth, r.a, Msg::kDeathBeforeBirth,
                 {r.a, birth->ToString(), death->ToString()});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> Chronology() {
    for (const auto& r : s_.rules) {
      if (r.kind == RuleKind::kNotAfter) {
        auto a = DateAt(r.a);
        auto b = DateAt(r.b);
        if (a && b && *b < *a) {
          return P(ErrorClass::kChronology, r.a, Msg::kNotAfter,
                   {r.a, a->ToString(), r.b, b->ToString()});
        }
      } else if (r.kind == RuleKind::kBefore2016) {
        auto a = DateAt(r.a);
        if (a && !(*a < Date{2016, 1, 1})) {
          return P(ErrorClass::kChronology, r.a, Msg::kReRegistrationTooLate, {r.a, a->ToString()});
        }
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> Ages() {
    for (const auto& r : s_.rules) {
      if (r.kind != RuleKind::kMinAge) continue;
      auto birth = DateAt(r.a + ".birth_date");
      auto on = DateAt(r.b);
      if (!birth || !on) continue;
      const int age = CompletedYears(*birth, *on);
      if (age < r.n) {
        return P(ErrorClass::kAgeRule, r.a + ".birth_date", Msg::kAgeRule,
                 {r.a, std::to_string(age), on->ToString(), std::to_string(r.n)});
      }
    }
    return std::nullopt;
  }

  std::optional<Problem> Sexes() {
    for (const auto& r : s_.rules) {
      if (r.kind != RuleKind::kSexIs) continue;
      const std::string sex = TextAt(r.a + ".sex");
      if (!sex.empty() && sex != r.b)
        return P(ErrorClass::kMarriageSex, r.a + ".sex", Msg::kMarriageSex, {r.a + ".sex", r.b});
    }
    return std::nullopt;
  }

  // The fine rules (classes 21-24) of a violation decision.
  struct FineFacts {
    bool applies = false;
    std::string penalty;
    int64_t amount = 0;
    int64_t maximum = 0;
    const Sector* sector = nullptr;
  };
  FineFacts Fine() const {
    FineFacts f;
    bool rule = false;
    for (const auto& r : s_.rules) rule = rule || r.kind == RuleKind::kFine;
    if (!rule) return f;
    const Json* amount = At("data.fine_amount_vnd");
    f.sector = ReferenceData::Get().FindSector(TextAt("data.violation.sector"));
    if (amount == nullptr || !amount->is_int() || f.sector == nullptr) return f;
    f.applies = true;
    f.penalty = TextAt("data.principal_penalty");
    f.amount = amount->as_int();
    f.maximum = f.sector->max_fine_individual_vnd *
                (TextAt("data.violator_kind") == "organization" ? 2 : 1);
    return f;
  }
  std::optional<Problem> FineRange() {
    const FineFacts f = Fine();
    if (!f.applies) return std::nullopt;
    if (f.amount < 0) {
      return P(ErrorClass::kFineOutOfRange, "data.fine_amount_vnd", Msg::kFineTooLow,
               {"data.fine_amount_vnd", Money(f.amount)});
    }
    if (f.penalty != "fine" || f.amount == 0) return std::nullopt;
    if (f.amount < ReferenceData::kMinFineVnd) {
      return P(ErrorClass::kFineOutOfRange, "data.fine_amount_vnd", Msg::kFineTooLow,
               {"data.fine_amount_vnd", Money(f.amount)});
    }
    if (f.amount > f.maximum) {
      return P(
          ErrorClass::kFineOutOfRange, "data.fine_amount_vnd", Msg::kFineTooHigh,
          {"data.fine_amount_vnd", Money(f.amount), Money(f.maximum), std::string(f.sector->key)});
    }
    return std::nullopt;
  }
  std::optional<Problem> FineAuthority() {
    const FineFacts f = Fine();
    if (!f.applies || f.penalty != "fine") return std::nullopt;
    // Decisions recorded here are commune decisions (Decree 189/2025: 50%).
    const int64_t limit = f.maximum * ReferenceData::kCommuneAuthorityPercent / 100;
    if (f.amount > limit) {
      return P(ErrorClass::kFineExceedsAuthority, "data.fine_amount_vnd", Msg::kFineAuthority,
               {"data.fine_amount_vnd", Money(f.amount), Money(limit)});
    }
    return std::nullopt;
  }
  std::optional<Problem> Penalty() {
    const FineFacts f = Fine();
    if (!f.applies) return std::nullopt;
    if (f.penalty == "warning" && f.amount != 0) {
      return P(ErrorClass::kPenaltyInconsistent, "data.fine_amount_vnd", Msg::kWarningWithFine,
               {"data.fine_amount_vnd", Money(f.amount)});
    }
    if (f.penalty == "fine" && f.amount == 0) {
      return P(ErrorClass::kPenaltyInconsistent, "data.fine_amount_vnd", Msg::kFineWithoutAmount,
               {"data.fine_amount_vnd"});
    }
    return std::nullopt;
  }
  std::optional<Problem> Limitation() {
    const FineFacts f = Fine();
    if (f.sector == nullptr) return std::nullopt;
    auto occurred = DateAt("data.violation.occurred_at");
    auto decided = DateAt("data.decision_date");
    if (!occurred || !decided) return std::nullopt;
    Date limit = *occurred;
    limit.year += f.sector->limitation_years;
    if (limit.month == 2 && limit.day == 29 && !IsLeapYear(limit.year)) limit.day = 28;
    if (limit < *decided) {
      return P(
          ErrorClass::kLimitationExpired, "data.decision_date", Msg::kLimitation,
          {decided->ToString(), std::to_string(f.sector->limitation_years), occurred->ToString()});
    }
    return std::nullopt;
  }

  std::optional<Problem> Entry() {
    const Json* entry = At("book.entry_no");
    const Json* year = At("book.year");
    if (entry == nullptr || !entry->is_int() || year == nullptr || !year->is_int())
      return std::nullopt;
    if (entry->as_int() <= 0) {
      return P(ErrorClass::kEntryInvalid, "book.entry_no", Msg::kEntryNumber,
               {"book.entry_no", std::to_string(entry->as_int())});
    }
    if (entry->as_int() > kLastEntryNo) {
      return P(ErrorClass::kEntryInvalid, "book.entry_no", Msg::kEntryTooHigh,
               {std::to_string(entry->as_int())});
    }
    if (const Json* book_no = At("book.book_no");
        book_no != nullptr && book_no->is_int() && book_no->as_int() <= 0) {
      return P(ErrorClass::kEntryInvalid, "book.book_no", Msg::kEntryNumber,
               {"book.book_no", std::to_string(book_no->as_int())});
    }
    auto registered = DateAt("registered_at");
    if (registered && registered->year != year->as_int()) {
      return P(ErrorClass::kEntryInvalid, "book.year", Msg::kEntryYear,
               {std::to_string(year->as_int()), registered->ToString()});
    }
    const std::string register_code = TextAt("book.register");
    const std::string_view expected = RegisterOf(s_.type, TextAt("data.event_type"));
    if (register_code != expected) {
      return P(ErrorClass::kEntryInvalid, "book.register", Msg::kEntryRegister,
               {s_.type, expected, register_code});
    }
    char number[16];
    std::snprintf(number, sizeof number, "%06lld", static_cast<long long>(entry->as_int()));
    const std::string expected_id = TextAt("commune_code") + "-" + register_code + "-" +
                                    std::to_string(year->as_int()) + "-" + number;
    const Json* id = At("record_id");
    if (id != nullptr && (!id->is_string() || id->as_string() != expected_id)) {
      return P(ErrorClass::kEntryInvalid, "record_id", Msg::kEntryRecordId,
               {id->is_string() ? id->as_string() : JsonTypeName(*id), expected_id});
    }
    return std::nullopt;
  }

  const Validator& v_;
  const Json& doc_;
  const TypeSchema& s_;
  UnknownFields unknown_;
  std::vector<const Json*> raw_;    // each field's node, if present
  std::vector<const Json*> nodes_;  // ... and only when its block is present
};

}  // namespace

Problem Validator::Make(ErrorClass c, std::string field, Msg msg,
                        std::initializer_list<std::string_view> args) const {
  return Problem{c, std::move(field), Format(lang_, msg, args)};
}

std::optional<Problem> Validator::ParseLine(std::string_view line, Json* doc) const {
  const size_t bad = FindInvalidUtf8(line);
  if (bad != std::string_view::npos) {
    return Make(ErrorClass::kEncodingInvalid, "", Msg::kNotUtf8, {std::to_string(bad)});
  }
  JsonParseError err;
  JsonLimits limits;
  limits.utf8_checked = true;
  auto parsed = ParseJson(line, &err, limits);
  if (!parsed) {
    const Msg m =
        err.kind == JsonParseError::Kind::kDuplicateKey ? Msg::kDuplicateKey : Msg::kNotJson;
    return Make(ErrorClass::kMalformedJson, "", m, {err.message, std::to_string(err.offset)});
  }
  if (!parsed->is_object()) return Make(ErrorClass::kMalformedJson, "", Msg::kNotAnObject, {});
  const Json* op = parsed->Find("op");
  const std::string op_text =
      op != nullptr && op->is_string() ? op->as_string() : (op ? op->Dump() : "");
  if (op_text != "create" && op_text != "edit")
    return Make(ErrorClass::kUnknownType, "op", Msg::kUnknownOp, {op_text});
  const Json* type = parsed->Find("type");
  const std::string type_text =
      type != nullptr && type->is_string() ? type->as_string() : (type ? type->Dump() : "");
  if (!IsRecordType(type_text))
    return Make(ErrorClass::kUnknownType, "type", Msg::kUnknownType, {type_text});
  const Json* schema = parsed->Find("schema");
  if (schema == nullptr || schema->is_null())
    return Make(ErrorClass::kMissingRequired, "schema", Msg::kMissing, {"schema"});
  if (!(schema->is_int() && schema->as_int() == 1)) {
    return Make(ErrorClass::kUnknownType, "schema", Msg::kUnknownSchema, {schema->Dump()});
  }
  *doc = std::move(*parsed);
  return std::nullopt;
}

std::optional<Problem> Validator::CheckRecord(const Json& doc, std::string_view type,
                                              UnknownFields unknown) const {
  const TypeSchema* schema = SchemaFor(type, doc);
  if (schema == nullptr) return Make(ErrorClass::kUnknownType, "type", Msg::kUnknownType, {type});
  return Checker(*this, doc, *schema, unknown).Run();
}

std::optional<Problem> Validator::CheckEditLine(const Json& line) const {
  struct Key {
    const char* name;
    bool text;
  };
  for (const Key& k : {Key{"record_id", true}, Key{"commune_code", true}, Key{"edit_id", true},
                       Key{"edited_at", true}, Key{"base_version", false}}) {
    const Json* j = line.Find(k.name);
    if (j == nullptr || j->is_null() || (j->is_string() && j->as_string().empty())) {
      return Make(ErrorClass::kMissingRequired, k.name, Msg::kMissing, {k.name});
    }
  }
  const Json* changes = line.Find("changes");
  if (changes == nullptr || changes->is_null() ||
      (changes->is_array() && changes->as_array().empty())) {
    return Make(ErrorClass::kMissingRequired, "changes", Msg::kMissing, {"changes"});
  }
  for (const Key& k : {Key{"record_id", true}, Key{"commune_code", true}, Key{"edit_id", true},
                       Key{"edited_at", true}, Key{"base_version", false}}) {
    const Json* j = line.Find(k.name);
    if (k.text && !j->is_string())
      return Make(ErrorClass::kWrongType, k.name, Msg::kWrongTypeText, {k.name});
    if (!k.text && !j->is_int())
      return Make(ErrorClass::kWrongType, k.name, Msg::kWrongTypeInt, {k.name, j->Dump()});
  }
  if (!changes->is_array())
    return Make(ErrorClass::kWrongType, "changes", Msg::kWrongTypeList, {"changes"});
  std::vector<std::string_view> paths;
  for (const auto& c : changes->as_array()) {
    const Json* path = c.Find("path");
    if (!c.is_object() || path == nullptr || !path->is_string() || c.Find("new") == nullptr) {
      return Make(ErrorClass::kWrongType, "changes", Msg::kWrongTypeObject,
                  {"changes[] {path, old, new}"});
    }
    const std::string& p = path->as_string();
    if (p.empty() || p.front() == '.' || p.back() == '.' || p.find("..") != std::string::npos)
      return Make(ErrorClass::kWrongType, "changes", Msg::kWrongTypeText, {"changes[].path"});
    paths.push_back(p);
  }
  if (const Json* reason = line.Find("reason"); reason != nullptr && !reason->is_null()) {
    if (!reason->is_string())
      return Make(ErrorClass::kWrongType, "reason", Msg::kWrongTypeText, {"reason"});
  }
  // Lengths: the edit id becomes part of a field name, the reason stays
  // in the history.
  struct Limit {
    const char* key;
    size_t max;
  };
  for (const Limit& l : {Limit{"edit_id", 64}, Limit{"reason", 2000}}) {
    const Json* j = line.Find(l.key);
    if (j == nullptr || !j->is_string()) continue;
    const size_t n = CountCodePoints(j->as_string());
    if (n > l.max)
      return Make(ErrorClass::kFieldTooLong, l.key, Msg::kTooLong,
                  {l.key, std::to_string(n), std::to_string(l.max)});
  }
  for (std::string_view p : paths) {
    if (p.size() > 200)
      return Make(ErrorClass::kFieldTooLong, "changes", Msg::kTooLong,
                  {"changes[].path", std::to_string(p.size()), "200"});
  }
  // Each path once, and never with a part of itself: a change is one value
  // per field.
  std::sort(paths.begin(), paths.end());
  for (size_t i = 1; i < paths.size(); ++i) {
    const std::string_view a = paths[i - 1];
    const std::string_view b = paths[i];
    if (a == b || (b.starts_with(a) && b[a.size()] == '.'))
      return Make(ErrorClass::kMalformedJson, "changes", Msg::kChangeTwice, {a});
  }
  Date d;
  const std::string& edited = line.Find("edited_at")->as_string();
  switch (ParseDate(edited, false, &d)) {
    case DateProblem::kFormat:
      return Make(ErrorClass::kDateFormat, "edited_at", Msg::kDateFormat, {"edited_at", edited});
    case DateProblem::kInvalid:
      return Make(ErrorClass::kDateInvalid, "edited_at", Msg::kDateInvalid, {"edited_at", edited});
    case DateProblem::kNone:
      break;
  }
  return std::nullopt;
}

bool Validator::StatusTransitionAllowed(std::string_view from, std::string_view to) {
  static const std::set<std::pair<std::string_view, std::string_view>> kAllowed = {
      {"issued", "paid"},      {"issued", "overdue"},    {"issued", "appealed"},
      {"issued", "cancelled"}, {"overdue", "enforced"},  {"overdue", "paid"},
      {"appealed", "issued"},  {"appealed", "cancelled"}};
  return from == to || kAllowed.count({from, to}) > 0;
}

}  // namespace tuphap::domain
