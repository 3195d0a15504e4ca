#include "node/domain/registry.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <tuple>

#include "node/domain/content_rules.h"
#include "node/domain/dates.h"
#include "node/domain/indexer.h"
#include "node/domain/person_rules.h"
#include "node/domain/record_json.h"
#include "node/domain/reference_data.h"
#include "node/domain/vn_text.h"
#include "replication/draft.h"

namespace tuphap::domain {
namespace {

AcceptScope ScopeOf(const node::NodeInfo& info) {
  AcceptScope s;
  s.hub = info.role == node::Role::kHub;
  s.commune = info.commune;
  s.province = info.province;
  return s;
}

std::string TextOf(const Json* j) {
  return j != nullptr && j->is_string() ? j->as_string() : std::string();
}

const crdt::Value* WinnerOf(const crdt::RecordState& state, std::string_view field) {
  const crdt::MvRegister* reg = state.Field(field);
  const crdt::RegisterEntry* w = reg != nullptr ? reg->Winner() : nullptr;
  return w != nullptr ? &w->value : nullptr;
}

bool Immutable(std::string_view path) {
  return path == "record_id" || path == "type" || path == "commune_code" ||
         path == "province_code" || path.starts_with("book.") || path == "book" ||
         path == "version" || path.starts_with("edit_ids");
}

// Officer input "--field path=text": read the text as the field's kind.
Json Coerce(std::string_view type, const std::string& path, const std::string& text) {
  const FieldSpec* f = FindField(type, path);
  if (f == nullptr) return Json(text);
  switch (f->kind) {
    case Kind::kInt:
    case Kind::kYear:
    case Kind::kMoney: {
      int64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return Json(v);
      return Json(text);  // validation says it is not a number
    }
    case Kind::kTextList:
    case Kind::kIntList:
    case Kind::kBlock: {
      auto j = ParseJson(text, nullptr);
      return j ? *j : Json(text);
    }
    default:
      if (text == "null" && f->nullable) return Json();
      return Json(text);
  }
}

// Every leaf of `value` at `path` (an object sets its fields one by one).
void Leaves(const std::string& path, const Json& value,
            std::vector<std::pair<std::string, crdt::Value>>* out) {
  if (value.is_object() && !value.as_object().empty()) {
    for (const auto& [k, v] : value.as_object()) Leaves(path + "." + k, v, out);
    return;
  }
  out->emplace_back(path, ToValue(value));
}

// The entries the person rules judge, of `refs`.
std::vector<store::PersonRef> Ruled(const std::vector<store::PersonRef>& refs) {
  std::vector<store::PersonRef> out;
  for (const auto& r : refs)
    if (r.family > 0) out.push_back(r);
  return out;
}

// The person index entries of a record given as a document.
std::vector<store::PersonRef> RefsOfDoc(std::string_view type, const Json& doc) {
  return PersonRefsOf(type, [&](std::string_view path) {
    std::vector<std::string> out;
    const Json* v = JsonAt(doc, path);
    if (v != nullptr && v->is_string()) out.push_back(v->as_string());
    return out;
  });
}

}  // namespace

Registry::Registry(node::Node& node, Lang lang)
    : node_(node), validator_(lang, ScopeOf(node.info())) {}

Status Registry::Refusal(const Problem& p) const {
  return Status::InvalidArgument((p.field.empty() ? "" : p.field + ": ") + p.message)
      .WithReason(std::string(ErrorClassName(p.error_class)));
}

Result<LineResult> Registry::ImportLine(store::Store::Session& session, std::string_view line) {
  return Commit(session, Prepare(line));
}

PreparedLine Registry::Prepare(std::string_view line) const {
  PreparedLine p;
  Json doc;
  if (auto problem = validator_.ParseLine(line, &doc)) {
    p.problem = std::move(problem);
    return p;
  }
  if (doc.Find("op")->as_string() == "edit") {
    p.kind = PreparedLine::Kind::kEdit;
    p.record_id = TextOf(doc.Find("record_id"));
    p.doc = std::move(doc);
    return p;
  }
  return PrepareCreate(std::move(doc));
}

PreparedLine Registry::PrepareCreate(Json doc) const {
  PreparedLine p;
  const std::string type = doc.Find("type")->as_string();
  p.record_id = TextOf(doc.Find("record_id"));
  if (auto problem = validator_.CheckRecord(doc, type)) {
    p.problem = std::move(problem);
    return p;
  }
  p.kind = PreparedLine::Kind::kCreate;
  p.scope = TextOf(doc.Find("commune_code"));
  const Json* book = doc.Find("book");
  p.entry = book->Find("entry_no")->Dump() + " " + TextOf(book->Find("register")) + " " +
            book->Find("year")->Dump();
  auto fields = Flatten(doc);
  crdt::RecordOps ops{p.record_id, {}};
  ops.ops.reserve(fields.size() + 1);
  ops.ops.push_back({std::string(crdt::kTypeField), crdt::Value::String(type), {}});
  for (auto& [path, value] : fields) ops.ops.push_back({std::move(path), std::move(value), {}});
  // Sorted by field: the shape check and the store then skip their sorts.
  std::sort(ops.ops.begin(), ops.ops.end(),
            [](const crdt::Op& a, const crdt::Op& b) { return a.field < b.field; });
  std::vector<crdt::RecordOps> records;
  records.push_back(std::move(ops));
  auto prepared = node_.Prepare(std::move(records), "");
  if (!prepared.ok()) {
    // Within the limits every field has by schema, this cannot happen;
    // should it, the line is refused, not the import.
    p.kind = PreparedLine::Kind::kRefused;
    p.problem = validator_.Make(ErrorClass::kFieldTooLong, "", Msg::kTooLong,
                                {prepared.status().message(), "?", "?"});
    return p;
  }
  p.ops = std::move(prepared).value();
  return p;
}

Result<LineResult> Registry::Commit(store::Store::Session& session, PreparedLine&& line) {
  switch (line.kind) {
    case PreparedLine::Kind::kRefused:
      return LineResult{LineResult::Outcome::kRefused, std::move(line.problem), line.record_id};
    case PreparedLine::Kind::kEdit:
      return ImportEdit(session, line.doc);
    case PreparedLine::Kind::kCreate:
      return AppendCreate(session, line);
  }
  return Status::Internal("unknown prepared line");
}

Result<bool> Registry::SameCreation(const store::RecordView& rec, const crdt::RecordOps& ops) {
  // The change that created the record: the first in its history.
  if (rec.history.empty()) return false;
  const store::ChangeRef& first = rec.history.front();
  TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                          node_.store().GetEnvelope({first.origin, rec.scope}, first.seq));
  if (!env) return false;
  crdt::Change change;
  TUPHAP_RETURN_IF_ERROR(node_.opener().Open(*env, &change));
  for (const auto& r : change.records) {
    if (r.record_id != rec.record_id || r.ops.size() != ops.ops.size()) continue;
    std::vector<std::pair<std::string_view, const crdt::Value*>> created, line;
    for (const auto& op : r.ops) created.emplace_back(op.field, &op.value);
    for (const auto& op : ops.ops) line.emplace_back(op.field, &op.value);
    std::sort(created.begin(), created.end());
    bool same = true;
    for (size_t i = 0; i < line.size() && same; ++i) {
      same = created[i].first == line[i].first && *created[i].second == *line[i].second;
    }
    return same;
  }
  return false;
}

