// One side of a reconcile read from a store: the fixed-shape tree over a
// scope's records, and each record's detail re-derived from the store's
// own log (docs/reconcile.md). Also the file sources (a snapshot, a
// bundle) that are stores too.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "node/bundle.h"
#include "node/reconcile.h"
#include "node/reconcile/internal.h"
#include "node/store/recon_hash.h"
#include "node/store/record_codec.h"

namespace tuphap::node {
namespace {

using reconcile::kHex;
using reconcile::kMaxDepth;

Hash16 Truncate(const replication::Hash& h) {
  Hash16 out;
  std::copy_n(h.begin(), out.size(), out.begin());
  return out;
}

Result<std::pair<uint64_t, uint64_t>> PrefixBounds(std::string_view prefix) {
  if (prefix.size() > kMaxDepth)
    return Status::InvalidArgument("tree path longer than 16 digits").WithReason("E_PROTOCOL");
  uint64_t v = 0;
  for (char c : prefix) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (d < 0)
      return Status::InvalidArgument("tree path is not lower-case hex").WithReason("E_PROTOCOL");
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  if (prefix.empty()) return std::make_pair(uint64_t{0}, ~uint64_t{0});
  const unsigned shift = static_cast<unsigned>(64 - 4 * prefix.size());
  const uint64_t lo = shift == 64 ? 0 : v << shift;
  const uint64_t span = shift == 0 ? 0 : (shift == 64 ? ~uint64_t{0} : (uint64_t{1} << shift) - 1);
  return std::make_pair(lo, lo | span);
}

using ChangeKey = std::pair<crdt::ReplicaId, uint64_t>;

// The changes either side names for a record, as this side's log has them.
struct LoggedChanges {
  std::vector<crdt::Change> changes;  // opened, in HLC order (a causal order)
  std::map<ChangeKey, std::string> officers;
  std::vector<store::ChangeRef> lacking;  // named, but not in this log or not applied yet
};

// Opens from the log every change `own` (the row's history) or `other`
// (the other side's) names that this side holds and has applied.
Result<LoggedChanges> OpenNamedChanges(store::Store& store, const store::EnvelopeOpener& opener,
                                       const std::string& scope,
                                       const std::vector<store::ChangeRef>& own,
                                       const std::vector<store::ChangeRef>& other,
                                       const std::map<store::FeedKey, uint64_t>& applied) {
  std::map<ChangeKey, store::ChangeRef> refs;
  for (const auto& r : own) refs.emplace(std::make_pair(r.origin, r.seq), r);
  for (const auto& r : other) refs.emplace(std::make_pair(r.origin, r.seq), r);
  std::set<ChangeKey> mine;
  for (const auto& r : own) mine.emplace(r.origin, r.seq);
  LoggedChanges out;
  for (const auto& [key, ref] : refs) {
    const store::FeedKey feed{ref.origin, scope};
    auto at = applied.find(feed);
    std::optional<replication::Envelope> env;
    // The row's own history was materialised by definition.
    if (mine.count(key) > 0 || (at != applied.end() && ref.seq <= at->second)) {
      TUPHAP_ASSIGN_OR_RETURN(env, store.GetEnvelope(feed, ref.seq));
    }
    crdt::Change change;
    if (!env || !opener.Open(*env, &change).ok()) {
      out.lacking.push_back(ref);
      continue;
    }
    out.officers[key] = change.officer;
    out.changes.push_back(std::move(change));
  }
  std::sort(out.changes.begin(), out.changes.end(), [](const auto& a, const auto& b) {
    if (a.hlc != b.hlc) return a.hlc < b.hlc;
    return std::tie(a.origin, a.seq) < std::tie(b.origin, b.seq);
  });
  return out;
}

// The record as `changes` make it from nothing; `used`: how many touched it.
crdt::RecordState Rederive(const std::string& record_id, const std::vector<crdt::Change>& changes,
                           uint64_t* used) {
  crdt::RecordState derived;
  for (const auto& c : changes) {
    bool touched = false;
    c.ForEachOp([&](const std::string& id, const crdt::Op& op, const crdt::Dot& dot) {
      if (id != record_id) return;
      derived.ApplyOp(dot, c.hlc, op);
      touched = true;
    });
    *used += touched ? 1 : 0;
  }
  return derived;
}

// The fields where the stored record and the re-derived one differ.
std::vector<std::string> MismatchedFields(const crdt::RecordState& stored,
                                          const crdt::RecordState& derived) {
  std::set<std::string> names;
  for (const auto& [n, reg] : stored.fields()) names.insert(n);
  for (const auto& [n, reg] : derived.fields()) names.insert(n);
  std::vector<std::string> out;
  for (const auto& n : names) {
    const crdt::MvRegister* a = stored.Field(n);
    const crdt::MvRegister* b = derived.Field(n);
    const bool same = (a == nullptr || a->entries().empty())
                          ? (b == nullptr || b->entries().empty())
                          : (b != nullptr && *a == *b);
    if (!same) out.push_back(n);
  }
  return out;
}

// The stored fields with every frontier value, the display winner first,
// and the officer of each where the log names one.
std::vector<std::pair<std::string, std::vector<EntryView>>> FieldViews(
    const crdt::RecordState& stored, const std::map<ChangeKey, std::string>& officers) {
  std::vector<std::pair<std::string, std::vector<EntryView>>> out;
  for (const auto& [n, reg] : stored.fields()) {
    std::vector<EntryView> values;
    std::vector<crdt::RegisterEntry> entries(reg.entries().begin(), reg.entries().end());
    std::sort(entries.begin(), entries.end(),
              [](const auto& x, const auto& y) { return crdt::DisplayLess(y, x); });
    for (const auto& e : entries) {
      auto it = officers.find({e.dot.origin, e.dot.seq});
      values.push_back({e.value, e.dot.origin, e.dot.seq, e.hlc,
                        it == officers.end() ? std::string() : it->second});
    }
    out.emplace_back(n, std::move(values));
  }
  return out;
}

}  // namespace

// --- one store ---------------------------------------------------------------

namespace {

TreeSummary ToTree(const store::ReconSummary& s) { return TreeSummary{s.records, s.hash}; }

}  // namespace

StoreSource::StoreSource(store::Store& store, const store::EnvelopeOpener& opener, Shares shares,
                         bool verify)
    : store_(store), opener_(opener), shares_(std::move(shares)), verify_(verify) {}
StoreSource::StoreSource(std::unique_ptr<store::Store> owned, const store::EnvelopeOpener& opener,
                         Shares shares)
    : owned_(std::move(owned)), store_(*owned_), opener_(opener), shares_(std::move(shares)) {}
StoreSource::~StoreSource() = default;

Status StoreSource::CheckShared(const std::string& scope) const {
  if (!shares_(scope)) {
    return Status::PermissionDenied("commune " + scope + " is not shared with the asking node")
        .WithReason("E_NOT_AUTHORISED");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> StoreSource::VerifyRows(store::Store& store,
                                                         const std::string& scope) {
  std::vector<std::string> altered;
  std::vector<store::ReconLeaf> now;
  store::ReadSnapshot snapshot(store);  // rows and maintained leaves of one moment
  TUPHAP_RETURN_IF_ERROR(store.ForEachStoredState(scope, [&](const auto& st) {
    // The row's bytes as they are now, not the hash stored beside them:
    // an edit behind tuphap's back changes this leaf.
    const replication::Hash h = replication::Blake2b256(st.parsed ? st.state_bytes : st.row);
    if (!st.parsed || st.stored_hash != replication::AsBytes(h)) altered.emplace_back(st.record_id);
    now.push_back({store::ReconPlace(st.record_id), std::string(st.record_id), Truncate(h)});
  }));
  std::sort(now.begin(), now.end(), [](const auto& a, const auto& b) {
    return a.place != b.place ? a.place < b.place : a.record_id < b.record_id;
  });
  // Merged with the maintained leaves in the same order: a row whose leaf
  // differs, a row without a leaf, a leaf without its row (a deleted row).
  size_t i = 0;
  auto before = [](const store::ReconLeaf& a, const store::ReconLeaf& b) {
    return a.place != b.place ? a.place < b.place : a.record_id < b.record_id;
  };
  TUPHAP_RETURN_IF_ERROR(store.ForEachReconLeaf(scope, [&](const store::ReconLeaf& kept) {
    while (i < now.size() && before(now[i], kept)) altered.push_back(now[i++].record_id);
    if (i < now.size() && now[i].place == kept.place && now[i].record_id == kept.record_id) {
      if (now[i].leaf != kept.leaf) altered.push_back(kept.record_id);
      ++i;
    } else {
      altered.push_back(kept.record_id);
    }
  }));
  for (; i < now.size(); ++i) altered.push_back(now[i].record_id);
  std::sort(altered.begin(), altered.end());
  altered.erase(std::unique(altered.begin(), altered.end()), altered.end());
  return altered;
}

Result<StoreSource::Altered> StoreSource::VerifyAside(const std::string& path,
                                                      const std::vector<std::string>& scopes) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> own,
                          store::Store::Open(path, store::Database::OpenMode::kExisting));
  Altered out;
  for (const auto& scope : scopes) {
    TUPHAP_ASSIGN_OR_RETURN(out[scope], VerifyRows(*own, scope));
  }
  return out;
}

Result<std::vector<std::string>> StoreSource::Scopes() {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldScopes(store_));
  std::vector<std::string> out;
  for (auto& s : held)
    if (shares_(s) && opener_.CanRead(s)) out.push_back(std::move(s));
  return out;
}

