#include "crdt/scope_state.h"

#include "crdt/sorted_merge.h"

namespace tuphap::crdt {

bool ScopeState::IsReady(const Change& change) const {
  if (context_.Get(change.origin) + 1 != change.seq) return false;
  return context_.Dominates(change.Dependencies());
}

ScopeState::ApplyResult ScopeState::Apply(const Change& change) {
  if (change.seq <= context_.Get(change.origin)) return ApplyResult::kDuplicate;
  if (!IsReady(change)) return ApplyResult::kNotReady;
  change.ForEachOp([&](const std::string& record_id, const Op& op, const Dot& dot) {
    auto it = records_.find(record_id);
    if (it == records_.end()) it = records_.emplace(record_id, RecordState{}).first;
    it->second.ApplyOp(dot, change.hlc, op);
  });
  context_.Set(change.origin, change.seq);
  return ApplyResult::kApplied;
}

const RecordState* ScopeState::Record(std::string_view id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

ScopeState ScopeState::Join(const ScopeState& a, const ScopeState& b) {
  static const RecordState kEmpty;
  ScopeState out;
  MergeWalk(a.records_, b.records_,
            [&](const std::string& id, const RecordState* ra, const RecordState* rb) {
              RecordState joined =
                  RecordState::Join(ra ? *ra : kEmpty, a.context_, rb ? *rb : kEmpty, b.context_);
              if (!joined.fields().empty()) out.records_.emplace(id, std::move(joined));
            });
  out.context_ = a.context_;
  out.context_.MergeWith(b.context_);
  return out;
}

}  // namespace tuphap::crdt
