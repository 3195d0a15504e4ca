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
  Listener(zmq::context_t& ctx, Node& node, const NodeSecrets& secrets,
           const std::string& endpoint);
  // Stops the network thread, then ends every session (serve is
  // stopping): each logs its end.
  ~Listener();

  // What the worker's loop waits on (the network thread's wake-up).
  void AddPollItems(std::vector<zmq::pollitem_t>& items);
  // Whether work is waiting (the loop then does not wait).
  bool has_work() { return handoff_.has_work(); }
  // Handles what the network thread handed over, one frame or event at a
  // time, for at most `budget_ms` or until `stop` says so: a signal stops
  // serve between two batches, never inside one.
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
  };

  void OnFrame(const std::string& rid, zmq::message_t& frame, bool gone);
  void FinishGone(const std::string& rid);
  void OnSessionFrame(const std::string& rid, Peer& p, std::string_view frame, bool gone);
  void AnswerQuery(const std::string& rid, zmq::message_t& frame);
  void Record(Peer& p, bool caught_up);
  void Drop(const std::string& rid, const std::string* why);
  void PublishTrustIfMoved();

  Node& node_;
  Handoff handoff_;
  ReconcileResponder responder_;
  std::map<std::string, Peer> peers_;                      // by ZeroMQ routing id
  std::map<replication::PublicKey, PeerMemory> memories_;  // enrolled keys only
  std::string published_stamp_;   // the trust stamp last published to the network thread
  std::unique_ptr<NetLoop> net_;  // last: stopped first
};

}  // namespace tuphap::node::transport