Result<std::vector<std::string>> StoreSource::RootScopes(const std::vector<std::string>& scopes,
                                                         bool only) {
  std::set<std::string> all(scopes.begin(), scopes.end());
  if (!only) {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldScopes(store_));
    all.insert(held.begin(), held.end());
  }
  std::vector<std::string> out;
  for (const auto& s : all)
    if (shares_(s) && opener_.CanRead(s)) out.push_back(s);
  return out;
}

Result<std::map<std::string, TreeSummary>> StoreSource::Roots(
    const std::vector<std::string>& scopes, bool only) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> shared, RootScopes(scopes, only));
  std::map<std::string, TreeSummary> out;
  store::ReadSnapshot snapshot(store_);
  for (const auto& s : shared) {
    TUPHAP_ASSIGN_OR_RETURN(store::ReconSummary root, store_.ReconRoot(s));
    out[s] = ToTree(root);
  }
  return out;
}

Result<std::map<std::string, TreeSummary>> StoreSource::RootsWhile(
    const std::vector<std::string>& scopes, bool only, const std::function<void()>& meanwhile) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> shared, RootScopes(scopes, only));
  std::vector<std::string> missing;
  for (const auto& s : shared)
    if (verify_ && altered_.count(s) == 0) missing.push_back(s);
  const std::string& path = store_.path();
  if (missing.empty() || path.empty() || path == ":memory:") {
    meanwhile();  // nothing to check, or no second connection to check it on
    return Roots(scopes, only);
  }
  // The second thread reads through a Store of its own and touches nothing
  // of this source but what it returns: a Store is used from one thread.
  auto aside =
      std::async(std::launch::async, [path, missing] { return VerifyAside(path, missing); });
  meanwhile();
  Result<Altered> checked = aside.get();
  // Should the second connection fail, AlteredRows checks here.
  if (checked.ok()) {
    for (auto& [scope, ids] : *checked) altered_.emplace(scope, std::move(ids));
  }
  return Roots(scopes, only);
}

