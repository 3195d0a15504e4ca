// tuphap record add|amend|revoke|show|history.
#include <ostream>

#include "base/file_io.h"
#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "node/domain/record_json.h"

namespace tuphap::cli {
namespace {

struct RecordArgs {
  std::string id;
  std::string type;
  std::string scope;
  std::string reason;
  std::string input;
  std::vector<std::string> fields;
  // search
  std::string query;
  std::string from;
  std::string to;
  int limit = 50;
};

// One record's JSON: as long as a line `import` takes (1 MiB), no longer.
constexpr size_t kMaxJsonInput = 1 << 20;

Result<Json> ReadJsonInput(const std::string& path) {
  TUPHAP_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(path, kMaxJsonInput));
  JsonParseError err;
  auto j = ParseJson(text, &err);
  if (!j)
    return Status::InvalidArgument(path + ": byte " + std::to_string(err.offset) + ": " +
                                   err.message);
  return *j;
}

Status Show(const Context& ctx, const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView rec, office->GetRecord(id, scope));
  TUPHAP_ASSIGN_OR_RETURN(auto competing, office->FieldConflicts(rec));
  const crdt::MvRegister* revoked = rec.state.Field(crdt::kRevokedField);
  Json fields = Json::MakeObject();
  Json conflicts = Json::MakeObject();
  Table table({Tr(ctx, "field"), Tr(ctx, "value"), ""});
  for (const auto& [name, reg] : rec.state.fields()) {
    const crdt::RegisterEntry* w = reg.Winner();
    // $type with two entries: two creations claimed this id (a duplicate
    // registration) even when they agree on the type.
    const bool duplicate = name == crdt::kTypeField && reg.entries().size() > 1;
    if (name.starts_with('$') && !duplicate && !reg.InConflict()) continue;
    if (!name.starts_with('$')) fields.Set(name, ValueToJson(w->value));
    std::string note;
    if (reg.InConflict() || duplicate) {
      const std::vector<node::EntryView>* found = nullptr;
      for (const auto& [field, values] : competing)
        if (field == name) found = &values;
      if (found == nullptr) return Status::Internal("no competing values of " + name);
      const std::vector<node::EntryView>& entries = *found;
      for (const auto& e : entries) {
        if (!note.empty()) note += " | ";
        note += Tr(ctx, "\"{0}\" by {1} at node {2}, {3}",
                   {e.value.ToDisplay(), OfficerText(e, ctx.lang), ShortNodeId(e.origin),
                    ctx.PersonTime(static_cast<int64_t>(e.hlc.millis()))});
      }
      conflicts.Set(name, EntriesToJson(ctx, entries));
      note = (duplicate ? Tr(ctx, "DUPLICATE REGISTRATION: ") : Tr(ctx, "CONFLICT: ")) + note;
    }
    const std::string shown = name == crdt::kTypeField
                                  ? RecordTypeText(ctx.lang, w->value.ToDisplay())
                                  : w->value.ToDisplay();
    table.Add({FieldText(ctx.lang, name), shown, note});
  }
  if (ctx.json) {
    Json j = Json::MakeObject();
    j.Set("id", rec.record_id);
    j.Set("type", rec.state.Type());
    j.Set("scope", rec.scope);
    j.Set("revoked", rec.state.Revoked());
    j.Set("revocation_reason",
          rec.state.Revoked() ? ValueToJson(revoked->Winner()->value) : Json());
    j.Set("fields", std::move(fields));
    j.Set("document", domain::Unflatten(rec.state));
    j.Set("conflicts", std::move(conflicts));
    j.Set("state_hash", ToHex(rec.state_hash));
    ctx.PrintJson(j);
    return Status::Ok();
  }
  *ctx.out << Tr(ctx, "record {0} ({1}) of commune {2}",
                 {rec.record_id, RecordTypeText(ctx.lang, rec.state.Type()), rec.scope})
           << '\n';
  if (rec.state.Revoked()) {
    *ctx.out << Tr(ctx, "REVOKED: {0}", {revoked->Winner()->value.ToDisplay()}) << '\n';
  }
  table.Print(*ctx.out);
  return Status::Ok();
}

std::string Joined(const std::vector<crdt::Value>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " | ") + v.ToDisplay();
  return out;
}

