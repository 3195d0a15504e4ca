// What a node remembers of its sync peers (store tables peers, peer_heads).
#include "base/clock.h"
#include "node/node.h"

namespace tuphap::node {
namespace {

std::string_view Blob(const replication::PublicKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

}  // namespace

Status Node::SignReceipt(replication::Ack* ack) {
  TUPHAP_RETURN_IF_ERROR(Unlock());
  replication::SignReceipt(ack, secrets_->sign);
  return Status::Ok();
}

bool Node::Offers(const replication::Certificate& peer, std::string_view scope) const {
  if (info_.role != Role::kHub || peer.role != replication::NodeRole::kCommune) return true;
  return scope == peer.commune || replication::IsPublicScope(scope);
}

Status Node::SavePeerHeads(const replication::PublicKey& peer,
                           const std::vector<replication::FeedHeadWire>& heads) {
  if (heads.empty()) return Status::Ok();
  store::Transaction txn(store_->db());
  TUPHAP_RETURN_IF_ERROR(txn.status());
  for (const auto& h : heads) {
    // Prepared per row: a statement is reset (and rebindable) when taken
    // from the cache.
    TUPHAP_ASSIGN_OR_RETURN(
        store::Stmt up,
        store_->db().Prepare("INSERT INTO peer_heads(peer, origin, scope, seq) VALUES(?, ?, ?, ?) "
                             "ON CONFLICT(peer, origin, scope) DO UPDATE SET "
                             "seq = max(seq, excluded.seq)"));
    TUPHAP_RETURN_IF_ERROR(up.BindBlob(1, Blob(peer))
                               .BindBlob(2, Blob(h.origin.bytes))
                               .Bind(3, h.scope)
                               .Bind(4, static_cast<int64_t>(h.seq))
                               .Run());
  }
  return txn.Commit();
}

Result<std::map<store::FeedKey, uint64_t>> Node::PeerHeads(const replication::PublicKey& peer) {
  std::map<store::FeedKey, uint64_t> out;
  TUPHAP_ASSIGN_OR_RETURN(
      store::Stmt q,
      store_->db().Prepare("SELECT origin, scope, seq FROM peer_heads WHERE peer = ?"));
  q.BindBlob(1, Blob(peer));
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    store::FeedKey k;
    const std::string_view o = q.Blob(0);
    if (o.size() != k.origin.bytes.size()) continue;
    std::copy(o.begin(), o.end(), k.origin.bytes.begin());
    k.scope = std::string(q.Text(1));
    out[k] = static_cast<uint64_t>(q.Int(2));
  }
  return out;
}

Status Node::RecordPeerSession(const replication::PublicKey& peer, const std::string& endpoint,
                               bool caught_up, uint64_t sent, uint64_t received, uint64_t refused) {
  const int64_t now = options_.clock->WallMillis();
  TUPHAP_ASSIGN_OR_RETURN(
      store::Stmt up,
      store_->db().Prepare(
          "INSERT INTO peers(peer, endpoint, last_contact_ms, last_success_ms, sent, received, "
          "refused) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(peer) DO UPDATE SET "
          "endpoint = CASE WHEN ?2 = '' THEN endpoint ELSE ?2 END, last_contact_ms = ?3, "
          "last_success_ms = CASE WHEN ?4 = 0 THEN last_success_ms ELSE ?4 END, "
          "sent = sent + ?5, received = received + ?6, refused = refused + ?7"));
  return up.BindBlob(1, Blob(peer))
      .Bind(2, endpoint)
      .Bind(3, now)
      .Bind(4, caught_up ? now : 0)
      .Bind(5, static_cast<int64_t>(sent))
      .Bind(6, static_cast<int64_t>(received))
      .Bind(7, static_cast<int64_t>(refused))
      .Run();
}

Result<std::vector<Node::PeerRow>> Node::Peers() {
  std::vector<PeerRow> out;
  {
    TUPHAP_ASSIGN_OR_RETURN(
        store::Stmt q,
        store_->db().Prepare("SELECT peer, endpoint, last_contact_ms, last_success_ms, sent, "
                             "received, refused FROM peers ORDER BY last_contact_ms DESC"));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      PeerRow r;
      const std::string_view p = q.Blob(0);
      if (p.size() != r.peer.size()) continue;
      std::copy(p.begin(), p.end(), r.peer.begin());
      r.endpoint = std::string(q.Text(1));
      r.last_contact_ms = q.Int(2);
      r.last_success_ms = q.Int(3);
      r.sent = static_cast<uint64_t>(q.Int(4));
      r.received = static_cast<uint64_t>(q.Int(5));
      r.refused = static_cast<uint64_t>(q.Int(6));
      out.push_back(std::move(r));
    }
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