Result<std::vector<std::array<TreeSummary, 16>>> StoreSource::Children(
    const std::string& scope, const std::vector<std::string>& prefixes) {
  TUPHAP_RETURN_IF_ERROR(CheckShared(scope));
  std::vector<std::array<TreeSummary, 16>> out;
  store::ReadSnapshot snapshot(store_);
  for (const auto& p : prefixes) {
    if (p.size() >= kMaxDepth)
      return Status::InvalidArgument("no children below 16 digits").WithReason("E_PROTOCOL");
    TUPHAP_RETURN_IF_ERROR(PrefixBounds(p).status());  // lower-case hex
    TUPHAP_ASSIGN_OR_RETURN(store::ReconKids kids, store_.ReconChildren(scope, p));
    std::array<TreeSummary, 16> sums;
    for (int d = 0; d < 16; ++d) sums[d] = ToTree(kids[d]);
    out.push_back(sums);
  }
  return out;
}

Result<std::vector<std::vector<RecordLeaf>>> StoreSource::Leaves(
    const std::string& scope, const std::vector<std::string>& prefixes) {
  return Leaves(scope, prefixes, SIZE_MAX);
}

Result<std::vector<std::vector<RecordLeaf>>> StoreSource::Leaves(
    const std::string& scope, const std::vector<std::string>& prefixes, size_t max) {
  TUPHAP_RETURN_IF_ERROR(CheckShared(scope));
  std::vector<std::vector<RecordLeaf>> out;
  store::ReadSnapshot snapshot(store_);
  for (const auto& p : prefixes) {
    TUPHAP_ASSIGN_OR_RETURN(auto bounds, PrefixBounds(p));
    auto kept = store_.ReconLeaves(scope, bounds.first, bounds.second, max);
    if (!kept.ok() && kept.status().reason() == "E_TOO_LARGE") {
      return Status::InvalidArgument("asked to list more than " + std::to_string(max) +
                                     " records under one tree path")
          .WithReason("E_PROTOCOL");
    }
    TUPHAP_RETURN_IF_ERROR(kept.status());
    std::vector<RecordLeaf> leaves;
    for (const auto& l : *kept) {
      // The leaves of a differing node are checked against their rows as
      // they are now: a row edited or deleted behind tuphap's back answers
      // the leaf of its bytes (or zeros), so the record is drilled into.
      TUPHAP_ASSIGN_OR_RETURN(std::optional<store::Leaf16> now,
                              store_.ReconLeafNow(scope, l.record_id));
      leaves.push_back({l.record_id, now ? *now : Hash16{}});
    }
    out.push_back(std::move(leaves));
  }
  return out;
}

