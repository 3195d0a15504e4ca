// The queues between the listener's two threads (internal to
// node/transport): the network thread (transport/net.cc), which only moves
// frames, and the worker, which owns the Node and runs every session,
// ingest, bookkeeping and reconcile answer (transport/listener.cc).
//
// Network -> worker: frames by connection, each connection's in order,
// taken one connection at a time in turn, connections whose next frame is
// neither a BATCH nor a QUERY first (a HELLO, an ACK or DONE is answered
// without waiting for the batches of other connections queued before it);
// and events (a connection lost, one closed, trust to reload). A
// connection whose batch the worker holds in part is held: its frames
// wait. What a connection has queued and the frame the worker holds of it
// count against its inbox bound (net.cc): a peer over it is closed and what it
// queued dropped, so the queue is bounded by the connections' bounds.
// Worker -> network: frames to send, and the trust the worker holds.
// Each side is woken by an eventfd the other writes.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "replication/crypto.h"

namespace tuphap::node::transport {

// The worker's trust as the network thread needs it to admit connections:
// the X25519 keys of enrolled, unrevoked nodes, and the store's trust stamp
// it was read at (Node::trust_stamp).
struct TrustCache {
  bool available = false;  // false: no trust could be read (ZAP answers 500)
  std::string stamp;
  std::set<replication::PublicKey> admitted;
};

class Handoff {
 public:
  Handoff();
  ~Handoff();
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  struct Pending {
    size_t frames = 0;
    size_t bytes = 0;
  };

  // --- the network thread ---
  // Queues one frame of connection `rid`. Returns what the connection
  // then has waiting at the worker (queued, and the frame in hand).
  Pending PushFrame(const std::string& rid, zmq::message_t frame);
  // The connection was lost: its queued frames are still handled (a batch
  // that arrived whole is committed), then its session ends.
  void PushGone(const std::string& rid);
  // The network thread closed the connection: what it queued is dropped
  // unread, its session ends with `why`.
  void PushClosed(const std::string& rid, const std::string& why);
  // A handshake waits for the worker's trust: the worker reloads it if the
  // store's moved and publishes it (repeated asks before it does are one).
  void AskTrust();
  // The worker's output, oldest first.
  struct Out {
    std::string rid;  // empty: a trust update
    std::vector<std::string> frames;
    std::shared_ptr<const TrustCache> trust;
  };
  std::vector<Out> TakeOut();
  int network_fd() const { return net_fd_; }
  // Wakes the network thread (to stop it, say).
  void WakeNetwork();

  // --- the worker ---
  struct Work {
    enum class Kind { kNone, kFrame, kGone, kClosed, kTrust };
    Kind kind = Kind::kNone;
    std::string rid;
    std::string why;       // kClosed
    zmq::message_t frame;  // kFrame
  };
  // The next thing to do, without waiting (kNone: nothing). A frame taken
  // stays counted against its connection until Done. `light_only`: only
  // events but a lost connection's, and frames neither BATCH nor QUERY.
  Work Take(bool light_only = false);
  // Whether a peer waits to begin: a HELLO or HEADS frame of a connection
  // not held, or a handshake waiting for trust. What a worker in the middle
  // of a batch stops for (Node::Ingest's yield); ACKs, DONEs and the other
  // events wait for the batch (each stop costs the batch a commit).
  bool has_urgent();
  // A connection whose batch the worker holds in part: none of its frames
  // is taken until it is released, so they stay in order.
  void Hold(const std::string& rid, bool held);
  // The next frame of `rid` still queued (a lost connection's last frames).
  std::optional<zmq::message_t> TakeFrameOf(const std::string& rid);
  // The frame of `rid` taken last was handled.
  void Done(const std::string& rid, size_t bytes);
  void Send(const std::string& rid, std::vector<std::string>& frames);
  void PublishTrust(std::shared_ptr<const TrustCache> trust);
  int worker_fd() const { return worker_fd_; }
  // Clears the worker's wake-up: call before taking work.
  void ClearWorkerWake();
  bool has_work();

 private:
  static void Wake(int fd);
  static void Clear(int fd);

  std::mutex mu_;
  // network -> worker
  std::map<std::string, std::deque<zmq::message_t>> queued_;
  std::deque<std::string> ready_;  // connections with frames queued, in turn
  std::set<std::string> held_;     // Hold: their frames wait
  std::map<std::string, Pending> pending_;
  std::deque<Work> events_;
  bool trust_asked_ = false;
  // worker -> network
  std::vector<Out> out_;
  int worker_fd_ = -1;
  int net_fd_ = -1;
};

}  // namespace tuphap::node::transport
