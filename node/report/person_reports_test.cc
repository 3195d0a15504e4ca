// The hub's reports of person conflicts (issue 13): a child registered at
// two communes, each accepted where it was registered because neither saw
// the other, meets the other at the hub. The hub keeps both and lists the
// pair (report conflicts), counts it per commune (report status), counts the
// child once in the statistics and says the later registration is held back
// — and a revocation of either record settles it. The same records are
// possible duplicates of a third birth with the same names and another ID,
// which nothing blocks.
#include <gtest/gtest.h>

#include <map>

#include "node/domain/record_json.h"
#include "node/domain/registry.h"
#include "node/report/reports.h"
#include "node/test_nodes.h"

namespace tuphap::node {
namespace {

using domain::Lang;
using domain::Registry;

// A birth as an officer enters it (tuphap generate --commune 18568 --seed 5):
// the node fills in the commune, the record id and the entry number.
constexpr const char* kBirth =
    R"json({"registered_at":"2026-01-08","version":1,"data":{"child":{"family_name":"Huỳnh","middle_name":"Ngọc","given_name":"Mai","full_name":"Huỳnh Ngọc Mai","sex":"F","birth_date":"2025-12-12","ethnicity":"Kinh","nationality":"VN","personal_id":"042325824874","residence":"Thôn 15, Xã Lộc Hà, Tỉnh Hà Tĩnh","birth_place":"Trạm Y tế Xã Lộc Hà, Tỉnh Hà Tĩnh","native_place":"Xã Lộc Hà, Tỉnh Hà Tĩnh"},"mother":{"full_name":"Mai Ngọc Ngọc","family_name":"Mai","middle_name":"Ngọc","given_name":"Ngọc","birth_year":2001,"ethnicity":"Khmer","nationality":"VN","residence":"Thôn 19, Xã Lộc Hà, Tỉnh Hà Tĩnh","personal_id":"042301223900"},"declarant":{"full_name":"Mai Ngọc Ngọc","personal_id":"042301223900","relationship":"Mẹ"},"registrar":"Phạm Quốc Hưng","notes":""}})json";
constexpr const char* kChild = "042325824874";
constexpr const char* kOtherChild = "042325000001";  // same names and birth date

constexpr const char* kFirst = "18568-KS-2026-000001";  // the child, at 18568 on 2026-01-08
constexpr const char* kTwin = "18568-KS-2026-000002";   // another ID, the same names
constexpr const char* kLater = "18073-KS-2026-000001";  // the child again, at 18073 on 2026-01-10

class PersonReportsTest : public NodesTest {
 protected:
  static std::string Register(Node& n, const std::string& registered_at,
                              const std::string& child_id) {
    auto doc = ParseJson(kBirth, nullptr);
    EXPECT_TRUE(doc.has_value());
    domain::SetJsonAt(&*doc, "registered_at", Json(registered_at));
    domain::SetJsonAt(&*doc, "data.child.personal_id", Json(child_id));
    auto id = Registry(n, Lang::kEnglish).Register("birth", *doc);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  // The hub and one node of each commune, each commune registering the
  // child, the hub receiving both.
  void SetUpCommunes() {
    hub_ = Make("hub", Role::kHub);
    a_ = Make("a", Role::kCommune, kCommune);
    b_ = Make("b", Role::kCommune, kOtherCommune);
    Enrol(*hub_, *a_);
    Enrol(*hub_, *b_);
    ASSERT_EQ(Register(*a_, "2026-01-08", kChild), kFirst);
    ASSERT_EQ(Register(*a_, "2026-01-08", kOtherChild), kTwin);
    // Commune b has never seen a's record: its registration is accepted.
    ASSERT_EQ(Register(*b_, "2026-01-10", kChild), kLater);
    Ingest(*hub_, Envelopes(*a_));
    Ingest(*hub_, Envelopes(*b_));
  }

  // Statistics per commune (all types and periods together).
  static std::map<std::string, report::StatsRow> StatsByCommune(Node& n) {
    report::StatsOptions o;
    o.by_type = o.by_month = false;
    auto rows = report::Stats(n, o);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::map<std::string, report::StatsRow> out;
    for (auto& r : rows.ok() ? *rows : std::vector<report::StatsRow>{}) out[r.commune] = r;
    return out;
  }
  static std::map<std::string, report::CommuneStatusRow> StatusByCommune(Node& n) {
    auto status = report::StatusOf(n);
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    std::map<std::string, report::CommuneStatusRow> out;
    if (status.ok()) {
      for (auto& c : status->communes) out[c.commune] = c;
    }
    return out;
  }
  static std::vector<store::PersonConflictRow> Conflicts(Node& n, std::string_view scope = {}) {
    auto rows = report::PersonConflicts(n, scope);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<store::PersonConflictRow>{};
  }

  std::unique_ptr<Node> hub_, a_, b_;
};

TEST_F(PersonReportsTest, AChildRegisteredTwiceIsListedCountedOnceAndSettledByRevokingTheLater) {
  SetUpCommunes();
  if (HasFatalFailure()) return;

  // Listed: the child's ID, the rule, the later registration and the first.
  const auto listed = Conflicts(*hub_);
  ASSERT_EQ(listed.size(), 1u);
  const store::PersonConflictRow& c = listed[0];
  EXPECT_EQ(c.personal_id, kChild);
  EXPECT_EQ(c.rule, "child_already_registered");
  EXPECT_EQ(c.record_id, kLater);
  EXPECT_EQ(c.scope, kOtherCommune);
  EXPECT_EQ(c.type, "birth");
  EXPECT_EQ(c.date, "2026-01-10");
  EXPECT_EQ(c.other_id, kFirst);
  EXPECT_EQ(c.other_scope, kCommune);
  EXPECT_EQ(c.other_type, "birth");
  EXPECT_EQ(c.other_date, "2026-01-08");
  // Under each commune it touches; neither commune node sees it (each holds
  // only its own records).
  EXPECT_EQ(Conflicts(*hub_, kCommune).size(), 1u);
  EXPECT_EQ(Conflicts(*hub_, kOtherCommune).size(), 1u);
  EXPECT_TRUE(Conflicts(*a_).empty());
  EXPECT_TRUE(Conflicts(*b_).empty());

  // Status: one open person conflict in each commune, no field conflict.
  auto status = StatusByCommune(*hub_);
  ASSERT_EQ(status.count(kCommune), 1u);
  ASSERT_EQ(status.count(kOtherCommune), 1u);
  EXPECT_EQ(status[kCommune].person_conflicts, 1u);
  EXPECT_EQ(status[kOtherCommune].person_conflicts, 1u);
  EXPECT_EQ(status[kCommune].conflicts, 0u);
  EXPECT_EQ(status[kCommune].records, 2u);
  EXPECT_EQ(status[kOtherCommune].records, 1u);

  // Statistics: the child once (the first registration), the later one held
  // back; the other child with the same names counts.
  auto stats = StatsByCommune(*hub_);
  EXPECT_EQ(stats[kCommune].count, 2u);
  EXPECT_EQ(stats[kCommune].held_back, 0u);
  EXPECT_EQ(stats[kOtherCommune].count, 0u);
  EXPECT_EQ(stats[kOtherCommune].held_back, 1u);
  EXPECT_EQ(stats[kOtherCommune].revoked, 0u);
  report::StatsOptions all;
  all.by_commune = all.by_type = all.by_month = false;
  auto total = report::Stats(*hub_, all);
  ASSERT_TRUE(total.ok());
  ASSERT_EQ(total->size(), 1u);
  EXPECT_EQ(total->front().count, 2u);
  EXPECT_EQ(total->front().held_back, 1u);
  // Commune b has no conflict in view: its registration counts there.
  EXPECT_EQ(StatsByCommune(*b_)[kOtherCommune].count, 1u);

  // Possible duplicates: the three births share names, birth date and
  // parents, under two IDs — one group, with the names as written.
  auto groups = report::Duplicates(*hub_, "", 10);
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 1u);
  const auto& members = groups->front().members;
  ASSERT_EQ(members.size(), 3u);
  std::map<std::string, std::string> ids;
  for (const auto& m : members) {
    ids[m.record_id] = m.personal_id;
    EXPECT_EQ(m.type, "birth");
    EXPECT_EQ(m.full_name, "Huỳnh Ngọc Mai");
    EXPECT_EQ(m.birth_date, "2025-12-12");
    EXPECT_EQ(m.mother, "Mai Ngọc Ngọc");
  }
  EXPECT_EQ(ids, (std::map<std::string, std::string>{
                     {kFirst, kChild}, {kTwin, kOtherChild}, {kLater, kChild}}));
  auto in_b = report::Duplicates(*hub_, kOtherCommune, 10);
  ASSERT_TRUE(in_b.ok());
  EXPECT_EQ(in_b->size(), 1u);
  auto none = report::Duplicates(*hub_, "18100", 10);  // a commune with none of them
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(report::Duplicates(*hub_, "99999", 10).status().code(), StatusCode::kInvalidArgument);
  auto at_a = report::Duplicates(*a_, "", 10);
  ASSERT_TRUE(at_a.ok());
  ASSERT_EQ(at_a->size(), 1u);
  EXPECT_EQ(at_a->front().members.size(), 2u);