Result<LineResult> Registry::AppendCreate(store::Store::Session& session, PreparedLine& line) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> existing,
                          session.GetRecord(line.scope, line.record_id));
  if (existing) {
    TUPHAP_ASSIGN_OR_RETURN(bool same, SameCreation(*existing, line.ops.records.front()));
    if (same) return LineResult{LineResult::Outcome::kDuplicate, std::nullopt, line.record_id};
    const size_t a = line.entry.find(' ');
    const size_t b = line.entry.rfind(' ');
    return LineResult{
        LineResult::Outcome::kRefused,
        validator_.Make(ErrorClass::kEntryDuplicate, "book.entry_no", Msg::kEntryDuplicate,
                        {line.entry.substr(0, a), line.entry.substr(a + 1, b - a - 1),
                         line.entry.substr(b + 1), line.scope}),
        line.record_id};
  }
  // Rule 4 of the content rules (register-numbers.md): refused here what
  // every replica would flag, such as a secondary's copy outside its blocks.
  std::vector<store::RecordView> leases;
  const store::ContentChecker::Lookup lookup =
      [&](std::string_view prefix) -> Result<const std::vector<store::RecordView>*> {
    TUPHAP_ASSIGN_OR_RETURN(leases, node_.store().RecordsWithPrefix(line.scope, prefix));
    return &leases;
  };
  TUPHAP_ASSIGN_OR_RETURN(std::optional<ContentProblem> number,
                          CheckNewEntry(validator_.lang(), line.scope, line.ops.records.front(),
                                        node_.info().id, node_.book_writers(), lookup));
  if (number) {
    return LineResult{LineResult::Outcome::kRefused,
                      Problem{ErrorClass::kEntryInvalid, "book.entry_no", number->message},
                      line.record_id};
  }
  const crdt::RecordOps& created = line.ops.records.front();
  std::string type;
  for (const auto& op : created.ops)
    if (op.field == crdt::kTypeField) type = op.value.text();
  const std::vector<store::PersonRef> refs = PersonRefsOf(type, [&](std::string_view path) {
    std::vector<std::string> out;
    auto it = std::find_if(created.ops.begin(), created.ops.end(),
                           [&](const crdt::Op& op) { return op.field == path; });
    if (it != created.ops.end() && it->value.kind() == crdt::Value::Kind::kString)
      out.push_back(it->value.text());
    return out;
  });
  TUPHAP_ASSIGN_OR_RETURN(std::optional<LineResult> person,
                          CheckPersons(session, line.scope, line.record_id, type, refs));
  if (person) return std::move(*person);
  TUPHAP_RETURN_IF_ERROR(node_.AppendPrepared(session, line.scope, std::move(line.ops)));
  return LineResult{LineResult::Outcome::kAccepted, std::nullopt, line.record_id};
}

