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
//  * With a ContentChecker, every record a session changes is judged before
//    it is written, and a lease-like record's change re-judges the records
//    it governs: records.invalid always holds the verdict on the record's
//    current state (or the least verdict on its history). Invalid content
//    is flagged, never dropped.
// Not thread-safe: one Store per thread; several processes may share the
// file (SQLite locking, a busy timeout; every read of shared state happens
// inside the transaction).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "crdt/change.h"
#include "node/store/checkpointer.h"
#include "node/store/recon_hash.h"
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
  // CanOpen and Open are called from two threads at once
  // (Batch::OpenAhead), each on its own envelopes: they must write nothing
  // shared.
  virtual Status Open(const replication::Envelope& envelope, crdt::Change* change) const = 0;
  // Whether CanOpen and Open may run on two threads at once now (an opener
  // that may prompt or unlock keys must say no until they are unlocked).
  virtual bool OpensConcurrently() const { return false; }
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

// Judges records' content with the rules of the domain layer, which
// implements it (docs/record-format.md, "What a receiver checks"). Content
// judged invalid is never dropped: the change stays in the log and is
// forwarded, and the record's state converges like any other (every replica
// must reach the same state). The store keeps the verdict beside the record
// (records.invalid) so that numbering, statistics and the attention list can
// leave the record out or show it.
//
// A verdict must be a function of the record's state, of the records
// `lookup` returns, and of nothing else that can differ between replicas or
// change later (a node's checker may also read facts every replica holds
// before the record can exist there and never forgets, such as the
// certificates of its creators), so that every replica with the same rules
// reaches the same verdict whatever the arrival order.
class ContentChecker {
 public:
  // Records of the scope being judged whose id starts with `prefix`, as the
  // session sees them (its unwritten changes included), in id order.
  using Lookup = std::function<Result<const std::vector<RecordView>*>(std::string_view prefix)>;
  // The value a dot held (a pred of an op), wherever it now is: in the
  // record's frontier or superseded (read from the log). nullopt: unknown.
  using ValueOf =
      std::function<Result<std::optional<crdt::Value>>(std::string_view field, const crdt::Dot&)>;

  virtual ~ContentChecker() = default;
  // The rule set's version. A store last judged with another version is
  // judged again, whole, when opened (Store::Rejudge).
  virtual int version() const = 0;
  // The record's content as it now is; an empty flag when valid. Called
  // from two threads at once (Batch::Prejudge), each on its own records:
  // it must read nothing another call writes. A lookup may answer
  // Unavailable (not looked up yet): the judgement is then made again
  // later, so it must pass that error on rather than judge without it. A
  // verdict must not read RecordView::invalid of what a lookup returns: a
  // lookup made before a flush writes its records holds their stored
  // verdicts, one made during it their new ones, so a verdict reading them
  // would depend on the order records are written in.
  virtual Result<ContentFlag> Judge(std::string_view scope, std::string_view record_id,
                                    const crdt::RecordState& state, const Lookup& lookup) const = 0;
  // Id prefixes (same scope) of records whose verdict depends on this one —
  // a lease: the entries of its book — judged again when it changes.
  virtual std::vector<std::string> Governs(std::string_view scope, std::string_view record_id,
                                           const crdt::RecordState& state) const = 0;
  // The ops of one change on a record, before they apply to `before`: the
  // rules about history that a state cannot show (a status moved along a
  // path the lifecycle forbids). A verdict here stays with the record (the
  // least one, so the order changes arrive in does not matter).
  virtual Result<ContentFlag> JudgeOps(std::string_view scope, std::string_view record_id,
                                       const crdt::RecordState& before,
                                       const std::vector<crdt::Op>& ops,
                                       const ValueOf& value_of) const = 0;
};

// Personal IDs whose person conflicts a write may have changed: those its
// judged entries name, before or after, and of them those named as
// deceased (whose spouses' verdicts read their deaths).
struct PersonsTouched {
  std::set<std::string> ids;
  std::set<std::string> deaths;
};

