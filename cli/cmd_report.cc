// tuphap report status | stats | conflicts (reconcile is still to come).
#include <functional>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_format.h"
#include "node/report/reports.h"

namespace tuphap::cli {
namespace {

std::string Money(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += '.';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

void Emit(const Context& ctx, ReportFormat format, const std::string& title, const Grid& grid,
          const std::string& chart) {
  std::ostream& out = *ctx.out;
  switch (format) {
    case ReportFormat::kCsv:
      WriteCsv(out, grid);
      return;
    case ReportFormat::kHtml:
      WriteHtml(out, title, {grid}, chart);
      return;
    default: {
      if (grid.rows.empty()) {
        out << Tr(ctx, "nothing to report\n", "không có gì để báo cáo\n");
        return;
      }
      Table t(grid.header);
      for (const auto& r : grid.rows) t.Add(r);
      t.Print(out);
    }
  }
}

Status RunStats(const Context& ctx, const report::StatsOptions& o, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<report::StatsRow> rows, report::Stats(*n, o));
  if (format == ReportFormat::kJson) {
    Json list = Json::MakeArray();
    for (const auto& r : rows) {
      Json j = Json::MakeObject();
      j.Set("commune", r.commune);
      j.Set("type", r.type);
      j.Set("period", r.period);
      j.Set("count", static_cast<int64_t>(r.count));
      j.Set("revoked", static_cast<int64_t>(r.revoked));
      if (r.fines > 0) {
        j.Set("fines", static_cast<int64_t>(r.fines));
        j.Set("fines_issued_vnd", r.fines_issued_vnd);
        j.Set("fines_paid_vnd", r.fines_paid_vnd);
        j.Set("fines_outstanding_vnd", r.fines_outstanding_vnd);
      }
      list.Push(std::move(j));
    }
    Json out = Json::MakeObject();
    out.Set("from", o.from);
    out.Set("to", o.to);
    out.Set("rows", std::move(list));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "commune", "xã"),
              Tr(ctx, "type", "loại"),
              Tr(ctx, "period", "kỳ"),
              Tr(ctx, "count", "số"),
              Tr(ctx, "revoked", "thu hồi"),
              Tr(ctx, "fines", "quyết định phạt tiền"),
              Tr(ctx, "issued VND", "phạt (đồng)"),
              Tr(ctx, "paid VND", "đã nộp (đồng)"),
              Tr(ctx, "outstanding VND", "còn nợ (đồng)")};
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& r : rows) {
    const bool money = r.fines > 0;
    // CSV keeps plain numbers; the table and HTML group thousands.
    auto m = [&](int64_t v) {
      if (!money) return std::string();
      return format == ReportFormat::kCsv ? std::to_string(v) : Money(v);
    };
    g.rows.push_back({r.commune, r.type, r.period, std::to_string(r.count),
                      std::to_string(r.revoked), money ? std::to_string(r.fines) : "",
                      m(r.fines_issued_vnd), m(r.fines_paid_vnd), m(r.fines_outstanding_vnd)});
    bars.emplace_back(r.commune + " " + r.type + " " + r.period, static_cast<double>(r.count));
  }
  const std::string title = Tr(ctx, "Registrations and decisions", "Đăng ký và quyết định") +
                            (o.from.empty() && o.to.empty() ? "" : " " + o.from + " – " + o.to);
  Emit(ctx, format, title, g, format == ReportFormat::kHtml ? BarChartSvg(bars) : "");
  return Status::Ok();
}

