// The restored mark: a node restored from a backup writes nothing until a
// sync has shown it holds its own latest changes (node/restore.h).
#include "node/restore.h"

namespace tuphap::node {

Status RestoredRefusal(bool hub) {
  // English here; the front ends put it in the officer's language through
  // the catalogue (po/vi.po), as every node message.
  if (hub) {
    return Status::FailedPrecondition(
               "this hub was restored from a backup and may not hold the latest of what it "
               "published (certificates, revocations): writing now would fork it. Nothing was "
               "saved. Let the communes sync with it, then run 'tuphap resume-writes'")
        .WithReason("E_RESTORED");
  }
  return Status::FailedPrecondition(
             "this node was restored from a backup and may not hold its latest changes: "
             "writing now would fork its own history (and the node would be quarantined). "
             "Nothing was saved. Sync with the hub first ('tuphap sync ENDPOINT --once'), then "
             "write again")
      .WithReason("E_RESTORED");
}

Result<bool> Node::Restored() {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> mark,
                          store_->GetMeta(store::kRestoredMetaKey));
  return mark.has_value();
}

Result<bool> Node::ClearRestoredIfCaughtUp(
    const replication::Certificate& peer,
    const std::vector<replication::FeedHeadWire>& peer_heads) {
  TUPHAP_ASSIGN_OR_RETURN(bool restored, Restored());
  if (!restored) return false;
  // A hub's own feeds (the public feed: certificates, revocations) went to
  // every commune; no one session shows it holds their latest. Its operator
  // syncs the communes, then says so (ResumeWrites, `tuphap resume-writes`).
  if (info_.role == Role::kHub) return false;
  // Every change of a commune node goes to its hub; a secondary node or a
  // relay may lag behind it, and would vouch for a head that is not the
  // latest.
  if (peer.role != replication::NodeRole::kHub) return false;
  // Nor a hub that holds less than it signed for (a hub restored in turn):
  // every receipt this node keeps is a floor of its feed's head.
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ReceiptRow> receipts, store_->Receipts());
  for (const auto& r : receipts) {
    if (r.feed.origin != info_.id) continue;
    uint64_t announced = 0;
    for (const auto& h : peer_heads)
      if (h.origin == info_.id && h.scope == r.feed.scope) announced = h.seq;
    if (announced < r.seq) return false;
  }
  TUPHAP_ASSIGN_OR_RETURN(std::vector<crdt::ReplicaId> quarantined, store_->QuarantinedOrigins());
  for (const auto& q : quarantined)
    if (q == info_.id) return false;  // forked already: only a revocation helps
  // Every feed of this node the peer holds: this node must hold it up to
  // the peer's head, with the very envelope the peer named there. Then
  // the HLC already stands past them (the store raised it on ingest) and
  // the register numbers they used are taken (numbers are read from the
  // records, not from a counter).
  for (const auto& h : peer_heads) {
    if (h.origin != info_.id || h.seq == 0) continue;
    const store::FeedKey feed{h.origin, h.scope};
    TUPHAP_ASSIGN_OR_RETURN(std::optional<store::FeedHead> head, store_->Head(feed));
    if (!head || head->seq < h.seq) return false;
    TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                            store_->GetEnvelope(feed, h.seq));
    if (!env || env->hash() != h.hash) return false;
  }
  TUPHAP_RETURN_IF_ERROR(store_->DeleteMeta(store::kRestoredMetaKey));
  return true;
}

Result<bool> Node::ResumeWrites() {
  TUPHAP_ASSIGN_OR_RETURN(bool restored, Restored());
  if (!restored) return false;
  TUPHAP_RETURN_IF_ERROR(store_->DeleteMeta(store::kRestoredMetaKey));
  return true;
}

}  // namespace tuphap::node
