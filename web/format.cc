#include "web/format.h"

#include <cstdio>

#include "node/domain/dates.h"

namespace tuphap::web {
namespace {

std::string Grouped(int64_t n, char sep) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace

std::string DisplayDate(std::string_view iso) {
  if (iso.size() == 10 && iso[4] == '-' && iso[7] == '-') {
    return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
           std::string(iso.substr(0, 4));
  }
  return std::string(iso);
}

std::optional<std::string> ParseDisplayDate(std::string_view text) {
  if (domain::ParseDateOrNull(text)) return std::string(text);
  int d = 0, m = 0, y = 0;
  char tail = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3) return std::nullopt;
  if (y < 1000) return std::nullopt;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  if (!domain::ParseDateOrNull(buf)) return std::nullopt;
  return std::string(buf);
}

std::string Money(int64_t vnd, domain::Lang lang) {
  if (lang == domain::Lang::kVietnamese) return Grouped(vnd, '.') + " ₫";
  return Grouped(vnd, ',') + " VND";
}

std::string Count(int64_t n, domain::Lang lang) {
  return Grouped(n, lang == domain::Lang::kVietnamese ? '.' : ',');
}

}  // namespace tuphap::web
