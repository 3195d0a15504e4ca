#include "node/domain/dates.h"

#include <cstdio>

namespace tuphap::domain {
namespace {

bool Digits(std::string_view s, size_t from, size_t n, int* out) {
  int v = 0;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

DateProblem ParseDate(std::string_view s, bool with_time, Date* out) {
  const size_t len = with_time ? 16 : 10;
  Date d;
  if (s.size() != len || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &d.year) ||
      !Digits(s, 5, 2, &d.month) || !Digits(s, 8, 2, &d.day)) {
    return DateProblem::kFormat;
  }
  if (with_time) {
    int hh, mm;
    if (s[10] != 'T' || s[13] != ':' || !Digits(s, 11, 2, &hh) || !Digits(s, 14, 2, &mm))
      return DateProblem::kFormat;
    if (hh > 23 || mm > 59) return DateProblem::kInvalid;
    d.minutes = hh * 60 + mm;
  }
  if (d.year < 1900 || d.year > 2100 || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > DaysInMonth(d.year, d.month)) {
    return DateProblem::kInvalid;
  }
  *out = d;
  return DateProblem::kNone;
}

std::optional<Date> ParseDateOrNull(std::string_view text) {
  Date d;
  if (ParseDate(text, text.size() == 16, &d) == DateProblem::kNone) return d;
  return std::nullopt;
}

int64_t Date::DayNumber() const {
  // H. Hinnant's days_from_civil.
  const int y = month <= 2 ? year - 1 : year;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(month + (month > 2 ? -3 : 9)) + 2) / 5 +
                       static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

Date DateFromDayNumber(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (d.month <= 2));
  return d;
}

Date VietnamDate(int64_t unix_ms) {
  const int64_t local_ms = unix_ms + 7 * 3600 * 1000;
  int64_t days = local_ms / 86'400'000;
  if (local_ms < 0 && local_ms % 86'400'000 != 0) --days;
  return DateFromDayNumber(days);
}

int CompletedYears(const Date& birth, const Date& on) {
  int years = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --years;
  return years;
}

std::string Date::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

}  // namespace tuphap::domain
