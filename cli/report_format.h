// Report output formats: an aligned table for a terminal, CSV (RFC 4180),
// and one self-contained HTML file (inline CSS and SVG, no external
// assets). JSON shapes are each report's own (cmd_report.cc).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "cli/context.h"

namespace tuphap::report {
struct ConflictReportRow;
struct DuplicateReportGroup;
}  // namespace tuphap::report
namespace tuphap::store {
struct InvalidCount;
struct PersonConflictRow;
}  // namespace tuphap::store

namespace tuphap::cli {

enum class ReportFormat { kTable, kCsv, kJson, kHtml };
Result<ReportFormat> ParseReportFormat(const std::string& text);

struct Grid {
  std::string title;
  std::vector<std::string> header;  // for people, in their language
  // The same columns for machines: CSV's header line, the same in every
  // language.
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> rows;
};

void WriteCsv(std::ostream& out, const Grid& grid);
// A horizontal bar chart as inline SVG (labels and non-negative values).
std::string BarChartSvg(const std::vector<std::pair<std::string, double>>& bars);
// A whole HTML document: the grids as tables, `chart_svg` (may be empty)
// above them.
void WriteHtml(std::ostream& out, const std::string& title, const std::vector<Grid>& grids,
               const std::string& chart_svg);

// Open conflicts as `conflicts list --json` and `report conflicts --format
// json` print them: {"conflicts": [{"record_id", "scope", "commune", "type",
// "field", "kind", "values": [...]}], "person_conflicts": [{"personal_id",
// "rule", "description", "record": {"record_id", "commune", "type", "date"},
// "other": {...}}]} (`record`: the later registration, not counted in the
// statistics until the conflict is settled; `other`: the one it collides
// with).
// A moment in a report's cell: ISO 8601 with the offset in CSV (a machine
// format), the people's form otherwise.
std::string GridTime(const Context& ctx, ReportFormat format, int64_t ms);

Json ConflictsJson(const Context& ctx, const std::vector<report::ConflictReportRow>& rows,
                   const std::vector<store::PersonConflictRow>& persons);

// A person rule (an error class name) in words, in the officer's language.
std::string PersonRuleText(domain::Lang lang, std::string_view rule);
// Person conflicts as a table: the personal ID, the rule, the later
// registration and the record it collides with. `for_people`: types by
// name and dates as dd/mm/yyyy; else (CSV) codes and ISO dates.
Grid PersonConflictsGrid(const Context& ctx, const std::vector<store::PersonConflictRow>& rows,
                         bool for_people);
// What a person does about a person conflict (nothing settles one by
// itself): revoke or correct one of the two records.
std::string PersonConflictsAdvice(const Context& ctx);

// Possible duplicates (report duplicates), one line per record, each group
// numbered; `for_people` as for PersonConflictsGrid.
Grid DuplicatesGrid(const Context& ctx, const std::vector<report::DuplicateReportGroup>& groups,
                    bool for_people);
Json DuplicatesJson(const std::vector<report::DuplicateReportGroup>& groups, size_t limit,
                    bool more);

// Records judged invalid as `status --json` and `report status --format json`
// print them under "E_INVALID_CONTENT": {"count": N, "reasons": {reason: n}}.
Json InvalidJson(const std::vector<store::InvalidCount>& counts);

}  // namespace tuphap::cli