Status History(const Context& ctx, const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::HistoryEntry> history, office->History(id, scope));
  if (ctx.json) {
    Json list = Json::MakeArray();
    for (const auto& h : history) {
      Json j = Json::MakeObject();
      j.Set("origin", ShortNodeId(h.origin));
      j.Set("seq", static_cast<int64_t>(h.seq));
      ctx.SetHlc(&j, "hlc", h.hlc);
      j.Set("officer", h.officer);
      j.Set("reason", h.reason);
      Json ops = Json::MakeArray();
      for (const auto& op : h.ops) {
        Json o = Json::MakeObject();
        o.Set("field", op.field);
        // The display winner of what the op replaced; every replaced value
        // when it resolved a conflict.
        o.Set("old", op.old.empty() ? Json() : ValueToJson(op.old[0]));
        Json all = Json::MakeArray();
        for (const auto& v : op.old) all.Push(ValueToJson(v));
        o.Set("old_values", std::move(all));
        o.Set("new", ValueToJson(op.value));
        ops.Push(std::move(o));
      }
      j.Set("ops", std::move(ops));
      list.Push(std::move(j));
    }
    Json out = Json::MakeObject();
    out.Set("id", id);
    out.Set("history", std::move(list));
    ctx.PrintJson(out);
    return Status::Ok();
  }
  for (const auto& h : history) {
    *ctx.out << ctx.PersonTime(static_cast<int64_t>(h.hlc.millis())) << "  "
             << OfficerText(h.officer, false, ctx.lang) << "  "
             << Tr(ctx, "node {0}", {ShortNodeId(h.origin)}) << " #" << h.seq;
    if (!h.reason.empty()) *ctx.out << "  (" << h.reason << ")";
    *ctx.out << '\n';
    Table t({"  " + Tr(ctx, "field"), Tr(ctx, "old"), Tr(ctx, "new")});
    for (const auto& op : h.ops) {
      // The type a creation set is shown by its name, as everywhere.
      const bool type = op.field == crdt::kTypeField;
      t.Add({"  " + FieldText(ctx.lang, op.field), Joined(op.old),
             type ? RecordTypeText(ctx.lang, op.value.ToDisplay()) : op.value.ToDisplay()});
    }
    t.Print(*ctx.out);
  }
  return Status::Ok();
}

}  // namespace

Result<std::pair<std::string, std::string>> SplitFieldArgument(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument("malformed field argument '" + std::string(arg) +
                                   "': expected KEY=VALUE, e.g. --field data.notes=checked");
  }
  return std::make_pair(std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)));
}