Result<std::vector<std::string>> StoreSource::AlteredRows(const std::string& scope) {
  TUPHAP_RETURN_IF_ERROR(CheckShared(scope));
  if (!verify_) return std::vector<std::string>{};
  auto it = altered_.find(scope);
  if (it == altered_.end()) {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> ids, VerifyRows(store_, scope));
    it = altered_.emplace(scope, std::move(ids)).first;
  }
  return it->second;
}

Result<std::vector<RecordDetail>> StoreSource::Records(const std::string& scope,
                                                       const std::vector<RecordAsk>& asks) {
  TUPHAP_RETURN_IF_ERROR(CheckShared(scope));
  // One SQLite snapshot: a node serving in another process may apply
  // changes meanwhile, and a record must be compared with the heads and
  // log of the same moment.
  store::ReadSnapshot snapshot(store_);
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, store_.Heads());
  std::map<store::FeedKey, uint64_t> applied;
  for (const auto& h : heads) applied[h.feed] = h.applied_seq;
  std::vector<RecordDetail> out;
  for (const auto& ask : asks) {
    TUPHAP_ASSIGN_OR_RETURN(RecordDetail d, Detail(scope, ask, applied));
    out.push_back(std::move(d));
  }
  return out;
}

Result<RecordDetail> StoreSource::Detail(const std::string& scope, const RecordAsk& ask,
                                         const std::map<store::FeedKey, uint64_t>& applied) {
  RecordDetail d;
  d.record_id = ask.record_id;
  crdt::RecordState stored;
  auto rec = store_.GetRecord(ask.record_id, scope);
  if (!rec.ok()) {
    if (rec.status().reason() != "E_STORE_CORRUPT") return rec.status();
    d.present = true;  // a row that no longer decodes
    d.row_intact = false;
  } else if (*rec) {
    d.present = true;
    stored = (*rec)->state;
    d.history = (*rec)->history;
    d.row_intact = store::RecordStateHash(ask.record_id, scope, stored) == (*rec)->state_hash;
  }
  TUPHAP_ASSIGN_OR_RETURN(LoggedChanges logged, OpenNamedChanges(store_, opener_, scope, d.history,
                                                                 ask.other_history, applied));
  d.lacking = std::move(logged.lacking);
  const crdt::RecordState derived = Rederive(ask.record_id, logged.changes, &d.derived_from);
  d.mismatched_fields = MismatchedFields(stored, derived);
  d.log_matches = d.mismatched_fields.empty();
  d.fields = FieldViews(stored, logged.officers);
  return d;
}

Result<std::vector<std::string>> HeldScopes(store::Store& store) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, store.Heads());
  std::set<std::string> scopes;
  for (const auto& h : heads) scopes.insert(h.feed.scope);
  return std::vector<std::string>(scopes.begin(), scopes.end());
}

// --- from a file -----------------------------------------------------------------

Result<std::unique_ptr<StoreSource>> OpenFileSource(Node& node, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  char magic[16] = {};
  in.read(magic, sizeof magic);
  const bool snapshot =
      in.gcount() == 16 && std::string_view(magic, 16) == std::string_view("SQLite format 3\0", 16);
  std::unique_ptr<store::Store> st;
  if (snapshot) {
    auto opened = store::Store::Open(path, store::Database::OpenMode::kExisting);
    if (!opened.ok()) return opened.status().Annotate("snapshot " + path);
    st = std::move(*opened);
  } else {
    // A bundle: checked whole, then applied into a store in memory (its
    // records are readable: never on disk, nothing left on Ctrl-C).
    TUPHAP_ASSIGN_OR_RETURN(st, store::Store::Open(":memory:", store::Database::OpenMode::kCreate));
    store::Store& into = *st;
    TUPHAP_RETURN_IF_ERROR(ReadBundle(node, path, [&](std::vector<store::Store::Incoming>& batch) {
                             return into.Apply(batch, node.opener()).status();
                           }).status());
  }
  const store::EnvelopeOpener* opener = &node.opener();
  return std::make_unique<StoreSource>(std::move(st), node.opener(),
                                       [opener](std::string_view s) { return opener->CanRead(s); });
}

}  // namespace tuphap::node
