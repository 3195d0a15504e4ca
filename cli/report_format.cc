#include "cli/report_format.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cli/format.h"
#include "node/domain/catalogue.h"
#include "node/report/reports.h"
#include "web/html.h"

namespace tuphap::cli {

Result<ReportFormat> ParseReportFormat(const std::string& text) {
  if (text == "table") return ReportFormat::kTable;
  if (text == "csv") return ReportFormat::kCsv;
  if (text == "json") return ReportFormat::kJson;
  if (text == "html") return ReportFormat::kHtml;
  return Status::InvalidArgument("--format must be table, csv, json or html, not '" + text + "'");
}

void WriteCsv(std::ostream& out, const Grid& grid) {
  auto cell = [&](const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) {
      out << v;
      return;
    }
    out << '"';
    for (char c : v) {
      if (c == '"') out << '"';
      out << c;
    }
    out << '"';
  };
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (i > 0) out << ',';
      cell(r[i]);
    }
    out << "\r\n";
  };
  line(grid.keys);
  for (const auto& r : grid.rows) line(r);
}

std::string BarChartSvg(const std::vector<std::pair<std::string, double>>& bars) {
  if (bars.empty()) return "";
  const double max = std::max_element(bars.begin(), bars.end(), [](const auto& a, const auto& b) {
                       return a.second < b.second;
                     })->second;
  const int row = 22, label = 260, width = 420;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(label + width + 80) + "\" height=\"" +
                    std::to_string(row * static_cast<int>(bars.size()) + 10) +
                    "\" role=\"img\" aria-label=\"chart\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = static_cast<int>(i) * row + 5;
    const int w = max > 0 ? static_cast<int>(bars[i].second / max * width) : 0;
    char num[32];
    std::snprintf(num, sizeof num, "%.0f", bars[i].second);
    svg += "<text x=\"" + std::to_string(label - 6) + "\" y=\"" + std::to_string(y + 14) +
           "\" text-anchor=\"end\" font-size=\"12\">" + web::Esc(bars[i].first) + "</text>";
    svg += "<rect x=\"" + std::to_string(label) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(std::max(w, 1)) + "\" height=\"16\" fill=\"#3b6ea5\"/>";
    svg += "<text x=\"" + std::to_string(label + w + 6) + "\" y=\"" + std::to_string(y + 13) +
           "\" font-size=\"12\">" + num + "</text>";
  }
  return svg + "</svg>";
}

void WriteHtml(std::ostream& out, const std::string& title, const std::vector<Grid>& grids,
               const std::string& chart_svg) {
  out << "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>"
      << web::Esc(title) << "</title>\n<style>\n"
      << "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
      << "table{border-collapse:collapse;margin:1em 0}\n"
      << "th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}\n"
      << "th{background:#eef2f7}\ntd.n{text-align:right}\n</style>\n</head>\n<body>\n<h1>"
      << web::Esc(title) << "</h1>\n";
  if (!chart_svg.empty()) out << "<figure>" << chart_svg << "</figure>\n";
  for (const auto& g : grids) {
    if (!g.title.empty()) out << "<h2>" << web::Esc(g.title) << "</h2>\n";
    out << "<table>\n<thead><tr>";
    for (const auto& h : g.header) out << "<th>" << web::Esc(h) << "</th>";
    out << "</tr></thead>\n<tbody>\n";
    for (const auto& r : g.rows) {
      out << "<tr>";
      for (const auto& c : r) {
        const bool numeric = !c.empty() && c.find_first_not_of("0123456789-.") == std::string::npos;
        out << (numeric ? "<td class=\"n\">" : "<td>") << web::Esc(c) << "</td>";
      }
      out << "</tr>\n";
    }
    out << "</tbody>\n</table>\n";
  }
  out << "</body>\n</html>\n";
}

std::string GridTime(const Context& ctx, ReportFormat format, int64_t ms) {
  if (format != ReportFormat::kCsv) return ctx.PersonTime(ms);
  return ms <= 0 ? "" : ctx.zone->Iso(ms);
}

Json ConflictsJson(const Context& ctx, const std::vector<report::ConflictReportRow>& rows,
                   const std::vector<store::PersonConflictRow>& persons) {
  Json list = Json::MakeArray();
  for (const auto& r : rows) {
    Json j = Json::MakeObject();
    j.Set("record_id", r.row.record_id);
    j.Set("scope", r.row.scope);
    j.Set("commune", r.row.scope);
    j.Set("type", r.row.type);
    j.Set("field", r.row.field);
    j.Set("kind", r.row.field == crdt::kTypeField ? "duplicate_registration" : "concurrent_edit");
    j.Set("values", EntriesToJson(ctx, r.values));
    list.Push(std::move(j));
  }
  Json person_list = Json::MakeArray();
  for (const auto& p : persons) {
    auto side = [](const std::string& id, const std::string& scope, const std::string& type,
                   const std::string& date) {
      Json j = Json::MakeObject();
      j.Set("record_id", id);
      j.Set("commune", scope);
      j.Set("type", type);
      j.Set("date", date);
      return j;
    };
    Json j = Json::MakeObject();
    j.Set("personal_id", p.personal_id);
    j.Set("rule", p.rule);
    j.Set("description", PersonRuleText(domain::Lang::kEnglish, p.rule));
    j.Set("record", side(p.record_id, p.scope, p.type, p.date));
    j.Set("other", side(p.other_id, p.other_scope, p.other_type, p.other_date));
    person_list.Push(std::move(j));
  }
  Json out = Json::MakeObject();
  out.Set("conflicts", std::move(list));
  out.Set("person_conflicts", std::move(person_list));
  return out;
}

