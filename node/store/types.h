// Value types the store hands out.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crdt/hlc.h"
#include "crdt/record_state.h"
#include "replication/hash.h"

namespace tuphap::store {

// A feed: one origin's append-only log for one scope.
struct FeedKey {
  crdt::ReplicaId origin;
  std::string scope;

  friend auto operator<=>(const FeedKey&, const FeedKey&) = default;
  friend bool operator==(const FeedKey&, const FeedKey&) = default;
};

struct FeedHead {
  FeedKey feed;
  uint64_t seq = 0;          // highest contiguous seq in the log
  replication::Hash hash{};  // hash of the envelope at `seq` (zeros when 0)
  uint64_t applied_seq = 0;  // highest seq materialised into records
};

// One change that touched a record, in the order this store applied them.
struct ChangeRef {
  crdt::ReplicaId origin;
  uint64_t seq = 0;
  crdt::Hlc hlc;

  friend bool operator==(const ChangeRef&, const ChangeRef&) = default;
};

// What the domain layer found wrong with a record's content
// (docs/record-format.md, "What a receiver checks"): the rule broken and the
// field it concerns. An empty reason: valid, or not judged.
struct ContentFlag {
  std::string reason;  // a validation class ("wrong_type") or a numbering rule ("entry_not_leased")
  std::string field;   // dot path ("data.child.sex"), or "" for the record as a whole

  bool empty() const { return reason.empty(); }
  friend auto operator<=>(const ContentFlag&, const ContentFlag&) = default;
  friend bool operator==(const ContentFlag&, const ContentFlag&) = default;
};

struct RecordView {
  std::string record_id;
  std::string scope;
  crdt::RecordState state;
  std::vector<ChangeRef> history;
  replication::Hash state_hash{};
  // The content judgement as last written (a revoked record keeps it:
  // numbering and statistics still leave it out). Inside a write session,
  // as of the session's last flush.
  ContentFlag invalid;
};

// A record whose content was judged invalid: the attention list.
struct FlaggedRecord {
  std::string record_id;
  std::string scope;
  std::string type;
  ContentFlag flag;
  bool revoked = false;
};

// Records judged invalid and not revoked, per scope and reason.
struct InvalidCount {
  std::string scope;
  std::string reason;
  uint64_t count = 0;
};

struct ScopeDigest {
  std::string scope;
  uint64_t records = 0;
  replication::Hash digest{};
};

struct RefusalCount {
  std::string reason;
  uint64_t count = 0;
  crdt::ReplicaId last_origin;
  std::string last_scope;
  uint64_t last_seq = 0;
  int64_t last_at_ms = 0;
};

struct EquivocationRow {
  crdt::ReplicaId origin;
  std::string scope;
  uint64_t seq = 0;
  std::string kind;    // same_seq | prev_mismatch
  std::string ours;    // the envelope this store had
  std::string theirs;  // the conflicting one
};

struct ConflictRow {
  std::string record_id;
  std::string scope;
  std::string type;
  std::string field;
  crdt::MvRegister values;
};

enum class Disposition : unsigned char {
  kAppended,      // new: in the log now (materialised when ready)
  kDuplicate,     // the same change was already there: no effect
  kHeld,          // ahead of a gap in its feed: kept until the gap fills
  kEquivocation,  // a different envelope for a position already taken: evidence kept
  kQuarantined,   // its origin has equivocated: refused
  kRefused,       // refused for the reason given (clock, draft, bad body...)
};

struct Outcome {
  Disposition disposition;
  std::string reason;  // for kRefused (and kEquivocation: "E_EQUIVOCATION")
};

struct ApplyReport {
  std::vector<Outcome> outcomes;  // one per input, in order
  size_t appended = 0;
  size_t duplicates = 0;
  size_t held = 0;
  size_t released = 0;  // held envelopes that joined the log
  size_t equivocations = 0;
  size_t quarantined = 0;
  size_t refused = 0;
  std::map<std::string, size_t> refusals;  // reason -> count
  size_t materialised = 0;                 // changes applied to records
  size_t blocked_feeds = 0;                // feeds stopped at a change that would not open
  size_t signatures_checked = 0;           // Ed25519 verifications (one per unbroken run)

  // Adds another batch's counts (not its outcomes, which are per input).
  void AddCounts(const ApplyReport& o) {
    appended += o.appended;
    duplicates += o.duplicates;
    held += o.held;
    released += o.released;
    equivocations += o.equivocations;
    quarantined += o.quarantined;
    refused += o.refused;
    for (const auto& [reason, n] : o.refusals) refusals[reason] += n;
    materialised += o.materialised;
    blocked_feeds += o.blocked_feeds;
    signatures_checked += o.signatures_checked;
  }
};

}  // namespace tuphap::store
