#include "crdt/change.h"

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
  for (const auto& r : records) {
    if (r.record_id.empty()) return bad("an op names no record");
    if (r.ops.empty()) return bad("record " + r.record_id + " has an empty op list");
    for (const auto& op : r.ops) {
      if (op.field.empty()) return bad("an op on " + r.record_id + " names no field");
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
