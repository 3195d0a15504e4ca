// Sync over ZeroMQ (docs/protocol.md, Transport): a ROUTER on the listening
// side, a DEALER on the dialling side, CURVE encryption with the nodes'
// X25519 keys, and a ZAP handler that admits only enrolled, unrevoked keys.
// Boost.Asio runs the timers and SIGINT/SIGTERM: a signal stops the loop
// between batches (a batch is committed whole or not at all).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "node/node.h"
#include "node/sync.h"

namespace tuphap::node {

struct ServeOptions {
  std::string listen;                  // e.g. tcp://0.0.0.0:7700; empty: do not listen
  std::vector<std::string> upstreams;  // endpoints to dial and keep syncing with
  int pump_interval_ms = 200;          // how often local changes are looked for (live)
  std::ostream* log = nullptr;
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
  SyncStats stats;
  std::string peer_id;  // NodeIdText of the peer
};

// Syncs until both sides have caught up, then returns. Unavailable when the
// peer cannot be reached or refuses this node's key.
Result<SyncResult> SyncOnce(Node& node, const SyncOnceOptions& options);

}  // namespace tuphap::node
