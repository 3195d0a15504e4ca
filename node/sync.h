// One sync session with one peer (docs/protocol.md), independent of the
// transport: frames in, frames out. The ZeroMQ transport (transport.h), the
// in-memory link of the property test and nothing else drive it.
//
// Both sides announce heads (HELLO), then each sends, per feed, the
// envelopes after the other's head, oldest first, in batches bounded by
// count and bytes, with at most `window` batches unacknowledged. The
// receiver ingests and commits a batch in one transaction (Node::Ingest),
// or in parts when others wait (SetYield), then acknowledges with its new
// heads; a hub signs its acknowledgements
// (receipts). DONE says "I have sent everything I had when we met and it
// was acknowledged". Correctness needs no memory of the peer: a new HELLO
// starts over from the heads announced.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "node/node.h"
#include "replication/protocol.h"

namespace tuphap::node {

struct SyncStats {
  uint64_t sent = 0;             // envelopes sent
  uint64_t received = 0;         // envelopes received that were new here
  uint64_t refused_here = 0;     // of the peer's envelopes, refused by this node
  uint64_t refused_by_peer = 0;  // of ours, refused by the peer (its acks)
  uint64_t quarantined = 0;      // of the peer's, refused as their origin is quarantined here
  uint64_t bytes_out = 0;
  uint64_t bytes_in = 0;
  uint64_t batches_out = 0;

  SyncStats& operator+=(const SyncStats& o);
  // What was counted after `before` (an earlier copy of these stats).
  SyncStats Since(const SyncStats& before) const;
};

// How many bytes of envelopes one BATCH frame to a peer carries. A link
// that is cut every few hundred kilobytes loses the frame in transit at
// each cut, and a frame that never fits in one connection never gets
// through at all; a clean link wants large frames. So the size follows what
// the link has shown it carries in one connection: it starts at
// kInitialBytes, grows with every acknowledged frame while connections
// last, and when a connection is lost before an acknowledgement it drops at
// once to an eighth of what that connection carried (down to one
// envelope, which is always sent). Kept per peer across sessions by the
// transport.
class LinkBudget {
 public:
  static constexpr size_t kInitialBytes = 64 << 10;
  static constexpr size_t kMaxBytes = replication::kMaxBatchBytes;
  // A frame is at most this share of what a connection is known to carry.
  static constexpr size_t kShare = 8;

  size_t frame_bytes() const { return frame_bytes_; }
  // A frame was acknowledged on a connection that has carried
  // `connection_bytes` so far (frames received, and frames sent that were
  // acknowledged).
  void Acknowledged(uint64_t connection_bytes);
  // A connection that carried `connection_bytes` was lost with frames
  // unacknowledged.
  void Lost(uint64_t connection_bytes);
  uint64_t losses() const { return losses_; }

 private:
  size_t frame_bytes_ = kInitialBytes;
  // What a connection is known to carry: the cut point last seen, raised
  // when a connection outlives it.
  uint64_t carried_ = 0;
  uint64_t losses_ = 0;
};

// What a node keeps of one peer across that peer's sessions (the transport
// keeps one per peer; a session alone needs none of it for correctness).
struct PeerMemory {
  LinkBudget budget;
  // Feeds this node does not offer the peer that the peer itself relayed
  // here (another commune's, carried by a relay commune): the highest
  // envelope of each that the peer delivered and this node holds. The
  // next HELLO answers with it, so a relay does not send them again — and
  // it tells the peer nothing it did not send. At most one per feed held.
  std::map<store::FeedKey, replication::FeedHeadWire> relayed;
};

class SyncSession {
 public:
  enum class Side { kDialer, kListener };
  // `expected_box_key`: the peer's X25519 key as the transport authenticated
  // it (CURVE); the peer's HELLO must name a certificate with that key.
  // `memory`: what is kept of this peer across its sessions (its link
  // budget, what it relayed); null: this session's alone.
  SyncSession(Node& node, Side side, std::optional<replication::PublicKey> expected_box_key,
              PeerMemory* memory = nullptr, size_t window = 4, size_t batch_envelopes = 1000);
  // Ends the session: one log line and the metrics (node/sync_report.cc).
  ~SyncSession();
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  // How the session ended, as the transport knows it ("connection lost",
  // "closed: WHY"), for its log line; the first said wins. Unsaid: an
  // error of the session itself, or "closed" (this side stopped).
  void SetEnded(std::string how) {
    if (ended_.empty()) ended_ = std::move(how);
  }

