// The materialised record as stored: one msgpack value per record.
//
//   record  = [1, changes, fields]
//   changes = [[origin_id, seq, hlc]...]   every change that touched the record,
//                                          in apply order (its history)
//   fields  = [[name, [[change_index, op_index, value]...]]...]
//             names sorted; entries sorted by dot (the field's frontier)
//
// origin_id is the store's local integer for an origin key, so the blob is
// compact; the state hash is computed over real keys so that it is equal on
// two stores exactly when their states are.
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

std::string EncodeRecordBlob(const crdt::RecordState& state, const std::vector<ChangeRef>& history,
                             const OriginMap& origins);
Status DecodeRecordBlob(std::string_view blob, const OriginMap& origins, crdt::RecordState* state,
                        std::vector<ChangeRef>* history);

// BLAKE2b-256 over (record_id, scope, every field's frontier with full dots).
replication::Hash RecordStateHash(std::string_view record_id, std::string_view scope,
                                  const crdt::RecordState& state);

}  // namespace tuphap::store
