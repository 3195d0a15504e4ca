// The web app's core without a browser: HTTP parsing, times and money, the
// catalogue, and every check a request passes (Host, Origin, CSRF, session,
// idle timeout, role, disabled account, lockout, escaping) through
// WebApp::Handle over a real store; and the HTTP server's bounds over a real
// socket. The python tests in tests/web/ drive the real binary and browser.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "node/app/office.h"
#include "node/app/officers.h"
#include "node/test_nodes.h"
#include "web/format.h"
#include "web/html.h"
#include "web/http.h"
#include "web/i18n.h"
#include "web/jobs.h"
#include "web/server.h"
#include "web/webapp.h"

namespace tuphap::web {
namespace {

TEST(WebHttp, FormFieldsDecodePlusAndPercentAndKeepBadEscapes) {
  FormFields f = ParseFormFields("a=1+2&b=%C4%91%E1%BB%97&c=%zz&d=%4&e&=x");
  EXPECT_EQ(FieldValue(f, "a"), "1 2");
  EXPECT_EQ(FieldValue(f, "b"), "đỗ");
  EXPECT_EQ(FieldValue(f, "c"), "%zz");
  EXPECT_EQ(FieldValue(f, "d"), "%4");
  EXPECT_EQ(FieldValue(f, "e"), "");
  EXPECT_EQ(FieldValue(f, ""), "x");
  EXPECT_EQ(UrlDecode(UrlEncode("Nguyễn Thị Hồng /?&=")), "Nguyễn Thị Hồng /?&=");
}

TEST(WebHttp, CookiesAndPathAndQuery) {
  Request r;
  r.target = "/records/abc%20d?q=nguyen+thi&page=2";
  r.headers["cookie"] = "a=1; tuphap_session=tok; b=2";
  EXPECT_EQ(r.Path(), "/records/abc d");
  EXPECT_EQ(FieldValue(r.Query(), "q"), "nguyen thi");
  EXPECT_EQ(FieldValue(r.Query(), "page"), "2");
  EXPECT_EQ(r.Cookie("tuphap_session"), "tok");
  EXPECT_EQ(r.Cookie("c"), "");
}

TEST(WebHttp, MultipartPartsAndMalformedBodies) {
  const std::string type = "multipart/form-data; boundary=XyZ";
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"days\"\r\n\r\n365\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"request\"; filename=\"r.req\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\x01\x02\r\n\x03\r\n--XyZ--\r\n";
  auto parts = ParseMultipart(type, body);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "days");
  EXPECT_EQ((*parts)[0].data, "365");
  EXPECT_EQ((*parts)[1].filename, "r.req");
  EXPECT_EQ((*parts)[1].data, std::string("\x01\x02\r\n\x03"));
  EXPECT_FALSE(ParseMultipart("text/plain", body).has_value());
  EXPECT_FALSE(ParseMultipart(type, body.substr(0, body.size() / 2)).has_value());
  EXPECT_FALSE(ParseMultipart("multipart/form-data", body).has_value());
}

TEST(WebFormat, TimesAreLocalAndMarkedDatesAndMoneyAreVietnamese) {
  auto tz = TimeZone::Named("Asia/Ho_Chi_Minh");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  const int64_t ms = 1'733'382'000'000;  // 2024-12-05T07:00:00Z
  EXPECT_EQ(tz->Human(ms), "05/12/2024 14:00 (UTC+07:00)");
  EXPECT_EQ(tz->Iso(ms), "2024-12-05T14:00:00+07:00");
  // A change's clock in JSON: to the millisecond, the same offset.
  EXPECT_EQ(tz->IsoMillis(ms + 45), "2024-12-05T14:00:00.045+07:00");
  EXPECT_EQ(tz->IsoMillis(ms + 1999), "2024-12-05T14:00:01.999+07:00");
  EXPECT_EQ(tz->Date(1'733'419'800'000), "2024-12-06");  // 17:30Z is the next day in Vietnam
  EXPECT_EQ(tz->Human(0), "");
  auto paris = TimeZone::Named("Europe/Paris");
  ASSERT_TRUE(paris.ok());
  EXPECT_EQ(paris->Iso(ms), "2024-12-05T08:00:00+01:00");
  EXPECT_FALSE(TimeZone::Named("Mars/Olympus").ok());
  EXPECT_EQ(DisplayDate("2026-02-03"), "03/02/2026");
  EXPECT_EQ(ParseDisplayDate("03/02/2026"), "2026-02-03");
  EXPECT_EQ(ParseDisplayDate("3/2/2026"), "2026-02-03");
  EXPECT_EQ(ParseDisplayDate("2026-02-03"), "2026-02-03");
  EXPECT_FALSE(ParseDisplayDate("31/02/2026").has_value());
  EXPECT_FALSE(ParseDisplayDate("03/02/2026x").has_value());
  EXPECT_FALSE(ParseDisplayDate("-1/02/2026").has_value());
  EXPECT_EQ(Money(77'650'000, domain::Lang::kVietnamese), "77.650.000 ₫");
  EXPECT_EQ(Money(500, domain::Lang::kVietnamese), "500 ₫");
  EXPECT_EQ(Money(1'234'567, domain::Lang::kEnglish), "1,234,567 VND");
}

TEST(WebHtml, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(Esc("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
}

// Every key a page asks for is in the catalogue, in both languages.
TEST(WebCatalogue, EveryKeyTheSourcesUseIsTranslated) {
  std::set<std::string> keys;
  const std::regex use("\\bT\\(\"([a-z0-9_.\\-]+)\"\\)");
  for (const auto& entry : std::filesystem::directory_iterator(TUPHAP_SOURCE_DIR "/web")) {
    if (entry.path().extension() != ".cc" || entry.path().filename() == "web_test.cc") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), use), end; it != end; ++it)
      keys.insert((*it)[1].str());
  }
  EXPECT_GT(keys.size(), 20u);
  for (const std::string& k : keys) {
    EXPECT_TRUE(HasKey(k)) << "web/catalogue.tsv lacks " << k;
  }
  std::set<std::string> seen;
  std::ifstream in(TUPHAP_SOURCE_DIR "/web/catalogue.tsv");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    ASSERT_NE(b, std::string::npos) << "catalogue.tsv:" << n << ": not key<TAB>vi<TAB>en";
    EXPECT_GT(b, a + 1) << "catalogue.tsv:" << n << ": no Vietnamese";
    EXPECT_GT(line.size(), b + 1) << "catalogue.tsv:" << n << ": no English";
    EXPECT_TRUE(seen.insert(line.substr(0, a)).second)
        << "catalogue.tsv:" << n << ": " << line.substr(0, a) << " twice";
  }
}

