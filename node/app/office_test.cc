// The application layer on real stores: the writes a front end makes and
// what it reads back — record page, history with the acting officer,
// conflicts and their resolution, search pages, person and home pages.
#include "node/app/office.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/test_keys.h"
#include "node/test_nodes.h"

namespace tuphap::app {
namespace {

using node::Role;

class OfficeTest : public node::NodesTest {
 protected:
  std::unique_ptr<Office> MakeOffice(const std::string& name, Role role = Role::kCommune,
                                     const std::string& commune = kCommune) {
    return std::make_unique<Office>(Make(name, role, commune), domain::Lang::kEnglish);
  }
  // Valid records of `commune` from the generator, all registered on the
  // clock's day (2025-07-01), by type.
  std::map<std::string, std::vector<Json>> Generated(const std::string& commune, int records) {
    domain::GeneratorOptions o;
    o.seed = 5;
    o.communes = {commune};
    o.records = records;
    o.from = o.to = "2025-07-01";
    std::map<std::string, std::vector<Json>> out;
    domain::GenerateRecords(o, [&](const std::string& line) {
      auto j = ParseJson(line, nullptr);
      ASSERT_TRUE(j.has_value());
      out[j->Find("type")->as_string()].push_back(*j);
    });
    return out;
  }
  // A create line of `generated` with only its data and date: the node
  // numbers it.
  static Json NewLine(const Json& generated) {
    Json line = Json::MakeObject();
    line.Set("data", *generated.Find("data"));
    line.Set("registered_at", *generated.Find("registered_at"));
    return line;
  }
  static std::string Text(const store::RecordView& r, const std::string& field) {
    const crdt::MvRegister* reg = r.state.Field(field);
    return reg != nullptr && reg->Winner() != nullptr ? reg->Winner()->value.ToDisplay() : "";
  }
};

TEST_F(OfficeTest, WritesCarryTheActingOfficerAndTheRecordPageShowsThem) {
  auto office = MakeOffice("c");
  office->set_officer("Trần Thị Lan");
  auto births = Generated(kCommune, 40)["birth"];
  ASSERT_GE(births.size(), 2u);
  auto reg = office->Register("birth", NewLine(births[0]));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(reg->id, std::string(kCommune) + "-KS-2025-000001");
  EXPECT_FALSE(reg->marital.has_value());  // only a marital-status confirmation has one

  // A commune node registers only into its own books.
  auto elsewhere = office->Register("birth", NewLine(births[1]), kOtherCommune);
  EXPECT_EQ(elsewhere.status().code(), StatusCode::kInvalidArgument);
  // Refusals come back with their class.
  Json bad = NewLine(births[1]);
  domain::SetJsonAt(&bad, "data.child.birth_date", Json("2025-02-30"));
  EXPECT_EQ(office->Register("birth", bad).status().reason(), "date_invalid");

  // The web changes the officer per request: the next change carries it.
  clock_.Advance(60'000);
  office->set_officer("Lê Văn Hùng");
  ASSERT_TRUE(office->Amend(reg->id, {{"data.notes", "<script>x</script>"}}, "checked").ok());
  EXPECT_EQ(office->Amend(reg->id, {{"book.entry_no", "9"}}, "").reason(), "immutable_field");

  auto page = office->Record(reg->id);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->record.record_id, reg->id);
  EXPECT_EQ(page->record.scope, kCommune);
  EXPECT_EQ(Text(page->record, "data.notes"), "<script>x</script>");
  ASSERT_EQ(page->history.size(), 2u);
  EXPECT_EQ(page->history[0].officer, "Trần Thị Lan");
  EXPECT_EQ(page->history[1].officer, "Lê Văn Hùng");
  EXPECT_EQ(page->history[1].reason, "checked");
  ASSERT_EQ(page->history[1].ops.size(), 2u);  // the note and the version
  EXPECT_TRUE(page->conflicts.empty());
  EXPECT_TRUE(page->person_conflicts.empty());
  EXPECT_TRUE(page->flag_message.empty());

  ASSERT_TRUE(office->Revoke(reg->id, "registered by mistake").ok());
  auto revoked = office->GetRecord(reg->id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->state.Revoked());
  EXPECT_EQ(office->Record("18568-KS-2025-999999").status().code(), StatusCode::kNotFound);
}

TEST_F(OfficeTest, ConcurrentCorrectionsShowOnTheRecordPageUntilResolved) {
  auto hub = MakeOffice("h", Role::kHub);
  auto commune = MakeOffice("c");
  node::Enrol(hub->node(), commune->node());
  hub->set_officer("Sở Tư pháp");
  commune->set_officer("Lan");
  auto births = Generated(kCommune, 40)["birth"];
  auto reg = commune->Register("birth", NewLine(births[0]));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  node::Ingest(hub->node(), node::Envelopes(commune->node(), kCommune));

  // The same name corrected at both ends before either sees the other's.
  auto rec = commune->GetRecord(reg->id);
  ASSERT_TRUE(rec.ok());
  const std::string family = Text(*rec, "data.child.family_name");
  const std::string middle = Text(*rec, "data.child.middle_name");
  auto full = [&](const std::string& given) {
    return family + (middle.empty() ? "" : " " + middle) + " " + given;
  };
  clock_.Advance(1000);
  ASSERT_TRUE(
      commune
          ->Amend(reg->id,
                  {{"data.child.given_name", "Bình"}, {"data.child.full_name", full("Bình")}},
                  "the family asked")
          .ok());
  Status at_hub = hub->Amend(
      reg->id, {{"data.child.given_name", "Khoa"}, {"data.child.full_name", full("Khoa")}},
      "the certificate says Khoa", kCommune);
  ASSERT_TRUE(at_hub.ok()) << at_hub.ToString();
  node::Ingest(hub->node(), node::Envelopes(commune->node(), kCommune));
  node::Ingest(commune->node(), node::Envelopes(hub->node(), kCommune));

  auto page = commune->Record(reg->id);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::map<std::string, std::vector<node::EntryView>> conflicts(page->conflicts.begin(),
                                                                page->conflicts.end());
  ASSERT_EQ(conflicts.count("data.child.given_name"), 1u);
  const auto& values = conflicts["data.child.given_name"];
  ASSERT_EQ(values.size(), 2u);
  std::set<std::string> who, what;
  for (const auto& v : values) {
    who.insert(v.officer);
    what.insert(v.value.ToDisplay());
  }
  EXPECT_EQ(who, (std::set<std::string>{"Lan", "Sở Tư pháp"}));
  EXPECT_EQ(what, (std::set<std::string>{"Bình", "Khoa"}));
  auto report = commune->Conflicts();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->fields.empty());
  auto home = commune->HomePage();
  ASSERT_TRUE(home.ok());
  EXPECT_GT(home->open_conflicts, 0u);

