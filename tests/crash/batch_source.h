// Deterministic changes for the crash test and benchmarks: change `seq` of
// one feed creates record rec-<seq> with `fields` fields, except every fifth
// (seq % 5 == 0), which amends field 1 of the record created three (or
// four) changes before — so a run holds both creations and amendments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crdt/change.h"

namespace tuphap::testing_support {

inline crdt::ReplicaId BatchOrigin() { return crdt::ReplicaId::ForTest(0xC0FFEE); }

inline std::string BatchRecordId(uint64_t seq) { return "rec-" + std::to_string(seq); }

inline bool IsAmend(uint64_t seq, bool with_amends) { return with_amends && seq % 5 == 0; }

// Records created by changes 1..seq.
inline uint64_t CreatedUpTo(uint64_t seq, bool with_amends) {
  return with_amends ? seq - seq / 5 : seq;
}

inline crdt::Change BatchChange(uint64_t seq, int fields, bool with_amends = false) {
  crdt::Change c;
  c.origin = BatchOrigin();
  c.scope = "56001";
  c.seq = seq;
  c.hlc = crdt::Hlc::FromParts(1'751'328'000'000 + seq, 0);
  c.officer = "crash-test";
  if (IsAmend(seq, with_amends)) {
    const uint64_t target = (seq - 3) % 5 == 0 ? seq - 4 : seq - 3;
    c.reason = "correction";
    c.records.push_back({BatchRecordId(target),
                         {{"data.field_1",
                           crdt::Value::String("amended by " + std::to_string(seq)),
                           {crdt::Dot{c.origin, target, 1}}}}});
    return c;
  }
  crdt::RecordOps r{BatchRecordId(seq),
                    {{std::string(crdt::kTypeField), crdt::Value::String("birth"), {}}}};
  for (int f = 1; f < fields; ++f) {
    r.ops.push_back({"data.field_" + std::to_string(f),
                     crdt::Value::String("value " + std::to_string(seq) + "/" + std::to_string(f)),
                     {}});
  }
  c.records.push_back(std::move(r));
  return c;
}

}  // namespace tuphap::testing_support
