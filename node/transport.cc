#include "node/transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <zmq.hpp>

#include "base/hex.h"

namespace tuphap::node {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "tuphap";
// A listener closes a connection silent this long; a dialler sends a
// keepalive after kKeepAliveMs without traffic and reconnects after
// kDialSilenceMs.
constexpr int64_t kSessionIdleMs = 300000;
constexpr int64_t kKeepAliveMs = 30000;
constexpr int64_t kDialSilenceMs = 120000;
// Per-peer bounds of a listener (docs/protocol.md, Bounds).
// Connections of one node's key at once: a further one closes the oldest
// (a cut link leaves dead ones behind until the heartbeat notices).
constexpr size_t kMaxConnectionsPerPeer = 4;
// A connection that has sent no frame this long after it was accepted.
constexpr int64_t kFirstFrameMs = 15000;
// Frames queued to one connection (ZeroMQ's send high-water mark, with
// ZMQ_ROUTER_MANDATORY): a peer with this many unread is not reading and
// is dropped. A session has at most 4 batches and 4 acks out at once.
constexpr int kSendQueueFrames = 16;
// Frames received from one connection and not yet handled: not bounded by
// ZeroMQ's receive high-water mark, because libzmq 4.3.4 (Debian 12)
// aborts — `Assertion failed: !_io_error (stream_engine_base.cpp)` — when
// a connection whose input was stopped by a full receive queue is closed
// and then a heartbeat or a buffered PING makes it write: any peer could
// bring a listener down that way (our attack test did). The listener
// instead reads every connection into an inbox between the frames it
// handles, and closes one whose inbox holds more than this (an honest
// peer's window keeps 4 BATCHes of at most 1 MiB and a few small frames
// waiting at most).
constexpr int kReceiveQueueFrames = 0;  // ZMQ_RCVHWM: no limit, see above
constexpr size_t kMaxInboxFrames = 32;
// How long the listener handles frames before it looks at new connections
// again (a handshake waits for its ZAP answer).
constexpr int64_t kMaxReceiveMs = 100;
constexpr size_t kMaxInboxBytes = 16 << 20;  // two frames of the largest size

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

void CommonOptions(zmq::socket_t& s) {
  // The frame limit is enforced by libzmq before any byte is decoded.
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(replication::kMaxFrameBytes));
  s.set(zmq::sockopt::sndhwm, kSendQueueFrames);
  s.set(zmq::sockopt::rcvhwm, kReceiveQueueFrames);
  s.set(zmq::sockopt::heartbeat_ivl, 2000);
  s.set(zmq::sockopt::heartbeat_timeout, 6000);
  s.set(zmq::sockopt::handshake_ivl, 10000);
  s.set(zmq::sockopt::linger, 0);
}

zmq::const_buffer KeyBuffer(const uint8_t* data) { return zmq::const_buffer(data, 32); }

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
  void on_event_handshake_succeeded(const zmq_event_t&, const char*) override {
    connected = true;
    ++counts_.handshakes;
  }
  // ZAP's status: 400 refuses the key; 300 and 500 are temporary (too many
  // connections of it waiting, trust being read): try again.
  void on_event_handshake_failed_auth(const zmq_event_t& e, const char*) override {
    if (e.value == 300 || e.value == 500) {
      ++counts_.refused;
    } else {
      auth_failed = true;
    }
  }
  void on_event_handshake_failed_protocol(const zmq_event_t&, const char*) override {
    ++counts_.refused;
  }
  void on_event_handshake_failed_no_detail(const zmq_event_t&, const char*) override {
    ++counts_.refused;
  }
  void on_event_disconnected(const zmq_event_t&, const char*) override {
    if (connected) ++counts_.lost;
    connected = false;
    lost = true;
  }

 private:
  DialCounts& counts_;
};

// Who may connect: the X25519 keys of this province's enrolled, unrevoked
// nodes. Answers ZAP requests (RFC 27).
const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box);

