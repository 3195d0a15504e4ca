// tuphap report status | stats | conflicts | duplicates | attention | reconcile.
#include <functional>
#include <map>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_format.h"
#include "node/domain/catalogue.h"
#include "node/domain/content_rules.h"

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
        out << Tr(ctx, "nothing to report\n");
        return;
      }
      Table t(grid.header);
      for (const auto& r : grid.rows) t.Add(r);
      t.Print(out);
    }
  }
}

Status RunStats(const Context& ctx, const report::StatsOptions& o, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<report::StatsRow> rows, office->Stats(o));
  uint64_t held_back = 0;
  for (const auto& r : rows) held_back += r.held_back;
  if (format == ReportFormat::kJson) {
    Json list = Json::MakeArray();
    for (const auto& r : rows) {
      Json j = Json::MakeObject();
      j.Set("commune", r.commune);
      j.Set("type", r.type);
      j.Set("period", r.period);
      j.Set("count", static_cast<int64_t>(r.count));
      j.Set("revoked", static_cast<int64_t>(r.revoked));
      j.Set("invalid", static_cast<int64_t>(r.invalid));
      j.Set("held_back", static_cast<int64_t>(r.held_back));
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
    out.Set("held_back_for_person_conflicts", static_cast<int64_t>(held_back));
    out.Set("rows", std::move(list));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "commune"),
              Tr(ctx, "type"),
              Tr(ctx, "period"),
              Tr(ctx, "count"),
              TrCtx(ctx, "cmd_report", "revoked"),
              Tr(ctx, "invalid"),
              Tr(ctx, "held back"),
              Tr(ctx, "fines"),
              Tr(ctx, "issued VND"),
              Tr(ctx, "paid VND"),
              Tr(ctx, "outstanding VND")};
  g.keys = {"commune",   "type",  "period",     "count",    "revoked",        "invalid",
            "held_back", "fines", "issued_vnd", "paid_vnd", "outstanding_vnd"};
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& r : rows) {
    const bool money = r.fines > 0;
    // CSV keeps plain numbers; the table and HTML group thousands.
    auto m = [&](int64_t v) {
      if (!money) return std::string();
      return format == ReportFormat::kCsv ? std::to_string(v) : Money(v);
    };
    // CSV keeps the type's code (a machine format); people read its name.
    const std::string type =
        format == ReportFormat::kCsv ? r.type : RecordTypeText(ctx.lang, r.type);
    g.rows.push_back({r.commune, type, r.period, std::to_string(r.count), std::to_string(r.revoked),
                      std::to_string(r.invalid), std::to_string(r.held_back),
                      money ? std::to_string(r.fines) : "", m(r.fines_issued_vnd),
                      m(r.fines_paid_vnd), m(r.fines_outstanding_vnd)});
    bars.emplace_back(r.commune + " " + type + " " + r.period, static_cast<double>(r.count));
  }
  const std::string title = Tr(ctx, "Registrations and decisions") +
                            (o.from.empty() && o.to.empty() ? "" : " " + o.from + " – " + o.to);
  Emit(ctx, format, title, g, format == ReportFormat::kHtml ? BarChartSvg(bars) : "");
  // A person registered twice would be counted twice: the later record
  // waits, and the table says so rather than silently counting less.
  if (format == ReportFormat::kTable && held_back > 0) {
    *ctx.out
        << '\n'
        << held_back
        << Tr(ctx,
              " registration(s) held back for person conflicts: each is the later of two records "
              "of one person, counted once the conflict is settled (tuphap report conflicts)\n");
  }
  return Status::Ok();
}

