// The commune's pages through WebApp::Handle over a real store: register
// with the import's messages at the field, the check as the officer types,
// search, the record page, amend, revoke (head only) and the extract.
#include <gtest/gtest.h>

#include <regex>

#include "node/app/office.h"
#include "node/app/officers.h"
#include "node/test_nodes.h"
#include "web/http.h"
#include "web/webapp.h"

namespace tuphap::web {
namespace {

class CommunePagesTest : public node::NodesTest {
 protected:
  static constexpr const char* kHost = "127.0.0.1:8080";
  static constexpr const char* kPassword = "mat-khau-kiem-tra-1";

  void SetUp() override {
    NodesTest::SetUp();
    auto n = Make("c");
    app::Officers officers(n->store(), clock_, domain::Lang::kVietnamese);
    ASSERT_TRUE(officers.Add("lan", "Trần Thị Lan", app::Role::kOfficer, kPassword).ok());
    ASSERT_TRUE(officers.Add("minh", "Lê Văn Minh", app::Role::kHead, kPassword).ok());
    auto office = std::make_unique<app::Office>(std::move(n), domain::Lang::kVietnamese);
    WebOptions o;
    o.clock = &clock_;
    o.hosts = {kHost};
    auto tz = TimeZone::Named(o.time_zone);
    ASSERT_TRUE(tz.ok());
    app_ = std::make_unique<WebApp>(std::move(office), std::move(*tz), o);
  }

  Response Send(const std::string& method, const std::string& target, const FormFields& form,
                const std::string& cookie) {
    Request r;
    r.method = method;
    r.target = target;
    r.headers["host"] = kHost;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    if (method == "POST") {
      r.headers["content-type"] = "application/x-www-form-urlencoded";
      for (const auto& [k, v] : form) {
        r.body += (r.body.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
      }
    }
    return app_->Handle(r);
  }
  Response Get(const std::string& target, const std::string& cookie) {
    return Send("GET", target, {}, cookie);
  }
  static std::string Header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }
  static std::string Find(const std::string& body, const std::string& pattern) {
    std::smatch m;
    if (!std::regex_search(body, m, std::regex(pattern))) return {};
    return m[1].str();
  }
  struct Login {
    std::string cookie, csrf;
  };
  Login LogIn(const std::string& login) {
    Response page = Get("/login", "");
    const std::string c0 = Header(page, "Set-Cookie");
    const std::string cookie0 = c0.substr(0, c0.find(';'));
    Response r = Send("POST", "/login",
                      {{"csrf", Find(page.body, "name=\"csrf\" value=\"([0-9a-f]+)\"")},
                       {"login", login},
                       {"password", kPassword}},
                      cookie0);
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string c = Header(r, "Set-Cookie");
    Login out{c.substr(0, c.find(';')), ""};
    out.csrf = Find(Get("/search", out.cookie).body, "name=\"csrf\" value=\"([0-9a-f]+)\"");
    return out;
  }
  // A birth as an officer fills the form (the clock's day is 01/07/2025).
  static FormFields Birth(const Login& who, const std::string& personal_id) {
    return {{"csrf", who.csrf},
            {"registered_at", "01/07/2025"},
            {"data.child.family_name", "Nguyễn"},
            {"data.child.middle_name", "Thị"},
            {"data.child.given_name", "Hồng"},
            {"data.child.full_name", "Nguyễn Thị Hồng"},
            {"data.child.sex", "F"},
            {"data.child.birth_date", "20/06/2025"},
            {"data.child.ethnicity", "Kinh"},
            {"data.child.nationality", "Việt Nam"},
            {"data.child.personal_id", personal_id},
            {"data.child.birth_place", "Trạm Y tế xã"},
            {"data.mother.full_name", "Lê Thị Mai"},
            {"data.declarant.full_name", "Lê Thị Mai"},
            {"data.notes", "<script>alert(1)</script>"}};
  }

