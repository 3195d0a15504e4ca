// What the parts of reconcile share (internal to node/reconcile): the
// tree's shape and the per-query bounds both sides of the wire enforce
// (docs/reconcile.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tuphap::node::reconcile {

// A subtree this small is compared record by record.
inline constexpr uint64_t kLeafMax = 64;
inline constexpr size_t kMaxDepth = 16;  // hex digits of a 64-bit place
inline constexpr size_t kPrefixesPerQuery = 256;
inline constexpr size_t kRecordsPerQuery = 64;
// The digits of a tree path, in order.
inline constexpr char kHex[] = "0123456789abcdef";

}  // namespace tuphap::node::reconcile
