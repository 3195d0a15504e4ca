// Reference tables of the domain (DOMAIN.md sections 2-4), compiled into the
// binary: the 3,321 current communes and their provinces, closed pre-2025
// commune codes, the personal-ID province codes, and the violation sectors
// with their fine maxima and limitation periods.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tuphap::domain {

struct CommuneInfo {
  std::string code;           // 5 digits
  std::string name;           // "Phường Bắc Nha Trang"
  std::string division_type;  // xã | phường | đặc khu
  std::string province_code;  // 2 digits
  std::string province_name;
};

struct Sector {
  std::string_view key;  // as written in violation.sector
  std::string_view name;
  int64_t max_fine_individual_vnd;  // Law on Handling Administrative Violations art. 24
  int limitation_years;             // 1, or 2 in the sectors the law lists
};

class ReferenceData {
 public:
  static const ReferenceData& Get();

  // A commune in force since 1 July 2025, or nullptr.
  const CommuneInfo* Commune(std::string_view code) const;
  // A pre-2025 code known to have been closed by the 2025 reform.
  bool IsClosedCommune(std::string_view code) const;
  // The name of a 2025 province code (2 digits), or empty.
  std::string_view ProvinceName(std::string_view code) const;
  std::vector<const CommuneInfo*> CommunesOf(std::string_view province) const;
  size_t commune_count() const { return communes_.size(); }
  // The first 3 digits of a personal ID name a known province.
  bool IsIdProvinceCode(std::string_view code3) const;
  const Sector* FindSector(std::string_view key) const;

  // The minimum fine and the share of a sector maximum a commune chairman
  // may impose (Decree 189/2025: 50 %).
  static constexpr int64_t kMinFineVnd = 50'000;
  static constexpr int kCommuneAuthorityPercent = 50;

 private:
  ReferenceData();
  std::vector<CommuneInfo> communes_;      // sorted by code
  std::vector<std::string> closed_;        // sorted
  std::vector<std::string> id_provinces_;  // sorted
};

}  // namespace tuphap::domain