// Answers one ZAP request, if one is waiting: `admit` says whether an
// enrolled key may have one more connection now. Returns whether it
// answered.
bool AnswerZap(zmq::socket_t& zap, Node& node,
               const std::function<bool(const replication::PublicKey&)>& admit, std::ostream* log) {
  std::vector<zmq::message_t> req;
  while (true) {
    zmq::message_t m;
    if (!zap.recv(m, zmq::recv_flags::dontwait)) break;
    const bool more = m.more();
    req.push_back(std::move(m));
    if (!more) break;
  }
  if (req.empty()) return false;
  // Every request gets a reply (a REP socket must answer), malformed or not.
  std::string status = "400", text = "unknown key", user;
  if (req.size() >= 7 && req[5].to_string() == "CURVE" && req[6].size() == 32) {
    replication::PublicKey client;
    std::copy_n(static_cast<const uint8_t*>(req[6].data()), 32, client.begin());
    // Trust is re-read when it changed in the store (a node enrolled or
    // revoked by another process a moment ago), a cheap check otherwise.
    const Result<bool> reloaded = node.ReloadTrustIfChanged();
    if (!reloaded.ok() || node.trust() == nullptr) {
      status = "500";  // temporary: the peer may try again
      text = "trust unavailable";
    } else if (CertOfBoxKey(node, client) != nullptr) {
      if (admit(client)) {
        status = "200";
        text = "OK";
        user = ToHex(std::string_view(reinterpret_cast<const char*>(client.data()), 32));
      } else {
        status = "300";  // temporary: too many of its connections say nothing yet
        text = "too many connections";
      }
    }
    if (status == "400" && log != nullptr)
      *log << "refused a connection from an unenrolled or revoked key" << std::endl;
  }
  const std::string request_id = req.size() > 1 ? req[1].to_string() : std::string();
  zap.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(status), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(user), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(std::string()), zmq::send_flags::none);
  return true;
}

// The node expected at an endpoint: the named one, or the province's hub.
Result<const replication::Certificate*> PeerCertificate(Node& node, const std::string& peer) {
  TUPHAP_RETURN_IF_ERROR(node.ReloadTrust());
  const Trust* trust = node.trust();
  if (trust == nullptr || !node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: it cannot sync yet")
        .WithReason("E_NOT_ENROLLED");
  if (!peer.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(std::string fp, ParseNodeIdText(peer));
    const replication::Certificate* c = trust->CertByFingerprint(fp);
    if (c == nullptr) return Status::NotFound("no enrolled node " + peer + " is known here");
    return c;
  }
  for (const auto& [sign, cert] : trust->certificates()) {
    if (cert.role == replication::NodeRole::kHub && cert.province == node.info().province &&
        !trust->IsRevoked(sign))
      return &cert;
  }
  return Status::NotFound("no hub certificate for province " + node.info().province);
}

// One dialled peer: a DEALER socket, its monitor and the current session.
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
  PeerMemory memory;      // of this peer across connections (frame size)
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
  void EndSession(bool lost) {
    if (!session) return;
    if (lost) session->ConnectionLost();
    past += session->stats();
    session.reset();
  }
  SyncStats Totals() const {
    SyncStats t = past;
    if (session) t += session->stats();
    return t;
  }
};

// Opens a fresh DEALER (and monitor) for `d`: a new connection never
// inherits frames an earlier one left queued.
Status OpenDial(Node& node, Dial& d) {
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  d.monitor.reset();
  d.socket.reset();
  d.socket = std::make_unique<zmq::socket_t>(*d.ctx, zmq::socket_type::dealer);
  CommonOptions(*d.socket);
  d.socket->set(zmq::sockopt::curve_serverkey, KeyBuffer(d.peer.box_key.data()));
  d.socket->set(zmq::sockopt::curve_publickey, KeyBuffer(node.box_key().data()));
  d.socket->set(zmq::sockopt::curve_secretkey, KeyBuffer(secrets->box.secret().data()));
  // Reconnection backs off exponentially up to 30 s; a random first
  // interval spreads many communes reconnecting after an outage.
  std::random_device rd;
  d.socket->set(zmq::sockopt::reconnect_ivl, 100 + static_cast<int>(rd() % 400));
  d.socket->set(zmq::sockopt::reconnect_ivl_max, 30000);
  d.monitor = std::make_unique<DialMonitor>(d.since_progress);
  d.monitor->init(
      *d.socket,
      "inproc://tuphap-monitor-" + std::to_string(d.index) + "-" + std::to_string(d.generation++),
      ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
          ZMQ_EVENT_DISCONNECTED);
  d.socket->connect(d.endpoint);
  d.last_traffic_ms = NowMs();
  return Status::Ok();
}

// Reads the dial's monitor events; an error when the node there refused
// this node's key — refused, not unreachable (exit code 4): trying again
// will not help.
Status PollMonitor(Dial& d) {
  while (d.monitor->check_event(0)) {
  }
  if (!d.monitor->auth_failed) return Status::Ok();
  d.monitor->auth_failed = false;
  return Status::PermissionDenied("the node at " + d.endpoint +
                                  " refused this node's key (not enrolled there, or revoked)")
      .WithReason("E_NOT_AUTHORISED");
}

