// Vietnamese text rules (DOMAIN.md section 5): NFC checks, the name
// repertoire, and the diacritic-insensitive search fold. ICU does the
// Unicode work; `đ`/`Đ`, which have no decomposition, are mapped explicitly.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tuphap::domain {

// True when valid UTF-8 `text` is already in Unicode NFC.
bool IsNfc(std::string_view text);
std::string ToNfc(std::string_view text);
std::string ToNfd(std::string_view text);

// The search key: NFD, drop nonspacing marks, đ->d, Đ->D, lower-case,
// collapse runs of white space to one space, trim.
// "Nguyễn Thị Hồng Đào" -> "nguyen thi hong dao".
std::string FoldForSearch(std::string_view text);

// NFC, lower-case with full Unicode mapping, white space collapsed: for
// comparing names as written, accents kept ("Đào" != "Dao").
std::string LowerNfc(std::string_view text);

// Upper-case with full Unicode mapping ("Nguyễn" -> "NGUYỄN"), as registers print names.
std::string ToUpper(std::string_view text);

struct NameProblem {
  size_t offset = 0;  // byte offset of the offending character
  char32_t code_point = 0;
  std::string what;  // a sentence naming the character and the rule
};

// Checks a personal name against the name repertoire: Latin letters with
// Vietnamese diacritics, single ASCII spaces between words, apostrophe
// (U+0027 or U+2019) and hyphen. Rejects control and zero-width characters,
// NBSP, tabs, leading/trailing/double spaces, Cyrillic or Greek look-alikes,
// Ð (U+00D0) in place of Đ (U+0110), digits and other punctuation.
std::optional<NameProblem> CheckNameRepertoire(std::string_view name);

// "U+0110 'Đ'" for messages.
std::string DescribeCodePoint(char32_t cp);

}  // namespace tuphap::domain
