#include "node/domain/content_rules.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/hex.h"
#include "node/domain/catalogue.h"
#include "node/domain/record_json.h"
#include "node/domain/schema.h"
#include "node/domain/validator.h"
#include "replication/certificate.h"
#include "replication/hash.h"

namespace tuphap::domain {
namespace {

using store::ContentFlag;

constexpr std::string_view kLeaseType = "number_lease";
constexpr std::string_view kLeasePrefix = "_lease-";
constexpr int64_t kMaxLeaseSize = 100'000;  // GrantLease's bound

// Sentences these rules add to messages.cc's: English here, the Vietnamese
// in po/vi.po (domain::Tr).
constexpr const char* kNotLeasedText =
    "entry {0} of register {1} for {2} is outside every block leased to the node that registered "
    "it, which is not the commune's primary node and takes this book's numbers from leases";
constexpr const char* kLeaseBySecondaryText =
    "lease {0} was written by a node whose certificate does not name it the primary node of "
    "commune {1}: only the commune's primary node leases numbers";
constexpr const char* kLeaseToSelfText =
    "lease {0} names the node that wrote it as holder: the primary numbers its books itself";
constexpr const char* kLeaseFieldText = "lease {0}: {1} is missing, malformed or out of range";
constexpr const char* kLeaseConflictText = "lease {0} holds two different values of {1}";
constexpr const char* kLeaseIdText =
    "lease id {0} does not match its register, year and first number";
constexpr const char* kForeignEntryText =
    "record {0} has the id of an entry of register {1}, but a record of type '{2}' is not entered "
    "in that register";
constexpr const char* kStatusHistoryText =
    "a change moved data.status along a path the decision lifecycle does not allow (issued → paid, "
    "overdue, appealed or cancelled; overdue → enforced or paid; appealed → issued or cancelled)";

std::string Say(Lang lang, const char* en, std::initializer_list<std::string_view> args) {
  return Tr(lang, en, args);
}

ContentProblem Flagged(std::string_view reason, std::string field, std::string message) {
  return ContentProblem{ContentFlag{std::string(reason), std::move(field)}, std::move(message)};
}

const crdt::Value* WinnerOf(const crdt::RecordState& s, std::string_view field) {
  const crdt::MvRegister* r = s.Field(field);
  const crdt::RegisterEntry* w = r != nullptr ? r->Winner() : nullptr;
  return w != nullptr ? &w->value : nullptr;
}

std::optional<int64_t> IntOf(const crdt::RecordState& s, std::string_view field) {
  const crdt::Value* v = WinnerOf(s, field);
  if (v == nullptr || v->kind() != crdt::Value::Kind::kInt) return std::nullopt;
  return v->as_int();
}

const std::string* TextOf(const crdt::RecordState& s, std::string_view field) {
  const crdt::Value* v = WinnerOf(s, field);
  return v != nullptr && v->kind() == crdt::Value::Kind::kString ? &v->text() : nullptr;
}

std::string Entry6(int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(n));
  return buf;
}

bool IsRegister(std::string_view code) {
  for (const auto& type : RecordTypes()) {
    if (!code.empty() && RegisterOf(type) == code) return true;
  }
  return false;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The register of an id shaped like an entry of `scope`'s books
// ("SCOPE-REG-YYYY-NNNNNN", REG one these rules know), or "".
std::string_view EntryRegisterOf(std::string_view scope, std::string_view id) {
  if (id.size() < scope.size() + 1 + 2 + 1 + 4 + 1 + 6 || !id.starts_with(scope) ||
      id[scope.size()] != '-')
    return {};
  std::string_view rest = id.substr(scope.size() + 1);
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view reg = rest.substr(0, dash);
  const std::string_view tail = rest.substr(dash + 1);  // YYYY-NNNNNN
  if (!IsRegister(reg) || tail.size() != 11 || tail[4] != '-' || !AllDigits(tail.substr(0, 4)) ||
      !AllDigits(tail.substr(5)))
    return {};
  return reg;
}

// The nodes that created a record: the origins of its "$type" values.
std::vector<crdt::ReplicaId> Creators(const crdt::RecordState& s) {
  std::vector<crdt::ReplicaId> out;
  if (const crdt::MvRegister* t = s.Field(crdt::kTypeField)) {
    for (const auto& e : t->entries()) out.push_back(e.dot.origin);
  }
  return out;
}

struct LeaseFacts {
  std::string holder;
  int64_t first = 0;
  int64_t last = 0;
  std::vector<crdt::ReplicaId> creators;
};

// A lease record's own shape, as GrantLease writes it: the holder, the
// register, year and block, each settled, and the id they make.
std::optional<ContentProblem> LeaseShape(Lang lang, std::string_view scope,
                                         std::string_view record_id, const crdt::RecordState& s,
                                         LeaseFacts* out) {
  const std::string id(record_id);
  for (const char* f : {"holder", "register", "year", "first", "last"}) {
    const crdt::MvRegister* r = s.Field(f);
    if (r == nullptr || r->Winner() == nullptr || r->Winner()->value.is_null())
      return Flagged("missing_required", f, Say(lang, kLeaseFieldText, {id, f}));
    if (r->InConflict()) return Flagged("entry_invalid", f, Say(lang, kLeaseConflictText, {id, f}));
  }
  const std::string* holder = TextOf(s, "holder");
  if (holder == nullptr || (holder->size() != 64 && holder->size() != 20) ||
      holder->find_first_not_of("0123456789abcdef") != std::string::npos)
    return Flagged("wrong_type", "holder", Say(lang, kLeaseFieldText, {id, "holder"}));
  const std::string* reg = TextOf(s, "register");
  if (reg == nullptr || !IsRegister(*reg))
    return Flagged("wrong_type", "register", Say(lang, kLeaseFieldText, {id, "register"}));
  const std::optional<int64_t> year = IntOf(s, "year");
  if (!year || *year < 1900 || *year > 2100)
    return Flagged("entry_invalid", "year", Say(lang, kLeaseFieldText, {id, "year"}));
  const std::optional<int64_t> first = IntOf(s, "first");
  const std::optional<int64_t> last = IntOf(s, "last");
  if (!first || *first < 1 || *first > kLastEntryNo)
    return Flagged("entry_invalid", "first", Say(lang, kLeaseFieldText, {id, "first"}));
  if (!last || *last < *first || *last > kLastEntryNo || *last - *first >= kMaxLeaseSize)
    return Flagged("entry_invalid", "last", Say(lang, kLeaseFieldText, {id, "last"}));
  if (id != std::string(kLeasePrefix) + std::string(scope) + "-" + *reg + "-" +
                std::to_string(*year) + "-" + Entry6(*first))
    return Flagged("entry_invalid", "record_id", Say(lang, kLeaseIdText, {id}));
  if (out != nullptr) *out = LeaseFacts{*holder, *first, *last, Creators(s)};
  return std::nullopt;
}

// Rule 6 beyond the shape: a well-formed lease is valid when every node
// that created it holds a certificate naming it the primary of the lease's
// commune, and none of them is its holder.
std::optional<ContentProblem> LeaseWriter(Lang lang, std::string_view scope,
                                          std::string_view record_id, const LeaseFacts& lease,
                                          const WriterOf& writer_of) {
  for (const auto& c : lease.creators) {
    if (!writer_of || writer_of(c, scope) != BookWriter::kPrimary)
      return Flagged(kLeaseBySecondary, "holder",
                     Say(lang, kLeaseBySecondaryText, {record_id, scope}));
    if (HolderNames(lease.holder, c))
      return Flagged(kLeaseBySecondary, "holder", Say(lang, kLeaseToSelfText, {record_id}));
  }
  return std::nullopt;
}

// The valid leases of one book: well formed, unrevoked, written by the
// commune's primary (docs/register-numbers.md).
Result<std::vector<LeaseFacts>> ValidLeases(std::string_view scope, std::string_view reg,
                                            int64_t year, const WriterOf& writer_of,
                                            const store::ContentChecker::Lookup& lookup) {
  TUPHAP_ASSIGN_OR_RETURN(const std::vector<store::RecordView>* rows,
                          lookup(std::string(kLeasePrefix) + std::string(scope) + "-" +
                                 std::string(reg) + "-" + std::to_string(year) + "-"));
  std::vector<LeaseFacts> valid;
  for (const auto& r : *rows) {
    if (r.state.Revoked() || r.state.Type() != kLeaseType) continue;
    LeaseFacts facts;
    if (!LeaseShape(Lang::kEnglish, scope, r.record_id, r.state, &facts) &&
        !LeaseWriter(Lang::kEnglish, scope, r.record_id, facts, writer_of)) {
      valid.push_back(std::move(facts));
    }
  }
  return valid;
}

// The record as a document of its display values, as Unflatten builds it
// but in one pass (this runs for every record stored): fields are sorted by
// name, so the fields of one object are contiguous and each path shares its
// parents with the one before. `open` holds the objects of the last path;
// only the deepest of them ever gains a member, so pointers into the others
// stay valid.
}  // namespace

Json RecordDocument(const crdt::RecordState& s) {
  Json doc = Json::MakeObject();
  struct Open {
    std::string_view prefix;  // "data.child." (with the dot); "" for the root
    Json* object;
  };
  std::vector<Open> open{{std::string_view(), &doc}};
  // A member of `object` named `key`, as Json::Find finds it. In sorted
  // input it is nearly always the last one, or none, so that is tried first;
  // names with characters below '.' can bring an earlier one back ("a.b",
  // "a.b+c", "a.b.c"), and then it is found as Unflatten would find it.
  auto find = [](Json* object, std::string_view key) -> Json* {
    Json::Object& members = object->as_object();
    if (members.empty()) return nullptr;
    if (members.back().first == key) return &members.back().second;
    return object->Find(key);
  };
  auto member = [&find](Json* object, std::string_view key, Json value) -> Json& {
    if (Json* existing = find(object, key)) return *existing = std::move(value);
    return object->as_object().emplace_back(std::string(key), std::move(value)).second;
  };
  for (const auto& [name, reg] : s.fields()) {
    const crdt::RegisterEntry* winner = reg.Winner();
    if (name.starts_with('$') || winner == nullptr) continue;
    const std::string_view path = name;
    while (open.size() > 1 && !path.starts_with(open.back().prefix)) open.pop_back();
    Json* cur = open.back().object;
    size_t start = open.back().prefix.size();
    for (size_t dot = path.find('.', start); dot != std::string_view::npos;
         dot = path.find('.', start)) {
      const std::string_view key = path.substr(start, dot - start);
      Json* next = find(cur, key);
      cur = next != nullptr && next->is_object() ? next : &member(cur, key, Json::MakeObject());
      open.push_back({path.substr(0, dot + 1), cur});
      start = dot + 1;
    }
    member(cur, path.substr(start), FromValue(winner->value));
  }
  return doc;
}

namespace {

// Every value of a field was written by a change that created the record:
// the fields fixed at registration (registry.cc refuses to amend them).
std::optional<ContentProblem> ImmutableChanged(Lang lang, const crdt::RecordState& s) {
  const crdt::MvRegister* type = s.Field(crdt::kTypeField);
  if (type == nullptr) return std::nullopt;
  auto created_by_creation = [&](const crdt::Dot& d) {
    for (const auto& t : type->entries()) {
      if (t.dot.origin == d.origin && t.dot.seq == d.seq) return true;
    }
    return false;
  };
  for (const auto& [name, reg] : s.fields()) {
    const bool fixed = name == "commune_code" || name == "province_code" || name == "book" ||
                       std::string_view(name).starts_with("book.");
    if (!fixed) continue;
    for (const auto& e : reg.entries()) {
      if (!created_by_creation(e.dot))
        return Flagged("immutable_field", name, Format(lang, Msg::kImmutable, {name}));
    }
  }
  return std::nullopt;
}

// The number rule: each of `creators` could take `entry` of the book — a
// number inside a valid lease only its holder, any other number only the
// commune's primary or a hub (copying a paper register).
Result<std::optional<ContentProblem>> NumberRight(Lang lang, std::string_view scope,
                                                  const std::string& reg, int64_t year,
                                                  int64_t entry,
                                                  const std::vector<crdt::ReplicaId>& creators,
                                                  const WriterOf& writer_of,
                                                  const store::ContentChecker::Lookup& lookup) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<LeaseFacts> valid,
                          ValidLeases(scope, reg, year, writer_of, lookup));
  const std::string n = std::to_string(entry), y = std::to_string(year);
  for (const crdt::ReplicaId& creator : creators) {
    bool covered = false, held = false;
    for (const auto& l : valid) {
      if (entry < l.first || entry > l.last) continue;
      covered = true;
      held = held || HolderNames(l.holder, creator);
    }
    if (covered && !held) {
      return std::optional<ContentProblem>(
          Flagged(kEntryNotLeased, "book.entry_no", Format(lang, Msg::kEntryLeased, {n, reg, y})));
    }
    const BookWriter w = writer_of ? writer_of(creator, scope) : BookWriter::kOther;
    if (!covered && w != BookWriter::kPrimary && w != BookWriter::kHub) {
      return std::optional<ContentProblem>(
          Flagged(kEntryNotLeased, "book.entry_no", Say(lang, kNotLeasedText, {n, reg, y})));
    }
  }
  return std::optional<ContentProblem>();
}

}  // namespace

