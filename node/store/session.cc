// Store::Batch — the working set of one write session: the log step
// (refuse, duplicate, hold, equivocation, append), materialisation in causal
// order, and writing feeds, records and conflicts back — and Store::Session,
// the transaction around it.
#include <algorithm>
#include <chrono>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/parallel.h"
#include "node/store/record_codec.h"
#include "node/store/scoped_queries.h"
#include "node/store/stats_totals.h"
#include "node/store/store.h"
#include "obs/metrics.h"
#include "replication/seal.h"

namespace tuphap::store {
namespace {

std::string_view Bytes(const replication::Hash& h) { return replication::AsBytes(h); }

// A record's verdict: its state's `flag`, else its history's ("reason\tfield").
ContentFlag WithHistory(ContentFlag flag, std::string_view history_flag) {
  if (flag.empty() && !history_flag.empty()) {
    const size_t tab = history_flag.find('\t');
    flag.reason = std::string(history_flag.substr(0, tab));
    if (tab != std::string_view::npos) flag.field = std::string(history_flag.substr(tab + 1));
  }
  return flag;
}

std::string HlcBytes(crdt::Hlc hlc) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(hlc.raw() >> (56 - 8 * i));
  return s;
}

const replication::Hash kZeroHash{};

}  // namespace

class Store::Batch {
 public:
  Batch(Store& store, const EnvelopeOpener& opener, ApplyOptions options)
      : store_(store), opener_(opener), options_(options) {
    origins_.to_id = [this](const crdt::ReplicaId& k) { return store_.origin_ids_.at(k); };
    origins_.to_key = [this](int64_t id) { return store_.OriginKey(id); };
  }

  // `signature_ok`: the envelope's signature was verified (VerifyRuns).
  Status Add(Incoming& in, bool local, bool signature_ok = false);
  // Opens on two threads, before Add, the bodies Add would open: see the
  // definition.
  void OpenAhead(std::vector<Incoming>& batch, const std::vector<bool>& signature_ok);
  Status AppendLocal(const FeedKey& key, const LocalFactory& make);
  Status DrainAll();
  Status Flush();
  // Writes the cached records out once there are many: a long session's
  // memory stays flat (nothing is committed by this).
  Status FlushIfLarge() { return records_.size() > kMaxCachedRecords ? Flush() : Status::Ok(); }
  Result<std::optional<RecordView>> ViewRecord(std::string_view scope, std::string_view record_id);
  // Whether a record this session changed and has not written yet names
  // `personal_id`, as it is now or as it is stored: the person index is
  // stale for that ID until the next flush.
  Result<bool> NamesUnwritten(std::string_view personal_id);
  // Judges again every stored record of `scope` whose id starts with
  // `prefix`, except those in `skip` (judged already with what this session
  // holds), and writes the verdicts that changed.
  Status RejudgePrefix(const std::string& scope, const std::string& prefix,
                       const std::set<std::string>& skip);
  ApplyReport& report() { return report_; }
  const ApplyOptions& options() const { return options_; }
  // Adds the moves of stats_totals gathered since the last call, once per
  // key (at commit: a key that many flushes of one transaction touch is
  // written once).
  Status WriteStats() { return stats_.Write(*store_.db_); }

 private:
  struct FeedSlot {
    int64_t origin_id = 0;
    FeedHead head;
    std::string blocked;  // non-empty: materialising this feed stopped
    bool dirty = false;
    // Envelopes held for this feed and their bytes, counted once per session
    // when first needed, then kept up to date (the write lock is ours).
    std::optional<std::pair<uint64_t, uint64_t>> held;
  };
  struct RecordSlot {
    int64_t rowid = 0;  // 0: not in the table yet
    crdt::RecordState state;
    std::vector<ChangeRef> history;
    int64_t stored_conflicts = 0;
    bool dirty = false;
    ContentFlag invalid;              // as stored
    std::string history_flag;         // "reason\tfield": the least verdict on a change (JudgeOps)
    std::optional<IndexEntry> index;  // of `state`, once computed (reset by every change)
    std::optional<ContentFlag> verdict;  // of `state`, set by Prejudge for the flush that uses it
    bool to_note = false;                // in to_note_: its IDs are not in unwritten_ids_ yet
    bool stored_noted = false;           // the IDs its stored index entries name are
    // What its row counts for in stats_totals as stored (none: no row, or
    // not a dated registration), taken out when the row is written again.
    std::optional<std::pair<StatsKey, StatsPart>> stored_stats;
  };
  using RecordKey = std::pair<std::string, std::string>;  // (scope, record_id)
  struct RecordKeyHash {
    size_t operator()(const RecordKey& k) const {
      return std::hash<std::string>()(k.second) ^ (std::hash<std::string>()(k.first) << 1);
    }
  };

  Result<FeedSlot*> LoadFeed(const FeedKey& key);
  Result<RecordSlot*> LoadRecord(const std::string& scope, const std::string& record_id);
  Result<bool> Quarantined(int64_t origin_id);
  // Whether holding one more envelope of `bytes` would pass the feed's held
  // limits (StoreOptions::max_held_per_feed, max_held_bytes_per_feed).
  Result<bool> HeldLimitReached(FeedSlot& feed, uint64_t bytes);
  // Reads the feed's held count and bytes once per session (FeedSlot::held).
  Status CountHeld(FeedSlot& feed);
  void Refuse(const std::string& reason, const replication::EnvelopeHeader& h);
  // A refusal that is not an input's outcome (a held envelope released).
  void CountRefusal(const std::string& reason, const replication::EnvelopeHeader& h);
  Result<std::optional<std::string>> StoredEnvelope(const char* table, const FeedSlot& feed,
                                                    uint64_t seq, std::string* hash);
  Status Append(FeedSlot& feed, const replication::Envelope& env,
                std::optional<crdt::Change> change);
  Status ReleaseHeld(FeedSlot& feed);
  // Whether the held envelopes from the head up to `cut` chain to its id.
  Result<bool> ChainReachesCut(const FeedSlot& feed, const IngestGate::Cut& cut);
  Status RecordEquivocation(FeedSlot& feed, uint64_t seq, const char* kind, std::string_view ours,
                            std::string_view theirs);
  Status DrainFeed(FeedSlot& feed, bool* progress);
  // Content judgement (StoreOptions::checker): records of `scope` with an id
  // prefix as this session sees them, cached until the end of the flush.
  Result<const std::vector<RecordView>*> Lookup(const std::string& scope, std::string_view prefix);
  // The value `dot` wrote to `field` of a record now in `state`.
  Result<std::optional<crdt::Value>> ValueOf(const std::string& scope,
                                             const crdt::RecordState& state, std::string_view field,
                                             const crdt::Dot& dot);
  // The verdict on a record: its state's, else its history's.
  Result<ContentFlag> Verdict(const std::string& scope, const std::string& record_id,
                              const crdt::RecordState& state, std::string_view history_flag);
  // Flush: the verdicts and index entries (RecordSlot::verdict, ::index)
  // of the dirty records, computed on two threads before they are written.
  Status Prejudge();
  Result<bool> MaterialiseNext(FeedSlot& feed);
  Status Materialise(crdt::Change& change);