// A violation decision's fine as report stats counts it (its penalty a
// fine, not cancelled): the amount issued, and the amount paid when it is
// paid (then nothing is outstanding).
struct StatsFine {
  int64_t issued_vnd = 0;
  std::optional<int64_t> paid_vnd;
  friend bool operator==(const StatsFine&, const StatsFine&) = default;
};

// What the store indexes of a record (computed by the domain layer).
struct IndexEntry {
  std::string search_text;         // folded words: names, IDs, the record id
  std::string display;             // the names as written, for results and ranking
  std::string event_date;          // YYYY-MM-DD (registration), or empty
  std::vector<PersonRef> persons;  // the person index entries (one per ID value and field)
  // Folded name, birth date and parents' names of the record's main person
  // (possible duplicates: Store::DuplicateGroups); empty when none.
  std::string duplicate_key;
  // Kept on the row (records.fine_vnd, fine_paid_vnd, schema 15) so the
  // stats totals can take a record's old fine out when it changes; none
  // for anything but a violation decision with a fine.
  std::optional<StatsFine> fine;
};

// How many entries of one personal ID, of each family of roles, the person
// rules judge (the first by date): no person is a party to a thousand
// births, deaths, marriages or guardianships, and a peer that names one ID
// in a hundred thousand records costs each judgement of it no more than
// this.
inline constexpr size_t kMaxPersonEntries = 1024;

// The entries of one personal ID the person rules judge (Store::PersonRows
// with judged_only), read on demand.
using PersonRowsOf = std::function<Result<std::vector<PersonRow>>(std::string_view personal_id)>;

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

// The meta entry naming the ContentChecker version the records were judged
// with.
inline constexpr std::string_view kContentRulesMetaKey = "content_rules";

// The meta entry that marks a store restored from a backup (its value: when,
// in ms). While it is there no local change is appended (E_RESTORED): the
// node may not hold its latest changes, and writing would fork its own
// feed. A sync that shows the node holds all a peer has of its feeds
// removes it (node/restore.cc).
inline constexpr std::string_view kRestoredMetaKey = "restored";

// One delivery receipt: the highest seq of a feed a hub signed for, and
// the signed ACK body with the hub's signature (replication::ReceiptBytes).
struct ReceiptRow {
  crdt::ReplicaId hub;
  FeedKey feed;
  uint64_t seq = 0;
  replication::Hash hash{};
  int64_t received_ms = 0;  // when this node received it
  std::string body;
  std::string signature;
};

// A hub announced less of a feed than it had signed for.
struct HubRollbackRow {
  crdt::ReplicaId hub;
  FeedKey feed;
  uint64_t signed_seq = 0;
  uint64_t announced_seq = 0;
  int64_t seen_ms = 0;
};

struct StoreOptions {
  // Whether a conflict on (type, field) waits for a person. Fields for which
  // this is false keep their frontier but are not listed as conflicts: the
  // display winner stands. Default: every field is adjudicated.
  std::function<bool(std::string_view type, std::string_view field)> adjudicated;
  // Incoming changes stamped more than this ahead of `clock` are refused.
  const Clock* clock = &SystemClock();
  int64_t max_clock_ahead_ms = 24 * 3600 * 1000;
  // Search terms and event date of a record; none when unset. Called from
  // two threads at once (Batch::Prejudge), each on its own records.
  std::function<IndexEntry(std::string_view record_id, const crdt::RecordState& state)> index;
  // Beyond these, an envelope ahead of a gap is refused (E_HELD_LIMIT).
  uint64_t max_held_per_feed = kMaxHeldPerFeed;
  uint64_t max_held_bytes_per_feed = kMaxHeldBytesPerFeed;
  // Judges every record a session changes, local writes and ingest alike;
  // nothing is judged when unset.
  std::shared_ptr<const ContentChecker> checker;
  // The person rules (domain layer): the conflicts among the records that
  // name `personal_id`, read through `rows_of` (which also reads other IDs,
  // such as a spouse's). A pure function of what rows_of returns. When
  // unset, no person conflicts are kept. The store calls it for every ID
  // whose rows, or whose partners' rows, a session changed.
  std::function<Result<std::vector<PersonConflict>>(std::string_view personal_id,
                                                    const PersonRowsOf& rows_of)>
      person_rules;
  // Whether Open judges the records again when they were judged with
  // another rule set. False: the opener calls RejudgeIfStale once what the
  // checker reads is ready (a node's trust).
  bool rejudge_on_open = true;
};