// Sends without blocking; false when the peer is not reading (its queue is
// full) or gone.
bool SendAll(zmq::socket_t& s, std::vector<std::string>& frames) {
  bool ok = true;
  for (auto& f : frames) {
    try {
      ok = ok && s.send(zmq::buffer(f), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      ok = false;
    }
  }
  frames.clear();
  return ok;
}

// Runs the dial's monitor and socket once. Returns an error only for what
// ends a --once sync.
Status ServiceDial(Node& node, Dial& d, std::ostream* log) {
  TUPHAP_RETURN_IF_ERROR(PollMonitor(d));
  // A lost connection, or a session silent for too long: start again on a
  // fresh socket, from the heads. Frames lost with it shrink the link's
  // frame size.
  // Frames that arrived whole before the connection was lost are still
  // handled (committed) first: they need not cross the link again.
  const bool silent = d.session && NowMs() - d.last_traffic_ms > kDialSilenceMs;
  const bool lost = d.monitor->lost || silent;
  std::vector<std::string> out;
  if (!lost && d.monitor->connected && !d.session) {
    d.session =
        std::make_unique<SyncSession>(node, SyncSession::Side::kDialer, d.peer.box_key, &d.memory);
    d.session_progress = 0;
    ++d.sessions;
    d.reported = false;
    TUPHAP_ASSIGN_OR_RETURN(std::string hello, d.session->Start());
    out.push_back(std::move(hello));
    d.last_traffic_ms = NowMs();
  }
  while (true) {
    zmq::message_t m;
    if (!d.socket->recv(m, zmq::recv_flags::dontwait)) break;
    d.last_traffic_ms = NowMs();
    if (!d.session) continue;  // a frame of a session already given up
    const bool had_hello = d.session->hello_received();
    Status s = d.session->OnFrame(m.to_string_view(), &out);
    if (!had_hello && d.session->hello_received()) ++d.since_progress.hellos;
    if (!s.ok()) {
      SendAll(*d.socket, out);
      d.EndSession(/*lost=*/false);
      return s;
    }
    if (d.session->progress() != d.session_progress) {
      d.session_progress = d.session->progress();
      d.last_progress_ms = NowMs();
      d.since_progress = {};
    }
  }
  if (lost) {
    if (d.session && log != nullptr) *log << "connection to " << d.endpoint << " lost" << std::endl;
    d.EndSession(/*lost=*/true);
    TUPHAP_RETURN_IF_ERROR(OpenDial(node, d));
    return Status::Ok();
  }
  if (!SendAll(*d.socket, out)) d.EndSession(/*lost=*/true);
  if (d.session && d.session->caught_up() && !d.reported) {
    d.reported = true;
    const SyncStats& st = d.session->stats();
    TUPHAP_RETURN_IF_ERROR(node.RecordPeerSession(d.peer.sign_key, d.endpoint, true, st.sent,
                                                  st.received,
                                                  st.refused_here + st.refused_by_peer));
    if (log != nullptr)
      *log << "caught up with " << NodeIdText(d.peer.sign_key) << " at " << d.endpoint << ": sent "
           << st.sent << ", received " << st.received << "\n";
  }
  return Status::Ok();
}

// Why a dial made no acknowledged progress for `timeout_s`, from what its
// connections did meanwhile.
Status NoProgress(const Dial& d, int timeout_s) {
  const DialCounts& c = d.since_progress;
  const std::string head =
      "no batch acknowledged with " + d.endpoint + " for " + std::to_string(timeout_s) + " s: ";
  std::string why, reason;
  if (c.tcp == 0) {
    why = "no connection could be made (is 'tuphap serve' running there?)";
    reason = "E_UNREACHABLE";
  } else if (c.handshakes == 0) {
    why = std::to_string(c.tcp) + " connection(s) made, the secure handshake failed on every one" +
          (c.refused > 0 ? " (" + std::to_string(c.refused) + " refused)" : std::string()) +
          ": the node there is not " + NodeIdText(d.peer.sign_key) +
          " (another hub's key?) or the link drops during the handshake";
    reason = "E_HANDSHAKE";
  } else if (c.hellos == 0) {
    why = std::to_string(c.handshakes) +
          " connection(s) made, the peer never answered HELLO (peer silent)";
    reason = "E_PEER_SILENT";
  } else if (c.lost > 0) {
    why = std::to_string(c.hellos) + " session(s) opened and " + std::to_string(c.lost) +
          " connection(s) lost before a batch got through (the link drops connections)";
    reason = "E_LINK_DROPS";
  } else {
    why = "the session opened but the peer has been silent since (peer silent)";
    reason = "E_PEER_SILENT";
  }
  return Status::Unavailable(head + why).WithReason(reason);
}

// zmq::poll, except that a signal (SIGTERM, SIGINT) interrupting it is
// not an error: the loop goes round and Asio delivers the signal.
bool PollOrSignal(std::vector<zmq::pollitem_t>& items, int ms) {
  try {
    zmq::poll(items, std::chrono::milliseconds(ms));
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

// Sends frames to one peer of a ROUTER without blocking.
bool SendTo(zmq::socket_t& router, const std::string& rid, std::vector<std::string>& frames) {
  bool ok = true;
  for (auto& f : frames) {
    try {
      ok = ok &&
           router.send(zmq::buffer(rid), zmq::send_flags::sndmore | zmq::send_flags::dontwait)
               .has_value() &&
           router.send(zmq::buffer(f), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      ok = false;
    }
  }
  frames.clear();
  return ok;
}

// The certificate of an enrolled, unrevoked node with this X25519 key.
const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box) {
  if (node.trust() == nullptr) return nullptr;
  for (const auto& [sign, cert] : node.trust()->certificates()) {
    if (cert.box_key == box && !node.trust()->IsRevoked(sign)) return &cert;
  }
  return nullptr;
}

// The ZAP-admitted peer's X25519 key, from the frame's User-Id.
std::optional<replication::PublicKey> BoxKeyOf(zmq::message_t& frame) {
  const char* user = nullptr;
  try {
    user = frame.gets("User-Id");
  } catch (const zmq::error_t&) {
    return std::nullopt;  // not admitted by ZAP: never served
  }
  if (user == nullptr) return std::nullopt;
  auto bytes = FromHex(user);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  replication::PublicKey k;
  std::copy(bytes->begin(), bytes->end(), k.begin());
  return k;
}

// Answers one QUERY frame (reconcile) from a ZAP-admitted peer.
void AnswerQuery(Node& node, ReconcileResponder& responder, zmq::socket_t& router,
                 const std::string& rid, zmq::message_t& frame, std::ostream* log) {
  std::vector<std::string> out;
  auto error = [&](const std::string& code, const std::string& message) {
    out.push_back(replication::Encode(replication::ErrorMessage{code, message}));
  };
  const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
  const replication::Certificate* cert = box ? CertOfBoxKey(node, *box) : nullptr;
  auto msg = replication::Decode(frame.to_string_view());
  if (cert == nullptr) {
    error("E_NOT_AUTHORISED", "this node does not know the asking key");
  } else if (!msg.ok()) {
    error(msg.status().reason(), msg.status().message());
  } else {
    const auto& q = std::get<replication::Query>(*msg);
    Result<std::string> a = responder.Answer(*cert, q.what, q.body, NowMs());
    if (a.ok()) {
      out.push_back(replication::Encode(replication::Answer{q.query_no, std::move(*a)}));
    } else {
      if (log != nullptr)
        *log << "query " << q.what << " refused: " << a.status().ToString() << "\n";
      error(a.status().reason().empty() ? "E_INTERNAL" : a.status().reason(), a.status().message());
    }
  }
  SendTo(router, rid, out);
}

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

uint64_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// The listening side: every connection, its peer's session, and the
// per-peer bounds (docs/protocol.md, Bounds).
//
// ZeroMQ gives a ROUTER no way to close one peer's connection, so the
// listener follows connections by file descriptor (the monitor's
// accepted/disconnected events, each frame's ZMQ_SRCFD) and closes one
// itself with shutdown(2): libzmq then sees the stream end and cleans it up
// as for any lost connection. The descriptor's inode is checked first, so
// a number reused by a newer connection is never shut.
class Listener {
 public:
  Listener(Node& node, zmq::socket_t& router, zmq::socket_t& zap, ListenMonitor& monitor,
           std::ostream* log)
      : node_(node), router_(router), zap_(zap), monitor_(monitor), responder_(node), log_(log) {}

  // New connections (ZAP, the monitor) and every frame waiting.
  void Service() {
    Admissions();
    Receive();
  }

  // Every waiting ZAP request answered, and the monitor's events: called
  // between the frames Receive handles too, so that a busy turn delays no
  // handshake.
  void Admissions() {
    const auto admit = [this](const replication::PublicKey& key) { return Admit(key); };
    while (AnswerZap(zap_, node_, admit, log_)) {
    }
    while (monitor_.check_event(0)) {
    }
    Monitor(monitor_);
  }

  // Accepted and lost connections.
  void Monitor(ListenMonitor& monitor) {
    for (const auto& e : monitor.events) {
      if (e.accepted) {
        conns_[e.fd] = Conn{NowMs(), InodeOf(e.fd), {}, false};
        continue;
      }
      auto it = conns_.find(e.fd);
      if (it == conns_.end()) continue;
      if (!it->second.rid.empty()) {
        const std::string rid = it->second.rid;
        if (overflowed_.erase(rid) == 0) FinishGone(rid);
        Drop(rid, nullptr);
        inbox_.erase(rid);
      }
      conns_.erase(it);
    }
    monitor.events.clear();
  }

  // Reads every frame waiting on the ROUTER into its connection's inbox,
  // then handles one frame of each connection in turn, reading again
  // between turns: an honest peer, whose window keeps a few frames in
  // flight, never has more than that waiting; one that has more than
  // kMaxInboxFrames or kMaxInboxBytes waiting sends faster than it could
  // ever be answered and is closed, what it sent dropped unread.
  void Receive() {
    const int64_t start = NowMs();
    for (int turn = 0; turn < 64 && NowMs() - start < kMaxReceiveMs; ++turn) {
      if (turn > 0) Admissions();
      Drain();
      std::vector<std::string> ready;
      for (const auto& [rid, box] : inbox_) ready.push_back(rid);
      if (ready.empty()) return;
      for (const std::string& rid : ready) {
        Drain();                     // what came in meanwhile: a flood is caught within a frame
        auto it = inbox_.find(rid);  // handling one may have closed another
        if (it == inbox_.end()) continue;
        zmq::message_t frame = std::move(it->second.frames.front());
        it->second.frames.pop_front();
        it->second.bytes -= frame.size();
        if (it->second.frames.empty()) inbox_.erase(it);
        OnFrame(rid, frame);
      }
    }
  }

  // Every pump interval: live sessions' new changes, and idle connections.
  void Pump() {
    const int64_t now = NowMs();
    responder_.Expire(now);
    std::vector<std::string> close;
    for (auto& [rid, p] : peers_) {
      if (now - p.last_seen_ms > kSessionIdleMs) {
        close.push_back(rid);
        continue;
      }
      std::vector<std::string> out;
      if (p.session && p.session->Pump(&out).ok() && !Send(rid, out)) close.push_back(rid);
    }
    for (const auto& rid : close) Close(rid, "silent or not reading");
    std::set<int> carried;  // descriptors whose frames reached a peer
    for (const auto& [rid, p] : peers_) carried.insert(p.fd);
    for (auto& [fd, c] : conns_) {
      if (c.rid.empty() && !c.shut && carried.count(fd) == 0 &&
          now - c.accepted_ms > kFirstFrameMs) {
        ShutDown(fd, c);  // connected and said nothing
        if (log_ != nullptr) *log_ << "closed a connection that sent nothing" << std::endl;
      }
    }
  }

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
    bool reported = false;
  };

  void Drain() {
    while (true) {
      zmq::message_t id, frame;
      if (!router_.recv(id, zmq::recv_flags::dontwait)) return;
      if (!id.more() || !router_.recv(frame, zmq::recv_flags::none)) continue;
      while (frame.more()) {  // a well-behaved peer sends one frame per message
        zmq::message_t extra;
        if (!router_.recv(extra, zmq::recv_flags::none)) break;
        frame.move(extra);
      }
      const std::string rid = id.to_string();
      if (overflowed_.count(rid) != 0) continue;  // closed: the rest is dropped unread
      const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
      Inbox& box = inbox_[rid];
      box.bytes += frame.size();
      box.frames.push_back(std::move(frame));
      if (box.frames.size() <= kMaxInboxFrames && box.bytes <= kMaxInboxBytes) continue;
      inbox_.erase(rid);
      overflowed_.insert(rid);
      if (peers_.count(rid) != 0) {
        Close(rid, "it sent more than could ever be answered");
      } else if (auto c = conns_.find(fd); c != conns_.end()) {
        c->second.rid = rid;  // forgotten with the connection
        ShutDown(fd, c->second);
      }
    }
  }

  // A lost connection's frames that arrived whole are still handled
  // (committed): they need not cross the link again. What it would be
  // answered is dropped.
  void FinishGone(const std::string& rid) {
    Drain();
    auto it = inbox_.find(rid);
    if (it == inbox_.end() || peers_.count(rid) == 0) return;
    std::deque<zmq::message_t> left = std::move(it->second.frames);
    inbox_.erase(it);
    gone_ = rid;
    for (auto& f : left) {
      if (peers_.count(rid) == 0) break;
      OnFrame(rid, f);
    }
    gone_.clear();
  }

  void OnFrame(const std::string& rid, zmq::message_t& frame) {
    auto pit = peers_.find(rid);
    if (pit == peers_.end()) {
      // A new connection: only a ZAP-admitted key reaches here, and each
      // key has at most kMaxConnectionsPerPeer.
      const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
      if (!box) return;
      const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
      Peer p;
      p.box = *box;
      p.fd = fd;
      if (auto c = conns_.find(fd); c != conns_.end() && c->second.rid.empty()) c->second.rid = rid;
      // This connection was admitted by ZAP: it no longer waits to speak.
      if (auto w = waiting_.find(*box); w != waiting_.end() && !w->second.empty()) {
        w->second.pop_front();
        if (w->second.empty()) waiting_.erase(w);
      }
      while (true) {
        auto mine = by_key_.find(*box);
        if (mine == by_key_.end() || mine->second.size() < kMaxConnectionsPerPeer) break;
        const std::string oldest = mine->second.front();
        if (peers_.count(oldest) == 0) {
          mine->second.pop_front();
          continue;
        }
        Close(oldest,
              "more than " + std::to_string(kMaxConnectionsPerPeer) + " connections of one node");
      }
      by_key_[*box].push_back(rid);
      pit = peers_.emplace(rid, std::move(p)).first;
    }
    Peer& p = pit->second;
    p.last_seen_ms = NowMs();
    const std::string_view f = frame.to_string_view();
    const uint64_t type = replication::PeekType(f);
    if (type == static_cast<uint64_t>(replication::MessageType::kQuery)) {
      AnswerQuery(node_, responder_, router_, rid, frame, log_);
      return;
    }
    if (type == static_cast<uint64_t>(replication::MessageType::kHello) || !p.session) {
      // A new HELLO on the same connection: the peer's choice, not a loss.
      p.session = std::make_unique<SyncSession>(node_, SyncSession::Side::kListener, p.box,
                                                &memories_[p.box]);
      p.reported = false;
    }
    std::vector<std::string> out;
    Status s = p.session->OnFrame(f, &out);
    if (rid != gone_ && !Send(rid, out)) {
      Close(rid, "not reading");
      return;
    }
    if (!s.ok()) {
      if (log_ != nullptr) *log_ << "session ended: " << s.ToString() << std::endl;
      Record(p, false);
      p.session.reset();  // the connection stays; a new HELLO starts again
      return;
    }
    if (p.session->caught_up() && !p.reported) {
      p.reported = true;
      Record(p, true);
    }
  }

  // Sends without blocking. False when the peer is gone or has
  // kSendQueueFrames unread (ZMQ_ROUTER_MANDATORY makes both an error).
  bool Send(const std::string& rid, std::vector<std::string>& frames) {
    return SendTo(router_, rid, frames);
  }

  // Bookkeeping of a session's outcome: a busy store must not stop the
  // server.
  void Record(Peer& p, bool caught_up) {
    const replication::Certificate* c = p.session ? p.session->peer() : nullptr;
    if (c == nullptr) return;
    const SyncStats& st = p.session->stats();
    if (caught_up && st.quarantined > 0) {
      // Not caught up: what its origin sends is refused here.
      if (log_ != nullptr)
        *log_ << "session with " << NodeIdText(c->sign_key) << ": " << st.quarantined
              << " envelope(s) of a quarantined origin refused (E_QUARANTINED)" << std::endl;
      caught_up = false;
    }
    Status rec = node_.RecordPeerSession(c->sign_key, "", caught_up, st.sent, st.received,
                                         st.refused_here + st.refused_by_peer);
    if (!rec.ok() && log_ != nullptr) *log_ << "peer bookkeeping: " << rec.ToString() << std::endl;
    if (caught_up && log_ != nullptr)
      *log_ << "caught up with " << NodeIdText(c->sign_key) << ": sent " << st.sent << ", received "
            << st.received << ", refused " << st.refused_here << std::endl;
  }

  // Forgets a peer's connection state; `why` non-null: also closes it.
  void Drop(const std::string& rid, const std::string* why) {
    auto it = peers_.find(rid);
    if (it == peers_.end()) return;
    Peer& p = it->second;
    if (p.session) {
      p.session->ConnectionLost();  // frames in flight: the link's frames shrink
      if (!p.reported) Record(p, false);
    }
    if (why != nullptr) {
      auto c = conns_.find(p.fd);
      if (c != conns_.end() && c->second.rid == rid) ShutDown(p.fd, c->second);
      if (log_ != nullptr && p.session && p.session->peer() != nullptr)
        *log_ << "closed a connection of " << NodeIdText(p.session->peer()->sign_key) << ": "
              << *why << std::endl;
    }
    inbox_.erase(rid);
    auto k = by_key_.find(p.box);
    if (k != by_key_.end()) {
      std::erase(k->second, rid);
      if (k->second.empty()) by_key_.erase(k);
    }
    peers_.erase(it);
  }
  void Close(const std::string& rid, const std::string& why) { Drop(rid, &why); }

  // Whether an enrolled key may have one more connection: at most
  // kMaxConnectionsPerPeer admitted and not yet heard from within
  // kFirstFrameMs (the rest are closed by the idle rule anyway).
  bool Admit(const replication::PublicKey& key) {
    const int64_t now = NowMs();
    std::deque<int64_t>& w = waiting_[key];
    while (!w.empty() && now - w.front() > kFirstFrameMs) w.pop_front();
    if (w.size() >= kMaxConnectionsPerPeer) return false;
    w.push_back(now);
    return true;
  }

  void ShutDown(int fd, Conn& c) {
    if (c.shut || fd < 0 || InodeOf(fd) != c.inode) return;
    shutdown(fd, SHUT_RDWR);
    c.shut = true;
  }

  Node& node_;
  zmq::socket_t& router_;
  zmq::socket_t& zap_;
  ListenMonitor& monitor_;
  ReconcileResponder responder_;
  // Per enrolled key, when each connection ZAP admitted and that has sent
  // nothing yet was admitted (oldest first).
  std::map<replication::PublicKey, std::deque<int64_t>> waiting_;
  std::ostream* log_;
  std::map<int, Conn> conns_;           // by file descriptor
  std::map<std::string, Inbox> inbox_;  // by routing id
  std::set<std::string> overflowed_;    // closed for flooding, until the connection is gone
  std::string gone_;                    // the lost connection whose last frames FinishGone handles
  std::map<std::string, Peer> peers_;   // by ZeroMQ routing id
  std::map<replication::PublicKey, std::deque<std::string>> by_key_;  // oldest first
  std::map<replication::PublicKey, PeerMemory> memories_;             // enrolled keys only
};

}  // namespace

Status Serve(Node& node, const ServeOptions& options, std::atomic<bool>* external_stop) {
  if (!node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: run 'tuphap enroll' first")
        .WithReason("E_NOT_ENROLLED");
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  std::ostream* log = options.log;
  std::atomic<bool> stop{false};
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) stop = true;
  });
  bool pump_due = true;
  boost::asio::steady_timer pump(io);
  std::function<void()> arm = [&] {
    pump.expires_after(std::chrono::milliseconds(options.pump_interval_ms));
    pump.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      pump_due = true;
      arm();
    });
  };
  arm();

  zmq::context_t ctx;
  std::unique_ptr<zmq::socket_t> zap, router;
  std::unique_ptr<ListenMonitor> monitor;
  std::unique_ptr<Listener> listener;
  try {
    if (!options.listen.empty()) {
      zap = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::rep);
      zap->bind(kZapEndpoint);  // before any connection can be accepted
      router = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::router);
      CommonOptions(*router);
      // A send to a gone or full peer fails instead of being dropped silently.
      router->set(zmq::sockopt::router_mandatory, true);
      router->set(zmq::sockopt::curve_server, true);
      router->set(zmq::sockopt::curve_secretkey, KeyBuffer(secrets->box.secret().data()));
      router->set(zmq::sockopt::zap_domain, kZapDomain);
      monitor = std::make_unique<ListenMonitor>();
      monitor->init(*router, "inproc://tuphap-listen-monitor",
                    ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED);
      router->bind(options.listen);
      listener = std::make_unique<Listener>(node, *router, *zap, *monitor, log);
    }
    std::vector<Dial> dials(options.upstreams.size());
    for (size_t i = 0; i < dials.size(); ++i) {
      // "NODE-ID@tcp://host:port" names the node there (a commune relay);
      // a bare endpoint is this province's hub.
      std::string up = options.upstreams[i], peer_id;
      if (const size_t at = up.find('@'); at != std::string::npos) {
        peer_id = up.substr(0, at);
        up = up.substr(at + 1);
      }
      dials[i].ctx = &ctx;
      dials[i].index = static_cast<int>(i);
      dials[i].endpoint = up;
      TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert, PeerCertificate(node, peer_id));
      dials[i].peer = *cert;
      TUPHAP_RETURN_IF_ERROR(OpenDial(node, dials[i]));
    }
    if (log != nullptr) {
      *log << "tuphap node " << NodeIdText(node.sign_key()) << " (" << RoleName(node.info().role)
           << ")";
      if (!options.listen.empty()) *log << " listening on " << options.listen;
      for (const auto& e : options.upstreams) *log << " dialling " << e;
      *log << std::endl;
    }
    while (!stop && !(external_stop != nullptr && *external_stop)) {
      io.poll();
      std::vector<zmq::pollitem_t> items;
      if (router) {
        items.push_back({zap->handle(), 0, ZMQ_POLLIN, 0});
        items.push_back({router->handle(), 0, ZMQ_POLLIN, 0});
      }
      for (auto& d : dials) items.push_back({d.socket->handle(), 0, ZMQ_POLLIN, 0});
      if (!PollOrSignal(items, 50)) continue;
      if (listener) listener->Service();
      for (auto& d : dials) {
        Status s = ServiceDial(node, d, log);
        if (!s.ok() && log != nullptr) *log << d.endpoint << ": " << s.ToString() << std::endl;
      }
      if (pump_due) {
        pump_due = false;
        if (listener) listener->Pump();
        for (auto& d : dials) {
          std::vector<std::string> out;
          if (!d.session) continue;
          if (d.session->Pump(&out).ok() && out.empty() &&
              NowMs() - d.last_traffic_ms > kKeepAliveMs && d.session->idle())
            d.session->KeepAlive(&out);
          if (!SendAll(*d.socket, out)) d.EndSession(/*lost=*/true);
        }
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("network: ") + e.what());
  }
  if (log != nullptr) *log << "stopped" << std::endl;
  return Status::Ok();
}

