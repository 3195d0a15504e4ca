// The commune's pages: home, search, the conflicts queue and sync; the
// record pages and the registration forms are in pages_commune_*.cc.
#include "web/pages_commune.h"
#include "node/keys.h"
#include "web/format.h"
#include "web/i18n.h"

namespace tuphap::web {
namespace {

constexpr size_t kPerPage = 20;

std::string RecordLink(const std::string& id) {
  const std::string ref = RegisterRef(id);
  return "<a class=\"record-link\" href=\"/records/" + Esc(UrlEncode(id)) + "\">" +
         Esc(ref.empty() ? id : ref) + "</a>";
}

std::string Card(const std::string& id, const std::string& href, std::string_view label,
                 const std::string& value, std::string_view note, const char* tone) {
  Html h;
  h << "<a class=\"card " << tone << "\" id=\"" << id << "\" href=\"" << Esc(href)
    << "\"><span class=\"card-label\">" << Esc(label) << "</span><span class=\"big\">";
  h.Text(value);
  h << "</span><span class=\"card-note\">" << Esc(note) << "</span></a>";
  return h.Take();
}

Response Home(PageCtx& c) {
  if (c.officer->role == app::Role::kOperator) return Response::Redirect("/hub");
  auto home = c.office.HomePage();
  if (!home.ok()) return ErrorPage(c, 500, home.status().message());
  Html h;
  h << "<div class=\"page-head\"><div><h1>" << Esc(c.T("home.title")) << "</h1><p class=\"hint\">"
    << Esc(c.T("home.today_is")) << " " << Esc(DisplayDate(home->today)) << " · ";
  const std::string commune = c.office.info().commune;
  const std::string name = app::Office::CommuneName(commune);
  h.Text(name.empty() ? commune : name + " (" + commune + ")");
  h << "</p></div><form class=\"quick-search\" method=\"get\" action=\"/search\" role=\"search\">"
    << "<input name=\"q\" type=\"search\" aria-label=\"" << Esc(c.T("search.label"))
    << "\" placeholder=\"" << Esc(c.T("search.placeholder")) << "\"> <button type=\"submit\">"
    << Esc(c.T("nav.search")) << "</button></form></div>";

  const uint64_t conflicts = home->open_conflicts + home->person_conflicts;
  h << "<div class=\"cards\">"
    << Card("today", "#today-list", c.T("home.today"), Count(home->registered_today, c.lang()),
            c.T("home.today_note"), "")
    << Card("waiting", "/sync", c.T("home.waiting"), Count(home->waiting_to_sync, c.lang()),
            c.T("home.waiting_note"), home->waiting_to_sync > 0 ? "warn" : "ok")
    << Card("last-sync", "/sync", c.T("home.last_sync"),
            home->last_sync_ms == 0 ? std::string(c.T("home.never"))
                                    : c.tz.Human(home->last_sync_ms),
            c.T("home.last_sync_note"), home->last_sync_ms == 0 ? "warn" : "")
    << Card("conflicts", "/conflicts", c.T("home.conflicts"), Count(conflicts, c.lang()),
            c.T("home.conflicts_note"), conflicts > 0 ? "bad" : "ok")
    << Card("attention", "/conflicts#attention", c.T("home.attention"),
            Count(home->attention, c.lang()), c.T("home.attention_note"),
            home->attention > 0 ? "warn" : "ok")
    << "</div>";

  if (c.officer->role != app::Role::kOperator) {
    h << "<nav class=\"quick noprint\" aria-label=\"" << Esc(c.T("home.quick")) << "\">";
    for (const char* type : {"birth", "death", "marriage"}) {
      h << "<a class=\"button\" href=\"/register/" << type << "\">" << Esc(c.T("register.title"))
        << " " << Esc(TypeLabel(c, type)) << "</a>";
    }
    h << "<a class=\"button secondary\" href=\"/register\">" << Esc(c.T("home.other_types"))
      << "</a></nav>";
  }

  auto today = c.office.RegisteredOn(home->today, 100);
  h << "<h2 id=\"today-list-title\">" << Esc(c.T("home.today_list")) << "</h2>";
  if (!today.ok()) {
    h << "<p class=\"error\">";
    h.Text(today.status().message());
    h << "</p>";
  } else if (today->empty()) {
    h << "<p class=\"empty\" id=\"today-list\">" << Esc(c.T("home.none_today")) << "</p>";
  } else {
    h << "<table id=\"today-list\"><thead><tr><th>" << Esc(c.T("search.reference")) << "</th><th>"
      << Esc(c.T("search.type")) << "</th><th>" << Esc(c.T("search.names")) << "</th><th>"
      << Esc(c.T("search.state")) << "</th></tr></thead><tbody>";
    for (const store::RecordView& r : *today) {
      h << "<tr><td>" << RecordLink(r.record_id) << "</td><td>" << Esc(TypeLabel(c, r.state.Type()))
        << "</td><td>";
      h.Text(NamesOf(r));
      h << "</td><td>";
      if (r.state.Revoked()) {
        h << "<span class=\"badge bad\">" << Esc(c.T("record.revoked_short")) << "</span>";
      } else {
        auto state = c.office.RecordHubState(r);
        const bool waiting = state.ok() && *state == app::Office::HubState::kWaiting;
        h << "<span class=\"badge " << (waiting ? "warn" : "ok") << "\">"
          << Esc(waiting ? c.T("record.waiting_sync") : c.T("record.reached_hub")) << "</span>";
      }
      h << "</td></tr>";
    }
    h << "</tbody></table>";
  }
  return PageResponse(c, c.T("home.title"), h.str());
}

Response Search(PageCtx& c) {
  const std::string q = FieldValue(c.query, "q");
  const std::string type = FieldValue(c.query, "type");
  int page = std::atoi(FieldValue(c.query, "page").c_str());
  if (page < 1) page = 1;
  if (page > 100000) page = 100000;
  Html h;
  h << "<h1>" << Esc(c.T("search.title")) << "</h1>"
    << "<form class=\"search-form\" method=\"get\" action=\"/search\" role=\"search\">"
    << "<label for=\"q\">" << Esc(c.T("search.label")) << "</label><div class=\"search-row\">"
    << "<input id=\"q\" name=\"q\" type=\"search\" value=\"" << Esc(q) << "\" placeholder=\""
    << Esc(c.T("search.placeholder")) << "\" autofocus><select name=\"type\" aria-label=\""
    << Esc(c.T("search.type")) << "\"><option value=\"\">" << Esc(c.T("search.all_types"))
    << "</option>";
  for (const std::string& t : domain::RecordTypes()) {
    h << "<option value=\"" << Esc(t) << "\"" << (t == type ? " selected" : "") << ">"
      << Esc(TypeLabel(c, t)) << "</option>";
  }
  h << "</select><button type=\"submit\">" << Esc(c.T("nav.search")) << "</button></div>"
    << "<p class=\"hint\">" << Esc(c.T("search.hint")) << "</p></form>";
  if (q.find_first_not_of(" \t") == std::string::npos) {
    return PageResponse(c, c.T("search.title"), h.str());
  }
  const size_t offset = static_cast<size_t>(page - 1) * kPerPage;
  auto result = c.office.Search(q, type, "", "", offset, kPerPage);
  if (!result.ok()) {
    h << "<p class=\"error\" role=\"alert\">";
    h.Text(result.status().message());
    h << "</p>";
    Response r = PageResponse(c, c.T("search.title"), h.str());
    r.status = result.status().code() == StatusCode::kInvalidArgument ? 400 : 500;
    return r;
  }
  if (result->hits.empty()) {
    h << "<p class=\"empty\" id=\"no-results\">" << Esc(c.T("search.none")) << "</p>";
    return PageResponse(c, c.T("search.title"), h.str());
  }
  h << "<p class=\"hint\">" << Esc(c.T("search.page")) << " " << std::to_string(page) << " · "
    << Esc(c.T("search.showing")) << " " << std::to_string(offset + 1) << "–"
    << std::to_string(offset + result->hits.size()) << "</p><table id=\"results\"><thead><tr><th>"
    << Esc(c.T("search.reference")) << "</th><th>" << Esc(c.T("search.names")) << "</th><th>"
    << Esc(c.T("search.type")) << "</th><th>" << Esc(c.T("search.date"))
    << "</th></tr></thead><tbody>";
  for (const domain::SearchHit& hit : result->hits) {
    h << "<tr><td>" << RecordLink(hit.record_id) << "</td><td>";
    h.Text(hit.names);
    h << "</td><td>" << Esc(TypeLabel(c, hit.type)) << "</td><td class=\"nowrap\">"
      << Esc(DisplayDate(hit.date)) << "</td></tr>";
  }
  h << "</tbody></table><nav class=\"pager\" aria-label=\"" << Esc(c.T("search.pages")) << "\">";
  auto link = [&](int to, std::string_view label, const char* rel) {
    std::string href = "/search?q=" + UrlEncode(q);
    if (!type.empty()) href += "&type=" + UrlEncode(type);
    href += "&page=" + std::to_string(to);
    h << "<a rel=\"" << rel << "\" href=\"" << Esc(href) << "\">" << Esc(label) << "</a>";
  };
  if (page > 1) link(page - 1, c.T("search.previous"), "prev");
  if (result->more) link(page + 1, c.T("search.next"), "next");
  h << "</nav>";
  return PageResponse(c, c.T("search.title"), h.str());
}

Response Conflicts(PageCtx& c) {
  auto report = c.office.Conflicts();
  if (!report.ok()) return ErrorPage(c, 500, report.status().message());
  Html h;
  h << "<h1>" << Esc(c.T("conflicts.title")) << "</h1><p class=\"hint\">"
    << Esc(c.T("conflicts.intro")) << "</p>";
  if (report->fields.empty() && report->persons.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("conflicts.none")) << "</p>";
  }
  h << "<table id=\"conflict-list\"><thead><tr><th>" << Esc(c.T("conflicts.kind")) << "</th><th>"
    << Esc(c.T("search.reference")) << "</th><th>" << Esc(c.T("search.type")) << "</th><th>"
    << Esc(c.T("conflicts.what")) << "</th><th>" << Esc(c.T("conflicts.values")) << "</th><th>"
    << Esc(c.T("conflicts.since")) << "</th></tr></thead><tbody>";
  for (const report::ConflictReportRow& row : report->fields) {
    const domain::FieldSpec* f = domain::FindField(row.row.type, row.row.field);
    h << "<tr><td>" << Esc(c.T("conflicts.field")) << "</td><td>" << RecordLink(row.row.record_id)
      << "</td><td>" << Esc(TypeLabel(c, row.row.type)) << "</td><td>";
    h.Text(row.row.field == "$type" ? std::string(c.T("record.duplicate_registration"))
                                    : FieldLabel(c, row.row.type, row.row.field));
    h << "</td><td><ul class=\"values\">";
    for (const node::EntryView& e : row.values) {
      h << "<li>";
      h.Text(DisplayValue(c, f, row.row.field, e.value.ToDisplay()));
      h << " <span class=\"hint\">— ";
      h.Text(e.sealed ? std::string(c.T("record.officer_unknown")) : e.officer);
      h << "</span></li>";
    }
    h << "</ul></td><td class=\"nowrap\">"
      << Esc(c.tz.Human(static_cast<int64_t>(row.since.millis()))) << "</td></tr>";
  }
  for (const store::PersonConflictRow& p : report->persons) {
    const std::string rule_key = "rule." + p.rule;
    h << "<tr><td>" << Esc(c.T("conflicts.person")) << "</td><td>" << RecordLink(p.record_id)
      << "</td><td>" << Esc(TypeLabel(c, p.type)) << "</td><td>"
      << Esc(HasKey(rule_key) ? Tr(c.lang(), rule_key) : std::string_view(p.rule)) << " · "
      << Esc(c.T("field.personal_id")) << " ";
    h.Text(p.personal_id);
    h << "</td><td>" << Esc(c.T("record.other_record")) << " " << RecordLink(p.other_id)
      << "</td><td class=\"nowrap\">" << Esc(DisplayDate(p.date)) << "</td></tr>";
  }
  h << "</tbody></table>";

