// The domain on real stores: import, classification of every error class,
// re-import, search, amendments, conflicts, register numbers, upgrade.
#include "node/domain/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "node/domain/importer.h"
#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/domain/vn_text.h"
#include "node/report/reports.h"
#include "node/store/draft_opener.h"
#include "node/store/test_access.h"
#include "node/test_keys.h"
#include "node/test_nodes.h"

namespace tuphap::domain {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("tuphap-registry-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<node::Node> MakeNode(const std::string& name, const std::string& commune,
                                       bool hub = false, bool secondary = false) {
    node::InitParams p;
    p.role = hub ? node::Role::kHub : node::Role::kCommune;
    p.commune = hub ? "" : commune;
    p.province = hub ? commune : "";
    p.secondary = secondary;
    const std::string dir = (root_ / name).string();
    EXPECT_TRUE(node::InitForTest(dir, p).ok());
    node::NodeOptions o = node::TestOptions();
    o.officer = "Lan";
    auto n = node::Node::Open(dir, o);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return std::move(n).value();
  }

  // Writes generated lines to a file; returns its path and the expected
  // class of every line (empty: valid).
  std::string Generate(const GeneratorOptions& o, std::vector<std::string>* expected) {
    const std::string path = (root_ / ("gen-" + std::to_string(files_++) + ".jsonl")).string();
    std::ofstream out(path, std::ios::binary);
    static const std::regex tag("\"expect_error\":(null|\"([a-z_]+)\")");
    GenerateRecords(o, [&](const std::string& line) {
      out << line << '\n';
      std::smatch m;
      expected->push_back(std::regex_search(line, m, tag) ? m[2].str() : "");
    });
    return path;
  }

  struct Outcome {
    ImportSummary summary;
    std::map<uint64_t, std::string> refused;  // line -> class
  };
  Outcome RunImport(Registry& r, const std::string& path, ImportOptions o = {}) {
    Outcome out;
    o.refused = [&](uint64_t line, const Problem& p) {
      out.refused[line] = std::string(ErrorClassName(p.error_class));
    };
    auto reader = LineReader::Open(path);
    EXPECT_TRUE(reader.ok());
    auto s = Import(r, **reader, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) out.summary = *s;
    return out;
  }

  fs::path root_;
  int files_ = 0;
};

TEST_F(RegistryTest, EveryErrorClassFromALineBuiltToExhibitIt) {
  for (ErrorClass c : GeneratedErrorClasses()) {
    SCOPED_TRACE(std::string(ErrorClassName(c)));
    auto n = MakeNode("n" + std::string(ErrorClassName(c)), "22333");
    Registry r(*n, Lang::kEnglish);
    GeneratorOptions o;
    o.seed = 7;
    o.communes = {"22333"};
    o.records = 500;
    o.edits = 300;
    o.bad = 0.25;
    o.bad_classes = {c};
    std::vector<std::string> expected;
    const std::string path = Generate(o, &expected);
    Outcome out = RunImport(r, path);
    size_t tagged = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      const uint64_t line = i + 1;
      const std::string got = out.refused.count(line) ? out.refused[line] : "";
      EXPECT_EQ(got, expected[i]) << "line " << line;
      tagged += expected[i] == ErrorClassName(c);
    }
    EXPECT_GT(tagged, 0u) << "no line was built to exhibit the class";
  }
}

TEST_F(RegistryTest, OutOfScopeForCommuneNodeAndHub) {
  GeneratorOptions o;
  o.communes = {"22366"};  // Phường Nha Trang, province 56
  o.records = 20;
  std::vector<std::string> expected;
  const std::string path = Generate(o, &expected);
  auto commune = MakeNode("c", "22333");
  Registry rc(*commune, Lang::kEnglish);
  Outcome a = RunImport(rc, path);
  EXPECT_EQ(a.summary.refused, 20u);
  EXPECT_EQ(a.summary.by_class["out_of_scope"], 20u);
  auto hub01 = MakeNode("h01", "01", /*hub=*/true);
  Registry r01(*hub01, Lang::kEnglish);
  EXPECT_EQ(RunImport(r01, path).summary.by_class["out_of_scope"], 20u);
  auto hub56 = MakeNode("h56", "56", /*hub=*/true);
  Registry r56(*hub56, Lang::kEnglish);
  EXPECT_EQ(RunImport(r56, path).summary.accepted, 20u);
}

