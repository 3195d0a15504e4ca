#include "cli/report_format.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "cli/format.h"
#include "node/report/reports.h"

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
  line(grid.header);
  for (const auto& r : grid.rows) line(r);
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
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
           "\" text-anchor=\"end\" font-size=\"12\">" + HtmlEscape(bars[i].first) + "</text>";
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
      << HtmlEscape(title) << "</title>\n<style>\n"
      << "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
      << "table{border-collapse:collapse;margin:1em 0}\n"
      << "th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}\n"
      << "th{background:#eef2f7}\ntd.n{text-align:right}\n</style>\n</head>\n<body>\n<h1>"
      << HtmlEscape(title) << "</h1>\n";
  if (!chart_svg.empty()) out << "<figure>" << chart_svg << "</figure>\n";
  for (const auto& g : grids) {
    if (!g.title.empty()) out << "<h2>" << HtmlEscape(g.title) << "</h2>\n";
    out << "<table>\n<thead><tr>";
    for (const auto& h : g.header) out << "<th>" << HtmlEscape(h) << "</th>";
    out << "</tr></thead>\n<tbody>\n";
    for (const auto& r : g.rows) {
      out << "<tr>";
      for (const auto& c : r) {
        const bool numeric = !c.empty() && c.find_first_not_of("0123456789-.") == std::string::npos;
        out << (numeric ? "<td class=\"n\">" : "<td>") << HtmlEscape(c) << "</td>";
      }
      out << "</tr>\n";
    }
    out << "</tbody>\n</table>\n";
  }
  out << "</body>\n</html>\n";
}

Json ConflictsJson(const std::vector<report::ConflictReportRow>& rows) {
  Json list = Json::MakeArray();
  for (const auto& r : rows) {
    Json j = Json::MakeObject();
    j.Set("record_id", r.row.record_id);
    j.Set("scope", r.row.scope);
    j.Set("commune", r.row.scope);
    j.Set("type", r.row.type);
    j.Set("field", r.row.field);
    j.Set("kind", r.row.field == crdt::kTypeField ? "duplicate_registration" : "concurrent_edit");
    j.Set("values", EntriesToJson(r.values));
    list.Push(std::move(j));
  }
  Json out = Json::MakeObject();
  out.Set("conflicts", std::move(list));
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