  std::unique_ptr<WebApp> app_;
};

TEST_F(CommunePagesTest, RegisterRefusesWithTheImportMessageAtTheFieldThenRegisters) {
  Login lan = LogIn("lan");
  Response form = Get("/register/birth", lan.cookie);
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("<form id=\"register-form\" class=\"record-form\" method=\"post\""),
            std::string::npos);
  for (const char* want : {"name=\"data.child.full_name\"", "id=\"f_data_child_full_name\"",
                           "id=\"f_data_child_birth_date\" name=\"data.child.birth_date\"",
                           "data-kind=\"personal_id\"", "<select id=\"f_data_child_sex\"",
                           "id=\"submit\"", "value=\"01/07/2025\"", "Họ, chữ đệm và tên"}) {
    EXPECT_NE(form.body.find(want), std::string::npos) << want;
  }
  // The header is the server's: no input for the record id or the entry.
  EXPECT_EQ(form.body.find("name=\"book.entry_no\""), std::string::npos);

  // A boy's century digit for a girl: the domain's Vietnamese sentence.
  Response refused = Send("POST", "/register/birth", Birth(lan, "056225000123"), lan.cookie);
  EXPECT_EQ(refused.status, 422);
  const std::string at_field =
      Find(refused.body, "id=\"f_data_child_personal_id-err\" role=\"alert\">([^<]+)<");
  EXPECT_NE(at_field.find("không khớp giới tính"), std::string::npos) << at_field;
  // The summary names the field once and links to it.
  const std::string listed = Find(
      refused.body,
      "<li data-field=\"data.child.personal_id\"><a href=\"#f_data_child_personal_id\">([^<]+)<");
  EXPECT_NE(listed.find("Số định danh cá nhân (Trẻ): chữ số thứ 4"), std::string::npos) << listed;
  EXPECT_NE(refused.body.find("value=\"Nguyễn Thị Hồng\""), std::string::npos);  // refilled

  // A date the server cannot read is refused at its field before anything else.
  FormFields bad_date = Birth(lan, "056325000123");
  bad_date[7].second = "2025/06/20";
  Response date = Send("POST", "/register/birth", bad_date, lan.cookie);
  EXPECT_EQ(date.status, 422);
  EXPECT_NE(Find(date.body, "id=\"f_data_child_birth_date-err\" role=\"alert\">([^<]+)<")
                .find("ngày/tháng/năm"),
            std::string::npos);

  Response ok = Send("POST", "/register/birth", Birth(lan, "056325000123"), lan.cookie);
  ASSERT_EQ(ok.status, 303) << ok.body;
  const std::string where = Header(ok, "Location");
  EXPECT_EQ(where, "/records/18568-KS-2025-000001");
  Response page = Get(where, lan.cookie);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("KS 2025/000001"), std::string::npos);  // in the flash and the head
  EXPECT_NE(page.body.find("<table id=\"fields\""), std::string::npos);
  EXPECT_NE(page.body.find("<table id=\"history\""), std::string::npos);
  EXPECT_NE(page.body.find("20/06/2025"), std::string::npos);   // dates dd/mm/yyyy
  EXPECT_NE(page.body.find("Chờ đồng bộ"), std::string::npos);  // never synced
  EXPECT_NE(page.body.find("id=\"amend-link\""), std::string::npos);
  EXPECT_NE(page.body.find("id=\"extract-link\""), std::string::npos);
  EXPECT_NE(page.body.find("Trần Thị Lan (lan #1)"), std::string::npos);  // who, in history
  EXPECT_EQ(page.body.find("<script>alert(1)"), std::string::npos);
  EXPECT_EQ(page.body.find("id=\"revoke-form\""), std::string::npos);  // an officer's page

