// The hub operator's console through WebApp::Handle over real stores: a hub
// of province 42 with two enrolled communes, one synced and one never; the
// communes page with who is behind, the conflict queue, the statistics with
// their chart, enrolment by upload and reconcile against an uploaded bundle,
// and the CSV of each table.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "base/file_io.h"
#include "base/line_reader.h"
#include "node/app/office.h"
#include "node/app/officers.h"
#include "node/bundle.h"
#include "node/domain/record_generator.h"
#include "node/test_nodes.h"
#include "web/format.h"
#include "web/http.h"
#include "web/webapp.h"

namespace tuphap::web {
namespace {

using node::Role;

class HubPagesTest : public node::NodesTest {
 protected:
  static constexpr const char* kHost = "127.0.0.1:8080";
  static constexpr const char* kPassword = "mat-khau-kiem-tra-1";
  static constexpr const char* kBoundary = "----tuphapTestBoundary7MA4YWxk";

  void SetUp() override {
    NodesTest::SetUp();
    hub_ = Make("hub", Role::kHub);
    c1_ = std::make_unique<app::Office>(Make("c1", Role::kCommune, kCommune),
                                        domain::Lang::kVietnamese);
    c2_ = std::make_unique<app::Office>(Make("c2", Role::kCommune, kOtherCommune),
                                        domain::Lang::kVietnamese);
    node::Enrol(*hub_, c1_->node());
    node::Enrol(*hub_, c2_->node());
    Import(*c1_, kCommune, 120, 3);
    Import(*c2_, kOtherCommune, 10, 4);
    // The first commune synced a moment ago (as the transport records a
    // session); the second never has.
    node::Ingest(*hub_, node::Envelopes(c1_->node()));
    ASSERT_TRUE(
        hub_->RecordPeerSession(c1_->node().sign_key(), "tcp://10.0.0.5:7700", true, 120, 0, 0)
            .ok());

    app::Officers officers(hub_->store(), clock_, domain::Lang::kVietnamese);
    ASSERT_TRUE(officers.Add("op", "Nguyễn Văn Hùng", app::Role::kOperator, kPassword).ok());
    ASSERT_TRUE(officers.Add("lan", "Trần Thị Lan", app::Role::kOfficer, kPassword).ok());
    auto office = std::make_unique<app::Office>(Open("hub"), domain::Lang::kVietnamese);
    ASSERT_TRUE(office->node().Unlock().ok());
    WebOptions o;
    o.clock = &clock_;
    o.hosts = {kHost};
    o.behind_after_s = 24 * 3600;
    auto tz = TimeZone::Named(o.time_zone);
    ASSERT_TRUE(tz.ok());
    app_ = std::make_unique<WebApp>(std::move(office), std::move(*tz), o);
  }

  // Generated records of `commune`, registered over the first half of 2025
  // (the clock stands at 2025-07-01), imported as an officer would.
  void Import(app::Office& office, const std::string& commune, int records, uint64_t seed,
              const std::string& from = "2025-01-01", const std::string& to = "2025-06-30") {
    domain::GeneratorOptions g;
    g.seed = seed;
    g.communes = {commune};
    g.records = records;
    g.from = from;
    g.to = to;
    const std::string path = Dir(commune + ".jsonl");
    {
      std::ofstream out(path);
      domain::GenerateRecords(g, [&](const std::string& line) {
        out << line << '\n';
        if (first_birth_.empty() && commune == kCommune &&
            line.find("\"type\":\"birth\"") != std::string::npos) {
          std::smatch m;
          if (std::regex_search(line, m, std::regex("\"record_id\":\"([^\"]+)\"")))
            first_birth_ = m[1].str();
        }
      });
    }
    auto reader = LineReader::Open(path);
    ASSERT_TRUE(reader.ok());
    auto summary = office.Import(**reader, {});
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    ASSERT_EQ(summary->accepted, static_cast<uint64_t>(records));
  }