  static constexpr size_t kMaxCachedRecords = 512;
  static constexpr size_t kPrejudgeMin = 64;  // fewer dirty records: all on this thread
  Store& store_;
  const EnvelopeOpener& opener_;
  ApplyOptions options_;
  OriginMap origins_;
  ApplyReport report_;
  std::map<FeedKey, FeedSlot> feeds_;
  std::unordered_map<RecordKey, RecordSlot, RecordKeyHash> records_;
  // The personal IDs records changed since the last flush name, now or as
  // stored (NamesUnwritten), and the records whose IDs are not noted yet.
  std::unordered_set<std::string> unwritten_ids_;
  std::vector<RecordKey> to_note_;
  // The moves of stats_totals that Flush and RejudgePrefix made, summed per
  // key until WriteStats; nothing reads the totals inside the transaction.
  StatsDeltas stats_;
  std::map<std::pair<FeedKey, uint64_t>, crdt::Change> decoded_;
  std::map<int64_t, bool> quarantined_;
  std::map<std::pair<std::string, std::string>, std::vector<RecordView>> lookups_;
  crdt::Hlc max_hlc_;
  // Refusals not yet written to the refusals table.
  struct RefusalTally {
    uint64_t count = 0;
    crdt::ReplicaId origin;
    std::string scope;
    uint64_t seq = 0;
  };
  std::map<std::string, RefusalTally> unsaved_refusals_;
};

Result<Store::Batch::FeedSlot*> Store::Batch::LoadFeed(const FeedKey& key) {
  auto it = feeds_.find(key);
  if (it != feeds_.end()) return &it->second;
  FeedSlot slot;
  TUPHAP_ASSIGN_OR_RETURN(slot.origin_id, store_.OriginId(key.origin));
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          store_.db_->Prepare("SELECT head_seq, head_hash, applied_seq, blocked "
                                              "FROM feeds WHERE origin = ? AND scope = ?"));
  q.Bind(1, slot.origin_id).Bind(2, key.scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  slot.head.feed = key;
  if (row) {
    slot.head.seq = static_cast<uint64_t>(q.Int(0));
    std::string_view h = q.Blob(1);
    if (h.size() == slot.head.hash.size()) std::copy(h.begin(), h.end(), slot.head.hash.begin());
    slot.head.applied_seq = static_cast<uint64_t>(q.Int(2));
    slot.blocked = std::string(q.Text(3));
  }
  return &feeds_.emplace(key, std::move(slot)).first->second;
}

Result<bool> Store::Batch::Quarantined(int64_t origin_id) {
  auto it = quarantined_.find(origin_id);
  if (it != quarantined_.end()) return it->second;
  TUPHAP_ASSIGN_OR_RETURN(Stmt q,
                          store_.db_->Prepare("SELECT quarantined FROM origins WHERE id = ?"));
  q.Bind(1, origin_id);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  const bool flagged = row && q.Int(0) != 0;
  quarantined_[origin_id] = flagged;
  return flagged;
}

Status Store::Batch::CountHeld(FeedSlot& feed) {
  if (!feed.held) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare("SELECT count(*), coalesce(sum(length(envelope)), 0) FROM "
                                    "held WHERE origin = ? AND scope = ?"));
    q.Bind(1, feed.origin_id).Bind(2, feed.head.feed.scope);
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    feed.held =
        row ? std::make_pair(static_cast<uint64_t>(q.Int(0)), static_cast<uint64_t>(q.Int(1)))
            : std::make_pair(uint64_t{0}, uint64_t{0});
  }
  return Status::Ok();
}

Result<bool> Store::Batch::HeldLimitReached(FeedSlot& feed, uint64_t bytes) {
  TUPHAP_RETURN_IF_ERROR(CountHeld(feed));
  const StoreOptions& o = store_.options_;
  return feed.held->first + 1 > o.max_held_per_feed ||
         feed.held->second + bytes > o.max_held_bytes_per_feed;
}

void Store::Batch::Refuse(const std::string& reason, const replication::EnvelopeHeader& h) {
  report_.outcomes.push_back({Disposition::kRefused, reason});
  CountRefusal(reason, h);
}

void Store::Batch::CountRefusal(const std::string& reason, const replication::EnvelopeHeader& h) {
  ++report_.refused;
  ++report_.refusals[reason];
  RefusalTally& t = unsaved_refusals_[reason];
  ++t.count;
  t.origin = h.origin;
  t.scope = h.scope;
  t.seq = h.seq;
}

Result<std::optional<std::string>> Store::Batch::StoredEnvelope(const char* table,
                                                                const FeedSlot& feed, uint64_t seq,
                                                                std::string* hash) {
  const std::string sql = std::string("SELECT hash, envelope FROM ") + table +
                          " WHERE origin = ? AND scope = ? AND seq = ?";
  TUPHAP_ASSIGN_OR_RETURN(Stmt q, store_.db_->Prepare(sql));
  q.Bind(1, feed.origin_id).Bind(2, feed.head.feed.scope).Bind(3, static_cast<int64_t>(seq));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  if (hash != nullptr) *hash = std::string(q.Blob(0));
  return std::optional<std::string>(std::string(q.Blob(1)));
}