  // The dialer's opening frame (HELLO).
  Result<std::string> Start();
  // One frame from the peer; frames to send are appended to `out`. An error
  // ends the session (an ERROR frame for the peer is appended when useful).
  // A BATCH may be left in hand (see SetYield): nothing is answered yet.
  Status OnFrame(std::string_view frame, std::vector<std::string>* out);
  // A worker that others wait on (the listener): the peer's batches are
  // ingested in parts, each committed, stopping whenever `yield` says so
  // (Node::Ingest); the batch is then in hand, and acknowledged once
  // ContinueBatch has applied the rest. The transport hands the session no
  // other frame of the peer meanwhile (it would finish the batch first).
  void SetYield(std::function<bool()> yield) { yield_ = std::move(yield); }
  bool batch_in_hand() const { return in_hand_.has_value(); }
  // Applies more of the batch in hand (all of it unless `may_yield`), and
  // acknowledges it once whole, like OnFrame.
  Status ContinueBatch(std::vector<std::string>* out, bool may_yield = true);
  // Sends what the window allows: the catch-up, then (live) changes made
  // since. Call it whenever local changes may have been made.
  Status Pump(std::vector<std::string>* out);

  // The HELLO's bookkeeping (what the peer holds: Node::SavePeerHeads, a
  // write) waits for WriteBookkeeping instead of delaying the answer: a
  // listener sends its HELLO first, then writes.
  void DeferBookkeeping() { defer_bookkeeping_ = true; }
  void WriteBookkeeping();

  // An empty BATCH, acknowledged like any other: keeps an idle session
  // known to be alive on both sides.
  void KeepAlive(std::vector<std::string>* out);

  // The summary form of HELLO (protocol version 2): sent by a dialler whose
  // HELLO would name more than `full_max` heads, with about `per_bucket`
  // heads per bucket. Tests lower both to exercise it with few feeds.
  void SetSummaryPolicy(size_t full_max, size_t per_bucket) {
    summary_full_max_ = full_max;
    summary_per_bucket_ = per_bucket;
  }
  // The heads this session received and sent in HEADS messages (version 2).
  uint64_t expanded_heads_in() const { return expanded_in_; }
  uint64_t expanded_heads_out() const { return expanded_out_; }

  bool hello_done() const { return peer_ != nullptr && !expansion_; }
  // Both sides have sent all they had at the start and it was acknowledged.
  // (Live batches sent after that do not count: a busy hub still catches up.)
  bool caught_up() const { return sent_done_ && peer_done_; }
  bool idle() const { return in_flight_.empty(); }
  // Frames sent and not acknowledged: a connection lost now lost them.
  bool awaiting_ack() const { return !in_flight_.empty(); }
  // Acknowledged progress: batches of ours acknowledged plus batches of
  // the peer committed here. What `sync --timeout` waits for.
  uint64_t progress() const { return progress_; }
  // The peer answered HELLO (a dialler) or sent one (a listener).
  bool hello_received() const { return peer_ != nullptr; }
  // Called by the transport when the connection under this session is
  // lost: tells the link budget if frames were in flight.
  void ConnectionLost();
  const SyncStats& stats() const { return stats_; }
  const replication::Certificate* peer() const { return peer_; }

 private:
  struct Cursor {
    store::FeedKey feed;
    uint64_t next = 0;  // next seq to send
  };
  Status HandleHello(const replication::Hello& hello, std::vector<std::string>* out);
  // What follows a HELLO once the peer's heads are all known (from a full
  // HELLO, or rebuilt from a summary and its HEADS); `answer_full`: a
  // listener greeted with a full HELLO answers with its own.
  Status AcceptPeerHeads(const std::vector<replication::FeedHeadWire>& heads, bool answer_full,
                         std::vector<std::string>* out);
  // Version 2: compares the summaries and sends this side's heads of the
  // buckets that differ.
  void BeginExpansion(std::vector<replication::FeedHeadWire> own,
                      const replication::HeadsSummary& own_summary,
                      const replication::HeadsSummary& peer_summary, std::vector<std::string>* out);
  Status HandleHeads(const replication::HeadsMessage& heads, std::vector<std::string>* out);
  Status HandleBatch(replication::Batch& batch, std::vector<std::string>* out);
  // Ingests (more of) the batch in hand and, once all of it is applied,
  // acknowledges it.
  Status IngestInHand(bool may_yield, std::vector<std::string>* out);
  // What follows a frame's handling (and a batch's continuation): the
  // restore check once caught up, and the end of a failed session.
  Status AfterFrame(Status s, std::vector<std::string>* out);
  Status HandleAck(const replication::Ack& ack);
  // Writes the hub's latest receipt per scope of this node's feeds.
  void KeepPendingReceipts();
  Result<replication::Hello> MakeHello(const std::vector<replication::FeedHeadWire>* answered);
  // Whether this node offers `scope` to the peer.
  bool Offers(std::string_view scope) const;
  Status ResendForkedHeads(
      const std::map<store::FeedKey, const replication::FeedHeadWire*>& announced);
  Status RefillCursors();
  Status Fail(std::string code, std::string message, std::vector<std::string>* out);
  void Emit(std::string frame, std::vector<std::string>* out);