struct ApplyOptions {
  // Accept unsigned drafts from Apply (tests and benchmarks only: a draft
  // proves nothing about its origin).
  bool allow_drafts = false;
  // Certificate, revocation and authorisation checks; none when null
  // (signatures are always checked).
  const IngestGate* gate = nullptr;
  // Set by a worker that others wait on (the listener, whose HELLOs must
  // not wait for a whole batch): Apply then materialises and flushes every
  // kYieldEnvelopes envelopes and asks this after each run; true stops it
  // there, and the session's commit holds what was applied. The rest of the
  // batch is the caller's (ApplyReport::taken).
  std::function<bool()> yield = nullptr;
};
// Envelopes applied between two questions to ApplyOptions::yield: 15–30 ms
// of a hub's work on civil-status records, flush included
// (docs/architecture.md, "A batch in parts").
inline constexpr size_t kYieldEnvelopes = 64;

class Store {
 public:
  struct Incoming {
    replication::Envelope envelope;
    std::optional<crdt::Change> change;  // decoded body, when the caller has it
    // Set by Apply on the envelopes a yield left unapplied (whether their
    // signature held when it checked them), so the next part does not
    // check them again; callers leave it unset.
    std::optional<bool> signature_ok = std::nullopt;
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
  // Hands this Store to the calling thread: a server opens it where it can
  // report an error, then uses it on its own thread. The thread that had it
  // must not use it again (nothing is shared: it is handed over whole).
  void AdoptThread() { owner_ = std::this_thread::get_id(); }
  ~Store();