Status Store::Batch::Add(Incoming& in, bool local, bool signature_ok) {
  const replication::Envelope& env = in.envelope;
  const auto& h = env.header();
  // The ingest checks, in order (docs/security.md); a node's own changes
  // skip them. Structure and size limits were checked by Envelope::Parse.
  const IngestGate* gate = local ? nullptr : options_.gate;
  if (env.is_draft() && !local && !options_.allow_drafts) {
    Refuse("E_UNSIGNED_DRAFT", h);  // a draft proves nothing about who wrote it
    return Status::Ok();
  }
  if (gate != nullptr) {  // 1. a known origin with a certificate, within its revocation cut
    if (std::string reason = gate->CheckOrigin(h, env.hash()); !reason.empty()) {
      // Blame a known origin only for what it signed: junk naming it is
      // counted as a bad signature.
      Refuse(reason == "E_UNKNOWN_ORIGIN" || signature_ok || env.is_draft() ? reason
                                                                            : "E_BAD_SIGNATURE",
             h);
      return Status::Ok();
    }
  }
  if (!local && !env.is_draft() && !signature_ok) {  // 2. its signature
    Refuse("E_BAD_SIGNATURE", h);
    return Status::Ok();
  }
  // 3. the hash chain: duplicates, forks, gaps.
  if ((h.seq == 1) != (h.prev == kZeroHash)) {
    Refuse("E_CHAIN_START", h);  // seq 1 and only seq 1 has no predecessor
    return Status::Ok();
  }
  TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(FeedKey{h.origin, h.scope}));
  TUPHAP_ASSIGN_OR_RETURN(bool quarantined, Quarantined(feed->origin_id));
  if (quarantined) {
    // Refused and counted like any refusal, so the sender's ACK and this
    // node's status say so (its origin forked its history: nothing more of
    // it is merged).
    report_.outcomes.push_back({Disposition::kQuarantined, "E_QUARANTINED"});
    ++report_.quarantined;
    CountRefusal("E_QUARANTINED", h);
    return Status::Ok();
  }
  if (h.seq <= feed->head.seq) {
    std::string hash;
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> ours,
                            StoredEnvelope("changes", *feed, h.seq, &hash));
    if (!ours) return Status::Corruption("the log lacks a change below its feed head");
    if (hash == Bytes(env.hash())) {
      report_.outcomes.push_back({Disposition::kDuplicate, {}});
      ++report_.duplicates;
      return Status::Ok();
    }
    report_.outcomes.push_back({Disposition::kEquivocation, "E_EQUIVOCATION"});
    return RecordEquivocation(*feed, h.seq, "same_seq", *ours, env.bytes());
  }
  // A revoked origin's envelopes below a cut whose id is known wait, like a
  // gap, until the chain from the head reaches that id (ReleaseHeld).
  std::optional<IngestGate::Cut> cut;
  if (gate != nullptr) cut = gate->CutOf(h.origin, h.scope);
  const bool below_cut = cut && h.seq < cut->seq;
  const bool gap = h.seq > feed->head.seq + 1 || below_cut;
  std::string held_hash;
  std::optional<std::string> held;
  if (gap) {
    TUPHAP_ASSIGN_OR_RETURN(held, StoredEnvelope("held", *feed, h.seq, &held_hash));
    if (held) {
      if (held_hash == Bytes(env.hash())) {
        report_.outcomes.push_back({Disposition::kDuplicate, {}});
        ++report_.duplicates;
        return Status::Ok();
      }
      report_.outcomes.push_back({Disposition::kEquivocation, "E_EQUIVOCATION"});
      return RecordEquivocation(*feed, h.seq, "same_seq", *held, env.bytes());
    }
  } else if (h.prev != feed->head.hash) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> ours,
                            StoredEnvelope("changes", *feed, feed->head.seq, nullptr));
    report_.outcomes.push_back({Disposition::kEquivocation, "E_EQUIVOCATION"});
    return RecordEquivocation(*feed, h.seq, "prev_mismatch", ours.value_or(""), env.bytes());
  }
  if (gate != nullptr) {  // 4. the origin may write this scope
    if (std::string reason = gate->Authorise(h); !reason.empty()) {
      Refuse(reason, h);
      return Status::Ok();
    }
  }
  // Our own stamps come from the node's HlcClock, which has its own guard
  // (and the operator's override); only peers' stamps are checked here.
  if (!local && static_cast<int64_t>(h.hlc.millis()) - store_.options_.clock->WallMillis() >
                    store_.options_.max_clock_ahead_ms) {
    Refuse("E_CLOCK_AHEAD", h);  // retried later: the change stays with its sender
    return Status::Ok();
  }
  // Held envelopes are bounded per feed, so one origin cannot fill the disk
  // with envelopes after a gap it never fills. Those held below a
  // revocation cut are bounded by the cut. Refused ones stay with their
  // sender and pass once the gap fills.
  if (gap && !below_cut) {
    TUPHAP_ASSIGN_OR_RETURN(bool full, HeldLimitReached(*feed, env.bytes().size()));
    if (full) {
      Refuse("E_HELD_LIMIT", h);
      return Status::Ok();
    }
  }
  // 5. decryption: a position we would keep must open here if this node
  // holds the scope's key, so nothing unreadable is ever chained in; without
  // the key it is kept and forwarded unread.
  std::optional<crdt::Change> change = std::move(in.change);
  in.change.reset();  // the caller's batch must stay usable for a retry
  if (!change && opener_.CanOpen(h)) {
    crdt::Change c;
    Status s = opener_.Open(env, &c);
    if (!s.ok()) {
      if (s.code() == StatusCode::kUnavailable) return s;  // a local condition (locked keys)
      Refuse(s.reason().empty() ? "E_BODY_INVALID" : s.reason(), h);
      return Status::Ok();
    }
    change = std::move(c);
  }
  if (gap) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt ins,
        store_.db_->Prepare(
            "INSERT INTO held(origin, scope, seq, hash, envelope) VALUES(?, ?, ?, ?, ?)"));
    TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed->origin_id)
                               .Bind(2, h.scope)
                               .Bind(3, static_cast<int64_t>(h.seq))
                               .BindBlob(4, Bytes(env.hash()))
                               .BindBlob(5, env.bytes())
                               .Run());
    if (feed->held) {
      ++feed->held->first;
      feed->held->second += env.bytes().size();
    }
    if (change) decoded_.emplace(std::make_pair(feed->head.feed, h.seq), std::move(*change));
    report_.outcomes.push_back({Disposition::kHeld, {}});
    ++report_.held;
    return cut ? ReleaseHeld(*feed) : Status::Ok();
  }
  report_.outcomes.push_back({Disposition::kAppended, {}});
  ++report_.appended;
  TUPHAP_RETURN_IF_ERROR(Append(*feed, env, std::move(change)));
  return ReleaseHeld(*feed);
}

// Opening a body (decrypting and decoding it: ~9 % of a hub's ingest in a
// profile of load_bench) is pure work. For a batch of kOpenAheadMin
// envelopes or more it is done here, on two threads, for the envelopes that
// pass the checks that read no store — a draft only where drafts are
// allowed, a valid signature, a known origin within its certificate and
// cut, authorised for the scope (docs/security.md) — so Add finds their
// bodies open (Incoming::change) and only appends. Add still makes every
// check, in its order, before it uses a body: one opened here for an
// envelope Add then refuses (a duplicate of a batch sent again, say) goes
// unused; one that does not open here is left to Add, which opens it again
// and refuses it with its reason. Nothing read changes meanwhile: the
// caller waits in ParallelHalves, each envelope is touched by one thread,
// and the opener says it may open on two threads (its keys unlocked:
// EnvelopeOpener::OpensConcurrently). Checks 6 and 8 (the chain start, the
// clock) are not made here: a signed envelope they refuse is opened and
// dropped.
void Store::Batch::OpenAhead(std::vector<Incoming>& batch, const std::vector<bool>& signature_ok) {
  // One core: Add opens them, only those it keeps.
  if (batch.size() < kOpenAheadMin || ParallelCores() < 2 || !opener_.OpensConcurrently()) return;
  const IngestGate* gate = options_.gate;
  ParallelHalves(batch.size(), kOpenAheadMin, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      Incoming& in = batch[i];
      const replication::Envelope& env = in.envelope;
      const replication::EnvelopeHeader& h = env.header();
      if (in.change) continue;
      if (env.is_draft() ? !options_.allow_drafts : !signature_ok[i]) continue;
      if (gate != nullptr &&
          (!gate->CheckOrigin(h, env.hash()).empty() || !gate->Authorise(h).empty())) {
        continue;
      }
      if (!opener_.CanOpen(h)) continue;
      crdt::Change change;
      if (opener_.Open(env, &change).ok()) in.change = std::move(change);
    }
  });
}

Status Store::Batch::Append(FeedSlot& feed, const replication::Envelope& env,
                            std::optional<crdt::Change> change) {
  const auto& h = env.header();
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt ins,
      store_.db_->Prepare(
          "INSERT INTO changes(origin, scope, seq, hash, hlc, envelope) VALUES(?, ?, ?, ?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed.origin_id)
                             .Bind(2, h.scope)
                             .Bind(3, static_cast<int64_t>(h.seq))
                             .BindBlob(4, Bytes(env.hash()))
                             .Bind(5, static_cast<int64_t>(h.hlc.raw()))
                             .BindBlobNoCopy(6, env.bytes())
                             .Run());
  feed.head.seq = h.seq;
  feed.head.hash = env.hash();
  feed.dirty = true;
  if (h.hlc > max_hlc_) max_hlc_ = h.hlc;
  if (change) decoded_.insert_or_assign(std::make_pair(feed.head.feed, h.seq), std::move(*change));
  return Status::Ok();
}

Result<bool> Store::Batch::ChainReachesCut(const FeedSlot& feed, const IngestGate::Cut& cut) {
  replication::Hash expected = cut.id;
  for (uint64_t s = cut.seq; s > feed.head.seq; --s) {
    std::string hash;
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                            StoredEnvelope("held", feed, s, &hash));
    if (!bytes || hash != Bytes(expected)) return false;
    auto env = replication::Envelope::Parse(std::move(*bytes));
    if (!env.ok()) return false;
    expected = env->header().prev;
  }
  return expected == feed.head.hash;
}

