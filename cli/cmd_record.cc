// tuphap record add|amend|revoke|show|history.
#include <ostream>

#include "base/hex.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace tuphap::cli {
namespace {

struct RecordArgs {
  std::string id;
  std::string type;
  std::string scope;
  std::string reason;
  std::vector<std::string> fields;
};

Result<std::vector<node::FieldUpdate>> ParseFields(const std::vector<std::string>& args) {
  std::vector<node::FieldUpdate> out;
  for (const auto& a : args) {
    TUPHAP_ASSIGN_OR_RETURN(auto kv, SplitFieldArgument(a));
    out.push_back({kv.first, crdt::Value::String(kv.second)});
  }
  return out;
}

Json EntryToJson(const node::EntryView& e) {
  Json j = Json::MakeObject();
  j.Set("value", ValueToJson(e.value));
  j.Set("origin", e.origin.Hex());
  j.Set("officer", e.officer);
  j.Set("hlc", e.hlc.ToString());
  j.Set("seq", static_cast<int64_t>(e.seq));
  return j;
}

Status Show(const Context& ctx, const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView rec, n->GetRecord(id, scope));
  const crdt::MvRegister* revoked = rec.state.Field(crdt::kRevokedField);
  Json fields = Json::MakeObject();
  Json conflicts = Json::MakeObject();
  Table table({"field", "value", ""});
  for (const auto& [name, reg] : rec.state.fields()) {
    const crdt::RegisterEntry* w = reg.Winner();
    // $type with two entries: two creations claimed this id (a duplicate
    // registration) even when they agree on the type.
    const bool duplicate = name == crdt::kTypeField && reg.entries().size() > 1;
    if (name.starts_with('$') && !duplicate && !reg.InConflict()) continue;
    if (!name.starts_with('$')) fields.Set(name, ValueToJson(w->value));
    std::string note;
    if (reg.InConflict() || duplicate) {
      TUPHAP_ASSIGN_OR_RETURN(std::vector<node::EntryView> entries,
                              n->DescribeEntries(rec.scope, reg));
      Json values = Json::MakeArray();
      for (const auto& e : entries) {
        values.Push(EntryToJson(e));
        if (!note.empty()) note += " | ";
        note += "\"" + e.value.ToDisplay() + "\" by " + (e.officer.empty() ? "?" : e.officer) +
                " at " + ShortNodeId(e.origin) + " " + e.hlc.ToString();
      }
      conflicts.Set(name, std::move(values));
      note = (duplicate ? "DUPLICATE REGISTRATION: " : "CONFLICT: ") + note;
    }
    table.Add({name, w->value.ToDisplay(), note});
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
    j.Set("conflicts", std::move(conflicts));
    j.Set("state_hash", ToHex(rec.state_hash));
    ctx.PrintJson(j);
    return Status::Ok();
  }
  *ctx.out << "record " << rec.record_id << " (" << rec.state.Type() << ") of commune " << rec.scope
           << '\n';
  if (rec.state.Revoked()) *ctx.out << "REVOKED: " << revoked->Winner()->value.ToDisplay() << '\n';
  table.Print(*ctx.out);
  return Status::Ok();
}

std::string Joined(const std::vector<crdt::Value>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " | ") + v.ToDisplay();
  return out;
}

Status History(const Context& ctx, const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::HistoryEntry> history, n->History(id, scope));
  if (ctx.json) {
    Json list = Json::MakeArray();
    for (const auto& h : history) {
      Json j = Json::MakeObject();
      j.Set("origin", h.origin.Hex());
      j.Set("seq", static_cast<int64_t>(h.seq));
      j.Set("hlc", h.hlc.ToString());
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
    *ctx.out << h.hlc.ToString() << "  " << (h.officer.empty() ? "?" : h.officer) << "  node "
             << ShortNodeId(h.origin) << " #" << h.seq;
    if (!h.reason.empty()) *ctx.out << "  (" << h.reason << ")";
    *ctx.out << '\n';
    Table t({"  field", "old", "new"});
    for (const auto& op : h.ops) t.Add({"  " + op.field, Joined(op.old), op.value.ToDisplay()});
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
  add->add_option("--type", args->type, "record type")->required();
  add->add_option("--id", args->id, "record id (default: a new ULID)");
  add->add_option("--scope", args->scope, "commune code (a hub must give one)");
  add->add_option("--field", args->fields, "KEY=VALUE, repeatable");
  add->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(auto fields, ParseFields(args->fields));
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      TUPHAP_ASSIGN_OR_RETURN(std::string id,
                              n->CreateRecord(args->id, args->type, args->scope, fields));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", id);
        ctx.PrintJson(j);
      } else {
        *ctx.out << id << '\n';
      }
      return Status::Ok();
    };
  });

  CLI::App* amend = record->add_subcommand("amend", "Change fields of a record");
  amend->add_option("id", args->id, "record id")->required();
  amend->add_option("--field", args->fields, "KEY=VALUE, repeatable")->required();
  amend->add_option("--reason", args->reason, "why (kept in the history)");
  amend->add_option("--scope", args->scope, "commune code, when the id exists in several");
  amend->callback([&ctx, action, args] {
    *action = [&ctx, args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(auto fields, ParseFields(args->fields));
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      TUPHAP_RETURN_IF_ERROR(n->SetFields(args->id, fields, args->reason, args->scope));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", args->id);
        j.Set("amended", static_cast<int64_t>(fields.size()));
        ctx.PrintJson(j);
      } else {
        *ctx.out << "amended " << args->id << '\n';
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
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, ctx.OpenNode());
      TUPHAP_RETURN_IF_ERROR(n->Revoke(args->id, args->reason, args->scope));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("id", args->id);
        j.Set("revoked", true);
        ctx.PrintJson(j);
      } else {
        *ctx.out << "revoked " << args->id << '\n';
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
}

}  // namespace tuphap::cli