  // Whether a write session (BeginSession) is open on this Store now.
  bool session_open() const { return session_open_; }
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
  // A run of `feed`'s stored envelopes from seq `from` on, as stored: what a
  // sync sender puts in a batch, read by one statement rather than one
  // query (and one read transaction) per envelope. At most `max_count`
  // envelopes and `max_bytes` bytes, except that the first always comes
  // when `first_always`. `end`: the run stopped at the end of the feed —
  // its head, or a draft (drafts never leave the node).
  struct EnvelopeRun {
    std::vector<std::string> envelopes;
    bool end = false;
  };
  Result<EnvelopeRun> ReadEnvelopeRun(const FeedKey& feed, uint64_t from, size_t max_count,
                                      size_t max_bytes, bool first_always);
  // The greatest record id of `scope` in [lo, hi] (byte order) among
  // records whose content was not judged invalid, if any.
  Result<std::optional<std::string>> MaxRecordId(std::string_view scope, std::string_view lo,
                                                 std::string_view hi);
  // Whether `scope` holds a record `record_id` (valid or not).
  Result<bool> HasRecord(std::string_view scope, std::string_view record_id);
  // The lowest n in [from, to] such that no record of `scope`, valid or
  // not, has the id `prefix` + n in six digits; to + 1 when all are taken.
  // One walk up the record id index, however many ids are taken.
  Result<int64_t> FirstFreeNumber(std::string_view scope, std::string_view prefix, int64_t from,
                                  int64_t to);
  // Records of `scope` whose id starts with `prefix`, in id order.
  Result<std::vector<RecordView>> RecordsWithPrefix(std::string_view scope,
                                                    std::string_view prefix);
  // The registrations (and violation decisions) of one day by their event
  // date, of every scope: the first `limit` by id, newest first, and how
  // many there are in force (not revoked, content not judged invalid).
  // Number leases are not registrations. Reads the event-date index only,
  // then the `limit` records shown.
  struct DayRecords {
    std::vector<RecordView> records;
    uint64_t in_force = 0;
  };
  Result<DayRecords> RecordsOfDay(std::string_view date, size_t limit);
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
  // Reconcile's tree of `scope` as maintained when records are
  // materialised (recon_hash.h, docs/reconcile.md): its root; the 16
  // children of a node `prefix` (lower-case hex, at most 15 digits),
  // computed from their ranges of leaves (ResourceExhausted, E_TOO_LARGE,
  // past kMaxReconLeavesRead leaves under one child); the leaves with places
  // in [lo, hi] in (place, id) order, ResourceExhausted (E_TOO_LARGE) past
  // `max` before copying more.
  static constexpr size_t kMaxReconLeavesRead = 1 << 20;
  Result<ReconSummary> ReconRoot(std::string_view scope);
  Result<ReconKids> ReconChildren(std::string_view scope, std::string_view prefix);
  Result<std::vector<ReconLeaf>> ReconLeaves(std::string_view scope, uint64_t lo, uint64_t hi,
                                             size_t max);
  // Every maintained leaf of `scope` in (place, id) order; the view lives
  // for one call of `fn`.
  Status ForEachReconLeaf(std::string_view scope, const std::function<void(const ReconLeaf&)>& fn);
  // The leaf of the row of `record_id` as its bytes are now (BLAKE2b of
  // the state bytes, or of the whole row when it no longer parses); none
  // without a row.
  Result<std::optional<Leaf16>> ReconLeafNow(std::string_view scope, std::string_view record_id);
  // Fills the tree again from the records' stored hashes (schema 14's
  // first open; after a restore). One transaction.
  Status RebuildReconTree();
  Result<std::vector<ConflictRow>> Conflicts();
  // Records whose content was judged invalid (the attention list), by scope
  // and id; revoked ones only with `include_revoked`.
  Result<std::vector<FlaggedRecord>> FlaggedRecords(bool include_revoked = false);
  // Unrevoked records judged invalid, counted per scope and reason.
  Result<std::vector<InvalidCount>> InvalidCounts();
  // Judges every record again with options().checker (after an upgrade
  // brought other rules); one transaction. Verdicts about history
  // (ContentChecker::JudgeOps) are kept as they are.
  Status Rejudge();
  // Rejudge, when the records were judged with another checker version.
  Status RejudgeIfStale();
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  static constexpr int kHubCheckpointPages = 4096;
  // From this many envelopes in one Apply, their bodies are opened on two
  // threads before they are appended (Batch::OpenAhead); fewer, one by one.
  static constexpr size_t kOpenAheadMin = 64;
  // A serving hub's connection: SQLite's page cache at 64 MiB instead of
  // 16, and a WAL checkpoint every 4,096 pages (64 MiB) instead of 1,000,
  // run by a thread of its own (BackgroundCheckpointer) rather than inside
  // the commit that crosses the threshold. A hub writes the batches of many
  // communes at once; each commit rewrites the index pages it touches, and
  // a larger cache and rarer checkpoints write each hot page less often
  // (load_bench --communes 60: about a sixth less time, docs/scaling.md).
  // Durability is unchanged: every commit still syncs the WAL.
  // `checkpoint_pages`: the WAL's size that starts a checkpoint (tests use
  // a small one).
  Status UseHubSettings(int checkpoint_pages = kHubCheckpointPages);
  // The background checkpointer's counts; nullopt without UseHubSettings.
  std::optional<BackgroundCheckpointer::Counts> checkpoints() const;
  Status SetMeta(std::string_view key, std::string_view value);
  Status DeleteMeta(std::string_view key);
  Result<crdt::Hlc> LastHlc();
  // Recomputes every record's index entry — search terms, event date,
  // duplicate key, person index — and every person conflict, in one
  // transaction (after an upgrade, when the indexing rules change, or by
  // `tuphap index rebuild`).
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

  // A write transaction (BEGIN IMMEDIATE) grouping calls of the methods
  // above and below outside a Session (meta, trust objects); rolled back
  // unless committed. Busy or failed: an error, nothing begun.
  Result<std::unique_ptr<Transaction>> BeginTransaction();
  // Writes a consistent copy of the whole database to `path`, which must
  // not exist (SQLite's VACUUM INTO, one read transaction: the node keeps
  // working meanwhile).
  Status Snapshot(const std::string& path);

