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
#include "node/domain/catalogue.h"
#include "node/domain/messages.h"
#include "node/domain/time_zone.h"
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
  std::optional<std::string> metrics;          // config: serve's --metrics
  std::string time_zone = "Asia/Ho_Chi_Minh";  // config: time_zone
  int64_t behind_after_hours = 24;             // config: behind_after_hours
  std::optional<std::string> log_level;        // --log-level, config: log_level
  domain::Lang lang = domain::Lang::kEnglish;  // from LANG
  std::ostream* out;
  std::ostream* err;
  // The node's time zone (config `time_zone`), set by ApplyConfig: every
  // time a command shows is in it.
  std::shared_ptr<const domain::TimeZone> zone;

  node::NodeOptions NodeOptions() const;
  // The node's services (node/app): what every command goes through.
  Result<std::unique_ptr<app::Office>> OpenOffice() const;
  // Prints `j` as one line of JSON.
  void PrintJson(const Json& j) const;
  // A moment for people, the one form every command and page uses:
  // "05/12/2026 13:45 (UTC+07:00)"; "never" for 0.
  std::string PersonTime(int64_t ms) const;
  // A date for people: "05/12/2026".
  std::string PersonDate(int64_t ms) const;
  // A moment in JSON: ISO 8601 with the zone's offset
  // ("2026-12-05T13:45:10+07:00"); null for 0 (it has not happened).
  Json JsonTime(int64_t ms) const;
  // A change's clock in JSON: its time to the millisecond under `key`
  // ("2026-12-05T13:45:10.123+07:00") and the HLC counter under
  // `key`_counter, so the time parses as ISO 8601.
  void SetHlc(Json* j, const std::string& key, crdt::Hlc hlc) const;
};

// `en` in the officer's language (from LANG): the Vietnamese comes from the
// message catalogue po/vi.po, compiled in; {0}, {1}... are filled from
// `args`. Add a new text with scripts/i18n_extract.py (docs/architecture.md).
inline std::string Tr(const Context& ctx, std::string_view en,
                      std::initializer_list<std::string_view> args = {}) {
  return domain::Tr(ctx.lang, en, args);
}
// The same with a msgctxt: an English text that needs two translations.
inline std::string TrCtx(const Context& ctx, std::string_view ctxt, std::string_view en,
                         std::initializer_list<std::string_view> args = {}) {
  return domain::TrCtx(ctx.lang, ctxt, en, args);
}

// A command body; its Status decides the exit code.
using Action = std::function<Status()>;

// Reads the config file (`path`, or DATA/tuphap.toml when present) into
// `ctx` for every setting that no flag or environment variable gave.
Status ApplyConfig(const CLI::App& app, const std::string& path, Context* ctx);

}  // namespace tuphap::cli