  // Resolving each field closes the conflict; the history says who did.
  // Each field is settled on the value shown (one change won both), so the
  // names stay consistent after each step.
  const std::string shown = Text(page->record, "data.child.given_name");
  ASSERT_TRUE(shown == "Bình" || shown == "Khoa") << shown;
  commune->set_officer("Head Officer");
  for (const auto& [field, v] : page->conflicts) {
    const std::string keep = field == "data.child.given_name" ? shown : full(shown);
    Status s = commune->Resolve(reg->id, field, keep, "as on the certificate");
    ASSERT_TRUE(s.ok()) << field << ": " << s.ToString();
  }
  auto after = commune->Record(reg->id);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->conflicts.empty());
  EXPECT_EQ(Text(after->record, "data.child.given_name"), shown);
  EXPECT_EQ(after->history.back().officer, "Head Officer");
  auto home_after = commune->HomePage();
  ASSERT_TRUE(home_after.ok());
  EXPECT_EQ(home_after->open_conflicts, 0u);
}

TEST_F(OfficeTest, SearchPagesAddUpToTheWholeList) {
  auto office = MakeOffice("c");
  auto births = Generated(kCommune, 60)["birth"];
  ASSERT_GE(births.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    auto r = office->Register("birth", NewLine(births[i]));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto all = office->Search("KS", "", "", "", 0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->hits.size(), 7u);
  EXPECT_FALSE(all->more);
  std::vector<std::string> paged;
  size_t offset = 0;
  for (;;) {
    auto page = office->Search("KS", "", "", "", offset, 3);
    ASSERT_TRUE(page.ok());
    for (const auto& h : page->hits) paged.push_back(h.record_id);
    offset += 3;
    if (!page->more) break;
    ASSERT_EQ(page->hits.size(), 3u);
  }
  std::vector<std::string> whole;
  for (const auto& h : all->hits) whole.push_back(h.record_id);
  EXPECT_EQ(paged, whole);
  EXPECT_TRUE(office->Search("KS", "", "", "", 50, 3)->hits.empty());
  EXPECT_EQ(office->Search("  ", "", "", "", 0, 3).status().code(), StatusCode::kInvalidArgument);
}

// A page is what a search for that many gives (the CLI's --limit), even when
// the one extra hit fetched to learn of more would rank first.
TEST_F(OfficeTest, SearchPageEqualsASearchForThatMany) {
  auto office = MakeOffice("c", Role::kCommune, "22333");
  auto birth = [&](const std::string& child, const std::string& sex, const std::string& id,
                   const std::string& mother) {
    auto line =
        ParseJson(R"({"registered_at":"2025-07-01","data":{"child":{"family_name":"Nguyễn",)"
                  R"("given_name":"Hồng","full_name":")" +
                      child + R"(","sex":")" + sex +
                      R"(","birth_date":"2025-06-20","birth_place":"Trạm Y tế",)"
                      R"("ethnicity":"Kinh","nationality":"VN","personal_id":")" +
                      id + R"("},"mother":{"full_name":")" + mother +
                      R"("},"declarant":{"full_name":"Trần Văn Bình"}}})",
                  nullptr);
    std::string middle = child.substr(child.find(' ') + 1);
    middle = middle.substr(0, middle.find(' '));
    line->Find("data")->Find("child")->Set("middle_name", middle);
    auto r = office->Register("birth", std::move(*line));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : std::string();
  };
  const std::string scattered = birth("Nguyễn Văn Hồng", "M", "056225000124", "Lê Thị Mai");
  const std::string together = birth("Nguyễn Thị Hồng", "F", "056325000123", "Đỗ Thị Lan");
  auto both = office->Search("nguyen thi hong", "", "", "", 0, 10);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->hits.size(), 2u);
  EXPECT_EQ(both->hits[0].record_id, together);  // the words together rank first
  auto one = office->Search("nguyen thi hong", "", "", "", 0, 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->hits.size(), 1u);
  EXPECT_TRUE(one->more);
  domain::Registry registry(office->node(), domain::Lang::kEnglish);
  auto direct = registry.Search("nguyen thi hong", "", "", "", 1);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(direct->size(), 1u);
  EXPECT_EQ(one->hits[0].record_id, (*direct)[0].record_id);
  EXPECT_EQ(one->hits[0].record_id, scattered);  // the latest-first row the store gives first
}

