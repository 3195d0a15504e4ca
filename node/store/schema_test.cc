#include "node/store/schema.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace tuphap::store {
namespace {

class SchemaTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("tuphap-schema-" + std::to_string(getpid()) + ".db"))
                .string();
    std::filesystem::remove(path_);
    auto db = Database::Open(path_, Database::OpenMode::kCreate);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(SchemaTest, MigratesStepByStepAndKeepsData) {
  const Migration v1[] = {{1, "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(7);"}};
  ASSERT_TRUE(Migrate(*db_, v1).ok());
  EXPECT_EQ(*SchemaVersion(*db_), 1);
  const Migration v2[] = {{1, "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(7);"},
                          {2, "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x';"}};
  ASSERT_TRUE(Migrate(*db_, v2).ok());
  EXPECT_EQ(*SchemaVersion(*db_), 2);
  auto q = db_->Prepare("SELECT a, b FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 7);
  EXPECT_EQ(q->Text(1), "x");
  // Running again does nothing.
  EXPECT_TRUE(Migrate(*db_, v2).ok());
}

TEST_F(SchemaTest, FailedMigrationLeavesThePreviousVersion) {
  const Migration good[] = {{1, "CREATE TABLE t(a INTEGER);"}};
  ASSERT_TRUE(Migrate(*db_, good).ok());
  const Migration bad[] = {{1, "CREATE TABLE t(a INTEGER);"},
                           {2, "CREATE TABLE u(b INTEGER); THIS IS NOT SQL;"}};
  Status s = Migrate(*db_, bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("version 2"), std::string::npos);
  EXPECT_EQ(*SchemaVersion(*db_), 1);
  auto q = db_->Prepare("SELECT count(*) FROM sqlite_master WHERE name = 'u'");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 0);
}

TEST_F(SchemaTest, RefusesAStoreFromANewerVersion) {
  ASSERT_TRUE(db_->Exec("PRAGMA user_version=99").ok());
  Status s = Migrate(*db_, StoreMigrations());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.reason(), "E_SCHEMA_NEWER");
}

TEST_F(SchemaTest, RealMigrationsReachTheLatestVersionWithWalAndFullSync) {
  ASSERT_TRUE(Migrate(*db_, StoreMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(*db_), LatestSchemaVersion());
  auto mode = db_->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->Text(0), "wal");
  auto sync = db_->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(*sync->Step());
  EXPECT_EQ(sync->Int(0), 2);  // FULL
}

}  // namespace
}  // namespace tuphap::store
