// Dot: the unique name of one op — (origin, seq, index) = op `index` of the
// change number `seq` in `origin`'s feed for the record's scope. Dots are the
// identities a multi-value register keeps and an op's `pred` supersedes.
#pragma once

#include <compare>
#include <cstdint>

#include "crdt/replica_id.h"

namespace tuphap::crdt {

struct Dot {
  ReplicaId origin;
  uint64_t seq = 0;
  uint32_t index = 0;

  friend auto operator<=>(const Dot&, const Dot&) = default;
  friend bool operator==(const Dot&, const Dot&) = default;
};

}  // namespace tuphap::crdt
