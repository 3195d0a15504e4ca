#include "node/sync.h"

#include <algorithm>
#include <set>

#include "obs/metrics.h"
#include "replication/certificate.h"

namespace tuphap::node {

using replication::FeedHeadWire;

SyncStats& SyncStats::operator+=(const SyncStats& o) {
  sent += o.sent;
  received += o.received;
  refused_here += o.refused_here;
  refused_by_peer += o.refused_by_peer;
  quarantined += o.quarantined;
  bytes_out += o.bytes_out;
  bytes_in += o.bytes_in;
  batches_out += o.batches_out;
  return *this;
}

SyncStats SyncStats::Since(const SyncStats& b) const {
  SyncStats d;
  d.sent = sent - b.sent;
  d.received = received - b.received;
  d.refused_here = refused_here - b.refused_here;
  d.refused_by_peer = refused_by_peer - b.refused_by_peer;
  d.quarantined = quarantined - b.quarantined;
  d.bytes_out = bytes_out - b.bytes_out;
  d.bytes_in = bytes_in - b.bytes_in;
  d.batches_out = batches_out - b.batches_out;
  return d;
}

void LinkBudget::Acknowledged(uint64_t connection_bytes) {
  carried_ = std::max(carried_, connection_bytes);
  // Double while no connection was ever lost; then no more than a share of
  // what one connection is known to carry.
  size_t next = frame_bytes_ * 2;
  if (losses_ > 0) next = std::min<uint64_t>(next, std::max<uint64_t>(carried_ / kShare, 1));
  frame_bytes_ = std::clamp<size_t>(next, frame_bytes_, kMaxBytes);
}

void LinkBudget::Lost(uint64_t connection_bytes) {
  ++losses_;
  carried_ = connection_bytes;
  frame_bytes_ = std::clamp<size_t>(std::min<uint64_t>(frame_bytes_ / 2, connection_bytes / kShare),
                                    1, kMaxBytes);
}

SyncSession::SyncSession(Node& node, Side side,
                         std::optional<replication::PublicKey> expected_box_key, PeerMemory* memory,
                         size_t window, size_t batch_envelopes)
    : node_(node),
      side_(side),
      expected_box_(expected_box_key),
      memory_(memory != nullptr ? memory : &own_memory_),
      budget_(&memory_->budget),
      window_(window),
      batch_envelopes_(std::min<size_t>(batch_envelopes, replication::kMaxBatchEnvelopes)) {
  obs::Metrics::Get().SessionOpened();
}

void SyncSession::Emit(std::string frame, std::vector<std::string>* out) {
  stats_.bytes_out += frame.size();
  out->push_back(std::move(frame));
}

Status SyncSession::Fail(std::string code, std::string message, std::vector<std::string>* out) {
  Emit(replication::Encode(replication::ErrorMessage{code, message}), out);
  error_sent_ = true;
  failed_ = true;
  SetEnded("error " + code + ": " + message);
  return Status::FailedPrecondition(message).WithReason(std::move(code));
}

bool SyncSession::Offers(std::string_view scope) const {
  return peer_ == nullptr || node_.Offers(*peer_, scope);
}

Result<replication::Hello> SyncSession::MakeHello(const std::vector<FeedHeadWire>* answered) {
  replication::Hello h;
  h.node = node_.sign_key();
  h.role = RoleName(node_.info().role);
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, node_.store().Heads());
  for (const auto& head : heads) {
    if (head.seq == 0) continue;
    if (answered == nullptr || Offers(head.feed.scope))
      h.heads.push_back({head.feed.origin, head.feed.scope, head.seq, head.hash});
  }
  // A feed the dialer announced that it may not be given (another
  // commune's, relayed by it): nothing of this node's copy is revealed —
  // only the highest envelope the dialer itself relayed here, so it is not
  // sent again.
  if (answered != nullptr && !memory_->relayed.empty()) {
    std::set<store::FeedKey> named;
    for (const auto& a : *answered) {
      const store::FeedKey key{a.origin, a.scope};
      auto it = memory_->relayed.find(key);
      if (it != memory_->relayed.end() && !Offers(a.scope) && named.insert(key).second)
        h.heads.push_back(it->second);
    }
  }
  return h;
}

