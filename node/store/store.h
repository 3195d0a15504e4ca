// Store: the node's SQLite database — the change log and the materialised
// records (DESIGN.md, Storage).
//
// Guarantees:
//  * Writes happen in a Session, one BEGIN IMMEDIATE transaction: after a
//    crash it is whole or absent; on any error nothing of it stays.
//  * The log is unique on (origin, scope, seq). The same change twice is a
//    no-op; a different envelope for a taken position, or one whose `prev`
//    does not chain to the stored feed, is equivocation: both envelopes are
//    kept as evidence and the origin is quarantined (its later envelopes are
//    refused and counted, E_QUARANTINED).
//  * An envelope ahead of a gap in its feed is held until the gap fills, at
//    most max_held_per_feed envelopes and max_held_bytes_per_feed bytes per
//    feed; beyond that it is refused (E_HELD_LIMIT) and nothing is kept.
//  * Envelopes are refused, one by one and counted by reason, when they are
//    drafts from elsewhere (E_UNSIGNED_DRAFT), stamped too far ahead of this
//    clock (E_CLOCK_AHEAD), start a feed with a non-zero prev
//    (E_CHAIN_START), or are readable here but do not open (the opener's
//    reason). A refusal never fails the batch.
//  * A change is materialised only after its feed predecessor and every
//    change its preds name (causal delivery), so record frontiers equal
//    crdt::ScopeState's for the same changes. A stored change that later
//    fails to open (its key arrived afterwards) blocks its feed, not others.
//  * Records are keyed by (scope, record_id): one scope's feeds can never
//    touch another scope's record, whatever the arrival order.
// Not thread-safe: one Store per thread; several processes may share the
// file (SQLite locking, a busy timeout; every read of shared state happens
// inside the transaction).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "crdt/change.h"
#include "node/store/sqlite.h"
#include "node/store/types.h"
#include "replication/envelope.h"

namespace tuphap::store {

// Turns a stored envelope back into a change; implemented by the node, which
// holds the keys.
class EnvelopeOpener {
 public:
  virtual ~EnvelopeOpener() = default;
  // Whether this node can read changes of `scope` at all (materialises them).
  virtual bool CanRead(std::string_view scope) const = 0;
  // Whether this node holds the key this envelope's body needs.
  virtual bool CanOpen(const replication::EnvelopeHeader& header) const {
    return CanRead(header.scope);
  }
  // Decrypts and decodes. An error means the envelope is readable but bad;
  // its reason() is what the refusal is counted under — except Unavailable,
  // a local condition (the keys are locked), which fails the session.
  virtual Status Open(const replication::Envelope& envelope, crdt::Change* change) const = 0;
};

// Who may write what: the certificate and revocation checks of ingest,
// implemented by the node (docs/security.md). Each returns "" to admit, or
// the refusal's reason code.
class IngestGate {
 public:
  // Where a revoked origin's feed ends, when the revocation names the id of
  // the envelope at the cut: envelopes below it are held until the chain
  // from the feed head reaches that id, so a fork below the cut never
  // applies.
  struct Cut {
    uint64_t seq = 0;
    replication::Hash id{};
  };
  virtual ~IngestGate() = default;
  // The origin holds a certificate valid at the change's time and the seq is
  // within its revocation cut, and at the cut is the envelope the
  // revocation names (E_UNKNOWN_ORIGIN, E_CERT_EXPIRED, E_REVOKED). `id` is
  // the envelope's id.
  virtual std::string CheckOrigin(const replication::EnvelopeHeader& header,
                                  const replication::Hash& id) const = 0;
  virtual std::optional<Cut> CutOf(const crdt::ReplicaId& origin, std::string_view scope) const = 0;
  // The certificate lets the origin write the change's scope
  // (E_NOT_AUTHORISED).
  virtual std::string Authorise(const replication::EnvelopeHeader& header) const = 0;
};

// What the store indexes of a record (computed by the domain layer).
struct IndexEntry {
  std::string search_text;  // folded words: names, IDs, the record id
  std::string display;      // the names as written, for results and ranking
  std::string event_date;   // YYYY-MM-DD (registration), or empty
};

// Envelopes held ahead of a gap, per feed (docs/security.md, Bounds). A
// tuphap sender has at most 4 batches of 1,000 envelopes in flight and a
// BATCH carries at most 2,000, so one gap never legitimately holds more
// than 4,000 envelopes: 4,096 leaves that room, no more. Bytes: a window
// of batches is a few MiB; 16 MiB is four times that and 64 envelopes of
// the largest size. A compromised node can write one commune's feed only,
// so it can make a node hold at most this much. Envelopes held below a
// revocation cut are exempt: the cut itself bounds them.
inline constexpr uint64_t kMaxHeldPerFeed = 4096;
inline constexpr uint64_t kMaxHeldBytesPerFeed = uint64_t{16} << 20;

struct StoreOptions {
  // Whether a conflict on (type, field) waits for a person. Fields for which
  // this is false keep their frontier but are not listed as conflicts: the
  // display winner stands. Default: every field is adjudicated.
  std::function<bool(std::string_view type, std::string_view field)> adjudicated;
  // Incoming changes stamped more than this ahead of `clock` are refused.
  const Clock* clock = &SystemClock();
  int64_t max_clock_ahead_ms = 24 * 3600 * 1000;
  // Search terms and event date of a record; none when unset.
  std::function<IndexEntry(std::string_view record_id, const crdt::RecordState& state)> index;
  // Beyond these, an envelope ahead of a gap is refused (E_HELD_LIMIT).
  uint64_t max_held_per_feed = kMaxHeldPerFeed;
  uint64_t max_held_bytes_per_feed = kMaxHeldBytesPerFeed;
};

struct ApplyOptions {
  // Accept unsigned drafts from Apply (tests and benchmarks only: a draft
  // proves nothing about its origin).
  bool allow_drafts = false;
  // Certificate, revocation and authorisation checks; none when null
  // (signatures are always checked).
  const IngestGate* gate = nullptr;
};

class Store {
 public:
  struct Incoming {
    replication::Envelope envelope;
    std::optional<crdt::Change> change;  // decoded body, when the caller has it
  };
  // What a local writer learns inside the transaction that appends its change.
  struct LocalSlot {
    uint64_t seq;            // the next seq of the feed
    replication::Hash prev;  // id of the feed head
    crdt::Hlc last_hlc;      // highest HLC this store has seen
  };
  using LocalFactory = std::function<Result<Incoming>(const LocalSlot& slot)>;

