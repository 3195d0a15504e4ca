#include "node/domain/indexer.h"

#include <algorithm>

#include "node/domain/person_rules.h"
#include "node/domain/schema.h"
#include "node/domain/vn_text.h"

namespace tuphap::domain {
namespace {

const crdt::Value* Winner(const crdt::RecordState& state, std::string_view field) {
  const crdt::MvRegister* reg = state.Field(field);
  const crdt::RegisterEntry* w = reg != nullptr ? reg->Winner() : nullptr;
  return w != nullptr ? &w->value : nullptr;
}

std::string WinnerText(const crdt::RecordState& state, std::string_view field) {
  const crdt::Value* v = Winner(state, field);
  return v != nullptr && v->kind() == crdt::Value::Kind::kString ? v->text() : std::string();
}

// As report::Winner reads it: a number as its digits.
std::string WinnerString(const crdt::RecordState& state, std::string_view field) {
  const crdt::Value* v = Winner(state, field);
  if (v == nullptr) return {};
  return v->kind() == crdt::Value::Kind::kInt ? std::to_string(v->as_int()) : v->text();
}

int64_t WinnerInt(const crdt::RecordState& state, std::string_view field) {
  const crdt::Value* v = Winner(state, field);
  return v != nullptr && v->kind() == crdt::Value::Kind::kInt ? v->as_int() : 0;
}

}  // namespace

std::optional<store::StatsFine> FineOf(const crdt::RecordState& state) {
  if (state.Type() != "violation_decision" ||
      WinnerString(state, "data.principal_penalty") != "fine")
    return std::nullopt;
  const std::string status = WinnerString(state, "data.status");
  if (status == "cancelled") return std::nullopt;
  // Amounts are counted within [0, 10^12] VND, far above any fine a
  // decision carries: a peer's record with an absurd amount must not
  // overflow the kept sums (SQLite's sum() fails on overflow, which would
  // stop the store from opening), while 9 million capped decisions still
  // fit one 64-bit sum.
  constexpr int64_t kMaxCountedVnd = 1'000'000'000'000;
  store::StatsFine f;
  f.issued_vnd = std::clamp<int64_t>(WinnerInt(state, "data.fine_amount_vnd"), 0, kMaxCountedVnd);
  if (status == "paid") {
    const int64_t paid = WinnerInt(state, "data.paid_amount_vnd");
    f.paid_vnd = paid > 0 ? std::min(paid, kMaxCountedVnd) : f.issued_vnd;
  }
  return f;
}

bool IsAdjudicated(std::string_view type, std::string_view field) {
  if (field == "version" || field.starts_with("edit_ids.")) return false;
  const FieldSpec* f = FindField(type, field);
  return f == nullptr || f->merge == Merge::kAdjudicate;
}

std::string SearchTerms(std::string_view query) {
  // Folded, then every run of letters/digits is a word: "18568-KS-2025-000001"
  // and "18568 ks 2025 000001" are the same words.
  const std::string folded = FoldForSearch(query);
  std::string out;
  bool in_word = false;
  for (char c : folded) {
    const bool word_char =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
    if (word_char) {
      if (!in_word && !out.empty()) out.push_back(' ');
      out.push_back(c);
    }
    in_word = word_char;
  }
  return out;
}

store::IndexEntry IndexRecord(std::string_view record_id, const crdt::RecordState& state) {
  store::IndexEntry e;
  e.event_date = WinnerText(state, "registered_at");
  e.fine = FineOf(state);
  const std::string type = state.Type();
  if (!IsRecordType(type)) return e;  // bookkeeping records (number leases) are not searched
  // The schema variant depends on two fields; build just those.
  Json probe = Json::MakeObject();
  Json data = Json::MakeObject();
  for (const char* key : {"violator_kind", "event_type"}) {
    const std::string v = WinnerText(state, std::string("data.") + key);
    if (!v.empty()) data.Set(key, v);
  }
  probe.Set("data", std::move(data));
  const TypeSchema* schema = SchemaFor(type, probe);
  std::string text = SearchTerms(record_id);
  if (schema != nullptr) {
    for (const auto& path : schema->name_paths) {
      const std::string name = WinnerText(state, path);
      if (name.empty()) continue;
      text += " " + SearchTerms(name);
      e.display += (e.display.empty() ? "" : "; ") + name;
    }
    for (const auto& path : schema->id_paths) {
      const std::string id = WinnerText(state, path);
      if (!id.empty()) text += " " + SearchTerms(id);
    }
  }
  e.search_text = std::move(text);
  // Every competing value of a field in conflict: a person is linked by
  // each ID the record may hold until a person settles it.
  const ValuesAt values = [&](std::string_view path) {
    std::vector<std::string> out;
    if (const crdt::MvRegister* reg = state.Field(path)) {
      for (const auto& entry : reg->entries()) {
        if (entry.value.kind() != crdt::Value::Kind::kString) continue;
        if (std::find(out.begin(), out.end(), entry.value.text()) == out.end())
          out.push_back(entry.value.text());
      }
    }
    return out;
  };
  e.persons = PersonRefsOf(type, values);
  e.duplicate_key = DuplicateKeyOf(type, values);
  return e;
}

}  // namespace tuphap::domain
