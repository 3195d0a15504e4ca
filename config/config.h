// Node configuration from a TOML file (config/example.toml documents every
// key). Anything a command-line flag sets can be set here; flags and
// environment variables win over the file. Unknown keys are errors, so a typo
// does not silently fall back to a default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tuphap::config {

// A config file is a few lines: anything larger is not one.
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// How far ahead of this clock a stamp may be: at least a minute (ordinary
// drift between two laptops), at most a year.
inline constexpr int64_t kMinClockAheadSeconds = 60;
inline constexpr int64_t kMaxClockAheadSeconds = 365 * 24 * 3600;

struct Config {
  std::optional<std::string> officer;
  std::optional<int64_t> max_clock_ahead_seconds;
  std::optional<std::string> listen;                  // tuphap serve --listen
  std::optional<std::vector<std::string>> upstreams;  // tuphap serve --upstream ...
  std::optional<std::string> ui;                      // tuphap serve --ui ADDRESS:PORT
  std::optional<std::string> metrics;                 // tuphap serve --metrics ADDRESS:PORT
  // The time zone times are shown in to people (IANA name; default
  // Asia/Ho_Chi_Minh).
  std::optional<std::string> time_zone;
  // Hub console: a commune not synced for longer is shown as behind.
  std::optional<int64_t> behind_after_hours;
  // The log's level (trace, debug, info, warn, error, off); --log-level
  // overrides it.
  std::optional<std::string> log_level;
};

// InvalidArgument naming the file, line and column of the first problem
// (a number out of its range says the range); NotFound when the file does
// not exist; InvalidArgument when `path` is a directory; ResourceExhausted
// when it is larger than kMaxConfigBytes.
Result<Config> LoadConfigFile(const std::string& path);
Result<Config> ParseConfig(std::string_view text, const std::string& source_name);

}  // namespace tuphap::config