  // --- what the node remembers of its sync peers (store/peers_table.cc) ---
  struct PeerContact {
    crdt::ReplicaId peer;  // its Ed25519 key
    std::string endpoint;  // where it was last dialled ("" if it only dialled us)
    int64_t last_contact_ms = 0;
    int64_t last_success_ms = 0;  // 0: never caught up
    uint64_t sent = 0, received = 0, refused = 0;
  };
  // Every peer, the most recent contact first.
  Result<std::vector<PeerContact>> PeerContacts();
  // Adds one session's outcome (`caught_up`: it ended caught up at `now_ms`).
  Status RecordPeerSession(const crdt::ReplicaId& peer, std::string_view endpoint, int64_t now_ms,
                           bool caught_up, uint64_t sent, uint64_t received, uint64_t refused);
  // The feed heads `peer` was last known to hold.
  Result<std::map<FeedKey, uint64_t>> PeerHeads(const crdt::ReplicaId& peer);
  enum class PeerHeadsUpdate {
    kReplace,  // the peer's whole set (a HELLO): heads not given are forgotten
    kRaise,    // after a batch (an ACK): known heads only rise; a new one is
               // added while the set holds fewer than `cap`
  };
  // Saves `heads` of `peer` in one transaction.
  Status SavePeerHeads(const crdt::ReplicaId& peer, const std::map<FeedKey, uint64_t>& heads,
                       PeerHeadsUpdate update, size_t cap);

  // --- delivery receipts (store/receipts_table.cc): local rows, never synced ---
  // Keeps `r` unless a receipt of that hub for that feed at a seq as high is
  // kept already. One statement.
  Status SaveReceipt(const ReceiptRow& r);
  // Every receipt kept, by feed then hub.
  Result<std::vector<ReceiptRow>> Receipts();
  // Records a rollback and counts it as an E_HUB_ROLLBACK refusal naming the
  // hub, the feed's scope and the announced seq. One transaction.
  Status RecordHubRollback(const HubRollbackRow& r);
  Result<std::vector<HubRollbackRow>> HubRollbacks();

  // --- trust objects (store/trust_table.cc): certificates, revocations and
  // grants, by the id each has as a record of the public scope ---
  // Keeps one; an id already kept is left as it is.
  Status AddTrustObject(std::string_view record_id, std::string_view kind, std::string_view bytes);
  // Every trust object as (kind, bytes), in record id order.
  Result<std::vector<std::pair<std::string, std::string>>> TrustObjects();
  // Whether a trust object's record id lies in [lo, hi).
  Result<bool> HasTrustObjectIn(std::string_view lo, std::string_view hi);
  // Moves whenever what trust is read from may have: the root key, the
  // trust objects (only ever added) and the feeds of `public_scope` (one
  // more change applied). One statement.
  Result<std::string> TrustStamp(std::string_view public_scope);

  // --- officer accounts of the web app (store/officers_table.cc): local
  // rows, never synced; each call is one statement ---
  struct OfficerRow {
    int64_t id = 0;
    std::string login, name, role, password_hash;
    bool disabled = false;
    int failures = 0;             // consecutive wrong passwords
    int64_t locked_until_ms = 0;  // 0: not locked
    int64_t created_ms = 0, changed_ms = 0;
  };
  // The new row's id; AlreadyExists when the login is taken.
  Result<int64_t> AddOfficer(const OfficerRow& row);
  Result<std::vector<OfficerRow>> Officers();  // by login
  Result<std::optional<OfficerRow>> FindOfficer(std::string_view login);
  Result<std::optional<OfficerRow>> OfficerById(int64_t id);
  // Each returns whether the login exists. changed_ms becomes `now_ms`, or
  // one more than it was when the clock has not moved on (a web session
  // compares it to end sessions opened before the change).
  Result<bool> SetOfficerDisabled(std::string_view login, bool disabled, int64_t now_ms);
  // Also clears failures and any lock.
  Result<bool> SetOfficerPassword(std::string_view login, std::string_view password_hash,
                                  int64_t now_ms);
  // A wrong password for `login` at `now_ms`: one more consecutive failure
  // (the first again when a lock has run out); at `max_failures` the
  // account locks until now + `lockout_ms`. The row as it now is; nullopt
  // for an unknown login.
  Result<std::optional<OfficerRow>> AddOfficerFailure(std::string_view login, int max_failures,
                                                      int64_t lockout_ms, int64_t now_ms);
  // A right password: clears failures and lock, only while the row still
  // has `password_hash`, is enabled and is not locked at `now_ms` (another
  // process may have changed it since it was read); whether it did.
  Result<bool> ClearOfficerFailures(int64_t id, std::string_view password_hash, int64_t now_ms);

