#include "web/webapp.h"

#include <sodium.h>

#include <algorithm>

#include "base/json.h"
#include "replication/limits.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/metrics_page.h"
#include "web/server.h"

namespace tuphap::embedded {
std::string_view web_style_css();
std::string_view web_app_js();
}  // namespace tuphap::embedded

namespace tuphap::web {
namespace {

constexpr std::string_view kCookie = "tuphap_session";

// The catalogue entries the page script shows (web/assets/app.js).
constexpr const char* kScriptStrings[] = {
    "js.date_shape",     "js.month_range", "js.no_such_day", "js.datetime_shape", "js.id_digits",
    "js.commune_digits", "js.year_digits", "js.digits_only", "js.money_digits"};

std::string RandomToken() {
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool SameToken(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Headers on every answer: no framing, no sniffing, nothing loaded from
// elsewhere (every asset is ours), no referrer leaves the node.
void Harden(Response* r) {
  r->headers.emplace_back("Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                          "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'");
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("X-Frame-Options", "DENY");
  r->headers.emplace_back("Referrer-Policy", "same-origin");
  if (std::none_of(r->headers.begin(), r->headers.end(),
                   [](const auto& h) { return h.first == "Cache-Control"; }))
    r->headers.emplace_back("Cache-Control", "no-store");
}

// A local path to return to after login; anything else goes home (no open
// redirect).
std::string SafeNext(std::string_view next) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\')))
    return "/";
  for (char c : next) {
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  }
  return std::string(next);
}

bool RouteMatches(const Route& r, std::string_view method, std::string_view path,
                  std::string* rest) {
  if (r.method != method) return false;
  if (!r.path.empty() && r.path.back() == '/' && r.path.size() > 1) {
    if (path.size() <= r.path.size() || path.substr(0, r.path.size()) != r.path) return false;
    *rest = std::string(path.substr(r.path.size()));
    return true;
  }
  return path == r.path;
}

}  // namespace

bool Allowed(Access a, app::Role role) {
  switch (a) {
    case Access::kPublic:
    case Access::kAnyone:
      return true;
    case Access::kRegister:
      return role == app::Role::kOfficer || role == app::Role::kHead;
    case Access::kHead:
      return role == app::Role::kHead;
    case Access::kOperator:
      return role == app::Role::kOperator;
  }
  return false;
}

std::string_view PageCtx::T(std::string_view key) const { return Tr(lang(), key); }

bool PageCtx::hub() const { return office.info().role == node::Role::kHub; }

std::string PageCtx::Actor() const {
  if (officer == nullptr) return "web";
  const std::string suffix = " (" + officer->login + " #" + std::to_string(officer->id) + ")";
  // A change's officer text is bounded (replication/limits.h); a name of
  // 100 Vietnamese letters can pass it, so it is cut, at a letter.
  std::string name = officer->name;
  const size_t room = replication::Limits().max_officer_bytes - suffix.size();
  if (name.size() > room) {
    size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  return name + suffix;
}

WebApp::WebApp(std::unique_ptr<app::Office> office, TimeZone tz, WebOptions options,
               std::unique_ptr<app::Office> worker)
    : office_(std::move(office)), tz_(std::move(tz)), options_(std::move(options)) {
  if (worker) jobs_ = std::make_unique<Jobs>(std::move(worker), *options_.clock);
  officers_ = std::make_unique<app::Officers>(office_->node().store(), *options_.clock,
                                              options_.default_lang, options_.officer_kdf);
  AddCommunePages(&routes_);
  AddHubPages(&routes_);
}

WebApp::~WebApp() = default;

bool WebApp::HostAllowed(std::string_view host) const {
  return std::any_of(options_.hosts.begin(), options_.hosts.end(),
                     [&](const std::string& h) { return h == host; });
}

Session* WebApp::FindSession(const Request& req, int64_t now) {
  const std::string token = req.Cookie(kCookie);
  if (token.empty()) return nullptr;
  auto it = sessions_.find(token);
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_seen_ms > int64_t{options_.idle_timeout_s} * 1000 ||
      now - it->second.created_ms > int64_t{options_.max_session_s} * 1000) {
    sessions_.erase(it);
    return nullptr;
  }
  return &it->second;
}

Session& WebApp::NewSession(int64_t now, bool logged_in) {
  // Expired ones first; then, when the kind's room is full, the one of that
  // kind idle longest.
  size_t kind = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Session& old = it->second;
    if (now - old.last_seen_ms > int64_t{options_.idle_timeout_s} * 1000 ||
        now - old.created_ms > int64_t{options_.max_session_s} * 1000) {
      it = sessions_.erase(it);
    } else {
      kind += (old.officer_id != 0) == logged_in;
      ++it;
    }
  }
  const size_t room = logged_in ? options_.max_sessions : options_.max_anonymous_sessions;
  if (kind >= room) {
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if ((it->second.officer_id != 0) != logged_in) continue;
      if (oldest == sessions_.end() || it->second.last_seen_ms < oldest->second.last_seen_ms)
        oldest = it;
    }
    if (oldest != sessions_.end()) sessions_.erase(oldest);
  }
  Session s;
  s.token = RandomToken();
  s.csrf = RandomToken();
  s.created_ms = now;
  s.last_seen_ms = now;
  s.lang = options_.default_lang;
  auto [it, inserted] = sessions_.emplace(s.token, s);
  return it->second;
}

std::string WebApp::SessionCookie(const Session& s) const {
  // No Secure attribute: the app is served over plain HTTP on loopback
  // (docs/operator-guide.md says what a wider bind exposes).
  return std::string(kCookie) + "=" + s.token + "; Path=/; HttpOnly; SameSite=Strict";
}

Response WebApp::Handle(const Request& req) {
  Response r = Dispatch(req);
  Harden(&r);
  if (req.method == "HEAD") r.body.clear();
  return r;
}

Response WebApp::Dispatch(const Request& req) {
  // DNS rebinding: a page of another site resolved to this address would
  // send its own name.
  if (!HostAllowed(req.Header("host")))
    return Response::Text(421, "this server does not answer to that host name\n");
  const std::string_view origin = req.Header("origin");
  if (!origin.empty()) {
    // "null" (a sandboxed frame, a data: page) is nobody this app serves.
    const std::string_view scheme = "http://";
    if (origin.substr(0, scheme.size()) != scheme || !HostAllowed(origin.substr(scheme.size())))
      return Response::Text(403, "request from another site refused\n");
  }
  if (req.Header("sec-fetch-site") == "cross-site")
    return Response::Text(403, "request from another site refused\n");

  const std::string path = req.Path();
  if (path == "/healthz") return Response::Text(200, "ok\n");
  // For a scraper, which has no session (docs/metrics.md); behind the host
  // and origin checks above like every page.
  if (path == "/metrics" && !options_.metrics_expose && !IsLoopback(req.remote))
    return Response::Text(403, "/metrics answers this computer only (serve --metrics-expose)\n");
  if (auto m = MetricsPage(req)) return *m;
  if (req.method == "GET" && path.rfind("/assets/", 0) == 0) {
    Response a;
    if (path == "/assets/style.css") {
      a.content_type = "text/css; charset=utf-8";
      a.body = std::string(embedded::web_style_css());
    } else if (path == "/assets/app.js") {
      a.content_type = "text/javascript; charset=utf-8";
      a.body = std::string(embedded::web_app_js());
    } else {
      return Response::Text(404, "not found\n");
    }
    a.headers.emplace_back("Cache-Control", "max-age=3600");
    return a;
  }

  const int64_t now = options_.clock->WallMillis();
  Session* session = FindSession(req, now);
  std::string set_cookie;
  if (session == nullptr) {
    session = &NewSession(now, false);
    set_cookie = SessionCookie(*session);
  }
  session->last_seen_ms = now;

  std::optional<app::Officer> officer;
  if (session->officer_id != 0) {
    auto o = officers_->Get(session->officer_id);
    if (o.ok() && !o->disabled && o->changed_ms == session->officer_changed_ms) {
      officer = std::move(*o);
    } else {
      // Disabled, removed or given a new password since login: out at once.
      sessions_.erase(session->token);
      session = &NewSession(now, false);
      set_cookie = SessionCookie(*session);
    }
  }
  // What another process changed since the last request (an enrolment, a
  // new key epoch from a sync) counts for this one.
  if (Status s = office_->Refresh(); !s.ok()) return Response::Text(500, s.ToString() + "\n");

  PageCtx c{req,      *session,    officer ? &*officer : nullptr,
            *office_, *officers_,  options_,
            tz_,      jobs_.get(), {},
            {},       path,        {}};
  c.query = req.Query();
  office_->set_lang(session->lang);
  officers_->set_lang(session->lang);

  auto finish = [&](Response r) {
    if (!set_cookie.empty()) r.headers.emplace_back("Set-Cookie", set_cookie);
    return r;
  };

  if (req.method == "POST") {
    c.form = req.Form();
    std::string token = FieldValue(c.form, "csrf");
    if (token.empty()) {
      // An upload (multipart/form-data) carries it as a part of its own.
      if (auto parts = ParseMultipart(req.Header("content-type"), req.body)) {
        for (const FormPart& part : *parts) {
          if (part.name == "csrf" && part.filename.empty()) token = part.data;
        }
      }
    }
    if (!SameToken(token, session->csrf)) return finish(ErrorPage(c, 403, c.T("error.csrf")));
  } else if (req.method != "GET" && req.method != "HEAD") {
    return finish(Response::Text(405, "method not allowed\n"));
  }

  if (path == "/lang") {
    const std::string to = FieldValue(c.query, "to");
    session->lang = to == "en" ? domain::Lang::kEnglish : domain::Lang::kVietnamese;
    return finish(Response::Redirect(SafeNext(FieldValue(c.query, "next"))));
  }
  if (path == "/login") {
    if (req.method == "POST") {
      Response r = Login(c);
      return r;  // Login sets its own cookie (a new session)
    }
    if (c.officer != nullptr) return finish(Response::Redirect("/"));
    return finish(LoginPage(c, 200, {}));
  }
  if (path == "/logout" && req.method == "POST") {
    sessions_.erase(session->token);
    Response r = Response::Redirect("/login");
    r.headers.emplace_back(
        "Set-Cookie", std::string(kCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return r;
  }

  for (const Route& route : routes_) {
    std::string rest;
    if (!RouteMatches(route, req.method == "HEAD" ? "GET" : req.method, path, &rest)) continue;
    if (route.access != Access::kPublic) {
      if (c.officer == nullptr) {
        if (req.method == "POST") return finish(ErrorPage(c, 403, c.T("error.login_needed")));
        return finish(Response::Redirect("/login?next=" + UrlEncode(req.target)));
      }
      if (!Allowed(route.access, c.officer->role))
        return finish(ErrorPage(c, 403, c.T("error.role")));
    }
    c.rest = std::move(rest);
    office_->set_officer(c.Actor());
    return finish(route.fn(c));
  }
  if (c.officer == nullptr) {
    if (req.method == "POST") return finish(ErrorPage(c, 403, c.T("error.login_needed")));
    return finish(Response::Redirect("/login"));
  }
  return finish(ErrorPage(c, 404, c.T("error.not_found")));
}

Response WebApp::LoginPage(PageCtx& c, int status, std::string_view error) {
  Html h;
  h << "<section class=\"login\"><h1>" << Esc(c.T("login.title")) << "</h1>";
  if (!error.empty()) h << "<p class=\"error\" role=\"alert\">" << Esc(error) << "</p>";
  h << "<form method=\"post\" action=\"/login\">" << CsrfInput(c)
    << "<input type=\"hidden\" name=\"next\" value=\"" << Esc(SafeNext(FieldValue(c.query, "next")))
    << "\"><label>" << Esc(c.T("login.login"))
    << " <input name=\"login\" autocomplete=\"username\" required autofocus></label>"
    << "<label>" << Esc(c.T("login.password"))
    << " <input type=\"password\" name=\"password\" autocomplete=\"current-password\" "
       "required></label>"
    << "<button type=\"submit\">" << Esc(c.T("login.submit")) << "</button></form></section>";
  Response r = PageResponse(c, c.T("login.title"), h.str());
  r.status = status;
  return r;
}

Response WebApp::Login(PageCtx& c) {
  const std::string login = FieldValue(c.form, "login");
  const std::string password = FieldValue(c.form, "password");
  auto who = officers_->Verify(login, password);
  if (!who.ok()) return LoginPage(c, 401, who.status().message());
  // A new session on login: a token seen before it (fixation) is worthless.
  const domain::Lang lang = c.session.lang;
  sessions_.erase(c.session.token);
  Session& s = NewSession(options_.clock->WallMillis(), true);
  s.officer_id = who->id;
  s.officer_changed_ms = who->changed_ms;
  s.lang = lang;
  Response r = Response::Redirect(SafeNext(FieldValue(c.form, "next")));
  r.headers.emplace_back("Set-Cookie", SessionCookie(s));
  return r;
}

std::string CsrfInput(const PageCtx& c) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + Esc(c.session.csrf) + "\">";
}

// The script's messages, from the catalogue like every other string, as
// JSON in an attribute of the page's body (no inline script: the CSP
// forbids it).
std::string ScriptStrings(const PageCtx& c) {
  std::string out = "{";
  for (const char* key : kScriptStrings) {
    if (out.size() > 1) out += ',';
    AppendJsonString(key, &out);
    out += ':';
    AppendJsonString(c.T(key), &out);
  }
  return out + '}';
}

std::string Layout(const PageCtx& c, std::string_view title, std::string_view body) {
  Html h;
  h << "<!doctype html><html lang=\"" << LangCode(c.lang()) << "\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>" << Esc(title) << " · tuphap</title>"
    << "<link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body data-strings=\""
    << Esc(ScriptStrings(c)) << "\"><header class=\"top\">"
    << "<a class=\"brand\" href=\"/\">" << Esc(c.T(c.hub() ? "app.name_hub" : "app.name"))
    << "</a> <span class=\"place\">";
  // The office by its name ("Sở Tư pháp Tỉnh Khánh Hòa", "Phường Bắc Nha
  // Trang"), the code only when the reference data has no name for it.
  const node::NodeInfo& info = c.office.info();
  const std::string& code = c.hub() ? info.province : info.commune;
  std::string name = c.hub() ? app::Office::ProvinceName(code) : app::Office::CommuneName(code);
  if (name.empty()) name = code;
  h << Esc(c.T(c.hub() ? "app.hub" : "app.commune")) << " " << Esc(name);
  h << "</span><nav>";
  if (c.officer != nullptr) {
    const app::Role role = c.officer->role;
    auto link = [&](std::string_view href, std::string_view key) {
      h << "<a href=\"" << href << "\">" << Esc(c.T(key)) << "</a>";
    };
    if (role == app::Role::kOperator) {
      link("/hub", "nav.console");
      link("/hub/conflicts", "nav.conflicts");
      link("/hub/stats", "nav.stats");
      link("/hub/reconcile", "nav.reconcile");
      link("/hub/enrol", "nav.enrol");
      link("/search", "nav.search");
    } else {
      link("/", "nav.home");
      link("/register", "nav.register");
      link("/search", "nav.search");
      link("/conflicts", "nav.conflicts");
      link("/sync", "nav.sync");
    }
    h << "</nav><span class=\"who\">";
    h.Text(c.officer->name);
    h << " · " << Esc(c.T(std::string("role.") + std::string(app::RoleName(role))))
      << "</span><form method=\"post\" action=\"/logout\" class=\"inline\">" << CsrfInput(c)
      << "<button type=\"submit\" class=\"link\">" << Esc(c.T("nav.logout")) << "</button></form>";
  } else {
    h << "</nav>";
  }
  const bool vi = c.lang() == domain::Lang::kVietnamese;
  h << "<a class=\"lang\" href=\"/lang?to=" << (vi ? "en" : "vi")
    << "&amp;next=" << Esc(UrlEncode(c.req.target)) << "\">" << (vi ? "English" : "Tiếng Việt")
    << "</a></header><main>";
  if (!c.session.flash.empty()) {
    h << "<p class=\"flash\" role=\"status\">";
    h.Text(c.session.flash);
    h << "</p>";
    c.session.flash.clear();
  }
  h << body << "</main><script src=\"/assets/app.js\" defer></script></body></html>";
  return h.Take();
}

Response PageResponse(const PageCtx& c, std::string_view title, std::string_view body) {
  Response r;
  r.body = Layout(c, title, body);
  return r;
}

Response ErrorPage(const PageCtx& c, int status, std::string_view message) {
  Html h;
  h << "<h1>" << Esc(c.T("error.title"))
    << "</h1><p class=\"error\" role=\"alert\">"
    // A node's message (English, as node code writes it) in the page's
    // language; the page's own texts are already in it and pass unchanged.
    << Esc(NodeMessage(c.lang(), message)) << "</p><p><a href=\"/\">" << Esc(c.T("nav.home"))
    << "</a></p>";
  Response r = PageResponse(c, c.T("error.title"), h.str());
  r.status = status;
  return r;
}

Response CsvResponse(std::string filename, const std::vector<std::vector<std::string>>& rows) {
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  std::string out = "\xEF\xBB\xBF";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      std::string cell = row[i];
      // A cell a spreadsheet would run as a formula is written as text.
      const bool number = cell.size() > 1 && cell[0] == '-' &&
                          cell.find_first_not_of("0123456789.", 1) == std::string::npos;
      if (!cell.empty() && !number &&
          (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@' ||
           cell[0] == '\t' || cell[0] == '\r'))
        cell = "'" + cell;
      if (cell.find_first_of(",\"\r\n") != std::string::npos) {
        std::string q = "\"";
        for (char ch : cell) {
          if (ch == '"') q += '"';
          q += ch;
        }
        cell = q + "\"";
      }
      out += cell;
    }
    out += "\r\n";
  }
  r.body = std::move(out);
  return r;
}

}  // namespace tuphap::web