  Response Send(Request r, const std::string& cookie) {
    r.headers["host"] = kHost;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return app_->Handle(r);
  }
  Response Get(const std::string& target, const std::string& cookie) {
    Request r;
    r.method = "GET";
    r.target = target;
    return Send(std::move(r), cookie);
  }
  // A multipart/form-data POST as a browser sends an upload: the fields,
  // then the files (name, filename, bytes).
  Response Upload(const std::string& target, const FormFields& fields,
                  const std::vector<std::tuple<std::string, std::string, std::string>>& files,
                  const std::string& cookie) {
    Request r;
    r.method = "POST";
    r.target = target;
    r.headers["content-type"] = std::string("multipart/form-data; boundary=") + kBoundary;
    for (const auto& [k, v] : fields) {
      r.body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + k +
                "\"\r\n\r\n" + v + "\r\n";
    }
    for (const auto& [name, filename, bytes] : files) {
      r.body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" +
                name + "\"; filename=\"" + filename +
                "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n";
    }
    r.body += std::string("--") + kBoundary + "--\r\n";
    return Send(std::move(r), cookie);
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
    Request r;
    r.method = "POST";
    r.target = "/login";
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    r.body = "csrf=" + Find(page.body, "name=\"csrf\" value=\"([0-9a-f]+)\"") + "&login=" + login +
             "&password=" + kPassword;
    Response in = Send(std::move(r), c0.substr(0, c0.find(';')));
    EXPECT_EQ(in.status, 303) << in.body;
    const std::string c = Header(in, "Set-Cookie");
    Login out{c.substr(0, c.find(';')), ""};
    out.csrf = Find(Get("/hub/enrol", out.cookie).body, "name=\"csrf\" value=\"([0-9a-f]+)\"");
    return out;
  }
  // The <tr> of `commune` in the table with `id`.
  static std::string Row(const std::string& body, const std::string& id,
                         const std::string& commune) {
    const size_t table = body.find("<table id=\"" + id + "\"");
    if (table == std::string::npos) return {};
    const size_t at = body.find("data-commune=\"" + commune + "\"", table);
    if (at == std::string::npos) return {};
    const size_t start = body.rfind("<tr", at);
    return body.substr(start, body.find("</tr>", at) - start);
  }
  static std::vector<std::string> CsvLines(const std::string& body) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at < body.size()) {
      const size_t end = body.find("\r\n", at);
      out.push_back(body.substr(at, end - at));
      at = end == std::string::npos ? body.size() : end + 2;
    }
    return out;
  }

  std::unique_ptr<node::Node> hub_;
  std::unique_ptr<app::Office> c1_, c2_;
  std::unique_ptr<WebApp> app_;
  std::string first_birth_;
};

TEST_F(HubPagesTest, TheConsoleShowsEachCommuneAndWhichAreBehind) {
  const Login op = LogIn("op");
  Response page = Get("/hub", op.cookie);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<html lang=\"vi\">"), std::string::npos);
  const std::string synced = Row(page.body, "communes", kCommune);
  const std::string never = Row(page.body, "communes", kOtherCommune);
  ASSERT_FALSE(synced.empty()) << page.body;
  ASSERT_FALSE(never.empty()) << page.body;
  // Names from the reference data, times local and marked, counts grouped.
  EXPECT_NE(synced.find(app::Office::CommuneName(kCommune)), std::string::npos);
  EXPECT_EQ(synced.find("class=\"behind\""), std::string::npos) << synced;
  EXPECT_NE(synced.find("01/07/2025 07:00 (UTC+07:00)"), std::string::npos) << synced;
  EXPECT_NE(synced.find(">120<"), std::string::npos) << synced;
  EXPECT_NE(never.find("class=\"behind\""), std::string::npos) << never;
  EXPECT_NE(never.find("Chưa từng đồng bộ"), std::string::npos) << never;
  EXPECT_NE(page.body.find("id=\"summary\""), std::string::npos);
  // Words an operator reads, not the engine's; a table that fits the page
  // (no sideways scrolling box around it).
  EXPECT_NE(page.body.find("Máy ký hai lịch sử khác nhau"), std::string::npos);
  EXPECT_NE(page.body.find("Mục bị sửa khác nhau"), std::string::npos);
  EXPECT_NE(page.body.find("Hồ sơ sai quy định"), std::string::npos);
  for (const char* jargon : {"Chuỗi ký mâu thuẫn", "Xung đột trường", "Không hợp lệ"})
    EXPECT_EQ(page.body.find(jargon), std::string::npos) << jargon;
  EXPECT_EQ(page.body.find("<div class=\"scroll\"><table id=\"communes\""), std::string::npos);

  // Two days on, the synced one is behind too (threshold one day); the
  // session timed out meanwhile.
  clock_.Advance(2 * 24 * 3600 * 1000);
  const Login later = LogIn("op");
  page = Get("/hub", later.cookie);
  EXPECT_NE(Row(page.body, "communes", kCommune).find("class=\"behind\""), std::string::npos);

  // The same table as CSV: UTF-8 with a BOM, ISO times with the offset.
  Response csv = Get("/hub?format=csv", later.cookie);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_NE(Header(csv, "Content-Disposition").find("attachment"), std::string::npos);
  ASSERT_EQ(csv.body.substr(0, 3), "\xEF\xBB\xBF");
  const auto lines = CsvLines(csv.body.substr(3));
  ASSERT_GE(lines.size(), 3u);
  // The header line: machine keys, the same in every language.
  EXPECT_EQ(lines[0].rfind("commune,name,state,", 0), 0u) << lines[0];
  bool found = false;
  for (const auto& l : lines) {
    if (l.rfind(std::string(kCommune) + ",", 0) != 0) continue;
    found = true;
    EXPECT_NE(l.find("2025-07-01T07:00:00+07:00"), std::string::npos) << l;
    EXPECT_NE(l.find(",120,"), std::string::npos) << l;
  }
  EXPECT_TRUE(found) << csv.body;
}

