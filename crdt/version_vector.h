// VersionVector: for each origin, the highest change seq included. Within a
// scope every feed is applied contiguously (1..n, no gaps), so a version
// vector is also the scope's causal context: it covers a dot when
// vv[dot.origin] >= dot.seq.
#pragma once

#include <cstdint>
#include <map>

#include "crdt/dot.h"

namespace tuphap::crdt {

class VersionVector {
 public:
  enum class Order { kEqual, kBefore, kAfter, kConcurrent };

  uint64_t Get(const ReplicaId& origin) const;
  void Set(const ReplicaId& origin, uint64_t seq);
  // Pointwise maximum.
  void MergeWith(const VersionVector& other);
  bool Covers(const Dot& dot) const { return Get(dot.origin) >= dot.seq; }
  // True when every entry of `other` is <= ours.
  bool Dominates(const VersionVector& other) const;
  Order Compare(const VersionVector& other) const;
  const std::map<ReplicaId, uint64_t>& entries() const { return entries_; }

  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  std::map<ReplicaId, uint64_t> entries_;  // never holds a zero
};

}  // namespace tuphap::crdt