Status Store::Batch::ReleaseHeld(FeedSlot& feed) {
  // Nothing held for this feed: no query per appended envelope (the count
  // is read once per session and kept up to date).
  TUPHAP_RETURN_IF_ERROR(CountHeld(feed));
  if (feed.held->first == 0) return Status::Ok();
  const IngestGate* gate = options_.gate;
  if (gate != nullptr) {
    // A revoked origin's feed below a known cut is released only as a
    // whole chain ending at the envelope the revocation names.
    if (auto cut = gate->CutOf(feed.head.feed.origin, feed.head.feed.scope);
        cut && cut->seq > feed.head.seq) {
      TUPHAP_ASSIGN_OR_RETURN(bool reaches, ChainReachesCut(feed, *cut));
      if (!reaches) return Status::Ok();
    }
  }
  while (true) {
    const uint64_t next = feed.head.seq + 1;
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                            StoredEnvelope("held", feed, next, nullptr));
    if (!bytes) return Status::Ok();
    {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt del,
          store_.db_->Prepare("DELETE FROM held WHERE origin = ? AND scope = ? AND seq = ?"));
      TUPHAP_RETURN_IF_ERROR(del.Bind(1, feed.origin_id)
                                 .Bind(2, feed.head.feed.scope)
                                 .Bind(3, static_cast<int64_t>(next))
                                 .Run());
      if (feed.held) {
        --feed.held->first;  // the row just deleted was counted, bytes and all
        feed.held->second -= bytes->size();
      }
    }
    auto env = replication::Envelope::Parse(std::move(*bytes));
    if (!env.ok())
      return Status::Corruption("a held envelope cannot be read: " + env.status().message());
    if (env->header().prev != feed.head.hash) {
      // It forks from our head: evidence, counted but not an input outcome.
      TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> ours,
                              StoredEnvelope("changes", feed, feed.head.seq, nullptr));
      decoded_.erase({feed.head.feed, next});
      return RecordEquivocation(feed, next, "prev_mismatch", ours.value_or(""), env->bytes());
    }
    if (gate != nullptr) {
      // Trust may have changed since it was held (a revocation arrived).
      std::string reason = gate->CheckOrigin(env->header(), env->hash());
      if (reason.empty()) reason = gate->Authorise(env->header());
      if (!reason.empty()) {
        decoded_.erase({feed.head.feed, next});
        CountRefusal(reason, env->header());
        return Status::Ok();
      }
    }
    TUPHAP_RETURN_IF_ERROR(Append(feed, *env, std::nullopt));
    ++report_.released;
  }
}

Status Store::Batch::RecordEquivocation(FeedSlot& feed, uint64_t seq, const char* kind,
                                        std::string_view ours, std::string_view theirs) {
  ++report_.equivocations;
  TUPHAP_ASSIGN_OR_RETURN(Stmt ins,
                          store_.db_->Prepare("INSERT OR IGNORE INTO equivocations(origin, scope, "
                                              "seq, kind, ours, theirs, detected_hlc) "
                                              "VALUES(?, ?, ?, ?, ?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.Bind(1, feed.origin_id)
                             .Bind(2, feed.head.feed.scope)
                             .Bind(3, static_cast<int64_t>(seq))
                             .Bind(4, kind)
                             .BindBlob(5, ours)
                             .BindBlob(6, theirs)
                             .Bind(7, static_cast<int64_t>(max_hlc_.raw()))
                             .Run());
  TUPHAP_ASSIGN_OR_RETURN(Stmt flag,
                          store_.db_->Prepare("UPDATE origins SET quarantined = 1 WHERE id = ?"));
  TUPHAP_RETURN_IF_ERROR(flag.Bind(1, feed.origin_id).Run());
  quarantined_[feed.origin_id] = true;
  return Status::Ok();
}

Result<Store::Batch::RecordSlot*> Store::Batch::LoadRecord(const std::string& scope,
                                                           const std::string& record_id) {
  RecordKey key{scope, record_id};
  auto it = records_.find(key);
  if (it != records_.end()) return &it->second;
  RecordSlot slot;
  TUPHAP_ASSIGN_OR_RETURN(
      Stmt q,
      store_.db_->Prepare("SELECT id, conflicts, state, invalid, invalid_field, "
                          "invalid_history, type, event_date, revoked, fine_vnd, fine_paid_vnd "
                          "FROM records WHERE record_id = ? AND scope = ?"));
  q.Bind(1, record_id).Bind(2, scope);
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) {
    slot.rowid = q.Int(0);
    slot.stored_conflicts = q.Int(1);
    TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(2), origins_, &slot.state, &slot.history));
    if (!q.IsNull(3)) slot.invalid = ContentFlag{std::string(q.Text(3)), std::string(q.Text(4))};
    if (!q.IsNull(5)) slot.history_flag = std::string(q.Text(5));
    slot.stored_stats = StatsPartOf(scope, q.Text(6), q.IsNull(7) ? "" : q.Text(7), q.Int(8) != 0,
                                    !slot.invalid.empty(), StoredFine(q, 9));
  }
  return &records_.emplace(std::move(key), std::move(slot)).first->second;
}

Result<std::optional<RecordView>> Store::Batch::ViewRecord(std::string_view scope,
                                                           std::string_view record_id) {
  TUPHAP_ASSIGN_OR_RETURN(RecordSlot * slot,
                          LoadRecord(std::string(scope), std::string(record_id)));
  if (slot->rowid == 0 && slot->history.empty()) return std::optional<RecordView>();
  RecordView v{std::string(record_id), std::string(scope), slot->state, slot->history, {},
               slot->invalid};
  return std::optional<RecordView>(std::move(v));
}

Status Store::Batch::Materialise(crdt::Change& change) {
  // The change is ours to consume: its names and values move into records.
  uint32_t index = 0;
  const ContentChecker* checker = store_.options_.checker.get();
  for (auto& block : change.records) {
    TUPHAP_ASSIGN_OR_RETURN(RecordSlot * slot, LoadRecord(change.scope, block.record_id));
    if (checker != nullptr) {
      // Rules about history see the ops before they apply (the values their
      // preds name may be superseded after).
      const ContentChecker::ValueOf value_of = [&](std::string_view field, const crdt::Dot& dot) {
        return ValueOf(change.scope, slot->state, field, dot);
      };
      TUPHAP_ASSIGN_OR_RETURN(ContentFlag f, checker->JudgeOps(change.scope, block.record_id,
                                                               slot->state, block.ops, value_of));
      if (!f.empty()) {
        // The least verdict, so the order changes arrive in does not matter.
        std::string encoded = f.reason + '\t' + f.field;
        if (slot->history_flag.empty() || encoded < slot->history_flag)
          slot->history_flag = std::move(encoded);
      }
    }
    slot->state.ApplyOps(change.origin, change.seq, index, change.hlc, block.ops, /*consume=*/true);
    index += static_cast<uint32_t>(block.ops.size());
    slot->history.push_back(ChangeRef{change.origin, change.seq, change.hlc});
    slot->dirty = true;
    slot->index.reset();
    slot->verdict.reset();
    if (!slot->to_note) to_note_.push_back({change.scope, block.record_id});
    slot->to_note = true;
  }
  return Status::Ok();
}

