#include "node/domain/time_zone.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <cstdio>

#include "node/domain/dates.h"

namespace tuphap::domain {
namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, second, millis;
};

Civil FromMillis(int64_t ms) {
  const int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const int64_t rem = secs - days * 86400;
  const Date d = DateFromDayNumber(days);
  return Civil{d.year,
               d.month,
               d.day,
               static_cast<int>(rem / 3600),
               static_cast<int>(rem % 3600 / 60),
               static_cast<int>(rem % 60),
               static_cast<int>(ms - secs * 1000)};
}

std::string Offset(int minutes) {
  char buf[16];
  const int a = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

}  // namespace

Result<TimeZone> TimeZone::Named(const std::string& name) {
  std::shared_ptr<icu::TimeZone> tz(
      icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
  if (*tz == icu::TimeZone::getUnknown()) {
    return Status::InvalidArgument("unknown time zone \"" + name +
                                   "\" (an IANA name such as Asia/Ho_Chi_Minh)");
  }
  TimeZone z;
  z.name_ = name;
  z.zone_ = std::move(tz);
  return z;
}

int TimeZone::OffsetMinutes(int64_t ms) const {
  const auto* tz = static_cast<const icu::TimeZone*>(zone_.get());
  int32_t raw = 0, dst = 0;
  UErrorCode status = U_ZERO_ERROR;
  tz->getOffset(static_cast<UDate>(ms), false, raw, dst, status);
  if (U_FAILURE(status)) return 0;
  return (raw + dst) / 60000;
}

std::string TimeZone::Human(int64_t ms) const {
  if (ms == 0) return {};
  const int off = OffsetMinutes(ms);
  const Civil c = FromMillis(ms + int64_t{off} * 60000);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%02d/%04lld %02d:%02d (UTC%s)", c.day, c.month,
                static_cast<long long>(c.year), c.hour, c.minute, Offset(off).c_str());
  return buf;
}

std::string TimeZone::Iso(int64_t ms) const { return IsoText(ms, false); }

std::string TimeZone::IsoMillis(int64_t ms) const { return IsoText(ms, true); }

std::string TimeZone::IsoText(int64_t ms, bool millis) const {
  const int off = OffsetMinutes(ms);
  const Civil c = FromMillis(ms + int64_t{off} * 60000);
  char fraction[8] = "";
  if (millis) std::snprintf(fraction, sizeof fraction, ".%03d", c.millis);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d%s%s",
                static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                fraction, Offset(off).c_str());
  return buf;
}

std::string TimeZone::Date(int64_t ms) const {
  const Civil c = FromMillis(ms + int64_t{OffsetMinutes(ms)} * 60000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.year), c.month,
                c.day);
  return buf;
}

}  // namespace tuphap::domain
