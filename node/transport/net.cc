#include "node/transport/net.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <csignal>

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
// Frames read from one connection and not yet handled by the worker, the
// one it holds included (ZeroMQ's receive high-water mark cannot bound
// them: socket.cc): one with more waiting than this is closed. An honest
// peer's window keeps 4 BATCHes of at most 1 MiB and a few small frames
// waiting at most, however far behind the worker is.
constexpr size_t kMaxInboxFrames = 32;
constexpr size_t kMaxInboxBytes = 16 << 20;  // two frames of the largest size
// Connections closed here whose loss the monitor has not reported yet,
// remembered so that what they still send is dropped (a ZeroMQ routing id
// is never reused; the oldest are forgotten beyond this).
constexpr size_t kMaxClosedRemembered = 4096;
// How often idle and silent connections are looked for.
constexpr int64_t kPumpMs = 200;

uint64_t InodeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace

NetLoop::NetLoop(zmq::context_t& ctx, Handoff& handoff, const uint8_t* box_secret,
                 const std::string& endpoint, std::unique_ptr<store::TrustProbe> probe,
                 std::shared_ptr<const TrustCache> trust)
    : handoff_(handoff),
      zap_(ctx, std::move(probe), std::move(trust)),
      router_(ctx, zmq::socket_type::router) {
  CommonOptions(router_);
  // A send to a gone or full peer fails instead of being dropped silently.
  router_.set(zmq::sockopt::router_mandatory, true);
  router_.set(zmq::sockopt::curve_server, true);
  router_.set(zmq::sockopt::curve_secretkey, KeyBuffer(box_secret));
  router_.set(zmq::sockopt::zap_domain, kZapDomain);
  monitor_.init(router_, "inproc://tuphap-listen-monitor",
                ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED);
  router_.bind(endpoint);
}

NetLoop::~NetLoop() { Stop(); }

void NetLoop::Start() {
  // Signals are the worker's (its loop stops between batches): this thread
  // never takes SIGINT or SIGTERM.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void NetLoop::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  handoff_.WakeNetwork();
  thread_.join();
}

void NetLoop::Run() {
  try {
    while (!stop_) Turn();
    Deliver();  // what the worker answered last (a stop finishes the batch in hand)
  } catch (const zmq::error_t& e) {
    obs::Log().error("network: {}", e.what());
  }
}

// Waits up to 50 ms for the ZAP socket, the ROUTER or the worker, then
// moves whatever is waiting.
void NetLoop::Turn() {
  std::vector<zmq::pollitem_t> items{{zap_.socket().handle(), 0, ZMQ_POLLIN, 0},
                                     {router_.handle(), 0, ZMQ_POLLIN, 0},
                                     {nullptr, handoff_.network_fd(), ZMQ_POLLIN, 0}};
  (void)PollOrSignal(items, 50);
  Admissions();
  Drain();
  Deliver();
  if (NowMs() - last_pump_ms_ >= kPumpMs) Pump();
}

// Every waiting ZAP request answered (or left for the worker's trust), and
// the monitor's events.
void NetLoop::Admissions() {
  const auto admit = [this](const replication::PublicKey& key) { return Admit(key); };
  if (zap_.Service(admit)) handoff_.AskTrust();
  while (monitor_.check_event(0)) {
  }
  OnMonitorEvents();
}

// Accepted and lost connections. A lost one's frames that arrived whole
// are read first: the worker still handles them (commits them), then ends
// its session.
void NetLoop::OnMonitorEvents() {
  // In order: a descriptor's number is reused by a later connection.
  for (const auto& e : monitor_.events) {
    if (e.accepted) {
      conns_[e.fd] = Conn{NowMs(), InodeOf(e.fd), {}, false};
      continue;
    }
    auto it = conns_.find(e.fd);
    if (it == conns_.end()) continue;
    if (!it->second.rid.empty()) {
      const std::string rid = it->second.rid;
      Drain();  // its last whole frames
      if (!Forgotten(rid) && routes_.count(rid) != 0) handoff_.PushGone(rid);
      Forget(rid);
    }
    conns_.erase(it);
  }
  monitor_.events.clear();
}

// Reads every frame waiting on the ROUTER and hands it to the worker. A
// connection with more than kMaxInboxFrames or kMaxInboxBytes waiting
// there sends faster than it could ever be answered: it is closed, what it
// sent dropped unread.
void NetLoop::Drain() {
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
    if (closed_.count(rid) != 0) continue;  // closed: the rest is dropped unread
    const int fd = zmq_msg_get(frame.handle(), ZMQ_SRCFD);
    auto r = routes_.find(rid);
    if (r == routes_.end()) {
      // A new connection: only a ZAP-admitted key reaches here.
      const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
      if (!box) continue;
      Accept(rid, *box, fd);
      r = routes_.find(rid);
    }
    r->second.last_seen_ms = NowMs();
    const Handoff::Pending p = handoff_.PushFrame(rid, std::move(frame));
    if (p.frames <= kMaxInboxFrames && p.bytes <= kMaxInboxBytes) continue;
    Close(rid, "it sent more than could ever be answered");
  }
}