TEST_F(RegistryTest, ValidFileImportsWithoutRefusalAndAgainAsANoOp) {
  auto n = MakeNode("n", "56", /*hub=*/true);
  Registry r(*n, Lang::kEnglish);
  GeneratorOptions o;
  o.seed = 3;
  o.communes = {"22333", "22366", "22390"};
  o.records = 1500;
  o.edits = 200;
  std::vector<std::string> expected;
  const std::string path = Generate(o, &expected);
  Outcome first = RunImport(r, path);
  EXPECT_EQ(first.summary.refused, 0u)
      << (first.refused.empty() ? "" : first.refused.begin()->second);
  EXPECT_EQ(first.summary.accepted, expected.size());
  const auto digests = n->Digests(std::nullopt);
  Outcome second = RunImport(r, path);
  EXPECT_EQ(second.summary.accepted, 0u);
  EXPECT_EQ(second.summary.refused, 0u);
  EXPECT_EQ(second.summary.duplicates, expected.size());
  EXPECT_EQ(n->Digests(std::nullopt)->front().digest, digests->front().digest);  // nothing changed
}

TEST_F(RegistryTest, SequentialAndParallelImportAgree) {
  GeneratorOptions o;
  o.seed = 11;
  o.communes = {"22333"};
  o.records = 800;
  o.edits = 100;
  o.bad = 0.1;
  std::vector<std::string> expected;
  const std::string path = Generate(o, &expected);
  auto a = MakeNode("a", "22333");
  auto b = MakeNode("b", "22333");
  Registry ra(*a, Lang::kEnglish), rb(*b, Lang::kEnglish);
  ImportOptions seq;
  seq.parallel = false;
  Outcome x = RunImport(ra, path, seq);
  Outcome y = RunImport(rb, path);
  EXPECT_EQ(x.refused, y.refused);
  EXPECT_EQ(x.summary.accepted, y.summary.accepted);
}

TEST_F(RegistryTest, AllOrNothingCommitsNothingWhenALineIsRefused) {
  auto n = MakeNode("n", "22333");
  Registry r(*n, Lang::kEnglish);
  GeneratorOptions o;
  o.communes = {"22333"};
  o.records = 300;
  o.bad = 0.01;
  o.bad_classes = {ErrorClass::kDateInvalid};
  std::vector<std::string> expected;
  const std::string path = Generate(o, &expected);
  ImportOptions aon;
  aon.all_or_nothing = true;
  aon.batch = 50;  // several checkpoints inside the one transaction
  Outcome out = RunImport(r, path, aon);
  EXPECT_TRUE(out.summary.rolled_back);
  EXPECT_GT(out.summary.refused, 0u);
  EXPECT_EQ(out.summary.accepted, 0u);
  EXPECT_TRUE(n->Digests(std::nullopt)->empty());
}