TEST_F(HubPagesTest, OnlyAnOperatorOpensTheConsole) {
  const Login lan = LogIn("lan");
  for (const char* path : {"/hub", "/hub/conflicts", "/hub/stats", "/hub/reconcile", "/hub/enrol",
                           "/hub?format=csv"}) {
    EXPECT_EQ(Get(path, lan.cookie).status, 403) << path;
  }
  Response anon = Get("/hub/stats", "");
  EXPECT_EQ(anon.status, 303);
  EXPECT_EQ(Header(anon, "Location").rfind("/login?next=", 0), 0u);
}

TEST_F(HubPagesTest, TheConflictQueueShowsBothValuesEscapedWithWhoAndWhen) {
  ASSERT_FALSE(first_birth_.empty());
  // A correction at the commune and another at the hub, concurrently.
  Status at_commune = c1_->Amend(
      first_birth_,
      {{"data.child.birth_place", "Trạm Y tế xã"}, {"data.child.birth_date", "2024-06-01"}},
      "sai nơi sinh");
  ASSERT_TRUE(at_commune.ok()) << at_commune.ToString();
  app::Office at_hub(Open("hub"), domain::Lang::kVietnamese);
  at_hub.set_officer("Phạm Thu Hà");
  Status s = at_hub.Amend(first_birth_,
                          {{"data.child.birth_place", "Bệnh viện <script>alert(1)</script>"},
                           {"data.child.birth_date", "2024-06-02"}},
                          "theo giấy chứng sinh", kCommune);
  ASSERT_TRUE(s.ok()) << s.ToString();
  node::Ingest(*hub_, node::Envelopes(c1_->node()));

  const Login op = LogIn("op");
  Response page = Get("/hub/conflicts", op.cookie);
  ASSERT_EQ(page.status, 200);
  // The record by its register reference, the id only in the link.
  const std::string ref = Find(first_birth_, "-([A-Z]+)-") + " " +
                          Find(first_birth_, "-(\\d{4})-") + "/" + Find(first_birth_, "-(\\d+)$");
  ASSERT_GT(ref.size(), std::string("KS 2025/1").size() - 1) << first_birth_;
  EXPECT_NE(page.body.find("href=\"/records/" + first_birth_ + "\">" + ref + "</a>"),
            std::string::npos)
      << page.body;
  EXPECT_EQ(page.body.find(">" + first_birth_ + "<"), std::string::npos);
  // The field by its label; its path is the CSV's.
  EXPECT_NE(page.body.find("Nơi sinh (Trẻ)"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("data.child.birth_place"), std::string::npos);
  // Each value's machine by who it is: the commune by name, the hub as
  // such; no node id.
  const std::string values = page.body.substr(page.body.find("<ul class=\"values\">"));
  EXPECT_NE(values.find(app::Office::CommuneName(kCommune)), std::string::npos);
  EXPECT_NE(values.find("Sở Tư pháp (máy này)"), std::string::npos);
  EXPECT_EQ(page.body.find(node::NodeIdText(c1_->node().sign_key())), std::string::npos);
  EXPECT_EQ(page.body.find(node::NodeIdText(hub_->sign_key())), std::string::npos);
  EXPECT_NE(page.body.find("Trạm Y tế xã"), std::string::npos);
  // A date as people write it, as on the record page.
  EXPECT_NE(values.find("01/06/2024"), std::string::npos) << values;
  EXPECT_NE(values.find("02/06/2024"), std::string::npos) << values;
  EXPECT_EQ(values.find("2024-06-01"), std::string::npos) << values;
  EXPECT_NE(page.body.find("Bệnh viện &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.body.find("Phạm Thu Hà"), std::string::npos);
  EXPECT_NE(page.body.find("(UTC+07:00)"), std::string::npos);
  EXPECT_NE(page.body.find("Khai sinh"), std::string::npos);

  Response csv = Get("/hub/conflicts?format=csv", op.cookie);
  ASSERT_EQ(csv.status, 200);
  const auto lines = CsvLines(csv.body.substr(3));
  // Codes beside their words: the path beside the label, the node id
  // beside the machine, the type code beside the type.
  // The header: machine keys, the same in every language.
  EXPECT_EQ(lines[0].rfind("record,reference,commune,name,type,type_name,field,field_label,", 0),
            0u)
      << lines[0];
  int rows = 0;
  for (const auto& l : lines) {
    if (l.rfind(first_birth_ + ",", 0) != 0) continue;
    ++rows;
    EXPECT_NE(l.find("," + ref + ","), std::string::npos) << l;
    EXPECT_TRUE(l.find(",data.child.birth_place,Nơi sinh (Trẻ),") != std::string::npos ||
                l.find(",data.child.birth_date,\"Ngày, tháng, năm sinh (Trẻ)\",2024-06-0") !=
                    std::string::npos)
        << l;
    EXPECT_NE(l.find(",birth,Khai sinh,"), std::string::npos) << l;
    EXPECT_NE(l.find("+07:00"), std::string::npos) << l;
  }
  EXPECT_EQ(rows, 4) << csv.body;  // two fields, two values each
  // The hub's page shows it among the communes' figures too.
  EXPECT_NE(Row(Get("/hub", op.cookie).body, "communes", kCommune).find("num attn"),
            std::string::npos);
}

TEST_F(HubPagesTest, StatisticsByCommuneTypeAndMonthWithAChart) {
  const Login op = LogIn("op");
  Response page = Get("/hub/stats", op.cookie);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<svg id=\"chart\""), std::string::npos);
  EXPECT_NE(page.body.find("<title id=\"chart-title\">"), std::string::npos);
  EXPECT_NE(page.body.find("<table id=\"stats\""), std::string::npos);
  // Months under the bars written short, so that they never run together.
  const std::string chart =
      page.body.substr(page.body.find("<svg id=\"chart\""),
                       page.body.find("</svg>") - page.body.find("<svg id=\"chart\""));
  EXPECT_NE(chart.find(">06/25</text>"), std::string::npos) << chart;
  EXPECT_NE(chart.find(">01/25</text>"), std::string::npos) << chart;
  EXPECT_NE(page.body.find("Khai sinh"), std::string::npos);
  EXPECT_EQ(page.body.find(" style="), std::string::npos) << "the CSP forbids inline styles";

  // The figures are report stats': the total of the page is theirs, money
  // written the Vietnamese way.
  auto rows = app_->office().Stats({});
  ASSERT_TRUE(rows.ok());
  uint64_t count = 0;
  int64_t fined = 0;
  for (const auto& r : *rows) {
    count += r.count;
    fined += r.fines_issued_vnd;
  }
  EXPECT_EQ(count, 120u);
  EXPECT_NE(
      page.body.find(">" + Count(static_cast<int64_t>(count), domain::Lang::kVietnamese) + "<"),
      std::string::npos);
  ASSERT_GT(fined, 0) << "the generated violation decisions include fines";
  EXPECT_NE(page.body.find(Money(fined, domain::Lang::kVietnamese)), std::string::npos);

  // A period: only its months.
  page = Get("/hub/stats?from=01/03/2025&to=31/03/2025", op.cookie);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("data-period=\"2025-03\""), std::string::npos);
  EXPECT_EQ(page.body.find("data-period=\"2025-04\""), std::string::npos);
  Response csv = Get("/hub/stats?format=csv&from=01/03/2025&to=31/03/2025", op.cookie);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  for (const auto& l : CsvLines(csv.body.substr(3))) {
    if (l.empty() || l.rfind("commune,", 0) == 0) continue;
    EXPECT_NE(l.find(",2025-03,"), std::string::npos) << l;
  }

  // Dates people get wrong are said so, in Vietnamese, at the form.
  page = Get("/hub/stats?from=31/02/2025", op.cookie);
  EXPECT_EQ(page.status, 422);
  EXPECT_NE(page.body.find("id=\"form-error\""), std::string::npos);
  page = Get("/hub/stats?from=01/04/2025&to=01/03/2025", op.cookie);
  EXPECT_EQ(page.status, 422);
}

