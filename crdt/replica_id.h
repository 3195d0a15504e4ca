// ReplicaId: who wrote a change — the 32-byte Ed25519 public key of a node.
// A plain value: copyable, ordered (dots and version vectors sort by it).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>

namespace tuphap::crdt {

struct ReplicaId {
  std::array<uint8_t, 32> bytes{};

  // A deterministic id for tests and simulations: `n` in the last 8 bytes.
  static ReplicaId ForTest(uint64_t n) {
    ReplicaId id;
    for (int i = 0; i < 8; ++i) id.bytes[31 - i] = static_cast<uint8_t>(n >> (8 * i));
    return id;
  }
  std::string Hex() const;
  // First 8 hex digits: enough to tell nodes apart in debug output.
  std::string ShortHex() const { return Hex().substr(0, 8); }

  friend auto operator<=>(const ReplicaId&, const ReplicaId&) = default;
  friend bool operator==(const ReplicaId&, const ReplicaId&) = default;
};

}  // namespace tuphap::crdt
