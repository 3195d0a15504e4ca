// A small in-memory world for the CRDT property tests: N replicas, each with
// its own feed and ScopeState, driven by a script of edits, resolves and
// pairwise syncs. Every change ever made is kept so that tests can replay
// them in other orders and compute the expected frontier from the history.
#pragma once

#include <map>
#include <vector>

#include "base/random.h"
#include "crdt/scope_state.h"

namespace tuphap::crdt::sim {

struct Step {
  int kind = 0;     // 0,1,2 edit; 3 resolve; 4,5 sync; 6 revoke
  int replica = 0;  // who acts
  int other = 0;    // sync partner
  int record = 0;   // which record (of a few)
  int field = 0;    // which field (of a few)
  int value = 0;    // which value (of a few)
  int width = 1;    // fields touched by one edit
};

struct MadeChange {
  Change change;
  VersionVector seen;  // what its author had applied when it wrote it
};

class World {
 public:
  explicit World(int replicas);

  void Run(const std::vector<Step>& script);
  void Edit(int r, int record, int field, int value, int width);
  void Revoke(int r, int record, int value);
  // An op on every conflicted field of replica r, with pred = its frontier.
  void ResolveAll(int r);
  // `to` applies every change `from` has.
  void Sync(int from, int to);
  void SyncAll();

  const ScopeState& state(int r) const { return states_[r]; }
  int replicas() const { return static_cast<int>(states_.size()); }
  // Every change made, in creation order (a causally valid order).
  const std::vector<MadeChange>& changes() const { return made_; }
  // True when change a is in the causal past of change b.
  bool HappensBefore(const Dot& a, const Dot& b) const;

 private:
  Change NewChange(int r);
  void Commit(int r, Change c);

  std::vector<ScopeState> states_;
  std::vector<MadeChange> made_;
  std::map<std::pair<ReplicaId, uint64_t>, size_t> index_;  // (origin, seq) -> made_ index
  uint64_t tick_ = 1'750'000'000'000;
};

// Applies `changes` in the given order through a hold buffer, as a store
// does: a change that is not ready waits until it is.
ScopeState ApplyWithHolding(const std::vector<Change>& changes);

}  // namespace tuphap::crdt::sim
