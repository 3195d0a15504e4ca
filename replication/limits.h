// Hard limits on everything decoded from outside the process, checked
// before anything is allocated for it. One struct so the envelope, the change
// body, wire messages and bundles agree.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tuphap::replication {

struct Limits {
  size_t max_envelope_bytes = 256 * 1024;  // one change, encrypted
  size_t max_scope_bytes = 16;
  uint32_t max_records_per_change = 1024;
  uint32_t max_ops_per_change = 8192;
  uint32_t max_pred_per_op = 64;
  uint32_t max_origins_per_change = 64;
  size_t max_record_id_bytes = 128;
  size_t max_field_bytes = 256;
  size_t max_value_bytes = 64 * 1024;
  size_t max_officer_bytes = 256;
  size_t max_reason_bytes = 2048;
};

inline constexpr Limits kDefaultLimits{};

}  // namespace tuphap::replication
