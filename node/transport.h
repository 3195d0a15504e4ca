// Sync over ZeroMQ (docs/protocol.md, Transport): a ROUTER on the listening
// side, a DEALER on the dialling side, CURVE encryption with the nodes'
// X25519 keys, and a ZAP handler that admits only enrolled, unrevoked keys.
// Boost.Asio runs the timers and SIGINT/SIGTERM: a signal stops the loop
// between batches (a batch is committed whole or not at all).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "node/node.h"
#include "node/reconcile.h"
#include "node/sync.h"

namespace tuphap::node {

struct ServeOptions {
  std::string listen;                  // e.g. tcp://0.0.0.0:7700; empty: do not listen
  std::vector<std::string> upstreams;  // endpoints to dial and keep syncing with
  int pump_interval_ms = 200;          // how often local changes are looked for (live)
  // How often the store's metrics (node_metrics.h) are read, at most; and
  // a second after a session ended.
  int metrics_interval_ms = 15000;
  // How many peers may send this node their backlog at once. A HELLO
  // whose heads show the peer holds changes this node lacks waits for its
  // answer while that many are catching up (first come, first answered);
  // a peer with nothing to send is answered at once. 0: no limit.
  int max_catching_up = 16;
  // Called once the listener is bound and every upstream dialled (systemd's
  // READY=1), and after every turn of the loop (its watchdog keep-alive).
  std::function<void()> on_ready;
  std::function<void()> on_turn;
};

// Runs until SIGINT/SIGTERM (or `stop` becomes true).
Status Serve(Node& node, const ServeOptions& options, std::atomic<bool>* stop = nullptr);

struct SyncOnceOptions {
  std::string endpoint;
  // The node expected there (its id text); default: this province's hub.
  std::string peer;
  int timeout_s = 60;  // with no progress for this long, give up
};

struct SyncResult {
  SyncStats stats;        // every session of the run added up
  uint64_t sessions = 0;  // sessions it took (one per connection)
  std::string peer_id;    // NodeIdText of the peer
};

// Syncs until both sides have caught up, then returns. Unavailable when the
// peer cannot be reached or refuses this node's key.
Result<SyncResult> SyncOnce(Node& node, const SyncOnceOptions& options);

// A tcp://127.0.0.1:PORT endpoint whose port was free a moment ago (the
// demo's hub, tests, benchmarks): the kernel picks it.
std::string FreeLoopbackEndpoint();

// Questions to a listening node outside a sync session (reconcile): one
// CURVE connection, each Ask one QUERY frame and the ANSWER to it.
class PeerQueries final : public QueryChannel {
 public:
  // `peer`: the node expected there (its id text); default: this province's
  // hub. Connects lazily; Unavailable when the peer cannot be reached or
  // refuses this node's key.
  static Result<std::unique_ptr<PeerQueries>> Open(Node& node, const std::string& endpoint,
                                                   const std::string& peer, int timeout_s = 60);
  ~PeerQueries() override;
  Result<std::string> Ask(const std::string& what, std::string body) override;

  uint64_t bytes_out() const;  // frames sent, in bytes (CURVE adds 33 a frame)
  uint64_t bytes_in() const;
  uint64_t queries() const;
  // Queries the peer refused E_RATE_LIMITED (each asked again later).
  uint64_t rate_limited() const;
  const std::string& peer_id() const;

 private:
  struct Impl;
  explicit PeerQueries(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tuphap::node
