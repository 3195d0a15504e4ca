// The log's level for this run of the command (obs/log.h).
#pragma once

#include "base/status.h"
#include "cli/context.h"

namespace tuphap::cli {

// The level names --log-level and the config's log_level take.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

// Sets the log's level: --log-level, else the config's log_level, else
// info for the commands that run sessions (serve, sync: one line per
// session is what an operator reads them for) and warn for the rest, whose
// results are for people and must not drown in log lines.
Status SetUpLogging(const CLI::App& app, const Context& ctx);

}  // namespace tuphap::cli