Result<std::string> SyncSession::Start() {
  if (!node_.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: it cannot sync yet")
        .WithReason("E_NOT_ENROLLED");
  TUPHAP_ASSIGN_OR_RETURN(replication::Hello h, MakeHello(nullptr));
  // Many feeds (a hub): the summary form, expanded where the peer differs.
  if (h.heads.size() > summary_full_max_) {
    own_summary_ = replication::Summarise(
        h.heads, replication::SummaryBits(h.heads.size(), summary_per_bucket_));
    summarised_own_ = std::move(h.heads);
    h.heads.clear();
    h.version = replication::kSummaryVersion;
    h.summary = own_summary_;
  }
  std::string frame = replication::Encode(h);
  stats_.bytes_out += frame.size();
  return frame;
}

Status SyncSession::OnFrame(std::string_view frame, std::vector<std::string>* out) {
  // A transport that hands over the next frame with a batch in hand gets
  // the peer's order kept: the batch is finished first.
  if (in_hand_) TUPHAP_RETURN_IF_ERROR(ContinueBatch(out, /*may_yield=*/false));
  stats_.bytes_in += frame.size();
  auto msg = replication::Decode(frame);
  if (!msg.ok()) return Fail(msg.status().reason(), msg.status().message(), out);
  if (auto* e = std::get_if<replication::ErrorMessage>(&*msg)) {
    SetEnded("peer error " + e->code);
    failed_ = true;
    return Status::Aborted("the peer ended the session: " + e->message + " [" + e->code + "]")
        .WithReason(e->code);
  }
  Status s;
  if (auto* h = std::get_if<replication::Hello>(&*msg)) {
    s = HandleHello(*h, out);
  } else if (peer_ == nullptr) {
    // A dialler ignores what a previous connection left queued; a listener
    // insists on HELLO first.
    if (side_ == Side::kDialer) return Status::Ok();
    return Fail("E_PROTOCOL_ORDER", "a session starts with HELLO", out);
  } else if (auto* m = std::get_if<replication::HeadsMessage>(&*msg)) {
    if (!expansion_)
      return Fail("E_PROTOCOL_ORDER", "HEADS outside the expansion of a summary HELLO", out);
    s = HandleHeads(*m, out);
  } else if (expansion_) {
    return Fail("E_PROTOCOL_ORDER", "a frame other than HEADS before the last HEADS", out);
  } else if (auto* b = std::get_if<replication::Batch>(&*msg)) {
    s = HandleBatch(*b, out);
  } else if (auto* a = std::get_if<replication::Ack>(&*msg)) {
    s = HandleAck(*a);
    if (s.ok()) s = Pump(out);
  } else if (!std::holds_alternative<replication::Done>(*msg)) {
    return Fail("E_PROTOCOL_ORDER", "a query or answer inside a sync session", out);
  } else {
    peer_done_ = true;  // DONE
    s = Pump(out);
  }
  return AfterFrame(std::move(s), out);
}

Status SyncSession::ContinueBatch(std::vector<std::string>* out, bool may_yield) {
  if (!in_hand_) return Status::Ok();
  Status s = IngestInHand(may_yield, out);
  if (s.ok() && in_hand_) return s;  // nothing to follow until the last part
  return AfterFrame(std::move(s), out);
}

Status SyncSession::AfterFrame(Status s, std::vector<std::string>* out) {
  // Caught up: everything the peer held of this node's feeds is here now.
  if (s.ok() && peer_ != nullptr && caught_up() && !restore_checked_) {
    restore_checked_ = true;
    s = node_.ClearRestoredIfCaughtUp(*peer_, own_heads_announced_).status();
  }
  // A local failure (a busy disk, say) still tells the peer the session is
  // over, so it does not wait for an answer that will not come.
  if (!s.ok() && !error_sent_) {
    Emit(replication::Encode(replication::ErrorMessage{"E_INTERNAL", s.message()}), out);
    error_sent_ = true;
  }
  if (!s.ok()) {
    failed_ = true;
    SetEnded("error " + (s.reason().empty() ? std::string("E_INTERNAL") : s.reason()) + ": " +
             s.message());
  }
  return s;
}

Status SyncSession::HandleHello(const replication::Hello& hello, std::vector<std::string>* out) {
  const bool summary = hello.summary.has_value();  // version 2 (the decoder checked)
  if (!summary && hello.version != replication::kProtocolVersion)
    return Fail(
        "E_VERSION",
        "protocol version " + std::to_string(hello.version) + " is not spoken here (version 1)",
        out);
  if (peer_ != nullptr) return Fail("E_PROTOCOL_ORDER", "a second HELLO in one session", out);
  // A listener answers in the form it was greeted in.
  if (side_ == Side::kDialer && summary && !own_summary_)
    return Fail("E_PROTOCOL_ORDER", "a summary HELLO answering a full one", out);
  if (side_ == Side::kDialer && !summary && own_summary_)
    return Fail("E_PROTOCOL_ORDER", "a full HELLO answering a summary", out);
  if (side_ == Side::kDialer && summary && hello.summary->bits != own_summary_->bits)
    return Fail("E_PROTOCOL", "the answering summary has other bits than ours", out);
  if (!node_.enrolled())
    return Fail("E_NOT_ENROLLED", "this node is not enrolled: it cannot sync yet", out);
  TUPHAP_RETURN_IF_ERROR(node_.ReloadTrustIfChanged().status());
  const Trust* trust = node_.trust();
  const replication::Certificate* cert = trust->CertFor(hello.node);
  if (cert == nullptr)
    return Fail("E_UNKNOWN_ORIGIN", "the peer's key has no certificate of this province", out);
  if (trust->IsRevoked(hello.node)) return Fail("E_REVOKED", "the peer's key is revoked", out);
  if (expected_box_ && cert->box_key != *expected_box_)
    return Fail("E_NOT_AUTHORISED", "the peer's HELLO names another node than its transport key",
                out);
  if (hello.node == node_.sign_key())
    return Fail("E_PROTOCOL", "a node does not sync with itself", out);
  if (hello.role != replication::NodeRoleName(cert->role))
    return Fail("E_PROTOCOL", "the HELLO's role is not the certificate's", out);
  if (summary && replication::IsCommuneRole(cert->role)) {
    // A commune node may summarise no more heads than a version-1 HELLO
    // names: what it can make this node hold until its last HEADS stays
    // as before.
    uint64_t total = 0;
    for (const auto& b : hello.summary->buckets) total += b.count;
    if (total > replication::kMaxHelloHeads)
      return Fail("E_PROTOCOL", "a commune node's summary counts more heads than a HELLO may name",
                  out);
  }
  peer_cert_ = *cert;
  peer_ = &peer_cert_;
  if (!summary) return AcceptPeerHeads(hello.heads, side_ == Side::kListener, out);
  if (side_ == Side::kDialer) {
    BeginExpansion(std::move(summarised_own_), *own_summary_, *hello.summary, out);
    return Status::Ok();
  }
  // The listener summarises exactly the heads it would answer a full HELLO
  // with: those it offers, and what this dialler relayed here (it cannot
  // tell which of those the dialler announced: all of them, which tell the
  // dialler nothing it did not send).
  std::vector<FeedHeadWire> relayed;
  for (const auto& [feed, head] : memory_->relayed) relayed.push_back(head);
  TUPHAP_ASSIGN_OR_RETURN(replication::Hello reply, MakeHello(&relayed));
  std::vector<FeedHeadWire> own = std::move(reply.heads);
  reply.heads.clear();
  reply.version = replication::kSummaryVersion;
  reply.summary = replication::Summarise(own, hello.summary->bits);
  Emit(replication::Encode(reply), out);
  BeginExpansion(std::move(own), *reply.summary, *hello.summary, out);
  return Status::Ok();
}

// Version 2: the buckets whose count or digest differ (D) are expanded:
// this side sends its heads in D, the last frame saying so, then waits for
// the peer's last HEADS before it sends anything else.
void SyncSession::BeginExpansion(std::vector<FeedHeadWire> own,
                                 const replication::HeadsSummary& own_summary,
                                 const replication::HeadsSummary& peer_summary,
                                 std::vector<std::string>* out) {
  Expansion e;
  e.bits = own_summary.bits;
  e.peer = peer_summary.buckets;
  e.received.assign(e.peer.size(), 0);
  e.differ.resize(e.peer.size());
  for (size_t i = 0; i < e.peer.size(); ++i)
    e.differ[i] = !(i < own_summary.buckets.size() && own_summary.buckets[i] == e.peer[i]);
  replication::HeadsMessage m;
  for (const auto& h : own) {
    if (!e.differ[replication::SummaryBucket(h.origin, h.scope, e.bits)]) continue;
    m.heads.push_back(h);
    if (m.heads.size() == replication::kMaxHeadsMessageHeads) {
      expanded_out_ += m.heads.size();
      Emit(replication::Encode(m), out);
      m.heads.clear();
    }
  }
  m.last = true;
  expanded_out_ += m.heads.size();
  Emit(replication::Encode(m), out);
  e.own = std::move(own);
  expansion_ = std::move(e);
}

Status SyncSession::HandleHeads(const replication::HeadsMessage& msg,
                                std::vector<std::string>* out) {
  Expansion& e = *expansion_;
  for (const auto& h : msg.heads) {
    const uint32_t b = replication::SummaryBucket(h.origin, h.scope, e.bits);
    if (!e.differ[b])
      return Fail("E_PROTOCOL", "HEADS names a feed of a bucket whose summaries agree", out);
    if (++e.received[b] > e.peer[b].count)
      return Fail("E_PROTOCOL", "HEADS names more heads in a bucket than its summary counts", out);
    e.theirs.push_back(h);
  }
  expanded_in_ += msg.heads.size();
  if (!msg.last) return Status::Ok();
  // The peer's heads: its own in D, checked against its summary, and ours
  // outside D (the same there, as both summaries say).
  auto buckets = replication::SplitIntoBuckets(std::move(e.theirs), e.bits);
  std::vector<FeedHeadWire> heads;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!e.differ[i]) continue;
    if (!(replication::SummariseBucket(buckets[i]) == e.peer[i]))
      return Fail("E_PROTOCOL",
                  "the HEADS of bucket " + std::to_string(i) + " do not match the peer's summary",
                  out);
    for (auto& h : buckets[i]) heads.push_back(std::move(h));
  }
  for (auto& h : e.own)
    if (!e.differ[replication::SummaryBucket(h.origin, h.scope, e.bits)])
      heads.push_back(std::move(h));
  expansion_.reset();
  return AcceptPeerHeads(heads, false, out);
}

