// A node key as SQLite holds it: a 32-byte BLOB. Shared by the store's
// tables of peers and of receipts (store-internal).
#pragma once

#include <algorithm>
#include <string_view>

#include "crdt/replica_id.h"

namespace tuphap::store {

inline std::string_view Blob(const crdt::ReplicaId& k) {
  return {reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()};
}

// False when `blob` is not a key's length (a damaged row).
inline bool ReadKey(std::string_view blob, crdt::ReplicaId* key) {
  if (blob.size() != key->bytes.size()) return false;
  std::copy(blob.begin(), blob.end(), key->bytes.begin());
  return true;
}

}  // namespace tuphap::store
