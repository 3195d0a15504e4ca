// MvRegister: a multi-value register, the state of one field.
//
// It holds the field's *frontier*: every written value whose dot no known op
// has superseded. One value (or several equal ones): settled. Several
// different values: a conflict, kept until a person resolves it with an op
// whose `pred` covers the whole frontier.
//
// Updates are op-based and need causal delivery (an op arrives after every op
// it names in `pred`); the store and ScopeState guarantee that. Join is the
// state-based merge of a DotFun under version-vector causal contexts
// (Almeida, Shoker, Baquero, "Delta State Replicated Data Types", JPDC 2018,
// section 7.1 "dot stores"): an entry survives if both sides hold it, or one
// side holds it and the other side's context has not seen its dot.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "crdt/dot.h"
#include "crdt/hlc.h"
#include "crdt/value.h"
#include "crdt/version_vector.h"

namespace tuphap::crdt {

struct RegisterEntry {
  Dot dot;
  Hlc hlc;
  Value value;

  friend bool operator==(const RegisterEntry&, const RegisterEntry&) = default;
};

// Display order: the winner of a field is the greatest (hlc, origin, seq, index).
bool DisplayLess(const RegisterEntry& a, const RegisterEntry& b);

class MvRegister {
 public:
  // Removes the entries whose dots are in `pred`, then adds `entry` unless an
  // entry with its dot is present. Returns true when the frontier changed.
  bool Apply(RegisterEntry entry, std::span<const Dot> pred);

  // Entries sorted by dot.
  std::span<const RegisterEntry> entries() const {
    if (!spilled_.empty()) return spilled_;
    return has_one_ ? std::span<const RegisterEntry>(&one_, 1) : std::span<const RegisterEntry>();
  }
  size_t size() const { return spilled_.empty() ? (has_one_ ? 1 : 0) : spilled_.size(); }
  bool empty() const { return size() == 0; }
  // The deterministic display value; nullptr when empty.
  const RegisterEntry* Winner() const;
  // True when the frontier holds two or more different values.
  bool InConflict() const;
  // The dots an op that has seen this state lists in `pred`.
  std::vector<Dot> Frontier() const;

  static MvRegister Join(const MvRegister& a, const VersionVector& context_a, const MvRegister& b,
                         const VersionVector& context_b);

  // Inserts an entry as stored (decoding a persisted frontier); keeps order.
  void InsertStored(RegisterEntry entry);

  friend bool operator==(const MvRegister& a, const MvRegister& b) {
    const auto ea = a.entries();
    const auto eb = b.entries();
    return std::equal(ea.begin(), ea.end(), eb.begin(), eb.end());
  }

 private:
  // Most fields hold one value: it lives inline, with no allocation. Two or
  // more (a conflict, or concurrent equal writes) spill into a vector.
  void Spill();
  RegisterEntry one_;
  bool has_one_ = false;
  std::vector<RegisterEntry> spilled_;  // sorted by dot, unique dots; empty unless 2+
};

}  // namespace tuphap::crdt