  // --- reports and search (store/queries.cc) ---
  enum class Counted { kRecords, kHeld, kOpenConflicts, kEquivocations, kPersonConflicts };
  // How many records, held envelopes, open conflicts or equivocations each
  // scope has (scopes with none are left out). Records: one pass over the
  // table, no state read (Digests hashes every state).
  Result<std::map<std::string, uint64_t>> CountByScope(Counted what);
  struct SearchRow {
    std::string record_id, scope, type, event_date, display;
  };
  // Records whose search entry matches the FTS5 query `match`, of `type`
  // and with an event date in [from, to] (each empty: any), the latest
  // first, at most `limit`.
  Result<std::vector<SearchRow>> SearchRecords(std::string_view match, std::string_view type,
                                               std::string_view from, std::string_view to,
                                               size_t limit);
  // The records of `scope` that are the later registration of an open
  // person conflict (person_conflicts.record): statistics hold them back
  // until the conflict is settled, as they leave out records judged invalid.
  Result<std::set<std::string>> HeldForPersonConflicts(std::string_view scope);

  // --- statistics from maintained totals (store/stats_queries.cc) ---
  // Each reads records of every scope that are registrations (type neither
  // empty nor "_…", which are number leases) with an event date [from, to]
  // (each empty: any, else YYYY-MM-DD; `to` compared with the date's first
  // 10 bytes) whose event date starts with YYYY-MM-DD: then it is the
  // registration date as the state says it. Held back: the later
  // registration of an open person conflict (HeldForPersonConflicts).
  struct StatsTotal {
    std::string scope, type, month;  // month: the event date's first 7 bytes
    uint64_t records = 0;            // all of the four below and those in force
    uint64_t invalid = 0;            // content judged invalid, revoked or not
    uint64_t revoked = 0;            // revoked, not invalid
    uint64_t held_back = 0;          // neither, held back
    // The fines (StatsFine) of the violation decisions in force: neither
    // invalid, revoked nor held back.
    uint64_t fines = 0;
    int64_t fines_issued_vnd = 0, fines_paid_vnd = 0, fines_outstanding_vnd = 0;
  };
  // Per (scope, type, month) with a record, from stats_totals (schema 15):
  // the months wholly in [from, to] are read as kept; the month of `from`
  // and of `to`, if given, are counted from their rows (records_event_date);
  // the held-back records (few) are taken out. InvalidArgument when `from`
  // or `to` is neither empty nor 10 bytes long.
  Result<std::vector<StatsTotal>> StatsTotals(std::string_view from, std::string_view to);
  // Counts stats_totals again from the rows (Reindex does; a test that
  // edits rows behind the store's back must).
  Status RecountStatsTotals();
  // The registrations StatsTotals leaves out because their event date is
  // missing or of another shape (content judged invalid, or a store indexed
  // without a date): whole, with whether held back.
  struct StatsOddRecord {
    RecordView record;
    bool held_back = false;
  };
  Result<std::vector<StatsOddRecord>> StatsOddRecords();

