#include "node/domain/vn_text.h"

#include <gtest/gtest.h>

namespace tuphap::domain {
namespace {

TEST(VnTextTest, NfcAndNfdForms) {
  const std::string nfc = "Nguyễn Thị Hồng";
  const std::string nfd = ToNfd(nfc);
  EXPECT_NE(nfc, nfd);
  EXPECT_TRUE(IsNfc(nfc));
  EXPECT_FALSE(IsNfc(nfd));
  EXPECT_EQ(ToNfc(nfd), nfc);
  // CP1258-style "combining" form: base letter + tone mark.
  EXPECT_FALSE(IsNfc("Nguy\xC3\xAA\xCC\x83n"));  // ê + U+0303
  EXPECT_TRUE(IsNfc("plain ascii"));
  EXPECT_TRUE(IsNfc("Đặng Thu Hà"));
}

TEST(VnTextTest, SearchFoldDropsAccentsAndMapsD) {
  EXPECT_EQ(FoldForSearch("Nguyễn Thị Hồng Đào"), "nguyen thi hong dao");
  EXPECT_EQ(FoldForSearch("  NGUYỄN   thị\thồng "), "nguyen thi hong");
  // NFC and NFD spellings of one name fold the same.
  EXPECT_EQ(FoldForSearch(ToNfd("Trần Ngọc Ánh")), FoldForSearch("Trần Ngọc Ánh"));
  EXPECT_EQ(FoldForSearch("Ea H’Leo"), "ea h’leo");
  EXPECT_EQ(FoldForSearch("đường"), "duong");
}

TEST(VnTextTest, NameRepertoireRefusesLookAlikesAndInvisibles) {
  EXPECT_FALSE(CheckNameRepertoire("Nguyễn Thị Hồng").has_value());
  EXPECT_FALSE(CheckNameRepertoire("Ksor H’Bliêng").has_value());
  EXPECT_FALSE(CheckNameRepertoire("Tôn Thất Lê-Anh").has_value());
  EXPECT_FALSE(CheckNameRepertoire("O'Neil").has_value());
  struct Bad {
    std::string name;
    const char* why;
  };
  for (const Bad& b :
       {Bad{"\xC3\x90\xC3\xA0o", "Ð U+00D0"}, Bad{"Nguy\xD0\xB5n", "Cyrillic е"},
        Bad{"Ho\xCE\xB1", "Greek α"}, Bad{"An\xE2\x80\x8D", "zero-width joiner"},
        Bad{"An\xC2\xA0"
            "Binh",
            "NBSP"},
        Bad{"An\tBinh", "tab"}, Bad{" An", "leading space"}, Bad{"An ", "trailing space"},
        Bad{"An  Binh", "double space"}, Bad{"An2", "digit"}, Bad{"An.", "punctuation"},
        Bad{ToNfd("Hồng"), "combining mark"}}) {
    auto p = CheckNameRepertoire(b.name);
    ASSERT_TRUE(p.has_value()) << b.why;
    EXPECT_FALSE(p->what.empty());
  }
  auto eth = CheckNameRepertoire("\xC3\x90\xC3\xA0o");
  EXPECT_EQ(eth->code_point, U'\u00D0');
  EXPECT_NE(eth->what.find("U+0110"), std::string::npos);  // says what to write instead
}

TEST(VnTextTest, UpperAndLowerUseFullUnicode) {
  EXPECT_EQ(ToUpper("Nguyễn Thị đào"), "NGUYỄN THỊ ĐÀO");
  EXPECT_EQ(LowerNfc("ĐÀO  Thị"), "đào thị");
  EXPECT_NE(LowerNfc("Đào"), LowerNfc("Dao"));  // accents matter for exact match
}

}  // namespace
}  // namespace tuphap::domain
