// How the web app writes times, dates and money for people: one form for a
// moment, in the node's time zone and marked with its offset
// ("05/12/2026 13:45 (UTC+07:00)"); dates dd/mm/yyyy; money "77.650.000 ₫"
// in Vietnamese pages. JSON and CSV take ISO 8601 with the offset.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/domain/messages.h"
#include "node/domain/time_zone.h"

namespace tuphap::web {

// The node's time zone: one form for a moment in the web app and the CLI.
using TimeZone = domain::TimeZone;

// "2026-12-05" -> "05/12/2026"; anything else as it is.
std::string DisplayDate(std::string_view iso);
// "05/12/2026" (or "5/12/2026", or already "2026-12-05") -> "2026-12-05";
// nullopt when it is neither.
std::optional<std::string> ParseDisplayDate(std::string_view text);
// 77650000 -> "77.650.000 ₫" (Vietnamese) / "77,650,000 VND" (English).
std::string Money(int64_t vnd, domain::Lang lang);
// 1234567 -> "1.234.567" (Vietnamese) / "1,234,567".
std::string Count(int64_t n, domain::Lang lang);

}  // namespace tuphap::web
