// Deterministic batches for the crash test and benchmarks: batch k holds
// changes (k-1)*size+1 .. k*size of one feed, each creating one record with
// `fields` fields, chained as drafts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crdt/change.h"
#include "node/store/store.h"

namespace tuphap::testing_support {

inline crdt::ReplicaId BatchOrigin() { return crdt::ReplicaId::ForTest(0xC0FFEE); }

inline std::string BatchRecordId(uint64_t seq) { return "rec-" + std::to_string(seq); }

inline crdt::Change BatchChange(uint64_t seq, int fields) {
  crdt::Change c;
  c.origin = BatchOrigin();
  c.scope = "56001";
  c.seq = seq;
  c.hlc = crdt::Hlc::FromParts(1'751'328'000'000 + seq, 0);
  c.officer = "crash-test";
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
