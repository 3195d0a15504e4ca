// The node's log: levelled lines on stderr for operators, through spdlog.
// The message part goes through SetLogTranslator's function (the catalogue
// under LANG=vi_*); the time, level and key=value fields never do. Under systemd
// (stderr is the journal stream named by $JOURNAL_STREAM) each line starts
// with an sd-daemon priority "<N>" instead of a time, so the journal keeps
// the level and adds its own time (docs/metrics.md, "Logs").
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tuphap::obs {

using LogLevel = spdlog::level::level_enum;

// The level names --log-level and the config's log_level take, with their
// levels: the one list the CLI option, the config check and ParseLogLevel
// read, so a name added here is accepted everywhere at once.
inline constexpr std::array<std::pair<std::string_view, LogLevel>, 6> kLogLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"off", spdlog::level::off},
}};

// The names of kLogLevels joined with `separator`, for messages.
std::string LogLevelNames(std::string_view separator);

// One of kLogLevels' names; nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view text);

// Sends the log to stderr at `level` from now on. Until it is called the
// log is on stderr at warn (tests and tools that never set it stay quiet).
void InitLogging(LogLevel level);

// Whether stderr is the systemd journal's stream ($JOURNAL_STREAM names
// stderr's device and inode, as sd_journal_stream_fd(3) says to check).
bool StderrIsJournal();

// Puts each line's message through `translate` from now on (the CLI gives
// the message catalogue's translation under LANG=vi_*, so an officer who
// runs `serve` or `sync` on a terminal reads the log in Vietnamese; the
// key=value fields stay as they are). Set once, before any other thread
// logs.
void SetLogTranslator(std::function<std::string(std::string_view)> translate);

// The log. Its calls format nothing when their level is off.
spdlog::logger& Log();

}  // namespace tuphap::obs