bool HolderNames(std::string_view holder, const crdt::ReplicaId& node) {
  const std::string_view key(reinterpret_cast<const char*>(node.bytes.data()), node.bytes.size());
  if (holder.size() == 64) return holder == ToHex(key);
  if (holder.size() == 20) {
    // The node id text's fingerprint: the first 10 bytes of BLAKE2b-256 of
    // the key (node/keys.h, KeyFingerprint).
    const replication::Hash h = replication::Blake2b256(key);
    return holder == ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), 10));
  }
  return false;
}

Result<std::optional<ContentProblem>> ContentRules::Check(std::string_view scope,
                                                          std::string_view record_id,
                                                          const crdt::RecordState& state,
                                                          const Lookup& lookup) const {
  using Out = std::optional<ContentProblem>;
  if (replication::IsPublicScope(scope)) return Out();  // root-signed objects
  const std::string type = state.Type();
  if (type == kLeaseType) {
    LeaseFacts facts;
    if (auto p = LeaseShape(lang_, scope, record_id, state, &facts)) return Out(std::move(p));
    return LeaseWriter(lang_, scope, record_id, facts, writer_of_);
  }
  if (!IsRecordType(type)) {
    // A type these rules do not know is not judged (a newer rule set may
    // have added it), except that it cannot hold a number of a book these
    // rules keep: that would take the number from the book's own records.
    const std::string_view reg = EntryRegisterOf(scope, record_id);
    if (reg.empty()) return Out();
    return Out(Flagged("entry_invalid", "record_id",
                       Say(lang_, kForeignEntryText, {std::string(record_id), reg, type})));
  }
  if (auto p = ImmutableChanged(lang_, state)) return Out(std::move(p));
  Json doc = RecordDocument(state);
  doc.Set("record_id", std::string(record_id));
  AcceptScope accept;
  accept.commune = std::string(scope);  // a record's commune is the scope it lives in
  const Validator validator(lang_, std::move(accept));
  if (auto p = validator.CheckRecord(doc, type, UnknownFields::kIgnore)) {
    return Out(Flagged(ErrorClassName(p->error_class), std::move(p->field), std::move(p->message)));
  }
  const std::string* reg = TextOf(state, "book.register");
  const std::optional<int64_t> year = IntOf(state, "book.year");
  const std::optional<int64_t> entry = IntOf(state, "book.entry_no");
  if (reg == nullptr || !year || !entry) return Out();  // not numbered (validated above)
  return NumberRight(lang_, scope, *reg, *year, *entry, Creators(state), writer_of_, lookup);
}

