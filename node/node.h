// Node: the local API of one tuphap node over its data directory — create,
// amend, revoke and read records, their history, conflicts and digests.
//
// Every write is one local change (one officer action) appended to this
// node's feed for the record's scope, in its own transaction; reads see
// committed state only. A change is checked against the limits every peer
// enforces before it is written, so a node never writes what it or its
// peers would refuse. Errors: NotFound for an unknown record,
// FailedPrecondition for a write the record's state does not allow (amend of
// a revoked record) or an ambiguous id, InvalidArgument for malformed input.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "crdt/hlc.h"
#include "node/domain/content_rules.h"
#include "node/keys.h"
#include "node/node_info.h"
#include "node/store/store.h"
#include "node/trust.h"
#include "node/vault.h"
#include "replication/certificate.h"
#include "replication/protocol.h"

namespace tuphap::node {

struct FieldUpdate {
  std::string field;
  crdt::Value value;
};

struct OpView {
  std::string field;
  crdt::Value value;
  // The values this op superseded (its pred), display winner first; empty
  // for a first write. Two or more: the op resolved a conflict.
  std::vector<crdt::Value> old;
};

struct HistoryEntry {
  crdt::ReplicaId origin;
  uint64_t seq = 0;
  crdt::Hlc hlc;
  std::string officer;
  std::string reason;
  std::vector<OpView> ops;
};

// One value of a field's frontier, with who wrote it.
struct EntryView {
  crdt::Value value;
  crdt::ReplicaId origin;
  uint64_t seq = 0;
  crdt::Hlc hlc;
  std::string officer;
  bool sealed = false;  // its change did not open here (keys locked): officer unknown
};

// Heads of a peer's feeds remembered per peer, at most (docs/security.md,
// Bounds). A feed is one node's log of one scope, so a province holds about
// one feed per node plus the hubs' (a few hundred, a few thousand at most):
// 4,096 keeps every real feed of the largest province for status and
// bundle export, and bounds what one peer can make this node store to a few
// hundred KiB, however many heads it names.
inline constexpr size_t kMaxPeerHeads = 4096;

struct NodeOptions {
  std::string officer = "officer";
  // The serving process of a hub (serve's sync loop): its store gets the
  // larger page cache and rarer checkpoints of Store::UseHubSettings. Other
  // processes and the web app's connections keep SQLite's usual 16 MiB.
  bool serving_hub = false;
  const Clock* clock = &SystemClock();
  // How far ahead of this computer's clock a time may be (crdt/hlc.h).
  int64_t max_clock_ahead_ms = 24 * 3600 * 1000;
  // The operator says this clock is right although earlier stamps are far
  // ahead of it: go on stamping after them instead of refusing.
  bool accept_clock_behind = false;
  // Asked once, when a command first needs the private keys (to sign, to
  // read an encrypted change). Unset: commands that need them fail with
  // FailedPrecondition (E_LOCKED).
  std::function<Result<replication::SecretBytes>()> passphrase;
  // Heads remembered per sync peer (Node::SavePeerHeads); tests lower it.
  size_t max_peer_heads = kMaxPeerHeads;
  // Benchmarks only (the cost of the person rules): false keeps no person
  // index and checks no person rule. A store written so holds a stale index
  // until `tuphap index rebuild`.
  bool person_rules = true;
};

// What a node knows of its own security (tuphap status).
struct SecurityStatus {
  std::string node_id;  // NodeIdText
  bool enrolled = false;
  std::string root;  // NodeIdText of the province root key ("" when unknown)
  std::optional<replication::Certificate> certificate;
  bool revoked = false;
  uint64_t drafts = 0;  // own changes waiting for enrolment to be sealed
  uint64_t held = 0;
  std::vector<store::RefusalCount> refusals;
  std::vector<store::EquivocationRow> equivocations;
  std::vector<crdt::ReplicaId> quarantined;
  // Unrevoked records whose content was judged invalid, per commune and
  // reason (E_INVALID_CONTENT; tuphap report attention lists them).
  std::vector<store::InvalidCount> invalid;
  size_t certificates = 0;
  size_t revocations = 0;
  // Per scope this node holds keys for: the newest epoch (after Unlock).
  std::map<std::string, uint32_t> key_epochs;
};

// What a hub hands back for an enrolment request.
struct Enrolment {
  replication::Certificate certificate;
  std::string file;  // the enrolment file's bytes
  std::vector<uint32_t> epochs_granted;
};

struct RevocationResult {
  replication::Revocation revocation;
  // The commune key rotated: its new epoch, and how many nodes got it.
  std::string scope;
  uint32_t new_epoch = 0;
  size_t members_rekeyed = 0;
};

class Node {
 public:
  // Creates a data directory with an empty store and a new identity.
  // AlreadyExists when `dir` already holds a store.
  // Writes the private keys to DIR/keys encrypted with `passphrase`. A hub
  // also gets its province's root key and a certificate of its own.
  static Status Init(const std::string& dir, const InitParams& params,
                     const replication::SecretBytes& passphrase, KdfLimits kdf = {});
  // NotFound (with a message naming `dir`) when there is no store there.
  static Result<std::unique_ptr<Node>> Open(const std::string& dir, const NodeOptions& options);
  ~Node();

