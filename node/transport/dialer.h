// The dialling side (internal to node/transport): a DEALER to one peer,
// the monitor that tells a refused key from an unreachable peer, and the
// current sync session. `serve --upstream`, `sync --once` and reconcile's
// PeerQueries each drive Dials.
#pragma once

#include <memory>
#include <string>
#include <zmq.hpp>

#include "node/node.h"
#include "node/sync.h"

namespace tuphap::node::transport {

// What happened to a dial's connections since its last acknowledged
// progress: what `sync --timeout` says when it gives up.
struct DialCounts {
  uint64_t tcp = 0;         // TCP connections made
  uint64_t handshakes = 0;  // CURVE handshakes completed
  uint64_t refused = 0;     // handshakes that failed (not the expected node's key there)
  uint64_t lost = 0;        // connections lost after the handshake
  uint64_t hellos = 0;      // sessions the peer answered
};

// Monitor events of a dialling socket, read without blocking.
class DialMonitor final : public zmq::monitor_t {
 public:
  explicit DialMonitor(DialCounts& counts) : counts_(counts) {}
  bool connected = false;
  bool auth_failed = false;
  bool lost = false;  // the connection dropped since last asked
  void on_event_connected(const zmq_event_t&, const char*) override { ++counts_.tcp; }
  void on_event_handshake_succeeded(const zmq_event_t&, const char*) override;
  void on_event_handshake_failed_auth(const zmq_event_t& e, const char*) override;
  void on_event_handshake_failed_protocol(const zmq_event_t&, const char*) override {
    ++counts_.refused;
  }
  void on_event_handshake_failed_no_detail(const zmq_event_t&, const char*) override {
    ++counts_.refused;
  }
  void on_event_disconnected(const zmq_event_t&, const char*) override;

 private:
  DialCounts& counts_;
};

// One dialled peer: a DEALER socket, its monitor and the current session.
// The monitor counts into `since_progress`: a Dial is built in place and
// never moved once opened.
struct Dial {
  zmq::context_t* ctx = nullptr;
  int index = 0;
  int generation = 0;  // sockets opened so far (each needs its own monitor address)
  std::string endpoint;
  replication::Certificate peer;
  std::unique_ptr<zmq::socket_t> socket;
  std::unique_ptr<DialMonitor> monitor;
  std::unique_ptr<SyncSession> session;
  bool reported = false;  // this session's catch-up was recorded
  // What the peers table holds of this session: its stats and progress
  // when last recorded (a live session records again when later batches
  // were acknowledged: it is in sync again then).
  SyncStats recorded;
  uint64_t recorded_progress = 0;
  PeerMemory memory;  // of this peer across connections (frame size)
  // The last acknowledged progress (a batch acknowledged either way), and
  // what the connections did since.
  int64_t last_progress_ms = 0;
  uint64_t session_progress = 0;
  DialCounts since_progress;
  int64_t last_traffic_ms = 0;  // the last frame either way (keepalive, silence)
  SyncStats past;               // of the sessions before this one
  uint64_t sessions = 0;

  // Ends the current session; `lost`: with its connection (frames in
  // flight shrink the link's frames).
  void EndSession(bool lost);
  // Every session of this dial added up.
  SyncStats Totals() const;
};

// The node expected at an endpoint: the named one (its id text), or the
// province's hub when `peer` is empty. FailedPrecondition when this node is
// not enrolled, NotFound when no such certificate is known.
Result<const replication::Certificate*> PeerCertificate(Node& node, const std::string& peer);

// Opens a fresh DEALER (and monitor) for `d`: a new connection never
// inherits frames an earlier one left queued.
Status OpenDial(Node& node, Dial& d);

// Reads the dial's monitor events; PermissionDenied (E_NOT_AUTHORISED) when
// the node there refused this node's key — refused, not unreachable (exit
// code 4): trying again will not help.
Status PollMonitor(Dial& d);

// Runs the dial's monitor and socket once: starts a session on a new
// connection, hands it the frames that came, reconnects after a loss.
// Returns an error only for what ends a --once sync.
Status ServiceDial(Node& node, Dial& d);

// A pump of the dial's live session: local changes, or a keepalive after
// a silence.
void PumpDial(Dial& d);

// Why a dial made no acknowledged progress for `timeout_s` (Unavailable,
// with a reason), from what its connections did meanwhile.
Status NoProgress(const Dial& d, int timeout_s);

}  // namespace tuphap::node::transport
