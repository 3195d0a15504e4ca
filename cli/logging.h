// The log's level for this run of the command (obs/log.h).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "cli/context.h"

namespace tuphap::cli {

// The level names --log-level takes (obs::kLogLevels), for CLI11's check.
std::vector<std::string> LogLevelChoices();

// Sets the log's level: --log-level, else the config's log_level, else
// info for the commands that run sessions (serve, sync: one line per
// session is what an operator reads them for) and warn for the rest, whose
// results are for people and must not drown in log lines. With --json the
// default is warn for every command: the JSON already holds the session's
// result, and a script reading it wants stderr for trouble only.
Status SetUpLogging(const CLI::App& app, const Context& ctx);

}  // namespace tuphap::cli