// What the worker sends, and the trust it publishes.
void NetLoop::Deliver() {
  for (Handoff::Out& o : handoff_.TakeOut()) {
    if (o.trust) {
      if (zap_.OnTrust(std::move(o.trust),
                       [this](const replication::PublicKey& key) { return Admit(key); }))
        handoff_.AskTrust();
      continue;
    }
    // A connection gone or closed meanwhile: what it would be answered is
    // dropped.
    if (routes_.count(o.rid) == 0) continue;
    if (!SendTo(router_, o.rid, o.frames)) Close(o.rid, "not reading");
  }
}

// Every pump interval: connections silent too long, and those that never
// said anything.
void NetLoop::Pump() {
  const int64_t now = NowMs();
  last_pump_ms_ = now;
  std::vector<std::string> close;
  for (const auto& [rid, r] : routes_)
    if (now - r.last_seen_ms > kSessionIdleMs) close.push_back(rid);
  for (const auto& rid : close) Close(rid, "silent or not reading");
  std::set<int> carried;  // descriptors whose frames reached a peer
  for (const auto& [rid, r] : routes_) carried.insert(r.fd);
  for (auto& [fd, c] : conns_) {
    if (c.rid.empty() && !c.shut && carried.count(fd) == 0 && now - c.accepted_ms > kFirstFrameMs) {
      ShutDown(fd, c);  // connected and said nothing
      obs::Log().info("closed a connection that sent nothing");
    }
  }
}

// The first frame of a ZAP-admitted connection: its route, within
// kMaxConnectionsPerPeer of its key (the oldest beyond that is closed).
void NetLoop::Accept(const std::string& rid, const replication::PublicKey& box, int fd) {
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
    if (routes_.count(oldest) == 0) {
      mine->second.pop_front();
      continue;
    }
    Close(oldest,
          "more than " + std::to_string(kMaxConnectionsPerPeer) + " connections of one node");
  }
  by_key_[box].push_back(rid);
  routes_[rid] = Route{box, fd, NowMs()};
}

// Closes a connection: shut down, its queued frames dropped, its session
// ended by the worker with `why`.
void NetLoop::Close(const std::string& rid, const std::string& why) {
  auto r = routes_.find(rid);
  if (r == routes_.end()) return;
  auto c = conns_.find(r->second.fd);
  if (c != conns_.end() && c->second.rid == rid) ShutDown(r->second.fd, c->second);
  // What it sends until it is gone is dropped unread: never a new session.
  closed_.insert(rid);
  closed_order_.push_back(rid);
  if (closed_order_.size() > kMaxClosedRemembered) {
    closed_.erase(closed_order_.front());
    closed_order_.pop_front();
  }
  handoff_.PushClosed(rid, why);
  Forget(rid);
}

// Whether this connection was closed here (and is now gone: forgotten).
bool NetLoop::Forgotten(const std::string& rid) {
  if (closed_.erase(rid) == 0) return false;
  std::erase(closed_order_, rid);
  return true;
}

void NetLoop::Forget(const std::string& rid) {
  auto r = routes_.find(rid);
  if (r == routes_.end()) return;
  auto k = by_key_.find(r->second.box);
  if (k != by_key_.end()) {
    std::erase(k->second, rid);
    if (k->second.empty()) by_key_.erase(k);
  }
  routes_.erase(r);
}

// Whether an enrolled key may have one more connection: at most
// kMaxConnectionsPerPeer admitted and not yet heard from within
// kFirstFrameMs (the rest are closed by the idle rule anyway).
bool NetLoop::Admit(const replication::PublicKey& key) {
  const int64_t now = NowMs();
  std::deque<int64_t>& w = waiting_[key];
  while (!w.empty() && now - w.front() > kFirstFrameMs) w.pop_front();
  if (w.size() >= kMaxConnectionsPerPeer) return false;
  w.push_back(now);
  return true;
}

void NetLoop::ShutDown(int fd, Conn& c) {
  if (c.shut || fd < 0 || InodeOf(fd) != c.inode) return;
  shutdown(fd, SHUT_RDWR);
  c.shut = true;
}

}  // namespace tuphap::node::transport
