#include "base/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace tuphap {
namespace {

class LineReaderTest : public testing::Test {
 protected:
  std::string Write(const std::string& bytes) {
    char name[] = "/tmp/tuphap-lines-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(name, std::ios::binary) << bytes;
    path_ = name;
    return path_;
  }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }
  std::string path_;
};

TEST_F(LineReaderTest, ByteOrderMarkAndCarriageReturnsAreNotPartOfTheLines) {
  auto r = LineReader::Open(Write("\xEF\xBB\xBF{\"a\":1}\r\n\xEF\xBB\xBF{\"b\":2}\n"));
  ASSERT_TRUE(r.ok());
  std::string line;
  ASSERT_EQ((*r)->Next(&line), LineReader::Got::kLine);
  EXPECT_EQ(line, "{\"a\":1}");
  ASSERT_EQ((*r)->Next(&line), LineReader::Got::kLine);
  EXPECT_EQ(line, "\xEF\xBB\xBF{\"b\":2}") << "only the first line may start with the mark";
  EXPECT_EQ((*r)->line_number(), 2u);
  EXPECT_EQ((*r)->Next(&line), LineReader::Got::kEnd);
}

TEST_F(LineReaderTest, TooLongLinesAreReportedAndSkipped) {
  auto r = LineReader::Open(Write(std::string(100, 'x') + "\nshort\n"), 10);
  ASSERT_TRUE(r.ok());
  std::string line;
  EXPECT_EQ((*r)->Next(&line), LineReader::Got::kTooLong);
  EXPECT_EQ(line.size(), 10u);
  EXPECT_EQ((*r)->Next(&line), LineReader::Got::kLine);
  EXPECT_EQ(line, "short");
}

}  // namespace
}  // namespace tuphap
