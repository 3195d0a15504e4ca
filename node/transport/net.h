// The listener's network thread (internal to node/transport): the ROUTER
// with this node's CURVE key, the ZAP handler, the ROUTER's monitor and
// every per-connection bound of docs/protocol.md (Bounds). It only moves
// frames: what a connection sends goes to the worker through the Handoff,
// what the worker answers comes back through it; nothing here touches the
// Node or waits on the disk, so handshakes, new sessions and ZMTP
// heartbeats never queue behind a commit.
//
// ZeroMQ gives a ROUTER no way to close one peer's connection, so it
// follows connections by file descriptor (the monitor's accepted and
// disconnected events, each frame's ZMQ_SRCFD) and closes one itself with
// shutdown(2): libzmq then sees the stream end and cleans it up as for any
// lost connection. The descriptor's inode is checked first, so a number
// reused by a newer connection is never shut.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "node/transport/handoff.h"
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

class NetLoop {
 public:
  // Binds the ZAP handler, then the ROUTER at `endpoint` with `box_secret`
  // (throws zmq::error_t when it cannot), on the calling thread; Start
  // hands them to a thread of their own.
  NetLoop(zmq::context_t& ctx, Handoff& handoff, const uint8_t* box_secret,
          const std::string& endpoint, std::unique_ptr<store::TrustProbe> probe,
          std::shared_ptr<const TrustCache> trust);
  // Stops and joins the thread.
  ~NetLoop();

  void Start();
  void Stop();

 private:
  struct Conn {
    int64_t accepted_ms = 0;
    uint64_t inode = 0;
    std::string rid;  // empty until its first frame
    bool shut = false;
  };
  // A connection that has sent a frame (ZAP admitted its key).
  struct Route {
    replication::PublicKey box{};
    int fd = -1;
    int64_t last_seen_ms = 0;
  };

  void Run();
  void Turn();
  void Admissions();
  void OnMonitorEvents();
  void Drain();
  void Deliver();
  void Pump();
  void Accept(const std::string& rid, const replication::PublicKey& box, int fd);
  void Close(const std::string& rid, const std::string& why);
  void Forget(const std::string& rid);
  bool Forgotten(const std::string& rid);
  bool Admit(const replication::PublicKey& key);
  void ShutDown(int fd, Conn& c);

  Handoff& handoff_;
  // Sockets, in the order they are made and the reverse of their closing:
  // ZAP before any connection can be accepted.
  ZapHandler zap_;
  zmq::socket_t router_;
  ListenMonitor monitor_;
  // Per enrolled key, when each connection ZAP admitted and that has sent
  // nothing yet was admitted (oldest first).
  std::map<replication::PublicKey, std::deque<int64_t>> waiting_;
  std::map<int, Conn> conns_;            // by file descriptor
  std::map<std::string, Route> routes_;  // by ZeroMQ routing id
  // Closed here, until the monitor reports the connection gone (oldest first).
  std::set<std::string> closed_;
  std::deque<std::string> closed_order_;
  std::map<replication::PublicKey, std::deque<std::string>> by_key_;  // oldest first
  int64_t last_pump_ms_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tuphap::node::transport