Status RunConflicts(const Context& ctx, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(app::Office::ConflictsReport open, office->Conflicts());
  const std::vector<report::ConflictReportRow>& rows = open.fields;
  const std::vector<store::PersonConflictRow>& persons = open.persons;
  if (format == ReportFormat::kJson) {
    ctx.PrintJson(ConflictsJson(ctx, rows, persons));
    return Status::Ok();
  }
  Grid g;
  g.title = Tr(ctx, "Open conflicts, oldest first");
  g.header = {Tr(ctx, "record"),  Tr(ctx, "commune"), Tr(ctx, "field"), Tr(ctx, "value"),
              Tr(ctx, "officer"), Tr(ctx, "node"),    Tr(ctx, "time")};
  g.keys = {"record", "commune", "field", "value", "officer", "node", "time"};
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.values.size(); ++i) {
      const auto& v = r.values[i];
      g.rows.push_back({i == 0 ? r.row.record_id : "", i == 0 ? r.row.scope : "",
                        // CSV keeps the path (a machine format); people read its label.
                        i != 0                         ? ""
                        : format == ReportFormat::kCsv ? r.row.field
                                                       : FieldText(ctx.lang, r.row.field),
                        v.value.ToDisplay(), OfficerText(v, ctx.lang),
                        node::NodeIdText(v.origin.bytes),
                        GridTime(ctx, format, static_cast<int64_t>(v.hlc.millis()))});
    }
  }
  const Grid p = PersonConflictsGrid(ctx, persons, format != ReportFormat::kCsv);
  switch (format) {
    case ReportFormat::kHtml:
      WriteHtml(*ctx.out, g.title, persons.empty() ? std::vector<Grid>{g} : std::vector<Grid>{g, p},
                "");
      break;
    case ReportFormat::kCsv:
      // The field conflicts as before; person conflicts, which have other
      // columns, follow as a second table after an empty line.
      WriteCsv(*ctx.out, g);
      if (!persons.empty()) {
        *ctx.out << "\r\n";
        WriteCsv(*ctx.out, p);
      }
      break;
    default:
      // The field conflicts' table is titled only when another follows,
      // so a store without person conflicts prints what it always did.
      if (!g.rows.empty() && !persons.empty()) *ctx.out << g.title << ":\n";
      if (!g.rows.empty() || persons.empty()) Emit(ctx, format, g.title, g, "");
      if (!persons.empty()) {
        if (!g.rows.empty()) *ctx.out << '\n';
        *ctx.out << p.title << ":\n";
        Emit(ctx, format, p.title, p, "");
        *ctx.out << '\n' << PersonConflictsAdvice(ctx);
      }
  }
  return Status::Ok();
}

Status RunDuplicates(const Context& ctx, const std::string& scope, size_t limit,
                     ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(app::Office::DuplicatesReport found, office->Duplicates(scope, limit));
  const std::vector<report::DuplicateReportGroup>& groups = found.groups;
  const bool more = found.more;
  if (format == ReportFormat::kJson) {
    ctx.PrintJson(DuplicatesJson(groups, limit, more));
    return Status::Ok();
  }
  const Grid g = DuplicatesGrid(ctx, groups, format != ReportFormat::kCsv);
  const std::string note =
      Tr(ctx,
         "Only POSSIBLE duplicates: records with the same name, birth date and parents' names but "
         "different or missing personal IDs. They may be one person registered twice, or two "
         "people. Nothing is blocked or merged: look at each group and correct or revoke a record "
         "only if it is wrong.");
  if (format == ReportFormat::kHtml) {
    Grid titled = g;
    titled.title = note;
    WriteHtml(*ctx.out, g.title, {titled}, "");
    return Status::Ok();
  }
  if (format == ReportFormat::kCsv) {
    WriteCsv(*ctx.out, g);
    return Status::Ok();
  }
  *ctx.out << note << "\n\n";
  Emit(ctx, format, g.title, g, "");
  if (more) {
    *ctx.out << '\n'
             << Tr(ctx, "the first ") << limit
             << Tr(ctx, " groups are shown; --limit N shows more\n");
  }
  return Status::Ok();
}