class WebAppTest : public node::NodesTest {
 protected:
  static constexpr const char* kHost = "127.0.0.1:8080";

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
    o.idle_timeout_s = 600;
    auto tz = TimeZone::Named(o.time_zone);
    ASSERT_TRUE(tz.ok());
    app_ = std::make_unique<WebApp>(std::move(office), std::move(*tz), o);
  }

  Response Get(const std::string& target, const std::string& cookie = {},
               const std::string& host = kHost) {
    Request r;
    r.method = "GET";
    r.target = target;
    if (!host.empty()) r.headers["host"] = host;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return app_->Handle(r);
  }
  Response Post(const std::string& target, const std::string& body, const std::string& cookie,
                const std::string& origin = {}) {
    Request r;
    r.method = "POST";
    r.target = target;
    r.headers["host"] = kHost;
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    if (!origin.empty()) r.headers["origin"] = origin;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    r.body = body;
    return app_->Handle(r);
  }
  static std::string Header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }
  static std::string CookieOf(const Response& r) {
    const std::string c = Header(r, "Set-Cookie");
    return c.substr(0, c.find(';'));
  }
  static std::string Csrf(const Response& r) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")));
    return m.size() > 1 ? m[1].str() : "";
  }
  // Logs in; returns the session cookie and its CSRF token.
  std::pair<std::string, std::string> LogIn(const std::string& login,
                                            const std::string& password = kPassword) {
    Response page = Get("/login");
    const std::string cookie = CookieOf(page);
    Response r =
        Post("/login", "csrf=" + Csrf(page) + "&login=" + login + "&password=" + password, cookie);
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string session = CookieOf(r);
    EXPECT_NE(session, cookie) << "the session after login must be a new one (fixation)";
    return {session, Csrf(Get("/search", session))};
  }

  static constexpr const char* kPassword = "mat-khau-kiem-tra-1";
  std::unique_ptr<WebApp> app_;
};

