#include "node/domain/reference_data.h"

#include <gtest/gtest.h>

namespace tuphap::domain {
namespace {

TEST(ReferenceDataTest, ShipsEveryCurrentCommune) {
  const auto& ref = ReferenceData::Get();
  EXPECT_EQ(ref.commune_count(), 3321u);
  const CommuneInfo* c = ref.Commune("22333");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "Phường Bắc Nha Trang");
  EXPECT_EQ(c->province_code, "56");
  EXPECT_EQ(ref.ProvinceName("56"), "Tỉnh Khánh Hòa");
  EXPECT_EQ(ref.CommunesOf("56").size(), 65u);
  EXPECT_EQ(ref.Commune("99999"), nullptr);
  EXPECT_EQ(ref.Commune("00013"), nullptr);  // merged into Ba Đình in 2025
}

TEST(ReferenceDataTest, KnowsClosedCodesAndIdProvinces) {
  const auto& ref = ReferenceData::Get();
  EXPECT_TRUE(ref.IsClosedCommune("03331"));
  EXPECT_FALSE(ref.IsClosedCommune("22333"));
  EXPECT_TRUE(ref.IsIdProvinceCode("001"));
  EXPECT_TRUE(ref.IsIdProvinceCode("002"));  // Hà Giang: kept by IDs issued before the merger
  EXPECT_FALSE(ref.IsIdProvinceCode("003"));
  EXPECT_FALSE(ref.IsIdProvinceCode("000"));
  ASSERT_NE(ref.FindSector("hanh_chinh_tu_phap"), nullptr);
  EXPECT_EQ(ref.FindSector("hanh_chinh_tu_phap")->max_fine_individual_vnd, 30'000'000);
}

}  // namespace
}  // namespace tuphap::domain
