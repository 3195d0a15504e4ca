// The shape and hashes of reconcile's Merkle tree (docs/reconcile.md, "The
// tree"), shared by the store that maintains it and the code that checks
// it from scratch. No SQL here: hashing only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "replication/hash.h"

namespace tuphap::store {

// Interior nodes are hashes of their 16 children down to this many hex
// digits; a node this deep or deeper hashes its records' leaves in order.
inline constexpr size_t kReconBucketDepth = 4;

using Leaf16 = std::array<uint8_t, 16>;

struct ReconSummary {
  uint64_t records = 0;
  Leaf16 hash{};  // all zero for an empty node
  friend bool operator==(const ReconSummary&, const ReconSummary&) = default;
};

struct ReconLeaf {
  uint64_t place = 0;
  std::string record_id;
  Leaf16 leaf{};
};

using ReconKids = std::array<ReconSummary, 16>;

inline Leaf16 Truncate16(const replication::Hash& h) {
  Leaf16 out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = h[i];
  return out;
}

// A record's place: the first 8 bytes of BLAKE2b-256 of its id, big-endian.
uint64_t ReconPlace(std::string_view record_id);

// A node at kReconBucketDepth digits or deeper: BLAKE2b-256 over its
// records' leaves in (place, id) order, the first 16 bytes.
ReconSummary FlatSummary(const ReconLeaf* first, const ReconLeaf* last);

// A node above kReconBucketDepth: BLAKE2b-256 over its 16 children's
// (8-byte big-endian count, 16-byte hash), the first 16 bytes.
ReconSummary InteriorSummary(const ReconKids& kids);

// The 384 bytes of `kids` as the store keeps them (the same bytes
// InteriorSummary hashes), and back (false: not 384 bytes).
std::string EncodeKids(const ReconKids& kids);
bool DecodeKids(std::string_view bytes, ReconKids* kids);

// The summary of the node `depth` digits deep holding the (place, id)
// sorted leaves [first, last), computed from the leaves alone.
ReconSummary ScratchSummary(const ReconLeaf* first, const ReconLeaf* last, size_t depth);

// The digit `depth` (0-based) of a place.
inline unsigned PlaceDigit(uint64_t place, size_t depth) {
  return static_cast<unsigned>((place >> (60 - 4 * depth)) & 0xF);
}

}  // namespace tuphap::store
