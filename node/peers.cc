// What a node remembers of its sync peers: which heads it keeps of each
// (the bounds of docs/security.md) and what it reports of them; the tables
// are store/peers_table.cc.
#include <algorithm>
#include <map>

#include "base/clock.h"
#include "node/node.h"

namespace tuphap::node {

Status Node::SignReceipt(replication::Ack* ack) {
  TUPHAP_RETURN_IF_ERROR(Unlock());
  replication::SignReceipt(ack, vault_.secrets()->sign);
  return Status::Ok();
}

bool Node::Offers(const replication::Certificate& peer, std::string_view scope) const {
  if (info_.role != Role::kHub || !replication::IsCommuneRole(peer.role)) return true;
  return scope == peer.commune || replication::IsPublicScope(scope);
}

Status Node::SavePeerHeads(const replication::Certificate& peer,
                           const std::vector<replication::FeedHeadWire>& heads,
                           PeerHeadsSource source) {
  if (!trust_) return Status::Ok();
  // In memory first: what the peer may hold of what it announced. A HELLO
  // may name 20,000 heads; the database sees at most the cap.
  std::map<store::FeedKey, uint64_t> kept;
  for (const auto& h : heads) {
    if (h.seq == 0 || !Offers(peer, h.scope) || !trust_->MayWrite(h.origin.bytes, h.scope))
      continue;
    uint64_t& seq = kept[store::FeedKey{h.origin, h.scope}];
    seq = std::max(seq, h.seq);
  }
  const size_t cap = options_.max_peer_heads;
  if (kept.size() > cap) {
    // Over the cap (a province has far fewer feeds: the peer is wrong or
    // hostile). The feeds this node holds matter most — bundle export and
    // pending_out start from them — then the lowest keys, deterministically.
    TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> ours, store_->Heads());
    std::map<store::FeedKey, uint64_t> trimmed;
    for (const auto& h : ours) {
      if (trimmed.size() == cap) break;
      if (auto it = kept.find(h.feed); it != kept.end()) trimmed.insert(*it);
    }
    for (const auto& entry : kept) {
      if (trimmed.size() == cap) break;
      trimmed.insert(entry);
    }
    kept = std::move(trimmed);
  }
  if (kept.empty() && source == PeerHeadsSource::kAck) return Status::Ok();
  return store_->SavePeerHeads(crdt::ReplicaId{peer.sign_key}, kept,
                               source == PeerHeadsSource::kHello
                                   ? store::Store::PeerHeadsUpdate::kReplace
                                   : store::Store::PeerHeadsUpdate::kRaise,
                               cap);
}

Result<std::map<store::FeedKey, uint64_t>> Node::PeerHeads(const replication::PublicKey& peer) {
  return store_->PeerHeads(crdt::ReplicaId{peer});
}

Status Node::RecordPeerSession(const replication::PublicKey& peer, const std::string& endpoint,
                               bool caught_up, uint64_t sent, uint64_t received, uint64_t refused) {
  return store_->RecordPeerSession(crdt::ReplicaId{peer}, endpoint, options_.clock->WallMillis(),
                                   caught_up, sent, received, refused);
}

Result<std::vector<Node::PeerRow>> Node::Peers() {
  std::vector<PeerRow> out;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::Store::PeerContact> contacts, store_->PeerContacts());
  for (auto& c : contacts) {
    PeerRow r;
    r.peer = c.peer.bytes;
    r.endpoint = std::move(c.endpoint);
    r.last_contact_ms = c.last_contact_ms;
    r.last_success_ms = c.last_success_ms;
    r.sent = c.sent;
    r.received = c.received;
    r.refused = c.refused;
    out.push_back(std::move(r));
  }
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, store_->Heads());
  for (auto& r : out) {
    TUPHAP_ASSIGN_OR_RETURN(auto known, PeerHeads(r.peer));
    const replication::Certificate* cert = trust_ ? trust_->CertFor(r.peer) : nullptr;
    std::map<store::FeedKey, uint64_t> ours;
    for (const auto& h : heads) {
      ours[h.feed] = h.seq;
      if (cert != nullptr && !Offers(*cert, h.feed.scope)) continue;
      auto it = known.find(h.feed);
      const uint64_t theirs = it == known.end() ? 0 : it->second;
      if (h.seq > theirs) r.pending_out += h.seq - theirs;
    }
    for (const auto& [feed, theirs] : known) {
      auto it = ours.find(feed);
      const uint64_t mine = it == ours.end() ? 0 : it->second;
      if (theirs > mine) r.pending_in += theirs - mine;
    }
  }
  return out;
}

}  // namespace tuphap::node