Result<std::optional<ContentProblem>> CheckNewEntry(Lang lang, std::string_view scope,
                                                    const crdt::RecordOps& creation,
                                                    const crdt::ReplicaId& creator,
                                                    const WriterOf& writer_of,
                                                    const store::ContentChecker::Lookup& lookup) {
  const crdt::Value* reg = nullptr;
  const crdt::Value* year = nullptr;
  const crdt::Value* entry = nullptr;
  for (const auto& op : creation.ops) {
    if (op.field == "book.register") reg = &op.value;
    if (op.field == "book.year") year = &op.value;
    if (op.field == "book.entry_no") entry = &op.value;
  }
  if (reg == nullptr || year == nullptr || entry == nullptr ||
      reg->kind() != crdt::Value::Kind::kString || year->kind() != crdt::Value::Kind::kInt ||
      entry->kind() != crdt::Value::Kind::kInt)
    return std::optional<ContentProblem>();
  return NumberRight(lang, scope, reg->text(), year->as_int(), entry->as_int(), {creator},
                     writer_of, lookup);
}

Result<ContentFlag> ContentRules::Judge(std::string_view scope, std::string_view record_id,
                                        const crdt::RecordState& state,
                                        const Lookup& lookup) const {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<ContentProblem> p, Check(scope, record_id, state, lookup));
  return p ? std::move(p->flag) : ContentFlag{};
}

