#include "crdt/replica_id.h"

namespace tuphap::crdt {

std::string ReplicaId::Hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

}  // namespace tuphap::crdt