Result<SyncResult> SyncOnce(Node& node, const SyncOnceOptions& options) {
  TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert,
                          PeerCertificate(node, options.peer));
  boost::asio::io_context io;
  std::atomic<bool> stop{false};
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) stop = true;
  });
  zmq::context_t ctx;
  Dial d;
  d.ctx = &ctx;
  d.endpoint = options.endpoint;
  d.peer = *cert;
  d.last_progress_ms = NowMs();
  try {
    TUPHAP_RETURN_IF_ERROR(OpenDial(node, d));
    while (!stop) {
      io.poll();
      std::vector<zmq::pollitem_t> items{{d.socket->handle(), 0, ZMQ_POLLIN, 0}};
      if (!PollOrSignal(items, 20)) continue;
      TUPHAP_RETURN_IF_ERROR(ServiceDial(node, d, nullptr));
      if (d.session && d.session->caught_up()) {
        SyncResult r;
        r.stats = d.Totals();
        r.sessions = d.sessions;
        r.peer_id = NodeIdText(d.peer.sign_key);
        return r;
      }
      if (NowMs() - d.last_progress_ms > options.timeout_s * 1000LL)
        return NoProgress(d, options.timeout_s);
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot sync with " + options.endpoint + ": " + e.what());
  }
  return Status::Cancelled("interrupted: every batch acknowledged so far is committed");
}