Status SyncSession::AcceptPeerHeads(const std::vector<FeedHeadWire>& heads, bool answer_full,
                                    std::vector<std::string>* out) {
  std::map<store::FeedKey, const FeedHeadWire*> announced;
  for (const auto& h : heads) {
    if (!Offers(h.scope)) continue;  // never sent to it: nothing to remember
    auto& known = peer_head_[{h.origin, h.scope}];
    known = std::max(known, h.seq);
    announced[{h.origin, h.scope}] = &h;
    if (h.origin.bytes == node_.sign_key()) own_heads_announced_.push_back(h);
  }
  // A hub that now holds less than it signed for (restored from an old
  // backup): flagged; what it lacks is sent again from its announced head.
  (void)node_.CheckHubRollback(*peer_, heads);  // bookkeeping
  TUPHAP_RETURN_IF_ERROR(ResendForkedHeads(announced));
  // What the peer holds, for status (pending each way) and bundle export:
  // bookkeeping, so a busy store does not end the session.
  if (defer_bookkeeping_) {
    deferred_heads_ = heads;
  } else {
    (void)node_.SavePeerHeads(*peer_, heads, Node::PeerHeadsSource::kHello);
  }
  if (answer_full) {
    TUPHAP_ASSIGN_OR_RETURN(replication::Hello reply, MakeHello(&heads));
    Emit(replication::Encode(reply), out);
  }
  TUPHAP_RETURN_IF_ERROR(RefillCursors());
  return Pump(out);
}

