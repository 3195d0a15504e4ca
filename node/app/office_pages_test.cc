// The Office services of the officers' web pages on real stores: whether a
// record's last change here reached the hub, today's registrations, and the
// check of a record as the officer types it (the import's messages, only
// for what was typed).
#include <gtest/gtest.h>

#include <map>

#include "node/app/office.h"
#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/test_keys.h"
#include "node/test_nodes.h"

namespace tuphap::app {
namespace {

using node::Role;

class OfficePagesTest : public node::NodesTest {
 protected:
  std::unique_ptr<Office> MakeOffice(const std::string& name, Role role = Role::kCommune,
                                     domain::Lang lang = domain::Lang::kEnglish) {
    return std::make_unique<Office>(Make(name, role, kCommune), lang);
  }
  Json FirstBirth() { return First("birth"); }
  // The first generated record of `type`, with only its data and date: the
  // node numbers it.
  Json First(const std::string& type) {
    domain::GeneratorOptions o;
    o.seed = 5;
    o.communes = {kCommune};
    o.records = 40;
    o.from = o.to = "2025-07-01";
    Json out;
    domain::GenerateRecords(o, [&](const std::string& line) {
      auto j = ParseJson(line, nullptr);
      if (out.is_null() && j && j->Find("type")->as_string() == type) {
        out = Json::MakeObject();
        out.Set("data", *j->Find("data"));
        out.Set("registered_at", *j->Find("registered_at"));
      }
    });
    return out;
  }
  static std::map<std::string, std::string> ByField(const std::vector<domain::Problem>& ps) {
    std::map<std::string, std::string> out;
    for (const auto& p : ps) out[p.field] = p.message;
    return out;
  }
};

TEST_F(OfficePagesTest, RecordReachesTheHubWhenTheHubHoldsItsLastChange) {
  auto hub = MakeOffice("h", Role::kHub);
  auto commune = MakeOffice("c");
  node::Enrol(hub->node(), commune->node());
  auto reg = commune->Register("birth", FirstBirth());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto rec = commune->GetRecord(reg->id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(*commune->RecordHubState(*rec), Office::HubState::kWaiting);  // never synced
  // The heads read once for a page say the same.
  auto same = [&](const store::RecordView& r) {
    auto heads = commune->ReadHubHeads();
    ASSERT_TRUE(heads.ok()) << heads.status().ToString();
    EXPECT_EQ(commune->RecordHubState(r, *heads), *commune->RecordHubState(r));
  };
  same(*rec);

  // The hub acknowledged the commune's feed up to the registration.
  const crdt::ReplicaId hub_id{hub->node().sign_key()};
  const store::FeedKey feed{commune->info().id, kCommune};
  auto& store = commune->node().store();
  ASSERT_TRUE(
      store.RecordPeerSession(hub_id, "tcp://127.0.0.1:1", clock_.WallMillis(), true, 1, 0, 0)
          .ok());
  const uint64_t seq = rec->history.back().seq;
  ASSERT_TRUE(store
                  .SavePeerHeads(hub_id, {{feed, seq}}, store::Store::PeerHeadsUpdate::kReplace,
                                 node::kMaxPeerHeads)
                  .ok());
  EXPECT_EQ(*commune->RecordHubState(*rec), Office::HubState::kReached);
  same(*rec);
  EXPECT_TRUE(commune->IsHubPeer(hub->node().sign_key()));

  // A later change here waits again until the hub has it.
  clock_.Advance(1000);
  ASSERT_TRUE(commune->Amend(reg->id, {{"data.notes", "sửa"}}, "check").ok());
  rec = commune->GetRecord(reg->id);
  EXPECT_EQ(*commune->RecordHubState(*rec), Office::HubState::kWaiting);
  ASSERT_TRUE(store
                  .SavePeerHeads(hub_id, {{feed, seq + 1}}, store::Store::PeerHeadsUpdate::kRaise,
                                 node::kMaxPeerHeads)
                  .ok());
  EXPECT_EQ(*commune->RecordHubState(*rec), Office::HubState::kReached);

  // A record only the hub wrote has no change of this node's to wait for.
  Json line = FirstBirth();
  // A hub copies the number from the paper register (numbers are the
  // commune's).
  line.Set("book", *ParseJson(R"({"register":"KS","year":2025,"entry_no":500})", nullptr));
  auto at_hub = hub->Register("birth", line, kCommune);
  ASSERT_TRUE(at_hub.ok()) << at_hub.status().ToString();
  node::Ingest(commune->node(), node::Envelopes(hub->node(), kCommune));
  auto theirs = commune->GetRecord(at_hub->id);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(*commune->RecordHubState(*theirs), Office::HubState::kNoLocalChange);
  same(*theirs);
}

TEST_F(OfficePagesTest, AReferenceTypedShortIsFoundAsTheRegisterWritesIt) {
  EXPECT_EQ(Office::NormalizeReferences("ks 2026/24"), "KS 2026/000024");
  EXPECT_EQ(Office::NormalizeReferences("KH-2025-7 và xp 2025 000123"),
            "KH 2025/000007 và XP 2025/000123");
  EXPECT_EQ(Office::NormalizeReferences("18568-KS-2025-1"), "18568-KS 2025/000001");
  // Names, ID numbers and seven-digit numbers are left as they are.
  EXPECT_EQ(Office::NormalizeReferences("nguyen thi hong"), "nguyen thi hong");
  EXPECT_EQ(Office::NormalizeReferences("056325000123"), "056325000123");
  EXPECT_EQ(Office::NormalizeReferences("ks 2026/1234567"), "ks 2026/1234567");
  EXPECT_EQ(Office::NormalizeReferences("hoks 2026/24"), "hoks 2026/24");

  auto office = MakeOffice("c");
  auto reg = office->Register("birth", FirstBirth());
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto hits = office->Search("ks 2025/1", "", "", "", 0, 10);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->hits.size(), 1u);
  EXPECT_EQ(hits->hits[0].record_id, reg->id);
}

TEST_F(OfficePagesTest, RegisteredOnListsTheDaysRecordsLatestFirst) {
  auto office = MakeOffice("c");
  Json line = FirstBirth();
  auto first = office->Register("birth", line);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = office->Register("death", First("death"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto on = office->RegisteredOn("2025-07-01", 10);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  ASSERT_EQ(on->size(), 2u);
  // The highest record id first (22333-KT-… after 22333-KS-…).
  EXPECT_EQ((*on)[0].record_id, std::max(first->id, second->id));
  EXPECT_EQ((*on)[1].record_id, std::min(first->id, second->id));
  auto one = office->RegisteredOn("2025-07-01", 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].record_id, std::max(first->id, second->id));
  EXPECT_TRUE(office->RegisteredOn("2025-07-02", 10)->empty());
  EXPECT_TRUE(office->RegisteredOn("2025-07-01", 0)->empty());
}

TEST_F(OfficePagesTest, DraftCheckGivesTheImportMessagesForTypedFieldsOnly) {
  auto office = MakeOffice("c", Role::kCommune, domain::Lang::kVietnamese);
  // Only the child's ID typed, with a province code no ID has.
  Json doc = Json::MakeObject();
  domain::SetJsonAt(&doc, "data.child.personal_id", Json("999325000123"));
  auto r = office->CheckDraft("birth", doc, {"data.child.personal_id"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto by = ByField(*r);
  ASSERT_EQ(by.size(), 1u);
  ASSERT_EQ(by.count("data.child.personal_id"), 1u);
  // The message import gives, in the office's language.
  Json full = FirstBirth();
  domain::SetJsonAt(&full, "data.child.personal_id", Json("999325000123"));
  Status refused = office->Register("birth", full).status();
  EXPECT_EQ(refused.reason(), "id_province_unknown");
  EXPECT_EQ(refused.message(), "data.child.personal_id: " + by["data.child.personal_id"]);

  // The century/sex digit is judged only once sex and birth date are typed.
  domain::SetJsonAt(&doc, "data.child.personal_id", Json("056225000123"));  // a boy's digit
  domain::SetJsonAt(&doc, "data.child.sex", Json("F"));
  r = office->CheckDraft("birth", doc, {"data.child.personal_id", "data.child.sex"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty()) << r->front().message;
  domain::SetJsonAt(&doc, "data.child.birth_date", Json("2025-06-20"));
  r = office->CheckDraft("birth", doc,
                         {"data.child.personal_id", "data.child.sex", "data.child.birth_date"});
  ASSERT_TRUE(r.ok());
  by = ByField(*r);
  ASSERT_EQ(by.count("data.child.personal_id"), 1u);
  full = FirstBirth();
  domain::SetJsonAt(&full, "data.child.personal_id", Json("056225000123"));
  domain::SetJsonAt(&full, "data.child.sex", Json("F"));
  domain::SetJsonAt(&full, "data.child.birth_date", Json("2025-06-20"));
  refused = office->Register("birth", full).status();
  EXPECT_EQ(refused.reason(), "id_century_sex_mismatch");
  EXPECT_EQ(refused.message(), "data.child.personal_id: " + by["data.child.personal_id"]);

  // Several typed fields wrong at once are each reported; untouched
  // required fields are not.
  domain::SetJsonAt(&doc, "data.child.birth_date", Json("2025-02-30"));
  domain::SetJsonAt(&doc, "data.child.personal_id", Json("05632500012"));
  r = office->CheckDraft("birth", doc, {"data.child.personal_id", "data.child.birth_date"});
  ASSERT_TRUE(r.ok());
  by = ByField(*r);
  EXPECT_EQ(by.size(), 2u);
  EXPECT_EQ(by.count("data.child.birth_date"), 1u);
  EXPECT_EQ(by.count("data.child.personal_id"), 1u);

  // A wrong ID digit does not hide a later rule: the ID put in for it
  // agrees with the person, so a birth after the registration is said too.
  full = FirstBirth();
  domain::SetJsonAt(&full, "data.child.personal_id", Json("056225000123"));
  domain::SetJsonAt(&full, "data.child.sex", Json("F"));
  domain::SetJsonAt(&full, "data.child.birth_date", Json("2025-07-02"));
  r = office->CheckDraft("birth", full,
                         {"data.child.personal_id", "data.child.birth_date", "registered_at"});
  ASSERT_TRUE(r.ok());
  by = ByField(*r);
  EXPECT_EQ(by.count("data.child.personal_id"), 1u);
  EXPECT_EQ(by.count("data.child.birth_date"), 1u);

  // A whole valid record has nothing to say; a typed field made empty is
  // missing.
  full = FirstBirth();
  r = office->CheckDraft("birth", full, {"data.child.full_name", "data.child.personal_id"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty()) << r->front().field << ": " << r->front().message;
  domain::SetJsonAt(&full, "data.child.given_name", Json(""));
  r = office->CheckDraft("birth", full, {"data.child.given_name"});
  ASSERT_TRUE(r.ok());
  by = ByField(*r);
  EXPECT_EQ(by.count("data.child.given_name"), 1u);

  // Every type and variant can be checked from an empty form.
  for (const char* type : {"birth", "death", "marriage", "parent_child_recognition", "guardianship",
                           "change_correction", "marital_status_confirmation", "re_registration",
                           "violation_decision"}) {
    auto empty = office->CheckDraft(type, Json::MakeObject(), {"registered_at"});
    ASSERT_TRUE(empty.ok()) << type << ": " << empty.status().ToString();
    EXPECT_TRUE(empty->empty()) << type << ": " << empty->front().message;
  }
  EXPECT_EQ(office->CheckDraft("note", Json::MakeObject(), {}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tuphap::app