TEST_F(OfficeTest, PersonAndHomePages) {
  auto office = MakeOffice("c");
  auto births = Generated(kCommune, 40)["birth"];
  auto reg = office->Register("birth", NewLine(births[0]));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(office->Today(), "2025-07-01");

  const std::string child = domain::JsonAt(births[0], "data.child.personal_id")->as_string();
  auto person = office->Person(child);
  ASSERT_TRUE(person.ok()) << person.status().ToString();
  EXPECT_EQ(person->on, "2025-07-01");
  ASSERT_EQ(person->records.size(), 1u);
  EXPECT_EQ(person->records[0].record_id, reg->id);
  EXPECT_EQ(person->marital.status, "never_married");
  EXPECT_FALSE(person->cut);
  EXPECT_EQ(office->Person("12345").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(office->Person(child, "2025-13-01").status().code(), StatusCode::kInvalidArgument);

  auto home = office->HomePage();
  ASSERT_TRUE(home.ok()) << home.status().ToString();
  EXPECT_EQ(home->today, "2025-07-01");
  EXPECT_EQ(home->registered_today, 1u);
  EXPECT_EQ(home->own_changes, 1u);
  EXPECT_EQ(home->waiting_to_sync, 1u);  // never synced: all of it waits
  EXPECT_EQ(home->last_sync_ms, 0);
  EXPECT_EQ(home->open_conflicts, 0u);
  EXPECT_TRUE(home->peers.empty());

  auto schemas = Office::Schemas("birth");
  ASSERT_TRUE(schemas.ok());
  ASSERT_FALSE(schemas->empty());
  EXPECT_EQ((*schemas)[0]->type, "birth");
  EXPECT_EQ(Office::Schemas("note").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OfficeTest, NamesOfCodesComeFromTheReferenceData) {
  // The hub console shows names beside codes; a code that is not one shows
  // no name rather than a wrong one.
  EXPECT_EQ(Office::CommuneName("22333"), "Phường Bắc Nha Trang");
  EXPECT_EQ(Office::ProvinceName("56"), "Tỉnh Khánh Hòa");
  EXPECT_EQ(Office::CommuneName("99999"), "");
  EXPECT_EQ(Office::CommuneName(""), "");
  EXPECT_EQ(Office::ProvinceName("00"), "");
}

// A long-lived office (the web app's, beside `serve`) while another process
// enrols the node: its next write is sealed, not a draft after sealed
// changes that would never leave the node.
TEST_F(OfficeTest, ALongLivedOfficeWritesSealedAfterAnotherProcessEnrolsTheNode) {
  auto hub = Make("hub", Role::kHub);
  auto office = MakeOffice("c");
  auto births = Generated(kCommune, 40)["birth"];
  ASSERT_GE(births.size(), 2u);
  auto first = office->Register("birth", NewLine(births[0]));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto before = office->GetNodeStatus();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->security.drafts, 1u) << "before enrolment a write is a draft";
  {
    auto other = Open("c");  // another process: enroll accept seals the drafts
    node::Enrol(*hub, *other);
  }
  auto second = office->Register("birth", NewLine(births[1]));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto after = office->GetNodeStatus();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->security.drafts, 0u) << "the write after enrolment must be sealed";
  EXPECT_TRUE(after->security.enrolled);
}

}  // namespace
}  // namespace tuphap::app