std::vector<std::string> ContentRules::Governs(std::string_view scope, std::string_view record_id,
                                               const crdt::RecordState&) const {
  // A lease "_lease-SCOPE-REG-YEAR-NNNNNN" governs its book's entries (a
  // lease's own verdict depends on nothing but itself and its writer's
  // certificate).
  const std::string lease_prefix = std::string(kLeasePrefix) + std::string(scope) + "-";
  if (!record_id.starts_with(lease_prefix) || record_id.size() < lease_prefix.size() + 6) return {};
  const std::string book(
      record_id.substr(kLeasePrefix.size(), record_id.size() - kLeasePrefix.size() - 6));
  if (book.empty() || book.back() != '-') return {};
  return {book};
}

Result<ContentFlag> ContentRules::JudgeOps(std::string_view, std::string_view,
                                           const crdt::RecordState& before,
                                           const std::vector<crdt::Op>& ops,
                                           const ValueOf& value_of) const {
  // Only a violation decision's status has a lifecycle; find its op first
  // (this runs for every change applied).
  const crdt::Op* status = nullptr;
  bool creation = false;
  std::string type = before.Type();
  for (const auto& op : ops) {
    if (op.field == "data.status") status = &op;
    if (op.field == crdt::kTypeField) {
      creation = creation || op.pred.empty();
      if (op.value.kind() == crdt::Value::Kind::kString) type = op.value.text();
    }
  }
  // A creation sets the first status; a status op that supersedes values
  // (a pred) is a move and is judged as one, even in a change that also
  // writes $type with no pred (a re-creation could skip the lifecycle).
  if (status == nullptr || (creation && status->pred.empty()) || type != "violation_decision" ||
      status->value.kind() != crdt::Value::Kind::kString)
    return ContentFlag{};
  // The values the author saw (its pred) are where the decision moved from;
  // a resolution settles several, and any of them may lead to the new one.
  std::vector<std::string> from;
  if (status->pred.empty()) from.emplace_back();
  for (const auto& d : status->pred) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<crdt::Value> v, value_of(status->field, d));
    if (!v) return ContentFlag{};  // unknown here: not judged
    from.push_back(v->kind() == crdt::Value::Kind::kString ? v->text() : std::string());
  }
  for (const auto& f : from) {
    if (Validator::StatusTransitionAllowed(f, status->value.text())) return ContentFlag{};
  }
  return ContentFlag{"status_transition", "data.status"};
}

