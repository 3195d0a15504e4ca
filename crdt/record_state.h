// RecordState: one record's fields, each a multi-value register.
// The record's type lives in the reserved field "$type" (set at creation),
// its revocation in "$revoked". Fields are kept sorted by name so encodings
// and hashes of equal states are equal bytes.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crdt/change.h"
#include "crdt/mv_register.h"

namespace tuphap::crdt {

class RecordState {
 public:
  using NamedRegister = std::pair<std::string, MvRegister>;

  // Applies one op (causal delivery assumed). Returns true when it changed
  // the state.
  bool ApplyOp(const Dot& dot, Hlc hlc, const Op& op);
  // Applies the ops of one record block of a change; op i has the dot
  // (origin, seq, first_index + i). Same result as ApplyOp one by one, but
  // new fields are sorted in once, and with `consume` names and values are
  // moved out of `ops` instead of copied (the hot path of ingest).
  void ApplyOps(const ReplicaId& origin, uint64_t seq, uint32_t first_index, Hlc hlc,
                std::vector<Op>& ops, bool consume);

  const MvRegister* Field(std::string_view name) const;
  // The field's register, created (empty) if absent.
  MvRegister& MutableField(std::string_view name);
  // Fields sorted by name.
  const std::vector<NamedRegister>& fields() const { return fields_; }

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
  std::vector<NamedRegister> fields_;  // sorted by name, unique: a flat map
};

}  // namespace tuphap::crdt