  // Found by the name without accents, and by its register reference.
  Response search = Get("/search?q=nguyen+thi+hong", lan.cookie);
  EXPECT_NE(search.body.find("<a class=\"record-link\" href=\"/records/18568-KS-2025-000001\">"),
            std::string::npos);
  EXPECT_NE(Get("/search?q=" + UrlEncode("KS 2025/000001"), lan.cookie)
                .body.find("/records/18568-KS-2025-000001"),
            std::string::npos);

  // Home lists it among today's registrations.
  Response home = Get("/", lan.cookie);
  EXPECT_NE(home.body.find("id=\"today\""), std::string::npos);
  EXPECT_NE(home.body.find("/records/18568-KS-2025-000001"), std::string::npos);
  for (const char* id :
       {"id=\"waiting\"", "id=\"last-sync\"", "id=\"conflicts\"", "id=\"attention\""}) {
    EXPECT_NE(home.body.find(id), std::string::npos) << id;
  }

  Response extract = Get(where + "/extract", lan.cookie);
  EXPECT_NE(extract.body.find("<article id=\"extract\""), std::string::npos);
  EXPECT_NE(extract.body.find("TRÍCH LỤC KHAI SINH"), std::string::npos);
  EXPECT_NE(extract.body.find("NGUYỄN THỊ HỒNG"), std::string::npos);
  EXPECT_NE(extract.body.find("id=\"print\""), std::string::npos);
}

TEST_F(CommunePagesTest, TheCheckAnswersForTheTouchedFieldsWithTheDomainsWords) {
  Login lan = LogIn("lan");
  Response r = Send("POST", "/register/birth/check",
                    {{"csrf", lan.csrf},
                     {"data.child.personal_id", "999325000123"},
                     {"data.child.birth_date", "31/02/2025"},
                     {"touched", "data.child.personal_id,data.child.birth_date"}},
                    lan.cookie);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  auto j = ParseJson(r.body, nullptr);
  ASSERT_TRUE(j && j->is_object()) << r.body;
  ASSERT_NE(j->Find("data.child.personal_id"), nullptr) << r.body;
  EXPECT_NE(j->Find("data.child.personal_id")->as_string().find("999"), std::string::npos);
  EXPECT_NE(j->Find("data.child.birth_date")->as_string(), "");
  EXPECT_EQ(j->Find("data.child.full_name"), nullptr);  // not touched: not judged
  // Without the token, refused like any POST.
  EXPECT_EQ(Send("POST", "/register/birth/check", {{"touched", "x"}}, lan.cookie).status, 403);
}

TEST_F(CommunePagesTest, EveryFormRendersAndAnEmptyOneIsRefusedAtItsFields) {
  Login lan = LogIn("lan");
  for (const char* page :
       {"birth", "death", "marriage", "parent_child_recognition", "guardianship",
        "change_correction", "marital_status_confirmation", "re_registration?event=birth",
        "re_registration?event=marriage", "re_registration?event=death",
        "violation_decision?kind=individual", "violation_decision?kind=organization"}) {
    Response form = Get(std::string("/register/") + page, lan.cookie);
    ASSERT_EQ(form.status, 200) << page;
    const std::string type = std::string(page).substr(0, std::string(page).find('?'));
    FormFields empty = {{"csrf", lan.csrf}};
    const std::string hidden =
        Find(form.body, "<input type=\"hidden\" name=\"(data\\.[a-z_]+)\" value=\"");
    if (!hidden.empty()) {
      empty.emplace_back(hidden, Find(form.body, "name=\"" + hidden + "\" value=\"([a-z]+)\""));
    }
    Response r = Send("POST", "/register/" + type, empty, lan.cookie);
    EXPECT_EQ(r.status, 422) << page;
    EXPECT_NE(r.body.find("id=\"form-error\" role=\"alert\" tabindex=\"-1\"><p>Chưa"),
              std::string::npos)
        << page;
    EXPECT_NE(r.body.find("<li data-field=\""), std::string::npos) << page;
  }
  EXPECT_EQ(Get("/register/note", lan.cookie).status, 404);
}

