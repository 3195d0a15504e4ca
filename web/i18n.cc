#include "web/i18n.h"

#include <mutex>
#include <unordered_map>

#include "node/domain/catalogue.h"

namespace tuphap::embedded {
std::string_view web_catalogue_tsv();
}

namespace tuphap::web {
namespace {

struct Entry {
  std::string_view vi, en;
};

const std::unordered_map<std::string_view, Entry>& Catalogue() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, Entry>();
    std::string_view all = embedded::web_catalogue_tsv();
    while (!all.empty()) {
      size_t end = all.find('\n');
      if (end == std::string_view::npos) end = all.size();
      std::string_view line = all.substr(0, end);
      all.remove_prefix(std::min(all.size(), end + 1));
      if (line.empty() || line.front() == '#') continue;
      const size_t a = line.find('\t');
      const size_t b = a == std::string_view::npos ? a : line.find('\t', a + 1);
      if (b == std::string_view::npos) continue;
      (*t)[line.substr(0, a)] = Entry{line.substr(a + 1, b - a - 1), line.substr(b + 1)};
    }
    return t;
  }();
  return *table;
}

}  // namespace

std::string_view Tr(domain::Lang lang, std::string_view key) {
  const auto& c = Catalogue();
  auto it = c.find(key);
  if (it == c.end()) return key;
  return lang == domain::Lang::kVietnamese ? it->second.vi : it->second.en;
}

std::string NodeMessage(domain::Lang lang, std::string_view message) {
  return domain::TranslateMessageText(lang, message);
}

bool HasKey(std::string_view key) { return Catalogue().count(key) > 0; }

std::vector<std::string> CatalogueKeys() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Catalogue()) out.emplace_back(k);
  return out;
}

std::string_view LangCode(domain::Lang lang) {
  return lang == domain::Lang::kVietnamese ? "vi" : "en";
}

}  // namespace tuphap::web
