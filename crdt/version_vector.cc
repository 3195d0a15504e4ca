#include "crdt/version_vector.h"

namespace tuphap::crdt {

uint64_t VersionVector::Get(const ReplicaId& origin) const {
  auto it = entries_.find(origin);
  return it == entries_.end() ? 0 : it->second;
}

void VersionVector::Set(const ReplicaId& origin, uint64_t seq) {
  if (seq == 0) {
    entries_.erase(origin);
  } else {
    entries_[origin] = seq;
  }
}

void VersionVector::MergeWith(const VersionVector& other) {
  for (const auto& [origin, seq] : other.entries_) {
    uint64_t& mine = entries_[origin];
    if (seq > mine) mine = seq;
  }
}

bool VersionVector::Dominates(const VersionVector& other) const {
  for (const auto& [origin, seq] : other.entries_) {
    if (Get(origin) < seq) return false;
  }
  return true;
}

VersionVector::Order VersionVector::Compare(const VersionVector& other) const {
  const bool ge = Dominates(other);
  const bool le = other.Dominates(*this);
  if (ge && le) return Order::kEqual;
  if (le) return Order::kBefore;
  if (ge) return Order::kAfter;
  return Order::kConcurrent;
}

}  // namespace tuphap::crdt