TEST_F(CommunePagesTest, AmendNeedsAReasonAndOnlyAHeadRevokes) {
  Login lan = LogIn("lan");
  ASSERT_EQ(Send("POST", "/register/birth", Birth(lan, "056325000123"), lan.cookie).status, 303);
  const std::string rec = "/records/18568-KS-2025-000001";
  Response form = Get(rec + "/amend", lan.cookie);
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("<form id=\"amend-form\""), std::string::npos);
  EXPECT_NE(form.body.find("value=\"20/06/2025\""), std::string::npos);  // current values

  FormFields change = Birth(lan, "056325000123");
  change[0] = {"csrf", lan.csrf};
  change.erase(change.begin() + 1);  // registered_at as it was
  change.emplace_back("registered_at", "01/07/2025");
  change[3].second = "Hoa";  // given name
  change[4].second = "Nguyễn Thị Hoa";
  Response no_reason = Send("POST", rec + "/amend", change, lan.cookie);
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_NE(no_reason.body.find("id=\"f_reason-err\" role=\"alert\">Hãy ghi lý do"),
            std::string::npos);
  change.emplace_back("reason", "giấy chứng sinh ghi Hoa");
  Response done = Send("POST", rec + "/amend", change, lan.cookie);
  ASSERT_EQ(done.status, 303) << done.body;
  Response page = Get(rec, lan.cookie);
  EXPECT_NE(page.body.find("<del>Hồng</del> → <ins>Hoa</ins>"), std::string::npos);
  EXPECT_NE(page.body.find("giấy chứng sinh ghi Hoa"), std::string::npos);

  EXPECT_EQ(Send("POST", rec + "/revoke", {{"csrf", lan.csrf}, {"reason", "x"}}, lan.cookie).status,
            403);
  Login minh = LogIn("minh");
  EXPECT_NE(Get(rec, minh.cookie).body.find("id=\"revoke-form\""), std::string::npos);
  EXPECT_EQ(
      Send("POST", rec + "/revoke", {{"csrf", minh.csrf}, {"reason", " "}}, minh.cookie).status,
      422);
  EXPECT_EQ(
      Send("POST", rec + "/revoke", {{"csrf", minh.csrf}, {"reason", "đăng ký nhầm"}}, minh.cookie)
          .status,
      303);
  Response revoked = Get(rec, lan.cookie);
  EXPECT_NE(revoked.body.find("đã bị thu hồi"), std::string::npos);
  EXPECT_EQ(revoked.body.find("id=\"amend-link\""), std::string::npos);
}

