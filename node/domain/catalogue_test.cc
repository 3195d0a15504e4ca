// The catalogue's handling of the operating system's error texts: the
// common ones have Vietnamese of their own, inside any message that carries
// them; any other is named as the system's, with its number.
#include "node/domain/catalogue.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tuphap::domain {
namespace {

std::string OsText(int e) {
  char buf[256];
  return strerror_r(e, buf, sizeof buf);  // GNU strerror_r: the text
}

TEST(CatalogueTest, CommonOsErrorsAreTranslatedInsideAMessage) {
  for (int e : {ENOENT, EACCES, ENOSPC, EEXIST, EISDIR, ENOTDIR, EROFS, EIO, EPERM}) {
    const std::string message = "cannot read /srv/x.backup: " + OsText(e);
    const std::string vi = TranslateMessage(Lang::kVietnamese, message);
    EXPECT_EQ(vi.find(OsText(e)), std::string::npos) << e << ": " << vi;
    EXPECT_NE(vi.find("/srv/x.backup"), std::string::npos) << vi;
    EXPECT_TRUE(CatalogueLookup(OsText(e)).has_value()) << OsText(e);
    // English is left as it is.
    EXPECT_EQ(TranslateMessage(Lang::kEnglish, message), message);
  }
}

TEST(CatalogueTest, AnOsErrorWithoutAnEntryIsNamedByItsNumber) {
  // One the catalogue does not carry (a robust mutex's owner died).
  const std::string text = OsText(EOWNERDEAD);
  ASSERT_FALSE(CatalogueLookup(text).has_value()) << text;
  const std::string vi = TranslateMessage(Lang::kVietnamese, "cannot lock /srv/x: " + text);
  EXPECT_NE(vi.find("lỗi hệ điều hành số " + std::to_string(EOWNERDEAD)), std::string::npos) << vi;
  EXPECT_EQ(vi.find("[UNTRANSLATED]"), std::string::npos) << vi;
}

TEST(CatalogueTest, ChoiceListErrorsOfTheCommandLineAreTranslated) {
  const std::string vi =
      TranslateMessage(Lang::kVietnamese, "--role: boss not in {officer,head,operator}");
  EXPECT_EQ(vi, "--role: 'boss' không phải một trong các giá trị {officer,head,operator}");
}

}  // namespace
}  // namespace tuphap::domain
