// Officer-facing messages in English and Vietnamese (chosen from LANG: a
// value starting with "vi" selects Vietnamese). Templates take positional
// arguments {0}, {1}, ...
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace tuphap::domain {

enum class Lang { kEnglish, kVietnamese };

// Lang from the environment (LC_ALL, LC_MESSAGES, LANG).
Lang LangFromEnvironment();

enum class Msg {
  kNotUtf8,
  kNotJson,
  kDuplicateKey,
  kNotAnObject,
  kUnknownOp,
  kUnknownType,
  kUnknownSchema,
  kMissing,
  kWrongTypeText,
  kWrongTypeInt,
  kWrongTypeObject,
  kWrongTypeList,
  kUnknownField,
  kNotOneOf,
  kTooLong,
  kDateFormat,
  kDateTimeFormat,
  kDateInvalid,
  kNotNfc,
  kNameChars,
  kCommuneUnknown,
  kCommuneClosed,
  kProvinceMismatch,
  kOutOfScopeCommune,
  kOutOfScopeProvince,
  kIdFormat,
  kIdProvince,
  kIdCenturySex,
  kIdBirthYear,
  kNameInconsistent,
  kDeathBeforeBirth,
  kNotAfter,
  kReRegistrationTooLate,
  kAgeRule,
  kMarriageSex,
  kFineTooLow,
  kFineTooHigh,
  kFineAuthority,
  kWarningWithFine,
  kFineWithoutAmount,
  kLimitation,
  kEntryNumber,
  kEntryYear,
  kEntryRegister,
  kEntryRecordId,
  kEntryDuplicate,
  kUnknownRecord,
  kImmutable,
  kVersionConflict,
  kOldValueMismatch,
  kStatusTransition,
  kEditBeforeCreate,
  kChangeTwice,
  kRevokedRecord,
  kEntryTooHigh,
  kEntryLeased,
  kCreateVersion,
  kNodeKept,
  kEditType,
  kChildAlreadyRegistered,
  kDeathAlreadyRegistered,
  kPersonDeceased,
  kAlreadyMarried,
  kMaritalStatusContradicted,
  // The same rules seen from the record that sorts first (a registration
  // dated before the record it collides with).
  kPersonDeceasedLater,
  kAlreadyMarriedLater,
  kMaritalStatusContradictedLater,
};

std::string Format(Lang lang, Msg msg, std::initializer_list<std::string_view> args = {});
// `tmpl` with each {0}..{9} replaced by that argument (an absent one: nothing).
std::string FillTemplate(const char* tmpl, std::initializer_list<std::string_view> args);

}  // namespace tuphap::domain