TEST_F(CommunePagesTest, ARefusedFormShowsEveryProblemAtItsFieldAndInTheSummary) {
  Login lan = LogIn("lan");
  FormFields bad = Birth(lan, "999325000123");  // no such province in an ID
  for (auto& [k, v] : bad) {
    if (k == "data.child.birth_place") v = "";
    if (k == "data.declarant.full_name") v = "";
  }
  Response r = Send("POST", "/register/birth", bad, lan.cookie);
  ASSERT_EQ(r.status, 422);
  const std::string at_id =
      Find(r.body, "id=\"f_data_child_personal_id-err\" role=\"alert\">([^<]+)<");
  EXPECT_NE(at_id.find("999"), std::string::npos) << at_id;
  EXPECT_EQ(Find(r.body, "id=\"f_data_child_birth_place-err\" role=\"alert\">([^<]+)<"),
            "Chưa nhập mục bắt buộc này.");
  EXPECT_EQ(Find(r.body, "id=\"f_data_declarant_full_name-err\" role=\"alert\">([^<]+)<"),
            "Chưa nhập mục bắt buộc này.");
  // One linked line per problem, in form order.
  std::vector<std::string> links;
  const std::regex li("<li data-field=\"[^\"]+\"><a href=\"#(f_[a-z_]+)\">");
  for (std::sregex_iterator it(r.body.begin(), r.body.end(), li), end; it != end; ++it)
    links.push_back((*it)[1].str());
  EXPECT_EQ(links, (std::vector<std::string>{"f_data_child_personal_id", "f_data_child_birth_place",
                                             "f_data_declarant_full_name"}));
  EXPECT_NE(r.body.find("Nơi sinh (Trẻ): chưa nhập (bắt buộc)."), std::string::npos);

  // The same for an amend: every problem, under its own heading.
  ASSERT_EQ(Send("POST", "/register/birth", Birth(lan, "056325000123"), lan.cookie).status, 303);
  FormFields change = Birth(lan, "999325000123");
  for (auto& [k, v] : change) {
    if (k == "data.child.birth_place") v = "";
  }
  change.emplace_back("reason", "sửa thử");
  Response amend = Send("POST", "/records/18568-KS-2025-000001/amend", change, lan.cookie);
  ASSERT_EQ(amend.status, 422);
  EXPECT_NE(amend.body.find("<p>Chưa ghi được thay đổi"), std::string::npos);
  EXPECT_NE(amend.body.find("<a href=\"#f_data_child_personal_id\">"), std::string::npos);
  EXPECT_NE(amend.body.find("<a href=\"#f_data_child_birth_place\">"), std::string::npos);
  // Nothing changed: said so.
  FormFields same = Birth(lan, "056325000123");
  same.emplace_back("reason", "không đổi gì");
  Response nothing = Send("POST", "/records/18568-KS-2025-000001/amend", same, lan.cookie);
  EXPECT_EQ(nothing.status, 422);
  EXPECT_NE(nothing.body.find("<p>Bạn chưa sửa mục nào.</p>"), std::string::npos);
}

TEST_F(CommunePagesTest, AnImpossibleDateIsSaidSoAndAWrongShapeGetsTheShape) {
  Login lan = LogIn("lan");
  FormFields f = Birth(lan, "056325000123");
  f[7].second = "31/02/2025";
  Response r = Send("POST", "/register/birth", f, lan.cookie);
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(Find(r.body, "id=\"f_data_child_birth_date-err\" role=\"alert\">([^<]+)<"),
            "Không có ngày 31/02/2025: tháng 02/2025 chỉ có 28 ngày.");
  f[7].second = "20/13/2025";
  EXPECT_NE(Find(Send("POST", "/register/birth", f, lan.cookie).body,
                 "id=\"f_data_child_birth_date-err\" role=\"alert\">([^<]+)<")
                .find("tháng chỉ từ 01 đến 12"),
            std::string::npos);
  f[7].second = "20.06.2025";
  EXPECT_NE(Find(Send("POST", "/register/birth", f, lan.cookie).body,
                 "id=\"f_data_child_birth_date-err\" role=\"alert\">([^<]+)<")
                .find("ngày/tháng/năm"),
            std::string::npos);
}

TEST_F(CommunePagesTest, MessagesReadAsSentencesWithoutCodesOrIsoDates) {
  Login lan = LogIn("lan");
  // A boy's century digit for a girl, and a birth after the registration.
  FormFields f = Birth(lan, "056225000123");
  f[7].second = "02/07/2025";
  Response r = Send("POST", "/register/birth", f, lan.cookie);
  ASSERT_EQ(r.status, 422);
  const std::string id =
      Find(r.body, "id=\"f_data_child_personal_id-err\" role=\"alert\">([^<]+)<");
  EXPECT_EQ(id.rfind("Chữ số thứ 4", 0), 0u) << id;  // a capital, no "field:" before it
  EXPECT_NE(id.find("giới tính nữ"), std::string::npos) << id;
  EXPECT_EQ(id.find(" F "), std::string::npos) << id;
  EXPECT_EQ(id.back(), '.');
  const std::string date =
      Find(r.body, "id=\"f_data_child_birth_date-err\" role=\"alert\">([^<]+)<");
  EXPECT_NE(date.find("02/07/2025"), std::string::npos) << date;
  EXPECT_NE(date.find("«Ngày đăng ký» (01/07/2025)"), std::string::npos) << date;
  // Nothing a person would not write, in any message of the page.
  std::string messages;
  const std::regex message("role=\"alert\"[^>]*>(.*?)</(span|div)>");
  for (std::sregex_iterator it(r.body.begin(), r.body.end(), message), end; it != end; ++it)
    messages += std::regex_replace((*it)[1].str(), std::regex("<[^>]*>"), " ") + "\n";
  EXPECT_NE(messages.find("chữ số thứ 4"), std::string::npos) << messages;
  for (const char* raw : {"2025-07-0", "data.child", "registered_at", "trường", "«Số định danh"}) {
    EXPECT_EQ(messages.find(raw), std::string::npos) << raw << " in " << messages;
  }
}