Result<LineResult> Registry::ImportEdit(store::Store::Session& session, const Json& line) {
  if (auto p = validator_.CheckEditLine(line)) {
    return LineResult{LineResult::Outcome::kRefused, p, TextOf(line.Find("record_id"))};
  }
  Edit e;
  e.scope = line.Find("commune_code")->as_string();
  e.record_id = line.Find("record_id")->as_string();
  e.base_version = line.Find("base_version")->as_int();
  e.edit_id = line.Find("edit_id")->as_string();
  e.edited_at = line.Find("edited_at")->as_string();
  e.reason = TextOf(line.Find("reason"));
  for (const auto& c : line.Find("changes")->as_array()) {
    FieldChange fc{c.Find("path")->as_string(), *c.Find("new"), std::nullopt};
    if (const Json* old = c.Find("old")) fc.old = *old;
    e.changes.push_back(std::move(fc));
  }
  // The commune an edit names must be one this node keeps.
  const AcceptScope& scope = validator_.scope();
  const CommuneInfo* commune = ReferenceData::Get().Commune(e.scope);
  if (commune == nullptr) {
    return LineResult{LineResult::Outcome::kRefused,
                      validator_.Make(ErrorClass::kCommuneUnknown, "commune_code",
                                      Msg::kCommuneUnknown, {"commune_code", e.scope}),
                      e.record_id};
  }
  if ((!scope.hub && e.scope != scope.commune) ||
      (scope.hub && commune->province_code != scope.province)) {
    return LineResult{
        LineResult::Outcome::kRefused,
        validator_.Make(ErrorClass::kOutOfScope, "commune_code",
                        scope.hub ? Msg::kOutOfScopeProvince : Msg::kOutOfScopeCommune,
                        {e.scope, scope.hub ? scope.province : scope.commune}),
        e.record_id};
  }
  return ApplyEdit(session, e);
}