  // --- the person index (store/persons.cc) ---
  // The entries naming `personal_id`, with their records, at most `limit`:
  // every entry (revoked records too), in record order; or, `judged_only`,
  // the entries the person rules judge — roles of a family (PersonRef::
  // family) in records neither revoked nor judged invalid — of each family
  // the first `limit` by (date, commune, record id, field), the same on
  // every replica.
  Result<std::vector<PersonRow>> PersonRows(std::string_view personal_id, bool judged_only = false,
                                            size_t limit = kMaxPersonEntries);
  // Open person conflicts, by personal ID; those touching `scope` only when
  // it is given.
  Result<std::vector<PersonConflictRow>> PersonConflicts(std::string_view scope = {});
  // Groups of at least two unrevoked records with one duplicate key whose
  // personal IDs differ or are missing, at most `limit` groups.
  Result<std::vector<DuplicateGroup>> DuplicateGroups(std::string_view scope, size_t limit);
  // The person index and the person conflicts as text, one sorted line per
  // entry: what a rebuild must reproduce (tests, `tuphap index check`).
  Result<std::string> PersonIndexDump();
  // What PersonIndexDump would return after Reindex, computed in a
  // transaction that is rolled back: nothing changes.
  Result<std::string> RebuiltPersonIndexDump();

  const StoreOptions& options() const { return options_; }
  // The database file (":memory:" for a store in memory): where a second
  // thread opens a Store of its own.
  const std::string& path() const { return db_->path(); }

 private:
  class Batch;
  friend class Session;
  friend class ReadSnapshot;
  friend class TestAccess;  // tests only: store/test_access.h
  Store(std::unique_ptr<Database> db, StoreOptions options);
  Result<int64_t> OriginId(const crdt::ReplicaId& key);  // interns
  Result<std::optional<int64_t>> FindOriginId(const crdt::ReplicaId& key);
  const crdt::ReplicaId* OriginKey(int64_t id);
  Status WriteSearchEntry(int64_t rowid, bool replace, const IndexEntry& entry);
  // Replaces the person index entries of record `rowid` (`replace`: it had
  // some); adds every ID a judged role names before or after to `touched`.
  Status WritePersons(int64_t rowid, bool replace, const std::vector<PersonRef>& persons,
                      PersonsTouched* touched);
  // Adds the IDs record `rowid` names in judged roles to `touched`.
  Status PeopleOfRecord(int64_t rowid, PersonsTouched* touched);
  // Judges again the person conflicts of each ID in `touched`, and of
  // every ID naming one of its deaths' IDs as a spouse.
  Status JudgePersons(const PersonsTouched& touched);
  // Reindex without its transaction.
  Status ReindexIn();
  // After the upgrade to schema 15 (meta stats_rebuild): the fine columns
  // of every violation decision read from its state, then stats_totals
  // counted from the rows, in one transaction. Without options_.index only
  // the counts: the fines wait for an open with it.
  Status RebuildStatsTotals();
  // Adds `count` to the refusals of `reason`, naming the last one's feed
  // position.
  // Reconcile's tree: a record's new leaf (its state hash).
  Status WriteReconLeaf(std::string_view scope, std::string_view record_id,
                        const replication::Hash& state_hash);
  Status AddRefusals(std::string_view reason, uint64_t count, const crdt::ReplicaId& last_origin,
                     std::string_view last_scope, uint64_t last_seq);
  Result<std::optional<FeedHead>> LoadHead(const FeedKey& feed);
  void ForgetCaches();
  // Debug builds: aborts unless called from the thread that opened this
  // Store (one Store per thread, above). Called by every public method.
  void AssertOwnerThread() const;

  std::unique_ptr<Database> db_;
  // After db_: stopped before the connection it hooks closes.
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;
  StoreOptions options_;
  std::map<crdt::ReplicaId, int64_t> origin_ids_;
  std::map<int64_t, crdt::ReplicaId> origin_keys_;
  bool session_open_ = false;
  uint64_t commits_ = 0;  // write sessions committed through this Store
  std::thread::id owner_ = std::this_thread::get_id();
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
  // Store::PersonRows(personal_id, true) as this session sees them (what it
  // cached is written first).
  Result<std::vector<PersonRow>> PersonRows(std::string_view personal_id);
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

// Reads through `store` while one is alive see one snapshot of the
// database: a node serving in another process may commit meanwhile, and
// what is read together must be of one moment. Within an open transaction
// (a nested one, a Session) it does nothing. (store/snapshots.cc)
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Store& store);
  ~ReadSnapshot();
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Store& store_;
  bool began_;
};

}  // namespace tuphap::store