TEST_F(RegistryTest, SearchFindsNamesWithoutAccentsIdsAndRegisterReferences) {
  auto n = MakeNode("n", "22333");
  Registry r(*n, Lang::kEnglish);
  GeneratorOptions o;
  o.communes = {"22333"};
  o.records = 300;
  std::vector<std::string> expected;
  const std::string path = Generate(o, &expected);
  RunImport(r, path);
  auto rec = n->GetRecord("22333-KS-2025-000001");
  ASSERT_TRUE(rec.ok());
  const std::string name = rec->state.Field("data.child.full_name")->Winner()->value.text();
  const std::string id = rec->state.Field("data.child.personal_id")->Winner()->value.text();
  auto contains = [](const std::vector<SearchHit>& hits, const std::string& rid) {
    return std::any_of(hits.begin(), hits.end(),
                       [&](const SearchHit& h) { return h.record_id == rid; });
  };
  auto by_folded = r.Search(FoldForSearch(name), "", "", "");
  ASSERT_TRUE(by_folded.ok());
  EXPECT_TRUE(contains(*by_folded, "22333-KS-2025-000001")) << FoldForSearch(name);
  auto by_nfd = r.Search(ToNfd(name), "", "", "");  // another input method's spelling
  EXPECT_TRUE(contains(*by_nfd, "22333-KS-2025-000001"));
  auto by_exact = r.Search(name, "", "", "");
  ASSERT_FALSE(by_exact->empty());
  EXPECT_TRUE(by_exact->front().exact);  // accents as typed come first
  auto by_id = r.Search(id, "", "", "");
  ASSERT_EQ(by_id->size(), 1u);
  EXPECT_EQ(by_id->front().record_id, "22333-KS-2025-000001");
  auto by_ref = r.Search("22333-KS-2025-000001", "", "", "");
  ASSERT_FALSE(by_ref->empty());
  EXPECT_EQ(by_ref->front().record_id, "22333-KS-2025-000001");
  // Filters.
  auto deaths = r.Search("nguyen", "death", "", "");
  for (const auto& h : *deaths) EXPECT_EQ(h.type, "death");
  auto window = r.Search("nguyen", "", "2025-08-01", "2025-08-31");
  for (const auto& h : *window) {
    EXPECT_GE(h.date, "2025-08-01");
    EXPECT_LE(h.date, "2025-08-31");
  }
  EXPECT_EQ(r.Search("   ", "", "", "").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, SearchRanksTheWordsTogetherInOneNameFirst) {
  auto n = MakeNode("n", "22333");
  Registry r(*n, Lang::kEnglish);
  auto birth = [&](const std::string& child, const std::string& sex, const std::string& id,
                   const std::string& mother) {
    auto line =
        ParseJson(R"({"registered_at":"2026-11-10","data":{"child":{"family_name":"Nguyễn",)"
                  R"("given_name":"Hồng","full_name":")" +
                      child + R"(","sex":")" + sex +
                      R"(","birth_date":"2026-11-02","birth_place":"Trạm Y tế",)"
                      R"("ethnicity":"Kinh","nationality":"VN","personal_id":")" +
                      id + R"("},"mother":{"full_name":")" + mother +
                      R"("},"declarant":{"full_name":"Trần Văn Bình"}}})",
                  nullptr);
    std::string middle = child.substr(child.find(' ') + 1);
    middle = middle.substr(0, middle.find(' '));
    line->Find("data")->Find("child")->Set("middle_name", middle);
    auto rid = r.Register("birth", std::move(*line));
    EXPECT_TRUE(rid.ok()) << rid.status().ToString();
    return rid.ok() ? *rid : std::string();
  };
  // Registered first, so by date and number alone it would come first: every
  // word of the query is in it, but spread over two people.
  const std::string scattered = birth("Nguyễn Văn Hồng", "M", "056226000124", "Lê Thị Mai");
  const std::string together = birth("Nguyễn Thị Hồng", "F", "056326000123", "Đỗ Thị Lan");
  auto hits = r.Search("nguyen thi hong", "", "", "");
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].record_id, together);
  EXPECT_TRUE((*hits)[0].together);
  EXPECT_FALSE((*hits)[0].exact);
  EXPECT_EQ((*hits)[1].record_id, scattered);
  EXPECT_FALSE((*hits)[1].together);
  auto exact = r.Search("Nguyễn Thị Hồng", "", "", "");
  ASSERT_EQ(exact->size(), 2u);
  EXPECT_EQ((*exact)[0].record_id, together);
  EXPECT_TRUE((*exact)[0].exact);
}

