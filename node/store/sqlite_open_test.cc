// Opening an existing store never creates one: `status` on a 0-byte
// tuphap.db used to write the schema into it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/store/store.h"

namespace tuphap::store {
namespace {

namespace fs = std::filesystem;

class ExistingStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tuphap-open-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(ExistingStoreTest, AnEmptyFileIsAnErrorAndStaysEmpty) {
  { std::ofstream(Path("tuphap.db")); }
  auto s = Store::Open(Path("tuphap.db"), Database::OpenMode::kExisting);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(s.status().reason(), "E_STORE_CORRUPT");
  EXPECT_NE(s.status().message().find("is empty"), std::string::npos) << s.status().message();
  EXPECT_EQ(fs::file_size(Path("tuphap.db")), 0u);
  EXPECT_FALSE(fs::exists(Path("tuphap.db-wal")));
}

TEST_F(ExistingStoreTest, AFileThatIsNotSqliteIsAnErrorAndUnchanged) {
  const std::string text = "not a database, but some other file the operator put here\n";
  { std::ofstream(Path("tuphap.db")) << text; }
  auto s = Store::Open(Path("tuphap.db"), Database::OpenMode::kExisting);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("not an SQLite database"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(fs::file_size(Path("tuphap.db")), text.size());
}

TEST_F(ExistingStoreTest, AnSqliteFileWithoutAStoreIsNotMigrated) {
  {
    auto db = Database::Open(Path("other.db"), Database::OpenMode::kCreate);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x)").ok());
  }
  auto s = Store::Open(Path("other.db"), Database::OpenMode::kExisting);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "E_STORE_CORRUPT");
  auto db = Database::Open(Path("other.db"), Database::OpenMode::kCreate);
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT count(*) FROM sqlite_master");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 1);  // only t: no tuphap table was created
}

TEST_F(ExistingStoreTest, AStoreThisProgramMadeOpensAndAMissingOneIsNotFound) {
  ASSERT_TRUE(Store::Open(Path("s.db"), Database::OpenMode::kCreate).ok());
  EXPECT_TRUE(Store::Open(Path("s.db"), Database::OpenMode::kExisting).ok());
  EXPECT_EQ(Store::Open(Path("none.db"), Database::OpenMode::kExisting).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace tuphap::store