  auto attention = c.office.Attention(false);
  h << "<h2 id=\"attention\">" << Esc(c.T("conflicts.attention")) << "</h2>";
  if (!attention.ok()) {
    h << "<p class=\"error\">";
    h.Text(attention.status().message());
    h << "</p>";
  } else if (attention->records.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("conflicts.attention_none")) << "</p>";
  } else {
    h << "<table id=\"attention-list\"><thead><tr><th>" << Esc(c.T("search.reference"))
      << "</th><th>" << Esc(c.T("search.type")) << "</th><th>" << Esc(c.T("conflicts.why"))
      << "</th></tr></thead><tbody>";
    for (const report::AttentionRow& a : attention->records) {
      h << "<tr><td>" << RecordLink(a.record.record_id) << "</td><td>"
        << Esc(TypeLabel(c, a.record.type)) << "</td><td>";
      h.Text(a.message);
      h << "</td></tr>";
    }
    h << "</tbody></table>";
  }
  return PageResponse(c, c.T("conflicts.title"), h.str());
}

Response SyncPage(PageCtx& c, const std::string& outcome_html) {
  auto status = c.office.GetNodeStatus();
  if (!status.ok()) return ErrorPage(c, 500, status.status().message());
  Html h;
  h << "<h1>" << Esc(c.T("sync.title")) << "</h1><p class=\"hint\">" << Esc(c.T("sync.intro"))
    << "</p>" << outcome_html;
  if (c.options.upstreams.empty()) {
    h << "<div class=\"panel\" id=\"no-upstream\"><p><strong>" << Esc(c.T("sync.no_upstream"))
      << "</strong></p><p>" << Esc(c.T("sync.how_to_configure")) << "</p>"
      << "<pre>upstream = [\"tcp://so-tu-phap.example:7700\"]</pre><p>" << Esc(c.T("sync.or_flag"))
      << "</p><pre>tuphap serve --ui 127.0.0.1:8080 --upstream "
         "tcp://so-tu-phap.example:7700</pre></div>";
  } else {
    h << "<form method=\"post\" action=\"/sync\" class=\"sync-form\">" << CsrfInput(c)
      << "<button type=\"submit\" id=\"sync-now\">" << Esc(c.T("sync.now")) << "</button> "
      << "<span class=\"hint\">" << Esc(c.T("sync.upstreams")) << " ";
    for (size_t i = 0; i < c.options.upstreams.size(); ++i) {
      if (i > 0) h << ", ";
      h << "<code>";
      h.Text(c.options.upstreams[i]);
      h << "</code>";
    }
    h << "</span></form>";
  }
  h << "<h2>" << Esc(c.T("sync.peers")) << "</h2>";
  if (status->peers.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("sync.no_peers")) << "</p>";
  }
  h << "<table id=\"peers\"><thead><tr><th>" << Esc(c.T("sync.peer")) << "</th><th>"
    << Esc(c.T("sync.last_contact")) << "</th><th>" << Esc(c.T("sync.last_success"))
    << "</th><th class=\"num\">" << Esc(c.T("sync.pending_out")) << "</th><th class=\"num\">"
    << Esc(c.T("sync.pending_in")) << "</th></tr></thead><tbody>";
  for (const auto& p : status->peers) {
    const std::string id = node::NodeIdText(p.peer);
    h << "<tr><td><span class=\"mono\" title=\"" << Esc(id) << "\">";
    h.Text(id.substr(0, 16));
    h << "…</span>";
    if (!p.endpoint.empty()) {
      h << "<br><span class=\"hint\">";
      h.Text(p.endpoint);
      h << "</span>";
    }
    h << "</td><td>"
      << Esc(p.last_contact_ms ? c.tz.Human(p.last_contact_ms) : std::string(c.T("home.never")))
      << "</td><td>"
      << Esc(p.last_success_ms ? c.tz.Human(p.last_success_ms) : std::string(c.T("home.never")))
      << "</td><td class=\"num\">" << Esc(Count(static_cast<int64_t>(p.pending_out), c.lang()))
      << "</td><td class=\"num\">" << Esc(Count(static_cast<int64_t>(p.pending_in), c.lang()))
      << "</td></tr>";
  }
  h << "</tbody></table>";
  return PageResponse(c, c.T("sync.title"), h.str());
}