  class Session;

  static Result<std::unique_ptr<Store>> Open(const std::string& path, Database::OpenMode mode,
                                             StoreOptions options = {});
  ~Store();

  // Begins a write session (one transaction). Only one at a time per Store.
  Result<std::unique_ptr<Session>> BeginSession(const EnvelopeOpener& opener,
                                                ApplyOptions options = {});
  // Applies a batch in one session. The decoded changes are taken (moved
  // out and reset); the envelopes stay, so a failed batch can be retried.
  Result<ApplyReport> Apply(std::vector<Incoming>& batch, const EnvelopeOpener& opener,
                            ApplyOptions options = {});
  // Appends one local change to `feed` in one session; `make` builds it from
  // the slot (seq and prev are read under the write lock).
  Result<ApplyReport> AppendLocal(const FeedKey& feed, const LocalFactory& make,
                                  const EnvelopeOpener& opener);

  Result<std::optional<FeedHead>> Head(const FeedKey& feed);
  Result<std::vector<FeedHead>> Heads();
  // Changes whenever the heads may have moved: a write session committed
  // through this Store, or anything another connection wrote (SQLite's
  // data_version). Equal stamps: Heads() would read the same.
  struct Stamp {
    int64_t data_version = -1;
    uint64_t commits = 0;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  };
  Result<Stamp> HeadsStamp();
  // The record in `scope`; when `scope` is empty, the one record with that id
  // (FailedPrecondition naming the scopes if several communes have one).
  Result<std::optional<RecordView>> GetRecord(std::string_view record_id,
                                              std::string_view scope = {});
  Result<std::optional<replication::Envelope>> GetEnvelope(const FeedKey& feed, uint64_t seq);
  // The greatest record id of `scope` in [lo, hi] (byte order), if any.
  Result<std::optional<std::string>> MaxRecordId(std::string_view scope, std::string_view lo,
                                                 std::string_view hi);
  // Records of `scope` whose id starts with `prefix`, in id order.
  Result<std::vector<RecordView>> RecordsWithPrefix(std::string_view scope,
                                                    std::string_view prefix);
  // Per scope (or one scope): record count and a hash over the sorted
  // (record_id, state hash) pairs — equal exactly when the states are.
  Result<std::vector<ScopeDigest>> Digests(std::optional<std::string_view> scope = std::nullopt);
  // Every record of `scope` as its row is now, unchecked: the id, the bytes
  // its state hash covers (empty when the row no longer parses) and the
  // hash stored beside them. The views live for one call of `fn`.
  struct StoredState {
    std::string_view record_id;
    std::string_view state_bytes;
    std::string_view stored_hash;
    bool parsed = false;
    std::string_view row;  // the whole stored blob
  };
  Status ForEachStoredState(std::string_view scope,
                            const std::function<void(const StoredState&)>& fn);
  Result<std::vector<ConflictRow>> Conflicts();
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Result<crdt::Hlc> LastHlc();
  // Recomputes every record's index entry (after an upgrade, or when the
  // indexing rules change).
  Status Reindex();

