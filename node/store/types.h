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

// One person a record names by 12-digit personal ID: an entry of the person
// index (docs/record-format.md, "Person rules"). What the rules need of the
// record travels with it, so judging a person reads no record state.
struct PersonRef {
  std::string personal_id;
  std::string role;     // child, deceased, husband, wife, parent, declarant, ...
  std::string field;    // dot path of the ID ("data.child.personal_id")
  std::string date;     // the date the role is judged at: a death's date, else the event date
  std::string partner;  // a marriage party's spouse (personal ID), else ""
  std::string ended;    // a marriage's recorded dissolution date, else ""
  std::string stated;   // what a confirmation states (marital status), else ""
  // The family of roles a person rule reads this entry in (a child's birth,
  // a death, a marriage party, ...), each judged within its own bound; 0
  // for the roles that only make the person's records findable (declarant,
  // ward, ...) and are never judged.
  int family = 0;
  friend bool operator==(const PersonRef&, const PersonRef&) = default;
};

// A person index entry with its record.
struct PersonRow : PersonRef {
  int64_t record = 0;  // records.id (0: a record not stored yet)
  std::string record_id;
  std::string scope;
  std::string type;
  bool revoked = false;
  bool invalid = false;  // its content was judged invalid (the attention list)
};

// Two records of one person that the person rules say cannot both stand
// (child registered twice, ...): `record` is the later registration,
// `other` the one it collides with.
struct PersonConflict {
  std::string personal_id;
  std::string rule;  // an error class: child_already_registered, ...
  int64_t record = 0;
  int64_t other = 0;
  friend auto operator<=>(const PersonConflict&, const PersonConflict&) = default;
  friend bool operator==(const PersonConflict&, const PersonConflict&) = default;
};

// A person conflict as reports show it.
struct PersonConflictRow {
  std::string personal_id;
  std::string rule;
  std::string record_id, scope, type, date;                   // the later registration
  std::string other_id, other_scope, other_type, other_date;  // the record it collides with
};

// Records that may name one person under different or missing IDs: the
// same folded name, birth date and parents' names.
struct DuplicateGroup {
  std::string key;  // the folded name, birth date and parents' names
  struct Member {
    std::string record_id, scope, type, personal_id;
  };
  std::vector<Member> members;
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
  std::vector<Outcome> outcomes;  // one per input handled, in order
  // Inputs handled: all of them, unless ApplyOptions::yield stopped the
  // session first (the rest were not looked at).
  size_t taken = 0;
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
