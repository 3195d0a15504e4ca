#include "base/ulid.h"

namespace tuphap {

std::string MakeUlid(uint64_t unix_ms, const std::array<uint8_t, 10>& randomness) {
  static const char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  // 128 bits, big-endian: time in the top 48, randomness below. The text is
  // 130 bits (26 x 5) read from the top, so two zero bits lead.
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(unix_ms >> (40 - 8 * i));
  for (int i = 0; i < 10; ++i) b[6 + i] = randomness[i];
  auto bit = [&](int k) -> unsigned {  // bit k of the 130-bit string, 0 = top
    int j = k - 2;
    if (j < 0) return 0;
    return (b[j / 8] >> (7 - j % 8)) & 1u;
  };
  std::string out(26, '0');
  for (int c = 0; c < 26; ++c) {
    unsigned v = 0;
    for (int k = 0; k < 5; ++k) v = (v << 1) | bit(c * 5 + k);
    out[c] = kAlphabet[v];
  }
  return out;
}

}  // namespace tuphap