Response SyncGet(PageCtx& c) { return SyncPage(c, ""); }

Response SyncPost(PageCtx& c) {
  Html out;
  out << "<section id=\"sync-result\" class=\"panel\"><h2>" << Esc(c.T("sync.result")) << "</h2>";
  if (c.options.upstreams.empty()) {
    out << "<p class=\"error\">" << Esc(c.T("sync.no_upstream")) << "</p>";
  }
  for (const std::string& endpoint : c.options.upstreams) {
    auto r = c.office.SyncNow(endpoint, "", 30);
    out << "<p class=\"" << (r.ok() ? "ok" : "error") << "\"><code>";
    out.Text(endpoint);
    out << "</code>: ";
    if (r.ok()) {
      out << Esc(c.T("sync.done")) << " " << Esc(c.T("sync.sent")) << " "
          << Esc(Count(static_cast<int64_t>(r->stats.sent), c.lang())) << ", "
          << Esc(c.T("sync.received")) << " "
          << Esc(Count(static_cast<int64_t>(r->stats.received), c.lang()));
      if (r->stats.refused_by_peer + r->stats.refused_here > 0) {
        out << ", " << Esc(c.T("sync.refused")) << " "
            << Esc(Count(static_cast<int64_t>(r->stats.refused_by_peer + r->stats.refused_here),
                         c.lang()));
      }
      out << ".";
    } else {
      out << Esc(c.T("sync.failed")) << " ";
      out.Text(r.status().message());
    }
    out << "</p>";
  }
  out << "</section>";
  return SyncPage(c, out.str());
}

}  // namespace

void AddCommunePages(std::vector<Route>* routes) {
  routes->push_back({"GET", "/", Access::kAnyone, Home});
  routes->push_back({"GET", "/search", Access::kAnyone, Search});
  routes->push_back({"GET", "/conflicts", Access::kRegister, Conflicts});
  routes->push_back({"GET", "/sync", Access::kRegister, SyncGet});
  routes->push_back({"POST", "/sync", Access::kRegister, SyncPost});
  AddRegisterPages(routes);
  AddRecordPages(routes);
}

}  // namespace tuphap::web
