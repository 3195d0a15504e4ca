#include "node/domain/dates.h"

#include <gtest/gtest.h>

namespace tuphap::domain {
namespace {

TEST(DatesTest, FormatAndValidityAreSeparateProblems) {
  Date d;
  EXPECT_EQ(ParseDate("2025-07-01", false, &d), DateProblem::kNone);
  EXPECT_EQ(d, (Date{2025, 7, 1}));
  for (const char* f :
       {"01/07/2025", "2025/07/01", "20250701", "2025-7-1", "2025-07-1", "", "2025-07-01 "}) {
    EXPECT_EQ(ParseDate(f, false, &d), DateProblem::kFormat) << f;
  }
  for (const char* i : {"2023-02-29", "1900-02-29", "2025-04-31", "2025-13-01", "2025-00-10",
                        "2025-01-32", "1899-12-31", "2101-01-01"}) {
    EXPECT_EQ(ParseDate(i, false, &d), DateProblem::kInvalid) << i;
  }
  EXPECT_EQ(ParseDate("2024-02-29", false, &d), DateProblem::kNone);
  EXPECT_EQ(ParseDate("2000-02-29", false, &d), DateProblem::kNone);
  EXPECT_EQ(ParseDate("2025-07-01T08:30", true, &d), DateProblem::kNone);
  EXPECT_EQ(d.minutes, 8 * 60 + 30);
  EXPECT_EQ(ParseDate("2025-07-01T24:00", true, &d), DateProblem::kInvalid);
  EXPECT_EQ(ParseDate("2025-07-01 08:30", true, &d), DateProblem::kFormat);
}

TEST(DatesTest, CompletedYearsCountBirthdays) {
  EXPECT_EQ(CompletedYears({2005, 7, 2}, {2025, 7, 1}), 19);
  EXPECT_EQ(CompletedYears({2005, 7, 1}, {2025, 7, 1}), 20);
  EXPECT_EQ(CompletedYears({2004, 2, 29}, {2025, 2, 28}), 20);
}

TEST(DatesTest, DayNumbersRoundTrip) {
  for (const Date& d :
       {Date{1970, 1, 1}, Date{1900, 3, 1}, Date{2024, 2, 29}, Date{2100, 12, 31}}) {
    EXPECT_EQ(DateFromDayNumber(d.DayNumber()), d);
  }
  EXPECT_EQ((Date{1970, 1, 1}).DayNumber(), 0);
  // 2025-07-01 00:30 in Vietnam is 2025-06-30 17:30 UTC.
  EXPECT_EQ(VietnamDate(1'751'304'600'000), (Date{2025, 7, 1}));
}

}  // namespace
}  // namespace tuphap::domain
