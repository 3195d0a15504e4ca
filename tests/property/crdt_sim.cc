#include "tests/property/crdt_sim.h"

#include <string>

namespace tuphap::crdt::sim {
namespace {

std::string RecordName(int i) { return "rec-" + std::to_string(i); }
std::string FieldName(int i) { return "data.f" + std::to_string(i); }

}  // namespace

World::World(int replicas) : states_(static_cast<size_t>(replicas)) {}

Change World::NewChange(int r) {
  Change c;
  c.origin = ReplicaId::ForTest(static_cast<uint64_t>(r) + 1);
  c.scope = "18568";
  c.seq = states_[r].context().Get(c.origin) + 1;
  // Stamps advance with the script but may tie across replicas, so the
  // display winner also exercises the origin tie-break.
  tick_ += r % 2;
  c.hlc = Hlc::FromParts(tick_, static_cast<uint16_t>(c.seq));
  c.officer = "officer-" + std::to_string(r);
  return c;
}

void World::Commit(int r, Change c) {
  MadeChange m{c, states_[r].context()};
  auto result = states_[r].Apply(c);
  (void)result;  // always kApplied: a replica's own next change is ready
  index_[{c.origin, c.seq}] = made_.size();
  made_.push_back(std::move(m));
}

void World::Edit(int r, int record, int field, int value, int width) {
  Change c = NewChange(r);
  RecordOps ops{RecordName(record), {}};
  const RecordState* existing = states_[r].Record(ops.record_id);
  if (existing == nullptr) ops.ops.push_back({std::string(kTypeField), Value::String("birth"), {}});
  for (int k = 0; k < width; ++k) {
    std::string name = FieldName((field + k) % 4);
    std::vector<Dot> pred;
    if (existing != nullptr && existing->Field(name) != nullptr)
      pred = existing->Field(name)->Frontier();
    ops.ops.push_back({name, Value::String("v" + std::to_string(value)), std::move(pred)});
  }
  c.records.push_back(std::move(ops));
  Commit(r, std::move(c));
}

void World::Revoke(int r, int record, int value) {
  const RecordState* existing = states_[r].Record(RecordName(record));
  if (existing == nullptr) return;
  Change c = NewChange(r);
  std::vector<Dot> pred;
  if (const MvRegister* f = existing->Field(kRevokedField)) pred = f->Frontier();
  c.records.push_back(
      {RecordName(record),
       {{std::string(kRevokedField), Value::String("reason " + std::to_string(value)), pred}}});
  Commit(r, std::move(c));
}

void World::ResolveAll(int r) {
  Change c = NewChange(r);
  for (const auto& [id, rec] : states_[r].records()) {
    RecordOps ops{id, {}};
    for (const auto& name : rec.ConflictedFields()) {
      const MvRegister* f = rec.Field(name);
      ops.ops.push_back({name, f->Winner()->value, f->Frontier()});
    }
    if (!ops.ops.empty()) c.records.push_back(std::move(ops));
  }
  if (!c.records.empty()) Commit(r, std::move(c));
}

void World::Sync(int from, int to) {
  if (from == to) return;
  // made_ is in creation order, which is causal: one pass suffices.
  for (const auto& m : made_) {
    if (states_[from].context().Get(m.change.origin) >= m.change.seq) states_[to].Apply(m.change);
  }
}

void World::SyncAll() {
  for (int i = 0; i < replicas(); ++i) Sync(i, 0);
  for (int i = 1; i < replicas(); ++i) Sync(0, i);
}

void World::Run(const std::vector<Step>& script) {
  const int n = replicas();
  for (const auto& s : script) {
    int r = s.replica % n;
    switch (s.kind) {
      case 0:
      case 1:
      case 2:
        Edit(r, s.record % 3, s.field % 4, s.value % 3, 1 + s.width % 2);
        break;
      case 3:
        ResolveAll(r);
        break;
      case 4:
      case 5:
        Sync(s.other % n, r);
        break;
      default:
        Revoke(r, s.record % 3, s.value % 2);
        break;
    }
  }
}

bool World::HappensBefore(const Dot& a, const Dot& b) const {
  if (a.origin == b.origin) return a.seq < b.seq;
  const MadeChange& mb = made_[index_.at({b.origin, b.seq})];
  return mb.seen.Get(a.origin) >= a.seq;
}

ScopeState ApplyWithHolding(const std::vector<Change>& changes) {
  ScopeState s;
  std::vector<const Change*> held;
  for (const auto& c : changes) {
    if (s.Apply(c) == ScopeState::ApplyResult::kNotReady) {
      held.push_back(&c);
      continue;
    }
    // A change landed: retry the held ones until nothing more applies.
    bool progress = true;
    while (progress) {
      progress = false;
      for (auto it = held.begin(); it != held.end();) {
        auto r = s.Apply(**it);
        if (r == ScopeState::ApplyResult::kNotReady) {
          ++it;
        } else {
          it = held.erase(it);
          progress = true;
        }
      }
    }
  }
  return s;
}

}  // namespace tuphap::crdt::sim
