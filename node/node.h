// Node: the local API of one tuphap node over its data directory — create,
// amend, revoke and read records, their history, conflicts and digests.
//
// Every write is one local change (one officer action) appended to this
// node's feed for the record's scope, in its own transaction; reads see
// committed state only. Errors: NotFound for an unknown record,
// FailedPrecondition for a write the record's state does not allow (amend of
// a revoked record), InvalidArgument for malformed input.
#pragma once

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
  std::optional<crdt::Value> old;  // display value before this op, if any
};

struct HistoryEntry {
  crdt::ReplicaId origin;
  uint64_t seq = 0;
  crdt::Hlc hlc;
  std::string officer;
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
                                   const std::string& scope,
                                   const std::vector<FieldUpdate>& fields);
  // Sets fields; each op supersedes the field's whole current frontier (so
  // it also resolves a conflict on that field).
  Status SetFields(const std::string& id, const std::vector<FieldUpdate>& fields);
  Status Revoke(const std::string& id, const std::string& reason);

  Result<store::RecordView> GetRecord(const std::string& id);
  Result<std::vector<HistoryEntry>> History(const std::string& id);
  Result<std::vector<store::ScopeDigest>> Digests(std::optional<std::string_view> scope);
  Result<std::vector<store::ConflictRow>> Conflicts();
  // The frontier of `reg` (a field of a record in `scope`), display winner
  // first, each value with its officer, origin and time.
  Result<std::vector<EntryView>> DescribeEntries(const std::string& scope,
                                                 const crdt::MvRegister& reg);

  store::Store& store() { return *store_; }

 private:
  Node(std::unique_ptr<store::Store> store, NodeInfo info, const NodeOptions& options);
  // Appends one change of this node to `scope`; `build` fills the ops given
  // the records as they are inside the write transaction.
  using OpsBuilder = std::function<Result<std::vector<crdt::RecordOps>>()>;
  Status Commit(const std::string& scope, const OpsBuilder& build);

  std::unique_ptr<store::Store> store_;
  NodeInfo info_;
  NodeOptions options_;
  crdt::HlcClock clock_;
  std::unique_ptr<store::EnvelopeOpener> opener_;
};

}  // namespace tuphap::node