std::string PersonRuleText(domain::Lang lang, std::string_view rule) {
  // The English; the Vietnamese is in po/vi.po.
  static const std::map<std::string_view, const char*> kRules = {
      {"child_already_registered", "child's birth registered twice"},
      {"death_already_registered", "death registered twice"},
      {"person_deceased", "names as a party a person who had died"},
      {"already_married", "marriage while an earlier marriage stands"},
      {"marital_status_contradicted", "marital status the marriage records contradict"}};
  const auto it = kRules.find(rule);
  if (it == kRules.end()) return std::string(rule);
  return domain::Tr(lang, it->second);
}

Grid PersonConflictsGrid(const Context& ctx, const std::vector<store::PersonConflictRow>& rows,
                         bool for_people) {
  auto type = [&](const std::string& t) { return for_people ? RecordTypeText(ctx.lang, t) : t; };
  auto day = [&](const std::string& d) { return for_people ? PersonDay(d) : d; };
  Grid g;
  g.title = Tr(ctx, "Person conflicts: two records of one person that cannot both stand");
  g.header = {Tr(ctx, "personal ID"), Tr(ctx, "rule"), Tr(ctx, "later record"),  Tr(ctx, "commune"),
              Tr(ctx, "type"),        Tr(ctx, "date"), Tr(ctx, "collides with"), Tr(ctx, "commune"),
              Tr(ctx, "type"),        Tr(ctx, "date")};
  g.keys = {"personal_id", "rule",         "later_record",  "later_commune", "later_type",
            "later_date",  "other_record", "other_commune", "other_type",    "other_date"};
  for (const auto& p : rows) {
    g.rows.push_back({p.personal_id, PersonRuleText(ctx.lang, p.rule), p.record_id, p.scope,
                      type(p.type), day(p.date), p.other_id, p.other_scope, type(p.other_type),
                      day(p.other_date)});
  }
  return g;
}

std::string PersonConflictsAdvice(const Context& ctx) {
  return Tr(
      ctx,
      "Nothing settles a person conflict by itself, and the later record is not counted in the "
      "statistics meanwhile. Look at both records, then revoke the one registered in error:\n  "
      "tuphap record revoke ID --reason \"...\"\nor correct the wrong one (a personal ID, a "
      "dissolution date):\n  tuphap record amend ID --field PATH=VALUE --reason \"...\"\n");
}

Grid DuplicatesGrid(const Context& ctx, const std::vector<report::DuplicateReportGroup>& groups,
                    bool for_people) {
  auto type = [&](const std::string& t) { return for_people ? RecordTypeText(ctx.lang, t) : t; };
  auto day = [&](const std::string& d) { return for_people ? PersonDay(d) : d; };
  Grid g;
  g.title = Tr(ctx, "Possible duplicates");
  g.header = {Tr(ctx, "group"),      Tr(ctx, "record"),      Tr(ctx, "commune"),
              Tr(ctx, "type"),       Tr(ctx, "personal ID"), Tr(ctx, "full name"),
              Tr(ctx, "birth date"), Tr(ctx, "registered"),  Tr(ctx, "mother"),
              Tr(ctx, "father")};
  g.keys = {"group",     "record",     "commune",    "type",   "personal_id",
            "full_name", "birth_date", "registered", "mother", "father"};
  for (size_t i = 0; i < groups.size(); ++i) {
    for (size_t k = 0; k < groups[i].members.size(); ++k) {
      const auto& m = groups[i].members[k];
      g.rows.push_back({k == 0 ? std::to_string(i + 1) : "", m.record_id, m.commune, type(m.type),
                        m.personal_id.empty() ? Tr(ctx, "(none)") : m.personal_id, m.full_name,
                        day(m.birth_date), day(m.registered_at), m.mother, m.father});
    }
  }
  return g;
}

Json DuplicatesJson(const std::vector<report::DuplicateReportGroup>& groups, size_t limit,
                    bool more) {
  Json list = Json::MakeArray();
  for (const auto& g : groups) {
    Json members = Json::MakeArray();
    for (const auto& m : g.members) {
      Json j = Json::MakeObject();
      j.Set("record_id", m.record_id);
      j.Set("commune", m.commune);
      j.Set("type", m.type);
      j.Set("personal_id", m.personal_id.empty() ? Json() : Json(m.personal_id));
      j.Set("full_name", m.full_name);
      j.Set("birth_date", m.birth_date);
      j.Set("registered_at", m.registered_at);
      if (m.type != "death") {
        j.Set("mother", m.mother);
        j.Set("father", m.father);
      }
      members.Push(std::move(j));
    }
    Json j = Json::MakeObject();
    j.Set("key", g.key);
    j.Set("records", std::move(members));
    list.Push(std::move(j));
  }
  Json out = Json::MakeObject();
  out.Set("possible_duplicates_only", true);
  out.Set("note",
          "records with the same name, birth date and parents' names but different or missing "
          "personal IDs: possibly one person, possibly not; nothing is blocked or merged");
  out.Set("limit", static_cast<int64_t>(limit));
  out.Set("more", more);
  out.Set("groups", std::move(list));
  return out;
}

Json InvalidJson(const std::vector<store::InvalidCount>& counts) {
  std::map<std::string, int64_t> by_reason;
  int64_t total = 0;
  for (const auto& c : counts) {
    by_reason[c.reason] += static_cast<int64_t>(c.count);
    total += static_cast<int64_t>(c.count);
  }
  Json reasons = Json::MakeObject();
  for (const auto& [reason, n] : by_reason) reasons.Set(reason, n);
  Json out = Json::MakeObject();
  out.Set("count", total);
  out.Set("reasons", std::move(reasons));
  return out;
}

}  // namespace tuphap::cli