  // Commune b's officer revokes its registration; the hub learns of it.
  ASSERT_TRUE(b_->Revoke(kLater, "the child was registered at 18568 first", kOtherCommune).ok());
  Ingest(*hub_, Envelopes(*b_));
  EXPECT_TRUE(Conflicts(*hub_).empty());
  status = StatusByCommune(*hub_);
  EXPECT_EQ(status[kCommune].person_conflicts, 0u);
  EXPECT_EQ(status[kOtherCommune].person_conflicts, 0u);
  stats = StatsByCommune(*hub_);
  EXPECT_EQ(stats[kCommune].count, 2u);
  EXPECT_EQ(stats[kOtherCommune].count, 0u);
  EXPECT_EQ(stats[kOtherCommune].held_back, 0u);
  EXPECT_EQ(stats[kOtherCommune].revoked, 1u);
  groups = report::Duplicates(*hub_, "", 10);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ(groups->front().members.size(), 2u);  // a revoked record is no candidate
}

TEST_F(PersonReportsTest, RevokingTheFirstRegistrationCountsTheLaterOne) {
  SetUpCommunes();
  if (HasFatalFailure()) return;
  ASSERT_EQ(Conflicts(*hub_).size(), 1u);
  // The hub revokes the first: the one registered in error, as it turns out.
  ASSERT_TRUE(hub_->Revoke(kFirst, "registered under the wrong commune", kCommune).ok());
  EXPECT_TRUE(Conflicts(*hub_).empty());
  auto stats = StatsByCommune(*hub_);
  EXPECT_EQ(stats[kCommune].count, 1u);  // the other child
  EXPECT_EQ(stats[kCommune].revoked, 1u);
  EXPECT_EQ(stats[kOtherCommune].count, 1u);
  EXPECT_EQ(stats[kOtherCommune].held_back, 0u);
  EXPECT_EQ(StatusByCommune(*hub_)[kOtherCommune].person_conflicts, 0u);
}

}  // namespace
}  // namespace tuphap::node
