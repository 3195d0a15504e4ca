#include "node/store/recon_hash.h"

#include <algorithm>

namespace tuphap::store {

uint64_t ReconPlace(std::string_view record_id) {
  const replication::Hash h = replication::Blake2b256(record_id);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
  return v;
}

ReconSummary FlatSummary(const ReconLeaf* first, const ReconLeaf* last) {
  if (first == last) return {};
  replication::Hasher h;
  for (const ReconLeaf* l = first; l != last; ++l)
    h.Update(std::string_view(reinterpret_cast<const char*>(l->leaf.data()), l->leaf.size()));
  return ReconSummary{static_cast<uint64_t>(last - first), Truncate16(h.Final())};
}

std::string EncodeKids(const ReconKids& kids) {
  std::string out;
  out.reserve(16 * 24);
  for (const auto& k : kids) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((k.records >> (8 * i)) & 0xFF));
    out.append(reinterpret_cast<const char*>(k.hash.data()), k.hash.size());
  }
  return out;
}

bool DecodeKids(std::string_view bytes, ReconKids* kids) {
  if (bytes.size() != 16 * 24) return false;
  for (size_t c = 0; c < 16; ++c) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + 24 * c;
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n = (n << 8) | p[i];
    (*kids)[c].records = n;
    std::copy_n(p + 8, 16, (*kids)[c].hash.begin());
  }
  return true;
}

ReconSummary InteriorSummary(const ReconKids& kids) {
  uint64_t n = 0;
  for (const auto& k : kids) n += k.records;
  if (n == 0) return {};
  return ReconSummary{n, Truncate16(replication::Blake2b256(EncodeKids(kids)))};
}

ReconSummary ScratchSummary(const ReconLeaf* first, const ReconLeaf* last, size_t depth) {
  if (depth >= kReconBucketDepth) return FlatSummary(first, last);
  ReconKids kids;
  const ReconLeaf* at = first;
  for (unsigned d = 0; d < 16; ++d) {
    const ReconLeaf* end = at;
    while (end != last && PlaceDigit(end->place, depth) == d) ++end;
    kids[d] = ScratchSummary(at, end, depth + 1);
    at = end;
  }
  return InteriorSummary(kids);
}

}  // namespace tuphap::store
