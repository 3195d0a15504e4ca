// The listening side of `serve` (internal to node/transport), in two
// threads. The network thread (NetLoop, net.h) holds the ROUTER with this
// node's CURVE key, the ZAP handler, every connection and the per-peer
// bounds of docs/protocol.md (Bounds); it only moves frames. The Listener
// is the worker: on the thread that owns the Node (the one that calls
// Serve), it runs each peer's sync session — ingest, bookkeeping — and
// answers reconcile queries, taking frames from the Handoff (handoff.h)
// and handing its answers back.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "node/node.h"
#include "node/reconcile.h"
#include "node/sync.h"
#include "node/transport/handoff.h"
#include "node/transport/net.h"

namespace tuphap::node::transport {

class Listener {
 public:
  // Binds the ZAP handler, then the ROUTER at `endpoint` with the node's
  // X25519 secret key, and starts the network thread. Throws zmq::error_t
  // when it cannot bind.
  // At most `max_catching_up` peers send their backlog at once (0: no
  // limit; ServeOptions).
  Listener(zmq::context_t& ctx, Node& node, const NodeSecrets& secrets, const std::string& endpoint,
           int max_catching_up);
  // Stops the network thread, then ends every session (serve is
  // stopping): each logs its end.
  ~Listener();

  // What the worker's loop waits on (the network thread's wake-up).
  void AddPollItems(std::vector<zmq::pollitem_t>& items);
  // Whether work is waiting (the loop then does not wait).
  bool has_work() { return in_hand_.has_value() || handoff_.has_work(); }
  // Handles what the network thread handed over, one frame or event at a
  // time, for at most `budget_ms` or until `stop` says so: a signal stops
  // serve between two batches, never inside one (the batch in hand is
  // finished first). A peer's batch is applied in parts, each committed,
  // whenever another peer waits to begin (Handoff::has_urgent,
  // SyncSession::SetYield): a HELLO waits for one part, not for the batch.
  void Service(int64_t budget_ms, const std::function<bool()>& stop);
  // Every pump interval: live sessions' new changes.
  void Pump();

 private:
  struct Peer {
    std::unique_ptr<SyncSession> session;
    replication::PublicKey box{};
    bool reported = false;  // its catch-up was recorded
    // What the peers table holds of this session (see Record).
    SyncStats recorded;
    uint64_t recorded_progress = 0;
    // Admitted as a sender of its backlog, and not caught up yet: holds
    // one of the max_catching_up slots.
    bool catching_up = false;
    // The slot's lease: when the session last committed a batch of the
    // peer (or took the slot), and its progress then.
    int64_t slot_progress_ms = 0;
    uint64_t slot_progress = 0;
  };
  // A HELLO waiting for a slot: its connection, and when its key first
  // asked (a peer that reconnects keeps its place).
  struct Waiting {
    std::string rid;
    std::string hello;
    int64_t since_ms = 0;
  };

  void OnFrame(const std::string& rid, zmq::message_t& frame, bool gone);
  void FinishGone(const std::string& rid);
  void OnSessionFrame(const std::string& rid, Peer& p, std::string_view frame, bool gone);
  // What follows a session's step (a frame, or a batch continued): the
  // answer sent, bookkeeping, the end of a failed session, the slot.
  void AfterSessionStep(const std::string& rid, Peer& p, const Status& s,
                        std::vector<std::string>& out, bool gone);
  // Applies the next part of the batch in hand (all of what is left when
  // `may_yield` is false).
  void ContinueInHand(bool may_yield, bool stopping = false);
  // Serve is stopping: the batch in hand is applied whole and answered
  // while the network thread can still send the answer.
  void FinishInHand();
  // The batch in hand is over: its connection is released at the handoff
  // (`done`: and its frame no longer counted).
  void ReleaseInHand(bool done);
  void AnswerQuery(const std::string& rid, zmq::message_t& frame);
  void Record(Peer& p, bool caught_up);
  void Drop(const std::string& rid, const std::string* why);
  void PublishTrustIfMoved();
  // Admission of backlogs (max_catching_up): whether the HELLO shows the
  // peer holds changes this node lacks; whether the HELLO must wait;
  // answering waiting HELLOs as slots free.
  bool HoldsMoreThanUs(std::string_view hello);
  bool MustWait(const std::string& rid, Peer& p, std::string_view hello, bool was_waiting);
  void TakeSlot(Peer& p);
  void ReleaseSlot(Peer& p);
  void TakeBackIdleSlots(int64_t now);
  void AdmitWaiting();
  // The key of a waiting HELLO's connection (null: the connection is gone).
  const replication::PublicKey* KeyOf(const Waiting& w) const;

  Node& node_;
  Handoff handoff_;
  ReconcileResponder responder_;
  std::map<std::string, Peer> peers_;                      // by ZeroMQ routing id
  std::map<replication::PublicKey, PeerMemory> memories_;  // enrolled keys only
  // A slot whose peer has committed no batch for this long while others
  // wait is taken back (TakeBackIdleSlots).
  static constexpr int64_t kSlotLeaseMs = 60'000;
  std::string published_stamp_;   // the trust stamp last published to the network thread
  const size_t max_catching_up_;  // 0: no limit
  size_t catching_up_ = 0;        // peers holding a slot
  std::map<replication::PublicKey, int> slot_keys_;  // keys holding a slot (one each)
  std::vector<Waiting> waiting_;                     // oldest since_ms first
  // The connection whose batch is in hand (held at the handoff), the bytes
  // of the frame that brought it (counted until it is answered), and when
  // its last part ended. At most one: while it is in hand only frames that
  // are neither BATCHes nor QUERYs are taken.
  struct InHand {
    std::string rid;
    size_t bytes = 0;
    int64_t part_ended_ms = 0;
  };
  std::optional<InHand> in_hand_;
  // Light work is taken for at most this long before the batch in hand
  // gets its next part: a stream of HELLOs and ACKs cannot stall it.
  static constexpr int64_t kLightTurnMs = 20;
  int64_t last_stop_ms_ = 0;  // when a batch last stopped part-way
  // Keys that waited: since when (their place), and when last seen
  // waiting (a place is kept 10 minutes after that).
  struct Place {
    int64_t since_ms = 0;
    int64_t seen_ms = 0;
  };
  std::map<replication::PublicKey, Place> waiting_since_;
  bool trim_due_ = false;  // memory to give back once no backlog is coming in
  int64_t last_trim_ms_ = 0;
  int64_t last_lease_check_ms_ = 0;
  int64_t last_place_sweep_ms_ = 0;
  std::unique_ptr<NetLoop> net_;  // last: stopped first
};

}  // namespace tuphap::node::transport