std::shared_ptr<const store::ContentChecker> MakeContentChecker(WriterOf writer_of) {
  return std::make_shared<ContentRules>(Lang::kEnglish, std::move(writer_of));
}

Result<std::string> DescribeFlag(store::Store& store, const store::FlaggedRecord& flagged,
                                 Lang lang, const WriterOf& writer_of) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec,
                          store.GetRecord(flagged.record_id, flagged.scope));
  if (!rec) return std::string();
  std::map<std::string, std::vector<store::RecordView>> cache;
  const store::ContentChecker::Lookup lookup =
      [&](std::string_view prefix) -> Result<const std::vector<store::RecordView>*> {
    auto it = cache.find(std::string(prefix));
    if (it == cache.end()) {
      TUPHAP_ASSIGN_OR_RETURN(std::vector<store::RecordView> rows,
                              store.RecordsWithPrefix(flagged.scope, prefix));
      it = cache.emplace(std::string(prefix), std::move(rows)).first;
    }
    return &it->second;
  };
  TUPHAP_ASSIGN_OR_RETURN(
      std::optional<ContentProblem> p,
      ContentRules(lang, writer_of).Check(flagged.scope, flagged.record_id, rec->state, lookup));
  if (p && p->flag == flagged.flag) return p->message;
  if (flagged.flag.reason == "status_transition") return Say(lang, kStatusHistoryText, {});
  return flagged.flag.reason + (flagged.flag.field.empty() ? "" : ": " + flagged.flag.field);
}

}  // namespace tuphap::domain