// A fork at the head itself: the peer holds the seq this node holds at a
// feed's head, with another hash (a node restored from an old backup that
// wrote before it pulled, or one key on two machines). Neither side would
// send anything and both would report caught up. This side sends its own
// envelope at that seq, so the peer records the equivocation (and the peer
// does the same here). Below the head no such step is needed: the next
// envelope's prev hash shows the fork to the receiver.
Status SyncSession::ResendForkedHeads(
    const std::map<store::FeedKey, const FeedHeadWire*>& announced) {
  if (announced.empty()) return Status::Ok();
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, node_.store().Heads());
  for (const auto& head : heads) {
    auto it = announced.find(head.feed);
    if (it == announced.end() || it->second->seq != head.seq || it->second->hash == head.hash)
      continue;
    TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                            node_.store().GetEnvelope(head.feed, head.seq));
    if (!env || env->is_draft()) continue;  // drafts never leave
    peer_head_[head.feed] = head.seq - 1;
  }
  return Status::Ok();
}

Status SyncSession::RefillCursors() {
  TUPHAP_ASSIGN_OR_RETURN(refilled_at_, node_.store().HeadsStamp());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, node_.store().Heads());
  cursors_.clear();
  for (const auto& head : heads) {
    if (head.seq == 0 || !Offers(head.feed.scope)) continue;
    uint64_t from = 0;
    if (auto it = peer_head_.find(head.feed); it != peer_head_.end()) from = it->second;
    if (auto it = sent_upto_.find(head.feed); it != sent_upto_.end())
      from = std::max(from, it->second);
    if (head.seq > from) cursors_.push_back({head.feed, from + 1});
  }
  // The public feed first: the certificates and keys in it decide whether
  // the peer can accept the rest.
  std::stable_partition(cursors_.begin(), cursors_.end(),
                        [](const Cursor& c) { return replication::IsPublicScope(c.feed.scope); });
  return Status::Ok();
}

