// The TOML config (config/config.cc, ParseConfig): never a crash and no
// undefined behaviour (an outside campaign found some on this path: a
// float out of int64's range converted); a config accepted holds only
// values within the documented bounds. Seeds: config/example.toml with
// every key set, and lines near each bound.
#include <cstdlib>

#include "base/file_io.h"
#include "config/config.h"
#include "tests/fuzz/fuzz_target.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = config::ParseConfig(text, "fuzz.toml");
  if (!c.ok()) {
    FUZZ_FAIL_IF(c.status().message().rfind("fuzz.toml", 0) != 0);  // names the file
    return 0;
  }
  FUZZ_FAIL_IF(c->officer && c->officer->empty());
  FUZZ_FAIL_IF(c->max_clock_ahead_seconds &&
               (*c->max_clock_ahead_seconds < config::kMinClockAheadSeconds ||
                *c->max_clock_ahead_seconds > config::kMaxClockAheadSeconds));
  FUZZ_FAIL_IF(c->behind_after_hours &&
               (*c->behind_after_hours < 1 || *c->behind_after_hours > 24 * 365));
  FUZZ_FAIL_IF(c->time_zone && (c->time_zone->empty() || c->time_zone->size() > 64));
  FUZZ_FAIL_IF(c->listen && c->listen->empty());
  FUZZ_FAIL_IF(c->ui && c->ui->empty());
  if (c->upstreams)
    for (const auto& u : *c->upstreams) FUZZ_FAIL_IF(u.empty());
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  // The documented example, every key set, as shipped.
  auto example = ReadFileBounded(TUPHAP_SOURCE_DIR "/config/example.toml", config::kMaxConfigBytes);
  FUZZ_FAIL_IF(!example.ok());
  return {
      *example,
      "# Cán bộ\nofficer = \"Nguyễn Thị Lan\"\nmax_clock_ahead_seconds = 86400\n"
      "listen = \"tcp://0.0.0.0:7700\"\nupstream = [\"tcp://hub.example:7700\", "
      "\"tcp://10.0.0.2:7700\"]\nui = \"127.0.0.1:8080\"\ntime_zone = \"Asia/Ho_Chi_Minh\"\n"
      "behind_after_hours = 48\n",
      "max_clock_ahead_seconds = 60\nbehind_after_hours = 8760\n",
      "max_clock_ahead_seconds = 4E40\n",
      "max_clock_ahead_seconds = -9223372036854775808\nbehind_after_hours = 0x7fffffffffffffff\n",
      "officer = '''\nnhiều\ndòng'''\n[table]\nkey = 1979-05-27T07:32:00Z\n",
      "upstream = [1, 2.5, inf, nan, true, {a = 1}]\n",
  };
}