Status RunStatus(const Context& ctx, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(report::StatusReport r, office->ProvinceStatus());
  if (format == ReportFormat::kJson) {
    Json communes = Json::MakeArray();
    for (const auto& c : r.communes) {
      Json j = Json::MakeObject();
      j.Set("commune", c.commune);
      j.Set("name", c.name);
      j.Set("records", static_cast<int64_t>(c.records));
      j.Set("held", static_cast<int64_t>(c.held));
      j.Set("conflicts", static_cast<int64_t>(c.conflicts));
      j.Set("person_conflicts", static_cast<int64_t>(c.person_conflicts));
      j.Set("equivocations", static_cast<int64_t>(c.equivocations));
      j.Set("invalid", static_cast<int64_t>(c.invalid));
      Json nodes = Json::MakeArray();
      for (const auto& x : c.nodes) {
        Json o = Json::MakeObject();
        o.Set("node_id", x.node_id);
        o.Set("revoked", x.revoked);
        o.Set("last_contact", ctx.JsonTime(x.last_contact_ms));
        o.Set("last_sync", ctx.JsonTime(x.last_success_ms));
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
    out.Set("node_id", office->node_id());
    out.Set("communes", std::move(communes));
    out.Set("refusals", std::move(refusals));
    out.Set(std::string(domain::kInvalidContentCode), InvalidJson(r.invalid));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "commune"),
              TrCtx(ctx, "cmd_report", "name"),
              Tr(ctx, "node"),
              Tr(ctx, "last contact"),
              Tr(ctx, "last sync"),
              Tr(ctx, "pending out"),
              Tr(ctx, "pending in"),
              Tr(ctx, "records"),
              Tr(ctx, "held"),
              Tr(ctx, "conflicts"),
              Tr(ctx, "person conflicts"),
              Tr(ctx, "equivocations"),
              Tr(ctx, "invalid")};
  g.keys = {"commune",          "name",          "node",    "last_contact", "last_sync",
            "pending_out",      "pending_in",    "records", "held",         "conflicts",
            "person_conflicts", "equivocations", "invalid"};
  for (const auto& c : r.communes) {
    const auto counts = std::vector<std::string>{
        std::to_string(c.records),       std::to_string(c.held),
        std::to_string(c.conflicts),     std::to_string(c.person_conflicts),
        std::to_string(c.equivocations), std::to_string(c.invalid)};
    if (c.nodes.empty()) {
      std::vector<std::string> row{c.commune, c.name, "-", "", "", "", ""};
      row.insert(row.end(), counts.begin(), counts.end());
      g.rows.push_back(std::move(row));
    }
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      const auto& x = c.nodes[i];
      std::vector<std::string> row{i == 0 ? c.commune : "",
                                   i == 0 ? c.name : "",
                                   x.node_id + (x.revoked ? Tr(ctx, " (revoked)") : ""),
                                   GridTime(ctx, format, x.last_contact_ms),
                                   GridTime(ctx, format, x.last_success_ms),
                                   std::to_string(x.pending_out),
                                   std::to_string(x.pending_in)};
      for (const auto& v : counts) row.push_back(i == 0 ? v : "");
      g.rows.push_back(std::move(row));
    }
  }
  Grid refused;
  refused.title = Tr(ctx, "Refused changes by reason");
  refused.header = {Tr(ctx, "reason"), Tr(ctx, "count")};
  refused.keys = {"reason", "count"};
  for (const auto& x : r.refusals) refused.rows.push_back({x.reason, std::to_string(x.count)});
  // Content judged invalid is kept and forwarded, not refused: counted under
  // its own code, by reason (tuphap report attention lists the records).
  Grid invalid;
  invalid.title = Tr(ctx, "Records judged invalid, kept (E_INVALID_CONTENT; report attention)");
  invalid.header = {Tr(ctx, "reason"), Tr(ctx, "records")};
  invalid.keys = {"reason", "records"};
  std::map<std::string, uint64_t> by_reason;
  for (const auto& x : r.invalid) by_reason[x.reason] += x.count;
  for (const auto& [reason, count] : by_reason)
    invalid.rows.push_back({reason, std::to_string(count)});
  const std::string title = Tr(ctx, "Sync status");
  if (format == ReportFormat::kHtml) {
    WriteHtml(*ctx.out, title, {g, refused, invalid}, "");
  } else if (format == ReportFormat::kCsv) {
    WriteCsv(*ctx.out, g);
  } else {
    Emit(ctx, format, title, g, "");
    for (const Grid* extra : {&refused, &invalid}) {
      if (extra->rows.empty()) continue;
      *ctx.out << '\n' << extra->title << ":\n";
      Emit(ctx, format, extra->title, *extra, "");
    }
  }
  return Status::Ok();
}