Result<bool> Store::Batch::NamesUnwritten(std::string_view personal_id) {
  if (!store_.options_.index) return false;
  // Each changed record is noted once per change, not once per question.
  for (const auto& key : to_note_) {
    RecordSlot& r = records_.at(key);
    r.to_note = false;
    if (!r.index) r.index = store_.options_.index(key.second, r.state);
    for (const auto& p : r.index->persons) unwritten_ids_.insert(p.personal_id);
    if (r.rowid != 0 && !r.stored_noted) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare("SELECT personal_id FROM person_index WHERE record = ?"));
      q.Bind(1, r.rowid);
      while (true) {
        TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        unwritten_ids_.emplace(q.Text(0));
      }
      r.stored_noted = true;
    }
  }
  to_note_.clear();
  return unwritten_ids_.count(std::string(personal_id)) != 0;
}

Result<std::optional<crdt::Value>> Store::Batch::ValueOf(const std::string& scope,
                                                         const crdt::RecordState& state,
                                                         std::string_view field,
                                                         const crdt::Dot& dot) {
  if (const crdt::MvRegister* reg = state.Field(field)) {
    for (const auto& e : reg->entries()) {
      if (e.dot == dot) return std::optional<crdt::Value>(e.value);
    }
  }
  // Superseded already (a concurrent change applied first): read the op from
  // the change that wrote it, which causal delivery put in the log.
  TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(FeedKey{dot.origin, scope}));
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          StoredEnvelope("changes", *feed, dot.seq, nullptr));
  if (!bytes) return std::optional<crdt::Value>();
  auto env = replication::Envelope::Parse(std::move(*bytes));
  crdt::Change change;
  if (!env.ok() || !opener_.Open(*env, &change).ok()) return std::optional<crdt::Value>();
  std::optional<crdt::Value> out;
  change.ForEachOp([&](const std::string&, const crdt::Op& op, const crdt::Dot& d) {
    if (d == dot) out = op.value;
  });
  return out;
}

Result<const std::vector<RecordView>*> Store::Batch::Lookup(const std::string& scope,
                                                            std::string_view prefix) {
  auto key = std::make_pair(scope, std::string(prefix));
  auto it = lookups_.find(key);
  if (it != lookups_.end()) return &it->second;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<RecordView> rows, store_.RecordsWithPrefix(scope, prefix));
  // What this session holds and has not written yet wins over the rows.
  for (const auto& [k, slot] : records_) {
    if (k.first != scope || !k.second.starts_with(prefix)) continue;
    if (slot.rowid == 0 && slot.history.empty()) continue;  // looked up, never created
    auto pos = std::lower_bound(
        rows.begin(), rows.end(), k.second,
        [](const RecordView& v, const std::string& id) { return v.record_id < id; });
    RecordView v{k.second, scope, slot.state, slot.history, {}, slot.invalid};
    if (pos != rows.end() && pos->record_id == k.second) {
      *pos = std::move(v);
    } else {
      rows.insert(pos, std::move(v));
    }
  }
  return &lookups_.emplace(std::move(key), std::move(rows)).first->second;
}

Result<ContentFlag> Store::Batch::Verdict(const std::string& scope, const std::string& record_id,
                                          const crdt::RecordState& state,
                                          std::string_view history_flag) {
  ContentFlag flag;
  if (const ContentChecker* checker = store_.options_.checker.get()) {
    const ContentChecker::Lookup lookup = [&](std::string_view prefix) {
      return Lookup(scope, prefix);
    };
    TUPHAP_ASSIGN_OR_RETURN(flag, checker->Judge(scope, record_id, state, lookup));
  }
  return WithHistory(std::move(flag), history_flag);
}

// Judging a record and indexing it read only its state, the lookups'
// records and trust (a hub's ingest spends ~14 % of its time judging and ~5 %
// indexing): done here for every dirty record on two threads, before the
// write loop of Flush. A judgement that wants a lookup not yet cached stops
// (its lookup answers Unavailable); the wanted lookups are then made here,
// on this thread, and those records judged again; what is left (and any
// judgement that failed) Flush judges itself, in order, as before. The
// verdicts are those Flush would reach: a lookup's answer does not depend
// on how far the loop has written (Lookup: the session's records win over
// the rows), and is cached until the flush ends. Nothing read changes
// meanwhile: this thread waits in ParallelHalves, and each record's slot is
// written by one thread only.
Status Store::Batch::Prejudge() {
  std::vector<std::pair<const RecordKey*, RecordSlot*>> dirty;
  for (auto& [key, r] : records_) {
    if (r.dirty) dirty.emplace_back(&key, &r);
  }
  if (dirty.size() < kPrejudgeMin || ParallelCores() < 2) return Status::Ok();  // Flush judges them
  const ContentChecker* checker = store_.options_.checker.get();
  const auto& index_of = store_.options_.index;
  std::vector<std::optional<ContentFlag>> flags(dirty.size());
  for (int round = 0; round < 2; ++round) {
    std::set<RecordKey> wanted[2];  // (scope, prefix) per half
    ParallelHalves(dirty.size(), kPrejudgeMin, [&](size_t begin, size_t end) {
      std::set<RecordKey>& want = wanted[begin == 0 ? 0 : 1];
      for (size_t i = begin; i < end; ++i) {
        // Not a structured binding: clang 14 (the fuzz build's) cannot
        // capture one in the lookup below.
        const RecordKey* key = dirty[i].first;
        RecordSlot* r = dirty[i].second;
        if (round == 0 && !r->index && index_of) r->index = index_of(key->second, r->state);
        if (checker == nullptr || flags[i]) continue;
        const ContentChecker::Lookup cached =
            [&](std::string_view prefix) -> Result<const std::vector<RecordView>*> {
          auto it = lookups_.find(RecordKey{key->first, std::string(prefix)});
          if (it != lookups_.end()) return &it->second;
          want.emplace(key->first, std::string(prefix));
          return Status::Unavailable("not looked up yet");
        };
        auto flag = checker->Judge(key->first, key->second, r->state, cached);
        if (flag.ok()) flags[i] = std::move(*flag);
      }
    });
    if (wanted[0].empty() && wanted[1].empty()) break;
    for (const auto& half : wanted) {
      for (const auto& [scope, prefix] : half)
        TUPHAP_RETURN_IF_ERROR(Lookup(scope, prefix).status());
    }
  }
  for (size_t i = 0; i < dirty.size(); ++i) {
    RecordSlot& r = *dirty[i].second;
    if (checker == nullptr) {
      r.verdict = WithHistory({}, r.history_flag);
    } else if (flags[i]) {
      r.verdict = WithHistory(std::move(*flags[i]), r.history_flag);
    }
  }
  return Status::Ok();
}

