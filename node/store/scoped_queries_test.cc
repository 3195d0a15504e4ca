// Every per-scope query keeps its index: EXPLAIN QUERY PLAN of each entry
// of kScopedQueries (node/store/scoped_queries.h) on a store at the latest
// schema, the way SQLite plans it in production (no ANALYZE statistics).
#include "node/store/scoped_queries.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "node/store/draft_opener.h"
#include "node/store/schema.h"
#include "node/store/store.h"
#include "node/store/test_access.h"
#include "replication/draft.h"

namespace tuphap::store {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t bar = s.find('|');
    out.push_back(s.substr(0, bar));
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
  }
  return out;
}

class ScopedQueriesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tuphap-scoped-" + std::to_string(getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto s = Store::Open((dir_ / "a.db").string(), Database::OpenMode::kCreate);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The plan's lines (EXPLAIN QUERY PLAN's detail column).
  std::vector<std::string> Plan(std::string_view sql) {
    Database& db = TestAccess::Db(*store_);
    auto q = db.Prepare("EXPLAIN QUERY PLAN " + std::string(sql));
    EXPECT_TRUE(q.ok()) << q.status().ToString() << "\n" << sql;
    std::vector<std::string> out;
    if (!q.ok()) return out;
    while (true) {
      auto row = q->Step();
      EXPECT_TRUE(row.ok()) << row.status().ToString();
      if (!row.ok() || !*row) break;
      out.emplace_back(q->Text(3));
    }
    return out;
  }

  // Empty when `plan` keeps to `query`'s rules; otherwise why not.
  static std::string Problems(const ScopedQuery& query, const std::vector<std::string>& plan) {
    std::string out;
    for (const std::string& line : plan) {
      if (line.rfind("SCAN ", 0) != 0 || line.rfind("SCAN (", 0) == 0 ||
          line == "SCAN CONSTANT ROW")
        continue;
      bool allowed = false;
      for (std::string_view may : Split(query.may_scan)) {
        allowed = allowed || (!may.empty() && line.rfind(may, 0) == 0);
      }
      if (!allowed) out += "walks a table or index whole: '" + line + "'\n";
    }
    for (std::string_view must : Split(query.must_use)) {
      bool found = false;
      for (const std::string& line : plan) found = found || line.find(must) != std::string::npos;
      if (!found) out += "does not use '" + std::string(must) + "'\n";
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ScopedQueriesTest, EveryPerScopeQuerySearchesAnIndexInsteadOfWalkingATable) {
  ASSERT_EQ(LatestSchemaVersion(), 16);
  std::set<std::string_view> names;
  for (const ScopedQuery& query : kScopedQueries) {
    EXPECT_TRUE(names.insert(query.name).second) << "two queries named " << query.name;
    EXPECT_FALSE(query.must_use.empty()) << query.name;
    const std::vector<std::string> plan = Plan(query.sql);
    std::string shown;
    for (const auto& line : plan) shown += "  " + line + "\n";
    EXPECT_EQ(Problems(query, plan), "") << query.name << ": " << query.sql << "\nplan:\n" << shown;
  }
}

TEST_F(ScopedQueriesTest, PerScopeQueriesReadTheirScopeThroughTheScopeIndex) {
  // The queries that read one commune must search records by scope; none
  // of them may be allowed to walk records.
  for (const ScopedQuery* query :
       {&kRecordsOfScope, &kDigestOfScope, &kMaxRecordId, &kIdsInRange, &kIdsWithPrefix,
        &kRecordsWithPrefix, &kHeldBackOfScope, &kDuplicateKeysOfScope}) {
    EXPECT_TRUE(query->may_scan.empty()) << query->name;
    bool searched = false;
    for (const std::string& line : Plan(query->sql)) {
      searched = searched || (line.rfind("SEARCH ", 0) == 0 &&
                              line.find("INDEX records_scope (scope=?") != std::string::npos);
    }
    EXPECT_TRUE(searched) << query->name;
  }
}

TEST_F(ScopedQueriesTest, TheCheckCatchesAQueryThatLostItsIndex) {
  // The rule itself: a full scan of records fails, as does a plan that
  // searches another index than the one named.
  const ScopedQuery scan{"scan", "SELECT record_id FROM records WHERE state_hash = ?1",
                         "SEARCH records USING INDEX records_scope (scope=?)"};
  const std::string problems = Problems(scan, Plan(scan.sql));
  EXPECT_NE(problems.find("walks a table or index whole: 'SCAN records'"), std::string::npos)
      << problems;
  EXPECT_NE(problems.find("does not use"), std::string::npos) << problems;
  const ScopedQuery by_id{"by_id", "SELECT state FROM records WHERE record_id = ?1",
                          "records_scope"};
  EXPECT_NE(Problems(by_id, Plan(by_id.sql)), "");
}

TEST_F(ScopedQueriesTest, RecordCountsFollowEveryWriteAndReindex) {
  DraftOpener opener;
  std::map<std::string, replication::Hash> prev;
  uint64_t seq = 0;
  auto apply = [&](const std::string& scope, const std::vector<std::string>& ids) {
    crdt::Change c;
    c.origin = crdt::ReplicaId::ForTest(1);
    c.scope = scope;
    c.seq = prev.count(scope) ? 2 : 1;
    c.hlc = crdt::Hlc::FromParts(1'751'328'000'000 + ++seq, 0);
    c.officer = "officer";
    for (const auto& id : ids)
      c.records.push_back({id, {{"name", crdt::Value::String("x" + std::to_string(seq)), {}}}});
    replication::Envelope e = replication::MakeDraft(c, prev[scope]);
    prev[scope] = e.hash();
    std::vector<Store::Incoming> batch;
    batch.push_back({std::move(e), std::move(c)});
    auto r = store_->Apply(batch, opener, ApplyOptions{.allow_drafts = true});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  apply("18568", {"a", "b", "c"});
  apply("22333", {"a"});
  apply("18568", {"a", "d"});  // one amended, one new
  auto counts = store_->CountByScope(Store::Counted::kRecords);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::map<std::string, uint64_t>{{"18568", 4}, {"22333", 1}}));

  // A count gone wrong (an editor outside tuphap) is counted again.
  ASSERT_TRUE(TestAccess::Db(*store_).Exec("UPDATE scope_counts SET records = 99").ok());
  ASSERT_TRUE(store_->Reindex().ok());
  counts = store_->CountByScope(Store::Counted::kRecords);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::map<std::string, uint64_t>{{"18568", 4}, {"22333", 1}}));

  // Digests of one scope and of all agree, scope by scope.
  auto all = store_->Digests();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  for (const auto& d : *all) {
    auto one = store_->Digests(std::string_view(d.scope));
    ASSERT_TRUE(one.ok());
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ((*one)[0].records, d.records);
    EXPECT_EQ((*one)[0].digest, d.digest);
  }
  auto none = store_->Digests(std::string_view("99999"));
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->size(), 1u);
  EXPECT_EQ((*none)[0].records, 0u);
  EXPECT_EQ((*none)[0].digest, replication::Hasher().Final());
}

}  // namespace
}  // namespace tuphap::store
