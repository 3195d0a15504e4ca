// tuphap conflicts list | resolve; tuphap register lease.
#include <algorithm>
#include <ostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/report_format.h"

namespace tuphap::cli {
namespace {

void ListFieldConflicts(const Context& ctx,
                        const std::vector<report::ConflictReportRow>& conflicts) {
  Table t({Tr(ctx, "since"), Tr(ctx, "record"), Tr(ctx, "field"), Tr(ctx, "competing values")});
  for (const auto& c : conflicts) {
    std::string values;
    for (const auto& e : c.values) {
      if (!values.empty()) values += " | ";
      values += "\"" + e.value.ToDisplay() + "\" (" + OfficerText(e, ctx.lang) + ", " +
                ShortNodeId(e.origin) + ")";
    }
    t.Add({ctx.PersonTime(static_cast<int64_t>(c.since.millis())), c.row.record_id,
           FieldText(ctx.lang, c.row.field), values});
  }
  t.Print(*ctx.out);
}

// Field conflicts (competing values), then person conflicts (two records
// of one personal ID), each only when there is one.
Status List(const Context& ctx) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(app::Office::ConflictsReport open, office->Conflicts());
  const std::vector<report::ConflictReportRow>& conflicts = open.fields;
  const std::vector<store::PersonConflictRow>& persons = open.persons;
  if (ctx.json) {
    ctx.PrintJson(ConflictsJson(ctx, conflicts, persons));
    return Status::Ok();
  }
  if (conflicts.empty() && persons.empty()) {
    *ctx.out << Tr(ctx, "no open conflicts\n");
    return Status::Ok();
  }
  if (!conflicts.empty()) ListFieldConflicts(ctx, conflicts);
  if (!persons.empty()) {
    const Grid p = PersonConflictsGrid(ctx, persons, true);
    if (!conflicts.empty()) *ctx.out << '\n';
    *ctx.out << p.title << ":\n";
    Table t(p.header);
    for (const auto& r : p.rows) t.Add(r);
    t.Print(*ctx.out);
    *ctx.out << '\n' << PersonConflictsAdvice(ctx);
  }
  return Status::Ok();
}

}  // namespace

void RegisterConflictCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* conflicts = app.add_subcommand("conflicts", "Open conflicts: list them, resolve one");
  conflicts->require_subcommand(1);
  CLI::App* list = conflicts->add_subcommand(
      "list",
      "Every open conflict, oldest first, with its competing values; then the person conflicts");
  list->callback([&ctx, action] { *action = [&ctx] { return List(ctx); }; });

  struct ResolveArgs {
    std::string id, field, value, reason, scope;
  };
  auto r = std::make_shared<ResolveArgs>();
  CLI::App* resolve = conflicts->add_subcommand(
      "resolve", "Settle a field on one value (replaces every competing value)");
  resolve->add_option("id", r->id, "record id")->required();
  resolve->add_option("field", r->field, "field path, e.g. data.child.given_name")->required();
  resolve->add_option("--value", r->value, "the value to keep")->required();
  resolve->add_option("--reason", r->reason, "why (kept in the history)");
  resolve->add_option("--scope", r->scope, "commune code, when the id exists in several");
  resolve->callback([&ctx, action, r] {
    *action = [&ctx, r]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_RETURN_IF_ERROR(office->Resolve(r->id, r->field, r->value, r->reason, r->scope));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", r->id);
        j.Set("field", r->field);
        j.Set("resolved", true);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "resolved ") << r->id << " " << r->field << '\n';
      }
      return Status::Ok();
    };
  });

  struct LeaseArgs {
    std::string to, register_code;
    int year = 0;
    int count = 100;
  };
  auto l = std::make_shared<LeaseArgs>();
  CLI::App* reg = app.add_subcommand("register", "Register entry numbers");
  reg->require_subcommand(1);
  CLI::App* lease = reg->add_subcommand(
      "lease", "Lease a block of entry numbers to another node of this commune");
  lease->add_option("--to", l->to, "the node id (64 hex digits) of the node that will use them")
      ->required();
  lease->add_option("--register", l->register_code, "KS, KT, KH, CMC, GH, TDCC, XNHN or XP")
      ->required();
  lease->add_option("--year", l->year, "the register's year")->required();
  lease->add_option("--count", l->count, "how many numbers")->capture_default_str();
  lease->callback([&ctx, action, l] {
    *action = [&ctx, l]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(int64_t first,
                              office->LeaseNumbers(l->to, l->register_code, l->year, l->count));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("first", first);
        j.Set("last", first + l->count - 1);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "leased numbers {0}-{1} of register {2} for {3} to {4}",
                       {std::to_string(first), std::to_string(first + l->count - 1),
                        l->register_code, std::to_string(l->year), l->to})
                 << '\n';
      }
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
