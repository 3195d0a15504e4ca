// ScopeState: every record of one scope plus the scope's causal context.
//
// This is the reference model of replication: the store in node/ keeps the
// same state in SQLite, and the property tests check both against the laws
// below. Apply takes changes in any causally valid order, ignores duplicates
// and refuses (kNotReady) a change whose feed predecessor or pred
// dependencies have not been applied. Join merges two replicas' states; it is
// commutative, associative and idempotent, and Join(a, b) equals the state
// reached by applying the union of their changes.
#pragma once

#include <map>
#include <string>

#include "crdt/change.h"
#include "crdt/record_state.h"
#include "crdt/version_vector.h"

namespace tuphap::crdt {

class ScopeState {
 public:
  enum class ApplyResult { kApplied, kDuplicate, kNotReady };

  ApplyResult Apply(const Change& change);
  // True when `change` is the next of its feed and its dependencies are met.
  bool IsReady(const Change& change) const;

  const VersionVector& context() const { return context_; }
  const std::map<std::string, RecordState, std::less<>>& records() const { return records_; }
  const RecordState* Record(std::string_view id) const;

  static ScopeState Join(const ScopeState& a, const ScopeState& b);

  friend bool operator==(const ScopeState&, const ScopeState&) = default;

 private:
  VersionVector context_;
  std::map<std::string, RecordState, std::less<>> records_;
};

}  // namespace tuphap::crdt
