#include "node/domain/validator.h"

#include <gtest/gtest.h>

#include <map>

#include "node/domain/record_generator.h"
#include "node/domain/record_json.h"
#include "node/domain/vn_text.h"

namespace tuphap::domain {
namespace {

// One valid generated line of each record type, for commune 22333.
const std::map<std::string, Json>& Samples() {
  static const std::map<std::string, Json> samples = [] {
    std::map<std::string, Json> out;
    GeneratorOptions o;
    o.communes = {"22333"};
    o.records = 3000;
    GenerateRecords(o, [&](const std::string& line) {
      auto j = ParseJson(line, nullptr);
      const std::string type = j->Find("type")->as_string();
      if (!out.count(type)) out.emplace(type, *j);
    });
    return out;
  }();
  return samples;
}

class ValidatorTest : public testing::Test {
 protected:
  std::optional<Problem> Check(const Json& doc) const {
    return commune_.CheckRecord(doc, doc.Find("type")->as_string());
  }
  Json Sample(const std::string& type) const { return Samples().at(type); }
  static void Set(Json* doc, const std::string& path, Json v) {
    SetJsonAt(doc, path, std::move(v));
  }

  Validator commune_{Lang::kEnglish, AcceptScope{false, "22333", ""}};
};

TEST_F(ValidatorTest, EveryGeneratedTypeIsValid) {
  ASSERT_EQ(Samples().size(), 9u) << "the generator makes all nine types";
  for (const auto& [type, doc] : Samples()) {
    auto p = Check(doc);
    EXPECT_FALSE(p.has_value()) << type << ": " << (p ? p->field + ": " + p->message : "");
  }
}

TEST_F(ValidatorTest, TheFirstClassInOrderIsReported) {
  Json doc = Sample("birth");
  Set(&doc, "data.child.family_name", Json(ToNfd("Nguyễn")));  // class 9
  Set(&doc, "registered_at", Json("01/07/2025"));              // class 7: reported
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kDateFormat);
  EXPECT_EQ(p->field, "registered_at");
  EXPECT_NE(p->message.find("YYYY-MM-DD"), std::string::npos);
}

TEST_F(ValidatorTest, ExpectKeysAreIgnoredAndUnknownKeysAreTypeErrors) {
  Json doc = Sample("death");
  doc.Set("expect_note", "anything");
  EXPECT_FALSE(Check(doc).has_value());
  Set(&doc, "data.deceased.shoe_size", Json(42));
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kWrongType);
  EXPECT_EQ(p->field, "data.deceased.shoe_size");
}

TEST_F(ValidatorTest, UnknownParentMayBeNullButAPresentOneNeedsAName) {
  Json doc = Sample("birth");
  Set(&doc, "data.father", Json());
  EXPECT_FALSE(Check(doc).has_value());
  Json father = Json::MakeObject();
  father.Set("birth_year", 1990);
  Set(&doc, "data.father", father);
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kMissingRequired);
  EXPECT_EQ(p->field, "data.father.full_name");
}

TEST_F(ValidatorTest, ParentIdsAreCheckedWithTheImpliedSex) {
  Json doc = Sample("birth");
  std::string id = JsonAt(doc, "data.mother.personal_id")->as_string();
  id[3] = static_cast<char>('0' + ((id[3] - '0') ^ 1));  // a man's digit for the mother
  Set(&doc, "data.mother.personal_id", Json(id));
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kIdCenturySexMismatch);
  EXPECT_EQ(p->field, "data.mother.personal_id");
}

TEST_F(ValidatorTest, ScopeOfCommuneNodeAndHub) {
  Json doc = Sample("marriage");
  Validator other_commune(Lang::kEnglish, AcceptScope{false, "22366", ""});
  auto p = other_commune.CheckRecord(doc, "marriage");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kOutOfScope);
  Validator hub56(Lang::kEnglish, AcceptScope{true, "", "56"});
  EXPECT_FALSE(hub56.CheckRecord(doc, "marriage").has_value());
  Validator hub01(Lang::kEnglish, AcceptScope{true, "", "01"});
  EXPECT_EQ(hub01.CheckRecord(doc, "marriage")->error_class, ErrorClass::kOutOfScope);
}

TEST_F(ValidatorTest, ClosedCommuneCodesAreKeptOnHistoricReferencesOnly) {
  Json doc = Sample("change_correction");
  Set(&doc, "data.original.commune_code", Json("03331"));  // closed in 2025
  EXPECT_FALSE(Check(doc).has_value());
  doc.Set("commune_code", "03331");
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kCommuneUnknown);
  EXPECT_NE(p->message.find("closed"), std::string::npos);
}

