// The materialised record as stored: one msgpack value per record, whose
// first part is also what its state hash covers, so one encoding pass gives
// both.
//
//   blob    = [1, state, history]
//   state   = [record_id, scope, sources, fields]           <- state hash input
//   sources = [[origin: bin32, seq, hlc]...]  the changes the frontier's
//             entries come from, sorted by (origin, seq)
//   fields  = [[name, [[source_index, op_index, value]...]]...]
//             names sorted; entries sorted by dot (the field's frontier)
//   history = [[origin_id, seq, hlc]...]   every change that touched the
//             record, in apply order (local origin ids: not part of the state)
//
// The state part is canonical — equal bytes exactly when two stores hold
// the same frontier — so the state hash BLAKE2b(state) compares stores.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "node/store/types.h"

namespace tuphap::store {

// Maps between origin keys and the store's local ids.
struct OriginMap {
  std::function<int64_t(const crdt::ReplicaId&)> to_id;   // must succeed
  std::function<const crdt::ReplicaId*(int64_t)> to_key;  // nullptr if unknown
};

struct EncodedRecord {
  std::string blob;
  replication::Hash state_hash{};
};

EncodedRecord EncodeRecord(std::string_view record_id, std::string_view scope,
                           const crdt::RecordState& state, const std::vector<ChangeRef>& history,
                           const OriginMap& origins);
Status DecodeRecordBlob(std::string_view blob, const OriginMap& origins, crdt::RecordState* state,
                        std::vector<ChangeRef>* history);

// The bytes of a stored record blob that its state hash covers, as they are
// in the blob now; false when the blob no longer has the layout
// EncodeRecord writes.
bool StateBytesOfBlob(std::string_view blob, std::string_view* state);

// The state hash alone (what EncodeRecord computes).
replication::Hash RecordStateHash(std::string_view record_id, std::string_view scope,
                                  const crdt::RecordState& state);

}  // namespace tuphap::store
