#include "crdt/record_state.h"

#include "crdt/sorted_merge.h"

namespace tuphap::crdt {

bool RecordState::ApplyOp(const Dot& dot, Hlc hlc, const Op& op) {
  auto it = fields_.find(op.field);
  if (it == fields_.end()) it = fields_.emplace(op.field, MvRegister{}).first;
  return it->second.Apply(RegisterEntry{dot, hlc, op.value}, op.pred);
}

const MvRegister* RecordState::Field(std::string_view name) const {
  auto it = fields_.find(name);
  return it == fields_.end() ? nullptr : &it->second;
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
  return r != nullptr && r->entries().size() > 1;
}

RecordState RecordState::Join(const RecordState& a, const VersionVector& context_a,
                              const RecordState& b, const VersionVector& context_b) {
  static const MvRegister kEmpty;
  RecordState out;
  MergeWalk(a.fields_, b.fields_,
            [&](const std::string& name, const MvRegister* ra, const MvRegister* rb) {
              MvRegister joined =
                  MvRegister::Join(ra ? *ra : kEmpty, context_a, rb ? *rb : kEmpty, context_b);
              if (!joined.empty()) out.fields_.emplace(name, std::move(joined));
            });
  return out;
}

}  // namespace tuphap::crdt