Status SyncSession::Pump(std::vector<std::string>* out) {
  if (peer_ == nullptr || expansion_) return Status::Ok();  // nothing before the last HEADS
  if (cursors_.empty() && initial_sent_) {  // live: only what is new since the last look
    TUPHAP_ASSIGN_OR_RETURN(store::Store::Stamp now, node_.store().HeadsStamp());
    if (!refilled_at_ || !(*refilled_at_ == now)) TUPHAP_RETURN_IF_ERROR(RefillCursors());
  }
  while (in_flight_.size() < window_ && !cursors_.empty()) {
    replication::Batch batch;
    batch.batch_no = next_batch_++;
    size_t bytes = 0;
    while (!cursors_.empty() && batch.envelopes.size() < batch_envelopes_) {
      Cursor& c = cursors_.front();
      // Bounded in bytes by what the link carries (one envelope always
      // goes); a feed's run is read in one statement.
      const size_t room = budget_->frame_bytes() - std::min(bytes, budget_->frame_bytes());
      TUPHAP_ASSIGN_OR_RETURN(
          store::Store::EnvelopeRun run,
          node_.store().ReadEnvelopeRun(c.feed, c.next, batch_envelopes_ - batch.envelopes.size(),
                                        room, batch.envelopes.empty()));
      for (auto& env : run.envelopes) {
        bytes += env.size();
        batch.envelopes.push_back(std::move(env));
      }
      if (!run.envelopes.empty()) {
        c.next += run.envelopes.size();
        sent_upto_[c.feed] = c.next - 1;
      }
      if (run.end) {  // the end of the feed (drafts never leave)
        cursors_.erase(cursors_.begin());
        continue;
      }
      break;  // the frame is full
    }
    if (batch.envelopes.empty()) break;
    stats_.sent += batch.envelopes.size();
    ++stats_.batches_out;
    std::string frame = replication::Encode(batch);
    in_flight_.emplace(batch.batch_no, frame.size());
    Emit(std::move(frame), out);
  }
  if (cursors_.empty() && !initial_sent_) {
    initial_sent_ = true;
    catchup_last_batch_ = next_batch_ - 1;
  }
  // DONE once every batch of the catch-up is acknowledged (live batches
  // sent since do not hold it back).
  if (initial_sent_ && !sent_done_ &&
      (in_flight_.empty() || in_flight_.begin()->first > catchup_last_batch_)) {
    sent_done_ = true;
    Emit(replication::Encode(replication::Done{}), out);
  }
  return Status::Ok();
}