Status RunConflicts(const Context& ctx, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<report::ConflictReportRow> rows, report::Conflicts(*n));
  if (format == ReportFormat::kJson) {
    Json list = Json::MakeArray();
    for (const auto& r : rows) {
      Json j = Json::MakeObject();
      j.Set("record_id", r.row.record_id);
      j.Set("scope", r.row.scope);
      j.Set("type", r.row.type);
      j.Set("field", r.row.field);
      Json values = Json::MakeArray();
      for (const auto& v : r.values) {
        Json o = Json::MakeObject();
        o.Set("value", v.value.ToDisplay());
        o.Set("origin", node::NodeIdText(v.origin.bytes));
        o.Set("officer", v.officer);
        o.Set("hlc", v.hlc.ToString());
        values.Push(std::move(o));
      }
      j.Set("values", std::move(values));
      list.Push(std::move(j));
    }
    Json out = Json::MakeObject();
    out.Set("conflicts", std::move(list));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "record", "hồ sơ"),  Tr(ctx, "commune", "xã"),     Tr(ctx, "field", "trường"),
              Tr(ctx, "value", "giá trị"), Tr(ctx, "officer", "cán bộ"), Tr(ctx, "node", "nút"),
              Tr(ctx, "time", "thời điểm")};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.values.size(); ++i) {
      const auto& v = r.values[i];
      g.rows.push_back({i == 0 ? r.row.record_id : "", i == 0 ? r.row.scope : "",
                        i == 0 ? r.row.field : "", v.value.ToDisplay(), v.officer,
                        node::NodeIdText(v.origin.bytes), v.hlc.ToString()});
    }
  }
  Emit(ctx, format, Tr(ctx, "Open conflicts, oldest first", "Xung đột chờ xử lý, cũ nhất trước"), g,
       "");
  return Status::Ok();
}

std::string When(int64_t ms) { return FormatUtc(ms, "%Y-%m-%d %H:%M"); }