TEST_F(CommunePagesTest, FormsFillWhatTheyCanAndAskOnlyWhatTheyMust) {
  Login lan = LogIn("lan");
  Response birth = Get("/register/birth", lan.cookie);
  ASSERT_EQ(birth.status, 200);
  EXPECT_NE(birth.body.find("name=\"data.registrar\" value=\"Trần Thị Lan\""), std::string::npos);
  EXPECT_NE(birth.body.find("name=\"data.child.ethnicity\" aria-required=\"true\" value=\"Kinh\""),
            std::string::npos);
  EXPECT_NE(
      birth.body.find("name=\"data.child.nationality\" aria-required=\"true\" value=\"Việt Nam\" "
                      "list=\"nationalities\""),
      std::string::npos);
  // A parent may be unknown: nothing filled in until the officer begins it.
  EXPECT_NE(birth.body.find("name=\"data.mother.ethnicity\" value=\"\" data-default=\"Kinh\""),
            std::string::npos);
  // Name parts first, the full name after them; required only with the parent.
  EXPECT_LT(birth.body.find("id=\"f_data_mother_given_name\""),
            birth.body.find("id=\"f_data_mother_full_name\""));
  EXPECT_NE(birth.body.find("id=\"f_data_mother_full_name-hint\">bắt buộc nếu khai mục này"),
            std::string::npos);
  EXPECT_NE(birth.body.find("<div class=\"field wide\"><label for=\"f_data_child_birth_place\">"),
            std::string::npos);

  Response marriage = Get("/register/marriage", lan.cookie);
  EXPECT_NE(marriage.body.find("<input type=\"hidden\" id=\"f_data_husband_sex\" "
                               "name=\"data.husband.sex\" value=\"M\">"),
            std::string::npos);
  EXPECT_NE(marriage.body.find("name=\"data.wife.sex\" value=\"F\">"), std::string::npos);
  EXPECT_EQ(marriage.body.find("<select id=\"f_data_husband_sex\""), std::string::npos);
  EXPECT_EQ(marriage.body.find("f_data_dissolved_on"), std::string::npos);
  EXPECT_NE(Get("/register/re_registration?event=marriage", lan.cookie)
                .body.find("id=\"f_data_event_dissolved_on\""),
            std::string::npos);

  // The full name from its parts; "Việt Nam" kept as the records write it.
  FormFields f = Birth(lan, "056325000123");
  for (auto& [k, v] : f) {
    if (k == "data.child.full_name") v = "";
  }
  Response ok = Send("POST", "/register/birth", f, lan.cookie);
  ASSERT_EQ(ok.status, 303) << ok.body;
  auto rec = app_->office().GetRecord("18568-KS-2025-000001");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state.Field("data.child.full_name")->Winner()->value.ToDisplay(),
            "Nguyễn Thị Hồng");
  EXPECT_EQ(rec->state.Field("data.child.nationality")->Winner()->value.ToDisplay(), "VN");
  EXPECT_NE(Get("/records/18568-KS-2025-000001", lan.cookie).body.find("Việt Nam"),
            std::string::npos);
}

