// Report output formats: an aligned table for a terminal, CSV (RFC 4180),
// and one self-contained HTML file (inline CSS and SVG, no external
// assets). JSON shapes are each report's own (cmd_report.cc).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace tuphap::report {
struct ConflictReportRow;
}
namespace tuphap::store {
struct InvalidCount;
}

namespace tuphap::cli {

enum class ReportFormat { kTable, kCsv, kJson, kHtml };
Result<ReportFormat> ParseReportFormat(const std::string& text);

struct Grid {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

void WriteCsv(std::ostream& out, const Grid& grid);
std::string HtmlEscape(std::string_view text);
// A horizontal bar chart as inline SVG (labels and non-negative values).
std::string BarChartSvg(const std::vector<std::pair<std::string, double>>& bars);
// A whole HTML document: the grids as tables, `chart_svg` (may be empty)
// above them.
void WriteHtml(std::ostream& out, const std::string& title, const std::vector<Grid>& grids,
               const std::string& chart_svg);

// Open conflicts as `conflicts list --json` and `report conflicts --format
// json` print them: {"conflicts": [{"record_id", "scope", "commune", "type",
// "field", "kind", "values": [...]}]}.
Json ConflictsJson(const std::vector<report::ConflictReportRow>& rows);

// Records judged invalid as `status --json` and `report status --format json`
// print them under "E_INVALID_CONTENT": {"count": N, "reasons": {reason: n}}.
Json InvalidJson(const std::vector<store::InvalidCount>& counts);

}  // namespace tuphap::cli