Result<LineResult> Registry::ApplyEdit(store::Store::Session& session, const Edit& e) {
  auto refuse = [&](ErrorClass c, const std::string& field, Msg m,
                    std::initializer_list<std::string_view> args) -> Result<LineResult> {
    return LineResult{LineResult::Outcome::kRefused, validator_.Make(c, field, m, args),
                      e.record_id};
  };
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec,
                          session.GetRecord(e.scope, e.record_id));
  if (!rec)
    return refuse(ErrorClass::kUnknownRecord, "record_id", Msg::kUnknownRecord,
                  {e.record_id, e.scope});
  const crdt::RecordState& state = rec->state;
  if (!e.edit_id.empty() && state.Field("edit_ids." + e.edit_id) != nullptr) {
    return LineResult{LineResult::Outcome::kDuplicate, std::nullopt,
                      e.record_id};  // applied before
  }
  for (const auto& c : e.changes) {
    if (Immutable(c.path) || c.path.starts_with('$')) {
      return refuse(ErrorClass::kImmutableField, c.path, Msg::kImmutable, {c.path});
    }
  }
  const crdt::Value* version = WinnerOf(state, "version");
  const int64_t current =
      version != nullptr && version->kind() == crdt::Value::Kind::kInt ? version->as_int() : 1;
  if (e.base_version && *e.base_version != current) {
    return refuse(ErrorClass::kVersionConflict, "base_version", Msg::kVersionConflict,
                  {std::to_string(*e.base_version), std::to_string(current)});
  }
  Json doc = Unflatten(state);
  for (const auto& c : e.changes) {
    if (!c.old) continue;
    const Json* now = JsonAt(doc, c.path);
    const Json now_value = now != nullptr ? *now : Json();
    if (!(now_value == *c.old)) {
      return refuse(ErrorClass::kVersionConflict, c.path, Msg::kOldValueMismatch,
                    {c.path, now_value.is_string() ? now_value.as_string() : now_value.Dump(),
                     c.old->is_string() ? c.old->as_string() : c.old->Dump()});
    }
  }
  const std::string type = state.Type();
  const std::string old_status = TextOf(JsonAt(doc, "data.status"));
  for (const auto& c : e.changes) SetJsonAt(&doc, c.path, c.value);
  if (!e.resolve) {
    doc.Set("record_id", e.record_id);
    if (auto p = validator_.CheckRecord(doc, type))
      return LineResult{LineResult::Outcome::kRefused, p, e.record_id};
    const std::string registered = TextOf(doc.Find("registered_at"));
    if (!e.edited_at.empty() && e.edited_at < registered) {
      return refuse(ErrorClass::kChronology, "edited_at", Msg::kEditBeforeCreate,
                    {e.edited_at, registered});
    }
    // A change of what the record says of a person the rules judge is
    // checked like a registration, refused only for a collision it makes:
    // a record already in a person conflict (made by sync) stays amendable.
    const std::vector<store::PersonRef> refs = RefsOfDoc(type, doc);
    const std::vector<store::PersonRef> before = RefsOfDoc(type, Unflatten(state));
    if (Ruled(refs) != Ruled(before)) {
      TUPHAP_ASSIGN_OR_RETURN(std::optional<LineResult> person,
                              CheckPersons(session, e.scope, e.record_id, type, refs, &before));
      if (person) return std::move(*person);
    }
    const std::string new_status = TextOf(JsonAt(doc, "data.status"));
    if (type == "violation_decision" &&
        !Validator::StatusTransitionAllowed(old_status, new_status)) {
      return refuse(ErrorClass::kStatusTransition, "data.status", Msg::kStatusTransition,
                    {old_status, new_status});
    }
  }
  std::vector<std::pair<std::string, crdt::Value>> sets;
  for (const auto& c : e.changes) Leaves(c.path, c.value, &sets);
  if (!e.resolve) sets.emplace_back("version", crdt::Value::Int(current + 1));
  if (!e.edit_id.empty())
    sets.emplace_back("edit_ids." + e.edit_id, crdt::Value::String(e.edited_at));
  TUPHAP_RETURN_IF_ERROR(node_.Append(
      session, e.scope, e.reason,
      [&](const node::Node::RecordReader& read) -> Result<std::vector<crdt::RecordOps>> {
        TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> now, read(e.record_id));
        if (!now) return Status::NotFound("record " + e.record_id + " vanished");
        crdt::RecordOps ops{e.record_id, {}};
        for (const auto& [path, value] : sets) {
          std::vector<crdt::Dot> pred;
          if (const crdt::MvRegister* reg = now->state.Field(path)) pred = reg->Frontier();
          ops.ops.push_back({path, value, std::move(pred)});
        }
        return std::vector<crdt::RecordOps>{std::move(ops)};
      }));
  return LineResult{LineResult::Outcome::kAccepted, std::nullopt, e.record_id};
}