TEST_F(CommunePagesTest, AMotherYoungerThanTwelveIsAWarningNotARefusal) {
  Login lan = LogIn("lan");
  Response check = Send("POST", "/register/birth/check",
                        {{"csrf", lan.csrf},
                         {"data.child.birth_date", "20/06/2025"},
                         {"data.mother.full_name", "Lê Thị Mai"},
                         {"data.mother.birth_year", "2015"},
                         {"touched", "data.mother.birth_year"}},
                        lan.cookie);
  auto j = ParseJson(check.body, nullptr);
  ASSERT_TRUE(j && j->Find("$warnings") != nullptr) << check.body;
  const Json* w = j->Find("$warnings")->Find("data.mother.birth_year");
  ASSERT_NE(w, nullptr) << check.body;
  EXPECT_NE(w->as_string().find("Mẹ mới 10 tuổi"), std::string::npos) << w->as_string();
  EXPECT_EQ(j->Find("data.mother.birth_year")->as_string(), "");  // no error

  FormFields f = Birth(lan, "056325000123");
  f.emplace_back("data.mother.birth_year", "2015");
  Response r = Send("POST", "/register/birth", f, lan.cookie);
  EXPECT_EQ(r.status, 303) << r.body;
  EXPECT_NE(Get(Header(r, "Location"), lan.cookie).body.find("Mẹ mới 10 tuổi"), std::string::npos);
}

TEST_F(CommunePagesTest, SearchTellsPeopleApartReadsShortReferencesAndStopsAtFiftyPages) {
  Login lan = LogIn("lan");
  ASSERT_EQ(Send("POST", "/register/birth", Birth(lan, "056325000123"), lan.cookie).status, 303);
  Response r = Get("/search?q=" + UrlEncode("ks 2025/1"), lan.cookie);
  EXPECT_NE(r.body.find("/records/18568-KS-2025-000001"), std::string::npos);
  EXPECT_NE(r.body.find("<span class=\"role\">Trẻ:</span> <strong>Nguyễn Thị Hồng</strong>"),
            std::string::npos);
  EXPECT_NE(r.body.find("sinh 20/06/2025"), std::string::npos);
  EXPECT_NE(r.body.find("056325000123"), std::string::npos);
  Response far = Get("/search?q=hong&page=400", lan.cookie);
  EXPECT_EQ(far.status, 200);
  EXPECT_NE(far.body.find("id=\"search-capped\""), std::string::npos);
  EXPECT_NE(far.body.find("50 trang đầu"), std::string::npos);
}

