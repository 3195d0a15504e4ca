// How a moment is written, for people and for machines, in the node's time
// zone (config `time_zone`, default Asia/Ho_Chi_Minh). One form for people
// everywhere (the CLI's tables and messages, the web app's pages):
// "05/12/2026 13:45 (UTC+07:00)". Machine formats (JSON, CSV) take ISO 8601
// with the offset: "2026-12-05T13:45:10+07:00".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace tuphap::domain {

class TimeZone {
 public:
  // An IANA zone name. InvalidArgument naming the zone when ICU does not
  // know it.
  static Result<TimeZone> Named(const std::string& name);
  const std::string& name() const { return name_; }
  // Offset from UTC at `ms`, in minutes.
  int OffsetMinutes(int64_t ms) const;
  // "05/12/2026 13:45 (UTC+07:00)"; "" for 0 (never).
  std::string Human(int64_t ms) const;
  // "2026-12-05T13:45:10+07:00".
  std::string Iso(int64_t ms) const;
  // "2026-12-05T13:45:10.123+07:00": a change's time, to the millisecond.
  std::string IsoMillis(int64_t ms) const;
  // The local calendar date at `ms`: "YYYY-MM-DD".
  std::string Date(int64_t ms) const;

 private:
  std::string IsoText(int64_t ms, bool millis) const;

  std::string name_;
  std::shared_ptr<const void> zone_;  // icu::TimeZone
};

}  // namespace tuphap::domain
