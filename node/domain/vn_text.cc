#include "node/domain/vn_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <vector>

#include "base/utf8.h"

namespace tuphap::domain {
namespace {

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

const icu::Normalizer2& Nfc() {
  UErrorCode err = U_ZERO_ERROR;
  static const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(err);
  return *n;
}

const icu::Normalizer2& Nfd() {
  UErrorCode err = U_ZERO_ERROR;
  static const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(err);
  return *n;
}

// Letters of Vietnamese in NFC: ASCII letters, the Latin-1 and Latin
// Extended-A letters Vietnamese uses, and Latin Extended Additional
// U+1EA0..U+1EF9 (the tone-marked vowels).
bool IsVietnameseLetter(char32_t c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return true;
  switch (c) {
    case 0xC0:
    case 0xC1:
    case 0xC2:
    case 0xC3:
    case 0xC8:
    case 0xC9:
    case 0xCA:
    case 0xCC:
    case 0xCD:
    case 0xD2:
    case 0xD3:
    case 0xD4:
    case 0xD5:
    case 0xD9:
    case 0xDA:
    case 0xDD:
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3:
    case 0xE8:
    case 0xE9:
    case 0xEA:
    case 0xEC:
    case 0xED:
    case 0xF2:
    case 0xF3:
    case 0xF4:
    case 0xF5:
    case 0xF9:
    case 0xFA:
    case 0xFD:
    case 0x102:
    case 0x103:
    case 0x110:
    case 0x111:
    case 0x128:
    case 0x129:
    case 0x168:
    case 0x169:
    case 0x1A0:
    case 0x1A1:
    case 0x1AF:
    case 0x1B0:
      return true;
    default:
      return c >= 0x1EA0 && c <= 0x1EF9;
  }
}

}  // namespace

std::string DescribeCodePoint(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  std::string out = buf;
  if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0) &&
      u_isprint(static_cast<UChar32>(cp))) {
    out += " '";
    AppendUtf8(cp, &out);
    out += "'";
  }
  char name[128];
  UErrorCode err = U_ZERO_ERROR;
  const int32_t len =
      u_charName(static_cast<UChar32>(cp), U_UNICODE_CHAR_NAME, name, sizeof name, &err);
  if (U_SUCCESS(err) && len > 0) out += std::string(" (") + name + ")";
  return out;
}

bool IsNfc(std::string_view text) {
  if (IsAscii(text)) return true;
  // Fast path for Vietnamese: text made only of code points below U+0300
  // and of Latin Extended Additional (U+1E00-U+1EFF, the tone-marked
  // vowels) is NFC — every such character has NFC_Quick_Check=Yes, and no
  // combining mark is present to compose with.
  bool simple = true;
  for (size_t pos = 0; pos < text.size() && simple;) {
    const char32_t cp = NextCodePoint(text, &pos);
    simple = cp < 0x300 || (cp >= 0x1E00 && cp <= 0x1EFF);
  }
  if (simple) return true;
  UErrorCode err = U_ZERO_ERROR;
  const bool ok =
      Nfc().isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), err);
  return U_SUCCESS(err) && ok;
}

std::string ToNfc(std::string_view text) {
  if (IsAscii(text)) return std::string(text);
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString n = Nfc().normalize(u, err);
  std::string out;
  n.toUTF8String(out);
  return out;
}

namespace {

// FoldForSearch of one code point, for the Latin range where Vietnamese
// lives: built once with ICU, then a table lookup per character.
constexpr char32_t kFoldTableSize = 0x2000;

std::string FoldOneWithIcu(char32_t c) {
  if (c == 0x111 || c == 0x110) return "d";
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString d = Nfd().normalize(icu::UnicodeString(static_cast<UChar32>(c)), err);
  std::string out;
  for (int32_t i = 0; i < d.length();) {
    const UChar32 x = d.char32At(i);
    i += U16_LENGTH(x);
    if (u_charType(x) == U_NON_SPACING_MARK) continue;
    AppendUtf8(static_cast<char32_t>(u_tolower(x == 0x111 || x == 0x110 ? 'd' : x)), &out);
  }
  return out;
}

const std::vector<std::string>& FoldTable() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(kFoldTableSize);
    for (char32_t c = 0; c < kFoldTableSize; ++c) t[c] = FoldOneWithIcu(c);
    return t;
  }();
  return table;
}

