#include "web/format.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <cstdio>

#include "node/domain/dates.h"

namespace tuphap::web {
namespace {

struct Civil {
  int64_t year;
  int month, day, hour, minute, second;
};

Civil FromMillis(int64_t ms) {
  const int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const int64_t rem = secs - days * 86400;
  const domain::Date d = domain::DateFromDayNumber(days);
  return Civil{d.year,
               d.month,
               d.day,
               static_cast<int>(rem / 3600),
               static_cast<int>(rem % 3600 / 60),
               static_cast<int>(rem % 60)};
}

std::string Offset(int minutes) {
  char buf[16];
  const int a = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', a / 60, a % 60);
  return buf;
}

std::string Grouped(int64_t n, char sep) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace

Result<TimeZone> TimeZone::Named(const std::string& name) {
  std::shared_ptr<icu::TimeZone> tz(
      icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(name)));
  icu::UnicodeString id;
  tz->getID(id);
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

std::string TimeZone::Iso(int64_t ms) const {
  const int off = OffsetMinutes(ms);
  const Civil c = FromMillis(ms + int64_t{off} * 60000);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d%s",
                static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second,
                Offset(off).c_str());
  return buf;
}

std::string TimeZone::Date(int64_t ms) const {
  const Civil c = FromMillis(ms + int64_t{OffsetMinutes(ms)} * 60000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.year), c.month,
                c.day);
  return buf;
}

std::string DisplayDate(std::string_view iso) {
  if (iso.size() == 10 && iso[4] == '-' && iso[7] == '-') {
    return std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
           std::string(iso.substr(0, 4));
  }
  return std::string(iso);
}

std::optional<std::string> ParseDisplayDate(std::string_view text) {
  if (domain::ParseDateOrNull(text)) return std::string(text);
  int d = 0, m = 0, y = 0;
  char tail = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3) return std::nullopt;
  if (y < 1000) return std::nullopt;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  if (!domain::ParseDateOrNull(buf)) return std::nullopt;
  return std::string(buf);
}

std::string Money(int64_t vnd, domain::Lang lang) {
  if (lang == domain::Lang::kVietnamese) return Grouped(vnd, '.') + " ₫";
  return Grouped(vnd, ',') + " VND";
}

std::string Count(int64_t n, domain::Lang lang) {
  return Grouped(n, lang == domain::Lang::kVietnamese ? '.' : ',');
}

}  // namespace tuphap::web
