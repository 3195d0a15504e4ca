#include "crdt/change.h"

#include <algorithm>

#include "base/utf8.h"

namespace tuphap::crdt {

size_t Change::OpCount() const {
  size_t n = 0;
  for (const auto& r : records) n += r.ops.size();
  return n;
}

VersionVector Change::Dependencies() const {
  VersionVector deps;
  for (const auto& r : records) {
    for (const auto& op : r.ops) {
      for (const auto& d : op.pred) {
        if (d.origin != origin && deps.Get(d.origin) < d.seq) deps.Set(d.origin, d.seq);
      }
    }
  }
  return deps;
}

Status Change::CheckShape() const {
  auto bad = [](std::string m) {
    return Status::InvalidArgument(std::move(m)).WithReason("E_CHANGE_SHAPE");
  };
  if (seq == 0) return bad("a change's seq starts at 1");
  if (records.empty()) return bad("a change has no ops");
  if (!IsValidUtf8(officer) || !IsValidUtf8(reason)) return bad("officer or reason is not UTF-8");
  // Repeats are found by sorting views: no allocation per name.
  auto repeated = [](std::vector<std::string_view>& names) -> std::string_view {
    if (!std::is_sorted(names.begin(), names.end())) std::sort(names.begin(), names.end());
    auto it = std::adjacent_find(names.begin(), names.end());
    return it == names.end() ? std::string_view() : *it;
  };
  std::vector<std::string_view> names;
  names.reserve(records.size());
  for (const auto& r : records) names.push_back(r.record_id);
  if (std::string_view twice = repeated(names); !twice.empty()) {
    return bad("record " + std::string(twice) + " appears twice in one change");
  }
  for (const auto& r : records) {
    if (r.record_id.empty()) return bad("an op names no record");
    if (!IsValidUtf8(r.record_id)) return bad("a record id is not UTF-8");
    if (r.ops.empty()) return bad("record " + r.record_id + " has an empty op list");
    names.clear();
    for (const auto& op : r.ops) names.push_back(op.field);
    // One officer action sets a field once: two values for one field in one
    // change would be a conflict with itself.
    if (std::string_view twice = repeated(names); !twice.empty()) {
      return bad("field " + std::string(twice) + " of " + r.record_id +
                 " is set twice in one change");
    }
    for (const auto& op : r.ops) {
      if (op.field.empty()) return bad("an op on " + r.record_id + " names no field");
      if (!IsValidUtf8(op.field)) return bad("a field name of " + r.record_id + " is not UTF-8");
      if (op.field[0] == '$') {
        // Reserved fields: the type is text; a revocation always has a
        // reason (a revoked record cannot be un-revoked by clearing it).
        if (op.field != kTypeField && op.field != kRevokedField) {
          return bad("unknown reserved field " + op.field);
        }
        if (op.value.kind() != Value::Kind::kString || op.value.text().empty()) {
          return bad(op.field + " of " + r.record_id + " must be non-empty text");
        }
      }
      if ((op.value.kind() == Value::Kind::kString || op.value.kind() == Value::Kind::kJson) &&
          !IsValidUtf8(op.value.text())) {
        return bad("a value of " + r.record_id + "." + op.field + " is not UTF-8");
      }
      for (const auto& d : op.pred) {
        if (d.seq == 0) return bad("a pred dot has seq 0");
        if (d.origin == origin && d.seq >= seq) {
          return bad("an op on " + r.record_id + " supersedes a later change of its own feed");
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace tuphap::crdt
