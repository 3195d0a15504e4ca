// Reconcile (docs/reconcile.md): compares this node's records with another
// copy of them — a live peer, a bundle or a snapshot — without moving the
// data. Each side sorts its records of a scope into a fixed-shape Merkle
// tree (16 children a level, a record's place given by a hash of its id, a
// leaf's hash by the record's stored bytes); the two trees are walked level
// by level only where their hashes differ, then the differing records are
// drilled into field by field. Each side re-derives those records from its
// own change log, so a row changed in the SQLite file behind tuphap's back
// is told apart from changes one side lacks.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/node.h"
#include "node/store/store.h"
#include "replication/certificate.h"
#include "replication/protocol.h"

namespace tuphap::node {

using Hash16 = std::array<uint8_t, 16>;

struct TreeSummary {
  uint64_t records = 0;
  Hash16 hash{};
  friend bool operator==(const TreeSummary&, const TreeSummary&) = default;
};

struct RecordLeaf {
  std::string record_id;
  Hash16 hash{};
};

// One record as one side holds it, checked against that side's own log.
struct RecordDetail {
  std::string record_id;
  bool present = false;     // a materialised row exists
  bool row_intact = true;   // the row's bytes match the hash stored beside them
  bool log_matches = true;  // re-deriving the record from the log gives the stored state
  std::vector<std::string> mismatched_fields;  // where stored and re-derived differ
  std::vector<std::pair<std::string, std::vector<EntryView>>> fields;  // stored, by name
  std::vector<store::ChangeRef> history;                               // as stored
  // Of the changes either side names for the record, those this side's log
  // lacks or has not applied yet.
  std::vector<store::ChangeRef> lacking;
  uint64_t derived_from = 0;  // changes the re-derivation used
};

struct RecordAsk {
  std::string record_id;
  std::vector<store::ChangeRef> other_history;  // what the other side's record names
};

// One side of a comparison.
class ReconcileSource {
 public:
  virtual ~ReconcileSource() = default;
  // The record count and root hash of each scope this side shares, of
  // `scopes` and (unless `only`) those it holds. A scope shared but not
  // held has an empty tree.
  virtual Result<std::map<std::string, TreeSummary>> Roots(const std::vector<std::string>& scopes,
                                                           bool only) = 0;
  // For each prefix (hex digits of the tree path), its 16 children.
  virtual Result<std::vector<std::array<TreeSummary, 16>>> Children(
      const std::string& scope, const std::vector<std::string>& prefixes) = 0;
  // For each prefix, every record under it.
  virtual Result<std::vector<std::vector<RecordLeaf>>> Leaves(
      const std::string& scope, const std::vector<std::string>& prefixes) = 0;
  virtual Result<std::vector<RecordDetail>> Records(const std::string& scope,
                                                    const std::vector<RecordAsk>& asks) = 0;
};

// A store read through an opener that holds the keys of its scopes. Its
// trees are read from the rows the store maintains (store::ReconRoot and
// the rest); nothing is built.
class StoreSource final : public ReconcileSource {
 public:
  using Shares = std::function<bool(std::string_view scope)>;
  // `verify`: the rows of each compared scope are checked against the
  // maintained leaves (AlteredRows) — the asking side's own store; a node
  // answering a peer does not.
  StoreSource(store::Store& store, const store::EnvelopeOpener& opener, Shares shares,
              bool verify = true);
  // A store of its own (a snapshot, a bundle applied in memory), verified.
  StoreSource(std::unique_ptr<store::Store> owned, const store::EnvelopeOpener& opener,
              Shares shares);
  ~StoreSource() override;

  Result<std::map<std::string, TreeSummary>> Roots(const std::vector<std::string>& scopes,
                                                   bool only) override;
  // Roots, with the rows of the scopes not verified yet checked in a
  // second thread, on a connection to the same file of its own, while
  // `meanwhile` runs in this one (the other side answering). This source's
  // Store is used from this thread only. A store in memory checks later,
  // in AlteredRows.
  Result<std::map<std::string, TreeSummary>> RootsWhile(const std::vector<std::string>& scopes,
                                                        bool only,
                                                        const std::function<void()>& meanwhile);
  Result<std::vector<std::array<TreeSummary, 16>>> Children(
      const std::string& scope, const std::vector<std::string>& prefixes) override;
  Result<std::vector<std::vector<RecordLeaf>>> Leaves(
      const std::string& scope, const std::vector<std::string>& prefixes) override;
  // Leaves, refusing (before copying more) a path with more than `max` records.
  Result<std::vector<std::vector<RecordLeaf>>> Leaves(const std::string& scope,
                                                      const std::vector<std::string>& prefixes,
                                                      size_t max);
  // The scopes this side holds and shares.
  Result<std::vector<std::string>> Scopes();
  Result<std::vector<RecordDetail>> Records(const std::string& scope,
                                            const std::vector<RecordAsk>& asks) override;
  // With `verify`: the records of `scope` whose row no longer matches its
  // stored hash or its maintained leaf, and the leaves whose row is gone
  // (one pass over the scope's rows, in one read snapshot). Without: none.
  Result<std::vector<std::string>> AlteredRows(const std::string& scope);
  // The check AlteredRows makes, on any store.
  static Result<std::vector<std::string>> VerifyRows(store::Store& store, const std::string& scope);