void SyncSession::KeepPendingReceipts() {
  std::set<uint64_t> kept;  // one ACK may be the latest of several scopes
  for (const auto& [scope, ack] : pending_receipts_)
    if (kept.insert(ack.batch_no).second) (void)node_.KeepReceipt(peer_->sign_key, ack);
  pending_receipts_.clear();
}

void SyncSession::WriteBookkeeping() {
  if (!deferred_heads_ || peer_ == nullptr) return;
  (void)node_.SavePeerHeads(*peer_, *deferred_heads_, Node::PeerHeadsSource::kHello);
  deferred_heads_.reset();
}

void SyncSession::ConnectionLost() {
  KeepPendingReceipts();
  SetEnded("connection ended");
  if (awaiting_ack()) budget_->Lost(Carried());
  in_flight_.clear();
}

void SyncSession::KeepAlive(std::vector<std::string>* out) {
  if (peer_ == nullptr || expansion_ || in_flight_.size() >= window_) return;
  replication::Batch empty;
  empty.batch_no = next_batch_++;
  std::string frame = replication::Encode(empty);
  in_flight_.emplace(empty.batch_no, frame.size());
  Emit(std::move(frame), out);
}

Status SyncSession::HandleBatch(replication::Batch& batch, std::vector<std::string>* out) {
  InHand b;
  b.batch_no = batch.batch_no;
  b.left.reserve(batch.envelopes.size());
  for (auto& bytes : batch.envelopes) {
    auto env = replication::Envelope::Parse(std::move(bytes));
    if (!env.ok()) {
      ++b.malformed;  // one bad envelope does not spoil the batch
      continue;
    }
    const store::FeedKey key{env->header().origin, env->header().scope};
    auto& top = b.feeds[key];
    if (env->header().seq >= top.first) top = {env->header().seq, env->hash()};
    // The peer holds what it sends: never echo it back.
    auto& known = peer_head_[key];
    known = std::max(known, env->header().seq);
    b.left.push_back({std::move(*env), std::nullopt});
  }
  in_hand_ = std::move(b);
  return IngestInHand(/*may_yield=*/true, out);
}

