// Change and Op: the unit of replication and its parts (DESIGN.md, data model).
//
// A Change is one officer action, appended to its origin's feed for one
// scope as seq = 1, 2, 3... It carries a hybrid-logical timestamp, the
// officer's id and ops grouped by record. Op number i of a change (counting
// across all its records, in order) has the dot (origin, seq, i).
//
// Two field names are reserved: kTypeField is set once when a record is
// created, kRevokedField holds the revocation reason (a revoked record is
// never deleted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crdt/dot.h"
#include "crdt/hlc.h"
#include "crdt/value.h"
#include "crdt/version_vector.h"

namespace tuphap::crdt {

inline constexpr std::string_view kTypeField = "$type";
inline constexpr std::string_view kRevokedField = "$revoked";

struct Op {
  std::string field;
  Value value;
  std::vector<Dot> pred;  // the frontier dots the author saw for this field

  friend bool operator==(const Op&, const Op&) = default;
};

struct RecordOps {
  std::string record_id;
  std::vector<Op> ops;

  friend bool operator==(const RecordOps&, const RecordOps&) = default;
};

struct Change {
  ReplicaId origin;
  std::string scope;
  uint64_t seq = 0;
  Hlc hlc;
  std::string officer;
  std::string reason;  // why, in the officer's words (may be empty)
  std::vector<RecordOps> records;

  size_t OpCount() const;
  // Calls fn(record_id, op, dot) for every op in dot order.
  template <class Fn>
  void ForEachOp(Fn&& fn) const {
    uint32_t index = 0;
    for (const auto& r : records) {
      for (const auto& op : r.ops) fn(r.record_id, op, Dot{origin, seq, index++});
    }
  }
  // The highest seq this change needs from each *other* origin: the dots
  // named in its preds must be applied before it (causal delivery).
  VersionVector Dependencies() const;
  // Structural rules any change must meet, made here or received: at least
  // one op; text is UTF-8; a record appears once and a field once per record
  // (one action sets a field once); reserved fields are $type and $revoked
  // only, with non-empty text; preds of this origin name earlier changes.
  // InvalidArgument (reason E_CHANGE_SHAPE) otherwise.
  Status CheckShape() const;

  friend bool operator==(const Change&, const Change&) = default;
};

}  // namespace tuphap::crdt
