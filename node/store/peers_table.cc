// What a node remembers of its sync peers: the peers table (contacts and
// totals) and peer_heads (the feed heads each peer was last known to hold,
// at most `cap` rows per peer: docs/security.md, Bounds).
#include <string_view>

#include "node/store/key_blob.h"
#include "node/store/store.h"

namespace tuphap::store {
Result<std::vector<Store::PeerContact>> Store::PeerContacts() {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q, db_->Prepare("SELECT peer, endpoint, last_contact_ms, last_success_ms, sent, "
                           "received, refused FROM peers ORDER BY last_contact_ms DESC"));
  std::vector<PeerContact> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    PeerContact r;
    if (!ReadKey(q.Blob(0), &r.peer)) continue;
    r.endpoint = std::string(q.Text(1));
    r.last_contact_ms = q.Int(2);
    r.last_success_ms = q.Int(3);
    r.sent = static_cast<uint64_t>(q.Int(4));
    r.received = static_cast<uint64_t>(q.Int(5));
    r.refused = static_cast<uint64_t>(q.Int(6));
    out.push_back(std::move(r));
  }
  return out;
}

Status Store::RecordPeerSession(const crdt::ReplicaId& peer, std::string_view endpoint,
                                int64_t now_ms, bool caught_up, uint64_t sent, uint64_t received,
                                uint64_t refused) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt up,
      db_->Prepare(
          "INSERT INTO peers(peer, endpoint, last_contact_ms, last_success_ms, sent, received, "
          "refused) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(peer) DO UPDATE SET "
          "endpoint = CASE WHEN ?2 = '' THEN endpoint ELSE ?2 END, last_contact_ms = ?3, "
          "last_success_ms = CASE WHEN ?4 = 0 THEN last_success_ms ELSE ?4 END, "
          "sent = sent + ?5, received = received + ?6, refused = refused + ?7"));
  return up.BindBlob(1, Blob(peer))
      .Bind(2, endpoint)
      .Bind(3, now_ms)
      .Bind(4, caught_up ? now_ms : 0)
      .Bind(5, static_cast<int64_t>(sent))
      .Bind(6, static_cast<int64_t>(received))
      .Bind(7, static_cast<int64_t>(refused))
      .Run();
}

Result<std::map<FeedKey, uint64_t>> Store::PeerHeads(const crdt::ReplicaId& peer) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          db_->Prepare("SELECT origin, scope, seq FROM peer_heads WHERE peer = ?"));
  q.BindBlob(1, Blob(peer));
  std::map<FeedKey, uint64_t> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    FeedKey k;
    if (!ReadKey(q.Blob(0), &k.origin)) continue;
    k.scope = std::string(q.Text(1));
    out[k] = static_cast<uint64_t>(q.Int(2));
  }
  return out;
}

Status Store::SavePeerHeads(const crdt::ReplicaId& peer, const std::map<FeedKey, uint64_t>& heads,
                            PeerHeadsUpdate update, size_t cap) {
  AssertOwnerThread();
  Transaction txn(*db_);
  TUPHAP_RETURN_IF_ERROR(txn.status());
  // What is known of the peer: at most `cap` rows, an invariant this keeps
  // (schema version 6 pruned larger sets).
  TUPHAP_ASSIGN_OR_RETURN(auto known, PeerHeads(peer));
  auto put = [&](const FeedKey& feed, uint64_t seq) -> Status {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt up, db_->Prepare("INSERT INTO peer_heads(peer, origin, scope, seq) VALUES(?, ?, ?, ?) "
                              "ON CONFLICT(peer, origin, scope) DO UPDATE SET seq = excluded.seq"));
    return up.BindBlob(1, Blob(peer))
        .BindBlob(2, Blob(feed.origin))
        .Bind(3, feed.scope)
        .Bind(4, static_cast<int64_t>(seq))
        .Run();
  };
  const bool replace = update == PeerHeadsUpdate::kReplace;
  size_t rows = known.size();
  for (const auto& [feed, seq] : heads) {
    auto it = known.find(feed);
    if (it == known.end()) {
      if (!replace && rows >= cap) continue;
      TUPHAP_RETURN_IF_ERROR(put(feed, seq));
      ++rows;
    } else if (replace ? it->second != seq : it->second < seq) {
      // The whole set is the truth (a peer restored from a backup holds
      // less); after a batch, a head only ever rises.
      TUPHAP_RETURN_IF_ERROR(put(feed, seq));
    }
  }
  if (replace) {
    for (const auto& [feed, seq] : known) {
      if (heads.count(feed) > 0) continue;
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt del,
          db_->Prepare("DELETE FROM peer_heads WHERE peer = ? AND origin = ? AND scope = ?"));
      TUPHAP_RETURN_IF_ERROR(
          del.BindBlob(1, Blob(peer)).BindBlob(2, Blob(feed.origin)).Bind(3, feed.scope).Run());
    }
  }
  return txn.Commit();
}

}  // namespace tuphap::store