Status SyncSession::IngestInHand(bool may_yield, std::vector<std::string>* out) {
  InHand& b = *in_hand_;
  static const std::function<bool()> kNoYield;
  Result<store::ApplyReport> part = node_.Ingest(b.left, may_yield ? yield_ : kNoYield);
  if (!part.ok()) {
    in_hand_.reset();
    return part.status();
  }
  // Counted part by part: a connection lost before the last part leaves
  // the session's figures true to what was committed.
  stats_.received += part->appended + part->released;
  stats_.refused_here += part->refused;
  stats_.quarantined += part->quarantined;
  for (const auto& [reason, n] : part->refusals) refused_reasons_[reason] += n;
  equivocations_ += part->equivocations;
  b.refused += part->refused;
  if (yield_ && may_yield && !b.left.empty()) return Status::Ok();  // more to apply later
  // All applied: no longer in hand, whatever fails below.
  const InHand done = std::move(b);
  in_hand_.reset();
  // Envelopes that do not parse never reach the store: counted here, so
  // status shows them too (no origin is known: the peer sent them). With
  // the last part: a batch sent again after a lost connection counts them
  // once.
  TUPHAP_RETURN_IF_ERROR(node_.store().CountRefusals("E_MALFORMED", done.malformed));
  stats_.refused_here += done.malformed;
  if (done.malformed > 0) refused_reasons_["E_MALFORMED"] += done.malformed;
  const auto& feeds = done.feeds;
  replication::Ack ack;
  ack.batch_no = done.batch_no;
  ack.refused = done.refused + done.malformed;
  for (const auto& [feed, top] : feeds) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<store::FeedHead> head, node_.store().Head(feed));
    if (!head) continue;
    if (!Offers(feed.scope)) {
      // A feed the peer may not be given: say no more than what it sent,
      // and remember what it relayed for its next HELLO.
      // Holding less than it sent (a gap, a refusal): nothing is said of
      // how far this node's copy goes.
      if (head->seq >= top.first) {
        const FeedHeadWire sent{feed.origin, feed.scope, top.first, top.second};
        ack.heads.push_back(sent);
        auto [it, fresh] = memory_->relayed.try_emplace(feed, sent);
        if (!fresh && it->second.seq < sent.seq) it->second = sent;
      }
    } else {
      ack.heads.push_back({feed.origin, feed.scope, head->seq, head->hash});
    }
  }
  if (node_.info().role == Role::kHub) TUPHAP_RETURN_IF_ERROR(node_.SignReceipt(&ack));
  Emit(replication::Encode(ack), out);
  ++progress_;  // the peer's batch is committed here
  return Pump(out);
}

Status SyncSession::HandleAck(const replication::Ack& ack) {
  auto it = in_flight_.find(ack.batch_no);
  if (it == in_flight_.end()) return Status::Ok();  // a duplicate or an old session's
  if (peer_->role == replication::NodeRole::kHub &&
      !replication::ReceiptValid(ack, peer_->sign_key)) {
    return Status::PermissionDenied("the hub's receipt for batch " + std::to_string(ack.batch_no) +
                                    " does not verify")
        .WithReason("E_BAD_RECEIPT");
  }
  // Kept so the commune can show what the hub signed for. Written when no
  // batch is in flight (and when the connection is lost), not once per ACK:
  // a commit per batch would cost the sender a disk flush each, and a later
  // receipt covers one lost to a crash in between (bookkeeping only).
  if (peer_->role == replication::NodeRole::kHub) {
    for (const auto& h : ack.heads)
      if (h.origin.bytes == node_.sign_key()) pending_receipts_[h.scope] = ack;
  }
  acknowledged_out_ += it->second;
  in_flight_.erase(it);
  if (in_flight_.empty()) KeepPendingReceipts();
  ++progress_;
  budget_->Acknowledged(Carried());
  refilled_at_.reset();  // what the peer holds moved: the next pump looks again
  stats_.refused_by_peer += ack.refused;
  for (const auto& h : ack.heads) {
    const store::FeedKey key{h.origin, h.scope};
    auto& known = peer_head_[key];
    known = std::max(known, h.seq);
    // The peer stopped below what we sent (a refusal that may pass later,
    // such as a clock ahead or a certificate still on its way): send the
    // rest again, a few times per session.
    auto sent = sent_upto_.find(key);
    if (ack.refused > 0 && sent != sent_upto_.end() && h.seq < sent->second &&
        retries_[key]++ < 3) {
      sent->second = h.seq;
    }
  }
  (void)node_.SavePeerHeads(*peer_, ack.heads, Node::PeerHeadsSource::kAck);  // bookkeeping
  return Status::Ok();
}

}  // namespace tuphap::node