  const NodeInfo& info() const { return info_; }

  // Records a new record. `id` empty: a new ULID. `scope` empty: this
  // commune's (a hub must name one). Returns the id.
  Result<std::string> CreateRecord(const std::string& id, const std::string& type,
                                   const std::string& scope, const std::vector<FieldUpdate>& fields,
                                   const std::string& reason = {});
  // CreateRecord inside an open write session (for a record whose content
  // is decided from what the session reads, such as a lease's block).
  Result<std::string> CreateRecordIn(store::Store::Session& session, const std::string& id,
                                     const std::string& type, const std::string& scope,
                                     const std::vector<FieldUpdate>& fields,
                                     const std::string& reason = {});
  // Sets fields; each op supersedes the field's whole current frontier (so
  // it also resolves a conflict on that field). `scope` may be empty when
  // the id is unambiguous.
  Status SetFields(const std::string& id, const std::vector<FieldUpdate>& fields,
                   const std::string& reason = {}, const std::string& scope = {});
  Status Revoke(const std::string& id, const std::string& reason, const std::string& scope = {});

  Result<store::RecordView> GetRecord(const std::string& id, const std::string& scope = {});
  Result<std::vector<HistoryEntry>> History(const std::string& id, const std::string& scope = {});
  Result<std::vector<store::ScopeDigest>> Digests(std::optional<std::string_view> scope);
  Result<std::vector<store::ConflictRow>> Conflicts();
  // The frontier of `reg` (a field of a record in `scope`), display winner
  // first, each value with its officer, origin and time.
  Result<std::vector<EntryView>> DescribeEntries(const std::string& scope,
                                                 const crdt::MvRegister& reg);

  // --- keys, enrolment, ingest (docs/security.md) ---------------------------

  // Reads the private keys (asking for the passphrase) and opens the data
  // keys granted to this node. Idempotent; a failure is remembered and
  // returned again without asking. Never inside a write session: BeginSession
  // unlocks first, and Unlock with a session open is E_LOCKED (and an
  // assertion in debug builds).
  Status Unlock();
  // The unlocked secrets (for the transport's CURVE keys).
  Result<const NodeSecrets*> UnlockedSecrets() {
    TUPHAP_RETURN_IF_ERROR(Unlock());
    return vault_.secrets();
  }
  const replication::PublicKey& sign_key() const { return sign_pk_; }
  const replication::PublicKey& box_key() const { return box_pk_; }
  bool enrolled() const { return trust_ != nullptr && trust_->CertFor(sign_pk_) != nullptr; }
  const Trust* trust() const { return trust_.get(); }
  // The store's trust stamp (Store::TrustStamp) as of the trust held now:
  // a reader elsewhere (the listener's admission cache) compares it with
  // the file's.
  const std::string& trust_stamp() const { return trust_stamp_; }
  // Who `node` is to the register books of `commune` (content_rules.h), as
  // its certificate says; for this node before it is enrolled, as its own
  // store says (init --secondary or not).
  domain::BookWriter BookWriterOf(const crdt::ReplicaId& node, std::string_view commune) const;
  // BookWriterOf as a function, for the content rules' callers.
  domain::WriterOf book_writers() const {
    return [this](const crdt::ReplicaId& node, std::string_view commune) {
      return BookWriterOf(node, commune);
    };
  }