Result<std::optional<LineResult>> Registry::CheckPersons(
    store::Store::Session& session, const std::string& scope, const std::string& record_id,
    std::string_view type, const std::vector<store::PersonRef>& refs,
    const std::vector<store::PersonRef>* before) {
  if (refs.empty() || !node_.options().person_rules) return std::optional<LineResult>();
  const store::PersonRowsOf rows_of = [&](std::string_view id) { return session.PersonRows(id); };
  TUPHAP_ASSIGN_OR_RETURN(std::vector<PersonProblem> problems,
                          CheckRegistration(scope, record_id, type, refs, rows_of));
  if (problems.empty()) return std::optional<LineResult>();
  // What the record already collided with before the edit is not the
  // edit's doing.
  std::set<std::tuple<std::string, ErrorClass, std::string, std::string>> standing;
  if (before != nullptr) {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<PersonProblem> old,
                            CheckRegistration(scope, record_id, type, *before, rows_of));
    for (const auto& p : old)
      standing.emplace(p.personal_id, p.rule, p.other.scope, p.other.record_id);
  }
  for (const auto& p : problems) {
    if (standing.count({p.personal_id, p.rule, p.other.scope, p.other.record_id}) != 0) continue;
    return std::optional<LineResult>(LineResult{
        LineResult::Outcome::kRefused,
        Problem{p.rule, p.self.field, DescribePersonProblem(validator_.lang(), p)}, record_id});
  }
  return std::optional<LineResult>();
}

Json Registry::CoerceField(std::string_view type, const std::string& path,
                           const std::string& text) {
  return Coerce(type, path, text);
}

