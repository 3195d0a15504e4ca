// What a node remembers of its sync peers (store tables peers, peer_heads).
#include <algorithm>
#include <map>

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
  store::Transaction txn(store_->db());
  TUPHAP_RETURN_IF_ERROR(txn.status());
  // What is known of the peer: at most `cap` rows, an invariant this
  // function keeps (schema version 6 pruned larger sets).
  TUPHAP_ASSIGN_OR_RETURN(auto known, PeerHeads(peer.sign_key));
  auto put = [&](const store::FeedKey& feed, uint64_t seq) -> Status {
    TUPHAP_ASSIGN_OR_RETURN(
        store::Stmt up,
        store_->db().Prepare("INSERT INTO peer_heads(peer, origin, scope, seq) VALUES(?, ?, ?, ?) "
                             "ON CONFLICT(peer, origin, scope) DO UPDATE SET seq = excluded.seq"));
    return up.BindBlob(1, Blob(peer.sign_key))
        .BindBlob(2, Blob(feed.origin.bytes))
        .Bind(3, feed.scope)
        .Bind(4, static_cast<int64_t>(seq))
        .Run();
  };
  size_t rows = known.size();
  for (const auto& [feed, seq] : kept) {
    auto it = known.find(feed);
    if (it == known.end()) {
      // An ACK adds a feed only while the peer's set is under the cap.
      if (source == PeerHeadsSource::kAck && rows >= cap) continue;
      TUPHAP_RETURN_IF_ERROR(put(feed, seq));
      ++rows;
    } else if (source == PeerHeadsSource::kHello ? it->second != seq : it->second < seq) {
      // A HELLO is the truth (a peer restored from a backup holds less); an
      // ACK only ever raises.
      TUPHAP_RETURN_IF_ERROR(put(feed, seq));
    }
  }
  if (source == PeerHeadsSource::kHello) {
    // Feeds the peer no longer announces (or no longer may hold) go.
    for (const auto& [feed, seq] : known) {
      if (kept.count(feed) > 0) continue;
      TUPHAP_ASSIGN_OR_RETURN(
          store::Stmt del,
          store_->db().Prepare(
              "DELETE FROM peer_heads WHERE peer = ? AND origin = ? AND scope = ?"));
      TUPHAP_RETURN_IF_ERROR(del.BindBlob(1, Blob(peer.sign_key))
                                 .BindBlob(2, Blob(feed.origin.bytes))
                                 .Bind(3, feed.scope)
                                 .Run());
    }
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