  // Commune side: the signed request file's bytes.
  Result<std::string> EnrollRequestFile(const std::string& label);
  // Hub side: checks the request (signature, commune of this province),
  // certifies it for `days`, grants every epoch of the commune's data key,
  // and publishes both to the province's public feed.
  Result<Enrolment> EnrollSign(std::string_view request_file, int days);
  // Commune side: pins the root, keeps the trust objects, opens the data
  // keys and seals the drafts made before enrolment. Returns the
  // certificate and how many drafts were sealed.
  Result<std::pair<replication::Certificate, uint64_t>> EnrollAccept(
      std::string_view enrolment_file);
  // Hub side: revokes a node (by its id text or hex key): cuts each of its
  // feeds at `cut` (default: what this hub holds of it), publishes the
  // revocation and rotates its commune's data key.
  Result<RevocationResult> RevokeNode(const std::string& node, const std::string& reason,
                                      std::optional<uint64_t> cut);
  // Applies envelopes from elsewhere with every ingest check: the public
  // feed first (new certificates, revocations and keys take effect for the
  // rest of the batch), then the others.
  // With `yield` (a worker that others wait on: store::ApplyOptions::yield)
  // the batch may be applied in part, each part committed: what was applied
  // is taken out of `batch`, and what is left (none of the public feed,
  // always applied whole) is for the next call. The report then counts
  // what was applied and holds no outcomes.
  Result<store::ApplyReport> Ingest(std::vector<store::Store::Incoming>& batch,
                                    const std::function<bool()>& yield = {});
  Result<SecurityStatus> Security();
  // Re-reads certificates, revocations and grants from the store (another
  // process, such as `enroll sign`, may have added some).
  Status ReloadTrust();
  // ReloadTrust, only when what it reads may have changed since trust was
  // last loaded — written here or by another process (SQLite's
  // data_version): one pragma when nothing was written at all, one small
  // query over the trust objects and the public-scope feeds when something
  // was. Returns whether it reloaded. Cheap enough for every connection.
  Result<bool> ReloadTrustIfChanged();
  // How many times trust was read from the store (tests, diagnostics).
  uint64_t trust_loads() const { return trust_loads_; }

  // --- peers (node/peers.cc) ------------------------------------------------
  // Signs a sync acknowledgement (a hub's receipt).
  Status SignReceipt(replication::Ack* ack);
  // What the heads given to SavePeerHeads are.
  enum class PeerHeadsSource {
    kHello,  // everything the peer holds: replaces what was known of it
    kAck,    // the peer's heads after a batch: raises those known, adds new ones
  };
  // Remembers what `peer` holds, for status (pending) and bundle export.
  // Only heads of feeds that can exist here (the origin has a certificate
  // that lets it write the scope) and that this node offers the peer are
  // kept, at most NodeOptions::max_peer_heads: when a HELLO names more, the
  // feeds this node holds itself win, then the lowest (origin, scope). One
  // transaction; its database work is proportional to the heads kept, not
  // to those announced or known before.
  Status SavePeerHeads(const replication::Certificate& peer,
                       const std::vector<replication::FeedHeadWire>& heads, PeerHeadsSource source);
  Result<std::map<store::FeedKey, uint64_t>> PeerHeads(const replication::PublicKey& peer);
  struct PeerRow {
    replication::PublicKey peer{};
    std::string endpoint;
    int64_t last_contact_ms = 0;
    int64_t last_success_ms = 0;
    uint64_t sent = 0, received = 0, refused = 0;
    uint64_t pending_out = 0;  // changes this node holds that the peer lacks, as far as known
    uint64_t pending_in = 0;   // changes the peer holds that this node lacks, as far as known
  };
  // Records one session's outcome with a peer.
  Status RecordPeerSession(const replication::PublicKey& peer, const std::string& endpoint,
                           bool caught_up, uint64_t sent, uint64_t received, uint64_t refused);
  Result<std::vector<PeerRow>> Peers();
  // Whether this node offers feeds of `scope` to `peer` (a hub gives a
  // commune only its commune and the public feed).
  bool Offers(const replication::Certificate& peer, std::string_view scope) const;

  // --- restore and delivery receipts (node/restore.cc, node/receipts.cc) ---
  // Whether this node was restored from a backup and has not yet shown, by
  // a sync, that it holds its latest changes: it writes nothing until then
  // (E_RESTORED).
  Result<bool> Restored();
  // After a sync session with a peer caught up: when the peer announced
  // (`peer_heads`, its HELLO) no head of this node's feeds beyond what this
  // node now holds, the restored mark is cleared. Returns whether it was.
  // Only a commune node's hub vouches, and only one that announces at
  // least every seq this node holds a receipt for; a hub's mark is cleared
  // by its operator (ResumeWrites).
  Result<bool> ClearRestoredIfCaughtUp(const replication::Certificate& peer,
                                       const std::vector<replication::FeedHeadWire>& peer_heads);
  // The operator's word that this restored node holds its latest changes
  // (a hub that synced its communes; a commune whose hub is lost): clears
  // the mark. Returns whether there was one.
  Result<bool> ResumeWrites();
  // Keeps a hub's verified receipt for this node's own feeds it names.
  Status KeepReceipt(const replication::PublicKey& hub, const replication::Ack& ack);
  // A hub's HELLO: every feed of this node it announced below a seq it once
  // signed for (none announced: 0) is recorded as a rollback
  // (E_HUB_ROLLBACK). Returns how many.
  Result<size_t> CheckHubRollback(const replication::Certificate& hub,
                                  const std::vector<replication::FeedHeadWire>& heads);

