#include "crdt/record_state.h"

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
  RecordState out;
  static const MvRegister kEmpty;
  auto ia = a.fields_.begin();
  auto ib = b.fields_.begin();
  while (ia != a.fields_.end() || ib != b.fields_.end()) {
    const std::string* name;
    const MvRegister* ra = &kEmpty;
    const MvRegister* rb = &kEmpty;
    if (ib == b.fields_.end() || (ia != a.fields_.end() && ia->first < ib->first)) {
      name = &ia->first;
      ra = &ia->second;
      ++ia;
    } else if (ia == a.fields_.end() || ib->first < ia->first) {
      name = &ib->first;
      rb = &ib->second;
      ++ib;
    } else {
      name = &ia->first;
      ra = &ia->second;
      rb = &ib->second;
      ++ia;
      ++ib;
    }
    MvRegister joined = MvRegister::Join(*ra, context_a, *rb, context_b);
    if (!joined.empty()) out.fields_.emplace(*name, std::move(joined));
  }
  return out;
}

}  // namespace tuphap::crdt