Result<std::string> Registry::Register(std::string_view type, Json doc,
                                       const std::string& scope_arg, MaritalRecord* marital) {
  if (!IsRecordType(type)) {
    return Refusal(validator_.Make(ErrorClass::kUnknownType, "type", Msg::kUnknownType, {type}));
  }
  if (!doc.is_object())
    return Refusal(validator_.Make(ErrorClass::kMalformedJson, "", Msg::kNotAnObject, {}));
  for (const char* key : {"seq", "expect_error"}) {
    if (doc.is_object()) {
      auto& members = doc.as_object();
      members.erase(std::remove_if(members.begin(), members.end(),
                                   [&](const auto& m) {
                                     return m.first == key || m.first.starts_with("expect_");
                                   }),
                    members.end());
    }
  }
  doc.Set("op", "create");
  doc.Set("schema", 1);
  doc.Set("type", std::string(type));
  const node::NodeInfo& info = node_.info();
  if (doc.Find("commune_code") == nullptr) {
    std::string commune = info.role == node::Role::kHub ? scope_arg : info.commune;
    if (commune.empty()) {
      return Status::InvalidArgument(
          "a hub registers into a commune's books: give the commune code (--scope)");
    }
    doc.Set("commune_code", commune);
  }
  const std::string commune = TextOf(doc.Find("commune_code"));
  if (doc.Find("province_code") == nullptr) {
    if (const CommuneInfo* c = ReferenceData::Get().Commune(commune))
      doc.Set("province_code", c->province_code);
  }
  if (doc.Find("registered_at") == nullptr) {
    doc.Set("registered_at", VietnamDate(node_.options().clock->WallMillis()).ToString());
  }
  if (doc.Find("version") == nullptr) doc.Set("version", 1);
  // The number is read inside the write transaction that uses it: another
  // officer's registration cannot take it in between, and a refusal below
  // rolls back without burning it (docs/register-numbers.md). The keys are
  // unlocked before the transaction opens (Node::BeginSession).
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, node_.BeginSession());
  if (type == "marital_status_confirmation" && doc.Find("data") != nullptr &&
      doc.Find("data")->is_object()) {
    // What the records show, read in the transaction that registers it.
    const std::string subject = TextOf(JsonAt(doc, "data.subject.personal_id"));
    TUPHAP_ASSIGN_OR_RETURN(
        MaritalRecord on_record,
        MaritalStatusOnRecord(subject, TextOf(doc.Find("registered_at")),
                              [&](std::string_view id) { return session->PersonRows(id); }));
    if (!on_record.status.empty() && JsonAt(doc, "data.marital_status") == nullptr)
      SetJsonAt(&doc, "data.marital_status", Json(on_record.status));
    if (marital != nullptr) *marital = std::move(on_record);
  }
  // Number the entry unless the officer copies it from a paper register.
  if (doc.Find("book") == nullptr) {
    // Check the record first, so a refusal does not depend on numbering.
    Json probe = doc;
    const Json* data = doc.Find("data");
    const std::string_view reg =
        RegisterOf(type, TextOf(data != nullptr ? data->Find("event_type") : nullptr));
    const auto registered = ParseDateOrNull(TextOf(doc.Find("registered_at")));
    if (!registered || reg.empty()) {
      if (auto p = validator_.CheckRecord(probe, type)) return Refusal(*p);
    }
    const int year = registered ? registered->year : 0;
    TUPHAP_ASSIGN_OR_RETURN(int64_t entry, NextEntry(commune, reg, year));
    Json book = Json::MakeObject();
    book.Set("register", std::string(reg));
    book.Set("year", year);
    book.Set("entry_no", entry);
    doc.Set("book", std::move(book));
  }
  if (doc.Find("record_id") == nullptr) {
    const Json* book = doc.Find("book");
    char number[16];
    const Json* entry = book->Find("entry_no");
    std::snprintf(
        number, sizeof number, "%06lld",
        static_cast<long long>(entry != nullptr && entry->is_int() ? entry->as_int() : 0));
    doc.Set("record_id", commune + "-" + TextOf(book->Find("register")) + "-" +
                             (book->Find("year") ? book->Find("year")->Dump() : "") + "-" + number);
  }
  PreparedLine prepared = PrepareCreate(std::move(doc));
  if (prepared.problem) return Refusal(*prepared.problem);
  TUPHAP_ASSIGN_OR_RETURN(LineResult r, AppendCreate(*session, prepared));
  if (r.outcome == LineResult::Outcome::kRefused) return Refusal(*r.problem);
  if (r.outcome == LineResult::Outcome::kDuplicate) {
    return Status::AlreadyExists("record " + r.record_id +
                                 " is already registered with the same content");
  }
  TUPHAP_RETURN_IF_ERROR(session->Commit());
  return r.record_id;
}

Status Registry::Amend(const std::string& id,
                       const std::vector<std::pair<std::string, std::string>>& fields,
                       const std::string& reason, const std::string& scope) {
  if (fields.empty()) return Status::InvalidArgument("nothing to change: give at least one field");
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView rec, node_.GetRecord(id, scope));
  if (rec.state.Revoked())
    return Status::FailedPrecondition("record " + id + " is revoked; it can no longer be amended");
  Edit e;
  e.scope = rec.scope;
  e.record_id = id;
  e.reason = reason;
  std::set<std::string> seen;
  for (const auto& [path, text] : fields) {
    if (!seen.insert(path).second)
      return Status::InvalidArgument("field '" + path + "' is given twice");
    e.changes.push_back({path, Coerce(rec.state.Type(), path, text), std::nullopt});
  }
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, node_.BeginSession());
  TUPHAP_ASSIGN_OR_RETURN(LineResult r, ApplyEdit(*session, e));
  if (r.outcome == LineResult::Outcome::kRefused) return Refusal(*r.problem);
  return session->Commit();
}