  store::Store& store() { return *store_; }
  const store::EnvelopeOpener& opener() const { return *opener_; }
  const NodeOptions& options() const { return options_; }
  // Who acts from now on (each later change's officer field): a server
  // sets it per request to the logged-in officer.
  void set_officer(std::string officer) { options_.officer = std::move(officer); }

  // Reads a record inside the write transaction (its own writes included).
  using RecordReader =
      std::function<Result<std::optional<store::RecordView>>(const std::string& id)>;
  // Fills the ops of a change from the records as they are inside the write
  // transaction.
  using OpsBuilder = std::function<Result<std::vector<crdt::RecordOps>>(const RecordReader& read)>;

  // A change's ops checked and its body encoded ahead of the write
  // transaction (on another thread, for an import); see AppendPrepared.
  struct PreparedOps {
    std::vector<crdt::RecordOps> records;
    std::string reason;
    std::string body;  // EncodeChangeBody with this node's officer
  };
  // Checks shape and limits of ops that name no earlier change (creations)
  // and encodes the body. Thread-safe.
  Result<PreparedOps> Prepare(std::vector<crdt::RecordOps> records, std::string reason) const;

  // A write session over this node's store, for several changes in one
  // transaction (an import batch).
  Result<std::unique_ptr<store::Store::Session>> BeginSession();
  // Appends one change of this node to `scope` in `session`: stamps it,
  // checks its shape and limits, and materialises it at once.
  Status Append(store::Store::Session& session, const std::string& scope, const std::string& reason,
                const OpsBuilder& build);
  // Appends a change prepared by Prepare.
  Status AppendPrepared(store::Store::Session& session, const std::string& scope,
                        PreparedOps&& ops);

 private:
  Node(std::unique_ptr<store::Store> store, NodeInfo info, const NodeOptions& options,
       KeyVault vault);
  friend class NodeOpener;
  // Trust objects from the store (trust_objects and public records).
  Status LoadTrust();
  // Changes whenever what LoadTrust reads may have: the pinned root, the
  // trust_objects rows (only ever inserted) and how far each public-scope
  // feed is materialised (its records are the published objects).
  Result<std::string> TrustStamp();
  Status OpenGrants();
  Status StoreTrustObject(TrustKind kind, std::string_view bytes);
  // Appends root-signed objects to the public feed as records (hub).
  Status Publish(store::Store::Session& session,
                 const std::vector<std::pair<TrustKind, std::string>>& objects);
  // The commune's data key epochs (hub): makes epoch 1 when there is none.
  Result<std::vector<std::pair<uint32_t, const uint8_t*>>> CommuneKeys(
      store::Store::Session& session, const std::string& commune);
  // Unlocks the keys a write to `scope` needs (a hub makes a commune's
  // first key here).
  Status EnsureWriteKey(store::Store::Session& session, const std::string& scope);
  std::string NewGrant(const std::string& scope, uint32_t epoch, const uint8_t* key,
                       const replication::PublicKey& recipient) const;
  Status Commit(const std::string& scope, const std::string& reason, const OpsBuilder& build);
  // A new change of this node at `slot` of its feed for `scope`: origin,
  // seq, a fresh HLC stamp and the officer (no ops yet).
  Result<crdt::Change> StampChange(const std::string& scope, const store::Store::LocalSlot& slot);
  Status Update(const std::string& id, const std::string& scope, const std::string& reason,
                const std::function<Result<crdt::RecordOps>(const store::RecordView&)>& ops);

  std::unique_ptr<store::Store> store_;
  NodeInfo info_;
  NodeOptions options_;
  crdt::HlcClock clock_;
  std::unique_ptr<store::EnvelopeOpener> opener_;
  std::string dir_;
  replication::PublicKey sign_pk_{};
  replication::PublicKey box_pk_{};
  std::unique_ptr<Trust> trust_;  // null until a root is known
  uint64_t trust_loads_ = 0;
  std::string trust_stamp_;  // TrustStamp() as of the last LoadTrust
  // The store's stamp when trust was last known current: equal stamps mean
  // nothing was written since.
  std::optional<store::Store::Stamp> trust_checked_at_;
  KeyVault vault_;  // private keys and granted data keys (vault.h)
  // How many data keys this process held when it last retried the feeds
  // that stopped for want of a key (Ingest); none yet: the first ingest
  // retries them.
  std::optional<size_t> keys_at_retry_;
  // Data keys made in a session not yet known to be committed: dropped
  // from memory if their grant did not reach the store.
  std::vector<std::pair<std::string, uint32_t>> pending_keys_;
  bool no_drafts_ = false;  // this commune's feed holds no unsealed draft
  Status ForgetUncommittedKeys();
  // Store::RetryBlockedFeeds, when this process holds data keys it did not
  // hold at the last retry (or has not retried yet).
  Status RetryBlockedFeedsIfKeysGrew();
};

}  // namespace tuphap::node
