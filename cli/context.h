// What every command gets: the global options and the output streams, plus
// helpers to open the node and print results.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "base/json.h"
#include "base/status.h"
#include "node/domain/messages.h"
#include "node/node.h"

namespace CLI {
class App;
}

namespace tuphap::cli {

struct Context {
  std::string data_dir;  // --data, $TUPHAP_DATA, ./tuphap-data
  bool json = false;     // --json
  std::string officer;   // --officer, $TUPHAP_OFFICER, config, $USER
  int64_t max_clock_ahead_ms = 24 * 3600 * 1000;
  bool accept_clock = false;                   // --accept-clock
  std::optional<std::string> listen;           // config: serve's --listen
  std::vector<std::string> upstreams;          // config: serve's --upstream
  domain::Lang lang = domain::Lang::kEnglish;  // from LANG
  std::ostream* out;
  std::ostream* err;

  node::NodeOptions NodeOptions() const;
  Result<std::unique_ptr<node::Node>> OpenNode() const;
  // Prints `j` as one line of JSON.
  void PrintJson(const Json& j) const;
};

// The officer's language: `vi` text when LANG starts with "vi".
inline std::string Tr(const Context& ctx, std::string_view en, std::string_view vi) {
  return std::string(ctx.lang == domain::Lang::kVietnamese ? vi : en);
}

// A command body; its Status decides the exit code.
using Action = std::function<Status()>;

// Reads the config file (`path`, or DATA/tuphap.toml when present) into
// `ctx` for every setting that no flag or environment variable gave.
Status ApplyConfig(const CLI::App& app, const std::string& path, Context* ctx);

}  // namespace tuphap::cli
