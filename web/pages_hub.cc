// The hub operator's console (role operator, on a hub): the communes of the
// province and which are behind, the province's conflict queue, the monthly
// figures with a chart, a reconcile run against a commune, and enrolment of
// a commune's node. Every table downloads as CSV (?format=csv): plain numbers
// and ISO 8601 times there, people's forms on the pages.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "base/file_io.h"
#include "node/domain/schema.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/pages_commune.h"
#include "web/webapp.h"

namespace tuphap::web {
namespace {

using Rows = std::vector<std::vector<std::string>>;

bool WantsCsv(const PageCtx& c) { return FieldValue(c.query, "format") == "csv"; }

std::string N(const PageCtx& c, uint64_t n) { return Count(static_cast<int64_t>(n), c.lang()); }

// A number cell; `attention` marks a count that waits for someone when it
// is not zero.
std::string NumCell(const PageCtx& c, uint64_t n, bool attention = false) {
  std::string cls = "num";
  if (n == 0) {
    cls += " zero";
  } else if (attention) {
    cls += " attn";
  }
  return "<td class=\"" + cls + "\">" + Esc(N(c, n)) + "</td>";
}

std::string Th(const PageCtx& c, std::string_view key, bool num = false) {
  return std::string("<th scope=\"col\"") + (num ? " class=\"num\"" : "") + ">" + Esc(c.T(key)) +
         "</th>";
}

// A heading in few words with its full meaning on hover (key + ".short"
// the words, key the meaning): a wide table stays on one screen.
std::string ThShort(const PageCtx& c, const std::string& key, bool num = false) {
  return std::string("<th scope=\"col\"") + (num ? " class=\"num\"" : "") + "><abbr title=\"" +
         Esc(c.T(key)) + "\">" + Esc(c.T(key + ".short")) + "</abbr></th>";
}

// The commune pages' words for types and fields (pages_commune.h): one
// translation of each in the catalogue.
std::string TypeName(const PageCtx& c, const std::string& type) { return TypeLabel(c, type); }

// A field by its label; the path (data.child.birth_place) is the CSV's.
void FieldCell(Html& h, const PageCtx& c, const std::string& type, const std::string& path) {
  h << "<td class=\"field-label\">";
  h.Text(FieldLabel(c, type, path));
  h << "</td>";
}

// A commune for a person: its name when the reference data knows the code
// ("Phường Bắc Nha Trang"), else the code.
std::string CommuneLabel(const std::string& code) {
  const std::string name = app::Office::CommuneName(code);
  return name.empty() ? code : name;
}

// A moment for a page: local time, or "never".
std::string When(const PageCtx& c, int64_t ms) {
  return ms <= 0 ? std::string(c.T("hub.never")) : c.tz.Human(ms);
}
std::string IsoOrEmpty(const PageCtx& c, int64_t ms) { return ms <= 0 ? "" : c.tz.Iso(ms); }

// "2026-05" -> "05/2026"; "all" -> every period.
std::string PeriodText(const PageCtx& c, const std::string& period) {
  if (period.size() == 7 && period[4] == '-')
    return period.substr(5, 2) + "/" + period.substr(0, 4);
  if (period == "all") return std::string(c.T("hub.stats.all_time"));
  return period;
}

// How long the behind threshold is, in the largest whole unit.
std::string DurationText(const PageCtx& c, int64_t s) {
  auto say = [&](int64_t n, std::string_view one, std::string_view many) {
    return N(c, n) + " " + std::string(c.T(n == 1 ? one : many));
  };
  if (s > 0 && s % 86400 == 0) return say(s / 86400, "hub.unit.day", "hub.unit.days");
  if (s > 0 && s % 3600 == 0) return say(s / 3600, "hub.unit.hour", "hub.unit.hours");
  return say(std::max<int64_t>(s / 60, 1), "hub.unit.minute", "hub.unit.minutes");
}

std::string CsvLink(const PageCtx& c, std::string_view href) {
  return "<a class=\"button secondary csv\" href=\"" + Esc(href) + "\" download>" +
         Esc(c.T("hub.csv")) + "</a>";
}

std::string OfficerOf(const PageCtx& c, const node::EntryView& v) {
  if (v.sealed) return std::string(c.T("hub.sealed"));
  return v.officer.empty() ? "—" : v.officer;
}

// A rule (person rules) or a reason code for people, the code when the
// catalogue has no words for it.
std::string Words(const PageCtx& c, const std::string& prefix, const std::string& code) {
  const std::string key = prefix + code;
  return HasKey(key) ? std::string(c.T(key)) : code;
}
std::string RuleText(const PageCtx& c, const std::string& rule) { return Words(c, "rule.", rule); }
std::string RefusalText(const PageCtx& c, const std::string& reason) {
  return Words(c, "hub.refusal.", reason);
}
// Why a record was judged invalid: its error class in words (the person
// rules' words where the class is one of them).
std::string FlagText(const PageCtx& c, const std::string& reason) {
  const std::string key = "hub.flag." + reason;
  return HasKey(key) ? std::string(c.T(key)) : RuleText(c, reason);
}

// The machines of the province for a person: a node id
// ("GC9F-D5W6-H478-MEPX-Z8YE") as its commune's name (with the id's first
// group when the commune has more than one), this hub as such; an unknown
// one by its first groups.
class NodeNames {
 public:
  NodeNames(const PageCtx& c, const report::StatusReport* status)
      : hub_id_(c.office.node_id()), hub_(c.T("hub.node.hub")), machine_(c.T("hub.node.machine")) {
    if (status == nullptr) return;
    for (const auto& r : status->communes) {
      for (const report::NodeStatusRow& n : r.nodes) {
        names_[n.node_id] = {CommuneLabel(r.commune), r.nodes.size() > 1};
      }
    }
  }
  std::string operator()(const std::string& id) const {
    if (id == hub_id_) return hub_;
    auto it = names_.find(id);
    if (it == names_.end()) return Short(id) + "…";
    return it->second.second ? it->second.first + " (" + machine_ + " " + Short(id) + ")"
                             : it->second.first;
  }

