#include "node/transport/listener.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include "node/transport/socket.h"
#include "obs/log.h"

namespace tuphap::node::transport {
namespace {

// A listener closes a connection silent this long.
constexpr int64_t kSessionIdleMs = 300000;
// Connections of one node's key at once: a further one closes the oldest
// (a cut link leaves dead ones behind until the heartbeat notices).
constexpr size_t kMaxConnectionsPerPeer = 4;
// A connection that has sent no frame this long after it was accepted.
constexpr int64_t kFirstFrameMs = 15000;
// Frames read from one connection and not yet handled (ZeroMQ's receive
// high-water mark cannot bound them: socket.cc): one with more waiting than
// this is closed. An honest peer's window keeps 4 BATCHes of at most 1 MiB
// and a few small frames waiting at most.
constexpr size_t kMaxInboxFrames = 32;
constexpr size_t kMaxInboxBytes = 16 << 20;  // two frames of the largest size
// How long the listener handles frames before it looks at new connections
// again (a handshake waits for its ZAP answer).
constexpr int64_t kMaxReceiveMs = 100;

uint64_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

Listener::Listener(zmq::context_t& ctx, Node& node, const NodeSecrets& secrets,
                   const std::string& endpoint)
    : node_(node), zap_(ctx, node), router_(ctx, zmq::socket_type::router), responder_(node) {
  CommonOptions(router_);
  // A send to a gone or full peer fails instead of being dropped silently.
  router_.set(zmq::sockopt::router_mandatory, true);
  router_.set(zmq::sockopt::curve_server, true);
  router_.set(zmq::sockopt::curve_secretkey, KeyBuffer(secrets.box.secret().data()));
  router_.set(zmq::sockopt::zap_domain, kZapDomain);
  monitor_.init(router_, "inproc://tuphap-listen-monitor",
                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED);
  router_.bind(endpoint);
}

Listener::~Listener() {
  for (auto& [rid, p] : peers_) {
    if (!p.session) continue;
    p.session->SetEnded("serve stopped");
    if (!p.reported || p.session->progress() != p.recorded_progress) Record(p, false);
  }
}

void Listener::AddPollItems(std::vector<zmq::pollitem_t>& items) {
  items.push_back({zap_.socket().handle(), 0, ZMQ_POLLIN, 0});
  items.push_back({router_.handle(), 0, ZMQ_POLLIN, 0});
}

void Listener::Service() {
  Admissions();
  Receive();
}

// Every waiting ZAP request answered, and the monitor's events: called
// between the frames Receive handles too, so that a busy turn delays no
// handshake.
void Listener::Admissions() {
  const auto admit = [this](const replication::PublicKey& key) { return Admit(key); };
  while (zap_.AnswerOne(admit)) {
  }
  while (monitor_.check_event(0)) {
  }
  OnMonitorEvents();
}

// Accepted and lost connections.
void Listener::OnMonitorEvents() {
  for (const auto& e : monitor_.events) {
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
  monitor_.events.clear();
}

// Reads every frame waiting on the ROUTER into its connection's inbox, then
// handles one frame of each connection in turn, reading again between
// turns: an honest peer, whose window keeps a few frames in flight, never
// has more than that waiting; one that has more than kMaxInboxFrames or
// kMaxInboxBytes waiting sends faster than it could ever be answered and is
// closed, what it sent dropped unread.
void Listener::Receive() {
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

void Listener::Pump() {
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
    if (c.rid.empty() && !c.shut && carried.count(fd) == 0 && now - c.accepted_ms > kFirstFrameMs) {
      ShutDown(fd, c);  // connected and said nothing
      obs::Log().info("closed a connection that sent nothing");
    }
  }
}

void Listener::Drain() {
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
void Listener::FinishGone(const std::string& rid) {
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

void Listener::OnFrame(const std::string& rid, zmq::message_t& frame) {
  auto pit = peers_.find(rid);
  Peer* p = pit == peers_.end() ? nullptr : &pit->second;
  if (p == nullptr) {
    // A new connection: only a ZAP-admitted key reaches here.
    const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
    if (!box) return;
    p = &AcceptPeer(rid, *box, zmq_msg_get(frame.handle(), ZMQ_SRCFD));
  }
  p->last_seen_ms = NowMs();
  const std::string_view f = frame.to_string_view();
  if (replication::PeekType(f) == static_cast<uint64_t>(replication::MessageType::kQuery)) {
    AnswerQuery(rid, frame);
    return;
  }
  OnSessionFrame(rid, *p, f);
}

// The first frame of a ZAP-admitted connection: its peer, within
// kMaxConnectionsPerPeer of its key (the oldest beyond that is closed).
Listener::Peer& Listener::AcceptPeer(const std::string& rid, const replication::PublicKey& box,
                                     int fd) {
  Peer p;
  p.box = box;
  p.fd = fd;
  if (auto c = conns_.find(fd); c != conns_.end() && c->second.rid.empty()) c->second.rid = rid;
  // This connection was admitted by ZAP: it no longer waits to speak.
  if (auto w = waiting_.find(box); w != waiting_.end() && !w->second.empty()) {
    w->second.pop_front();
    if (w->second.empty()) waiting_.erase(w);
  }
  while (true) {
    auto mine = by_key_.find(box);
    if (mine == by_key_.end() || mine->second.size() < kMaxConnectionsPerPeer) break;
    const std::string oldest = mine->second.front();
    if (peers_.count(oldest) == 0) {
      mine->second.pop_front();
      continue;
    }
    Close(oldest,
          "more than " + std::to_string(kMaxConnectionsPerPeer) + " connections of one node");
  }
  by_key_[box].push_back(rid);
  return peers_.emplace(rid, std::move(p)).first->second;
}

// A frame of the peer's sync session; a HELLO (or any frame with no session
// yet) starts a new one.
void Listener::OnSessionFrame(const std::string& rid, Peer& p, std::string_view f) {
  if (replication::PeekType(f) == static_cast<uint64_t>(replication::MessageType::kHello) ||
      !p.session) {
    // A new HELLO on the same connection: the peer's choice, not a loss.
    if (p.session) p.session->SetEnded("a new HELLO on the connection");
    p.session = std::make_unique<SyncSession>(node_, SyncSession::Side::kListener, p.box,
                                              &memories_[p.box]);
    p.reported = false;
    p.recorded = {};
    p.recorded_progress = 0;
  }
  std::vector<std::string> out;
  Status s = p.session->OnFrame(f, &out);
  if (rid != gone_ && !Send(rid, out)) {
    Close(rid, "not reading");
    return;
  }
  if (!s.ok()) {
    obs::Log().error("session with {} failed: {}",
                     p.session->peer() != nullptr ? NodeIdText(p.session->peer()->sign_key)
                                                  : std::string("an unidentified node"),
                     s.ToString());
    Record(p, false);
    p.session.reset();  // the connection stays; a new HELLO starts again
    return;
  }
  // Caught up: recorded; and again on a live session whenever later
  // batches were acknowledged and nothing is in flight.
  if (p.session->caught_up() &&
      (!p.reported || (p.session->progress() != p.recorded_progress && p.session->idle()))) {
    Record(p, true);
  }
}

// Answers one QUERY frame (reconcile) from a ZAP-admitted peer, outside any
// sync session.
void Listener::AnswerQuery(const std::string& rid, zmq::message_t& frame) {
  std::vector<std::string> out;
  auto error = [&](const std::string& code, const std::string& message) {
    out.push_back(replication::Encode(replication::ErrorMessage{code, message}));
  };
  const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
  const replication::Certificate* cert = box ? CertOfBoxKey(node_, *box) : nullptr;
  auto msg = replication::Decode(frame.to_string_view());
  if (cert == nullptr) {
    error("E_NOT_AUTHORISED", "this node does not know the asking key");
  } else if (!msg.ok()) {
    error(msg.status().reason(), msg.status().message());
  } else {
    const auto& q = std::get<replication::Query>(*msg);
    Result<std::string> a = responder_.Answer(*cert, q.what, q.body, NowMs());
    if (a.ok()) {
      out.push_back(replication::Encode(replication::Answer{q.query_no, std::move(*a)}));
    } else {
      obs::Log().warn("query {} refused: {}", q.what, a.status().ToString());
      error(a.status().reason().empty() ? "E_INTERNAL" : a.status().reason(), a.status().message());
    }
  }
  SendTo(router_, rid, out);
}

// Sends without blocking. False when the peer is gone or has
// kSendQueueFrames unread (ZMQ_ROUTER_MANDATORY makes both an error).
bool Listener::Send(const std::string& rid, std::vector<std::string>& frames) {
  return SendTo(router_, rid, frames);
}

// Bookkeeping of a session's outcome: a busy store must not stop the server.
void Listener::Record(Peer& p, bool caught_up) {
  const replication::Certificate* c = p.session ? p.session->peer() : nullptr;
  if (c == nullptr) return;
  const SyncStats st = p.session->stats().Since(p.recorded);
  const bool first = !p.reported;
  p.recorded = p.session->stats();
  if (caught_up) {
    p.reported = true;
    p.recorded_progress = p.session->progress();
  }
  if (caught_up && st.quarantined > 0) {
    // Not caught up: what its origin sends is refused here.
    obs::Log().warn(
        "session with {}: {} envelope(s) of a quarantined origin refused (E_QUARANTINED)",
        NodeIdText(c->sign_key), st.quarantined);
    caught_up = false;
  }
  Status rec = node_.RecordPeerSession(c->sign_key, "", caught_up, st.sent, st.received,
                                       st.refused_here + st.refused_by_peer);
  if (!rec.ok()) obs::Log().error("peer bookkeeping: {}", rec.ToString());
  if (caught_up && first)
    obs::Log().info("caught up with {}: sent {}, received {}, refused {}", NodeIdText(c->sign_key),
                    st.sent, st.received, st.refused_here);
}

// Forgets a peer's connection state; `why` non-null: also closes it.
void Listener::Drop(const std::string& rid, const std::string* why) {
  auto it = peers_.find(rid);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  if (p.session) {
    p.session->ConnectionLost();  // frames in flight: the link's frames shrink
    // What was not recorded yet (the whole session when it never caught up).
    if (!p.reported || p.session->progress() != p.recorded_progress) Record(p, false);
  }
  if (why != nullptr) {
    if (p.session) p.session->SetEnded("closed: " + *why);
    auto c = conns_.find(p.fd);
    if (c != conns_.end() && c->second.rid == rid) ShutDown(p.fd, c->second);
    if (p.session && p.session->peer() != nullptr)
      obs::Log().warn("closed a connection of {}: {}", NodeIdText(p.session->peer()->sign_key),
                      *why);
  }
  inbox_.erase(rid);
  auto k = by_key_.find(p.box);
  if (k != by_key_.end()) {
    std::erase(k->second, rid);
    if (k->second.empty()) by_key_.erase(k);
  }
  peers_.erase(it);
}

// Whether an enrolled key may have one more connection: at most
// kMaxConnectionsPerPeer admitted and not yet heard from within
// kFirstFrameMs (the rest are closed by the idle rule anyway).
bool Listener::Admit(const replication::PublicKey& key) {
  const int64_t now = NowMs();
  std::deque<int64_t>& w = waiting_[key];
  while (!w.empty() && now - w.front() > kFirstFrameMs) w.pop_front();
  if (w.size() >= kMaxConnectionsPerPeer) return false;
  w.push_back(now);
  return true;
}

void Listener::ShutDown(int fd, Conn& c) {
  if (c.shut || fd < 0 || InodeOf(fd) != c.inode) return;
  shutdown(fd, SHUT_RDWR);
  c.shut = true;
}

}  // namespace tuphap::node::transport
