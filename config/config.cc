#include "config/config.h"

#include <toml++/toml.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tuphap::config {
namespace {

std::string Where(const std::string& source, const toml::source_region& r) {
  return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(Where(source_name, e.source()) + ": " +
                                   std::string(e.description()));
  }
  Config c;
  for (auto&& [key, node] : root) {
    const std::string k(key.str());
    const std::string at = Where(source_name, node.source());
    if (k == "officer") {
      auto v = node.value<std::string>();
      if (!v || v->empty())
        return Status::InvalidArgument(at + ": 'officer' must be a non-empty string");
      c.officer = *v;
    } else if (k == "max_clock_ahead_seconds") {
      auto v = node.value<int64_t>();
      if (!v || *v <= 0)
        return Status::InvalidArgument(at +
                                       ": 'max_clock_ahead_seconds' must be a positive integer");
      c.max_clock_ahead_seconds = *v;
    } else if (k == "listen") {
      auto v = node.value<std::string>();
      if (!v || v->empty())
        return Status::InvalidArgument(at +
                                       ": 'listen' must be an endpoint such as "
                                       "\"tcp://0.0.0.0:7700\"");
      c.listen = *v;
    } else if (k == "upstream") {
      const toml::array* arr = node.as_array();
      if (arr == nullptr)
        return Status::InvalidArgument(at + ": 'upstream' must be a list of endpoints");
      std::vector<std::string> list;
      for (const auto& e : *arr) {
        auto v = e.value<std::string>();
        if (!v || v->empty())
          return Status::InvalidArgument(Where(source_name, e.source()) +
                                         ": each 'upstream' entry must be an endpoint text");
        list.push_back(*v);
      }
      c.upstreams = std::move(list);
    } else {
      return Status::InvalidArgument(at + ": unknown key '" + k + "'");
    }
  }
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::NotFound("no config file " + path);
    return Status::IoError("cannot read config file " + path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace tuphap::config