TEST_F(HubPagesTest, MonthLabelsUnderTheChartNeverRunTogether) {
  // Four and a half years of months: far more than labels fit under.
  Import(*c2_, kOtherCommune, 300, 9, "2021-01-01", "2024-12-31");
  node::Ingest(*hub_, node::Envelopes(c2_->node()));
  const Login op = LogIn("op");
  Response page = Get("/hub/stats", op.cookie);
  ASSERT_EQ(page.status, 200);
  const size_t from = page.body.find("<svg id=\"chart\"");
  const std::string chart = page.body.substr(from, page.body.find("</svg>", from) - from);
  const std::regex label("<text class=\"axis\" x=\"([0-9.]+)\"[^>]*>(\\d\\d)/(\\d\\d)</text>");
  std::vector<double> xs;
  std::set<std::string> months;
  for (auto it = std::sregex_iterator(chart.begin(), chart.end(), label);
       it != std::sregex_iterator(); ++it) {
    xs.push_back(std::stod((*it)[1].str()));
    months.insert((*it)[2].str());
  }
  ASSERT_GE(xs.size(), 4u) << chart;
  // A label is about 34 units wide at 12px: 56 apart leaves room between
  // them at any width the page scales the chart to.
  for (size_t i = 1; i < xs.size(); ++i) EXPECT_GE(xs[i] - xs[i - 1], 56.0) << chart;
  // The same months each year, January among them.
  EXPECT_TRUE(months.count("01")) << chart;
  EXPECT_LE(months.size(), 6u) << chart;
}