std::string FoldWithIcu(std::string_view text) {
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString d = Nfd().normalize(u, err);
  std::string out;
  bool pending_space = false;
  for (int32_t i = 0; i < d.length();) {
    UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    if (u_isUWhiteSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    if (c == 0x111 || c == 0x110) c = 'd';
    AppendUtf8(static_cast<char32_t>(u_tolower(c)), &out);
  }
  return out;
}

}  // namespace

std::string FoldForSearch(std::string_view text) {
  const std::vector<std::string>& table = FoldTable();
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  size_t pos = 0;
  while (pos < text.size()) {
    const char32_t c = NextCodePoint(text, &pos);
    if (c >= kFoldTableSize || (c >= 0x300 && c <= 0x36F)) {
      return FoldWithIcu(text);  // outside the table, or marks to compose first: the general path
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x1680) {
      pending_space = !out.empty();
      continue;
    }
    const std::string& f = table[c];
    if (f.empty()) continue;
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out += f;
  }
  return out;
}

std::string ToNfd(std::string_view text) {
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  std::string out;
  Nfd().normalize(u, err).toUTF8String(out);
  return out;
}

std::string LowerNfc(std::string_view text) {
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString u = Nfc().normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(
                                             text.data(), static_cast<int32_t>(text.size()))),
                                         err);
  u.toLower();
  std::string utf8;
  u.toUTF8String(utf8);
  std::string out;
  bool space = false;
  for (char c : utf8) {
    if (c == ' ' || c == '\t' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string ToUpper(std::string_view text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  u.toUpper();
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::optional<NameProblem> CheckNameRepertoire(std::string_view name) {
  size_t pos = 0;
  char32_t prev = 0;
  while (pos < name.size()) {
    const size_t at = pos;
    const char32_t c = NextCodePoint(name, &pos);
    auto problem = [&](const std::string& why) {
      return NameProblem{at, c,
                         DescribeCodePoint(c) + " at byte " + std::to_string(at) + ": " + why};
    };
    if (c == ' ') {
      if (at == 0) return problem("a name may not start with a space");
      if (pos == name.size()) return problem("a name may not end with a space");
      if (prev == ' ') return problem("two spaces in a row");
    } else if (c == '\'' || c == 0x2019 || c == '-') {
      // apostrophe (U+0027 or U+2019) and hyphen are allowed inside names
    } else if (c == 0xD0 || c == 0xF0 || c == 0x189) {
      return problem("a look-alike of Đ/đ; write U+0110 'Đ' or U+0111 'đ'");
    } else if (c >= 0x370 && c <= 0x3FF) {
      return problem("a Greek letter (look-alike of a Latin one)");
    } else if (c >= 0x400 && c <= 0x52F) {
      return problem("a Cyrillic letter (look-alike of a Latin one)");
    } else if (c == 0xA0 || c == '\t' || u_isUWhiteSpace(static_cast<UChar32>(c))) {
      return problem("only single ordinary spaces may separate words");
    } else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0x200B || c == 0x200C || c == 0x200D ||
               c == 0x2060 || c == 0xFEFF || u_charType(static_cast<UChar32>(c)) == U_FORMAT_CHAR) {
      return problem("an invisible control or zero-width character");
    } else if (c >= '0' && c <= '9') {
      return problem("digits are not allowed in a name");
    } else if (u_charType(static_cast<UChar32>(c)) == U_NON_SPACING_MARK) {
      return problem("a combining mark; names are written with precomposed letters (NFC)");
    } else if (!IsVietnameseLetter(c)) {
      return problem("not a letter of Vietnamese names");
    }
    prev = c;
  }
  return std::nullopt;
}

}  // namespace tuphap::domain