Status RunAttention(const Context& ctx, bool include_revoked, ReportFormat format) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  // Person conflicts wait for a person too, but are listed by report
  // conflicts: here only counted, so this list is not the whole of the work.
  TUPHAP_ASSIGN_OR_RETURN(app::Office::AttentionReport attention,
                          office->Attention(include_revoked));
  const std::vector<report::AttentionRow>& rows = attention.records;
  const uint64_t person_conflicts = attention.person_conflicts;
  if (format == ReportFormat::kJson) {
    Json list = Json::MakeArray();
    for (const auto& a : rows) {
      Json j = Json::MakeObject();
      j.Set("record_id", a.record.record_id);
      j.Set("commune", a.record.scope);
      j.Set("type", a.record.type);
      j.Set("code", std::string(domain::kInvalidContentCode));
      j.Set("reason", a.record.flag.reason);
      j.Set("field", a.record.flag.field);
      j.Set("message", a.message);
      j.Set("revoked", a.record.revoked);
      Json by = Json::MakeArray();
      for (const auto& c : a.created_by) by.Push(c);
      j.Set("created_by", std::move(by));
      ctx.SetHlc(&j, "last_change", a.last_change);
      list.Push(std::move(j));
    }
    Json out = Json::MakeObject();
    out.Set("records", std::move(list));
    out.Set("person_conflicts", static_cast<int64_t>(person_conflicts));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid g;
  g.header = {Tr(ctx, "record"), Tr(ctx, "commune"), Tr(ctx, "type"),         Tr(ctx, "reason"),
              Tr(ctx, "field"),  Tr(ctx, "problem"), Tr(ctx, "registered by")};
  g.keys = {"record", "commune", "type", "reason", "field", "problem", "registered_by"};
  for (const auto& a : rows) {
    std::string by;
    for (const auto& c : a.created_by) by += (by.empty() ? "" : ", ") + c;
    // CSV keeps the codes and paths (a machine format); people read names.
    const bool people = format != ReportFormat::kCsv;
    g.rows.push_back(
        {a.record.record_id + (a.record.revoked ? TrCtx(ctx, "cmd_report", " (revoked)") : ""),
         a.record.scope, people ? RecordTypeText(ctx.lang, a.record.type) : a.record.type,
         a.record.flag.reason,
         people ? FieldText(ctx.lang, a.record.flag.field) : a.record.flag.field, a.message, by});
  }
  Emit(ctx, format,
       Tr(ctx, "Records whose content breaks the rules (kept, not counted; revoke or amend)"), g,
       "");
  if (format == ReportFormat::kTable && person_conflicts > 0) {
    *ctx.out << '\n'
             << person_conflicts
             << Tr(ctx, " person conflict(s) also wait for an officer: tuphap report conflicts\n");
  }
  return Status::Ok();
}

struct ReconcileArgs {
  std::string peer;     // endpoint
  std::string peer_id;  // node id there (default: the province's hub)
  std::string from;     // bundle or snapshot file
  std::string scope;
  std::optional<int> timeout_s;  // default 60
};

// A field's values on one side as text: the display winner first, " | "
// between concurrent values; "" when the side has none.
std::string ValuesText(const std::vector<node::EntryView>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " | ") + v.value.ToDisplay();
  return out;
}

std::string ByText(const Context& ctx, ReportFormat format,
                   const std::vector<node::EntryView>& values) {
  if (values.empty()) return "";
  const auto& v = values.front();
  return OfficerText(v, ctx.lang) + " @ " +
         GridTime(ctx, format, static_cast<int64_t>(v.hlc.millis()));
}