TEST_F(HubPagesTest, EnrolmentTakesAnUploadedRequestAndAnswersTheFile) {
  const Login op = LogIn("op");
  auto commune = Make("c3", Role::kCommune, "18100");
  auto request = commune->EnrollRequestFile("máy 1");
  ASSERT_TRUE(request.ok());

  Response form = Get("/hub/enrol", op.cookie);
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("enctype=\"multipart/form-data\""), std::string::npos);
  EXPECT_NE(form.body.find("name=\"request\""), std::string::npos);
  EXPECT_NE(form.body.find("name=\"days\""), std::string::npos);
  // The token is a field of the form, never in its URL; the steps ask no
  // commune officer to type a command.
  const std::string enrol_form = form.body.substr(form.body.find("<form id=\"enrol-form\""));
  EXPECT_NE(enrol_form.find("action=\"/hub/enrol\""), std::string::npos) << enrol_form;
  EXPECT_NE(enrol_form.substr(0, enrol_form.find("</form>")).find("name=\"csrf\""),
            std::string::npos);
  EXPECT_EQ(form.body.find("csrf="), std::string::npos);
  EXPECT_NE(form.body.find("kỹ thuật viên"), std::string::npos);

  // No token: refused before anything is read; a token in the URL alone
  // is not one either.
  EXPECT_EQ(Upload("/hub/enrol", {{"days", "30"}}, {{"request", "r", *request}}, op.cookie).status,
            403);
  EXPECT_EQ(Upload("/hub/enrol", {{"csrf", "0" + op.csrf}, {"days", "30"}},
                   {{"request", "r", *request}}, op.cookie)
                .status,
            403);

  const std::string target = "/hub/enrol";
  Response bad = Upload(target, {{"csrf", op.csrf}, {"days", "30"}},
                        {{"request", "r", "not a request"}}, op.cookie);
  EXPECT_EQ(bad.status, 422);
  // The sentence for the operator; the node's English words folded away
  // for the technician.
  const std::string error = Find(bad.body, "<p class=\"error\" id=\"form-error\"[^>]*>([^<]*)</p>");
  EXPECT_NE(error.find("không phải tệp yêu cầu cấp phép"), std::string::npos) << bad.body;
  EXPECT_EQ(error.find("enrolment request"), std::string::npos) << error;
  EXPECT_NE(bad.body.find("<details class=\"tech-detail\">"), std::string::npos) << bad.body;

  auto foreign = Make("x", Role::kCommune, "22333");  // Khánh Hòa, province 56
  auto foreign_request = foreign->EnrollRequestFile("");
  ASSERT_TRUE(foreign_request.ok());
  bad = Upload(target, {{"csrf", op.csrf}, {"days", "30"}}, {{"request", "r", *foreign_request}},
               op.cookie);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("không thuộc tỉnh"), std::string::npos) << bad.body;

  bad = Upload(target, {{"csrf", op.csrf}, {"days", "0"}}, {{"request", "r", *request}}, op.cookie);
  EXPECT_EQ(bad.status, 422);
  bad = Upload(target, {{"csrf", op.csrf}, {"days", "30"}}, {}, op.cookie);
  EXPECT_EQ(bad.status, 422);

  Response file = Upload(target, {{"csrf", op.csrf}, {"days", "30"}},
                         {{"request", "18100.request", *request}}, op.cookie);
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.content_type, "application/octet-stream");
  EXPECT_EQ(Header(file, "Content-Disposition"), "attachment; filename=\"18100.enrolment\"");
  auto accepted = commune->EnrollAccept(file.body);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->first.commune, "18100");
  // The commune is on the console now, never synced.
  const std::string row = Row(Get("/hub", op.cookie).body, "communes", "18100");
  EXPECT_NE(row.find("class=\"behind\""), std::string::npos) << row;
}

