// Calendar dates as the registers write them: "YYYY-MM-DD" (Gregorian) and
// "YYYY-MM-DDTHH:MM". Parsing separates the two error classes the domain
// distinguishes: a wrong shape (date_format) and a shape that names no real
// day or a year outside 1900-2100 (date_invalid).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tuphap::domain {

struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
  int minutes = -1;  // minutes after midnight for a date-time, else -1

  // Days since 1970-01-01.
  int64_t DayNumber() const;
  std::string ToString() const;  // YYYY-MM-DD
  friend auto operator<=>(const Date& a, const Date& b) {
    if (auto c = a.year <=> b.year; c != 0) return c;
    if (auto c = a.month <=> b.month; c != 0) return c;
    return a.day <=> b.day;
  }
  friend bool operator==(const Date& a, const Date& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day;
  }
};

enum class DateProblem { kNone, kFormat, kInvalid };

// `with_time`: the "YYYY-MM-DDTHH:MM" form.
DateProblem ParseDate(std::string_view text, bool with_time, Date* out);
std::optional<Date> ParseDateOrNull(std::string_view text);  // either form
bool IsLeapYear(int year);
int DaysInMonth(int year, int month);
// Completed years from `birth` to `on` (the age on that day).
int CompletedYears(const Date& birth, const Date& on);
Date DateFromDayNumber(int64_t days);
// Today's date (UTC+7, Vietnam) for a Unix time in milliseconds.
Date VietnamDate(int64_t unix_ms);

}  // namespace tuphap::domain
