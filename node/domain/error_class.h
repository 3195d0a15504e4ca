// The validation error classes, in the order checks run: a line is reported
// under the first class that applies (workload README). `out_of_scope` runs
// right after `commune_unknown`; `status_transition` (a violation decision's
// status moved along a path the lifecycle does not allow) is this project's
// addition after the edit classes, and so are the person rules after
// `entry_duplicate` (person_rules.h: a record valid alone that collides with
// another record of the same personal ID).
#pragma once

#include <string_view>

namespace tuphap::domain {

enum class ErrorClass : unsigned char {
  kEncodingInvalid,
  kMalformedJson,
  kUnknownType,
  kMissingRequired,
  kWrongType,
  kFieldTooLong,
  kDateFormat,
  kDateInvalid,
  kNameNotNfc,
  kNameInvalidChars,
  kCommuneUnknown,
  kOutOfScope,
  kIdFormat,
  kIdProvinceUnknown,
  kIdCenturySexMismatch,
  kIdBirthYearMismatch,
  kNameInconsistent,
  kDeathBeforeBirth,
  kChronology,
  kAgeRule,
  kMarriageSex,
  kFineOutOfRange,
  kFineExceedsAuthority,
  kPenaltyInconsistent,
  kLimitationExpired,
  kEntryInvalid,
  kEntryDuplicate,
  kChildAlreadyRegistered,
  kDeathAlreadyRegistered,
  kPersonDeceased,
  kAlreadyMarried,
  kMaritalStatusContradicted,
  kUnknownRecord,
  kImmutableField,
  kVersionConflict,
  kStatusTransition,
};

inline constexpr int kErrorClassCount = static_cast<int>(ErrorClass::kStatusTransition) + 1;

std::string_view ErrorClassName(ErrorClass c);

}  // namespace tuphap::domain