std::string FreeLoopbackEndpoint() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (s >= 0) close(s);
  return "tcp://127.0.0.1:" + std::to_string(port);
}

struct PeerQueries::Impl {
  zmq::context_t ctx;
  Dial dial;
  Node* node = nullptr;
  int timeout_s = 60;
  uint64_t next_no = 0;
  uint64_t bytes_out = 0, bytes_in = 0, queries = 0;
  std::string peer_id;
};

PeerQueries::PeerQueries(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerQueries::~PeerQueries() = default;
uint64_t PeerQueries::bytes_out() const { return impl_->bytes_out; }
uint64_t PeerQueries::bytes_in() const { return impl_->bytes_in; }
uint64_t PeerQueries::queries() const { return impl_->queries; }
const std::string& PeerQueries::peer_id() const { return impl_->peer_id; }

Result<std::unique_ptr<PeerQueries>> PeerQueries::Open(Node& node, const std::string& endpoint,
                                                       const std::string& peer, int timeout_s) {
  TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert, PeerCertificate(node, peer));
  if (cert->sign_key == node.sign_key()) {
    return Status::InvalidArgument("the node expected at " + endpoint +
                                   " is this node itself: name the other one (NODE-ID@" + endpoint +
                                   ", or --peer-id)");
  }
  auto impl = std::make_unique<Impl>();
  impl->node = &node;
  impl->timeout_s = timeout_s;
  impl->dial.ctx = &impl->ctx;
  impl->dial.endpoint = endpoint;
  impl->dial.peer = *cert;
  impl->peer_id = NodeIdText(cert->sign_key);
  try {
    TUPHAP_RETURN_IF_ERROR(OpenDial(node, impl->dial));
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot reach " + endpoint + ": " + e.what());
  }
  return std::unique_ptr<PeerQueries>(new PeerQueries(std::move(impl)));
}