TEST_F(ValidatorTest, FineRulesFollowSectorAndAuthority) {
  Json doc = Sample("violation_decision");
  Set(&doc, "data.principal_penalty", Json("fine"));
  Set(&doc, "data.violator_kind", Json("individual"));
  Set(&doc, "data.violation.sector", Json("hanh_chinh_tu_phap"));  // max 30,000,000
  Set(&doc, "data.fine_amount_vnd", Json(int64_t{15'000'000}));    // exactly 50 %
  auto ok = Check(doc);
  EXPECT_FALSE(ok.has_value()) << ok->message;
  Set(&doc, "data.fine_amount_vnd", Json(int64_t{15'000'001}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kFineExceedsAuthority);
  Set(&doc, "data.fine_amount_vnd", Json(int64_t{30'000'001}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kFineOutOfRange);
  Set(&doc, "data.fine_amount_vnd", Json(int64_t{0}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kPenaltyInconsistent);
  Set(&doc, "data.fine_amount_vnd", Json("1.500.000"));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kWrongType);
}

TEST_F(ValidatorTest, MessagesAreInVietnameseWhenAsked) {
  Validator vi(Lang::kVietnamese, AcceptScope{false, "22333", ""});
  Json doc = Sample("birth");
  doc.Set("registered_at", "2025-7-1");
  auto p = vi.CheckRecord(doc, "birth");
  ASSERT_TRUE(p.has_value());
  EXPECT_NE(p->message.find("phải là ngày"), std::string::npos) << p->message;
}

TEST_F(ValidatorTest, LineLevelClasses) {
  Json doc;
  EXPECT_EQ(commune_.ParseLine("{\"op\":\"create\",\"type\":\"birth\"\xff}", &doc)->error_class,
            ErrorClass::kEncodingInvalid);
  EXPECT_EQ(commune_.ParseLine("{\"op\":\"create\",\"op\":\"edit\"}", &doc)->error_class,
            ErrorClass::kMalformedJson);
  EXPECT_EQ(commune_.ParseLine("[1,2]", &doc)->error_class, ErrorClass::kMalformedJson);
  EXPECT_EQ(commune_.ParseLine("{\"op\":\"delete\",\"type\":\"birth\"}", &doc)->error_class,
            ErrorClass::kUnknownType);
  EXPECT_EQ(commune_.ParseLine("{\"op\":\"create\",\"type\":\"adoption\"}", &doc)->error_class,
            ErrorClass::kUnknownType);
  EXPECT_FALSE(
      commune_.ParseLine("{\"op\":\"create\",\"type\":\"birth\",\"schema\":1}", &doc).has_value());
}

TEST_F(ValidatorTest, NegativeFineIsOutOfRangeAndNumbersAreShownInTypeErrors) {
  Json doc = Sample("violation_decision");
  Set(&doc, "data.principal_penalty", Json("fine"));
  Set(&doc, "data.fine_amount_vnd", Json(int64_t{-5}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kFineOutOfRange);
  Json birth = Sample("birth");
  Set(&birth, "book.entry_no", Json(42.5));
  auto p = Check(birth);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kWrongType);
  EXPECT_NE(p->message.find("42.5"), std::string::npos) << p->message;
}

TEST_F(ValidatorTest, MissingRecordIdAndSchemaAreMissingRequired) {
  Json doc = Sample("death");
  doc.Set("record_id", Json());
  auto p = Check(doc);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->error_class, ErrorClass::kMissingRequired);
  EXPECT_EQ(p->field, "record_id");
  Json parsed;
  auto no_schema = commune_.ParseLine(R"({"op":"create","type":"birth"})", &parsed);
  ASSERT_TRUE(no_schema.has_value());
  EXPECT_EQ(no_schema->error_class, ErrorClass::kMissingRequired);
  EXPECT_EQ(no_schema->field, "schema");
}

TEST_F(ValidatorTest, EntryNumbersBeyondTheRegisterAreInvalid) {
  Json doc = Sample("birth");
  Set(&doc, "book.entry_no", Json(int64_t{kLastEntryNo + 1}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kEntryInvalid);
  doc = Sample("birth");
  Set(&doc, "book.book_no", Json(int64_t{0}));
  EXPECT_EQ(Check(doc)->error_class, ErrorClass::kEntryInvalid);
}

TEST_F(ValidatorTest, EditLinesNameEachFieldOnce) {
  auto edit = [](const std::string& changes) {
    return *ParseJson(R"({"op":"edit","record_id":"22333-KS-2025-000001","edit_id":"e1",)"
                      R"("commune_code":"22333","edited_at":"2025-07-01","base_version":1,)"
                      R"("reason":"typo","changes":)" +
                          changes + "}",
                      nullptr);
  };
  EXPECT_FALSE(
      commune_.CheckEditLine(edit(R"([{"path":"data.child.given_name","new":"An"}])")).has_value());
  auto twice = commune_.CheckEditLine(edit(R"([{"path":"data.child","new":{"given_name":"An"}},)"
                                           R"({"path":"data.child.given_name","new":"Binh"}])"));
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->error_class, ErrorClass::kMalformedJson);
}

}  // namespace
}  // namespace tuphap::domain
