// UTF-8 helpers that need no ICU: validation and code point iteration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tuphap {

// Returns the byte offset of the first invalid sequence, or npos when `s` is
// valid UTF-8 (shortest form, no surrogates, at most U+10FFFF).
size_t FindInvalidUtf8(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return FindInvalidUtf8(s) == std::string_view::npos; }

// Decodes one code point at s[*pos] and advances *pos. `s` must be valid UTF-8.
char32_t NextCodePoint(std::string_view s, size_t* pos);

// Number of code points in valid UTF-8.
size_t CountCodePoints(std::string_view s);

void AppendUtf8(char32_t cp, std::string* out);

}  // namespace tuphap