Status Store::Batch::RejudgePrefix(const std::string& scope, const std::string& prefix,
                                   const std::set<std::string>& skip) {
  std::vector<std::pair<int64_t, ContentFlag>> changed;
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, store_.db_->Prepare(kRecordsWithPrefix.sql));
    q.Bind(1, scope).Bind(2, prefix);
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const std::string record_id(q.Text(1));
      if (skip.count(record_id) > 0) continue;
      crdt::RecordState state;
      std::vector<ChangeRef> history;
      TUPHAP_RETURN_IF_ERROR(DecodeRecordBlob(q.Blob(2), origins_, &state, &history));
      ContentFlag stored;
      if (!q.IsNull(3)) stored = ContentFlag{std::string(q.Text(3)), std::string(q.Text(4))};
      TUPHAP_ASSIGN_OR_RETURN(ContentFlag now,
                              Verdict(scope, record_id, state, q.IsNull(5) ? "" : q.Text(5)));
      if (now != stored) changed.emplace_back(q.Int(0), std::move(now));
    }
  }
  for (const auto& [rowid, flag] : changed) {
    {
      // The record's part in the totals moves between invalid and not.
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q, store_.db_->Prepare("SELECT type, event_date, revoked, fine_vnd, fine_paid_vnd, "
                                      "coalesce(invalid, '') <> '' FROM records WHERE id = ?"));
      q.Bind(1, rowid);
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::Internal("a record judged again has no row");
      const std::string_view type = q.Text(0), date = q.IsNull(1) ? "" : q.Text(1);
      const std::optional<StatsFine> fine = StoredFine(q, 3);
      stats_.Move(StatsPartOf(scope, type, date, q.Int(2) != 0, q.Int(5) != 0, fine),
                  StatsPartOf(scope, type, date, q.Int(2) != 0, !flag.empty(), fine));
    }
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt u,
        store_.db_->Prepare("UPDATE records SET invalid = ?, invalid_field = ? WHERE id = ?"));
    if (flag.empty()) {
      u.BindNull(1).BindNull(2);
    } else {
      u.Bind(1, flag.reason).Bind(2, flag.field);
    }
    TUPHAP_RETURN_IF_ERROR(u.Bind(3, rowid).Run());
  }
  // A record flagged or cleared counts for the person rules or stops
  // counting: its people are judged again.
  PersonsTouched touched;
  for (const auto& [rowid, flag] : changed)
    TUPHAP_RETURN_IF_ERROR(store_.PeopleOfRecord(rowid, &touched));
  return store_.JudgePersons(touched);
}

Result<bool> Store::Batch::MaterialiseNext(FeedSlot& feed) {
  const uint64_t seq = feed.head.applied_seq + 1;
  crdt::Change loaded;
  crdt::Change* change;
  auto it = decoded_.find({feed.head.feed, seq});
  if (it != decoded_.end()) {
    change = &it->second;
  } else {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                            StoredEnvelope("changes", feed, seq, nullptr));
    if (!bytes) return Status::Corruption("the log lacks a change below its feed head");
    auto env = replication::Envelope::Parse(std::move(*bytes));
    Status s = env.ok() ? opener_.Open(*env, &loaded) : env.status();
    if (s.code() == StatusCode::kUnavailable) return s;  // locked keys: not the change's fault
    if (!s.ok()) {
      // Chained and stored, but it will not open (its key came later): stop
      // this feed here, keep every other feed going.
      feed.blocked =
          "seq " + std::to_string(seq) + ": " + (s.reason().empty() ? s.message() : s.reason());
      feed.dirty = true;
      ++report_.blocked_feeds;
      return false;
    }
    change = &loaded;
  }
  const crdt::VersionVector deps = change->Dependencies();
  for (const auto& [origin, needed] : deps.entries()) {
    TUPHAP_ASSIGN_OR_RETURN(FeedSlot * dep, LoadFeed(FeedKey{origin, feed.head.feed.scope}));
    if (dep->head.applied_seq < needed) return false;  // waits for causal predecessors
  }
  TUPHAP_RETURN_IF_ERROR(Materialise(*change));
  if (it != decoded_.end()) decoded_.erase(it);
  feed.head.applied_seq = seq;
  feed.dirty = true;
  ++report_.materialised;
  return true;
}

Status Store::Batch::DrainFeed(FeedSlot& feed, bool* progress) {
  if (!feed.blocked.empty() || !opener_.CanRead(feed.head.feed.scope)) return Status::Ok();
  while (feed.head.applied_seq < feed.head.seq) {
    TUPHAP_ASSIGN_OR_RETURN(bool applied, MaterialiseNext(feed));
    if (!applied) break;
    *progress = true;
  }
  return Status::Ok();
}

Status Store::Batch::DrainAll() {
  // Every feed behind in materialising, as the database and this session
  // see them (read inside the transaction: another process may have moved
  // them). Feeds unblock each other, so sweep until a pass does nothing.
  std::set<FeedKey> lagging;
  {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q,
        store_.db_->Prepare("SELECT o.key, f.scope FROM feeds f JOIN origins o ON o.id = f.origin "
                            "WHERE f.applied_seq < f.head_seq AND f.blocked IS NULL"));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      FeedKey key;
      std::string_view k = q.Blob(0);
      if (k.size() != key.origin.bytes.size())
        return Status::Corruption("origin key of wrong size in store");
      std::copy(k.begin(), k.end(), key.origin.bytes.begin());
      key.scope = std::string(q.Text(1));
      lagging.insert(std::move(key));
    }
  }
  for (const auto& [key, feed] : feeds_) {
    if (feed.head.applied_seq < feed.head.seq) lagging.insert(key);
  }
  bool progress = true;
  while (progress) {
    progress = false;
    for (const FeedKey& key : lagging) {
      if (!opener_.CanRead(key.scope)) continue;  // stored and forwarded unread
      TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(key));
      TUPHAP_RETURN_IF_ERROR(DrainFeed(*feed, &progress));
    }
  }
  return Status::Ok();
}

Status Store::Batch::AppendLocal(const FeedKey& key, const LocalFactory& make) {
  // Every local change passes here: a store restored from a backup writes
  // nothing until a sync has shown it holds its own latest changes (read in
  // the write transaction, so a sync in another process that clears the
  // mark is seen at once). The node words the message (node/restore.cc).
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> restored, store_.GetMeta(kRestoredMetaKey));
  if (restored) {
    return Status::FailedPrecondition(
               "this node was restored from a backup and may not hold its latest changes: it "
               "writes again after a sync with its hub")
        .WithReason("E_RESTORED");
  }
  TUPHAP_ASSIGN_OR_RETURN(FeedSlot * feed, LoadFeed(key));
  TUPHAP_ASSIGN_OR_RETURN(crdt::Hlc stored, store_.LastHlc());
  TUPHAP_ASSIGN_OR_RETURN(Incoming in, make(LocalSlot{feed->head.seq + 1, feed->head.hash,
                                                      std::max(stored, max_hlc_)}));
  const size_t before = report_.appended;
  TUPHAP_RETURN_IF_ERROR(Add(in, /*local=*/true, /*signature_ok=*/true));
  if (report_.appended != before + 1) {
    const Outcome& o = report_.outcomes.back();
    if (o.reason == "E_QUARANTINED") {
      // This node learnt that another copy of it signed other changes at
      // the same places of its history: it must not sign any more.
      return Status::FailedPrecondition(
                 "this node is quarantined: another copy of it (a laptop restored from a "
                 "backup, or a copied key) signed different changes with the same numbers, so "
                 "it may not write any more. Nothing was saved. The hub revokes this node and "
                 "enrols the real office laptop again as a new node (operator guide, \"An "
                 "equivocation\")")
          .WithReason("E_QUARANTINED");
    }
    return Status::Internal("a local change was not appended (" + o.reason + ")");
  }
  bool progress = false;
  TUPHAP_RETURN_IF_ERROR(DrainFeed(*feed, &progress));
  if (feed->head.applied_seq != feed->head.seq) {
    return Status::Internal("a local change could not be materialised at once");
  }
  return Status::Ok();
}

