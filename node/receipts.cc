// The hub's delivery receipts a node keeps, and rollbacks of a hub.
#include "base/clock.h"
#include "node/node.h"

namespace tuphap::node {

Status Node::KeepReceipt(const replication::PublicKey& hub, const replication::Ack& ack) {
  const std::string body = replication::ReceiptBytes(ack);
  for (const auto& h : ack.heads) {
    if (h.origin != info_.id) continue;  // what it delivered of its own feeds
    store::ReceiptRow r;
    r.hub.bytes = hub;
    r.feed = store::FeedKey{h.origin, h.scope};
    r.seq = h.seq;
    r.hash = h.hash;
    r.received_ms = options_.clock->WallMillis();
    r.body = body;
    r.signature = ack.receipt;
    TUPHAP_RETURN_IF_ERROR(store_->SaveReceipt(r));
  }
  return Status::Ok();
}

Result<size_t> Node::CheckHubRollback(const replication::Certificate& hub,
                                      const std::vector<replication::FeedHeadWire>& heads) {
  if (hub.role != replication::NodeRole::kHub) return size_t{0};
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ReceiptRow> receipts, store_->Receipts());
  std::map<store::FeedKey, uint64_t> announced;
  for (const auto& h : heads) {
    uint64_t& seq = announced[store::FeedKey{h.origin, h.scope}];
    seq = std::max(seq, h.seq);
  }
  size_t flagged = 0;
  for (const auto& r : receipts) {
    if (r.hub.bytes != hub.sign_key || r.feed.origin != info_.id) continue;
    auto it = announced.find(r.feed);
    const uint64_t now_holds = it == announced.end() ? 0 : it->second;
    if (now_holds >= r.seq) continue;
    store::HubRollbackRow row{r.hub, r.feed, r.seq, now_holds, options_.clock->WallMillis()};
    TUPHAP_RETURN_IF_ERROR(store_->RecordHubRollback(row));
    ++flagged;
  }
  return flagged;
}

}  // namespace tuphap::node
