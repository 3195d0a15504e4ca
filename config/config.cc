#include "config/config.h"

#include <toml++/toml.h>

#include "base/file_io.h"
#include "obs/log.h"

namespace tuphap::config {
namespace {

std::string Where(const std::string& source, const toml::source_region& r) {
  return source + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

// An integer key within [lo, hi]. Only a TOML integer is taken: a float
// (1.5e3, 4E40, inf) is refused rather than converted — converting a double
// out of int64_t's range is undefined behaviour, and a fraction would be
// dropped silently.
Result<int64_t> IntegerIn(const toml::node& node, const std::string& at, std::string_view key,
                          int64_t lo, int64_t hi, std::string_view unit) {
  const std::string range = "an integer " + std::string(unit) + " from " + std::to_string(lo) +
                            " to " + std::to_string(hi);
  const toml::value<int64_t>* v = node.as_integer();
  if (v == nullptr) {
    std::string got = node.is_floating_point() ? "a number with a fraction or exponent"
                      : node.is_string()       ? "a string"
                                               : "not a number";
    return Status::InvalidArgument(at + ": '" + std::string(key) + "' must be " + range + " (" +
                                   got + " was given)");
  }
  if (v->get() < lo || v->get() > hi) {
    return Status::InvalidArgument(at + ": '" + std::string(key) + "' must be " + range + ", not " +
                                   std::to_string(v->get()));
  }
  return v->get();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(Where(source_name, e.source()) + ": " +
                                   std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(source_name + ": " + e.what());
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
      TUPHAP_ASSIGN_OR_RETURN(c.max_clock_ahead_seconds,
                              IntegerIn(node, at, k, kMinClockAheadSeconds, kMaxClockAheadSeconds,
                                        "number of seconds"));
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
    } else if (k == "ui") {
      auto v = node.value<std::string>();
      if (!v || v->empty())
        return Status::InvalidArgument(at +
                                       ": 'ui' must be ADDRESS:PORT such as \"127.0.0.1:8080\"");
      c.ui = *v;
    } else if (k == "metrics") {
      // ADDRESS:PORT, the port a number a listener can take: a typo here
      // would otherwise surface only when serve starts.
      auto v = node.value<std::string>();
      const size_t colon = v ? v->rfind(':') : std::string::npos;
      int64_t port = 0;
      if (v && colon != std::string::npos && colon > 0 && colon + 1 < v->size() &&
          v->size() - colon <= 6) {
        for (size_t i = colon + 1; i < v->size() && port >= 0; ++i)
          port = ((*v)[i] >= '0' && (*v)[i] <= '9') ? port * 10 + ((*v)[i] - '0') : -1;
      }
      if (port < 1 || port > 65535)
        return Status::InvalidArgument(
            at + ": 'metrics' must be ADDRESS:PORT such as \"127.0.0.1:9464\"");
      c.metrics = *v;
    } else if (k == "time_zone") {
      auto v = node.value<std::string>();
      if (!v || v->empty() || v->size() > 64)
        return Status::InvalidArgument(
            at + ": 'time_zone' must be a time zone name such as \"Asia/Ho_Chi_Minh\"");
      c.time_zone = *v;
    } else if (k == "behind_after_hours") {
      TUPHAP_ASSIGN_OR_RETURN(c.behind_after_hours,
                              IntegerIn(node, at, k, 1, 24 * 365, "number of hours"));
    } else if (k == "log_level") {
      auto v = node.value<std::string>();
      if (!v || !obs::ParseLogLevel(*v))
        return Status::InvalidArgument(at + ": 'log_level' must be one of " +
                                       obs::LogLevelNames(", "));
      c.log_level = *v;
    } else {
      return Status::InvalidArgument(at + ": unknown key '" + k + "'");
    }
  }
  return c;
}

Result<Config> LoadConfigFile(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxConfigBytes);
  if (!text.ok()) {
    const Status& s = text.status();
    return Status(s.code(), "config file: " + s.message(), s.reason());
  }
  return ParseConfig(*text, path);
}

}  // namespace tuphap::config