TEST_F(HubPagesTest, ReconcileAgainstAnUploadedBundleListsWhatDiffers) {
  const Login op = LogIn("op");
  // The never-synced commune's records, carried as a bundle for the hub.
  const std::string path = Dir("c2.bundle");
  auto exported = c2_->ExportBundle(node::NodeIdText(hub_->sign_key()), true, path);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto bytes = ReadFileBounded(path, 16 << 20);
  ASSERT_TRUE(bytes.ok());

  const std::string target = "/hub/reconcile";
  const std::string page0 = Get(target, op.cookie).body;
  EXPECT_NE(page0.find("action=\"/hub/reconcile\""), std::string::npos);
  EXPECT_EQ(page0.find("csrf="), std::string::npos);
  EXPECT_NE(page0.find("64 MiB"), std::string::npos);
  Response page = Upload(target, {{"csrf", op.csrf}, {"commune", kOtherCommune}, {"peer", ""}},
                         {{"from", "c2.bundle", *bytes}}, op.cookie);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("id=\"reconcile-result\""), std::string::npos);
  EXPECT_NE(page.body.find("c2.bundle"), std::string::npos);
  const size_t there = page.body.find("<table id=\"only-there\"");
  ASSERT_NE(there, std::string::npos) << page.body;
  EXPECT_NE(page.body.find("/records/" + std::string(kOtherCommune) + "-", there),
            std::string::npos);
  EXPECT_EQ(page.body.find("<table id=\"only-here\""), std::string::npos);

  Response csv = Upload(target, {{"csrf", op.csrf}, {"commune", kOtherCommune}, {"format", "csv"}},
                        {{"from", "c2.bundle", *bytes}}, op.cookie);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(CsvLines(csv.body.substr(3)).size(), 1u + 10u);  // the header, each record

  // One other copy exactly, and a commune code that is one.
  EXPECT_EQ(Upload(target, {{"csrf", op.csrf}, {"peer", "X@tcp://127.0.0.1:1"}},
                   {{"from", "b", *bytes}}, op.cookie)
                .status,
            422);
  EXPECT_EQ(Upload(target, {{"csrf", op.csrf}}, {}, op.cookie).status, 422);
  Response bad =
      Upload(target, {{"csrf", op.csrf}, {"commune", "12"}}, {{"from", "b", *bytes}}, op.cookie);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("id=\"form-error\""), std::string::npos);
}

}  // namespace
}  // namespace tuphap::web
