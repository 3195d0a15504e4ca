// What every command gets: the global options and the output streams, plus
// helpers to open the node and print results.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "base/json.h"
#include "base/status.h"
#include "node/app/office.h"
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
  std::string passphrase_file;                 // --passphrase-file
  std::optional<std::string> listen;           // config: serve's --listen
  std::vector<std::string> upstreams;          // config: serve's --upstream
  std::optional<std::string> ui;               // config: serve's --ui
  std::string time_zone = "Asia/Ho_Chi_Minh";  // config: time_zone
  int64_t behind_after_hours = 24;             // config: behind_after_hours
  domain::Lang lang = domain::Lang::kEnglish;  // from LANG
  std::ostream* out;
  std::ostream* err;

  node::NodeOptions NodeOptions() const;
  // The node's services (node/app): what every command goes through.
  Result<std::unique_ptr<app::Office>> OpenOffice() const;
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