void RegisterRecordCommands(CLI::App& app, Context& ctx, Action* action) {
  CLI::App* record = app.add_subcommand("record", "Register, amend, revoke and read records");
  record->require_subcommand(1);
  auto args = std::make_shared<RecordArgs>();

  CLI::App* add = record->add_subcommand("add", "Register a new record; prints its id");
  add->add_option("--type", args->type,
                  "record type: birth, death, marriage, ... (may be omitted when --input is a "
                  "whole create line)");
  add->add_option("--input", args->input,
                  "JSON file (- for stdin): the record's data object, or a whole create line");
  add->add_option("--field", args->fields,
                  "path=value from the record root (data.child.given_name=An), repeatable");
  add->add_option("--scope", args->scope, "commune code (a hub must give one)");
  add->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_RETURN_IF_ERROR(office->CheckWriteScope(args->scope));
      Json doc = Json::MakeObject();
      if (!args->input.empty()) {
        TUPHAP_ASSIGN_OR_RETURN(Json input, ReadJsonInput(args->input));
        if (!input.is_object())
          return Status::InvalidArgument(args->input + ": expected one JSON object");
        const bool whole = input.Find("data") != nullptr &&
                           (input.Find("op") || input.Find("book") || input.Find("record_id") ||
                            input.Find("registered_at") || input.Find("commune_code"));
        if (whole) {
          if (const Json* t = input.Find("type"); t != nullptr && t->is_string()) {
            if (args->type.empty()) {
              args->type = t->as_string();
            } else if (args->type != t->as_string()) {
              return Status::InvalidArgument(args->input + ": field type: the line says \"" +
                                             t->as_string() + "\" but --type says \"" + args->type +
                                             "\"");
            }
          }
          const Json* code = input.Find("commune_code");
          if (!args->scope.empty() && code != nullptr &&
              (!code->is_string() || code->as_string() != args->scope)) {
            return Status::InvalidArgument(
                args->input + ": " +
                Tr(ctx, "the line's commune_code and --scope {0} disagree", {args->scope}));
          }
          doc = std::move(input);
        } else {
          doc.Set("data", std::move(input));
        }
      }
      if (args->type.empty()) {
        return Status::InvalidArgument(
            "--type is required unless --input is a whole create line naming its type");
      }
      for (const auto& a : args->fields) {
        TUPHAP_ASSIGN_OR_RETURN(auto kv, SplitFieldArgument(a));
        domain::SetJsonAt(&doc, kv.first,
                          app::Office::CoerceField(args->type, kv.first, kv.second));
      }
      if (doc.Find("data") == nullptr) {
        return Status::InvalidArgument(
            "nothing to register: give --input FILE or --field data.<path>=<value>");
      }
      TUPHAP_ASSIGN_OR_RETURN(app::Office::Registered reg,
                              office->Register(args->type, std::move(doc), args->scope));
      const std::string& id = reg.id;
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", id);
        if (reg.marital) {
          Json m = Json::MakeObject();
          m.Set("status", reg.marital->status);
          Json list = Json::MakeArray();
          for (const auto& r : reg.marital->marriages) list.Push(Json(r.record_id));
          m.Set("marriages", std::move(list));
          j.Set("marital_status_on_record", std::move(m));
        }
        ctx.PrintJson(j);
      } else {
        *ctx.out << id << '\n';
        // The id alone on standard output (scripts read it); what the
        // records show beside it, for the officer.
        if (reg.marital) *ctx.err << DescribeMaritalRecord(ctx, *reg.marital) << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* amend =
      record->add_subcommand("amend", "Change fields of a record (immutable fields refused)");
  amend->add_option("id", args->id, "record id")->required();
  amend->add_option("--field", args->fields, "path=value, repeatable")->required();
  amend->add_option("--reason", args->reason, "why (kept in the history)");
  amend->add_option("--scope", args->scope, "commune code, when the id exists in several");
  amend->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& a : args->fields) {
        TUPHAP_ASSIGN_OR_RETURN(auto kv, SplitFieldArgument(a));
        fields.push_back(std::move(kv));
      }
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_RETURN_IF_ERROR(office->Amend(args->id, fields, args->reason, args->scope));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", args->id);
        j.Set("amended", static_cast<int64_t>(fields.size()));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "amended ") << args->id << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* revoke = record->add_subcommand("revoke", "Revoke a record (it stays, marked revoked)");
  revoke->add_option("id", args->id, "record id")->required();
  revoke->add_option("--reason", args->reason, "why")->required();
  revoke->add_option("--scope", args->scope, "commune code, when the id exists in several");
  revoke->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_RETURN_IF_ERROR(office->Revoke(args->id, args->reason, args->scope));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", args->id);
        j.Set("revoked", true);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx, "revoked record {0}", {args->id}) << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* show =
      record->add_subcommand("show", "Show a record, with every competing value of a conflict");
  show->add_option("id", args->id, "record id")->required();
  show->add_option("--scope", args->scope, "commune code, when the id exists in several");
  show->callback([&ctx, action, args] {
    *action = [&ctx, args] { return Show(ctx, args->id, args->scope); };
  });

  CLI::App* history =
      record->add_subcommand("history", "Every change of a record: officer, time, old -> new");
  history->add_option("id", args->id, "record id")->required();
  history->add_option("--scope", args->scope, "commune code, when the id exists in several");
  history->callback([&ctx, action, args] {
    *action = [&ctx, args] { return History(ctx, args->id, args->scope); };
  });

  CLI::App* search = record->add_subcommand(
      "search",
      "Find records by name (accents optional), personal ID number or register reference");
  search
      ->add_option("query", args->query,
                   "e.g. \"nguyen thi hong\", 042225616920, 18568-KS-2025-000001")
      ->required();
  search->add_option("--type", args->type, "only this record type");
  search->add_option("--from", args->from, "registered on or after YYYY-MM-DD");
  search->add_option("--to", args->to, "registered on or before YYYY-MM-DD");
  search->add_option("--limit", args->limit, "at most this many results")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  search->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(app::Office::SearchPage page,
                              office->Search(args->query, args->type, args->from, args->to, 0,
                                             static_cast<size_t>(args->limit)));
      const std::vector<domain::SearchHit>& hits = page.hits;
      if (ctx.json) {
        Json list = Json::MakeArray();
        for (const auto& h : hits) {
          Json j = Json::MakeObject();
          j.Set("record_id", h.record_id);
          j.Set("commune", h.scope);
          j.Set("type", h.type);
          j.Set("registered_at", h.date);
          j.Set("names", h.names);
          j.Set("exact", h.exact);
          j.Set("together", h.together);
          list.Push(std::move(j));
        }
        Json out = Json::MakeObject();
        out.Set("results", std::move(list));
        ctx.PrintJson(out);
        return Status::Ok();
      }
      if (hits.empty()) {
        *ctx.out << Tr(ctx, "no record found\n");
        return Status::Ok();
      }
      Table t({Tr(ctx, "record"), Tr(ctx, "type"), Tr(ctx, "registered"), Tr(ctx, "names")});
      for (const auto& h : hits)
        t.Add({h.record_id, RecordTypeText(ctx.lang, h.type), PersonDay(h.date), h.names});
      t.Print(*ctx.out);
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