TEST_F(RegistryTest, RegisterNumbersAndOfficerAmendments) {
  auto n = MakeNode("n", "22333");
  Registry r(*n, Lang::kEnglish);
  GeneratorOptions o;
  o.communes = {"22333"};
  o.records = 60;
  std::vector<std::string> expected;
  Json birth;
  GenerateRecords(o, [&](const std::string& line) {
    auto j = ParseJson(line, nullptr);
    if (birth.is_null() && j->Find("type")->as_string() == "birth") birth = *j;
  });
  ASSERT_FALSE(birth.is_null());
  // A new registration: only the data; the node numbers it.
  Json line = Json::MakeObject();
  line.Set("data", *birth.Find("data"));
  line.Set("registered_at", *birth.Find("registered_at"));
  auto id1 = r.Register("birth", line);
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  const std::string year = birth.Find("registered_at")->as_string().substr(0, 4);
  EXPECT_EQ(*id1, "22333-KS-" + year + "-000001");
  // The same child again: one birth registration per child, and the
  // refusal burns no number.
  auto again = r.Register("birth", line);
  EXPECT_EQ(again.status().reason(), "child_already_registered") << again.status().ToString();
  EXPECT_NE(again.status().message().find(*id1), std::string::npos) << again.status().ToString();
  const std::string child_id = JsonAt(line, "data.child.personal_id")->as_string();
  SetJsonAt(&line, "data.child.personal_id", Json(child_id.substr(0, 6) + "999999"));
  auto id2 = r.Register("birth", line);
  ASSERT_TRUE(id2.ok()) << id2.status().ToString();
  EXPECT_EQ(*id2, "22333-KS-" + year + "-000002");
  // Refusals name the class and the field.
  Json bad = line;
  SetJsonAt(&bad, "data.child.birth_date", Json("2025-02-30"));
  auto refused = r.Register("birth", bad);
  EXPECT_EQ(refused.status().reason(), "date_invalid");
  EXPECT_NE(refused.status().message().find("data.child.birth_date"), std::string::npos);
  EXPECT_EQ(r.Register("note", line).status().reason(), "unknown_type");
  // Amendments: validated, immutable fields refused, version counted.
  ASSERT_TRUE(r.Amend(*id1, {{"data.notes", "checked"}}, "verified", "").ok());
  EXPECT_EQ(r.Amend(*id1, {{"book.entry_no", "9"}}, "", "").reason(), "immutable_field");
  EXPECT_EQ(r.Amend(*id1, {{"data.child.given_name", "An2"}}, "", "").reason(),
            "name_invalid_chars");
  auto rec = n->GetRecord(*id1);
  EXPECT_EQ(rec->state.Field("version")->Winner()->value, crdt::Value::Int(2));
  EXPECT_EQ(rec->state.Field("data.notes")->Winner()->value, crdt::Value::String("checked"));
}

TEST_F(RegistryTest, LeasedBlocksKeepTwoOfflineNodesApart) {
  auto hub = MakeNode("h", "56", /*hub=*/true);
  auto primary = MakeNode("p", "22333");
  auto secondary = MakeNode("s", "22333", /*hub=*/false, /*secondary=*/true);
  // Enrolled: a receiver takes a lease from the node whose certificate
  // names it the commune's primary (register-numbers.md).
  node::Enrol(*hub, *primary);
  node::Enrol(*hub, *secondary);
  Registry rp(*primary, Lang::kEnglish), rs(*secondary, Lang::kEnglish);
  // The secondary has no numbers until it gets a lease.
  EXPECT_EQ(rs.NextEntry("22333", "KS", 2026).status().reason(), "E_NO_NUMBERS");
  auto first = rp.GrantLease(secondary->info().id.Hex(), "KS", 2026, 5);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // The lease reaches the secondary as data (here: through the hub).
  node::Ingest(*hub, node::Envelopes(*primary));
  node::Ingest(*secondary, node::Envelopes(*hub));
  std::set<int64_t> used;
  for (int i = 0; i < 5; ++i) {
    auto e = rs.NextEntry("22333", "KS", 2026);
    ASSERT_TRUE(e.ok());
    EXPECT_GE(*e, *first);
    EXPECT_LE(*e, *first + 4);
    // Use it: a record with that number.
    char id[40];
    std::snprintf(id, sizeof id, "22333-KS-2026-%06lld", static_cast<long long>(*e));
    ASSERT_TRUE(secondary->CreateRecord(id, "birth", "", {}).ok());
    EXPECT_TRUE(used.insert(*e).second);
  }
  EXPECT_EQ(rs.NextEntry("22333", "KS", 2026).status().reason(), "E_NO_NUMBERS");  // block used up
  // The primary numbers around the block.
  for (int i = 0; i < 8; ++i) {
    auto e = rp.NextEntry("22333", "KS", 2026);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(used.insert(*e).second) << "number " << *e << " handed out twice";
    char id[40];
    std::snprintf(id, sizeof id, "22333-KS-2026-%06lld", static_cast<long long>(*e));
    ASSERT_TRUE(primary->CreateRecord(id, "birth", "", {}).ok());
  }
}

