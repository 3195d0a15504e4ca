// The register's person rules at registration (issue 13, item 2): each rule
// refuses the registration that would break it, with its class and a
// message naming the other record in English and Vietnamese; revoked
// records do not count; a record without a personal ID is never linked; a
// dissolution or a spouse's death ends a marriage; an amendment that would
// make a collision is refused like a registration; a marital-status
// confirmation states what the records show.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "node/domain/importer.h"
#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/domain/registry.h"
#include "node/test_nodes.h"

namespace tuphap::node {
namespace {

using domain::Lang;
using domain::Registry;

class PersonRulesTest : public NodesTest {
 protected:
  void SetUp() override {
    NodesTest::SetUp();
    node_ = Make("n");
    en_ = std::make_unique<Registry>(*node_, Lang::kEnglish);
    vi_ = std::make_unique<Registry>(*node_, Lang::kVietnamese);
    // Real people from the generator: every line valid, IDs consistent
    // with each person's sex and birth year.
    domain::GeneratorOptions o;
    o.seed = 13;
    o.communes = {kCommune};
    o.records = 400;
    domain::GenerateRecords(o, [&](const std::string& line) {
      auto j = ParseJson(line, nullptr);
      ASSERT_TRUE(j.has_value());
      pool_[j->Find("type")->as_string()].push_back(*j->Find("data"));
    });
    for (const char* t : {"birth", "death", "marriage", "marital_status_confirmation"})
      ASSERT_GE(pool_[t].size(), 6u) << t;
  }

  // The data of the i-th generated record of `type`.
  Json Data(const std::string& type, size_t i) { return pool_.at(type).at(i); }
  static const Json& At(const Json& data, const std::string& path) {
    const Json* v = domain::JsonAt(data, path);
    EXPECT_NE(v, nullptr) << path;
    static const Json kNull;
    return v != nullptr ? *v : kNull;
  }
  static std::string IdOf(const Json& data, const std::string& block) {
    return At(data, block + ".personal_id").as_string();
  }

