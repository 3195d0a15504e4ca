// The generator's options: a reversed or unreadable date range is an error,
// not a division by zero.
#include "node/domain/record_generator.h"

#include <gtest/gtest.h>

namespace tuphap::domain {
namespace {

GeneratorOptions Options(const std::string& from, const std::string& to) {
  GeneratorOptions o;
  o.communes = {"22333"};
  o.records = 20;
  o.from = from;
  o.to = to;
  return o;
}

// `--from 2026-01-02 --to 2026-01-01` died with SIGFPE; a wider reversed
// range wrote the year 1805419103.
TEST(RecordGeneratorTest, AReversedDateRangeIsRefused) {
  const Status s = CheckGeneratorOptions(Options("2026-01-02", "2026-01-01"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--from 2026-01-02 is after --to 2026-01-01"), std::string::npos)
      << s.message();
  EXPECT_EQ(CheckGeneratorOptions(Options("2026-03-01", "2025-01-01")).code(),
            StatusCode::kInvalidArgument);
  // Refused options write nothing (release builds; debug builds assert).
#ifdef NDEBUG
  int lines = 0;
  GenerateRecords(Options("2026-03-01", "2025-01-01"), [&](const std::string&) { ++lines; });
  EXPECT_EQ(lines, 0);
#endif
}

TEST(RecordGeneratorTest, OneDayIsARangeAndEveryLineFallsInIt) {
  const GeneratorOptions o = Options("2026-01-01", "2026-01-01");
  ASSERT_TRUE(CheckGeneratorOptions(o).ok());
  int lines = 0;
  GenerateRecords(o, [&](const std::string& line) {
    ++lines;
    EXPECT_NE(line.find("\"registered_at\":\"2026-01-01\""), std::string::npos) << line;
  });
  EXPECT_EQ(lines, 20);
}

TEST(RecordGeneratorTest, OtherBadOptionsSayWhich) {
  auto message = [](const GeneratorOptions& o) { return CheckGeneratorOptions(o).message(); };
  EXPECT_NE(message(Options("2026-13-01", "2026-12-31")).find("--from '2026-13-01'"),
            std::string::npos);
  EXPECT_NE(message(Options("2025-01-01", "soon")).find("--to 'soon'"), std::string::npos);
  EXPECT_NE(message(Options("1850-01-01", "2026-01-01")).find("1900 to 2100"), std::string::npos);
  GeneratorOptions o = Options("2025-01-01", "2025-12-31");
  o.records = -1;
  EXPECT_NE(message(o).find("--records"), std::string::npos);
  o = Options("2025-01-01", "2025-12-31");
  o.edits = -5;
  EXPECT_NE(message(o).find("--edits"), std::string::npos);
  o.edits = 0;
  o.bad = 1.5;
  EXPECT_NE(message(o).find("--bad"), std::string::npos);
  o.bad = 0;
  o.communes.clear();
  EXPECT_FALSE(CheckGeneratorOptions(o).ok());
}

}  // namespace
}  // namespace tuphap::domain
