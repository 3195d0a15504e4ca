#include "node/domain/reference_data.h"

#include <algorithm>

namespace tuphap::embedded {
std::string_view communes_csv();
std::string_view closed_communes_csv();
std::string_view id_provinces_csv();
}  // namespace tuphap::embedded

namespace tuphap::domain {
namespace {

// Rows of a small CSV without quoting (our reference files have none),
// skipping the header line.
std::vector<std::vector<std::string>> Rows(std::string_view csv) {
  std::vector<std::vector<std::string>> out;
  bool header = true;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t end = csv.find('\n', pos);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view line = csv.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> cells;
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      cells.emplace_back(line.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    out.push_back(std::move(cells));
  }
  return out;
}

// Sector keys used in violation decisions, with the maximum fine for an
// individual (Law 15/2012 art. 24 as amended; organisations pay double) and
// the limitation period (1 year; 2 years in the sectors Law 88/2025 lists).
constexpr Sector kSectors[] = {
    {"an_ninh_trat_tu", "An ninh, trật tự, an toàn xã hội", 40'000'000, 1},
    {"bao_luc_gia_dinh", "Phòng, chống bạo lực gia đình", 30'000'000, 1},
    {"bao_ve_tre_em", "Bảo vệ trẻ em", 50'000'000, 1},
    {"binh_dang_gioi", "Bình đẳng giới", 30'000'000, 1},
    {"dan_so", "Dân số", 30'000'000, 1},
    {"dat_dai", "Đất đai", 500'000'000, 2},
    {"giao_duc", "Giáo dục", 50'000'000, 1},
    {"giao_thong_duong_bo", "Giao thông đường bộ", 40'000'000, 1},
    {"hanh_chinh_tu_phap", "Hành chính tư pháp (gồm hộ tịch)", 30'000'000, 1},
    {"hon_nhan_gia_dinh", "Hôn nhân và gia đình", 30'000'000, 1},
    {"ke_toan", "Kế toán", 50'000'000, 2},
    {"lao_dong", "Lao động", 75'000'000, 1},
    {"moi_truong", "Bảo vệ môi trường", 1'000'000'000, 2},
    {"phi_le_phi", "Phí, lệ phí", 50'000'000, 2},
    {"phong_chay_chua_chay", "Phòng cháy, chữa cháy", 50'000'000, 1},
    {"thong_ke", "Thống kê", 30'000'000, 1},
    {"van_hoa", "Văn hóa", 50'000'000, 1},
    {"ve_sinh_moi_truong", "Vệ sinh môi trường", 30'000'000, 1},
    {"xay_dung", "Xây dựng", 1'000'000'000, 2},
    {"y_te", "Y tế dự phòng", 50'000'000, 1},
};

}  // namespace

const ReferenceData& ReferenceData::Get() {
  static const ReferenceData data;
  return data;
}

ReferenceData::ReferenceData() {
  for (auto& r : Rows(embedded::communes_csv())) {
    if (r.size() != 5) continue;
    communes_.push_back(CommuneInfo{r[0], r[1], r[2], r[3], r[4]});
  }
  std::sort(communes_.begin(), communes_.end(),
            [](const auto& a, const auto& b) { return a.code < b.code; });
  for (auto& r : Rows(embedded::closed_communes_csv())) closed_.push_back(r[0]);
  std::sort(closed_.begin(), closed_.end());
  for (auto& r : Rows(embedded::id_provinces_csv())) id_provinces_.push_back(r[0]);
  std::sort(id_provinces_.begin(), id_provinces_.end());
}

const CommuneInfo* ReferenceData::Commune(std::string_view code) const {
  auto it = std::lower_bound(communes_.begin(), communes_.end(), code,
                             [](const CommuneInfo& c, std::string_view k) { return c.code < k; });
  return it != communes_.end() && it->code == code ? &*it : nullptr;
}

bool ReferenceData::IsClosedCommune(std::string_view code) const {
  return std::binary_search(closed_.begin(), closed_.end(), code);
}

std::string_view ReferenceData::ProvinceName(std::string_view code) const {
  for (const auto& c : communes_) {
    if (c.province_code == code) return c.province_name;
  }
  return {};
}

std::vector<const CommuneInfo*> ReferenceData::CommunesOf(std::string_view province) const {
  std::vector<const CommuneInfo*> out;
  for (const auto& c : communes_) {
    if (c.province_code == province) out.push_back(&c);
  }
  return out;
}

bool ReferenceData::IsIdProvinceCode(std::string_view code3) const {
  return std::binary_search(id_provinces_.begin(), id_provinces_.end(), code3);
}

const Sector* ReferenceData::FindSector(std::string_view key) const {
  for (const auto& s : kSectors) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

}  // namespace tuphap::domain