 private:
  using Altered = std::map<std::string, std::vector<std::string>>;
  // The shared and readable scopes of `scopes` (and, unless `only`, held).
  Result<std::vector<std::string>> RootScopes(const std::vector<std::string>& scopes, bool only);
  Status CheckShared(const std::string& scope) const;
  // VerifyRows of `scopes`, read through a Store of its own on `path`.
  static Result<Altered> VerifyAside(const std::string& path,
                                     const std::vector<std::string>& scopes);
  Result<RecordDetail> Detail(const std::string& scope, const RecordAsk& ask,
                              const std::map<store::FeedKey, uint64_t>& applied);

  std::unique_ptr<store::Store> owned_;  // declared first: outlives store_'s uses
  store::Store& store_;
  const store::EnvelopeOpener& opener_;
  Shares shares_;
  bool verify_ = true;
  Altered altered_;
};

// The other side over the wire: each call one QUERY and its ANSWER.
class QueryChannel {
 public:
  virtual ~QueryChannel() = default;
  virtual Result<std::string> Ask(const std::string& what, std::string body) = 0;
};
std::unique_ptr<ReconcileSource> RemoteSource(QueryChannel& channel);

// The listening side: answers the queries of a peer from this node's store,
// for the scopes this node offers that peer. Nothing is built or cached per
// run: every query reads the tree the store maintains, so any number of
// askers are served at once. Each asking key has a budget of queries and
// of answer bytes (token buckets); a query over it is refused with
// E_RATE_LIMITED, and every refusal is counted by reason.
class ReconcileResponder {
 public:
  struct Limits {
    double queries_per_second = 20;  // sustained, per asking key
    double query_burst = 200;        // queries an idle key may ask at once
    // A records query costs one query more per this many changes it names.
    size_t refs_per_query_token = 1024;
    double bytes_per_minute = 16 << 20;  // answer bytes, sustained, per key
    double byte_burst = 16 << 20;
    size_t max_askers = 4096;  // keys tracked; past it the idlest is forgotten
    // An answer larger is refused E_TOO_LARGE, and what was built of it is
    // charged to the byte budget all the same (it cost the work).
    size_t max_answer_bytes = replication::kMaxFrameBytes - 64;
    static Limits Unlimited();
  };
  explicit ReconcileResponder(Node& node);
  ReconcileResponder(Node& node, Limits limits);
  ~ReconcileResponder();
  // An ANSWER body, or an error whose reason is the ERROR code to send.
  // `now_ms`: a monotonic clock's time, for the budgets.
  Result<std::string> Answer(const replication::Certificate& peer, const std::string& what,
                             std::string_view body, int64_t now_ms);
  // Forgets the budgets of keys idle for `idle_ms` (the serve loop's timer
  // calls it): a key idle that long has a full budget anyway.
  void Expire(int64_t now_ms, int64_t idle_ms = 120000);
  // Refused queries by reason: the ERROR code, and for E_RATE_LIMITED which budget
  // ("E_RATE_LIMITED queries", "E_RATE_LIMITED bytes").
  const std::map<std::string, uint64_t>& refusals() const { return refusals_; }
  uint64_t answered() const { return answered_; }

 private:
  struct Budget {
    double queries = 0;
    double bytes = 0;
    int64_t at_ms = 0;
  };
  Result<std::string> AnswerIn(const replication::Certificate& peer, const std::string& what,
                               std::string_view body, Budget& budget);
  Node& node_;
  Limits limits_;
  std::map<std::string, Budget> budgets_;  // by the asker's signing key
  std::map<std::string, uint64_t> refusals_;
  uint64_t answered_ = 0;
};

struct Difference {
  std::string scope;
  std::string record_id;
  std::string field;                    // "*": the whole record is absent on one side
  std::vector<EntryView> ours, theirs;  // the field's values on each side (empty: none)
  bool ours_present = false, theirs_present = false;
  // missing_changes | conflict | tampered | diverged
  std::string reason;
  std::string detail;  // a sentence naming what was found
};

struct ScopeComparison {
  std::string scope;
  bool compared = false;  // both sides hold and share it
  uint64_t ours = 0, theirs = 0;
  bool equal = false;
  uint64_t differing_records = 0;
};

struct ReconcileReport {
  bool equal = true;
  std::vector<ScopeComparison> scopes;
  std::vector<Difference> differences;
  uint64_t tree_nodes_compared = 0;
};

// Whether concurrent values of a field of a record type wait for a person
// (store::StoreOptions::adjudicated); unset: every field does.
using AdjudicatedFn = std::function<bool(std::string_view type, std::string_view field)>;

// Walks both trees of every scope either side holds and both share (or
// only `scopes`). FailedPrecondition when no scope (or a named one) can be
// compared.
Result<ReconcileReport> Reconcile(StoreSource& ours, ReconcileSource& theirs,
                                  const std::vector<std::string>& scopes,
                                  const AdjudicatedFn& adjudicated = {});

// The other copy from a file: a snapshot (a copy of a store: `tuphap
// snapshot`) is read where it is; a bundle (`tuphap bundle export --all`)
// is checked like any bundle and applied into a scratch store, removed when
// the source is. Either is read with this node's keys.
Result<std::unique_ptr<StoreSource>> OpenFileSource(Node& node, const std::string& path);

// The scopes this node holds (those of its feeds).
Result<std::vector<std::string>> HeldScopes(store::Store& store);

}  // namespace tuphap::node