 private:
  static std::string Short(const std::string& id) { return id.substr(0, id.find('-')); }
  std::string hub_id_, hub_, machine_;
  std::map<std::string, std::pair<std::string, bool>> names_;
};

// --- the communes ------------------------------------------------------------

// One commune as the console shows it: its nodes folded into one line.
struct CommuneLine {
  const report::CommuneStatusRow* row = nullptr;
  size_t nodes = 0, revoked = 0;
  int64_t last_contact = 0, last_success = 0;
  uint64_t pending_out = 0, pending_in = 0, refused = 0;
  bool behind = false;
};

CommuneLine Fold(const report::CommuneStatusRow& r, int64_t now_ms, int64_t behind_after_s) {
  CommuneLine l;
  l.row = &r;
  for (const report::NodeStatusRow& n : r.nodes) {
    l.refused += n.refused;  // a revoked node's refusals happened all the same
    if (n.revoked) {
      ++l.revoked;
      continue;
    }
    // A revoked node's old sync says nothing of the commune now.
    ++l.nodes;
    l.last_contact = std::max(l.last_contact, n.last_contact_ms);
    l.last_success = std::max(l.last_success, n.last_success_ms);
    l.pending_out += n.pending_out;
    l.pending_in += n.pending_in;
  }
  l.behind = l.last_success <= 0 || now_ms - l.last_success > behind_after_s * 1000;
  return l;
}

Response Console(PageCtx& c) {
  auto status = c.office.ProvinceStatus();
  if (!status.ok()) return ErrorPage(c, 500, status.status().message());
  const int64_t now = c.options.clock->WallMillis();
  std::vector<CommuneLine> lines;
  for (const auto& r : status->communes) lines.push_back(Fold(r, now, c.options.behind_after_s));

  if (WantsCsv(c)) {
    Rows rows;
    // Header lines are the columns' machine keys, the same in every
    // language.
    rows.push_back({"commune", "name", "state", "nodes", "last_contact", "last_sync", "pending_out",
                    "pending_in", "records", "held", "conflicts", "person_conflicts", "refused",
                    "equivocations", "invalid"});
    for (const CommuneLine& l : lines) {
      const auto& r = *l.row;
      rows.push_back(
          {r.commune, r.name, std::string(c.T(l.behind ? "hub.state.behind" : "hub.state.ok")),
           std::to_string(l.nodes), IsoOrEmpty(c, l.last_contact), IsoOrEmpty(c, l.last_success),
           std::to_string(l.pending_out), std::to_string(l.pending_in), std::to_string(r.records),
           std::to_string(r.held), std::to_string(r.conflicts), std::to_string(r.person_conflicts),
           std::to_string(l.refused), std::to_string(r.equivocations), std::to_string(r.invalid)});
    }
    return CsvResponse("communes-" + c.office.info().province + ".csv", rows);
  }

  size_t behind = 0, with_person_conflicts = 0;
  uint64_t conflicts = 0, records = 0;
  for (const CommuneLine& l : lines) {
    behind += l.behind ? 1 : 0;
    conflicts += l.row->conflicts;
    records += l.row->records;
    with_person_conflicts += l.row->person_conflicts > 0 ? 1 : 0;
  }

  const std::string province = app::Office::ProvinceName(c.office.info().province);
  Html h;
  h << "<div class=\"hub-wide\"><div class=\"page-head\"><div><h1>" << Esc(c.T("hub.title"))
    << "</h1><p class=\"sub\">";
  h.Text(province.empty() ? c.office.info().province : province);
  h << " · " << Esc(c.T("hub.as_of")) << " ";
  h.Text(c.tz.Human(now));
  h << "</p></div>" << CsvLink(c, "/hub?format=csv") << "</div>";

  // The line an operator reads first: how many, how many behind, what waits.
  h << "<dl id=\"summary\" class=\"summary\"><div><dt>" << Esc(c.T("hub.sum.communes"))
    << "</dt><dd>" << Esc(N(c, lines.size())) << "</dd></div><div class=\""
    << (behind > 0 ? "bad" : "good") << "\"><dt>" << Esc(c.T("hub.sum.behind")) << "</dt><dd>"
    << Esc(N(c, behind)) << "</dd></div><div class=\"" << (conflicts > 0 ? "warn" : "good")
    << "\"><dt>" << Esc(c.T("hub.sum.conflicts")) << "</dt><dd><a href=\"/hub/conflicts\">"
    << Esc(N(c, conflicts)) << "</a></dd></div><div><dt>" << Esc(c.T("hub.sum.records"))
    << "</dt><dd>" << Esc(N(c, records)) << "</dd></div></dl>";
  h << "<p class=\"hint\">" << Esc(c.T("hub.behind_rule")) << " ";
  h.Text(DurationText(c, c.options.behind_after_s));
  h << ".";
  if (with_person_conflicts > 0) {
    h << " " << Esc(c.T("hub.person_conflicts_in")) << " " << Esc(N(c, with_person_conflicts))
      << " " << Esc(c.T("hub.communes_word")) << ".";
  }
  h << "</p>";

  if (lines.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.empty")) << " <a href=\"/hub/enrol\">"
      << Esc(c.T("nav.enrol")) << "</a></p></div>";
    return PageResponse(c, c.T("hub.title"), h.str());
  }

  // One line per commune that fits the page: the state and the last sync
  // in one cell, short headings with their meaning on hover; each machine
  // (how many, which is revoked) in the nodes table below.
  h << "<p class=\"hint\">" << Esc(c.T("hub.table_note")) << "</p>"
    << "<table id=\"communes\" class=\"grid communes\"><thead><tr>" << Th(c, "hub.col.name")
    << Th(c, "hub.col.sync") << Th(c, "hub.col.last_contact")
    << ThShort(c, "hub.col.pending_out", true) << ThShort(c, "hub.col.pending_in", true)
    << Th(c, "hub.col.records", true) << ThShort(c, "hub.col.conflicts", true)
    << ThShort(c, "hub.col.person_conflicts", true) << ThShort(c, "hub.col.refused", true)
    << ThShort(c, "hub.col.equivocations", true) << ThShort(c, "hub.col.invalid", true)
    << "</tr></thead><tbody>";
  for (const CommuneLine& l : lines) {
    const auto& r = *l.row;
    h << "<tr data-commune=\"" << Esc(r.commune) << "\"" << (l.behind ? " class=\"behind\"" : "")
      << "><td class=\"name\">";
    h.Text(r.name.empty() ? r.commune : r.name);
    h << "<span class=\"meta code\">";
    h.Text(r.commune);
    h << "</span></td><td class=\"time\">";
    if (!l.behind) {
      h << "<span class=\"badge ok\">" << Esc(c.T("hub.state.ok")) << "</span>";
    } else if (l.nodes == 0) {
      h << "<span class=\"badge bad\">" << Esc(c.T("hub.state.no_node")) << "</span>";
    } else if (l.last_success <= 0) {
      h << "<span class=\"badge bad\">" << Esc(c.T("hub.state.never")) << "</span>";
    } else {
      h << "<span class=\"badge bad\">" << Esc(c.T("hub.state.behind")) << "</span>";
    }
    if (l.last_success > 0) {
      h << "<span class=\"meta\">";
      h.Text(c.tz.Human(l.last_success));
      h << "</span>";
    }
    h << "</td><td class=\"time\">";
    h.Text(When(c, l.last_contact));
    h << "</td>" << NumCell(c, l.pending_out);
    // Held changes wait for missing ones: received, not yet taken in.
    if (r.held > 0) {
      h << "<td class=\"num\">" << Esc(N(c, l.pending_in)) << "<span class=\"meta\"><abbr title=\""
        << Esc(c.T("hub.col.held")) << "\">+" << Esc(N(c, r.held)) << " "
        << Esc(c.T("hub.held_short")) << "</abbr></span></td>";
    } else {
      h << NumCell(c, l.pending_in);
    }
    h << NumCell(c, r.records) << NumCell(c, r.conflicts, true)
      << NumCell(c, r.person_conflicts, true) << NumCell(c, l.refused, true)
      << NumCell(c, r.equivocations, true) << NumCell(c, r.invalid, true) << "</tr>";
  }
  h << "</tbody></table>";

  // Each node: which machine of a commune is the one behind.
  h << "<h2>" << Esc(c.T("hub.nodes.title")) << "</h2><div class=\"scroll\">"
    << "<table id=\"nodes\" class=\"grid\"><thead><tr>" << Th(c, "hub.col.name")
    << Th(c, "hub.col.node") << Th(c, "hub.col.state") << Th(c, "hub.col.last_contact")
    << Th(c, "hub.col.last_sync") << ThShort(c, "hub.col.pending_out", true)
    << ThShort(c, "hub.col.pending_in", true) << ThShort(c, "hub.col.refused", true)
    << "</tr></thead><tbody>";
  for (const auto& r : status->communes) {
    for (const report::NodeStatusRow& n : r.nodes) {
      h << "<tr data-commune=\"" << Esc(r.commune) << "\"><td class=\"name\">";
      h.Text(r.name.empty() ? r.commune : r.name);
      h << "</td><td class=\"code\">";
      h.Text(n.node_id);
      h << "</td><td>"
        << (n.revoked ? "<span class=\"badge bad\">" + Esc(c.T("hub.node.revoked")) + "</span>"
                      : Esc(c.T("hub.node.active")))
        << "</td><td class=\"time\">";
      h.Text(When(c, n.last_contact_ms));
      h << "</td><td class=\"time\">";
      h.Text(When(c, n.last_success_ms));
      h << "</td>" << NumCell(c, n.pending_out) << NumCell(c, n.pending_in)
        << NumCell(c, n.refused, true) << "</tr>";
    }
  }
  h << "</tbody></table></div>";

  // Refusals are counted by this hub per reason (the report keeps no
  // commune per reason beyond the last one seen).
  h << "<h2>" << Esc(c.T("hub.refusals.title")) << "</h2>";
  if (status->refusals.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.refusals.none")) << "</p>";
  } else {
    h << "<table id=\"refusals\" class=\"grid compact\"><thead><tr>" << Th(c, "hub.col.reason")
      << Th(c, "hub.col.count", true) << Th(c, "hub.col.last_time") << Th(c, "hub.col.last_commune")
      << "</tr></thead><tbody>";
    for (const store::RefusalCount& x : status->refusals) {
      h << "<tr><td>";
      h.Text(RefusalText(c, x.reason));
      h << "<span class=\"meta code\">";
      h.Text(x.reason);
      h << "</span></td>" << NumCell(c, x.count) << "<td class=\"time\">";
      h.Text(When(c, x.last_at_ms));
      h << "</td><td>";
      if (!x.last_scope.empty()) h.Text(CommuneLabel(x.last_scope));
      h << "</td></tr>";
    }
    h << "</tbody></table>";
  }
  if (!status->invalid.empty()) {
    h << "<h2>" << Esc(c.T("hub.invalid.title")) << "</h2>"
      << "<table id=\"invalid\" class=\"grid compact\"><thead><tr>" << Th(c, "hub.col.name")
      << Th(c, "hub.col.reason") << Th(c, "hub.col.records", true) << "</tr></thead><tbody>";
    for (const store::InvalidCount& x : status->invalid) {
      h << "<tr><td>";
      h.Text(CommuneLabel(x.scope));
      h << "</td><td>";
      h.Text(FlagText(c, x.reason));
      h << "<span class=\"meta code\">";
      h.Text(x.reason);
      h << "</span></td>" << NumCell(c, x.count) << "</tr>";
    }
    h << "</tbody></table>";
  }
  h << "</div>";
  return PageResponse(c, c.T("hub.title"), h.str());
}

// --- the conflict queue ------------------------------------------------------

Response Conflicts(PageCtx& c) {
  auto open = c.office.Conflicts();
  if (!open.ok()) return ErrorPage(c, 500, open.status().message());
  // Which commune each machine is (the values' origins): only when some
  // value needs it.
  std::optional<report::StatusReport> status;
  if (!open->fields.empty()) {
    auto got = c.office.ProvinceStatus();
    if (!got.ok()) return ErrorPage(c, 500, got.status().message());
    status = std::move(*got);
  }
  const NodeNames machine(c, status ? &*status : nullptr);

  if (WantsCsv(c)) {
    // Every code beside its words, so that a spreadsheet can join on the
    // codes and a person read the words.
    Rows rows;
    rows.push_back({"record", "reference", "commune", "name", "type", "type_name", "field",
                    "field_label", "value", "officer", "node", "node_label", "time", "since"});
    for (const report::ConflictReportRow& r : open->fields) {
      for (const node::EntryView& v : r.values) {
        const std::string node_id = node::NodeIdText(v.origin.bytes);
        rows.push_back({r.row.record_id, RegisterRef(r.row.record_id), r.row.scope,
                        app::Office::CommuneName(r.row.scope), r.row.type, TypeName(c, r.row.type),
                        r.row.field, FieldLabel(c, r.row.type, r.row.field), v.value.ToDisplay(),
                        OfficerOf(c, v), node_id, machine(node_id),
                        c.tz.Iso(static_cast<int64_t>(v.hlc.millis())),
                        c.tz.Iso(static_cast<int64_t>(r.since.millis()))});
      }
    }
    if (!open->persons.empty()) {
      // Person conflicts have other columns: a second table after a blank
      // line, as `tuphap report conflicts --format csv` writes them.
      rows.push_back({});
      rows.push_back({"personal_id", "rule", "rule_name", "record", "reference", "commune", "type",
                      "type_name", "date", "other_record", "other_reference", "other_commune",
                      "other_type", "other_type_name", "other_date"});
      for (const store::PersonConflictRow& p : open->persons) {
        rows.push_back({p.personal_id, p.rule, RuleText(c, p.rule), p.record_id,
                        RegisterRef(p.record_id), p.scope, p.type, TypeName(c, p.type), p.date,
                        p.other_id, RegisterRef(p.other_id), p.other_scope, p.other_type,
                        TypeName(c, p.other_type), p.other_date});
      }
    }
    return CsvResponse("conflicts-" + c.office.info().province + ".csv", rows);
  }

  Html h;
  h << "<div class=\"hub-wide\"><div class=\"page-head\"><div><h1>"
    << Esc(c.T("hub.conflicts.title")) << "</h1><p class=\"sub\">"
    << Esc(c.T("hub.conflicts.intro")) << "</p></div>" << CsvLink(c, "/hub/conflicts?format=csv")
    << "</div>";
  h << "<dl id=\"summary\" class=\"summary\"><div class=\""
    << (open->fields.empty() ? "good" : "warn") << "\"><dt>" << Esc(c.T("hub.sum.conflicts"))
    << "</dt><dd>" << Esc(N(c, open->fields.size())) << "</dd></div><div class=\""
    << (open->persons.empty() ? "good" : "warn") << "\"><dt>" << Esc(c.T("hub.persons.title"))
    << "</dt><dd>" << Esc(N(c, open->persons.size())) << "</dd></div></dl>";

  h << "<h2>" << Esc(c.T("hub.fields.title")) << "</h2><p class=\"hint\">"
    << Esc(c.T("hub.fields.intro")) << "</p>";
  if (open->fields.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.conflicts.none")) << "</p>";
  } else {
    h << "<div class=\"scroll\"><table id=\"conflict-list\" class=\"grid\"><thead><tr>"
      << Th(c, "hub.col.name") << Th(c, "hub.col.record") << Th(c, "hub.col.type")
      << Th(c, "hub.col.field_short") << Th(c, "hub.col.values") << Th(c, "hub.col.since")
      << "</tr></thead><tbody>";
    for (const report::ConflictReportRow& r : open->fields) {
      h << "<tr data-commune=\"" << Esc(r.row.scope) << "\"><td class=\"name\">";
      h.Text(CommuneLabel(r.row.scope));
      h << "</td><td>" << RecordLink(r.row.record_id) << "</td><td>";
      h.Text(TypeName(c, r.row.type));
      h << "</td>";
      FieldCell(h, c, r.row.type, r.row.field);
      h << "<td><ul class=\"values\">";
      const domain::FieldSpec* spec = domain::FindField(r.row.type, r.row.field);
      for (const node::EntryView& v : r.values) {
        h << "<li><strong>";
        // As the record page shows it: dd/mm/yyyy, words for codes, money.
        h.Text(DisplayValue(c, spec, r.row.field, v.value.ToDisplay()));
        h << "</strong><span class=\"meta\">";
        h.Text(OfficerOf(c, v));
        h << " · ";
        h.Text(c.tz.Human(static_cast<int64_t>(v.hlc.millis())));
        h << " · ";
        h.Text(machine(node::NodeIdText(v.origin.bytes)));
        h << "</span></li>";
      }
      h << "</ul></td><td class=\"time\">";
      h.Text(c.tz.Human(static_cast<int64_t>(r.since.millis())));
      h << "</td></tr>";
    }
    h << "</tbody></table></div>";
  }

  h << "<h2>" << Esc(c.T("hub.persons.title")) << "</h2><p class=\"hint\">"
    << Esc(c.T("hub.persons.intro")) << "</p>";
  if (open->persons.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.persons.none")) << "</p>";
  } else {
    h << "<div class=\"scroll\"><table id=\"person-conflicts\" class=\"grid\"><thead><tr>"
      << Th(c, "hub.col.personal_id") << Th(c, "hub.col.rule") << Th(c, "hub.col.record")
      << Th(c, "hub.col.other_record") << "</tr></thead><tbody>";
    auto side = [&](const std::string& id, const std::string& scope, const std::string& type,
                    const std::string& date) {
      h << "<td>" << RecordLink(id) << "<span class=\"meta\">";
      h.Text(TypeName(c, type));
      h << " · ";
      h.Text(CommuneLabel(scope));
      h << " · ";
      h.Text(DisplayDate(date));
      h << "</span></td>";
    };
    for (const store::PersonConflictRow& p : open->persons) {
      h << "<tr><td class=\"code\">";
      h.Text(p.personal_id);
      h << "</td><td>";
      h.Text(RuleText(c, p.rule));
      h << "</td>";
      side(p.record_id, p.scope, p.type, p.date);
      side(p.other_id, p.other_scope, p.other_type, p.other_date);
      h << "</tr>";
    }
    h << "</tbody></table></div>";
  }
  h << "</div>";
  return PageResponse(c, c.T("hub.conflicts.title"), h.str());
}

// --- statistics --------------------------------------------------------------

// A step for the chart's scale: 1, 2, 2.5 or 5 times a power of ten, so that
// about four lines span `max`.
int64_t NiceStep(int64_t max) {
  if (max <= 4) return 1;
  const double raw = static_cast<double>(max) / 4;
  int64_t p = 1;
  while (p * 10 <= raw) p *= 10;
  // Steps of 2.5 only from 25 up: figures are whole numbers.
  for (int64_t tenths : {10, 20, 25, 50, 100}) {
    if (tenths == 25 && p < 10) continue;
    if (p * tenths / 10 >= raw) return p * tenths / 10;
  }
  return p * 10;
}

// The months from `first` to `last` (YYYY-MM), each one.
std::vector<std::string> MonthsBetween(const std::string& first, const std::string& last) {
  std::vector<std::string> out;
  int y = std::atoi(first.substr(0, 4).c_str()), m = std::atoi(first.substr(5, 2).c_str());
  const int ly = std::atoi(last.substr(0, 4).c_str()), lm = std::atoi(last.substr(5, 2).c_str());
  while ((y < ly || (y == ly && m <= lm)) && out.size() < 1200) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d", y, m);
    out.push_back(buf);
    if (++m > 12) {
      m = 1;
      ++y;
    }
  }
  return out;
}

// "2025-07" -> "07/25": a month under a bar.
std::string ShortMonth(const std::string& month) {
  return month.size() == 7 ? month.substr(5, 2) + "/" + month.substr(2, 2) : month;
}

// How many bars from `first` (YYYY-MM) to the first month whose number is
// 1 modulo `every` (January, April, ... for every 3), so that labels fall on
// the same months in every chart.
int MonthOffset(const std::string& first, int every) {
  const int m = std::atoi(first.substr(5, 2).c_str());  // 1..12
  return ((1 - m) % every + every) % every;
}

// Registrations per month as an SVG bar chart, drawn here (no script): a
// title and a description for screen readers, each bar titled with its
// month and figure, months written under the bars.
std::string Chart(const PageCtx& c, const std::map<std::string, uint64_t>& per_month) {
  std::vector<std::string> months;
  if (!per_month.empty())
    months = MonthsBetween(per_month.begin()->first, per_month.rbegin()->first);
  constexpr int kW = 960, kH = 300, kLeft = 64, kRight = 16, kTop = 28, kBottom = 52;
  const int plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  uint64_t max = 0, total = 0;
  for (const auto& [m, n] : per_month) {
    max = std::max(max, n);
    total += n;
  }
  const int64_t step = NiceStep(static_cast<int64_t>(max));
  const int64_t top = std::max<int64_t>(step, (static_cast<int64_t>(max) + step - 1) / step * step);

  Html h;
  h << "<figure class=\"chart-box\"><svg id=\"chart\" class=\"chart\" role=\"img\" viewBox=\"0 0 "
    << std::to_string(kW) << " " << std::to_string(kH)
    << "\" aria-labelledby=\"chart-title chart-desc\"><title id=\"chart-title\">"
    << Esc(c.T("hub.chart.title")) << "</title><desc id=\"chart-desc\">";
  h.Text(std::string(c.T("hub.chart.desc")) + " " + N(c, total) +
         (months.empty()
              ? ""
              : " (" + PeriodText(c, months.front()) + " – " + PeriodText(c, months.back()) + ")"));
  h << "</desc>";
  auto y_of = [&](int64_t v) { return kTop + plot_h - static_cast<int>(v * plot_h / top); };
  for (int64_t v = 0; v <= top; v += step) {
    const std::string y = std::to_string(y_of(v));
    h << "<line class=\"gridline\" x1=\"" << std::to_string(kLeft) << "\" x2=\""
      << std::to_string(kW - kRight) << "\" y1=\"" << y << "\" y2=\"" << y << "\"/>"
      << "<text class=\"axis\" x=\"" << std::to_string(kLeft - 8) << "\" y=\""
      << std::to_string(y_of(v) + 4) << "\" text-anchor=\"end\">" << Esc(N(c, v)) << "</text>";
  }
  h << "<text class=\"axis-title\" x=\"" << std::to_string(kLeft) << "\" y=\"16\">"
    << Esc(c.T("hub.chart.y")) << "</text>";
  if (months.empty()) {
    h << "<text class=\"axis\" x=\"" << std::to_string(kW / 2) << "\" y=\""
      << std::to_string(kTop + plot_h / 2) << "\" text-anchor=\"middle\">"
      << Esc(c.T("hub.stats.none")) << "</text>";
  }
  const int n = static_cast<int>(months.size());
  const double slot = n > 0 ? static_cast<double>(plot_w) / n : plot_w;
  const double bar = std::clamp(slot * 0.7, 1.0, 72.0);  // a few months: bars, not walls
  // Month labels "07/25" (about 34 units at 12px) under every `every`-th
  // bar, `every` a divisor of a year so that the labelled months stay the
  // same ones, with 56 units from one to the next: they never run
  // together, whatever the width the page scales the chart to.
  int every = 12;
  for (int e : {1, 2, 3, 4, 6}) {
    if (slot * e >= 56) {
      every = e;
      break;
    }
  }
  const int first_label = every == 1 || months.empty() ? 0 : MonthOffset(months.front(), every);
  const bool values = slot >= 30;
  for (int i = 0; i < n; ++i) {
    auto it = per_month.find(months[i]);
    const int64_t v = it == per_month.end() ? 0 : static_cast<int64_t>(it->second);
    const double x = kLeft + i * slot + (slot - bar) / 2;
    const int y = y_of(v);
    char geo[160];
    std::snprintf(geo, sizeof geo, "x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\"", x, y, bar,
                  kTop + plot_h - y);
    h << "<g class=\"bar\"><title>";
    h.Text(PeriodText(c, months[i]) + ": " + N(c, v));
    h << "</title><rect " << geo << "/>";
    char cx[32];
    std::snprintf(cx, sizeof cx, "%.1f", x + bar / 2);
    if (values && v > 0) {
      h << "<text class=\"value\" x=\"" << cx << "\" y=\"" << std::to_string(y - 4)
        << "\" text-anchor=\"middle\">" << Esc(N(c, v)) << "</text>";
    }
    if (i % every == first_label) {
      h << "<text class=\"axis\" x=\"" << cx << "\" y=\"" << std::to_string(kTop + plot_h + 18)
        << "\" text-anchor=\"middle\">";
      h.Text(ShortMonth(months[i]));
      h << "</text>";
    }
    h << "</g>";
  }
  h << "<line class=\"baseline\" x1=\"" << std::to_string(kLeft) << "\" x2=\""
    << std::to_string(kW - kRight) << "\" y1=\"" << std::to_string(kTop + plot_h) << "\" y2=\""
    << std::to_string(kTop + plot_h) << "\"/></svg><figcaption>" << Esc(c.T("hub.chart.caption"))
    << "</figcaption></figure>";
  return h.Take();
}

Response Stats(PageCtx& c) {
  const std::string from_text = FieldValue(c.query, "from");
  const std::string to_text = FieldValue(c.query, "to");
  report::StatsOptions o;
  std::string error;
  if (!from_text.empty()) {
    if (auto d = ParseDisplayDate(from_text)) {
      o.from = *d;
    } else {
      error = c.T("hub.stats.bad_date");
    }
  }
  if (!to_text.empty()) {
    if (auto d = ParseDisplayDate(to_text)) {
      o.to = *d;
    } else {
      error = c.T("hub.stats.bad_date");
    }
  }
  if (error.empty() && !o.from.empty() && !o.to.empty() && o.from > o.to)
    error = c.T("hub.stats.from_after_to");

  std::vector<report::StatsRow> rows;
  if (error.empty()) {
    auto got = c.office.Stats(o);
    if (!got.ok()) {
      error = NodeMessage(c.lang(), got.status().message());
    } else {
      rows = std::move(*got);
    }
  }

  if (WantsCsv(c) && error.empty()) {
    Rows out;
    // The columns' machine keys, the same in every language.
    out.push_back({"commune", "name", "type", "type_name", "period", "count", "revoked", "invalid",
                   "held_back", "fines", "issued_vnd", "paid_vnd", "outstanding_vnd"});
    for (const report::StatsRow& r : rows) {
      out.push_back({r.commune, app::Office::CommuneName(r.commune), r.type, TypeName(c, r.type),
                     r.period, std::to_string(r.count), std::to_string(r.revoked),
                     std::to_string(r.invalid), std::to_string(r.held_back),
                     std::to_string(r.fines), std::to_string(r.fines_issued_vnd),
                     std::to_string(r.fines_paid_vnd), std::to_string(r.fines_outstanding_vnd)});
    }
    std::string name = "stats-" + c.office.info().province;
    if (!o.from.empty()) name += "-from-" + o.from;
    if (!o.to.empty()) name += "-to-" + o.to;
    return CsvResponse(name + ".csv", out);
  }

  Html h;
  h << "<div class=\"hub-wide\"><div class=\"page-head\"><div><h1>" << Esc(c.T("hub.stats.title"))
    << "</h1><p class=\"sub\">";
  if (o.from.empty() && o.to.empty()) {
    h << Esc(c.T("hub.stats.all_time"));
  } else {
    h << Esc(c.T("hub.stats.from")) << " ";
    h.Text(o.from.empty() ? "…" : DisplayDate(o.from));
    h << " " << Esc(c.T("hub.stats.to_lower")) << " ";
    h.Text(o.to.empty() ? "…" : DisplayDate(o.to));
  }
  h << "</p></div>";
  if (error.empty()) {
    std::string csv = "/hub/stats?format=csv";
    if (!from_text.empty()) csv += "&from=" + UrlEncode(from_text);
    if (!to_text.empty()) csv += "&to=" + UrlEncode(to_text);
    h << CsvLink(c, csv);
  }
  h << "</div>";

  h << "<form id=\"stats-filter\" class=\"filter\" method=\"get\" action=\"/hub/stats\">"
    << "<label>" << Esc(c.T("hub.stats.from"))
    << " <input id=\"f_from\" name=\"from\" data-kind=\"date\" inputmode=\"numeric\" "
       "placeholder=\"dd/mm/yyyy\" size=\"11\" value=\""
    << Esc(from_text) << "\"></label><label>" << Esc(c.T("hub.stats.to"))
    << " <input id=\"f_to\" name=\"to\" data-kind=\"date\" inputmode=\"numeric\" "
       "placeholder=\"dd/mm/yyyy\" size=\"11\" value=\""
    << Esc(to_text) << "\"></label><button type=\"submit\">" << Esc(c.T("hub.stats.apply"))
    << "</button> <a class=\"button secondary\" href=\"/hub/stats\">" << Esc(c.T("hub.stats.reset"))
    << "</a></form>";
  if (!error.empty()) {
    h << "<p class=\"error\" id=\"form-error\" role=\"alert\">";
    h.Text(error);
    h << "</p></div>";
    Response r = PageResponse(c, c.T("hub.stats.title"), h.str());
    r.status = 422;
    return r;
  }

  std::map<std::string, uint64_t> per_month;
  std::map<std::string, report::StatsRow> per_type;
  report::StatsRow total;
  for (const report::StatsRow& r : rows) {
    per_month[r.period] += r.count;
    report::StatsRow& t = per_type[r.type];
    for (report::StatsRow* s : {&t, &total}) {
      s->count += r.count;
      s->revoked += r.revoked;
      s->invalid += r.invalid;
      s->held_back += r.held_back;
      s->fines += r.fines;
      s->fines_issued_vnd += r.fines_issued_vnd;
      s->fines_paid_vnd += r.fines_paid_vnd;
      s->fines_outstanding_vnd += r.fines_outstanding_vnd;
    }
  }
  per_month.erase("all");
  h << Chart(c, per_month);

  auto money = [&](const report::StatsRow& r, int64_t v) {
    return r.fines > 0 ? "<td class=\"num\">" + Esc(Money(v, c.lang())) + "</td>"
                       : std::string("<td class=\"num zero\">—</td>");
  };
  auto figures = [&](const report::StatsRow& r) {
    h << NumCell(c, r.count) << NumCell(c, r.revoked) << NumCell(c, r.invalid, true)
      << NumCell(c, r.held_back, true) << NumCell(c, r.fines) << money(r, r.fines_issued_vnd)
      << money(r, r.fines_paid_vnd) << money(r, r.fines_outstanding_vnd);
  };
  auto figure_heads = [&] {
    h << Th(c, "hub.col.count", true) << Th(c, "hub.col.revoked", true)
      << Th(c, "hub.col.invalid", true) << Th(c, "hub.col.held_back", true)
      << Th(c, "hub.col.fines", true) << Th(c, "hub.col.issued", true)
      << Th(c, "hub.col.paid", true) << Th(c, "hub.col.outstanding", true);
  };

  if (rows.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.stats.none")) << "</p></div>";
    return PageResponse(c, c.T("hub.stats.title"), h.str());
  }

  // The province by type first: the figures of the monthly report.
  h << "<h2>" << Esc(c.T("hub.stats.by_type")) << "</h2><div class=\"scroll\">"
    << "<table id=\"stats-by-type\" class=\"grid\"><thead><tr>" << Th(c, "hub.col.type");
  figure_heads();
  h << "</tr></thead><tbody>";
  // In the order of the register (DOMAIN.md), not of the codes.
  std::vector<std::string> types = domain::RecordTypes();
  for (const auto& [type, r] : per_type) {
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  }
  for (const std::string& type : types) {
    auto it = per_type.find(type);
    if (it == per_type.end()) continue;
    const report::StatsRow& r = it->second;
    h << "<tr><td>";
    h.Text(TypeName(c, type));
    h << "</td>";
    figures(r);
    h << "</tr>";
  }
  h << "</tbody><tfoot><tr><th scope=\"row\">" << Esc(c.T("hub.stats.total")) << "</th>";
  figures(total);
  h << "</tr></tfoot></table></div>";

  h << "<h2>" << Esc(c.T("hub.stats.detail")) << "</h2><div class=\"scroll\">"
    << "<table id=\"stats\" class=\"grid\"><thead><tr>" << Th(c, "hub.col.name")
    << Th(c, "hub.col.type") << Th(c, "hub.col.period");
  figure_heads();
  h << "</tr></thead><tbody>";
  for (const report::StatsRow& r : rows) {
    h << "<tr data-commune=\"" << Esc(r.commune) << "\" data-type=\"" << Esc(r.type)
      << "\" data-period=\"" << Esc(r.period) << "\"><td class=\"name\">";
    h.Text(CommuneLabel(r.commune));
    h << "</td><td>";
    h.Text(TypeName(c, r.type));
    h << "</td><td class=\"time\">";
    h.Text(PeriodText(c, r.period));
    h << "</td>";
    figures(r);
    h << "</tr>";
  }
  h << "</tbody><tfoot><tr><th scope=\"row\" colspan=\"3\">" << Esc(c.T("hub.stats.total"))
    << "</th>";
  figures(total);
  h << "</tr></tfoot></table></div>";
  if (total.held_back > 0) {
    h << "<p class=\"hint\">" << Esc(N(c, total.held_back)) << " "
      << Esc(c.T("hub.stats.held_note")) << " <a href=\"/hub/conflicts\">"
      << Esc(c.T("nav.conflicts")) << "</a></p>";
  }
  h << "<p class=\"hint\">" << Esc(c.T("hub.stats.csv_note")) << "</p>";
  h << "</div>";
  return PageResponse(c, c.T("hub.stats.title"), h.str());
}

// --- reconcile ---------------------------------------------------------------

// A directory of this process's own (0700) for an uploaded file, removed
// with everything in it when this goes: a snapshot opened there may leave
// its journal beside it.
class ScratchDir {
 public:
  ScratchDir() {
    std::error_code ec;
    std::string tmpl = (std::filesystem::temp_directory_path(ec) / "tuphap-web-XXXXXX").string();
    if (ec) tmpl = "/tmp/tuphap-web-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool IsCommuneCode(std::string_view s) {
  return s.size() == 5 &&
         std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

std::string ReconcileForm(const PageCtx& c, const std::string& commune, const std::string& peer) {
  Html h;
  h << "<form id=\"reconcile-form\" class=\"panel\" method=\"post\" "
       "enctype=\"multipart/form-data\" action=\"/hub/reconcile\">"
    << CsrfInput(c) << "<label for=\"f_commune\">" << Esc(c.T("hub.rec.commune"))
    << "</label><input id=\"f_commune\" name=\"commune\" "
    << "inputmode=\"numeric\" pattern=\"[0-9]{5}\" maxlength=\"5\" size=\"7\" value=\""
    << Esc(commune) << "\"><p class=\"hint\">" << Esc(c.T("hub.rec.commune_hint"))
    << "</p><fieldset><legend>" << Esc(c.T("hub.rec.other")) << "</legend>"
    << "<label for=\"f_peer\">" << Esc(c.T("hub.rec.peer")) << "</label><input id=\"f_peer\" "
    << "name=\"peer\" class=\"wide-input\" placeholder=\"NODE-ID@tcp://192.168.1.20:7700\" value=\""
    << Esc(peer) << "\"><p class=\"or\">" << Esc(c.T("hub.rec.or")) << "</p><label for=\"f_from\">"
    << Esc(c.T("hub.rec.file")) << "</label><input type=\"file\" id=\"f_from\" name=\"from\">"
    << "<p class=\"hint\">" << Esc(c.T("hub.rec.file_hint")) << "</p></fieldset>"
    << "<div class=\"actions\"><button type=\"submit\" id=\"reconcile-run\">"
    << Esc(c.T("hub.rec.run")) << "</button> <button type=\"submit\" class=\"secondary\" "
    << "name=\"format\" value=\"csv\">" << Esc(c.T("hub.rec.run_csv")) << "</button></div></form>";
  return h.Take();
}

// The node's own words (English, for the log) under an error, folded:
// the operator reads the sentence, a technician opens this.
void TechnicalDetail(Html& h, const PageCtx& c, std::string_view detail) {
  if (detail.empty()) return;
  h << "<details class=\"tech-detail\"><summary>" << Esc(c.T("hub.detail")) << "</summary><p>";
  h.Text(detail);
  h << "</p></details>";
}

Response ReconcilePage(PageCtx& c, int status, const std::string& commune, const std::string& peer,
                       std::string_view error, std::string_view result,
                       std::string_view detail = {}) {
  Html h;
  h << "<div class=\"hub-wide\"><h1>" << Esc(c.T("hub.rec.title")) << "</h1><p class=\"sub\">"
    << Esc(c.T("hub.rec.intro")) << "</p>";
  if (!error.empty()) {
    h << "<p class=\"error\" id=\"form-error\" role=\"alert\">";
    h.Text(error);
    h << "</p>";
    TechnicalDetail(h, c, detail);
  }
  h << ReconcileForm(c, commune, peer) << result << "</div>";
  Response r = PageResponse(c, c.T("hub.rec.title"), h.str());
  r.status = status;
  return r;
}

Response ReconcileGet(PageCtx& c) { return ReconcilePage(c, 200, "", "", {}, {}); }

std::string ReasonText(const PageCtx& c, const std::string& reason) {
  const std::string key = "hub.reason." + reason;
  return HasKey(key) ? std::string(c.T(key)) : reason;
}

// A compared scope for a person: a commune's name, or the province's
// public scope (certificates, revocations, keys) as such.
std::string ScopeLabel(const PageCtx& c, const std::string& scope) {
  if (scope.size() == 3 && scope[0] == 'P') return std::string(c.T("hub.rec.public_scope"));
  return CommuneLabel(scope);
}

// The largest upload the server takes for /hub/reconcile (its request
// limit there); a larger copy is reconciled with the CLI.
constexpr size_t kMaxReconcileUpload = size_t{64} << 20;

// A page shows this many rows of each difference table; the CSV has all.
constexpr size_t kShownDifferences = 200;

std::string ValuesText(const std::vector<node::EntryView>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " | ") + v.value.ToDisplay();
  return out;
}

Response ReconcilePost(PageCtx& c) {
  // Fields from an upload (multipart) or, from a script, a plain form.
  std::string commune, peer, format, upload, upload_name;
  bool has_upload = false;
  const std::string_view type = c.req.Header("content-type");
  if (type.substr(0, 19) == "multipart/form-data") {
    auto parts = ParseMultipart(type, c.req.body);
    if (!parts) return ReconcilePage(c, 400, "", "", c.T("hub.bad_upload"), {});
    for (FormPart& p : *parts) {
      if (p.name == "commune") commune = p.data;
      if (p.name == "peer") peer = p.data;
      if (p.name == "format") format = p.data;
      if (p.name == "from" && !p.data.empty()) {
        if (p.data.size() > kMaxReconcileUpload)
          return ReconcilePage(c, 413, commune, peer, c.T("hub.rec.too_big"), {});
        has_upload = true;
        upload = std::move(p.data);
        upload_name = p.filename;
      }
    }
  } else {
    commune = FieldValue(c.form, "commune");
    peer = FieldValue(c.form, "peer");
    format = FieldValue(c.form, "format");
  }
  auto trim = [](std::string s) {
    const size_t a = s.find_first_not_of(" \t\r\n");
    const size_t b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  commune = trim(commune);
  peer = trim(peer);
  if (!commune.empty() && !IsCommuneCode(commune))
    return ReconcilePage(c, 422, commune, peer, c.T("hub.rec.bad_commune"), {});
  if (peer.empty() == !has_upload)
    return ReconcilePage(c, 422, commune, peer, c.T("hub.rec.need_one"), {});

  app::Office::ReconcileOptions o;
  o.scope = commune;
  o.timeout_s = 30;  // the page waits for it: a peer that does not answer is reported soon
  ScratchDir scratch;
  if (has_upload) {
    if (scratch.path().empty()) return ReconcilePage(c, 500, commune, peer, c.T("hub.scratch"), {});
    o.from = scratch.path() + "/upload";
    Status w = WriteFileAtomic(o.from, upload, 0600);
    if (!w.ok())
      return ReconcilePage(c, 500, commune, peer, NodeMessage(c.lang(), w.message()), {});
  } else {
    o.peer = peer;
  }
  auto run = c.office.Reconcile(o);
  if (!run.ok()) {
    return ReconcilePage(c, 422, commune, peer, c.T("hub.rec.failed"), {},
                         NodeMessage(c.lang(), run.status().message()));
  }
  const node::ReconcileReport& r = run->report;
  // Office names a peer "NODE-ID at ENDPOINT" (in English): the page says
  // it its own way.
  std::string other = has_upload ? upload_name : run->other;
  if (const size_t at = other.find(" at "); !has_upload && at != std::string::npos)
    other = other.substr(0, at) + " (" + other.substr(at + 4) + ")";

  std::vector<const node::Difference*> only_here, only_there, fields;
  for (const node::Difference& d : r.differences) {
    if (d.field == "*") {
      (d.ours_present ? only_here : only_there).push_back(&d);
    } else {
      fields.push_back(&d);
    }
  }

  if (format == "csv") {
    Rows rows;
    // Header lines are the columns' machine keys, the same in every
    // language; a code is under the CLI's name for it (type, field,
    // reason), its words under NAME_name/_label/_text.
    rows.push_back({"commune", "name", "record", "reference", "field", "field_label", "ours",
                    "theirs", "reason", "reason_text", "detail"});
    const std::string present(c.T("hub.rec.present")), absent(c.T("hub.rec.absent"));
    for (const node::Difference& d : r.differences) {
      const bool whole = d.field == "*";
      rows.push_back({d.scope, ScopeLabel(c, d.scope), d.record_id, RegisterRef(d.record_id),
                      d.field, whole ? std::string() : FieldLabel(c, "", d.field),
                      whole ? (d.ours_present ? present : absent)
                            : (d.ours.empty() ? absent : ValuesText(d.ours)),
                      whole ? (d.theirs_present ? present : absent)
                            : (d.theirs.empty() ? absent : ValuesText(d.theirs)),
                      d.reason, ReasonText(c, d.reason), d.detail});
    }
    return CsvResponse("reconcile" + (commune.empty() ? "" : "-" + commune) + ".csv", rows);
  }

  Html h;
  h << "<section id=\"reconcile-result\" class=\"result\"><h2>" << Esc(c.T("hub.rec.with")) << " ";
  h.Text(other);
  h << "</h2>";
  if (r.equal) {
    h << "<p id=\"reconcile-outcome\" class=\"outcome good\">" << Esc(c.T("hub.rec.equal"))
      << "</p>";
  } else {
    h << "<p id=\"reconcile-outcome\" class=\"outcome bad\">" << Esc(N(c, r.differences.size()))
      << " " << Esc(c.T("hub.rec.differences")) << ": " << Esc(N(c, only_here.size())) << " "
      << Esc(c.T("hub.rec.n_only_here")) << ", " << Esc(N(c, only_there.size())) << " "
      << Esc(c.T("hub.rec.n_only_there")) << ", " << Esc(N(c, fields.size())) << " "
      << Esc(c.T("hub.rec.n_fields")) << ".</p>";
  }
  if (run->remote) {
    h << "<p class=\"hint\">" << Esc(N(c, run->queries)) << " " << Esc(c.T("hub.rec.queries"))
      << ", " << Esc(N(c, run->bytes_sent)) << " " << Esc(c.T("hub.rec.sent")) << ", "
      << Esc(N(c, run->bytes_received)) << " " << Esc(c.T("hub.rec.received")) << ".</p>";
  }
  h << "<h3>" << Esc(c.T("hub.rec.scopes")) << "</h3><table id=\"reconcile-scopes\" "
    << "class=\"grid compact\"><thead><tr>" << Th(c, "hub.col.name") << Th(c, "hub.col.ours", true)
    << Th(c, "hub.col.theirs", true) << Th(c, "hub.col.result") << "</tr></thead><tbody>";
  for (const node::ScopeComparison& s : r.scopes) {
    h << "<tr data-commune=\"" << Esc(s.scope) << "\"><td class=\"name\">";
    h.Text(ScopeLabel(c, s.scope));
    h << "</td>" << NumCell(c, s.ours) << NumCell(c, s.theirs) << "<td>";
    if (!s.compared) {
      h << "<span class=\"badge\">" << Esc(c.T("hub.rec.not_shared")) << "</span>";
    } else if (s.equal) {
      h << "<span class=\"badge ok\">" << Esc(c.T("hub.rec.scope_equal")) << "</span>";
    } else {
      h << "<span class=\"badge bad\">" << Esc(N(c, s.differing_records)) << " "
        << Esc(c.T("hub.rec.records_differ")) << "</span>";
    }
    h << "</td></tr>";
  }
  h << "</tbody></table>";
  auto cut = [&](size_t n) {
    if (n > kShownDifferences) {
      h << "<p class=\"hint\">" << Esc(c.T("hub.rec.cut_first")) << " "
        << Esc(N(c, kShownDifferences)) << " " << Esc(c.T("hub.rec.cut_rest")) << "</p>";
    }
  };

  auto whole_table = [&](std::string_view id, std::string_view title,
                         const std::vector<const node::Difference*>& list) {
    h << "<h3>" << Esc(title) << " (" << Esc(N(c, list.size())) << ")</h3>";
    if (list.empty()) {
      h << "<p class=\"empty\">" << Esc(c.T("hub.rec.none")) << "</p>";
      return;
    }
    h << "<table id=\"" << id << "\" class=\"grid\"><thead><tr>" << Th(c, "hub.col.name")
      << Th(c, "hub.col.record") << Th(c, "hub.col.reason") << Th(c, "hub.col.detail")
      << "</tr></thead><tbody>";
    for (size_t i = 0; i < list.size() && i < kShownDifferences; ++i) {
      const node::Difference* d = list[i];
      h << "<tr><td class=\"name\">";
      h.Text(ScopeLabel(c, d->scope));
      h << "</td><td>" << RecordLink(d->record_id) << "</td><td>";
      h.Text(ReasonText(c, d->reason));
      h << "</td><td class=\"detail\">";
      h.Text(d->detail);
      h << "</td></tr>";
    }
    h << "</tbody></table>";
    cut(list.size());
  };
  if (r.equal) {
    h << "</section>";
    return ReconcilePage(c, 200, commune, peer, {}, h.str());
  }
  whole_table("only-here", c.T("hub.rec.only_here"), only_here);
  whole_table("only-there", c.T("hub.rec.only_there"), only_there);

  h << "<h3>" << Esc(c.T("hub.rec.fields")) << " (" << Esc(N(c, fields.size())) << ")</h3>";
  if (fields.empty()) {
    h << "<p class=\"empty\">" << Esc(c.T("hub.rec.none")) << "</p>";
  } else {
    auto side = [&](const std::vector<node::EntryView>& values) {
      h << "<td>";
      if (values.empty()) {
        h << "<span class=\"hint\">" << Esc(c.T("hub.rec.absent")) << "</span>";
      } else {
        h << "<ul class=\"values\">";
        for (const node::EntryView& v : values) {
          h << "<li><strong>";
          h.Text(v.value.ToDisplay());
          h << "</strong><span class=\"meta\">";
          h.Text(OfficerOf(c, v));
          h << " · ";
          h.Text(c.tz.Human(static_cast<int64_t>(v.hlc.millis())));
          h << "</span></li>";
        }
        h << "</ul>";
      }
      h << "</td>";
    };
    h << "<div class=\"scroll\"><table id=\"differing\" class=\"grid\"><thead><tr>"
      << Th(c, "hub.col.name") << Th(c, "hub.col.record") << Th(c, "hub.col.field")
      << Th(c, "hub.col.ours") << Th(c, "hub.col.theirs") << Th(c, "hub.col.reason")
      << "</tr></thead><tbody>";
    for (size_t i = 0; i < fields.size() && i < kShownDifferences; ++i) {
      const node::Difference* d = fields[i];
      h << "<tr><td class=\"name\">";
      h.Text(ScopeLabel(c, d->scope));
      h << "</td><td>" << RecordLink(d->record_id) << "</td>";
      FieldCell(h, c, "", d->field);
      side(d->ours);
      side(d->theirs);
      h << "<td>";
      h.Text(ReasonText(c, d->reason));
      if (!d->detail.empty()) {
        h << "<span class=\"meta\">";
        h.Text(d->detail);
        h << "</span>";
      }
      h << "</td></tr>";
    }
    h << "</tbody></table></div>";
    cut(fields.size());
  }
  h << "</section>";
  return ReconcilePage(c, 200, commune, peer, {}, h.str());
}

// --- enrolment ---------------------------------------------------------------

constexpr int kDefaultDays = 365;
constexpr int kMaxDays = 10 * 365;

// `detail`: what the node said (English), folded under the operator's
// sentence for the technician.
Response EnrolPage(PageCtx& c, int status, const std::string& days, std::string_view error,
                   std::string_view detail = {}) {
  Html h;
  h << "<div class=\"hub-wide\"><h1>" << Esc(c.T("hub.enrol.title"))
    << "</h1><ol class=\"steps\"><li>" << Esc(c.T("hub.enrol.step1"))
    << " <code>tuphap enroll request --out " << Esc(c.T("hub.enrol.file_example"))
    << ".request</code></li><li>" << Esc(c.T("hub.enrol.step2")) << "</li><li>"
    << Esc(c.T("hub.enrol.step3")) << " <code>tuphap enroll accept "
    << Esc(c.T("hub.enrol.file_example")) << ".enrolment</code></li></ol><p class=\"hint\">"
    << Esc(c.T("hub.enrol.terminal_note")) << "</p>";
  if (!error.empty()) {
    h << "<p class=\"error\" id=\"form-error\" role=\"alert\">";
    h.Text(error);
    h << "</p>";
    TechnicalDetail(h, c, detail);
  }
  // The token travels as a part of the upload, never in the URL (where
  // logs and the history would keep it).
  h << "<form id=\"enrol-form\" class=\"panel\" method=\"post\" enctype=\"multipart/form-data\" "
       "action=\"/hub/enrol\">"
    << CsrfInput(c) << "<label for=\"f_request\">" << Esc(c.T("hub.enrol.request"))
    << " <span class=\"req\" aria-hidden=\"true\">*</span></label><p class=\"hint\" "
    << "id=\"f_request-hint\">" << Esc(c.T("hub.enrol.picker_hint")) << "</p>"
    << "<input type=\"file\" id=\"f_request\" name=\"request\" accept=\".request\" "
    << "aria-describedby=\"f_request-hint\" required>"
    << "<label for=\"f_days\">" << Esc(c.T("hub.enrol.days")) << "</label><input id=\"f_days\" "
    << "name=\"days\" type=\"number\" min=\"1\" max=\"" << std::to_string(kMaxDays)
    << "\" size=\"6\" value=\"" << Esc(days) << "\" required><p class=\"hint\">"
    << Esc(c.T("hub.enrol.days_hint")) << "</p><div class=\"actions\"><button type=\"submit\" "
    << "id=\"enrol-submit\">" << Esc(c.T("hub.enrol.submit")) << "</button></div></form></div>";
  Response r = PageResponse(c, c.T("hub.enrol.title"), h.str());
  r.status = status;
  return r;
}

Response EnrolGet(PageCtx& c) { return EnrolPage(c, 200, std::to_string(kDefaultDays), {}); }

Response EnrolPost(PageCtx& c) {
  auto parts = ParseMultipart(c.req.Header("content-type"), c.req.body);
  if (!parts) return EnrolPage(c, 400, std::to_string(kDefaultDays), c.T("hub.bad_upload"));
  std::string days_text = std::to_string(kDefaultDays);
  const FormPart* request = nullptr;
  for (const FormPart& p : *parts) {
    if (p.name == "days" && !p.data.empty()) days_text = p.data;
    if (p.name == "request") request = &p;
  }
  int days = 0;
  {
    char tail = 0;
    if (std::sscanf(days_text.c_str(), "%d%c", &days, &tail) != 1 || days < 1 || days > kMaxDays)
      return EnrolPage(c, 422, days_text, c.T("hub.enrol.bad_days"));
  }
  if (request == nullptr || request->data.empty())
    return EnrolPage(c, 422, days_text, c.T("hub.enrol.no_file"));
  if (request->data.size() > app::kMaxRequestFile)
    return EnrolPage(c, 422, days_text, c.T("hub.enrol.too_big"));
  auto e = c.office.EnrollSign(request->data, days);
  if (!e.ok()) {
    // The node words why in English for the log; the operator gets a
    // sentence of what to do, and the node's words under it.
    const Status& st = e.status();
    std::string_view lead = c.T("hub.enrol.refused");
    if (st.reason() == "E_NOT_AUTHORISED") {
      lead = c.T("hub.enrol.other_province");
    } else if (st.reason() == "E_REVOKED") {
      lead = c.T("hub.enrol.revoked");
    } else if (st.code() == StatusCode::kInvalidArgument &&
               st.message().rfind("enrolment request", 0) == 0) {
      lead = c.T("hub.enrol.not_a_request");
    }
    return EnrolPage(c, 422, days_text, lead, NodeMessage(c.lang(), st.message()));
  }
  std::string name;
  for (char ch : e->certificate.commune) {
    if ((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))
      name += ch;
  }
  if (name.empty()) name = "node";
  c.session.flash = std::string(c.T("hub.enrol.done")) + " " +
                    node::NodeIdText(e->certificate.sign_key) + " — " +
                    CommuneLabel(e->certificate.commune) + " (" + e->certificate.commune + "), " +
                    std::string(c.T("hub.enrol.until")) + " " +
                    c.tz.Human(static_cast<int64_t>(e->certificate.not_after_ms)) + ".";
  Response r;
  r.content_type = "application/octet-stream";
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + ".enrolment\"");
  r.body = std::move(e->file);
  return r;
}

}  // namespace

void AddHubPages(std::vector<Route>* routes) {
  routes->push_back({"GET", "/hub", Access::kOperator, Console});
  routes->push_back({"GET", "/hub/conflicts", Access::kOperator, Conflicts});
  routes->push_back({"GET", "/hub/stats", Access::kOperator, Stats});
  routes->push_back({"GET", "/hub/reconcile", Access::kOperator, ReconcileGet});
  routes->push_back({"POST", "/hub/reconcile", Access::kOperator, ReconcilePost});
  routes->push_back({"GET", "/hub/enrol", Access::kOperator, EnrolGet});
  routes->push_back({"POST", "/hub/enrol", Access::kOperator, EnrolPost});
}

}  // namespace tuphap::web
