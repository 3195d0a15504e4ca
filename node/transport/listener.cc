#include "node/transport/listener.h"

#include <malloc.h>

#include <algorithm>

#include "node/transport/socket.h"
#include "obs/log.h"

namespace tuphap::node::transport {
namespace {

// The network thread's own reader of the store's trust stamp: null when it
// cannot open one (a store in memory), and every handshake of a key the
// cache does not hold then waits for the worker.
std::unique_ptr<store::TrustProbe> OpenProbe(Node& node) {
  auto probe =
      store::TrustProbe::Open(node.store().path(), replication::PublicScope(node.info().province));
  if (!probe.ok()) {
    obs::Log().warn("admission without a trust probe: {}", probe.status().ToString());
    return nullptr;
  }
  return std::move(*probe);
}

}  // namespace

Listener::Listener(zmq::context_t& ctx, Node& node, const NodeSecrets& secrets,
                   const std::string& endpoint, int max_catching_up)
    : node_(node),
      responder_(node),
      max_catching_up_(static_cast<size_t>(std::max(max_catching_up, 0))) {
  // Trust as the store has it now, for the first handshakes.
  const Result<bool> reloaded = node_.ReloadTrustIfChanged();
  if (!reloaded.ok()) obs::Log().error("reading trust: {}", reloaded.status().ToString());
  std::shared_ptr<const TrustCache> trust = MakeTrustCache(node_);
  published_stamp_ = trust->stamp;
  net_ = std::make_unique<NetLoop>(ctx, handoff_, secrets.box.secret().data(), endpoint,
                                   OpenProbe(node_), std::move(trust));
  net_->Start();
}

Listener::~Listener() {
  FinishInHand();
  net_->Stop();
  for (auto& [rid, p] : peers_) {
    if (!p.session) continue;
    p.session->SetEnded("serve stopped");
    if (!p.reported || p.session->progress() != p.recorded_progress) Record(p, false);
  }
}

void Listener::AddPollItems(std::vector<zmq::pollitem_t>& items) {
  items.push_back({nullptr, handoff_.worker_fd(), ZMQ_POLLIN, 0});
}

void Listener::Service(int64_t budget_ms, const std::function<bool()>& stop) {
  handoff_.ClearWorkerWake();
  const int64_t start = NowMs();
  while (NowMs() - start < budget_ms) {
    if (stop()) {
      FinishInHand();
      return;
    }
    // With a batch in hand, only light work, and that for at most
    // kLightTurnMs at a time; then the batch's next part.
    const bool part_due = in_hand_ && NowMs() - in_hand_->part_ended_ms >= kLightTurnMs;
    Handoff::Work w =
        part_due ? Handoff::Work{} : handoff_.Take(/*light_only=*/in_hand_.has_value());
    switch (w.kind) {
      case Handoff::Work::Kind::kNone:
        if (in_hand_) {
          ContinueInHand(/*may_yield=*/true);
          break;
        }
        // Nothing came in: the leases of sending slots still run out, and
        // a HELLO waiting for one is answered (the serve loop comes here
        // every 50 ms, work or not).
        AdmitWaiting();
        return;
      case Handoff::Work::Kind::kFrame: {
        const size_t bytes = w.frame.size();
        // A BATCH's connection is held from the start: a HELLO queued
        // behind it on the same connection is not a peer waiting to begin.
        const bool batch =
            replication::IsMessage(w.frame.to_string_view(), replication::MessageType::kBatch);
        if (batch) handoff_.Hold(w.rid, true);
        OnFrame(w.rid, w.frame, /*gone=*/false);
        auto p = peers_.find(w.rid);
        if (p != peers_.end() && p->second.session && p->second.session->batch_in_hand()) {
          in_hand_ = InHand{w.rid, bytes, NowMs()};
          last_stop_ms_ = in_hand_->part_ended_ms;
        } else {
          if (batch) handoff_.Hold(w.rid, false);
          handoff_.Done(w.rid, bytes);
        }
        break;
      }
      case Handoff::Work::Kind::kGone:
        FinishGone(w.rid);
        Drop(w.rid, nullptr);
        break;
      case Handoff::Work::Kind::kClosed:
        Drop(w.rid, &w.why);
        break;
      case Handoff::Work::Kind::kTrust: {
        const Result<bool> reloaded = node_.ReloadTrustIfChanged();
        if (!reloaded.ok()) obs::Log().error("reading trust: {}", reloaded.status().ToString());
        auto cache = MakeTrustCache(node_);
        if (!reloaded.ok()) {
          auto unavailable = std::make_shared<TrustCache>(*cache);
          unavailable->available = false;
          cache = unavailable;
        }
        published_stamp_ = cache->stamp;
        handoff_.PublishTrust(std::move(cache));
        break;
      }
    }
    PublishTrustIfMoved();
    AdmitWaiting();
  }
}

// Trust reloaded by an ingest or a HELLO: the network thread's cache
// follows at once, so it need not ask.
void Listener::PublishTrustIfMoved() {
  if (node_.trust_stamp() == published_stamp_) return;
  auto cache = MakeTrustCache(node_);
  published_stamp_ = cache->stamp;
  handoff_.PublishTrust(std::move(cache));
}

void Listener::Pump() {
  responder_.Expire(NowMs());
  for (auto& [rid, p] : peers_) {
    std::vector<std::string> out;
    if (p.session && p.session->Pump(&out).ok()) handoff_.Send(rid, out);
  }
}

// A lost connection's frames that arrived whole are still handled
// (committed): they need not cross the link again. What it would be
// answered is dropped.
void Listener::FinishGone(const std::string& rid) {
  while (std::optional<zmq::message_t> f = handoff_.TakeFrameOf(rid)) {
    const size_t bytes = f->size();
    OnFrame(rid, *f, /*gone=*/true);
    handoff_.Done(rid, bytes);
  }
}

void Listener::OnFrame(const std::string& rid, zmq::message_t& frame, bool gone) {
  auto pit = peers_.find(rid);
  Peer* p = pit == peers_.end() ? nullptr : &pit->second;
  if (p == nullptr) {
    // A new connection: only a ZAP-admitted key reaches here.
    const std::optional<replication::PublicKey> box = BoxKeyOf(frame);
    if (!box) return;
    p = &peers_[rid];
    p->box = *box;
  }
  const std::string_view f = frame.to_string_view();
  if (replication::IsMessage(f, replication::MessageType::kQuery)) {
    if (!gone) AnswerQuery(rid, frame);
    return;
  }
  OnSessionFrame(rid, *p, f, gone);
}

// A frame of the peer's sync session; a HELLO (or any frame with no session
// yet) starts a new one.
void Listener::OnSessionFrame(const std::string& rid, Peer& p, std::string_view f, bool gone) {
  const bool hello = replication::IsMessage(f, replication::MessageType::kHello);
  // A frame that is not a HELLO from a peer whose HELLO waits: the peer
  // broke the order; it is handled (and refused) as any such frame.
  const bool was_waiting = std::erase_if(waiting_, [&](const Waiting& w) { return w.rid == rid; });
  const bool sender = hello && !gone && max_catching_up_ > 0 && HoldsMoreThanUs(f);
  if (sender && MustWait(rid, p, f, was_waiting)) return;
  if (hello || !p.session) {
    // A new HELLO on the same connection: the peer's choice, not a loss.
    if (p.session) p.session->SetEnded("a new HELLO on the connection");
    ReleaseSlot(p);
    p.session = std::make_unique<SyncSession>(node_, SyncSession::Side::kListener, p.box,
                                              &memories_[p.box]);
    if (sender) waiting_since_.erase(p.box);  // its turn came
    if (sender) TakeSlot(p);
    p.session->DeferBookkeeping();
    p.reported = false;
    p.recorded = {};
    p.recorded_progress = 0;
  }
  // A batch stops for a waiting peer at most once per kLightTurnMs: a
  // stream of HELLOs costs the batch at most that many more commits.
  p.session->SetYield(gone ? std::function<bool()>() : [this] {
    return NowMs() - last_stop_ms_ >= kLightTurnMs && handoff_.has_urgent();
  });
  std::vector<std::string> out;
  const Status s = p.session->OnFrame(f, &out);
  AfterSessionStep(rid, p, s, out, gone);
}

void Listener::FinishInHand() {
  if (in_hand_) ContinueInHand(/*may_yield=*/false, /*stopping=*/true);
}

void Listener::ReleaseInHand(bool done) {
  const InHand h = std::move(*in_hand_);
  in_hand_.reset();
  handoff_.Hold(h.rid, false);
  if (done) handoff_.Done(h.rid, h.bytes);
}

void Listener::ContinueInHand(bool may_yield, bool stopping) {
  auto it = peers_.find(in_hand_->rid);
  if (it == peers_.end() || !it->second.session || !it->second.session->batch_in_hand()) {
    ReleaseInHand(/*done=*/true);
    return;
  }
  if (stopping) obs::Log().info("stopping: the rest of a batch in hand is committed first");
  Peer& p = it->second;
  std::vector<std::string> out;
  const Status s = p.session->ContinueBatch(&out, may_yield);
  if (s.ok() && p.session->batch_in_hand()) {
    in_hand_->part_ended_ms = NowMs();
    if (may_yield) last_stop_ms_ = in_hand_->part_ended_ms;
    return;
  }
  const std::string rid = in_hand_->rid;
  ReleaseInHand(/*done=*/true);
  AfterSessionStep(rid, p, s, out, /*gone=*/false);
}

void Listener::AfterSessionStep(const std::string& rid, Peer& p, const Status& s,
                                std::vector<std::string>& out, bool gone) {
  if (!gone) handoff_.Send(rid, out);
  p.session->WriteBookkeeping();  // after the answer left
  if (!s.ok()) {
    obs::Log().error("session with {} failed: {}",
                     p.session->peer() != nullptr ? NodeIdText(p.session->peer()->sign_key)
                                                  : std::string("an unidentified node"),
                     s.ToString());
    Record(p, false);
    ReleaseSlot(p);
    p.session.reset();  // the connection stays; a new HELLO starts again
    return;
  }
  if (p.session->caught_up()) ReleaseSlot(p);
  if (p.catching_up && p.session->progress() != p.slot_progress) {  // a batch committed
    p.slot_progress = p.session->progress();
    p.slot_progress_ms = NowMs();
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
  // Trust as the store has it now (one pragma when nothing moved): a key
  // revoked while its connection stays open is refused at its next query.
  if (const Result<bool> r = node_.ReloadTrustIfChanged(); !r.ok())
    obs::Log().error("reading trust: {}", r.status().ToString());
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
  handoff_.Send(rid, out);
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

// Forgets a peer's session; `why` non-null: the network thread closed its
// connection for that reason.
void Listener::Drop(const std::string& rid, const std::string* why) {
  std::erase_if(waiting_, [&](const Waiting& w) { return w.rid == rid; });
  // A batch in hand: what was applied of it stays (committed, unanswered:
  // the peer sends it again and finds it here).
  // (Closed: the handoff dropped what it counted of the connection.)
  if (in_hand_ && in_hand_->rid == rid) ReleaseInHand(/*done=*/false);
  auto it = peers_.find(rid);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  ReleaseSlot(p);
  if (p.session) {
    p.session->ConnectionLost();  // frames in flight: the link's frames shrink
    // What was not recorded yet (the whole session when it never caught up).
    if (!p.reported || p.session->progress() != p.recorded_progress) Record(p, false);
  }
  if (why != nullptr) {
    if (p.session) p.session->SetEnded("closed: " + *why);
    if (p.session && p.session->peer() != nullptr)
      obs::Log().warn("closed a connection of {}: {}", NodeIdText(p.session->peer()->sign_key),
                      *why);
  }
  peers_.erase(it);
}

// Whether the peer's HELLO names a feed this node holds less of (or not
// at all): it will send a backlog. A summary HELLO (a node with many
// feeds) is taken to. Only ZAP-admitted keys get here, and a peer that
// names less than it holds still gets its frames bounded per connection
// (net.cc): admission spreads honest peers' backlogs, it is not a bound.
bool Listener::HoldsMoreThanUs(std::string_view hello) {
  auto msg = replication::Decode(hello);
  if (!msg.ok()) return false;  // the session refuses it
  const auto* h = std::get_if<replication::Hello>(&*msg);
  if (h == nullptr) return false;
  // A summary, or more heads than a commune holds: taken to, without a
  // lookup per head (a HELLO may name 20,000).
  if (h->summary || h->heads.size() > 512) return true;
  for (const auto& head : h->heads) {
    auto ours = node_.store().Head(store::FeedKey{head.origin, head.scope});
    if (!ours.ok() || !*ours || (*ours)->seq < head.seq) return true;
  }
  return false;
}

// A sender's HELLO while every slot is taken waits, answered in the order
// the peers first asked (a peer whose connection dropped while it waited
// keeps its place when it comes back). A key holds at most one slot: the
// HELLO of a key sending on another connection waits too, so no key
// takes the slots of others by opening connections.
bool Listener::MustWait(const std::string& rid, Peer& p, std::string_view hello, bool was_waiting) {
  const size_t others = catching_up_ - (p.catching_up ? 1 : 0);
  const bool key_sending = !p.catching_up && slot_keys_.contains(p.box);
  if (others < max_catching_up_ && !key_sending) return false;
  if (p.session) {  // a new HELLO ends the connection's session
    p.session->SetEnded("a new HELLO on the connection");
    if (!p.reported || p.session->progress() != p.recorded_progress) Record(p, false);
    ReleaseSlot(p);
    p.session.reset();
  }
  const int64_t now = NowMs();
  Place& place = waiting_since_.try_emplace(p.box, Place{now, now}).first->second;
  place.seen_ms = now;
  const int64_t since = place.since_ms;
  if (!was_waiting) {
    const replication::Certificate* c = CertOfBoxKey(node_, p.box);
    obs::Log().info("HELLO of {} waits its turn: {} peer(s) are sending their backlog",
                    c != nullptr ? NodeIdText(c->sign_key) : std::string("an unknown node"),
                    catching_up_);
  }
  Waiting w{rid, std::string(hello), since};
  waiting_.insert(
      std::upper_bound(waiting_.begin(), waiting_.end(), w,
                       [](const Waiting& a, const Waiting& b) { return a.since_ms < b.since_ms; }),
      std::move(w));
  return true;
}

void Listener::TakeSlot(Peer& p) {
  p.catching_up = true;
  p.slot_progress = p.session ? p.session->progress() : 0;
  p.slot_progress_ms = NowMs();
  ++catching_up_;
  ++slot_keys_[p.box];
}

void Listener::ReleaseSlot(Peer& p) {
  if (!p.catching_up) return;
  p.catching_up = false;
  --catching_up_;
  if (auto it = slot_keys_.find(p.box); it != slot_keys_.end() && --it->second <= 0)
    slot_keys_.erase(it);
  trim_due_ = true;
}

// A slot whose session has committed no batch of its peer for a minute
// while others wait is taken back: a peer that opens a session and then
// only keeps it alive (or a link too slow to carry a batch a minute) must
// not stop the province's catch-up. Its session goes on without a slot,
// its frames bounded per connection as any peer's.
void Listener::TakeBackIdleSlots(int64_t now) {
  for (auto& [rid, p] : peers_) {
    if (!p.catching_up || now - p.slot_progress_ms < kSlotLeaseMs) continue;
    const replication::Certificate* c = p.session ? p.session->peer() : nullptr;
    obs::Log().warn(
        "took back the sending slot of {}: no batch of it committed for {} s while others wait",
        c != nullptr ? NodeIdText(c->sign_key) : std::string("an unknown node"),
        kSlotLeaseMs / 1000);
    ReleaseSlot(p);
  }
}

const replication::PublicKey* Listener::KeyOf(const Waiting& w) const {
  auto it = peers_.find(w.rid);
  return it == peers_.end() ? nullptr : &it->second.box;
}

// Answers waiting HELLOs while slots are free. Once no backlog is coming
// in, the memory the catch-ups took (frames of up to 1 MiB) goes back to
// the system, at most once a minute: a hub idles for hours after a
// province's first sync.
void Listener::AdmitWaiting() {
  const int64_t now = NowMs();
  if (!waiting_.empty() && now - last_lease_check_ms_ >= 1000) {
    last_lease_check_ms_ = now;
    TakeBackIdleSlots(now);
  }
  // Keys that have not waited for 10 minutes lose their place (one that
  // reconnects now and then, waiting meanwhile, keeps it).
  if (!waiting_since_.empty() && now - last_place_sweep_ms_ >= 1000) {
    last_place_sweep_ms_ = now;
    for (const Waiting& w : waiting_) {
      const replication::PublicKey* key = KeyOf(w);
      if (auto place = key ? waiting_since_.find(*key) : waiting_since_.end();
          place != waiting_since_.end())
        place->second.seen_ms = now;
    }
    std::erase_if(waiting_since_, [&](const auto& e) { return now - e.second.seen_ms > 600'000; });
  }
  // Oldest first; a HELLO whose key sends on another connection stays
  // where it is until that ends.
  for (size_t i = 0; catching_up_ < max_catching_up_ && i < waiting_.size();) {
    auto it = peers_.find(waiting_[i].rid);
    if (it != peers_.end() && slot_keys_.contains(it->second.box)) {
      ++i;
      continue;
    }
    Waiting w = std::move(waiting_[i]);
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
    if (it != peers_.end()) {
      const replication::PublicKey box = it->second.box;
      OnSessionFrame(w.rid, it->second, w.hello, /*gone=*/false);
      // Answered (not put back to wait), and no other connection of the
      // key waits: its turn came, its place goes.
      if (std::none_of(waiting_.begin(), waiting_.end(), [&](const Waiting& x) {
            const replication::PublicKey* key = KeyOf(x);
            return key != nullptr && *key == box;
          }))
        waiting_since_.erase(box);
    }
    i = 0;  // what it did may have freed or taken slots
  }
  if (catching_up_ == 0 && waiting_.empty() && trim_due_ && now - last_trim_ms_ >= 60'000) {
    trim_due_ = false;
    last_trim_ms_ = now;
    malloc_trim(0);
  }
}

}  // namespace tuphap::node::transport
