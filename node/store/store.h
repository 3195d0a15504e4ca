// Store: the node's SQLite database — the change log and the materialised
// records (DESIGN.md, Storage).
//
// Guarantees:
//  * Apply() is one transaction: after a crash a batch is whole or absent.
//  * The log is unique on (origin, scope, seq); the same envelope twice is a
//    no-op; a different envelope for a taken position, or one whose `prev`
//    does not chain to the stored feed, is equivocation: both envelopes are
//    kept as evidence and the origin is quarantined.
//  * An envelope ahead of a gap in its feed is held until the gap fills.
//  * A change is materialised only after its feed predecessor and every
//    change its preds name (causal delivery), so the record frontiers equal
//    crdt::ScopeState's for the same set of changes.
// Not thread-safe: one Store per thread; several processes may share the
// file (SQLite locking, a busy timeout, BEGIN IMMEDIATE for writes).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

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
  // Whether this node holds a key to read `scope`'s changes.
  virtual bool CanRead(std::string_view scope) const = 0;
  // Decrypts and decodes. An error means the envelope is readable but bad.
  virtual Status Open(const replication::Envelope& envelope, crdt::Change* change) const = 0;
};

struct StoreOptions {
  // Whether a conflict on (type, field) waits for a person. Fields for which
  // this is false keep their frontier but are not listed as conflicts: the
  // display winner stands. Default: every field is adjudicated.
  std::function<bool(std::string_view type, std::string_view field)> adjudicated;
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
    replication::Hash prev;  // hash of the feed head
    crdt::Hlc last_hlc;      // highest HLC this store has seen
  };
  using LocalFactory = std::function<Result<Incoming>(const LocalSlot& slot)>;

  static Result<std::unique_ptr<Store>> Open(const std::string& path, Database::OpenMode mode,
                                             StoreOptions options = {});
  ~Store();

  // Applies a batch in one transaction. On error nothing of the batch stays.
  Result<ApplyReport> Apply(std::vector<Incoming>& batch, const EnvelopeOpener& opener);
  // Appends one local change to `feed` in one transaction; `make` builds it
  // from the slot (seq and prev are read under the write lock).
  Result<ApplyReport> AppendLocal(const FeedKey& feed, const LocalFactory& make,
                                  const EnvelopeOpener& opener);

  Result<std::optional<FeedHead>> Head(const FeedKey& feed);
  Result<std::vector<FeedHead>> Heads();
  Result<std::optional<RecordView>> GetRecord(std::string_view record_id);
  Result<std::optional<replication::Envelope>> GetEnvelope(const FeedKey& feed, uint64_t seq);
  // Per scope (or one scope): record count and a hash over the sorted
  // (record_id, state hash) pairs — equal exactly when the states are.
  Result<std::vector<ScopeDigest>> Digests(std::optional<std::string_view> scope = std::nullopt);
  Result<std::vector<ConflictRow>> Conflicts();
  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Result<crdt::Hlc> LastHlc();

  Database& db() { return *db_; }

 private:
  class Batch;
  Store(std::unique_ptr<Database> db, StoreOptions options);
  Result<int64_t> OriginId(const crdt::ReplicaId& key);  // interns
  const crdt::ReplicaId* OriginKey(int64_t id);
  Result<std::optional<FeedHead>> LoadHead(const FeedKey& feed);
  Result<ApplyReport> RunBatch(const std::function<Status(Batch&)>& fill,
                               const EnvelopeOpener& opener);
  void ForgetCaches();

  std::unique_ptr<Database> db_;
  StoreOptions options_;
  std::map<crdt::ReplicaId, int64_t> origin_ids_;
  std::map<int64_t, crdt::ReplicaId> origin_keys_;
  std::set<FeedKey> lagging_;  // feeds with applied_seq < head_seq (a hint)
};

}  // namespace tuphap::store