Status Store::Batch::Flush() {
  for (const auto& [reason, t] : unsaved_refusals_)
    TUPHAP_RETURN_IF_ERROR(store_.AddRefusals(reason, t.count, t.origin, t.scope, t.seq));
  unsaved_refusals_.clear();
  for (auto& [key, feed] : feeds_) {
    if (!feed.dirty) continue;
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare(
                    "INSERT INTO feeds(origin, scope, head_seq, head_hash, applied_seq, blocked) "
                    "VALUES(?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(origin, scope) DO UPDATE SET head_seq = excluded.head_seq, "
                    "head_hash = excluded.head_hash, applied_seq = excluded.applied_seq, blocked = "
                    "excluded.blocked"));
    q.Bind(1, feed.origin_id)
        .Bind(2, key.scope)
        .Bind(3, static_cast<int64_t>(feed.head.seq))
        .BindBlob(4, Bytes(feed.head.hash))
        .Bind(5, static_cast<int64_t>(feed.head.applied_seq));
    if (feed.blocked.empty()) {
      q.BindNull(6);
    } else {
      q.Bind(6, feed.blocked);
    }
    TUPHAP_RETURN_IF_ERROR(q.Run());
    feed.dirty = false;
  }
  const ContentChecker* checker = store_.options_.checker.get();
  std::map<std::string, std::set<std::string>> judged;  // scope -> ids judged in this flush
  PersonsTouched persons_touched;  // personal IDs whose person conflicts may have changed
  std::map<std::string_view, int64_t> added;  // scope -> records new in this flush
  TUPHAP_RETURN_IF_ERROR(Prejudge());
  for (auto& [key, r] : records_) {
    if (!r.dirty) continue;
    const auto& [scope, record_id] = key;
    const std::string type = r.state.Type();
    // Judged before it is written: the lookup sees this session's records
    // whether written yet or not, so the order records are written in does
    // not change a verdict.
    ContentFlag invalid;
    if (r.verdict) {
      invalid = std::move(*r.verdict);
      r.verdict.reset();
    } else {
      TUPHAP_ASSIGN_OR_RETURN(invalid, Verdict(scope, record_id, r.state, r.history_flag));
    }
    if (checker != nullptr) judged[scope].insert(record_id);
    // `rec`, not `r`: clang 14 (the fuzz build's) cannot capture a
    // structured binding.
    auto bind_flags = [&, &rec = r](Stmt& q, int first) {
      if (invalid.empty()) {
        q.BindNull(first).BindNull(first + 1);
      } else {
        q.Bind(first, invalid.reason).Bind(first + 1, invalid.field);
      }
      if (rec.history_flag.empty()) {
        q.BindNull(first + 2);
      } else {
        q.Bind(first + 2, rec.history_flag);
      }
    };
    std::vector<std::string> conflicts;
    for (const auto& field : r.state.ConflictedFields()) {
      if (store_.options_.adjudicated(type, field)) conflicts.push_back(field);
    }
    if (r.state.DuplicateCreation() &&
        std::find(conflicts.begin(), conflicts.end(), crdt::kTypeField) == conflicts.end()) {
      conflicts.push_back(std::string(crdt::kTypeField));  // two registrations claim this id
    }
    const EncodedRecord encoded = EncodeRecord(record_id, scope, r.state, r.history, origins_);
    const std::string& blob = encoded.blob;
    const replication::Hash& hash = encoded.state_hash;
    const IndexEntry index = r.index                 ? std::move(*r.index)
                             : store_.options_.index ? store_.options_.index(record_id, r.state)
                                                     : IndexEntry{};
    const bool existed = r.rowid != 0;
    auto bind_duplicate_key = [&](Stmt& q, int at) {
      if (index.duplicate_key.empty()) {
        q.BindNull(at);
      } else {
        q.Bind(at, index.duplicate_key);
      }
    };
    auto bind_fine = [&](Stmt& q, int at) { BindFine(q, at, index.fine); };
    if (r.rowid == 0) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q,
          store_.db_->Prepare("INSERT INTO records(record_id, scope, type, revoked, conflicts, "
                              "state, state_hash, event_date, invalid, invalid_field, "
                              "invalid_history, duplicate_key, fine_vnd, fine_paid_vnd) VALUES(?, "
                              "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      bind_flags(q, 9);
      bind_duplicate_key(q, 12);
      bind_fine(q, 13);
      TUPHAP_RETURN_IF_ERROR(q.Bind(1, record_id)
                                 .Bind(2, scope)
                                 .Bind(3, type)
                                 .Bind(4, r.state.Revoked())
                                 .Bind(5, static_cast<int64_t>(conflicts.size()))
                                 .BindBlobNoCopy(6, blob)
                                 .BindBlob(7, Bytes(hash))
                                 .Bind(8, index.event_date)
                                 .Run());
      r.rowid = store_.db_->LastInsertRowid();
      ++added[scope];
    } else {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt q,
          store_.db_->Prepare("UPDATE records SET type = ?, revoked = ?, conflicts = ?, state = ?, "
                              "state_hash = ?, event_date = ?, invalid = ?, invalid_field = ?, "
                              "invalid_history = ?, duplicate_key = ?, fine_vnd = ?, fine_paid_vnd "
                              "= ? WHERE id = ?"));
      bind_flags(q, 7);
      bind_duplicate_key(q, 10);
      bind_fine(q, 11);
      TUPHAP_RETURN_IF_ERROR(q.Bind(1, type)
                                 .Bind(2, r.state.Revoked())
                                 .Bind(3, static_cast<int64_t>(conflicts.size()))
                                 .BindBlobNoCopy(4, blob)
                                 .BindBlob(5, Bytes(hash))
                                 .Bind(6, index.event_date)
                                 .Bind(13, r.rowid)
                                 .Run());
    }
    {
      auto part = StatsPartOf(scope, type, index.event_date, r.state.Revoked(), !invalid.empty(),
                              index.fine);
      stats_.Move(r.stored_stats, part);
      r.stored_stats = std::move(part);
    }
    TUPHAP_RETURN_IF_ERROR(store_.WriteReconLeaf(scope, record_id, hash));
    if (store_.options_.index) {
      TUPHAP_RETURN_IF_ERROR(store_.WriteSearchEntry(r.rowid, existed, index));
      TUPHAP_RETURN_IF_ERROR(
          store_.WritePersons(r.rowid, existed, index.persons, &persons_touched));
    }
    if (r.stored_conflicts > 0) {
      TUPHAP_ASSIGN_OR_RETURN(Stmt del,
                              store_.db_->Prepare("DELETE FROM conflicts WHERE record = ?"));
      TUPHAP_RETURN_IF_ERROR(del.Bind(1, r.rowid).Run());
    }
    for (const auto& field : conflicts) {
      TUPHAP_ASSIGN_OR_RETURN(
          Stmt ins, store_.db_->Prepare("INSERT INTO conflicts(record, field) VALUES(?, ?)"));
      TUPHAP_RETURN_IF_ERROR(ins.Bind(1, r.rowid).Bind(2, field).Run());
    }
    r.stored_conflicts = static_cast<int64_t>(conflicts.size());
    r.invalid = invalid;
    r.dirty = false;
  }
  // The records per scope (status), one row per scope of the flush rather
  // than a trigger per record: a trigger measured ~16 µs per insert.
  for (const auto& [scope, n] : added) {
    TUPHAP_ASSIGN_OR_RETURN(
        Stmt q, store_.db_->Prepare("INSERT INTO scope_counts(scope, records) VALUES(?1, ?2) ON "
                                    "CONFLICT(scope) DO UPDATE SET records = records + ?2"));
    TUPHAP_RETURN_IF_ERROR(q.Bind(1, scope).Bind(2, n).Run());
  }
  if (checker != nullptr) {
    // A record others' verdicts depend on (a lease: the entries of its
    // book) changed: judge those again as they now are.
    std::set<std::pair<std::string, std::string>> governed;
    for (const auto& [scope, ids] : judged) {
      for (const auto& id : ids) {
        const RecordSlot& r = records_.at(RecordKey{scope, id});
        for (auto& prefix : checker->Governs(scope, id, r.state))
          governed.emplace(scope, std::move(prefix));
      }
    }
    for (const auto& [scope, prefix] : governed)
      TUPHAP_RETURN_IF_ERROR(RejudgePrefix(scope, prefix, judged[scope]));
  }
  // Every record is written: the person rules read the index as it now is.
  TUPHAP_RETURN_IF_ERROR(store_.JudgePersons(persons_touched));
  lookups_.clear();
  records_.clear();  // written: a long session keeps memory flat
  unwritten_ids_.clear();
  to_note_.clear();
  TUPHAP_ASSIGN_OR_RETURN(crdt::Hlc stored, store_.LastHlc());
  if (max_hlc_ > stored) TUPHAP_RETURN_IF_ERROR(store_.SetMeta("hlc", HlcBytes(max_hlc_)));
  return Status::Ok();
}

