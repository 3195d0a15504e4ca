// The officers' web app and the hub operator's console: routing, officer
// sessions, and the checks every request passes before a page sees it —
//  * Host must name this server (DNS rebinding), Origin too when a browser
//    sends one, and a cross-site fetch (Sec-Fetch-Site) changes nothing;
//  * a session cookie (HttpOnly, SameSite=Strict) with an idle timeout; the
//    account is read again on every request, so a disabled officer is out
//    at once;
//  * every POST carries the session's CSRF token;
//  * a page needs a role (officer, head, operator; app/officers.h).
// Pages are server-rendered (pages_*.cc) from web/catalogue.tsv strings; the
// CSS and the small script are compiled in. Runs on the HTTP server's one
// thread with an Office of its own (its own SQLite connection), beside the
// sync loop of `tuphap serve`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "node/app/office.h"
#include "node/app/officers.h"
#include "web/format.h"
#include "web/http.h"
#include "web/jobs.h"

namespace tuphap::web {

struct WebOptions {
  std::string time_zone = "Asia/Ho_Chi_Minh";
  int idle_timeout_s = 30 * 60;
  // Host header values this server answers to ("127.0.0.1:8080"); every
  // other is refused (421). Filled by the server once bound.
  std::vector<std::string> hosts;
  // Hub console: a commune whose last successful sync is older than this is
  // shown as behind.
  int64_t behind_after_s = 24 * 3600;
  // Where "sync now" syncs to (the node's upstreams).
  std::vector<std::string> upstreams;
  const Clock* clock = &SystemClock();
  domain::Lang default_lang = domain::Lang::kVietnamese;
  // A session ends this long after login however busy it is.
  int max_session_s = 12 * 3600;
  // Most sessions held at once: logged in, and not yet (anyone who opens
  // the login page makes one, so they have their own, smaller room and
  // never push an officer out). When full, the one idle longest goes.
  size_t max_sessions = 4096;
  size_t max_anonymous_sessions = 1024;
  // Argon2id limits for the dummy hash of an unknown login: the same as the
  // accounts' own (app/officers.h), so timing does not tell them apart.
  node::KdfLimits officer_kdf;
  // Whether /metrics answers clients other than this computer (serve
  // --metrics-expose). An exposed web app (--ui-expose) is for officers'
  // browsers; the metrics (which communes sync, how far each is behind) are
  // not theirs to read, nor anyone's on that network.
  bool metrics_expose = false;
};

struct Session {
  std::string token;
  std::string csrf;
  int64_t created_ms = 0;
  int64_t last_seen_ms = 0;
  int64_t officer_id = 0;  // 0: not logged in
  // The account's changed_ms at login: a new password or a disable since
  // ends the session.
  int64_t officer_changed_ms = 0;
  domain::Lang lang = domain::Lang::kVietnamese;
  std::string flash;  // a message for the next page (after a redirect)
};

// What a page handler gets.
struct PageCtx {
  const Request& req;
  Session& session;
  const app::Officer* officer;  // null on the login page
  app::Office& office;
  app::Officers& officers;
  const WebOptions& options;
  const TimeZone& tz;
  // Long work (sync now) off the request thread; null when the app has no
  // worker (tests): the page then does it inline.
  Jobs* jobs;
  FormFields form;   // a POST's fields
  FormFields query;  // the query string's
  std::string path;  // decoded, without the query
  std::string rest;  // what follows a route's prefix (e.g. a record id)

  domain::Lang lang() const { return session.lang; }
  std::string_view T(std::string_view key) const;
  bool hub() const;
  // The officer text a change made by this request carries.
  std::string Actor() const;
};

// Who may open a route.
enum class Access {
  kPublic,    // no session needed
  kAnyone,    // any officer logged in
  kRegister,  // officer or head: register, amend
  kHead,      // head: resolve, revoke
  kOperator,  // operator: the hub console
};

using PageFn = std::function<Response(PageCtx&)>;

struct Route {
  std::string method;
  std::string path;  // exact, or a prefix when it ends with '/'
  Access access;
  PageFn fn;
};

class WebApp {
 public:
  // `worker`: an Office of its own for the long jobs (Jobs); null: none.
  WebApp(std::unique_ptr<app::Office> office, TimeZone tz, WebOptions options,
         std::unique_ptr<app::Office> worker = nullptr);
  ~WebApp();
  Response Handle(const Request& req);
  void AllowHost(std::string host) { options_.hosts.push_back(std::move(host)); }
  app::Office& office() { return *office_; }
  const WebOptions& options() const { return options_; }

 private:
  Response Dispatch(const Request& req);
  Session* FindSession(const Request& req, int64_t now);
  Session& NewSession(int64_t now, bool logged_in);
  std::string SessionCookie(const Session& s) const;
  Response LoginPage(PageCtx& c, int status, std::string_view error);
  Response Login(PageCtx& c);
  bool HostAllowed(std::string_view host) const;

  std::unique_ptr<app::Office> office_;
  std::unique_ptr<Jobs> jobs_;
  std::unique_ptr<app::Officers> officers_;
  TimeZone tz_;
  WebOptions options_;
  std::vector<Route> routes_;
  std::map<std::string, Session> sessions_;
};

// The page around a page's body: header with the node, the officer, the
// menu for their role and the language switch; `title` escaped.
std::string Layout(const PageCtx& c, std::string_view title, std::string_view body);
// A hidden input with the session's CSRF token (every POST form has one).
std::string CsrfInput(const PageCtx& c);
// A page answering 200 with Layout.
Response PageResponse(const PageCtx& c, std::string_view title, std::string_view body);
// An error page in the officer's language.
Response ErrorPage(const PageCtx& c, int status, std::string_view message);
// A CSV download: UTF-8 with a BOM (spreadsheets then read Vietnamese right).
Response CsvResponse(std::string filename, const std::vector<std::vector<std::string>>& rows);
// Roles allowed by an Access.
bool Allowed(Access a, app::Role role);

// Routes of the pages (pages_*.cc).
void AddCommunePages(std::vector<Route>* routes);
void AddHubPages(std::vector<Route>* routes);

}  // namespace tuphap::web
