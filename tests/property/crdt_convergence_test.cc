// Property tests of the CRDT core (issue 2, deliverable 4). rapidcheck prints
// "Using configuration: seed=N" for every property; replay a failure with
//   RC_PARAMS="seed=N" ctest --test-dir build -R <test name> --output-on-failure
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

#include "tests/property/crdt_sim.h"

namespace tuphap::crdt::sim {
namespace {

rc::Gen<Step> GenStep() {
  return rc::gen::build<Step>(rc::gen::set(&Step::kind, rc::gen::inRange(0, 7)),
                              rc::gen::set(&Step::replica, rc::gen::inRange(0, 4)),
                              rc::gen::set(&Step::other, rc::gen::inRange(0, 4)),
                              rc::gen::set(&Step::record, rc::gen::inRange(0, 3)),
                              rc::gen::set(&Step::field, rc::gen::inRange(0, 4)),
                              rc::gen::set(&Step::value, rc::gen::inRange(0, 3)),
                              rc::gen::set(&Step::width, rc::gen::inRange(0, 2)));
}

struct History {
  int replicas;
  std::vector<Step> script;
};

rc::Gen<History> GenHistory() {
  return rc::gen::build<History>(
      rc::gen::set(&History::replicas, rc::gen::inRange(3, 5)),
      rc::gen::set(&History::script, rc::gen::container<std::vector<Step>>(GenStep())));
}

std::vector<Change> AllChanges(const World& w) {
  std::vector<Change> out;
  for (const auto& m : w.changes()) out.push_back(m.change);
  return out;
}

// Applying every change in a random arrival order, with duplicates, through
// the hold buffer gives the same state as the causal creation order.
RC_GTEST_PROP(ConvergenceProperty, AnyArrivalOrderWithDuplicatesGivesIdenticalState, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  w.SyncAll();
  const std::vector<Change> all = AllChanges(w);
  const ScopeState reference = ApplyWithHolding(all);
  for (int r = 0; r < w.replicas(); ++r) RC_ASSERT(w.state(r) == reference);

  const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
  Random rng(seed);
  for (int trial = 0; trial < 8; ++trial) {
    std::vector<Change> order = all;
    for (size_t i = 0; i < all.size() / 3 + 1 && !all.empty(); ++i) {
      order.push_back(all[rng.Uniform(all.size())]);  // duplicates
    }
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Uniform(i)]);
    RC_ASSERT(ApplyWithHolding(order) == reference);
  }
}

// Every causally valid order (a random topological order of the history,
// built by repeatedly picking any ready change) gives the same state.
RC_GTEST_PROP(ConvergenceProperty, EveryCausalOrderGivesIdenticalState, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  const std::vector<Change> all = AllChanges(w);
  const ScopeState reference = ApplyWithHolding(all);
  Random rng(*rc::gen::arbitrary<uint64_t>());
  for (int trial = 0; trial < 8; ++trial) {
    ScopeState s;
    std::vector<const Change*> pending;
    for (const auto& c : all) pending.push_back(&c);
    while (!pending.empty()) {
      std::vector<size_t> ready;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (s.IsReady(*pending[i])) ready.push_back(i);
      }
      RC_ASSERT(!ready.empty());
      size_t pick = ready[rng.Uniform(ready.size())];
      RC_ASSERT(s.Apply(*pending[pick]) == ScopeState::ApplyResult::kApplied);
      // Re-applying what is already in changes nothing.
      RC_ASSERT(s.Apply(*pending[pick]) == ScopeState::ApplyResult::kDuplicate);
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    RC_ASSERT(s == reference);
  }
}

// Join of replica states is commutative, associative and idempotent, and
// equals the state of applying the union of what the two replicas hold.
RC_GTEST_PROP(ConvergenceProperty, JoinIsCommutativeAssociativeIdempotent, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  const ScopeState& a = w.state(0);
  const ScopeState& b = w.state(1);
  const ScopeState& c = w.state(2);
  RC_ASSERT(ScopeState::Join(a, b) == ScopeState::Join(b, a));
  RC_ASSERT(ScopeState::Join(ScopeState::Join(a, b), c) ==
            ScopeState::Join(a, ScopeState::Join(b, c)));
  RC_ASSERT(ScopeState::Join(a, a) == a);

  std::vector<Change> union_changes;
  for (const auto& m : w.changes()) {
    const Change& ch = m.change;
    if (a.context().Get(ch.origin) >= ch.seq || b.context().Get(ch.origin) >= ch.seq) {
      union_changes.push_back(ch);
    }
  }
  RC_ASSERT(ScopeState::Join(a, b) == ApplyWithHolding(union_changes));
}

