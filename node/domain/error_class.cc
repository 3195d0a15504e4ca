#include "node/domain/error_class.h"

namespace tuphap::domain {

std::string_view ErrorClassName(ErrorClass c) {
  static constexpr std::string_view kNames[] = {"encoding_invalid",
                                                "malformed_json",
                                                "unknown_type",
                                                "missing_required",
                                                "wrong_type",
                                                "field_too_long",
                                                "date_format",
                                                "date_invalid",
                                                "name_not_nfc",
                                                "name_invalid_chars",
                                                "commune_unknown",
                                                "out_of_scope",
                                                "id_format",
                                                "id_province_unknown",
                                                "id_century_sex_mismatch",
                                                "id_birth_year_mismatch",
                                                "name_inconsistent",
                                                "death_before_birth",
                                                "chronology",
                                                "age_rule",
                                                "marriage_sex",
                                                "fine_out_of_range",
                                                "fine_exceeds_authority",
                                                "penalty_inconsistent",
                                                "limitation_expired",
                                                "entry_invalid",
                                                "entry_duplicate",
                                                "child_already_registered",
                                                "death_already_registered",
                                                "person_deceased",
                                                "already_married",
                                                "marital_status_contradicted",
                                                "unknown_record",
                                                "immutable_field",
                                                "version_conflict",
                                                "status_transition"};
  static_assert(std::size(kNames) == kErrorClassCount);
  return kNames[static_cast<int>(c)];
}

}  // namespace tuphap::domain
