// The commune's pages: home, search, the conflicts queue and sync; the
// record pages and the registration forms are in pages_commune_*.cc.
#include <algorithm>
#include <optional>

#include "node/domain/messages.h"
#include "node/keys.h"
#include "web/format.h"
#include "web/i18n.h"
#include "web/pages_commune.h"

namespace tuphap::web {
namespace {

constexpr size_t kPerPage = 20;
constexpr int kMaxPages = 50;

std::string Card(const std::string& id, const std::string& href, std::string_view label,
                 const std::string& value, std::string_view note, const char* tone) {
  Html h;
  h << "<a class=\"card " << tone << "\" id=\"" << id << "\" href=\"" << Esc(href)
    << "\"><span class=\"card-label\">" << Esc(label) << "</span><span class=\"big\">";
  h.Text(value);
  h << "</span><span class=\"card-note\">" << Esc(note) << "</span></a>";
  return h.Take();
}

// The people a record names, one a line: their part in it, name, date of
// birth and personal ID, so that two hits with one name tell apart.
void People(Html& h, const PageCtx& c, const store::RecordView& r) {
  const domain::TypeSchema* s = SchemaOf(r);
  if (s == nullptr) {
    h.Text(NamesOf(r));
    return;
  }
  const std::string type = r.state.Type();
  h << "<ul class=\"people\">";
  for (const std::string& p : s->name_paths) {
    const std::string name = Winner(r, p);
    if (name.empty()) continue;
    const size_t dot = p.rfind('.');
    const std::string person = dot == std::string::npos ? p : p.substr(0, dot);
    h << "<li>";
    if (person != "data" && person.find('.') != std::string::npos) {
      h << "<span class=\"role\">";
      h.Text(ShortLabel(c, type, person));
      h << ":</span> ";
    }
    h << "<strong>";
    h.Text(name);
    h << "</strong>";
    std::string born = Winner(r, person + ".birth_date");
    born = born.empty() ? Winner(r, person + ".birth_year") : DisplayDate(born);
    if (!born.empty()) {
      h << " <span class=\"hint\">· " << Esc(c.T("search.born")) << " ";
      h.Text(born);
      h << "</span>";
    }
    const std::string id = Winner(r, person + ".personal_id");
    if (!id.empty()) {
      h << " <span class=\"hint mono\">· ";
      h.Text(id);
      h << "</span>";
    }
    h << "</li>";
  }
  h << "</ul>";
}

Response Home(PageCtx& c) {
  if (c.officer->role == app::Role::kOperator) return Response::Redirect("/hub");
  auto home = c.office.HomePage();
  if (!home.ok()) return ErrorPage(c, 500, home.status().message());
  Html h;
  h << "<div class=\"page-head\"><div><h1>" << Esc(c.T("home.title")) << "</h1><p class=\"hint\">"
    << Esc(c.T("home.today_is")) << " " << Esc(DisplayDate(home->today)) << " · ";
  const std::string commune = c.office.info().commune;
  const std::string name = PlaceName(c, app::Office::CommuneName(commune));
  h.Text(name.empty() ? commune : name + " (" + commune + ")");
  h << "</p></div><form class=\"quick-search\" method=\"get\" action=\"/search\" role=\"search\">"
    << "<input name=\"q\" type=\"search\" aria-label=\"" << Esc(c.T("search.label"))
    << "\" placeholder=\"" << Esc(c.T("home.search_placeholder")) << "\"> <button type=\"submit\">"
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
    // In the order they were registered: by the first change of each.
    auto registered = [](const store::RecordView& r) {
      uint64_t first = UINT64_MAX;
      for (const store::ChangeRef& ch : r.history) first = std::min(first, ch.hlc.raw());
      return first;
    };
    std::stable_sort(today->begin(), today->end(),
                     [&](const store::RecordView& a, const store::RecordView& b) {
                       const uint64_t x = registered(a), y = registered(b);
                       return x != y ? x < y : a.record_id < b.record_id;
                     });
    // What the hub holds, read once for the list (a hub has no hub above).
    std::optional<app::Office::HubHeads> heads;
    if (!c.hub()) {
      auto read = c.office.ReadHubHeads();
      if (read.ok()) heads = std::move(*read);
    }
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
      } else if (heads) {
        const bool waiting = c.office.RecordHubState(r, *heads) == app::Office::HubState::kWaiting;
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
  // Each page ranks every hit before it: an officer narrows a search
  // rather than paging through thousands.
  const bool capped = page > kMaxPages;
  if (capped) page = kMaxPages;
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
  auto capped_note = [&] {
    h << "<p class=\"hint\" id=\"search-capped\">"
      << Esc(domain::FillTemplate(std::string(c.T("search.capped")).c_str(),
                                  {std::to_string(kMaxPages),
                                   Count(static_cast<int64_t>(kMaxPages * kPerPage), c.lang())}))
      << "</p>";
  };
  if (result->hits.empty()) {
    h << "<p class=\"empty\" id=\"no-results\">" << Esc(c.T("search.none")) << "</p>";
    if (capped) capped_note();
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
    auto rec = c.office.GetRecord(hit.record_id, hit.scope);
    if (rec.ok()) {
      People(h, c, *rec);
    } else {
      h.Text(hit.names);
    }
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
  if (result->more && page < kMaxPages) link(page + 1, c.T("search.next"), "next");
  h << "</nav>";
  if (capped || (result->more && page == kMaxPages)) capped_note();
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

// "Sở Tư pháp Khánh Hòa": the province's department, whose hub this
// commune syncs with.
std::string HubName(const PageCtx& c) {
  std::string province = c.office.info().province;
  if (province.empty()) province = app::Office::ProvinceOf(c.office.info().commune);
  std::string name = app::Office::ProvinceName(province);
  // "Tỉnh Khánh Hòa" -> "Khánh Hòa": after "Sở Tư pháp" the kind is not said.
  for (std::string_view kind : {"Tỉnh ", "Thành phố "}) {
    if (name.starts_with(kind)) name.erase(0, kind.size());
  }
  if (name.empty()) name = province;
  return domain::FillTemplate(std::string(c.T("sync.hub_name")).c_str(), {name});
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
    h << "<tr><td><strong>";
    if (c.office.IsHubPeer(p.peer)) {
      h.Text(HubName(c));
    } else {
      h << Esc(c.T("sync.other_machine"));
    }
    // The node id for an administrator, small.
    h << "</strong><br><span class=\"hint mono\" title=\"" << Esc(id) << "\">";
    h.Text(id.substr(0, 16));
    h << "…</span>";
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

// What a sync with the upstreams shows, from strings taken on the request
// thread: the job runs on the worker's thread and reads no page state.
struct SyncWords {
  domain::Lang lang;
  std::string hub, done, sent, received, refused, failed;
};

Jobs::Outcome SyncAll(app::Office& office, const SyncWords& w,
                      const std::vector<std::string>& upstreams) {
  Jobs::Outcome outcome{true, {}};
  Html out;
  for (const std::string& endpoint : upstreams) {
    auto r = office.SyncNow(endpoint, "", 30);
    outcome.ok = outcome.ok && r.ok();
    out << "<p class=\"" << (r.ok() ? "ok" : "error") << "\"><strong>";
    out.Text(w.hub);
    out << "</strong> <span class=\"hint\">(";
    out.Text(endpoint);
    out << ")</span>: ";
    if (r.ok()) {
      out << Esc(w.done) << " " << Esc(w.sent) << " "
          << Esc(Count(static_cast<int64_t>(r->stats.sent), w.lang)) << ", " << Esc(w.received)
          << " " << Esc(Count(static_cast<int64_t>(r->stats.received), w.lang));
      const uint64_t refused = r->stats.refused_by_peer + r->stats.refused_here;
      if (refused > 0)
        out << ", " << Esc(w.refused) << " " << Esc(Count(static_cast<int64_t>(refused), w.lang));
      out << ".";
    } else {
      out << Esc(w.failed) << " ";
      out.Text(r.status().message());
    }
    out << "</p>";
  }
  outcome.html = out.Take();
  return outcome;
}

// The state of "sync now": running (the page reloads itself until it
// ends), or how the last one went and when.
std::string SyncJobHtml(PageCtx& c) {
  if (c.jobs == nullptr) return {};
  const Jobs::State st = c.jobs->Get("sync");
  if (st.started_ms == 0) return {};
  Html h;
  h << "<section id=\"sync-result\" class=\"panel\"><h2>" << Esc(c.T("sync.result")) << "</h2>";
  if (st.running) {
    h << "<p data-refresh=\"2\" role=\"status\">" << Esc(c.T("sync.running")) << " "
      << Esc(c.tz.Human(st.started_ms)) << "</p>";
  } else {
    h << "<p class=\"hint\">" << Esc(c.tz.Human(st.finished_ms)) << "</p>" << st.outcome.html;
  }
  h << "</section>";
  return h.Take();
}

Response SyncGet(PageCtx& c) { return SyncPage(c, SyncJobHtml(c)); }

Response SyncPost(PageCtx& c) {
  if (c.options.upstreams.empty()) {
    return SyncPage(c, "<section id=\"sync-result\" class=\"panel\"><p class=\"error\">" +
                           Esc(c.T("sync.no_upstream")) + "</p></section>");
  }
  SyncWords w{c.lang(),
              HubName(c),
              std::string(c.T("sync.done")),
              std::string(c.T("sync.sent")),
              std::string(c.T("sync.received")),
              std::string(c.T("sync.refused")),
              std::string(c.T("sync.failed"))};
  if (c.jobs == nullptr) {  // no worker (tests): here and now
    Jobs::Outcome o = SyncAll(c.office, w, c.options.upstreams);
    return SyncPage(c, "<section id=\"sync-result\" class=\"panel\"><h2>" +
                           Esc(c.T("sync.result")) + "</h2>" + o.html + "</section>");
  }
  // On the worker: a hub that cannot be reached holds up no page.
  c.jobs->Start("sync", [w, upstreams = c.options.upstreams](app::Office& office) {
    return SyncAll(office, w, upstreams);
  });
  return Response::Redirect("/sync");
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