// A field is in conflict exactly when its frontier, computed from the
// history, holds ops that are pairwise concurrent with different values.
RC_GTEST_PROP(ConvergenceProperty, ConflictExactlyWhenConcurrentDifferentValues, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  w.SyncAll();
  const ScopeState& s = w.state(0);

  // Expected frontier per (record, field): ops on it that no op supersedes.
  std::map<std::pair<std::string, std::string>, std::set<Dot>> written, superseded;
  std::map<Dot, Value> value_of;
  for (const auto& m : w.changes()) {
    m.change.ForEachOp([&](const std::string& id, const Op& op, const Dot& dot) {
      written[{id, op.field}].insert(dot);
      value_of[dot] = op.value;
      for (const auto& p : op.pred) superseded[{id, op.field}].insert(p);
    });
  }
  size_t conflicts_seen = 0;
  for (const auto& [key, dots] : written) {
    std::vector<Dot> frontier;
    for (const auto& d : dots) {
      if (!superseded[key].count(d)) frontier.push_back(d);
    }
    const MvRegister* reg = s.Record(key.first)->Field(key.second);
    RC_ASSERT(reg != nullptr);
    RC_ASSERT(reg->Frontier() == frontier);
    std::set<Value> values;
    for (size_t i = 0; i < frontier.size(); ++i) {
      values.insert(value_of[frontier[i]]);
      for (size_t j = 0; j < frontier.size(); ++j) {
        if (i != j) RC_ASSERT(!w.HappensBefore(frontier[i], frontier[j]));  // concurrent
      }
    }
    RC_ASSERT(reg->InConflict() == (values.size() > 1));
    conflicts_seen += reg->InConflict();
  }
  RC_CLASSIFY(conflicts_seen > 0, "has conflicts");
}

// An op that covers the frontier clears the conflict on every replica it
// reaches, whatever replica resolved it.
RC_GTEST_PROP(ConvergenceProperty, ResolvingOpClearsConflictEverywhere, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  w.SyncAll();
  const int resolver = *rc::gen::inRange(0, w.replicas());
  w.ResolveAll(resolver);
  w.SyncAll();
  for (int r = 0; r < w.replicas(); ++r) {
    for (const auto& [id, rec] : w.state(r).records()) RC_ASSERT(rec.ConflictedFields().empty());
    RC_ASSERT(w.state(r) == w.state(0));
  }
}

// A resolve made on a partially synced replica: wherever it arrives, the
// field's frontier keeps only the resolving value and values the resolver
// never saw (concurrent writes). With none of those, no conflict is left.
RC_GTEST_PROP(ConvergenceProperty, ResolvingOpClearsWhatItSawWhereverItArrives, ()) {
  History h = *GenHistory();
  World w(h.replicas);
  w.Run(h.script);
  const int resolver = *rc::gen::inRange(0, w.replicas());
  // Make sure there is a conflict to resolve: two other replicas write
  // different values to one field without seeing each other.
  const int a = (resolver + 1) % w.replicas();
  const int b = (resolver + 2) % w.replicas();
  w.Edit(a, 0, 0, 1, 1);
  w.Sync(a, b);
  w.Edit(a, 0, 0, 0, 1);
  w.Edit(b, 0, 0, 2, 1);
  for (int i = 0; i < w.replicas(); ++i) w.Sync(i, resolver);  // it sees the conflicts
  const size_t before = w.changes().size();
  w.ResolveAll(resolver);
  RC_ASSERT(w.changes().size() > before);
  const size_t resolve_index = w.changes().size() - 1;
  // Others keep editing, concurrently with the resolve.
  for (const Step& st : *rc::gen::container<std::vector<Step>>(GenStep())) {
    const int r = st.replica % w.replicas();
    if (r != resolver && st.kind <= 2)
      w.Edit(r, st.record % 3, st.field % 4, st.value % 3, 1 + st.width % 2);
  }
  const Change resolve = w.changes()[resolve_index].change;
  size_t cleared = 0;
  for (int q = 0; q < w.replicas(); ++q) {
    w.Sync(resolver, q);
    resolve.ForEachOp([&](const std::string& id, const Op& op, const Dot& dot) {
      const MvRegister* reg = w.state(q).Record(id)->Field(op.field);
      RC_ASSERT(reg != nullptr);
      bool others = false;
      for (const auto& e : reg->entries()) {
        if (e.dot == dot) continue;
        RC_ASSERT(!w.HappensBefore(e.dot, dot));  // nothing the resolver saw survives
        others = others || e.value != op.value;
      }
      RC_ASSERT(reg->InConflict() == others);
      cleared += !others;
    });
  }
  RC_ASSERT(cleared > 0);
}

}  // namespace
}  // namespace tuphap::crdt::sim