  // Registers `data` on `date` (YYYY-MM-DD); the id, or the refusal.
  Result<std::string> Register(const std::string& type, Json data, const std::string& date,
                               Registry* r = nullptr) {
    Json line = Json::MakeObject();
    line.Set("data", std::move(data));
    line.Set("registered_at", date);
    return (r != nullptr ? r : en_.get())->Register(type, std::move(line));
  }
  std::string MustRegister(const std::string& type, Json data, const std::string& date) {
    auto id = Register(type, std::move(data), date);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
  // The refusal's class, checked to name `other` in both languages.
  void ExpectRefused(const std::string& type, const Json& data, const std::string& date,
                     const std::string& rule, const std::string& other, const char* vi_words) {
    auto en = Register(type, data, date);
    ASSERT_FALSE(en.ok()) << "registered as " << *en;
    EXPECT_EQ(en.status().reason(), rule) << en.status().ToString();
    EXPECT_NE(en.status().message().find(other), std::string::npos) << en.status().ToString();
    auto vi = Register(type, data, date, vi_.get());
    ASSERT_FALSE(vi.ok());
    EXPECT_EQ(vi.status().reason(), rule);
    EXPECT_NE(vi.status().message().find(other), std::string::npos) << vi.status().ToString();
    EXPECT_NE(vi.status().message().find(vi_words), std::string::npos) << vi.status().ToString();
  }
  // A death of the person in `person` (a full person block) on `day`.
  Json DeathOf(const Json& person, const std::string& day, size_t template_index = 0) {
    Json d = Data("death", template_index);
    d.Set("deceased", person);
    d.Set("death_datetime", day + "T08:30");
    if (const Json* notice = d.Find("death_notice"); notice != nullptr && notice->is_object())
      domain::SetJsonAt(&d, "death_notice.date", Json(day));
    return d;
  }
  // A marriage of the husband of marriage `h` and the wife of marriage `w`.
  Json MarriageOf(size_t h, size_t w) {
    Json d = Data("marriage", h);
    d.Set("wife", At(Data("marriage", w), "wife"));
    return d;
  }
  std::vector<store::PersonConflictRow> PersonConflicts() {
    auto c = node_->store().PersonConflicts();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::vector<store::PersonConflictRow>{};
  }

  std::unique_ptr<Node> node_;
  std::unique_ptr<Registry> en_, vi_;
  std::map<std::string, std::vector<Json>> pool_;
};

TEST_F(PersonRulesTest, AChildHasOneBirthRegistrationUntilTheFirstIsRevoked) {
  const Json birth = Data("birth", 0);
  const std::string first = MustRegister("birth", birth, "2026-07-01");
  ExpectRefused("birth", birth, "2026-07-02", "child_already_registered", first,
                "đã được đăng ký khai sinh");
  // The refusals took no number: the next birth is entry 2.
  EXPECT_EQ(MustRegister("birth", Data("birth", 1), "2026-07-02"), "18568-KS-2026-000002");
  // An amendment giving another child this child's ID is refused the same way.
  const std::string second = "18568-KS-2026-000002";
  Status amend = en_->Amend(second, {{"data.child.personal_id", IdOf(birth, "child")}}, "typo");
  EXPECT_EQ(amend.reason(), "child_already_registered") << amend.ToString();
  // Other fields of a record stay amendable.
  EXPECT_TRUE(en_->Amend(second, {{"data.notes", "hồ sơ gốc"}}, "note").ok());
  // Revoked records do not count: the child can be registered again.
  ASSERT_TRUE(node_->Revoke(first, "registered twice on paper").ok());
  EXPECT_TRUE(Register("birth", birth, "2026-07-03").ok());
  EXPECT_TRUE(PersonConflicts().empty());
}

TEST_F(PersonRulesTest, APersonDiesOnceAndNoDeadPersonMarries) {
  const Json husband = At(Data("marriage", 0), "husband");
  const std::string death = MustRegister("death", DeathOf(husband, "2026-07-01"), "2026-07-02");
  ExpectRefused("death", DeathOf(husband, "2026-07-01", 1), "2026-07-03",
                "death_already_registered", death, "đã được đăng ký khai tử");
  // Married after the recorded death: refused, naming the death.
  ExpectRefused("marriage", Data("marriage", 0), "2026-07-05", "person_deceased", death,
                "đã chết ngày 2026-07-01");
  // A confirmation for the dead person too.
  Json msc = Data("marital_status_confirmation", 0);
  msc.Set("subject", husband);
  msc.Set("valid_until", "2027-01-01");
  ExpectRefused("marital_status_confirmation", msc, "2026-07-05", "person_deceased", death,
                "đã chết");
  // Deaths of people without a personal ID are never linked.
  Json nameless = DeathOf(At(Data("death", 2), "deceased"), "2026-06-01");
  domain::SetJsonAt(&nameless, "deceased.personal_id", Json());
  MustRegister("death", nameless, "2026-07-06");
  MustRegister("death", nameless, "2026-07-07");
  EXPECT_TRUE(PersonConflicts().empty());
}

TEST_F(PersonRulesTest, AMarriageWhileAnotherStandsIsRefusedUntilItEnds) {
  const std::string m0 = MustRegister("marriage", Data("marriage", 0), "2026-07-01");
  // The husband of m0 marries the wife of marriage 1.
  ExpectRefused("marriage", MarriageOf(0, 1), "2026-07-10", "already_married", m0,
                "đang có vợ hoặc chồng");
  // A confirmation saying the wife never married, or is divorced, while m0 stands.
  const Json wife = At(Data("marriage", 0), "wife");
  Json msc = Data("marital_status_confirmation", 0);
  msc.Set("subject", wife);
  msc.Set("valid_until", "2027-01-01");
  for (const char* stated : {"never_married", "divorced"}) {
    msc.Set("marital_status", stated);
    ExpectRefused("marital_status_confirmation", msc, "2026-07-11", "marital_status_contradicted",
                  m0, "không thể xác nhận");
  }
  // Without a status, the confirmation states what the records show.
  Json asked = msc;
  asked.as_object().erase(std::remove_if(asked.as_object().begin(), asked.as_object().end(),
                                         [](const auto& m) { return m.first == "marital_status"; }),
                          asked.as_object().end());
  Json line = Json::MakeObject();
  line.Set("data", asked);
  line.Set("registered_at", "2026-07-11");
  domain::MaritalRecord shown;
  auto confirmation = en_->Register("marital_status_confirmation", line, {}, &shown);
  ASSERT_TRUE(confirmation.ok()) << confirmation.status().ToString();
  EXPECT_EQ(shown.status, "married");
  ASSERT_EQ(shown.marriages.size(), 1u);
  EXPECT_EQ(shown.marriages[0].record_id, m0);
  EXPECT_EQ(node_->GetRecord(*confirmation)->state.Field("data.marital_status")->Winner()->value,
            crdt::Value::String("married"));
  // The divorce written into m0's entry ends it: the remarriage is accepted.
  ASSERT_TRUE(en_->Amend(m0,
                         {{"data.dissolved_on", "2026-07-15"},
                          {"data.dissolution", "Bản án số 12/2026/HNGĐ-ST"}},
                         "divorce")
                  .ok());
  ExpectRefused("marriage", MarriageOf(0, 1), "2026-07-14", "already_married", m0,
                "đang có vợ hoặc chồng");  // dated before the divorce
  MustRegister("marriage", MarriageOf(0, 1), "2026-07-20");
  EXPECT_TRUE(PersonConflicts().empty());
}

TEST_F(PersonRulesTest, AWidowRemarriesOnceTheSpousesDeathIsOnRecord) {
  const std::string m2 = MustRegister("marriage", Data("marriage", 2), "2026-07-01");
  ExpectRefused("marriage", MarriageOf(2, 3), "2026-08-01", "already_married", m2,
                "đang có vợ hoặc chồng");
  MustRegister("death", DeathOf(At(Data("marriage", 2), "wife"), "2026-07-20"), "2026-07-21");
  MustRegister("marriage", MarriageOf(2, 3), "2026-08-01");
  // On record: the husband's last marriage stands.
  auto shown = domain::MaritalStatusOnRecord(
      IdOf(Data("marriage", 2), "husband"), "2026-08-02",
      [&](std::string_view id) { return node_->store().PersonRows(id, true); });
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->status, "married");
  EXPECT_EQ(shown->marriages.size(), 2u);
  // Between the death and the remarriage he was a widower.
  shown = domain::MaritalStatusOnRecord(
      IdOf(Data("marriage", 2), "husband"), "2026-07-25",
      [&](std::string_view id) { return node_->store().PersonRows(id, true); });
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->status, "widowed");
}

TEST_F(PersonRulesTest, ARecordDatedBeforeTheOneItContradictsIsRefusedSayingSo) {
  // A marriage on record, then a death of the husband dated before it.
  const Json husband = At(Data("marriage", 4), "husband");
  const std::string m = MustRegister("marriage", Data("marriage", 4), "2026-07-10");
  ExpectRefused("death", DeathOf(husband, "2026-07-01"), "2026-07-12", "person_deceased", m,
                "sau ngày chết này (2026-07-01)");
  // A confirmation "never married", then a marriage dated before it.
  const Json wife = At(Data("marriage", 5), "wife");
  Json msc = Data("marital_status_confirmation", 1);
  msc.Set("subject", wife);
  msc.Set("marital_status", "never_married");
  msc.Set("valid_until", "2027-01-01");
  const std::string confirmation = MustRegister("marital_status_confirmation", msc, "2026-07-05");
  ExpectRefused("marriage", Data("marriage", 5), "2026-07-04", "marital_status_contradicted",
                confirmation, "never_married");
  auto en = Register("marriage", Data("marriage", 5), "2026-07-04");
  EXPECT_NE(en.status().message().find("a confirmation on record"), std::string::npos)
      << en.status().ToString();
  // Dated after the confirmation, the marriage stands.
  MustRegister("marriage", Data("marriage", 5), "2026-07-06");
}

TEST_F(PersonRulesTest, RecordsInAStandingConflictStayAmendableButNewCollisionsAreRefused) {
  const Json birth = Data("birth", 0);
  const std::string first = MustRegister("birth", birth, "2026-07-01");
  // A second registration of the child as sync delivers one (written
  // unchecked): a person conflict between two stored records.
  Json line = Json::MakeObject();
  line.Set("commune_code", kCommune);
  line.Set("province_code", kProvince);
  line.Set("registered_at", "2026-07-02");
  Json book = Json::MakeObject();
  book.Set("register", "KS");
  book.Set("year", 2026);
  book.Set("entry_no", 2);
  line.Set("book", std::move(book));
  line.Set("version", 1);
  line.Set("data", birth);
  std::vector<FieldUpdate> fields;
  for (auto& [path, value] : domain::Flatten(line)) fields.push_back({path, std::move(value)});
  ASSERT_TRUE(node_->CreateRecord("18568-KS-2026-000002", "birth", "", fields).ok());
  ASSERT_EQ(PersonConflicts().size(), 1u);
  // Both stay amendable where the edit makes no new collision: the
  // mother's ID, the registration date.
  const std::string mother = IdOf(birth, "mother");
  for (const std::string& id : {first, std::string("18568-KS-2026-000002")}) {
    Status s =
        en_->Amend(id, {{"data.mother.personal_id", mother.substr(0, 6) + "000777"}}, "typo");
    EXPECT_TRUE(s.ok()) << id << ": " << s.ToString();
    s = en_->Amend(id, {{"registered_at", "2026-07-03"}}, "date");
    EXPECT_TRUE(s.ok()) << id << ": " << s.ToString();
  }
  // A third record given the child's ID collides anew: refused.
  const std::string third = MustRegister("birth", Data("birth", 1), "2026-07-04");
  Status s = en_->Amend(third, {{"data.child.personal_id", IdOf(birth, "child")}}, "typo");
  EXPECT_EQ(s.reason(), "child_already_registered") << s.ToString();
  // Correcting the second record's child ID settles the conflict.
  ASSERT_TRUE(en_->Amend("18568-KS-2026-000002",
                         {{"data.child.personal_id", IdOf(birth, "child").substr(0, 6) + "000888"}},
                         "the right child")
                  .ok());
  EXPECT_TRUE(PersonConflicts().empty());
}

// An import line of `type` numbered `entry` in `reg`, registered on `date`.
Json ImportLine(const std::string& type, const std::string& reg, int entry, const std::string& date,
                Json data) {
  Json line = Json::MakeObject();
  line.Set("op", "create");
  line.Set("schema", 1);
  line.Set("type", type);
  char id[64];
  std::snprintf(id, sizeof id, "18568-%s-%s-%06d", reg.c_str(), date.substr(0, 4).c_str(), entry);
  line.Set("record_id", std::string(id));
  line.Set("commune_code", "18568");
  line.Set("province_code", "42");
  line.Set("registered_at", date);
  Json book = Json::MakeObject();
  book.Set("register", reg);
  book.Set("book_no", 1);
  book.Set("year", std::stoi(date.substr(0, 4)));
  book.Set("entry_no", entry);
  line.Set("book", std::move(book));
  line.Set("version", 1);
  line.Set("data", std::move(data));
  return line;
}

// Imports `lines` through `r`: the summary's accepted count and the
// refused lines by class.
std::pair<uint64_t, std::map<uint64_t, std::string>> ImportLines(Registry& r,
                                                                 const std::string& path,
                                                                 const std::vector<Json>& lines) {
  {
    std::ofstream out(path);
    for (const auto& line : lines) out << line.Dump() << '\n';
  }
  std::map<uint64_t, std::string> refused;
  auto reader = LineReader::Open(path);
  EXPECT_TRUE(reader.ok());
  if (!reader.ok()) return {0, refused};
  domain::ImportOptions o;
  o.refused = [&](uint64_t line, const domain::Problem& p) {
    refused[line] = std::string(domain::ErrorClassName(p.error_class));
  };
  auto summary = domain::Import(r, **reader, o);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  return {summary.ok() ? summary->accepted : 0, refused};
}

TEST_F(PersonRulesTest, ThousandsOfEntriesOfOneRoleDoNotSwitchTheOtherRulesOff) {
  // 1,100 confirmations for one person (more than the rules read of one
  // family), then two deaths of that person: the second is still refused,
  // and the store's verdicts equal a rebuild.
  const Json person = At(Data("marriage", 0), "husband");
  Json msc = Data("marital_status_confirmation", 0);
  msc.Set("subject", person);
  msc.Set("marital_status", "married");
  msc.Set("valid_until", "2027-01-01");
  std::vector<Json> lines;
  for (int i = 1; i <= 1100; ++i)
    lines.push_back(ImportLine("marital_status_confirmation", "XNHN", i, "2026-07-01", msc));
  for (int i = 1; i <= 2; ++i)
    lines.push_back(ImportLine("death", "KT", i, "2026-08-02", DeathOf(person, "2026-08-01", i)));
  auto [accepted, refused] = ImportLines(*en_, Dir("many.jsonl"), lines);
  EXPECT_EQ(accepted, 1101u);
  EXPECT_EQ(refused, (std::map<uint64_t, std::string>{{1102, "death_already_registered"}}));
  auto kept = node_->store().PersonIndexDump();
  auto rebuilt = node_->store().RebuiltPersonIndexDump();
  ASSERT_TRUE(kept.ok() && rebuilt.ok());
  EXPECT_EQ(*kept, *rebuilt);
}

TEST_F(PersonRulesTest, AnImportIsJudgedLineByLineAgainstItsOwnEarlierLines) {
  // Two lines of one batch naming the same child: the second is refused
  // although the first is not committed yet.
  std::vector<Json> lines;
  for (int entry : {1, 2})
    lines.push_back(ImportLine("birth", "KS", entry, "2026-07-01", Data("birth", 0)));
  auto [accepted, refused] = ImportLines(*en_, Dir("two.jsonl"), lines);
  EXPECT_EQ(accepted, 1u);
  EXPECT_EQ(refused, (std::map<uint64_t, std::string>{{2, "child_already_registered"}}));
}

}  // namespace
}  // namespace tuphap::node
