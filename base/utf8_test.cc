#include "base/utf8.h"

#include <gtest/gtest.h>

namespace tuphap {
namespace {

TEST(Utf8Test, FindsFirstInvalidSequence) {
  EXPECT_TRUE(IsValidUtf8("Nguy\xE1\xBB\x85n"));
  EXPECT_EQ(FindInvalidUtf8("ab\xC0\xAF"), 2u);        // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);     // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("abc\xE1\xBB"), 3u);       // truncated
  EXPECT_EQ(FindInvalidUtf8("\x80"), 0u);              // lone continuation
}

TEST(Utf8Test, DecodesAndCounts) {
  std::string s = "\xC4\x90\xC3\xA0o";  // Đào
  EXPECT_EQ(CountCodePoints(s), 3u);
  size_t pos = 0;
  EXPECT_EQ(NextCodePoint(s, &pos), U'\u0110');
  EXPECT_EQ(NextCodePoint(s, &pos), U'\u00E0');
  EXPECT_EQ(NextCodePoint(s, &pos), U'o');
  EXPECT_EQ(pos, s.size());
  std::string out;
  for (char32_t cp : {U'\u0110', U'\u1EC5', U'\U0001F600', U'a'}) AppendUtf8(cp, &out);
  EXPECT_EQ(out,
            "\xC4\x90\xE1\xBB\x85\xF0\x9F\x98\x80"
            "a");
}

}  // namespace
}  // namespace tuphap