Status RunReconcile(const Context& ctx, const ReconcileArgs& args, ReportFormat format) {
  if (args.peer.empty() == args.from.empty())
    return Status::InvalidArgument("name the other copy: --peer ENDPOINT or --from FILE");
  // What applies only to a peer is refused with a file, not ignored.
  if (!args.from.empty() && (!args.peer_id.empty() || args.timeout_s)) {
    return Status::InvalidArgument(std::string(!args.peer_id.empty() ? "--peer-id" : "--timeout") +
                                   " cannot apply with --from (it is for --peer)");
  }
  if (!args.peer_id.empty() && args.peer.find('@') != std::string::npos) {
    return Status::InvalidArgument(
        "the node is named twice: --peer NODE-ID@ENDPOINT and --peer-id; give one");
  }
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  app::Office::ReconcileOptions o;
  o.peer = args.peer;
  o.peer_id = args.peer_id;
  o.from = args.from;
  o.scope = args.scope;
  o.timeout_s = args.timeout_s.value_or(60);
  TUPHAP_ASSIGN_OR_RETURN(app::Office::ReconcileResult reconciled, office->Reconcile(o));
  const node::ReconcileReport& r = reconciled.report;
  const std::string& other = reconciled.other;

  if (format == ReportFormat::kJson) {
    Json diffs = Json::MakeArray();
    for (const auto& d : r.differences) {
      Json j = Json::MakeObject();
      j.Set("scope", d.scope);
      j.Set("record_id", d.record_id);
      j.Set("field", d.field);
      auto side = [&](bool present, const std::vector<node::EntryView>& v) {
        if (d.field == "*") return present ? Json("present") : Json();
        return v.empty() ? Json() : Json(ValuesText(v));
      };
      j.Set("ours", side(d.ours_present, d.ours));
      j.Set("theirs", side(d.theirs_present, d.theirs));
      j.Set("reason", d.reason);
      j.Set("detail", d.detail);
      j.Set("ours_values", EntriesToJson(ctx, d.ours));
      j.Set("theirs_values", EntriesToJson(ctx, d.theirs));
      diffs.Push(std::move(j));
    }
    Json scopes_json = Json::MakeArray();
    for (const auto& c : r.scopes) {
      Json j = Json::MakeObject();
      j.Set("scope", c.scope);
      j.Set("compared", c.compared);
      j.Set("ours_records", static_cast<int64_t>(c.ours));
      j.Set("theirs_records", static_cast<int64_t>(c.theirs));
      j.Set("equal", c.equal);
      j.Set("differing_records", static_cast<int64_t>(c.differing_records));
      scopes_json.Push(std::move(j));
    }
    Json out = Json::MakeObject();
    out.Set("equal", r.equal);
    out.Set("other", other);
    out.Set("differences", std::move(diffs));
    out.Set("scopes", std::move(scopes_json));
    if (reconciled.remote) {
      out.Set("queries", static_cast<int64_t>(reconciled.queries));
      out.Set("bytes_sent", static_cast<int64_t>(reconciled.bytes_sent));
      out.Set("bytes_received", static_cast<int64_t>(reconciled.bytes_received));
    }
    ctx.PrintJson(out);
    return Status::Ok();
  }
  Grid scopes_grid;
  scopes_grid.title = Tr(ctx, "Communes compared");
  scopes_grid.header = {Tr(ctx, "commune"), Tr(ctx, "ours"), Tr(ctx, "theirs"), Tr(ctx, "result")};
  scopes_grid.keys = {"commune", "ours", "theirs", "result"};
  for (const auto& c : r.scopes) {
    std::string result = !c.compared ? Tr(ctx, "not shared")
                         : c.equal
                             ? Tr(ctx, "equal")
                             : std::to_string(c.differing_records) + Tr(ctx, " record(s) differ");
    scopes_grid.rows.push_back({c.scope, std::to_string(c.ours), std::to_string(c.theirs), result});
  }
  Grid g;
  g.title = Tr(ctx, "Differences");
  g.header = {Tr(ctx, "commune"),   Tr(ctx, "record"),  Tr(ctx, "field"),
              Tr(ctx, "ours"),      Tr(ctx, "ours by"), Tr(ctx, "theirs"),
              Tr(ctx, "theirs by"), Tr(ctx, "reason"),  Tr(ctx, "detail")};
  g.keys = {"commune", "record",    "field",  "ours",  "ours_by",
            "theirs",  "theirs_by", "reason", "detail"};
  auto absent = Tr(ctx, "(absent)");
  for (const auto& d : r.differences) {
    const bool whole = d.field == "*";
    g.rows.push_back({d.scope, d.record_id, d.field,
                      whole ? (d.ours_present ? Tr(ctx, "(present)") : absent)
                            : (d.ours.empty() ? absent : ValuesText(d.ours)),
                      ByText(ctx, format, d.ours),
                      whole ? (d.theirs_present ? Tr(ctx, "(present)") : absent)
                            : (d.theirs.empty() ? absent : ValuesText(d.theirs)),
                      ByText(ctx, format, d.theirs), d.reason, d.detail});
  }
  // A peer's `other` is "NODE-ID at ENDPOINT" (kept so in JSON): the title
  // takes it whole through the catalogue.
  const std::string title = reconciled.remote
                                ? domain::TranslateMessage(ctx.lang, "Reconcile with " + other)
                                : Tr(ctx, "Reconcile with ") + other;
  if (format == ReportFormat::kCsv) {
    WriteCsv(*ctx.out, g);
  } else if (format == ReportFormat::kHtml) {
    WriteHtml(*ctx.out, title, {scopes_grid, g}, "");
  } else {
    *ctx.out << title << "\n";
    Emit(ctx, format, scopes_grid.title, scopes_grid, "");
    *ctx.out << "\n"
             << (r.equal ? Tr(ctx, "equal: both copies hold the same records\n")
                         : std::to_string(r.differences.size()) + Tr(ctx, " difference(s):\n"));
    if (!r.differences.empty()) Emit(ctx, format, g.title, g, "");
    if (reconciled.remote) {
      *ctx.out << "\n"
               << reconciled.queries << Tr(ctx, " queries, ") << reconciled.bytes_sent
               << Tr(ctx, " bytes sent, ") << reconciled.bytes_received
               << Tr(ctx, " bytes received\n");
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterReportCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* report = app.add_subcommand("report", "Reports for the hub operator");
  report->require_subcommand(1);
  auto format = std::make_shared<std::string>("table");
  auto bom = std::make_shared<bool>(false);
  // Every report: a subcommand with --format (the global --json wins), run
  // by `run` once the arguments are parsed.
  using Runner = std::function<Status(ReportFormat)>;
  auto add = [&ctx, action, format, bom, report](const char* name, const char* help,
                                                 std::function<Result<Runner>()> prepare) {
    CLI::App* cmd = report->add_subcommand(name, help);
    cmd->add_option("--format", *format, "table, csv, json or html")->capture_default_str();
    cmd->add_flag("--bom", *bom,
                  "with --format csv: begin with a UTF-8 byte order mark, so that spreadsheet "
                  "programs read Vietnamese letters right");
    cmd->callback([&ctx, action, format, bom, prepare] {
      *action = [&ctx, format, bom, prepare]() -> Status {
        TUPHAP_ASSIGN_OR_RETURN(Runner run, prepare());
        TUPHAP_ASSIGN_OR_RETURN(ReportFormat f,
                                ParseReportFormat(ctx.json ? std::string("json") : *format));
        if (*bom && f != ReportFormat::kCsv) {
          return Status::InvalidArgument(Tr(ctx, "--bom goes with --format csv only"));
        }
        if (*bom) *ctx.out << "\xEF\xBB\xBF";
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

  add("status",
      "Per commune and node: last contact and sync, pending, held, conflicts, person conflicts",
      [&ctx]() -> Result<Runner> {
        return Runner([&ctx](ReportFormat f) { return RunStatus(ctx, f); });
      });
  auto rc = std::make_shared<ReconcileArgs>();
  CLI::App* reconcile =
      add("reconcile",
          "Compare this node's records with a peer's or a file's, down to the differing fields",
          [&ctx, rc]() -> Result<Runner> {
            return Runner([&ctx, rc](ReportFormat f) { return RunReconcile(ctx, *rc, f); });
          });
  reconcile->add_option("--peer", rc->peer,
                        "a listening node's endpoint (tcp://host:port, or NODE-ID@tcp://...)");
  reconcile->add_option("--peer-id", rc->peer_id,
                        "the node expected there (default: this province's hub)");
  reconcile->add_option("--from", rc->from,
                        "a snapshot ('tuphap snapshot') or a bundle ('bundle export --all')");
  reconcile->add_option("--scope", rc->scope, "only this commune code");
  reconcile->add_option("--timeout", rc->timeout_s, "seconds to wait for each answer (default 60)")
      ->check(CLI::Range(1, 3600));

  add("conflicts",
      "Every open conflict: competing values of a field, and person conflicts (two records of one "
      "personal ID that cannot both stand)",
      [&ctx]() -> Result<Runner> {
        return Runner([&ctx](ReportFormat f) { return RunConflicts(ctx, f); });
      });
  struct DuplicatesArgs {
    std::string scope;
    size_t limit = 100;
  };
  auto dup = std::make_shared<DuplicatesArgs>();
  CLI::App* duplicates =
      add("duplicates",
          "Possible duplicates to look at: records with the same name, birth date and parents' "
          "names but different or missing personal IDs (never blocked, never merged)",
          [&ctx, dup]() -> Result<Runner> {
            return Runner([&ctx, dup](ReportFormat f) {
              return RunDuplicates(ctx, dup->scope, dup->limit, f);
            });
          });
  duplicates->add_option("--scope", dup->scope, "only groups with a record of this commune code");
  duplicates->add_option("--limit", dup->limit, "at most this many groups")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  auto with_revoked = std::make_shared<bool>(false);
  CLI::App* attention = add(
      "attention",
      "Records whose content breaks the rules: kept and forwarded, but never numbered or counted",
      [&ctx, with_revoked]() -> Result<Runner> {
        return Runner(
            [&ctx, with_revoked](ReportFormat f) { return RunAttention(ctx, *with_revoked, f); });
      });
  attention->add_flag("--revoked", *with_revoked, "also list those already revoked");
}

}  // namespace tuphap::cli