  Node& node_;
  Side side_;
  std::optional<replication::PublicKey> expected_box_;
  PeerMemory own_memory_;
  PeerMemory* memory_;
  LinkBudget* budget_;
  uint64_t progress_ = 0;
  size_t window_;
  size_t batch_envelopes_;
  const replication::Certificate* peer_ = nullptr;
  replication::Certificate peer_cert_;
  // Per feed: the peer's head as announced or acknowledged, and the highest
  // seq sent to it in this session.
  std::map<store::FeedKey, uint64_t> peer_head_;
  std::map<store::FeedKey, uint64_t> sent_upto_;
  std::vector<Cursor> cursors_;
  // The store as of the last refill: a live session re-reads the heads only
  // when it has changed (or an ack moved what the peer holds).
  std::optional<store::Store::Stamp> refilled_at_;
  std::map<uint64_t, size_t> in_flight_;  // batch_no -> its frame's bytes
  // Bytes of our BATCH frames the peer acknowledged: with what we received,
  // what this connection is known to have carried (frames handed to
  // ZeroMQ but not acknowledged may never have crossed it).
  uint64_t acknowledged_out_ = 0;
  uint64_t Carried() const { return stats_.bytes_in + acknowledged_out_; }
  uint64_t next_batch_ = 1;
  uint64_t catchup_last_batch_ = 0;        // the last batch of the catch-up (0: not all sent yet)
  std::map<store::FeedKey, int> retries_;  // re-sends after the peer refused, per feed
  // The peer's HELLO heads of this node's own feeds: once caught up, a
  // node restored from a backup that holds them all writes again.
  std::vector<replication::FeedHeadWire> own_heads_announced_;
  // The hub's latest verified ACK naming each scope of this node's feeds,
  // not yet written (KeepPendingReceipts).
  std::map<std::string, replication::Ack> pending_receipts_;
  // Version 2 (summary HELLO): what this side announced, and, until the
  // peer's last HEADS, the exchange of the buckets that differ.
  size_t summary_full_max_ = replication::kMaxFullHelloSent;
  size_t summary_per_bucket_ = replication::kSummaryHeadsPerBucket;
  std::vector<replication::FeedHeadWire> summarised_own_;  // a dialler's, when it summarised
  std::optional<replication::HeadsSummary> own_summary_;
  struct Expansion {
    uint32_t bits = 0;
    std::vector<bool> differ;                       // per bucket
    std::vector<replication::BucketSummary> peer;   // the peer's summary
    std::vector<uint64_t> received;                 // per bucket, heads received
    std::vector<replication::FeedHeadWire> own;     // this side's announced heads
    std::vector<replication::FeedHeadWire> theirs;  // the peer's heads in D so far
  };
  std::optional<Expansion> expansion_;
  uint64_t expanded_in_ = 0;
  uint64_t expanded_out_ = 0;
  // A peer's batch ingested in part (SetYield): what is left of it and
  // what its acknowledgement will say.
  struct InHand {
    uint64_t batch_no = 0;
    std::vector<store::Store::Incoming> left;
    uint64_t malformed = 0;  // envelopes that did not parse
    uint64_t refused = 0;    // by the parts applied so far
    // Per feed of the batch, the highest envelope it carried (seq, id).
    std::map<store::FeedKey, std::pair<uint64_t, replication::Hash>> feeds;
  };
  std::optional<InHand> in_hand_;
  std::function<bool()> yield_;
  bool defer_bookkeeping_ = false;
  std::optional<std::vector<replication::FeedHeadWire>> deferred_heads_;  // of the HELLO
  bool restore_checked_ = false;
  bool error_sent_ = false;
  bool initial_sent_ = false;  // the catch-up is all sent
  bool sent_done_ = false;
  bool peer_done_ = false;
  SyncStats stats_;
  // For the log line at the end: when it began, the peer's envelopes
  // refused here by reason, forks of a feed it sent, and how it ended.
  std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
  std::map<std::string, uint64_t> refused_reasons_;
  uint64_t equivocations_ = 0;
  std::string ended_;
  bool failed_ = false;
};

}  // namespace tuphap::node