TEST_F(CommunePagesTest, AHeadSettlesANameAndItsPartsTogetherWithAReasonOnTheRecordPage) {
  app::Office hub(Make("h", node::Role::kHub), domain::Lang::kVietnamese);
  node::Node& commune = app_->office().node();
  node::Enrol(hub.node(), commune);
  Login lan = LogIn("lan");
  ASSERT_EQ(Send("POST", "/register/birth", Birth(lan, "056325000123"), lan.cookie).status, 303);
  const std::string id = "18568-KS-2025-000001";
  node::Ingest(hub.node(), node::Envelopes(commune));
  // The given name corrected here and at the hub before either saw the other.
  clock_.Advance(1000);
  FormFields here = Birth(lan, "056325000123");
  for (auto& [k, v] : here) {
    if (k == "data.child.given_name") v = "Hoa";
    if (k == "data.child.full_name") v = "Nguyễn Thị Hoa";
  }
  here.emplace_back("reason", "giấy chứng sinh ghi Hoa");
  ASSERT_EQ(Send("POST", "/records/" + id + "/amend", here, lan.cookie).status, 303);
  hub.set_officer("Sở Tư pháp");
  ASSERT_TRUE(
      hub.Amend(id, {{"data.child.given_name", "Huệ"}, {"data.child.full_name", "Nguyễn Thị Huệ"}},
                "hồ sơ gốc ghi Huệ", kCommune)
          .ok());
  node::Ingest(hub.node(), node::Envelopes(commune));
  node::Ingest(commune, node::Envelopes(hub.node()));

  Login minh = LogIn("minh");
  Response page = Get("/records/" + id, minh.cookie);
  ASSERT_EQ(page.status, 200);
  // One form for the full name, the given name settled with it; nothing
  // chosen beforehand; a reason asked for.
  EXPECT_NE(page.body.find("name=\"field\" value=\"data.child.full_name\"><input type=\"hidden\" "
                           "name=\"with\" value=\"data.child.given_name\">"),
            std::string::npos);
  EXPECT_EQ(page.body.find("name=\"field\" value=\"data.child.given_name\""), std::string::npos);
  EXPECT_EQ(page.body.find(" checked"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"reason\" maxlength=\"2000\" class=\"wide-input\" required"),
            std::string::npos);

  // Refusals come back on the record page, at the form.
  const std::string url = "/records/" + id + "/resolve";
  Response no_reason = Send("POST", url,
                            {{"csrf", minh.csrf},
                             {"field", "data.child.full_name"},
                             {"with", "data.child.given_name"},
                             {"value", "Nguyễn Thị Hoa"},
                             {"reason", " "}},
                            minh.cookie);
  EXPECT_EQ(no_reason.status, 422);
  EXPECT_NE(no_reason.body.find("id=\"resolve-error\" role=\"alert\">Hãy ghi lý do"),
            std::string::npos);
  EXPECT_NE(no_reason.body.find("<table id=\"fields\""), std::string::npos);
  Response no_value =
      Send("POST", url, {{"csrf", minh.csrf}, {"field", "data.child.full_name"}, {"reason", "x"}},
           minh.cookie);
  EXPECT_EQ(no_value.status, 422);
  EXPECT_NE(no_value.body.find("Hãy chọn một giá trị"), std::string::npos);

  // Either side can be chosen, the one shown or the other: the parts follow.
  auto rec = app_->office().GetRecord(id);
  ASSERT_TRUE(rec.ok());
  const std::string shown = rec->state.Field("data.child.given_name")->Winner()->value.ToDisplay();
  const std::string other = shown == "Hoa" ? "Huệ" : "Hoa";
  Response done = Send("POST", url,
                       {{"csrf", minh.csrf},
                        {"field", "data.child.full_name"},
                        {"with", "data.child.given_name"},
                        {"value", "Nguyễn Thị " + other},
                        {"reason", "theo giấy chứng sinh"}},
                       minh.cookie);
  ASSERT_EQ(done.status, 303) << done.body;
  auto page_after = app_->office().Record(id);
  ASSERT_TRUE(page_after.ok());
  EXPECT_TRUE(page_after->conflicts.empty());
  EXPECT_EQ(page_after->record.state.Field("data.child.given_name")->Winner()->value.ToDisplay(),
            other);
  EXPECT_EQ(page_after->record.state.Field("data.child.full_name")->Winner()->value.ToDisplay(),
            "Nguyễn Thị " + other);
}

TEST_F(CommunePagesTest, SyncWithoutAHubAddressSaysHowToSetIt) {
  Login lan = LogIn("lan");
  Response r = Get("/sync", lan.cookie);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<table id=\"peers\""), std::string::npos);
  EXPECT_NE(r.body.find("id=\"no-upstream\""), std::string::npos);
  EXPECT_NE(r.body.find("upstream = "), std::string::npos);
  EXPECT_NE(r.body.find("máy của xã"), std::string::npos);
  EXPECT_EQ(r.body.find("nút"), std::string::npos);
  Response conflicts = Get("/conflicts", lan.cookie);
  EXPECT_NE(conflicts.body.find("<table id=\"conflict-list\""), std::string::npos);
}

}  // namespace
}  // namespace tuphap::web