Status Registry::Resolve(const std::string& id, const std::string& field, const std::string& value,
                         const std::string& reason, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView rec, node_.GetRecord(id, scope));
  const crdt::MvRegister* reg = rec.state.Field(field);
  if (reg == nullptr) return Status::NotFound("record " + id + " has no field " + field);
  const bool duplicate = field == crdt::kTypeField && reg->entries().size() > 1;
  if (!reg->InConflict() && !duplicate) {
    return Status::FailedPrecondition("field " + field + " of " + id + " is not in conflict");
  }
  Edit e;
  e.scope = rec.scope;
  e.record_id = id;
  e.reason = reason.empty() ? "conflict resolved" : reason;
  e.resolve = true;
  if (field == crdt::kTypeField) {
    if (!IsRecordType(value))
      return Status::InvalidArgument("'" + value + "' is not a record type");
    e.changes.push_back({field, Json(value), std::nullopt});
  } else {
    e.changes.push_back({field, Coerce(rec.state.Type(), field, value), std::nullopt});
    // The chosen value must still make a valid record.
    Json doc = Unflatten(rec.state);
    SetJsonAt(&doc, field, e.changes.back().value);
    doc.Set("record_id", id);
    if (auto p = validator_.CheckRecord(doc, rec.state.Type())) return Refusal(*p);
  }
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, node_.BeginSession());
  TUPHAP_ASSIGN_OR_RETURN(LineResult r, ApplyEdit(*session, e));
  if (r.outcome == LineResult::Outcome::kRefused) return Refusal(*r.problem);
  return session->Commit();
}

Result<std::vector<SearchHit>> Registry::Search(std::string_view query, std::string_view type,
                                                std::string_view from, std::string_view to,
                                                size_t limit) {
  const std::string terms = SearchTerms(query);
  if (terms.empty())
    return Status::InvalidArgument(
        "nothing to search for: give a name, an ID number or a register reference");
  // Every word must occur (FTS5 AND); each is quoted, so no query syntax leaks.
  std::string match;
  size_t start = 0;
  while (start < terms.size()) {
    size_t end = terms.find(' ', start);
    if (end == std::string::npos) end = terms.size();
    match += (match.empty() ? "\"" : " \"") + terms.substr(start, end - start) + "\"";
    start = end + 1;
  }
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::Store::SearchRow> rows,
                          node_.store().SearchRecords(match, type, from, to, limit));
  std::vector<SearchHit> hits;
  const std::string wanted = LowerNfc(query);
  // The words in this order within one name ("nguyen thi hong" in
  // "Nguyễn Thị Hồng", not in "Nguyễn Văn Hồng; Lê Thị Mai").
  const std::string padded = " " + terms + " ";
  auto together = [&](const std::string& names) {
    size_t begin = 0;
    while (begin <= names.size()) {
      size_t end = names.find(';', begin);
      if (end == std::string::npos) end = names.size();
      if ((" " + FoldForSearch(std::string_view(names).substr(begin, end - begin)) + " ")
              .find(padded) != std::string::npos)
        return true;
      begin = end + 1;
    }
    return false;
  };
  for (auto& r : rows) {
    SearchHit h{std::move(r.record_id),  std::move(r.scope),   std::move(r.type),
                std::move(r.event_date), std::move(r.display), false};
    h.exact = LowerNfc(h.names).find(wanted) != std::string::npos;
    h.together = h.exact || together(h.names);
    hits.push_back(std::move(h));
  }
  // Accents as typed first, then the words together in one name, then the
  // words anywhere in the record (an ID number or reference lands here too).
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return std::make_pair(a.exact, a.together) > std::make_pair(b.exact, b.together);
  });
  return hits;
}

}  // namespace tuphap::domain
