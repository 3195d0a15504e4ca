// The listening side of `serve` (internal to node/transport): a ROUTER with
// this node's CURVE key behind the ZAP handler, every connection followed
// by file descriptor, each peer's sync session, and the per-peer bounds of
// docs/protocol.md (Bounds).
//
// ZeroMQ gives a ROUTER no way to close one peer's connection, so the
// listener follows connections by file descriptor (the monitor's
// accepted/disconnected events, each frame's ZMQ_SRCFD) and closes one
// itself with shutdown(2): libzmq then sees the stream end and cleans it up
// as for any lost connection. The descriptor's inode is checked first, so a
// number reused by a newer connection is never shut.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "node/node.h"
#include "node/reconcile.h"
#include "node/sync.h"
#include "node/transport/zap.h"

namespace tuphap::node::transport {

// Accepted and lost connections of the listener's ROUTER, by file
// descriptor, read without blocking.
class ListenMonitor final : public zmq::monitor_t {
 public:
  struct Event {
    int fd;
    bool accepted;  // false: gone
  };
  std::vector<Event> events;
  void on_event_accepted(const zmq_event_t& e, const char*) override {
    events.push_back({static_cast<int>(e.value), true});
  }
  void on_event_disconnected(const zmq_event_t& e, const char*) override {
    events.push_back({static_cast<int>(e.value), false});
  }
};

class Listener {
 public:
  // Binds the ZAP handler, then the ROUTER at `endpoint` with the node's
  // X25519 secret key. Throws zmq::error_t when it cannot bind.
  Listener(zmq::context_t& ctx, Node& node, const NodeSecrets& secrets,
           const std::string& endpoint);
  // Ends every session (serve is stopping): each logs its end.
  ~Listener();

  // The sockets the loop waits on.
  void AddPollItems(std::vector<zmq::pollitem_t>& items);
  // New connections (ZAP, the monitor) and every frame waiting.
  void Service();
  // Every pump interval: live sessions' new changes, and idle connections.
  void Pump();

 private:
  struct Inbox {
    std::deque<zmq::message_t> frames;  // read, not handled yet
    size_t bytes = 0;
  };
  struct Conn {
    int64_t accepted_ms = 0;
    uint64_t inode = 0;
    std::string rid;  // empty until its first frame
    bool shut = false;
  };
  struct Peer {
    std::unique_ptr<SyncSession> session;
    replication::PublicKey box{};
    int fd = -1;
    int64_t last_seen_ms = 0;
    bool reported = false;  // its catch-up was recorded
    // What the peers table holds of this session (see Record).
    SyncStats recorded;
    uint64_t recorded_progress = 0;
  };

  void Admissions();
  void OnMonitorEvents();
  void Receive();
  void Drain();
  void FinishGone(const std::string& rid);
  void OnFrame(const std::string& rid, zmq::message_t& frame);
  Peer& AcceptPeer(const std::string& rid, const replication::PublicKey& box, int fd);
  void OnSessionFrame(const std::string& rid, Peer& p, std::string_view frame);
  void AnswerQuery(const std::string& rid, zmq::message_t& frame);
  bool Send(const std::string& rid, std::vector<std::string>& frames);
  void Record(Peer& p, bool caught_up);
  void Drop(const std::string& rid, const std::string* why);
  void Close(const std::string& rid, const std::string& why) { Drop(rid, &why); }
  bool Admit(const replication::PublicKey& key);
  void ShutDown(int fd, Conn& c);

  Node& node_;
  // Sockets, in the order they are made and the reverse of their closing:
  // ZAP before any connection can be accepted.
  ZapHandler zap_;
  zmq::socket_t router_;
  ListenMonitor monitor_;
  ReconcileResponder responder_;
  // Per enrolled key, when each connection ZAP admitted and that has sent
  // nothing yet was admitted (oldest first).
  std::map<replication::PublicKey, std::deque<int64_t>> waiting_;
  std::map<int, Conn> conns_;           // by file descriptor
  std::map<std::string, Inbox> inbox_;  // by routing id
  std::set<std::string> overflowed_;    // closed for flooding, until the connection is gone
  std::string gone_;                    // the lost connection whose last frames FinishGone handles
  std::map<std::string, Peer> peers_;   // by ZeroMQ routing id
  std::map<replication::PublicKey, std::deque<std::string>> by_key_;  // oldest first
  std::map<replication::PublicKey, PeerMemory> memories_;             // enrolled keys only
};

}  // namespace tuphap::node::transport