  // Security bookkeeping (tuphap status).
  Result<std::vector<RefusalCount>> Refusals();
  // Counts `count` refusals of `reason` that never reached Apply (an
  // envelope that does not even parse, so no origin is known: the last
  // origin is recorded as zeros). Its own statement; fails only when the
  // store does.
  Status CountRefusals(std::string_view reason, uint64_t count);
  Result<std::vector<EquivocationRow>> Equivocations();
  Result<std::vector<crdt::ReplicaId>> QuarantinedOrigins();
  Result<uint64_t> HeldCount();
  // Drafts of `feed` not yet sealed.
  Result<uint64_t> DraftCount(const FeedKey& feed);
  // Replaces, in seq order and in one transaction, every draft of `feed`
  // with what `seal` makes of it given the id of its (new) predecessor, and
  // moves the feed head. Drafts never left this node, so rewriting their
  // chain is safe. Returns how many were sealed.
  using Resealer = std::function<Result<replication::Envelope>(const replication::Envelope& draft,
                                                               const replication::Hash& prev)>;
  Result<uint64_t> SealDrafts(const FeedKey& feed, const Resealer& seal);
  // Lets feeds that stopped at a change this node could not open try again
  // (new keys arrived), then materialises what now opens.
  Status RetryBlockedFeeds(const EnvelopeOpener& opener);

  Database& db() { return *db_; }
  const StoreOptions& options() const { return options_; }

 private:
  class Batch;
  friend class Session;
  Store(std::unique_ptr<Database> db, StoreOptions options);
  Result<int64_t> OriginId(const crdt::ReplicaId& key);  // interns
  Result<std::optional<int64_t>> FindOriginId(const crdt::ReplicaId& key);
  const crdt::ReplicaId* OriginKey(int64_t id);
  Status WriteSearchEntry(int64_t rowid, bool replace, const IndexEntry& entry);
  // Adds `count` to the refusals of `reason`, naming the last one's feed
  // position.
  Status AddRefusals(std::string_view reason, uint64_t count, const crdt::ReplicaId& last_origin,
                     std::string_view last_scope, uint64_t last_seq);
  Result<std::optional<FeedHead>> LoadHead(const FeedKey& feed);
  void ForgetCaches();

  std::unique_ptr<Database> db_;
  StoreOptions options_;
  std::map<crdt::ReplicaId, int64_t> origin_ids_;
  std::map<int64_t, crdt::ReplicaId> origin_keys_;
  bool session_open_ = false;
  uint64_t commits_ = 0;  // write sessions committed through this Store
};

// One write transaction. Every call after an error returns that error; the
// destructor rolls back unless Commit() succeeded.
class Store::Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Logs and materialises envelopes from elsewhere; per-envelope outcomes go
  // to report(). Decoded changes are taken (moved out and reset).
  Status Apply(std::vector<Incoming>& batch);
  // Appends one local change and materialises it at once, so later reads in
  // this session see it.
  Status AppendLocal(const FeedKey& feed, const LocalFactory& make);
  // A record as this session sees it, its own writes included (state_hash
  // is not computed here).
  Result<std::optional<RecordView>> GetRecord(std::string_view scope, std::string_view record_id);
  // Writes what is cached to SQLite without committing, so a long session
  // (an all-or-nothing import) keeps memory flat.
  Status Checkpoint();
  Status Commit();
  const ApplyReport& report() const;

 private:
  friend class Store;
  Session(Store& store, const EnvelopeOpener& opener, ApplyOptions options);
  Status Fail(Status s);

  Store& store_;
  std::unique_ptr<Transaction> txn_;
  std::unique_ptr<Batch> batch_;
  Status error_;
  bool committed_ = false;
};

}  // namespace tuphap::store