TEST_F(RegistryTest, UpgradeFromSchemaOneIndexesExistingRecords) {
  const std::string dir = (root_ / "old").string();
  // The statistics per type and month, as one line each.
  auto stats = [](node::Node& n) {
    report::StatsOptions o;
    o.by_type = o.by_month = true;
    auto rows = report::Stats(n, o);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::string out;
    for (const auto& r : rows.ok() ? *rows : std::vector<report::StatsRow>{})
      out += r.type + " " + r.period + " " + std::to_string(r.count) + " " +
             std::to_string(r.revoked) + " " + std::to_string(r.invalid) + " " +
             std::to_string(r.fines) + " " + std::to_string(r.fines_issued_vnd) + "\n";
    return out;
  };
  std::string before;
  {
    auto n = MakeNode("old", "22333");
    Registry r(*n, Lang::kEnglish);
    GeneratorOptions o;
    o.communes = {"22333"};
    o.records = 50;
    std::vector<std::string> expected;
    RunImport(r, Generate(o, &expected));
    before = stats(*n);
    EXPECT_NE(before, "");
    // Back to what a version-1 store looked like.
    ASSERT_TRUE(
        store::TestAccess::Db(n->store())
            .Exec("DROP TABLE peer_heads; DROP TABLE peers; DROP TABLE trust_objects; "
                  "DROP TABLE refusals; DROP TABLE record_search; "
                  "DROP INDEX records_scope; DROP INDEX feeds_scope; "
                  "DROP TABLE scope_counts; DROP INDEX records_stats_odd; "
                  "DROP INDEX records_event_date; ALTER TABLE records DROP COLUMN event_date; "
                  "DROP INDEX records_invalid; ALTER TABLE records DROP COLUMN invalid; "
                  "ALTER TABLE records DROP COLUMN invalid_field; "
                  "ALTER TABLE records DROP COLUMN invalid_history; "
                  "DROP TABLE person_index; DROP TABLE person_conflicts; DROP TABLE officers; "
                  "DROP TABLE receipts; DROP TABLE hub_rollbacks; "
                  "DROP TABLE recon_leaves; "
                  "DROP INDEX records_duplicate_key; "
                  "ALTER TABLE records DROP COLUMN duplicate_key; "
                  "DROP TABLE stats_totals; ALTER TABLE records DROP COLUMN fine_vnd; "
                  "ALTER TABLE records DROP COLUMN fine_paid_vnd; "
                  "DELETE FROM meta WHERE key IN ('reindex', 'stats_rebuild'); "
                  "PRAGMA user_version = 1;")
            .ok());
  }
  auto n = node::Node::Open(dir, node::TestOptions());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  Registry r(**n, Lang::kEnglish);
  auto hits = r.Search("22333-KS-2025-000001", "", "", "");
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_FALSE(hits->front().date.empty());
  // Dates and fines read again from the states: the same statistics.
  EXPECT_EQ(stats(**n), before);
}

}  // namespace
}  // namespace tuphap::domain
