// RecordState: one record's fields, each a multi-value register.
// The record's type lives in the reserved field "$type" (set at creation),
// its revocation in "$revoked". Fields are kept sorted by name so encodings
// and hashes of equal states are equal bytes.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/change.h"
#include "crdt/mv_register.h"

namespace tuphap::crdt {

class RecordState {
 public:
  // Applies one op (causal delivery assumed). Returns true when it changed
  // the state.
  bool ApplyOp(const Dot& dot, Hlc hlc, const Op& op);

  const MvRegister* Field(std::string_view name) const;
  MvRegister& MutableField(const std::string& name) { return fields_[name]; }
  const std::map<std::string, MvRegister, std::less<>>& fields() const { return fields_; }

  // The display value of "$type"; empty when the record was never created.
  std::string Type() const;
  bool Revoked() const;
  // Fields holding concurrent different values, by name.
  std::vector<std::string> ConflictedFields() const;
  // A create op arrived for a record that already had one: two registrations
  // claimed the same id (e.g. the same register number from a restored backup).
  bool DuplicateCreation() const;

  static RecordState Join(const RecordState& a, const VersionVector& context_a,
                          const RecordState& b, const VersionVector& context_b);

  friend bool operator==(const RecordState&, const RecordState&) = default;

 private:
  std::map<std::string, MvRegister, std::less<>> fields_;
};

}  // namespace tuphap::crdt
