// Hex text for bytes (hashes, keys) in output and tests.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tuphap {

std::string ToHex(std::span<const uint8_t> bytes);
inline std::string ToHex(std::string_view bytes) {
  return ToHex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}
// Lower- or upper-case hex of even length; nullopt otherwise.
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

}  // namespace tuphap
