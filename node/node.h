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
#include "node/node_info.h"
#include "node/store/store.h"

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
};

struct NodeOptions {
  std::string officer = "officer";
  const Clock* clock = &SystemClock();
  // How far ahead of this computer's clock a time may be (crdt/hlc.h).
  int64_t max_clock_ahead_ms = 24 * 3600 * 1000;
  // The operator says this clock is right although earlier stamps are far
  // ahead of it: go on stamping after them instead of refusing.
  bool accept_clock_behind = false;
};

class Node {
 public:
  // Creates a data directory with an empty store and a new identity.
  // AlreadyExists when `dir` already holds a store.
  static Status Init(const std::string& dir, const InitParams& params);
  // NotFound (with a message naming `dir`) when there is no store there.
  static Result<std::unique_ptr<Node>> Open(const std::string& dir, const NodeOptions& options);
  ~Node();

  const NodeInfo& info() const { return info_; }

  // Records a new record. `id` empty: a new ULID. `scope` empty: this
  // commune's (a hub must name one). Returns the id.
  Result<std::string> CreateRecord(const std::string& id, const std::string& type,
                                   const std::string& scope, const std::vector<FieldUpdate>& fields,
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

  store::Store& store() { return *store_; }
  const store::EnvelopeOpener& opener() const { return *opener_; }
  const NodeOptions& options() const { return options_; }

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
  Node(std::unique_ptr<store::Store> store, NodeInfo info, const NodeOptions& options);
  Status Commit(const std::string& scope, const std::string& reason, const OpsBuilder& build);
  Status Update(const std::string& id, const std::string& scope, const std::string& reason,
                const std::function<Result<crdt::RecordOps>(const store::RecordView&)>& ops);

  std::unique_ptr<store::Store> store_;
  NodeInfo info_;
  NodeOptions options_;
  crdt::HlcClock clock_;
  std::unique_ptr<store::EnvelopeOpener> opener_;
};

}  // namespace tuphap::node