// ---------------------------------------------------------------------------

Store::Session::Session(Store& store, const EnvelopeOpener& opener, ApplyOptions options)
    : store_(store),
      txn_(std::make_unique<Transaction>(*store.db_)),
      batch_(std::make_unique<Batch>(store, opener, options)) {
  error_ = txn_->status();
}

Store::Session::~Session() {
  txn_.reset();  // rolls back unless committed
  if (!committed_) store_.ForgetCaches();
  store_.session_open_ = false;
}

Status Store::Session::Fail(Status s) {
  if (!s.ok() && error_.ok()) error_ = s;
  return s;
}

Status Store::Session::Apply(std::vector<Incoming>& batch) {
  TUPHAP_RETURN_IF_ERROR(error_);
  // Signatures first, one per unbroken run of a feed (replication/seal.h);
  // those of a batch's part left by a yield were checked then.
  std::vector<bool> valid(batch.size());
  std::vector<const replication::Envelope*> unchecked;
  std::vector<size_t> where;  // of each unchecked envelope in the batch
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].signature_ok.has_value()) {
      valid[i] = *batch[i].signature_ok;
    } else {
      unchecked.push_back(&batch[i].envelope);
      where.push_back(i);
    }
  }
  const replication::RunVerification verified = replication::VerifyRuns(unchecked);
  batch_->report().signatures_checked += verified.signatures_checked;
  for (size_t k = 0; k < where.size(); ++k) valid[where[k]] = verified.valid[k];
  batch_->OpenAhead(batch, valid);
  // Add moves each decoded change out and resets it, so after a failure the
  // same batch can be retried: the bodies are then opened again (those
  // opened ahead and refused before Add used them keep their open body,
  // which is the same).
  // With a yield, every run of kYieldEnvelopes is materialised and flushed
  // before the question, so stopping costs the commit alone.
  const std::function<bool()>& yield = batch_->options().yield;
  size_t i = 0;
  while (i < batch.size()) {
    TUPHAP_RETURN_IF_ERROR(Fail(batch_->Add(batch[i], /*local=*/false, valid[i])));
    ++i;
    if (yield && i % kYieldEnvelopes == 0 && i < batch.size()) {
      TUPHAP_RETURN_IF_ERROR(Checkpoint());
      if (yield()) break;
    }
  }
  for (size_t k = i; k < batch.size(); ++k) batch[k].signature_ok = valid[k];
  batch_->report().taken += i;
  return Fail(batch_->FlushIfLarge());
}

Status Store::Session::AppendLocal(const FeedKey& feed, const LocalFactory& make) {
  TUPHAP_RETURN_IF_ERROR(error_);
  TUPHAP_RETURN_IF_ERROR(Fail(batch_->AppendLocal(feed, make)));
  return Fail(batch_->FlushIfLarge());
}

Result<std::optional<RecordView>> Store::Session::GetRecord(std::string_view scope,
                                                            std::string_view record_id) {
  TUPHAP_RETURN_IF_ERROR(error_);
  auto r = batch_->ViewRecord(scope, record_id);
  if (!r.ok()) (void)Fail(r.status());
  return r;
}

Result<std::vector<PersonRow>> Store::Session::PersonRows(std::string_view personal_id) {
  // Written first when this session changed a record naming the ID: the
  // index then holds it. Otherwise the stored index is current, and an
  // import keeps its batches (a flush per line costs three times the time).
  TUPHAP_RETURN_IF_ERROR(error_);
  auto unwritten = batch_->NamesUnwritten(personal_id);
  if (!unwritten.ok()) return Fail(unwritten.status());
  if (*unwritten) TUPHAP_RETURN_IF_ERROR(Checkpoint());
  auto r = store_.PersonRows(personal_id, /*judged_only=*/true);
  if (!r.ok()) (void)Fail(r.status());
  return r;
}

Status Store::Session::Checkpoint() {
  TUPHAP_RETURN_IF_ERROR(error_);
  TUPHAP_RETURN_IF_ERROR(Fail(batch_->DrainAll()));
  return Fail(batch_->Flush());
}

Status Store::Session::Commit() {
  TUPHAP_RETURN_IF_ERROR(Checkpoint());
  TUPHAP_RETURN_IF_ERROR(Fail(batch_->WriteStats()));
  const auto began = std::chrono::steady_clock::now();
  TUPHAP_RETURN_IF_ERROR(Fail(txn_->Commit()));
  obs::Metrics::Get().Committed(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  committed_ = true;
  ++store_.commits_;
  return Status::Ok();
}

const ApplyReport& Store::Session::report() const { return batch_->report(); }

Result<std::unique_ptr<Store::Session>> Store::BeginSession(const EnvelopeOpener& opener,
                                                            ApplyOptions options) {
  AssertOwnerThread();
  if (session_open_) return Status::Internal("a write session is already open on this store");
  session_open_ = true;
  std::unique_ptr<Session> s(new Session(*this, opener, options));
  if (!s->error_.ok()) return s->error_;
  return s;
}

namespace {

// Rejudge reads states only: nothing is opened or materialised.
class NoOpener final : public EnvelopeOpener {
 public:
  bool CanRead(std::string_view) const override { return false; }
  Status Open(const replication::Envelope&, crdt::Change*) const override {
    return Status::Unavailable("no keys while judging records");
  }
};

}  // namespace

Status Store::Rejudge() {
  AssertOwnerThread();
  if (!options_.checker) return Status::Ok();
  static const NoOpener kNoOpener;
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, BeginSession(kNoOpener));
  std::vector<std::string> scopes;
  {
    TUPHAP_ASSIGN_OR_RETURN(Stmt q, db_->Prepare(kScopesWithRecords.sql));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      scopes.emplace_back(q.Text(0));
    }
  }
  for (const auto& scope : scopes)
    TUPHAP_RETURN_IF_ERROR(s->Fail(s->batch_->RejudgePrefix(scope, "", {})));
  TUPHAP_RETURN_IF_ERROR(
      s->Fail(SetMeta(kContentRulesMetaKey, std::to_string(options_.checker->version()))));
  return s->Commit();
}

Result<ApplyReport> Store::Apply(std::vector<Incoming>& batch, const EnvelopeOpener& opener,
                                 ApplyOptions options) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, BeginSession(opener, options));
  TUPHAP_RETURN_IF_ERROR(s->Apply(batch));
  TUPHAP_RETURN_IF_ERROR(s->Commit());
  return s->report();
}

Result<ApplyReport> Store::AppendLocal(const FeedKey& feed, const LocalFactory& make,
                                       const EnvelopeOpener& opener) {
  AssertOwnerThread();
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, BeginSession(opener));
  TUPHAP_RETURN_IF_ERROR(s->AppendLocal(feed, make));
  TUPHAP_RETURN_IF_ERROR(s->Commit());
  return s->report();
}

}  // namespace tuphap::store
