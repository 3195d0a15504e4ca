// Reconcile's Merkle tree kept in the store (schema 14, docs/reconcile.md):
// each record's leaf is written when the record is, in the order of the
// tree, so a node's summary is one range read of 16-byte leaves and their
// hashes, never a pass over the records. The nodes above the leaves are not
// stored: keeping them cost ingest a fifth of its speed (measured:
// docs/architecture.md), and a node is computed from its range of leaves
// when a reconcile asks for it.
#include <algorithm>

#include "node/store/record_codec.h"
#include "node/store/store.h"

namespace tuphap::store {
namespace {

// SQLite compares integers signed: the top bit flipped keeps the order of
// the unsigned places.
int64_t Stored(uint64_t place) { return static_cast<int64_t>(place ^ (uint64_t{1} << 63)); }
uint64_t Place(int64_t stored) { return static_cast<uint64_t>(stored) ^ (uint64_t{1} << 63); }

Leaf16 LeafOf(std::string_view blob) {
  Leaf16 l{};
  std::copy_n(blob.begin(), std::min(blob.size(), l.size()), l.begin());
  return l;
}

}  // namespace

Status Store::WriteReconLeaf(std::string_view scope, std::string_view record_id,
                             const replication::Hash& state_hash) {
  const uint64_t place = ReconPlace(record_id);
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("INSERT INTO recon_leaves(scope, place, record_id, leaf) "
                           "VALUES(?, ?, ?, ?) ON CONFLICT(scope, place, record_id) DO UPDATE "
                           "SET leaf = excluded.leaf"));
  TUPHAP_RETURN_IF_ERROR(
      q.Bind(1, scope)
          .Bind(2, Stored(place))
          .Bind(3, record_id)
          .BindBlob(4, std::string_view(reinterpret_cast<const char*>(state_hash.data()), 16))
          .Run());
  return Status::Ok();
}

Result<ReconKids> Store::ReconChildren(std::string_view scope, std::string_view prefix) {
  AssertOwnerThread();
  ReconKids kids{};
  if (prefix.size() >= 16) return Status::InvalidArgument("no children below 16 digits");
  uint64_t v = 0;
  for (char c : prefix) v = (v << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  // Each child from its own range of leaves: one child's leaves in memory
  // at a time (a sixteenth of the node's), summarised as the tree's shape
  // says (recon_hash.h: interior above kReconBucketDepth, flat below).
  const size_t depth = prefix.size() + 1;
  const unsigned shift = static_cast<unsigned>(64 - 4 * depth);
  for (uint64_t d = 0; d < 16; ++d) {
    const uint64_t lo = ((v << 4) | d) << shift;
    const uint64_t hi = lo | ((uint64_t{1} << shift) - 1);
    TUPHAP_ASSIGN_OR_RETURN(std::vector<ReconLeaf> leaves,
                            ReconLeaves(scope, lo, hi, kMaxReconLeavesRead));
    kids[d] = ScratchSummary(leaves.data(), leaves.data() + leaves.size(), depth);
  }
  return kids;
}

Result<ReconSummary> Store::ReconRoot(std::string_view scope) {
  TUPHAP_ASSIGN_OR_RETURN(ReconKids kids, ReconChildren(scope, ""));
  return InteriorSummary(kids);
}

Result<std::vector<ReconLeaf>> Store::ReconLeaves(std::string_view scope, uint64_t lo, uint64_t hi,
                                                  size_t max) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT place, record_id, leaf FROM recon_leaves WHERE scope = ? AND "
                           "place BETWEEN ? AND ? ORDER BY place, record_id"));
  q.Bind(1, scope).Bind(2, Stored(lo)).Bind(3, Stored(hi));
  std::vector<ReconLeaf> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (out.size() == max) {
      return Status::ResourceExhausted("more than " + std::to_string(max) +
                                       " records under one tree path")
          .WithReason("E_TOO_LARGE");
    }
    out.push_back(ReconLeaf{Place(q.Int(0)), std::string(q.Text(1)), LeafOf(q.Blob(2))});
  }
  return out;
}

Status Store::ForEachReconLeaf(std::string_view scope,
                               const std::function<void(const ReconLeaf&)>& fn) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT place, record_id, leaf FROM recon_leaves "
                                               "WHERE scope = ? ORDER BY place, record_id"));
  q.Bind(1, scope);
  ReconLeaf l;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    l.place = Place(q.Int(0));
    l.record_id.assign(q.Text(1));
    l.leaf = LeafOf(q.Blob(2));
    fn(l);
  }
  return Status::Ok();
}

Result<std::optional<Leaf16>> Store::ReconLeafNow(std::string_view scope,
                                                  std::string_view record_id) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT state FROM records WHERE record_id = ? AND scope = ?"));
  q.Bind(1, record_id).Bind(2, scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Leaf16>();
  std::string_view state;
  const std::string_view blob = q.Blob(0);
  if (!StateBytesOfBlob(blob, &state)) state = blob;
  return std::optional<Leaf16>(Truncate16(replication::Blake2b256(state)));
}

Status Store::RebuildReconTree() {
  AssertOwnerThread();
  Transaction txn(*db_);
  TUPHAP_RETURN_IF_ERROR(txn.status());
  TUPHAP_RETURN_IF_ERROR(db_->Exec("DELETE FROM recon_leaves"));
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                            db_->Prepare("SELECT scope, record_id, state_hash FROM records"));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      replication::Hash h{};
      const std::string_view stored = q.Blob(2);
      std::copy_n(stored.begin(), std::min(stored.size(), h.size()), h.begin());
      TUPHAP_RETURN_IF_ERROR(WriteReconLeaf(q.Text(0), q.Text(1), h));
    }
  }
  TUPHAP_RETURN_IF_ERROR(SetMeta("recon_rebuild", "0"));
  return txn.Commit();
}

}  // namespace tuphap::store