TEST_F(WebAppTest, AForeignHostOrOriginOrCrossSiteFetchIsRefused) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/healthz", "", "evil.example").status, 421);
  EXPECT_EQ(Get("/login", "", "").status, 421);
  EXPECT_EQ(Get("/login", "", "127.0.0.1:8081").status, 421);
  auto [cookie, csrf] = LogIn("lan");
  EXPECT_EQ(Post("/logout", "csrf=" + csrf, cookie, "http://evil.example").status, 403);
  Request r;
  r.method = "GET";
  r.target = "/";
  r.headers["host"] = kHost;
  r.headers["cookie"] = cookie;
  r.headers["sec-fetch-site"] = "cross-site";
  EXPECT_EQ(app_->Handle(r).status, 403);
  EXPECT_EQ(Get("/", cookie).status, 200) << "the session is still good";
}

TEST_F(WebAppTest, LoginNeedsTheFormsTokenAndGivesAStrictHttpOnlyCookie) {
  Response none = Get("/records/x");
  EXPECT_EQ(none.status, 303);
  EXPECT_EQ(Header(none, "Location"), "/login?next=%2Frecords%2Fx");
  Response page = Get("/login");
  EXPECT_NE(page.body.find("<html lang=\"vi\""), std::string::npos);
  // The script's messages come with the page, from the catalogue.
  EXPECT_NE(page.body.find("&quot;js.no_such_day&quot;:&quot;Không có ngày {0}: tháng {1} chỉ "
                           "có {2} ngày.&quot;"),
            std::string::npos);
  EXPECT_NE(Header(page, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(Header(page, "Content-Security-Policy").find("unsafe-inline"), std::string::npos);
  const std::string cookie = CookieOf(page);
  EXPECT_EQ(Post("/login", "login=lan&password=" + std::string(kPassword), cookie).status, 403);
  EXPECT_EQ(Post("/login", "csrf=" + std::string(64, 'a') + "&login=lan&password=x", cookie).status,
            403);
  Response wrong =
      Post("/login", "csrf=" + Csrf(page) + "&login=lan&password=wrong-password-1", cookie);
  EXPECT_EQ(wrong.status, 401);
  Response ok = Post(
      "/login",
      "csrf=" + Csrf(page) + "&login=lan&password=" + kPassword + "&next=%2F%2Fevil.example%2F",
      cookie);
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(Header(ok, "Location"), "/") << "no redirect off the site after login";
  const std::string set = Header(ok, "Set-Cookie");
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(Get("/", cookie).status, 303) << "the cookie from before login is worth nothing";
}

TEST_F(WebAppTest, AnIdleSessionEndsAndADisabledOfficerIsOutAtOnce) {
  auto [cookie, csrf] = LogIn("lan");
  EXPECT_EQ(Get("/", cookie).status, 200);
  clock_.Advance(599'000);
  EXPECT_EQ(Get("/", cookie).status, 200) << "each request restarts the idle time";
  clock_.Advance(601'000);
  EXPECT_EQ(Get("/", cookie).status, 303) << "idle past the timeout";

  auto [cookie2, csrf2] = LogIn("lan");
  app::Officers officers(app_->office().node().store(), clock_, domain::Lang::kEnglish);
  ASSERT_TRUE(officers.Disable("lan").ok());
  EXPECT_EQ(Get("/", cookie2).status, 303);
  Response page = Get("/login");
  Response r =
      Post("/login", "csrf=" + Csrf(page) + "&login=lan&password=" + kPassword, CookieOf(page));
  EXPECT_EQ(r.status, 401);
}

TEST_F(WebAppTest, FiveWrongPasswordsLockTheAccount) {
  for (int i = 0; i < app::Officers::kMaxFailures; ++i) {
    Response page = Get("/login");
    EXPECT_EQ(Post("/login", "csrf=" + Csrf(page) + "&login=lan&password=wrong-password-1",
                   CookieOf(page))
                  .status,
              401);
  }
  Response page = Get("/login");
  Response r =
      Post("/login", "csrf=" + Csrf(page) + "&login=lan&password=" + kPassword, CookieOf(page));
  EXPECT_EQ(r.status, 401) << "locked: even the right password is refused";
  clock_.Advance(
      std::chrono::duration_cast<std::chrono::milliseconds>(app::Officers::kLockout).count() +
      1000);
  LogIn("lan");
}

TEST_F(WebAppTest, AnOfficerCannotRevokeResolveOrOpenTheConsole) {
  auto [cookie, csrf] = LogIn("lan");
  EXPECT_EQ(Get("/hub", cookie).status, 403);
  EXPECT_EQ(Post("/records/x/revoke", "csrf=" + csrf + "&reason=r", cookie).status, 403);
  EXPECT_EQ(Post("/records/x/resolve", "csrf=" + csrf + "&field=f&value=v&reason=r", cookie).status,
            403);
}

TEST_F(WebAppTest, WhatAnOfficerTypedIsEscapedOnTheRecordPage) {
  auto gen = app_->office().Register(
      "birth", *ParseJson(R"({"data":{"child":{"full_name":"Nguyễn Thị Hồng"}}})", nullptr));
  // The registration itself may be refused for missing fields; the escaping
  // is what is tested, on a record that exists.
  std::string id;
  if (gen.ok()) {
    id = gen->id;
  } else {
    auto created = app_->office().node().CreateRecord(
        "", "birth", "", {{"data.child.full_name", crdt::Value::String("Nguyễn Thị Hồng")}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    id = *created;
  }
  ASSERT_TRUE(app_->office()
                  .node()
                  .SetFields(id,
                             {{"data.notes", crdt::Value::String("<script>alert(\"x\")</script>")}},
                             "<b>reason</b>")
                  .ok());
  auto [cookie, csrf] = LogIn("minh");
  Response page = Get("/records/" + id, cookie);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.body.find("<b>reason"), std::string::npos);
  // Shown, escaped: the note among the fields, the reason in the history.
  EXPECT_NE(page.body.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;b&gt;reason&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(page.body.find("Nguyễn Thị Hồng"), std::string::npos);
}

TEST_F(WebAppTest, AFloodOfAnonymousSessionsPushesNoOfficerOut) {
  // Small rooms, so that the flood fills the anonymous one many times over.
  WebOptions o = app_->options();
  o.max_sessions = 2;
  o.max_anonymous_sessions = 4;
  auto tz = TimeZone::Named(o.time_zone);
  ASSERT_TRUE(tz.ok());
  auto office = std::move(app_);
  app_ = std::make_unique<WebApp>(
      std::make_unique<app::Office>(Open("c"), domain::Lang::kVietnamese), std::move(*tz), o);
  office.reset();
  auto [cookie, csrf] = LogIn("lan");
  const std::string first_anonymous = CookieOf(Get("/login"));
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(1);
    Get("/login");
  }
  EXPECT_EQ(Get("/", cookie).status, 200) << "the officer's session outlived the flood";
  Response again = Get("/login", first_anonymous);
  EXPECT_FALSE(Header(again, "Set-Cookie").empty())
      << "the flood's oldest anonymous session was the one that went";
  // Logged-in sessions share a room of their own: a third login pushes out
  // the session idle longest.
  clock_.Advance(1000);
  auto second = LogIn("minh");
  clock_.Advance(1000);
  Get("/", second.first);
  LogIn("minh");
  EXPECT_EQ(Get("/", cookie).status, 303) << "the session idle longest went";
  EXPECT_EQ(Get("/", second.first).status, 200);
}

TEST_F(WebAppTest, ANewPasswordEndsTheSessionsOpenedBeforeIt) {
  auto [cookie, csrf] = LogIn("lan");
  auto [other, other_csrf] = LogIn("minh");
  app::Officers officers(app_->office().node().store(), clock_, domain::Lang::kEnglish);
  ASSERT_TRUE(officers.SetPassword("lan", "another-password-2").ok());
  EXPECT_EQ(Get("/", cookie).status, 303);
  EXPECT_EQ(Get("/", other).status, 200) << "another officer's session goes on";
  LogIn("lan", "another-password-2");
}

TEST_F(WebAppTest, ASessionEndsTwelveHoursAfterLoginHoweverBusy) {
  auto [cookie, csrf] = LogIn("lan");
  for (int i = 0; i < 12 * 6; ++i) {
    clock_.Advance(10 * 60 * 1000);
    EXPECT_EQ(Get("/", cookie).status, 200) << "after " << (i + 1) * 10 << " minutes";
  }
  clock_.Advance(1000);
  EXPECT_EQ(Get("/", cookie).status, 303);
}

TEST_F(WebAppTest, ANullOriginIsRefusedAndHeadAnswersNoBody) {
  auto [cookie, csrf] = LogIn("lan");
  EXPECT_EQ(Post("/logout", "csrf=" + csrf, cookie, "null").status, 403);
  Request r;
  r.method = "HEAD";
  r.target = "/";
  r.headers["host"] = kHost;
  r.headers["cookie"] = cookie;
  Response head = app_->Handle(r);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  r.headers.erase("cookie");
  EXPECT_EQ(app_->Handle(r).status, 303) << "HEAD without a session is sent to the login page";
}

TEST_F(WebAppTest, AnUploadCarriesItsTokenAsAPart) {
  auto [cookie, csrf] = LogIn("lan");
  Request r;
  r.method = "POST";
  r.target = "/logout";
  r.headers["host"] = kHost;
  r.headers["cookie"] = cookie;
  r.headers["content-type"] = "multipart/form-data; boundary=B";
  r.body = "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf + "\r\n--B--\r\n";
  EXPECT_EQ(app_->Handle(r).status, 303);
}

// Long work runs off the request thread, one of a kind at a time, on an
// office that was opened on another thread and handed over.
TEST_F(WebAppTest, AJobRunsOnTheWorkersOwnOfficeOneOfAKindAtATime) {
  auto worker = std::make_unique<app::Office>(Open("c"), domain::Lang::kVietnamese);
  Jobs jobs(std::move(worker), clock_);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  ASSERT_TRUE(jobs.Start("sync", [&](app::Office& office) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return Jobs::Outcome{true, office.info().commune};
  }));
  EXPECT_TRUE(jobs.Get("sync").running);
  EXPECT_FALSE(jobs.Start("sync", [](app::Office&) { return Jobs::Outcome{}; }))
      << "a second click waits for the first";
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < 500 && jobs.Get("sync").running; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const Jobs::State done = jobs.Get("sync");
  EXPECT_FALSE(done.running);
  EXPECT_TRUE(done.outcome.ok);
  EXPECT_EQ(done.outcome.html, kCommune);
  EXPECT_NE(done.finished_ms, 0);
  EXPECT_TRUE(jobs.Start("sync", [](app::Office&) { return Jobs::Outcome{}; }))
      << "once it ended, another may start";
}

// The server's bounds over a real socket.
class WebServerTest : public testing::Test {
 protected:
  void SetUp() override {
    ServerLimits limits;
    limits.max_body = 1000;
    limits.max_connections = 4;
    auto s = HttpServer::Listen("127.0.0.1", 0, limits);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    server_->Serve([](const Request& r) {
      return Response::Text(200, "len=" + std::to_string(r.body.size()));
    });
  }
  int Connect() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server_->port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  std::string Exchange(int fd, const std::string& request) {
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos && out.find("len=") != std::string::npos) break;
      if (out.find(" 413 ") != std::string::npos && out.find("\r\n\r\n") != std::string::npos)
        break;
    }
    return out;
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(WebServerTest, AnswersAndRefusesTooLargeHeadersAndBodies) {
  int fd = Connect();
  EXPECT_NE(Exchange(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").find("len=0"), std::string::npos);
  close(fd);
  fd = Connect();
  EXPECT_NE(
      Exchange(fd, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")
          .find(" 413 "),
      std::string::npos);
  close(fd);
  fd = Connect();
  EXPECT_NE(Exchange(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                             std::string(5000, 'b'))
                .find(" 413 "),
            std::string::npos);
  close(fd);
}

TEST_F(WebServerTest, ConnectionsBeyondTheLimitAreClosedAndTheOthersStillServed) {
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(Connect());
  // Let the server accept them before the fifth.
  EXPECT_NE(Exchange(held[0], "GET / HTTP/1.1\r\nHost: x\r\n\r\n").find("len=0"),
            std::string::npos);
  int extra = Connect();
  char c;
  EXPECT_LE(recv(extra, &c, 1, 0), 0) << "the fifth connection is closed";
  close(extra);
  EXPECT_NE(Exchange(held[1], "GET / HTTP/1.1\r\nHost: x\r\n\r\n").find("len=0"),
            std::string::npos);
  for (int fd : held) close(fd);
}

}  // namespace
}  // namespace tuphap::web
