#include "base/file_io.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/line_reader.h"

namespace tuphap {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tuphap-file-io-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Names in the directory: what a write left behind.
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(FileIoTest, ReadsAFileUpToItsBound) {
  ASSERT_TRUE(WriteFileAtomic(Path("f"), "0123456789").ok());
  auto exact = ReadFileBounded(Path("f"), 10);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(*exact, "0123456789");
  auto over = ReadFileBounded(Path("f"), 9);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(over.status().reason(), "E_TOO_LARGE");
  EXPECT_NE(over.status().message().find(Path("f")), std::string::npos);
  EXPECT_NE(over.status().message().find("9 bytes"), std::string::npos);
  EXPECT_EQ(ReadFileBounded(Path("none"), 10).status().code(), StatusCode::kNotFound);
}

// `--config DIR` used to read as an empty config, and `--input DIR` to
// throw a raw C++ error.
TEST_F(FileIoTest, ADirectoryIsRefusedByName) {
  auto r = ReadFileBounded(dir_.string(), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("is a directory"), std::string::npos);
  auto lines = LineReader::Open(dir_.string());
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lines.status().message().find("is a directory"), std::string::npos);
}

// `--config /dev/zero` grew without bound and ended in std::bad_alloc.
TEST_F(FileIoTest, AnEndlessStreamStopsAtTheBound) {
  auto r = ReadFileBounded("/dev/zero", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("/dev/zero"), std::string::npos);
}

// A huge (sparse) regular file is refused from its size, without reading.
TEST_F(FileIoTest, ALargeFileIsRefusedBeforeItIsRead) {
  { std::ofstream(Path("big")); }
  fs::resize_file(Path("big"), uint64_t{64} << 30);
  auto r = ReadFileBounded(Path("big"), 1 << 20);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("1048576 bytes"), std::string::npos) << r.status().message();
}

// `import /dev/zero` skipped one endless "line" for ever.
TEST_F(FileIoTest, AnEndlessLineEndsTheReadingWithAnError) {
  auto r = LineReader::Open("/dev/zero");
  ASSERT_TRUE(r.ok());
  std::string line;
  EXPECT_EQ((*r)->Next(&line), LineReader::Got::kEnd);
  const Status s = (*r)->error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("without a line end"), std::string::npos) << s.message();
  EXPECT_EQ((*r)->Next(&line), LineReader::Got::kEnd);
}

TEST_F(FileIoTest, AtomicFileIsPublishedWholeOrNotAtAll) {
  ASSERT_TRUE(WriteFileAtomic(Path("target"), "old").ok());
  {
    auto f = AtomicFile::Create(Path("target"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Append("new, ").ok());
    ASSERT_TRUE(f->Append("not committed").ok());
    EXPECT_EQ(f->size(), 18u);
    // Abandoned: the target keeps its old bytes and no temporary is left.
  }
  EXPECT_EQ(*ReadFileBounded(Path("target"), 100), "old");
  EXPECT_EQ(Names(), std::vector<std::string>{"target"});
  {
    auto f = AtomicFile::Create(Path("target"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->Append("new").ok());
    ASSERT_TRUE(f->Commit().ok());
  }
  EXPECT_EQ(*ReadFileBounded(Path("target"), 100), "new");
  EXPECT_EQ(Names(), std::vector<std::string>{"target"});
  // A target in a directory that does not exist: an error naming it.
  auto missing = WriteFileAtomic(Path("no/such/dir/f"), "x");
  EXPECT_EQ(missing.code(), StatusCode::kIoError);
  EXPECT_NE(missing.message().find("no/such/dir/f"), std::string::npos);
}

TEST_F(FileIoTest, PublishFileRenamesAndRemovesOnFailure) {
  ASSERT_TRUE(WriteFileAtomic(Path("made"), "bytes").ok());
  ASSERT_TRUE(PublishFile(Path("made"), Path("published")).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{"published"});
  ASSERT_TRUE(WriteFileAtomic(Path("made"), "bytes").ok());
  EXPECT_FALSE(PublishFile(Path("made"), Path("no/dir/published")).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{"published"});
}

// A writer killed part way leaves its temporary beside the target; the next
// writer of a bundle or snapshot removes those of processes that no longer run, with
// exactly the names tuphap gives, and nothing else (found by the kill-point
// stress: 139 in 1,000 kills).
TEST_F(FileIoTest, TemporariesOfDeadWritersAreRemovedByTheNextWriter) {
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  const std::string d = std::to_string(dead), live = std::to_string(getppid());
  for (const std::string& name :
       {"b.tpb.tmp-" + d + "-0", "snap.db.tmp-" + d, "snap.db.tmp-" + d + "-journal",
        "b.tpb.tmp-" + live + "-3", "other.tmp-" + d + "-0", std::string("b.tpb.tmp-x1"),
        "b.tpb.tmp-" + d + "-notes.pdf"})
    ASSERT_TRUE(WriteFileAtomic(Path(name), "left").ok());
  RemoveStaleTemporaries(Path("b.tpb"));
  ASSERT_TRUE(WriteFileAtomic(Path("b.tpb"), "bundle").ok());
  RemoveStaleTemporaries(Path("snap.db"));
  std::vector<std::string> kept = {"b.tpb", "b.tpb.tmp-" + d + "-notes.pdf",
                                   "b.tpb.tmp-" + live + "-3", "b.tpb.tmp-x1",
                                   "other.tmp-" + d + "-0"};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(Names(), kept);
}

}  // namespace
}  // namespace tuphap