Status RunStatus(const Context& ctx, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
  TUPHAP_ASSIGN_OR_RETURN(report::StatusReport r, report::StatusOf(*n));
  if (format == ReportFormat::kJson) {
    Json communes = Json::MakeArray();
    for (const auto& c : r.communes) {
      Json j = Json::MakeObject();
      j.Set("commune", c.commune);
      j.Set("name", c.name);
      j.Set("records", static_cast<int64_t>(c.records));
      j.Set("held", static_cast<int64_t>(c.held));
      j.Set("conflicts", static_cast<int64_t>(c.conflicts));
      j.Set("equivocations", static_cast<int64_t>(c.equivocations));
      Json nodes = Json::MakeArray();
      for (const auto& x : c.nodes) {
        Json o = Json::MakeObject();
        o.Set("node_id", x.node_id);
        o.Set("revoked", x.revoked);
        o.Set("last_contact", When(x.last_contact_ms));
        o.Set("last_sync", When(x.last_success_ms));
        o.Set("pending_out", static_cast<int64_t>(x.pending_out));
        o.Set("pending_in", static_cast<int64_t>(x.pending_in));
        o.Set("refused", static_cast<int64_t>(x.refused));
        nodes.Push(std::move(o));
      }
      j.Set("nodes", std::move(nodes));
      communes.Push(std::move(j));
    }
    Json refusals = Json::MakeObject();
    for (const auto& x : r.refusals) refusals.Set(x.reason, static_cast<int64_t>(x.count));
    Json out = Json::MakeObject();
    out.Set("node_id", node::NodeIdText(n->sign_key()));
    out.Set("communes", std::move(communes));
    out.Set("refusals", std::move(refusals));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "commune", "xã"),
              Tr(ctx, "name", "tên"),
              Tr(ctx, "node", "nút"),
              Tr(ctx, "last contact", "liên lạc cuối"),
              Tr(ctx, "last sync", "đồng bộ cuối"),
              Tr(ctx, "pending out", "chờ gửi"),
              Tr(ctx, "pending in", "chờ nhận"),
              Tr(ctx, "records", "hồ sơ"),
              Tr(ctx, "held", "đang giữ"),
              Tr(ctx, "conflicts", "xung đột"),
              Tr(ctx, "equivocations", "gian lận chuỗi")};
  for (const auto& c : r.communes) {
    const auto counts =
        std::vector<std::string>{std::to_string(c.records), std::to_string(c.held),
                                 std::to_string(c.conflicts), std::to_string(c.equivocations)};
    if (c.nodes.empty()) {
      g.rows.push_back(
          {c.commune, c.name, "-", "", "", "", "", counts[0], counts[1], counts[2], counts[3]});
    }
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      const auto& x = c.nodes[i];
      std::vector<std::string> row{
          i == 0 ? c.commune : "",
          i == 0 ? c.name : "",
          x.node_id + (x.revoked ? Tr(ctx, " (revoked)", " (thu hồi)") : ""),
          When(x.last_contact_ms),
          When(x.last_success_ms),
          std::to_string(x.pending_out),
          std::to_string(x.pending_in)};
      for (const auto& v : counts) row.push_back(i == 0 ? v : "");
      g.rows.push_back(std::move(row));
    }
  }
  Grid refused;
  refused.title = Tr(ctx, "Refused changes by reason", "Thay đổi bị từ chối theo lý do");
  refused.header = {Tr(ctx, "reason", "lý do"), Tr(ctx, "count", "số")};
  for (const auto& x : r.refusals) refused.rows.push_back({x.reason, std::to_string(x.count)});
  const std::string title = Tr(ctx, "Sync status", "Tình trạng đồng bộ");
  if (format == ReportFormat::kHtml) {
    WriteHtml(*ctx.out, title, {g, refused}, "");
  } else if (format == ReportFormat::kCsv) {
    WriteCsv(*ctx.out, g);
  } else {
    Emit(ctx, format, title, g, "");
    if (!refused.rows.empty()) {
      *ctx.out << '\n' << refused.title << ":\n";
      Emit(ctx, format, refused.title, refused, "");
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterReportCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* report = app.add_subcommand("report", "Reports for the hub operator");
  report->require_subcommand(1);
  auto format = std::make_shared<std::string>("table");
  // Every report: a subcommand with --format (the global --json wins), run
  // by `run` once the arguments are parsed.
  using Runner = std::function<Status(ReportFormat)>;
  auto add = [&ctx, action, format, report](const char* name, const char* help,
                                            std::function<Result<Runner>()> prepare) {
    CLI::App* cmd = report->add_subcommand(name, help);
    cmd->add_option("--format", *format, "table, csv, json or html")->capture_default_str();
    cmd->callback([&ctx, action, format, prepare] {
      *action = [&ctx, format, prepare]() -> Status {
        TUPHAP_ASSIGN_OR_RETURN(Runner run, prepare());
        TUPHAP_ASSIGN_OR_RETURN(ReportFormat f,
                                ParseReportFormat(ctx.json ? std::string("json") : *format));
        return run(f);
      };
    });
    return cmd;
  };

  struct StatsArgs {
    report::StatsOptions options;
    std::string by = "commune,type,month";
  };
  auto st = std::make_shared<StatsArgs>();
  CLI::App* stats =
      add("stats", "Registrations by type, revocations, violation decisions and fines, per period",
          [&ctx, st]() -> Result<Runner> {
            report::StatsOptions o = st->options;
            o.by_commune = o.by_type = o.by_month = false;
            std::stringstream ss(st->by);
            std::string part;
            while (std::getline(ss, part, ',')) {
              if (part == "commune") {
                o.by_commune = true;
              } else if (part == "type") {
                o.by_type = true;
              } else if (part == "month") {
                o.by_month = true;
              } else if (!part.empty()) {
                return Status::InvalidArgument("--by takes commune, type and month, not '" + part +
                                               "'");
              }
            }
            return Runner([&ctx, o](ReportFormat f) { return RunStats(ctx, o, f); });
          });
  stats->add_option("--from", st->options.from, "first date (YYYY-MM-DD)");
  stats->add_option("--to", st->options.to, "last date (YYYY-MM-DD)");
  stats->add_option("--by", st->by, "group by any of commune,type,month")->capture_default_str();

  add("status", "Per commune and node: last contact and sync, pending, held, conflicts",
      [&ctx]() -> Result<Runner> {
        return Runner([&ctx](ReportFormat f) { return RunStatus(ctx, f); });
      });
  add("conflicts", "Every open conflict with its competing values", [&ctx]() -> Result<Runner> {
    return Runner([&ctx](ReportFormat f) { return RunConflicts(ctx, f); });
  });
}

}  // namespace tuphap::cli
