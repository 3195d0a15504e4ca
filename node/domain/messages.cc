#include "node/domain/messages.h"

#include "node/domain/catalogue.h"

#include <cstdlib>
#include <vector>

namespace tuphap::domain {
namespace {

// The English of each message; the Vietnamese is in po/vi.po under the same
// English text (node/domain/catalogue.h).
struct Text {
  Msg id;
  const char* en;
};

constexpr Text kTexts[] = {
    {Msg::kNotUtf8, "the line is not valid UTF-8 (byte {0})"},
    {Msg::kNotJson, "not JSON: {0} (byte {1})"},
    {Msg::kDuplicateKey, "{0} (byte {1})"},
    {Msg::kNotAnObject, "a line must be one JSON object"},
    {Msg::kUnknownOp, "unknown operation '{0}': expected create or edit"},
    {Msg::kUnknownType, "unknown record type '{0}'"},
    {Msg::kUnknownSchema, "unknown schema version {0}: this tuphap reads version 1"},
    {Msg::kMissing, "{0} is required but is missing or empty"},
    {Msg::kWrongTypeText, "{0} must be text (a JSON string)"},
    {Msg::kWrongTypeInt, "{0} must be a whole number, not {1}"},
    {Msg::kWrongTypeObject, "{0} must be an object"},
    {Msg::kWrongTypeList, "{0} must be a list"},
    {Msg::kUnknownField, "{0} is not a field of a {1} record"},
    {Msg::kNotOneOf, "{0} must be one of {1}, not '{2}'"},
    {Msg::kTooLong, "{0} has {1} characters; at most {2} are allowed"},
    {Msg::kDateFormat, "{0} must be a date written YYYY-MM-DD, not '{1}'"},
    {Msg::kDateTimeFormat, "{0} must be written YYYY-MM-DDTHH:MM, not '{1}'"},
    {Msg::kDateInvalid, "{0} '{1}' is not a real date between 1900 and 2100"},
    {Msg::kNotNfc, "{0} is not in Unicode NFC form (decomposed or legacy-encoded accents)"},
    {Msg::kNameChars, "{0} contains {1}"},
    {Msg::kCommuneUnknown, "{0} '{1}' is not a commune code in force since 1 July 2025"},
    {Msg::kCommuneClosed,
     "{0} '{1}' is a commune code closed on 1 July 2025; new registrations use the current code"},
    {Msg::kProvinceMismatch, "province_code '{0}' is not the province of commune {1} ({2})"},
    {Msg::kOutOfScopeCommune, "commune {0} is not this node's commune ({1})"},
    {Msg::kOutOfScopeProvince, "commune {0} is not in this hub's province ({1})"},
    {Msg::kIdFormat, "{0} '{1}' must be exactly 12 ASCII digits"},
    {Msg::kIdProvince,
     "{0} starts with {1}, which is not a province code of personal identification numbers"},
    {Msg::kIdCenturySex, "{0}: the 4th digit {1} does not match a {2} born in {3} (expected {4})"},
    {Msg::kIdBirthYear, "{0}: digits 5-6 are {1}, but the birth year is {2}"},
    {Msg::kNameInconsistent, "{0} '{1}' is not the family, middle and given names joined ('{2}')"},
    {Msg::kDeathBeforeBirth, "{0} ({1}) is after the death ({2})"},
    {Msg::kNotAfter, "{0} ({1}) is after {2} ({3})"},
    {Msg::kReRegistrationTooLate,
     "{0} is {1}: only events registered before 2016-01-01 can be registered again"},
    {Msg::kAgeRule, "{0} is {1} years old on {2}; the minimum is {3}"},
    {Msg::kMarriageSex, "{0} must be {1}: the law recognises marriage between a man and a woman"},
    {Msg::kFineTooLow, "{0} {1} VND is below the minimum fine of 50,000 VND"},
    {Msg::kFineTooHigh, "{0} {1} VND is above the maximum of {2} VND for sector {3}"},
    {Msg::kFineAuthority,
     "{0} {1} VND is above what a commune chairman may impose ({2} VND, 50% of the maximum)"},
    {Msg::kWarningWithFine, "a warning carries no fine, but {0} is {1}"},
    {Msg::kFineWithoutAmount, "the penalty is a fine but {0} is 0"},
    {Msg::kLimitation, "the decision ({0}) is more than {1} year(s) after the violation ({2})"},
    {Msg::kEntryNumber, "{0} must be 1 or more, not {1}"},
    {Msg::kEntryYear, "book.year {0} is not the year of registered_at ({1})"},
    {Msg::kEntryRegister, "a {0} is entered in register {1}, not {2}"},
    {Msg::kEntryRecordId, "record_id '{0}' does not match the register entry ({1})"},
    {Msg::kEntryDuplicate,
     "entry {0} of register {1} for {2} in commune {3} is already taken by another record"},
    {Msg::kUnknownRecord, "no record {0} in commune {1}"},
    {Msg::kImmutable, "{0} cannot be changed after registration"},
    {Msg::kVersionConflict, "the edit is based on version {0} but the record is at version {1}"},
    {Msg::kOldValueMismatch, "{0} is now '{1}', not '{2}' as the edit expects"},
    {Msg::kStatusTransition, "a decision cannot go from {0} to {1}"},
    {Msg::kEditBeforeCreate, "the edit ({0}) is dated before the registration ({1})"},
    {Msg::kChangeTwice, "{0} is changed twice in one edit (or together with a part of it)"},
    {Msg::kRevokedRecord, "record {0} is revoked; it can no longer be edited"},
    {Msg::kEntryTooHigh, "book.entry_no {0} is above 999999, the last number of a register"},
    {Msg::kEntryLeased,
     "entry {0} of register {1} for {2} is in a block leased to another node of this commune"},
    {Msg::kCreateVersion, "a new record starts at version 1, not {0}"},
    {Msg::kNodeKept, "{0} is kept by the node; a create line cannot carry it"},
    {Msg::kEditType, "the edit says type {0} but record {1} is a {2}"},
    // Person rules: {0} personal ID, {1} the other record, {2} its commune,
    // {3} its date, {4} a further date or status.
    {Msg::kChildAlreadyRegistered,
     "the child with personal ID {0} already has a birth registration: record {1} of commune {2}, "
     "registered {3}"},
    {Msg::kDeathAlreadyRegistered,
     "the person with personal ID {0} is already recorded dead: record {1} of commune {2}, "
     "died {3}"},
    {Msg::kPersonDeceased,
     "the person with personal ID {0} is recorded dead on {3} (record {1} of commune {2}), "
     "before this registration ({4})"},
    {Msg::kAlreadyMarried,
     "the person with personal ID {0} is already married: record {1} of commune {2}, registered "
     "{3}, with no recorded dissolution or death of the spouse before {4}"},
    {Msg::kMaritalStatusContradicted,
     "the records show a marriage of the person with personal ID {0}: record {1} of commune {2}, "
     "registered {3}; a confirmation of '{4}' cannot be issued"},
    {Msg::kPersonDeceasedLater,
     "the person with personal ID {0} is named as a party who must be alive in record {1} of "
     "commune {2}, registered {3}, after this death ({4})"},
    {Msg::kAlreadyMarriedLater,
     "the person with personal ID {0} has a later marriage on record: record {1} of commune {2}, "
     "registered {3}, with no dissolution of this one ({4}) recorded before it"},
    {Msg::kMaritalStatusContradictedLater,
     "a confirmation on record states the person with personal ID {0} as '{4}': record {1} of "
     "commune {2}, issued {3}; a marriage registered on or before that date contradicts it"},
};

}  // namespace

Lang LangFromEnvironment() {
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      return std::string_view(v).substr(0, 2) == "vi" ? Lang::kVietnamese : Lang::kEnglish;
    }
  }
  return Lang::kEnglish;
}

std::string FillTemplate(const char* tmpl, std::initializer_list<std::string_view> args) {
  const std::vector<std::string_view> a(args);
  std::string out;
  for (const char* p = tmpl; *p != '\0'; ++p) {
    if (*p == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}') {
      const size_t i = static_cast<size_t>(p[1] - '0');
      if (i < a.size()) out.append(a[i]);
      p += 2;
    } else {
      out.push_back(*p);
    }
  }
  return out;
}

std::string Format(Lang lang, Msg msg, std::initializer_list<std::string_view> args) {
  const char* tmpl = "";
  for (const auto& t : kTexts) {
    if (t.id == msg) tmpl = t.en;
  }
  if (lang != Lang::kVietnamese) return FillTemplate(tmpl, args);
  // A nested English text (a parser's message) is translated when the
  // catalogue has it. Field paths stay paths: each front end shows them its
  // own way (the web app by the form's labels, the CLI by LabelPaths).
  std::vector<std::string> translated;
  for (std::string_view a : args) {
    auto vi = CatalogueLookup(a);
    translated.push_back(vi ? std::string(*vi) : std::string(a));
  }
  return TrList(lang, tmpl, translated);
}

}  // namespace tuphap::domain
