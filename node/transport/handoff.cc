#include "node/transport/handoff.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "replication/protocol.h"

namespace tuphap::node::transport {

Handoff::Handoff()
    : worker_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      net_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (worker_fd_ < 0 || net_fd_ < 0) throw zmq::error_t();  // errno says why
}

Handoff::~Handoff() {
  close(worker_fd_);
  close(net_fd_);
}

void Handoff::Wake(int fd) {
  const uint64_t one = 1;
  (void)!write(fd, &one, sizeof one);
}

void Handoff::Clear(int fd) {
  uint64_t n = 0;
  (void)!read(fd, &n, sizeof n);
}

Handoff::Pending Handoff::PushFrame(const std::string& rid, zmq::message_t frame) {
  Pending now;
  {
    std::lock_guard lock(mu_);
    Pending& p = pending_[rid];
    p.frames += 1;
    p.bytes += frame.size();
    now = p;
    auto& q = queued_[rid];
    if (q.empty()) ready_.push_back(rid);
    q.push_back(std::move(frame));
  }
  Wake(worker_fd_);
  return now;
}

void Handoff::PushGone(const std::string& rid) {
  {
    std::lock_guard lock(mu_);
    Work w;
    w.kind = Work::Kind::kGone;
    w.rid = rid;
    events_.push_back(std::move(w));
  }
  Wake(worker_fd_);
}

void Handoff::PushClosed(const std::string& rid, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    queued_.erase(rid);  // dropped unread; ready_ skips it
    pending_.erase(rid);
    Work w;
    w.kind = Work::Kind::kClosed;
    w.rid = rid;
    w.why = why;
    events_.push_back(std::move(w));
  }
  Wake(worker_fd_);
}

void Handoff::AskTrust() {
  {
    std::lock_guard lock(mu_);
    if (trust_asked_) return;
    trust_asked_ = true;
    Work w;
    w.kind = Work::Kind::kTrust;
    events_.push_back(std::move(w));
  }
  Wake(worker_fd_);
}

std::vector<Handoff::Out> Handoff::TakeOut() {
  Clear(net_fd_);
  std::lock_guard lock(mu_);
  return std::exchange(out_, {});
}

void Handoff::WakeNetwork() { Wake(net_fd_); }

void Handoff::ClearWorkerWake() { Clear(worker_fd_); }

bool Handoff::has_work() {
  std::lock_guard lock(mu_);
  return !events_.empty() || !ready_.empty();
}

namespace {

// Frames a session waits on (HELLO, HEADS, ACK, DONE, ERROR); BATCHes and
// QUERYs may each cost a transaction or a tree read.
bool Light(const zmq::message_t& frame) {
  const std::string_view f = frame.to_string_view();
  return !replication::IsMessage(f, replication::MessageType::kBatch) &&
         !replication::IsMessage(f, replication::MessageType::kQuery);
}

}  // namespace

bool Handoff::has_urgent() {
  std::lock_guard lock(mu_);
  if (trust_asked_) return true;
  return std::any_of(ready_.begin(), ready_.end(), [this](const std::string& rid) {
    auto q = queued_.find(rid);
    if (q == queued_.end() || held_.contains(rid)) return false;
    const std::string_view f = q->second.front().to_string_view();
    return replication::IsMessage(f, replication::MessageType::kHello) ||
           replication::IsMessage(f, replication::MessageType::kHeads);
  });
}

void Handoff::Hold(const std::string& rid, bool held) {
  std::lock_guard lock(mu_);
  if (held) {
    held_.insert(rid);
  } else {
    held_.erase(rid);
  }
}

// Order: events but a lost connection's; then a frame that is neither a
// BATCH nor a QUERY (one connection's frames stay in order); then a lost
// connection's end (its session's last bookkeeping); then BATCHes and
// QUERYs, one connection at a time in turn (so one peer's stream of
// queries cannot hold back other peers' batches). Held connections wait.
Handoff::Work Handoff::Take(bool light_only) {
  std::lock_guard lock(mu_);
  Work w;
  auto take_event = [&](auto it) {
    w = std::move(*it);
    events_.erase(it);
    if (w.kind == Work::Kind::kTrust) trust_asked_ = false;
    return std::move(w);
  };
  auto urgent = std::find_if(events_.begin(), events_.end(),
                             [](const Work& e) { return e.kind != Work::Kind::kGone; });
  if (urgent != events_.end()) return take_event(urgent);
  // Connections closed meanwhile are skipped.
  std::erase_if(ready_, [this](const std::string& rid) { return queued_.count(rid) == 0; });
  auto first = [&](bool light) {
    return std::find_if(ready_.begin(), ready_.end(), [&](const std::string& rid) {
      return !held_.contains(rid) && (!light || Light(queued_[rid].front()));
    });
  };
  auto pick = first(/*light=*/true);
  if (pick == ready_.end()) {
    if (light_only) return w;
    if (!events_.empty()) return take_event(events_.begin());
    pick = first(/*light=*/false);
    if (pick == ready_.end()) return w;
  }
  const std::string rid = *pick;
  ready_.erase(pick);
  auto q = queued_.find(rid);
  w.kind = Work::Kind::kFrame;
  w.rid = rid;
  w.frame = std::move(q->second.front());
  q->second.pop_front();
  if (q->second.empty()) {
    queued_.erase(q);
  } else {
    ready_.push_back(rid);  // its next frame waits its turn
  }
  return w;
}

std::optional<zmq::message_t> Handoff::TakeFrameOf(const std::string& rid) {
  std::lock_guard lock(mu_);
  auto q = queued_.find(rid);
  if (q == queued_.end()) return std::nullopt;
  zmq::message_t f = std::move(q->second.front());
  q->second.pop_front();
  if (q->second.empty()) queued_.erase(q);  // ready_ skips it
  return f;
}

void Handoff::Done(const std::string& rid, size_t bytes) {
  std::lock_guard lock(mu_);
  auto p = pending_.find(rid);
  if (p == pending_.end()) return;  // closed meanwhile
  p->second.frames -= std::min<size_t>(p->second.frames, 1);
  p->second.bytes -= std::min(p->second.bytes, bytes);
  if (p->second.frames == 0) pending_.erase(p);
}

void Handoff::Send(const std::string& rid, std::vector<std::string>& frames) {
  if (frames.empty()) return;
  {
    std::lock_guard lock(mu_);
    out_.push_back(Out{rid, std::move(frames), nullptr});
  }
  frames.clear();
  Wake(net_fd_);
}

void Handoff::PublishTrust(std::shared_ptr<const TrustCache> trust) {
  {
    std::lock_guard lock(mu_);
    out_.push_back(Out{{}, {}, std::move(trust)});
  }
  Wake(net_fd_);
}

}  // namespace tuphap::node::transport
