// `tuphap person show`: one person's records by personal ID (the person
// index), what the records show of their marital status, and the person
// conflicts they are in. `tuphap index rebuild|check`: the derived indexes
// (search, person index, person conflicts) rebuilt from the records, or
// compared with a rebuild.
#include <map>
#include <ostream>
#include <vector>

#include "cli/commands.h"
#include "cli/format.h"
#include "node/domain/dates.h"
#include "node/domain/person_rules.h"

namespace tuphap::cli {

std::string DescribeMaritalRecord(const Context& ctx, const domain::MaritalRecord& m) {
  // The English of each status; the Vietnamese is in po/vi.po.
  static const std::map<std::string, const char*> kStatus = {
      {"never_married", "never married (no marriage on record)"},
      {"married", "married"},
      {"divorced", "divorced"},
      {"widowed", "widowed"}};
  const auto it = kStatus.find(m.status);
  std::string text = Tr(ctx, "records on this node: ");
  text += it != kStatus.end() ? Tr(ctx, it->second) : m.status;
  for (size_t i = 0; i < m.marriages.size(); ++i) {
    text += (i == 0 ? " — " : ", ") + m.marriages[i].record_id + " (" +
            PersonDay(m.marriages[i].date) + ")";
  }
  if (m.deceased) {
    text += Tr(ctx, "; recorded dead on ") + PersonDay(m.deceased->date) + " (" +
            m.deceased->record_id + ")";
  }
  return text;
}

void RegisterPersonCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* person = app.add_subcommand("person", "One person's records, by 12-digit personal ID");
  person->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto on = std::make_shared<std::string>();
  CLI::App* show = person->add_subcommand(
      "show", "Every record naming the person, their marital status on record, their conflicts");
  show->add_option("personal_id", *id, "12-digit personal ID")->required();
  show->add_option("--on", *on, "marital status as of this date (default today)");
  show->callback([&ctx, action, id, on] {
    *action = [&ctx, id, on]() -> Status {
      if (id->size() != 12 || id->find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument(Tr(ctx, "personal ID '{0}' is not 12 digits", {*id}));
      }
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      // The flag named in the message; the office checks the date again.
      if (!on->empty() && !domain::ParseDateOrNull(*on)) {
        return Status::InvalidArgument(Tr(ctx, "--on '{0}' is not a date (YYYY-MM-DD)", {*on}));
      }
      TUPHAP_ASSIGN_OR_RETURN(app::Office::PersonPage page, office->Person(*id, *on));
      const std::string& date = page.on;
      const std::vector<store::PersonRow>& rows = page.records;
      const domain::MaritalRecord& marital = page.marital;
      const std::vector<store::PersonConflictRow>& conflicts = page.conflicts;
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("personal_id", *id);
        Json records = Json::MakeArray();
        for (const auto& r : rows) {
          Json o = Json::MakeObject();
          o.Set("record_id", r.record_id);
          o.Set("scope", r.scope);
          o.Set("type", r.type);
          o.Set("role", r.role);
          o.Set("field", r.field);
          o.Set("date", r.date);
          o.Set("revoked", r.revoked);
          records.Push(std::move(o));
        }
        j.Set("records", std::move(records));
        Json m = Json::MakeObject();
        m.Set("on", date);
        m.Set("status", marital.status);
        Json marriages = Json::MakeArray();
        for (const auto& r : marital.marriages) marriages.Push(Json(r.record_id));
        m.Set("marriages", std::move(marriages));
        if (marital.deceased) m.Set("deceased", marital.deceased->record_id);
        j.Set("marital_status_on_record", std::move(m));
        Json list = Json::MakeArray();
        for (const auto& c : conflicts) {
          Json o = Json::MakeObject();
          o.Set("rule", c.rule);
          o.Set("record_id", c.record_id);
          o.Set("scope", c.scope);
          o.Set("other_id", c.other_id);
          o.Set("other_scope", c.other_scope);
          list.Push(std::move(o));
        }
        j.Set("person_conflicts", std::move(list));
        ctx.PrintJson(j);
        return Status::Ok();
      }
      if (rows.empty()) {
        *ctx.out << Tr(ctx, "no record names personal ID {0}", {*id}) << '\n';
        return Status::Ok();
      }
      Table t({Tr(ctx, "record"), Tr(ctx, "commune"), Tr(ctx, "type"), Tr(ctx, "role"),
               Tr(ctx, "date"), ""});
      for (const auto& r : rows) {
        t.Add({r.record_id, r.scope, RecordTypeText(ctx.lang, r.type),
               PersonRoleText(ctx.lang, r.role), PersonDay(r.date),
               r.revoked ? Tr(ctx, "revoked") : ""});
      }
      t.Print(*ctx.out);
      if (page.cut) {
        *ctx.out << Tr(ctx, "(the first {0} records only)", {std::to_string(rows.size())}) << '\n';
      }
      *ctx.out << DescribeMaritalRecord(ctx, marital) << " (" << PersonDay(date) << ")\n";
      for (const auto& c : conflicts) {
        *ctx.out << Tr(ctx, "person conflict ") << c.rule << ": " << c.record_id << " (" << c.scope
                 << ") / " << c.other_id << " (" << c.other_scope << ")\n";
      }
      return Status::Ok();
    };
  });

  CLI::App* index = app.add_subcommand(
      "index", "The indexes derived from the records: search, person index, person conflicts");
  index->require_subcommand(1);
  CLI::App* rebuild = index->add_subcommand(
      "rebuild", "Rebuild them from the records (one transaction: writers wait while it runs)");
  rebuild->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(uint64_t conflicts, office->RebuildIndexes());
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("rebuilt", true);
        j.Set("person_conflicts", static_cast<int64_t>(conflicts));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "indexes rebuilt; ") << conflicts << Tr(ctx, " person conflicts")
                 << '\n';
      }
      return Status::Ok();
    };
  });
  CLI::App* check = index->add_subcommand(
      "check",
      "Compare the person index and conflicts with a rebuild (changes nothing; writers wait "
      "while it runs, like a rebuild)");
  check->callback([&ctx, action] {
    *action = [&ctx]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(app::Office::IndexCheck compared, office->CheckIndexes());
      // The first entry one has and the other lacks, to say where.
      std::string first;
      if (!compared.first_difference.empty()) {
        first = (compared.missing ? Tr(ctx, "missing: ") : Tr(ctx, "not in a rebuild: ")) +
                compared.first_difference;
      }
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("equal", compared.equal);
        if (!first.empty()) j.Set("first_difference", first);
        ctx.PrintJson(j);
      } else if (compared.equal) {
        *ctx.out << Tr(ctx, "the person index equals a rebuild") << '\n';
      }
      if (!compared.equal) {
        return Status::Corruption(
                   Tr(ctx, "the person index differs from a rebuild; run 'tuphap index rebuild'"))
            .Annotate(first);
      }
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
