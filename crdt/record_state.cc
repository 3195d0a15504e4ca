#include "crdt/record_state.h"

#include <algorithm>
#include <iterator>

#include "crdt/sorted_merge.h"

namespace tuphap::crdt {

namespace {

struct NameLess {
  bool operator()(const RecordState::NamedRegister& a, std::string_view b) const {
    return a.first < b;
  }
  bool operator()(const RecordState::NamedRegister& a, const RecordState::NamedRegister& b) const {
    return a.first < b.first;
  }
};

}  // namespace

MvRegister& RecordState::MutableField(std::string_view name) {
  // Decoding appends fields in order: check the end first.
  if (fields_.empty() || fields_.back().first < name) {
    fields_.emplace_back(std::string(name), MvRegister{});
    return fields_.back().second;
  }
  auto it = std::lower_bound(fields_.begin(), fields_.end(), name, NameLess());
  if (it == fields_.end() || it->first != name)
    it = fields_.emplace(it, std::string(name), MvRegister{});
  return it->second;
}

bool RecordState::ApplyOp(const Dot& dot, Hlc hlc, const Op& op) {
  return MutableField(op.field).Apply(RegisterEntry{dot, hlc, op.value}, op.pred);
}

void RecordState::ApplyOps(const ReplicaId& origin, uint64_t seq, uint32_t first_index, Hlc hlc,
                           std::vector<Op>& ops, bool consume) {
  std::vector<NamedRegister> added;
  uint32_t index = first_index;
  for (Op& op : ops) {
    RegisterEntry entry{Dot{origin, seq, index++}, hlc, consume ? std::move(op.value) : op.value};
    auto it = std::lower_bound(fields_.begin(), fields_.end(), op.field, NameLess());
    if (it != fields_.end() && it->first == op.field) {
      it->second.Apply(std::move(entry), op.pred);
      continue;
    }
    // A new field: its register is just this entry (pred names nothing here).
    MvRegister reg;
    reg.Apply(std::move(entry), {});
    added.emplace_back(consume ? std::move(op.field) : op.field, std::move(reg));
  }
  if (added.empty()) return;
  if (!std::is_sorted(added.begin(), added.end(), NameLess()))
    std::sort(added.begin(), added.end(), NameLess());
  if (fields_.empty()) {
    fields_ = std::move(added);
    return;
  }
  std::vector<NamedRegister> merged;
  merged.reserve(fields_.size() + added.size());
  std::merge(std::make_move_iterator(fields_.begin()), std::make_move_iterator(fields_.end()),
             std::make_move_iterator(added.begin()), std::make_move_iterator(added.end()),
             std::back_inserter(merged), NameLess());
  fields_ = std::move(merged);
}

const MvRegister* RecordState::Field(std::string_view name) const {
  auto it = std::lower_bound(fields_.begin(), fields_.end(), name, NameLess());
  return it == fields_.end() || it->first != name ? nullptr : &it->second;
}

std::string RecordState::Type() const {
  const MvRegister* r = Field(kTypeField);
  const RegisterEntry* w = r != nullptr ? r->Winner() : nullptr;
  return w != nullptr ? w->value.text() : std::string();
}

bool RecordState::Revoked() const {
  const MvRegister* r = Field(kRevokedField);
  const RegisterEntry* w = r != nullptr ? r->Winner() : nullptr;
  return w != nullptr && !w->value.is_null();
}

std::vector<std::string> RecordState::ConflictedFields() const {
  std::vector<std::string> out;
  for (const auto& [name, reg] : fields_) {
    if (reg.InConflict()) out.push_back(name);
  }
  return out;
}

bool RecordState::DuplicateCreation() const {
  const MvRegister* r = Field(kTypeField);
  return r != nullptr && r->size() > 1;
}

RecordState RecordState::Join(const RecordState& a, const VersionVector& context_a,
                              const RecordState& b, const VersionVector& context_b) {
  static const MvRegister kEmpty;
  RecordState out;
  MergeWalk(a.fields_, b.fields_,
            [&](const std::string& name, const MvRegister* ra, const MvRegister* rb) {
              MvRegister joined =
                  MvRegister::Join(ra ? *ra : kEmpty, context_a, rb ? *rb : kEmpty, context_b);
              if (!joined.empty()) out.fields_.emplace_back(name, std::move(joined));  // in order
            });
  return out;
}

}  // namespace tuphap::crdt
