// ULID (https://github.com/ulid/spec): 48-bit millisecond time + 80 random
// bits in 26 Crockford base-32 characters. Used for record ids that are not
// register references; sortable by creation time, unique across nodes.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tuphap {

std::string MakeUlid(uint64_t unix_ms, const std::array<uint8_t, 10>& randomness);

}  // namespace tuphap