Result<std::string> PeerQueries::Ask(const std::string& what, std::string body) {
  Impl& m = *impl_;
  Dial& d = m.dial;
  const uint64_t no = ++m.next_no;
  std::string frame = replication::Encode(replication::Query{no, what, std::move(body)});
  if (frame.size() > replication::kMaxQueryBytes)
    return Status::InvalidArgument("a " + what + " query of " + std::to_string(frame.size()) +
                                   " bytes is over the 1 MiB a node accepts");
  const int64_t start = NowMs();
  try {
    bool sent = false;
    while (true) {
      TUPHAP_RETURN_IF_ERROR(PollMonitor(d));
      if (!sent && d.socket->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value()) {
        sent = true;
        m.bytes_out += frame.size();
        ++m.queries;
      }
      std::vector<zmq::pollitem_t> items{{d.socket->handle(), 0, ZMQ_POLLIN, 0}};
      PollOrSignal(items, 20);
      zmq::message_t reply;
      while (d.socket->recv(reply, zmq::recv_flags::dontwait)) {
        m.bytes_in += reply.size();
        auto msg = replication::Decode(reply.to_string_view());
        if (!msg.ok()) return msg.status();
        if (auto* e = std::get_if<replication::ErrorMessage>(&*msg)) {
          return Status::Aborted("the peer refused the query: " + e->message + " [" + e->code + "]")
              .WithReason(e->code);
        }
        if (auto* a = std::get_if<replication::Answer>(&*msg); a != nullptr && a->query_no == no)
          return std::move(a->body);
      }
      if (NowMs() - start > m.timeout_s * 1000LL) {
        return Status::Unavailable("no answer from " + d.endpoint + " for " +
                                   std::to_string(m.timeout_s) +
                                   " s (is 'tuphap serve' running there?)");
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot reach " + d.endpoint + ": " + e.what());
  }
}

}  // namespace tuphap::node
