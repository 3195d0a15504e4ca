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

namespace tuphap::web {

class TimeZone {
 public:
  // An IANA zone name (default of the node: Asia/Ho_Chi_Minh).
  // InvalidArgument naming the zone when ICU does not know it.
  static Result<TimeZone> Named(const std::string& name);
  const std::string& name() const { return name_; }
  // Offset from UTC at `ms`, in minutes.
  int OffsetMinutes(int64_t ms) const;
  // "05/12/2026 13:45 (UTC+07:00)"; "" for 0 (never).
  std::string Human(int64_t ms) const;
  // "2026-12-05T13:45:10+07:00".
  std::string Iso(int64_t ms) const;
  // The local calendar date at `ms`: "YYYY-MM-DD".
  std::string Date(int64_t ms) const;

 private:
  std::string name_;
  std::shared_ptr<const void> zone_;  // icu::TimeZone
};

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
