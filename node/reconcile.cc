#include "node/reconcile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <set>

#include "node/bundle.h"
#include "node/domain/reference_data.h"
#include "node/node.h"
#include "node/store/record_codec.h"
#include "replication/change_codec.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

using replication::MsgpackReader;
using replication::MsgpackWriter;

// A subtree this small is compared record by record.
constexpr uint64_t kLeafMax = 64;
constexpr size_t kMaxDepth = 16;  // hex digits of a 64-bit place
constexpr size_t kPrefixesPerQuery = 256;
constexpr size_t kRecordsPerQuery = 64;
constexpr size_t kMaxRefsPerQuery = 16384;  // changes a records query may name
constexpr uint32_t kMaxList = 1 << 20;      // any list decoded from a peer

Hash16 Truncate(const replication::Hash& h) {
  Hash16 out;
  std::copy_n(h.begin(), out.size(), out.begin());
  return out;
}

// A record's place in the tree: the first 8 bytes of a hash of its id, so
// the tree's shape depends on nothing but the ids.
uint64_t PlaceOf(std::string_view record_id) {
  const replication::Hash h = replication::Blake2b256(record_id);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
  return v;
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

constexpr char kHex[] = "0123456789abcdef";

bool SameValues(const std::vector<EntryView>& a, const std::vector<EntryView>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].origin != b[i].origin || a[i].seq != b[i].seq || a[i].hlc != b[i].hlc ||
        !(a[i].value == b[i].value))
      return false;
  }
  return true;
}

const std::vector<EntryView>* FieldOf(const RecordDetail& d, std::string_view name) {
  for (const auto& [n, values] : d.fields)
    if (n == name) return &values;
  return nullptr;
}

std::string ShortRef(const store::ChangeRef& r) {
  return NodeIdText(r.origin.bytes).substr(0, 9) + "#" + std::to_string(r.seq);
}

std::string RefList(const std::vector<store::ChangeRef>& refs) {
  std::string out;
  for (size_t i = 0; i < refs.size() && i < 5; ++i) out += (i ? ", " : "") + ShortRef(refs[i]);
  if (refs.size() > 5) out += " and " + std::to_string(refs.size() - 5) + " more";
  return out;
}

// --- wire encoding of the four queries --------------------------------------

void WriteRefs(MsgpackWriter& w, const std::vector<store::ChangeRef>& refs) {
  w.ArrayHeader(static_cast<uint32_t>(refs.size()));
  for (const auto& r : refs) {
    w.ArrayHeader(3);
    w.Bin(r.origin.bytes);
    w.Uint(r.seq);
    w.Uint(r.hlc.raw());
  }
}

std::vector<store::ChangeRef> ReadRefs(MsgpackReader& r) {
  std::vector<store::ChangeRef> out;
  const uint32_t n = r.ReadArrayHeader(kMaxList);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    store::ChangeRef c;
    r.ExpectArray(3);
    r.ReadBinFixed(c.origin.bytes);
    c.seq = r.ReadUint();
    c.hlc = crdt::Hlc::FromRaw(r.ReadUint());
    out.push_back(c);
  }
  return out;
}

void WriteStrings(MsgpackWriter& w, const std::vector<std::string>& v) {
  w.ArrayHeader(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) w.Str(s);
}

std::vector<std::string> ReadStrings(MsgpackReader& r, size_t max_len) {
  std::vector<std::string> out;
  const uint32_t n = r.ReadArrayHeader(kMaxList);
  for (uint32_t i = 0; i < n && r.ok(); ++i) out.emplace_back(r.ReadStr(max_len));
  return out;
}

void WriteSummary(MsgpackWriter& w, const TreeSummary& s) {
  w.ArrayHeader(2);
  w.Uint(s.records);
  w.Bin(std::string_view(reinterpret_cast<const char*>(s.hash.data()), s.hash.size()));
}

TreeSummary ReadSummary(MsgpackReader& r) {
  TreeSummary s;
  r.ExpectArray(2);
  s.records = r.ReadUint();
  r.ReadBinFixed(s.hash);
  return s;
}

void WriteDetail(MsgpackWriter& w, const RecordDetail& d) {
  w.ArrayHeader(9);
  w.Str(d.record_id);
  w.Bool(d.present);
  w.Bool(d.row_intact);
  w.Bool(d.log_matches);
  WriteStrings(w, d.mismatched_fields);
  w.ArrayHeader(static_cast<uint32_t>(d.fields.size()));
  for (const auto& [name, values] : d.fields) {
    w.ArrayHeader(2);
    w.Str(name);
    w.ArrayHeader(static_cast<uint32_t>(values.size()));
    for (const auto& v : values) {
      w.ArrayHeader(5);
      replication::WriteValue(w, v.value);
      w.Bin(v.origin.bytes);
      w.Uint(v.seq);
      w.Uint(v.hlc.raw());
      w.Str(v.officer);
    }
  }
  WriteRefs(w, d.history);
  WriteRefs(w, d.lacking);
  w.Uint(d.derived_from);
}

RecordDetail ReadDetail(MsgpackReader& r) {
  const replication::Limits& lim = replication::kDefaultLimits;
  RecordDetail d;
  r.ExpectArray(9);
  d.record_id = std::string(r.ReadStr(lim.max_record_id_bytes));
  d.present = r.ReadBool();
  d.row_intact = r.ReadBool();
  d.log_matches = r.ReadBool();
  d.mismatched_fields = ReadStrings(r, lim.max_field_bytes);
  const uint32_t nf = r.ReadArrayHeader(lim.max_ops_per_change);
  for (uint32_t i = 0; i < nf && r.ok(); ++i) {
    r.ExpectArray(2);
    std::string name(r.ReadStr(lim.max_field_bytes));
    std::vector<EntryView> values;
    const uint32_t nv = r.ReadArrayHeader(lim.max_pred_per_op * 4);
    for (uint32_t j = 0; j < nv && r.ok(); ++j) {
      EntryView v;
      r.ExpectArray(5);
      v.value = replication::ReadValue(r, lim.max_value_bytes);
      r.ReadBinFixed(v.origin.bytes);
      v.seq = r.ReadUint();
      v.hlc = crdt::Hlc::FromRaw(r.ReadUint());
      v.officer = std::string(r.ReadStr(lim.max_officer_bytes));
      values.push_back(std::move(v));
    }
    d.fields.emplace_back(std::move(name), std::move(values));
  }
  d.history = ReadRefs(r);
  d.lacking = ReadRefs(r);
  d.derived_from = r.ReadUint();
  return d;
}

Status Malformed(const MsgpackReader& r, const std::string& what) {
  return Status::InvalidArgument("malformed reconcile " + what + ": " + r.status().message())
      .WithReason("E_PROTOCOL");
}

// A query body: the asking run, then the arguments.
struct QueryArgs {
  std::string run;
  std::string scope;
  std::vector<std::string> list;  // scopes or prefixes
  std::vector<RecordAsk> asks;
};

std::string EncodeQuery(const std::string& run, const std::string& scope,
                        const std::vector<std::string>& list, const std::vector<RecordAsk>* asks) {
  MsgpackWriter w(256);
  w.ArrayHeader(3);
  w.Str(run);
  w.Str(scope);
  if (asks == nullptr) {
    WriteStrings(w, list);
  } else {
    w.ArrayHeader(static_cast<uint32_t>(asks->size()));
    for (const auto& a : *asks) {
      w.ArrayHeader(2);
      w.Str(a.record_id);
      WriteRefs(w, a.other_history);
    }
  }
  return w.Take();
}

Result<QueryArgs> DecodeQuery(std::string_view body, bool asks) {
  const replication::Limits& lim = replication::kDefaultLimits;
  MsgpackReader r(body);
  QueryArgs q;
  r.ExpectArray(3);
  q.run = std::string(r.ReadStr(64));
  q.scope = std::string(r.ReadStr(lim.max_scope_bytes));
  if (!asks) {
    q.list = ReadStrings(r, kMaxDepth);
  } else {
    const uint32_t n = r.ReadArrayHeader(static_cast<uint32_t>(kRecordsPerQuery * 4));
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      RecordAsk a;
      r.ExpectArray(2);
      a.record_id = std::string(r.ReadStr(lim.max_record_id_bytes));
      a.other_history = ReadRefs(r);
      q.asks.push_back(std::move(a));
    }
  }
  r.ExpectEnd();
  if (!r.ok()) return Malformed(r, "query");
  return q;
}

}  // namespace

// Reads in one SQLite snapshot: a node serving in another process may apply
// changes meanwhile, and a record must be compared with the heads and log
// of the same moment. Nested use is a no-op.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(store::Database& db) : db_(db), began_(db.Exec("BEGIN").ok()) {}
  ~ReadSnapshot() {
    if (began_) (void)db_.Exec("ROLLBACK");
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  store::Database& db_;
  bool began_;
};

// --- one store ---------------------------------------------------------------

struct StoreSource::Tree {
  struct Entry {
    uint64_t place;
    std::string id;
    Hash16 hash;
  };
  std::vector<Entry> entries;  // by (place, id)
  std::vector<std::string> altered;

  std::pair<size_t, size_t> Range(uint64_t lo, uint64_t hi) const {
    auto first = std::lower_bound(entries.begin(), entries.end(), lo,
                                  [](const Entry& e, uint64_t v) { return e.place < v; });
    auto last = std::upper_bound(first, entries.end(), hi,
                                 [](uint64_t v, const Entry& e) { return v < e.place; });
    return {static_cast<size_t>(first - entries.begin()),
            static_cast<size_t>(last - entries.begin())};
  }
  TreeSummary Summary(size_t a, size_t b) const {
    replication::Hasher h;
    for (size_t i = a; i < b; ++i)
      h.Update(std::string_view(reinterpret_cast<const char*>(entries[i].hash.data()), 16));
    return TreeSummary{b - a, Truncate(h.Final())};
  }
};

StoreSource::StoreSource(store::Store& store, const store::EnvelopeOpener& opener, Shares shares)
    : store_(store), opener_(opener), shares_(std::move(shares)) {}
StoreSource::StoreSource(std::unique_ptr<store::Store> owned, const store::EnvelopeOpener& opener,
                         Shares shares)
    : owned_(std::move(owned)), store_(*owned_), opener_(opener), shares_(std::move(shares)) {}
StoreSource::~StoreSource() = default;

Result<const StoreSource::Tree*> StoreSource::TreeOf(const std::string& scope) {
  if (!shares_(scope)) {
    return Status::PermissionDenied("commune " + scope + " is not shared with the asking node")
        .WithReason("E_NOT_AUTHORISED");
  }
  auto it = trees_.find(scope);
  if (it != trees_.end()) return it->second.get();
  auto tree = std::make_unique<Tree>();
  ReadSnapshot snapshot(store_.db());
  TUPHAP_RETURN_IF_ERROR(store_.ForEachStoredState(scope, [&](const auto& st) {
    // The leaf hashes the row's state bytes as they are now, not the hash
    // stored beside them: an edit behind tuphap's back changes the leaf.
    const replication::Hash h = replication::Blake2b256(st.parsed ? st.state_bytes : st.row);
    if (!st.parsed || st.stored_hash != replication::AsBytes(h))
      tree->altered.emplace_back(st.record_id);
    tree->entries.push_back({PlaceOf(st.record_id), std::string(st.record_id), Truncate(h)});
  }));
  std::sort(tree->entries.begin(), tree->entries.end(), [](const auto& a, const auto& b) {
    return a.place != b.place ? a.place < b.place : a.id < b.id;
  });
  return (trees_[scope] = std::move(tree)).get();
}

Result<std::vector<std::string>> StoreSource::Scopes() {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldScopes(store_));
  std::vector<std::string> out;
  for (auto& s : held)
    if (shares_(s) && opener_.CanRead(s)) out.push_back(std::move(s));
  return out;
}

Result<std::map<std::string, TreeSummary>> StoreSource::Roots(
    const std::vector<std::string>& scopes, bool only) {
  std::set<std::string> all(scopes.begin(), scopes.end());
  if (!only) {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldScopes(store_));
    all.insert(held.begin(), held.end());
  }
  std::map<std::string, TreeSummary> out;
  for (const auto& s : all) {
    if (!shares_(s) || !opener_.CanRead(s)) continue;
    TUPHAP_ASSIGN_OR_RETURN(const Tree* t, TreeOf(s));
    out[s] = t->Summary(0, t->entries.size());
  }
  return out;
}

Result<std::vector<std::array<TreeSummary, 16>>> StoreSource::Children(
    const std::string& scope, const std::vector<std::string>& prefixes) {
  TUPHAP_ASSIGN_OR_RETURN(const Tree* t, TreeOf(scope));
  std::vector<std::array<TreeSummary, 16>> out;
  for (const auto& p : prefixes) {
    if (p.size() >= kMaxDepth)
      return Status::InvalidArgument("no children below 16 digits").WithReason("E_PROTOCOL");
    std::array<TreeSummary, 16> kids;
    for (int d = 0; d < 16; ++d) {
      TUPHAP_ASSIGN_OR_RETURN(auto bounds, PrefixBounds(p + kHex[d]));
      const auto [a, b] = t->Range(bounds.first, bounds.second);
      kids[d] = t->Summary(a, b);
    }
    out.push_back(kids);
  }
  return out;
}

Result<std::vector<std::vector<RecordLeaf>>> StoreSource::Leaves(
    const std::string& scope, const std::vector<std::string>& prefixes) {
  return Leaves(scope, prefixes, SIZE_MAX);
}

Result<std::vector<std::vector<RecordLeaf>>> StoreSource::Leaves(
    const std::string& scope, const std::vector<std::string>& prefixes, size_t max) {
  TUPHAP_ASSIGN_OR_RETURN(const Tree* t, TreeOf(scope));
  std::vector<std::vector<RecordLeaf>> out;
  for (const auto& p : prefixes) {
    TUPHAP_ASSIGN_OR_RETURN(auto bounds, PrefixBounds(p));
    const auto [a, b] = t->Range(bounds.first, bounds.second);
    if (b - a > max) {
      return Status::InvalidArgument("asked to list " + std::to_string(b - a) +
                                     " records under one tree path (at most " +
                                     std::to_string(max) + ")")
          .WithReason("E_PROTOCOL");
    }
    std::vector<RecordLeaf> leaves;
    for (size_t i = a; i < b; ++i) leaves.push_back({t->entries[i].id, t->entries[i].hash});
    out.push_back(std::move(leaves));
  }
  return out;
}

Result<std::vector<std::string>> StoreSource::AlteredRows(const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(const Tree* t, TreeOf(scope));
  return t->altered;
}

Result<std::vector<RecordDetail>> StoreSource::Records(const std::string& scope,
                                                       const std::vector<RecordAsk>& asks) {
  TUPHAP_RETURN_IF_ERROR(TreeOf(scope).status());  // the share check
  ReadSnapshot snapshot(store_.db());
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
  // Every change either side names, re-applied from this side's log in
  // time order (an HLC order is a causal order).
  std::map<std::pair<crdt::ReplicaId, uint64_t>, store::ChangeRef> refs;
  for (const auto& r : d.history) refs.emplace(std::make_pair(r.origin, r.seq), r);
  for (const auto& r : ask.other_history) refs.emplace(std::make_pair(r.origin, r.seq), r);
  struct Applied {
    crdt::Hlc hlc;
    crdt::Change change;
  };
  std::vector<Applied> changes;
  std::map<std::pair<crdt::ReplicaId, uint64_t>, std::string> officers;
  std::set<std::pair<crdt::ReplicaId, uint64_t>> own;
  for (const auto& r : d.history) own.emplace(r.origin, r.seq);
  for (const auto& [key, ref] : refs) {
    const store::FeedKey feed{ref.origin, scope};
    auto at = applied.find(feed);
    std::optional<replication::Envelope> env;
    // The row's own history was materialised by definition.
    if (own.count(key) > 0 || (at != applied.end() && ref.seq <= at->second)) {
      TUPHAP_ASSIGN_OR_RETURN(env, store_.GetEnvelope(feed, ref.seq));
    }
    crdt::Change change;
    if (!env || !opener_.Open(*env, &change).ok()) {
      d.lacking.push_back(ref);
      continue;
    }
    officers[key] = change.officer;
    changes.push_back({change.hlc, std::move(change)});
  }
  std::sort(changes.begin(), changes.end(), [](const Applied& a, const Applied& b) {
    if (a.hlc != b.hlc) return a.hlc < b.hlc;
    return std::tie(a.change.origin, a.change.seq) < std::tie(b.change.origin, b.change.seq);
  });
  crdt::RecordState derived;
  for (const auto& c : changes) {
    bool touched = false;
    c.change.ForEachOp([&](const std::string& id, const crdt::Op& op, const crdt::Dot& dot) {
      if (id != ask.record_id) return;
      derived.ApplyOp(dot, c.hlc, op);
      touched = true;
    });
    d.derived_from += touched ? 1 : 0;
  }
  // Stored against re-derived, field by field.
  std::set<std::string> names;
  for (const auto& [n, reg] : stored.fields()) names.insert(n);
  for (const auto& [n, reg] : derived.fields()) names.insert(n);
  for (const auto& n : names) {
    const crdt::MvRegister* a = stored.Field(n);
    const crdt::MvRegister* b = derived.Field(n);
    const bool same = (a == nullptr || a->entries().empty())
                          ? (b == nullptr || b->entries().empty())
                          : (b != nullptr && *a == *b);
    if (!same) d.mismatched_fields.push_back(n);
  }
  d.log_matches = d.mismatched_fields.empty();
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
    d.fields.emplace_back(n, std::move(values));
  }
  return d;
}

Result<std::vector<std::string>> HeldScopes(store::Store& store) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, store.Heads());
  std::set<std::string> scopes;
  for (const auto& h : heads) scopes.insert(h.feed.scope);
  return std::vector<std::string>(scopes.begin(), scopes.end());
}

// --- over the wire -------------------------------------------------------------

namespace {

class Remote final : public ReconcileSource {
 public:
  explicit Remote(QueryChannel& ch) : ch_(ch) {
    std::random_device rd;
    for (int i = 0; i < 16; ++i) run_ += kHex[rd() % 16];
  }

  Result<std::map<std::string, TreeSummary>> Roots(const std::vector<std::string>& scopes,
                                                   bool only) override {
    TUPHAP_ASSIGN_OR_RETURN(
        std::string a,
        ch_.Ask("recon.roots", EncodeQuery(run_, only ? "only" : "", scopes, nullptr)));
    MsgpackReader r(a);
    std::map<std::string, TreeSummary> out;
    const uint32_t n = r.ReadArrayHeader(kMaxList);
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      r.ExpectArray(2);
      std::string s(r.ReadStr(replication::kDefaultLimits.max_scope_bytes));
      out[s] = ReadSummary(r);
    }
    r.ExpectEnd();
    if (!r.ok()) return Malformed(r, "answer");
    return out;
  }

  Result<std::vector<std::array<TreeSummary, 16>>> Children(
      const std::string& scope, const std::vector<std::string>& prefixes) override {
    return PerPath<std::array<TreeSummary, 16>>("recon.children", scope, prefixes,
                                                [](MsgpackReader& r) {
                                                  std::array<TreeSummary, 16> kids;
                                                  r.ExpectArray(16);
                                                  for (auto& k : kids) k = ReadSummary(r);
                                                  return kids;
                                                });
  }

  Result<std::vector<std::vector<RecordLeaf>>> Leaves(
      const std::string& scope, const std::vector<std::string>& prefixes) override {
    return PerPath<std::vector<RecordLeaf>>("recon.leaves", scope, prefixes, [](MsgpackReader& r) {
      std::vector<RecordLeaf> leaves;
      const uint32_t m = r.ReadArrayHeader(kMaxList);
      for (uint32_t j = 0; j < m && r.ok(); ++j) {
        RecordLeaf l;
        r.ExpectArray(2);
        l.record_id = std::string(r.ReadStr(replication::kDefaultLimits.max_record_id_bytes));
        r.ReadBinFixed(l.hash);
        leaves.push_back(std::move(l));
      }
      return leaves;
    });
  }

  Result<std::vector<RecordDetail>> Records(const std::string& scope,
                                            const std::vector<RecordAsk>& asks) override {
    TUPHAP_ASSIGN_OR_RETURN(std::string a,
                            ch_.Ask("recon.records", EncodeQuery(run_, scope, {}, &asks)));
    MsgpackReader r(a);
    std::vector<RecordDetail> out;
    const uint32_t n = r.ReadArrayHeader(kMaxList);
    if (r.ok() && n != asks.size()) r.Fail("one answer per record");
    for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(ReadDetail(r));
    r.ExpectEnd();
    if (!r.ok()) return Malformed(r, "answer");
    return out;
  }

 private:
  // Asks `what` for the paths, at most kPrefixesPerQuery a query; `read`
  // decodes one path's answer.
  template <class T, class Read>
  Result<std::vector<T>> PerPath(const char* what, const std::string& scope,
                                 const std::vector<std::string>& prefixes, Read read) {
    std::vector<T> out;
    for (size_t at = 0; at < prefixes.size(); at += kPrefixesPerQuery) {
      const auto first = prefixes.begin() + static_cast<std::ptrdiff_t>(at);
      const std::vector<std::string> part(
          first,
          first + static_cast<std::ptrdiff_t>(std::min(prefixes.size() - at, kPrefixesPerQuery)));
      TUPHAP_ASSIGN_OR_RETURN(std::string a,
                              ch_.Ask(what, EncodeQuery(run_, scope, part, nullptr)));
      MsgpackReader r(a);
      const uint32_t n = r.ReadArrayHeader(kMaxList);
      if (r.ok() && n != part.size()) r.Fail("one answer per path");
      for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(read(r));
      r.ExpectEnd();
      if (!r.ok()) return Malformed(r, "answer");
    }
    return out;
  }

  QueryChannel& ch_;
  std::string run_;
};

}  // namespace

std::unique_ptr<ReconcileSource> RemoteSource(QueryChannel& channel) {
  return std::make_unique<Remote>(channel);
}

ReconcileResponder::ReconcileResponder(Node& node) : node_(node) {}
ReconcileResponder::~ReconcileResponder() = default;

namespace {

// Whether `peer` may itself read `scope`: a hub, its province's communes;
// a commune node, its commune; both, their province's public feed. Sync
// may forward a scope it cannot read (encrypted); reconcile answers with
// decrypted values, so it answers only this.
bool PeerMayRead(const replication::Certificate& peer, std::string_view scope) {
  if (replication::IsPublicScope(scope)) return scope == replication::PublicScope(peer.province);
  if (peer.role == replication::NodeRole::kHub) {
    const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(scope);
    return c != nullptr && c->province_code == peer.province;
  }
  return scope == peer.commune;
}

// Paths of one query: none twice, none inside another (so one query
// covers each record at most once).
Status CheckPaths(std::vector<std::string> paths) {
  if (paths.size() > kPrefixesPerQuery)
    return Status::InvalidArgument("more than 256 tree paths in one query")
        .WithReason("E_PROTOCOL");
  std::sort(paths.begin(), paths.end());
  for (size_t i = 1; i < paths.size(); ++i) {
    if (paths[i].rfind(paths[i - 1], 0) == 0)
      return Status::InvalidArgument("tree path '" + paths[i - 1] + "' given twice or around '" +
                                     paths[i] + "'")
          .WithReason("E_PROTOCOL");
  }
  return Status::Ok();
}

}  // namespace

void ReconcileResponder::Expire(int64_t now_ms, int64_t idle_ms) {
  if (source_ && now_ms - last_ms_ > idle_ms) {
    source_.reset();
    run_.clear();
  }
}

Result<std::string> ReconcileResponder::Answer(const replication::Certificate& peer,
                                               const std::string& what, std::string_view body,
                                               int64_t now_ms) {
  const bool records = what == "recon.records";
  if (!records && what != "recon.roots" && what != "recon.children" && what != "recon.leaves")
    return Status::InvalidArgument("unknown query " + what).WithReason("E_UNKNOWN_MESSAGE");
  TUPHAP_ASSIGN_OR_RETURN(QueryArgs q, DecodeQuery(body, records));
  // One cached source per asking run and peer: a new run sees the store anew.
  const std::string run =
      q.run + '\0' +
      std::string(reinterpret_cast<const char*>(peer.sign_key.data()), peer.sign_key.size());
  last_ms_ = now_ms;
  if (run != run_ || !source_) {
    run_ = run;
    Node* n = &node_;
    source_ = std::make_unique<StoreSource>(
        node_.store(), node_.opener(), [n, peer](std::string_view scope) {
          return PeerMayRead(peer, scope) && n->Offers(peer, scope) && n->opener().CanRead(scope);
        });
  }
  MsgpackWriter w(1024);
  if (what == "recon.roots") {
    TUPHAP_ASSIGN_OR_RETURN(auto roots, source_->Roots(q.list, q.scope == "only"));
    w.ArrayHeader(static_cast<uint32_t>(roots.size()));
    for (const auto& [scope, sum] : roots) {
      w.ArrayHeader(2);
      w.Str(scope);
      WriteSummary(w, sum);
    }
  } else if (what == "recon.children") {
    TUPHAP_RETURN_IF_ERROR(CheckPaths(q.list));
    TUPHAP_ASSIGN_OR_RETURN(auto kids, source_->Children(q.scope, q.list));
    w.ArrayHeader(static_cast<uint32_t>(kids.size()));
    for (const auto& k : kids) {
      w.ArrayHeader(16);
      for (const auto& sum : k) WriteSummary(w, sum);
    }
  } else if (what == "recon.leaves") {
    TUPHAP_RETURN_IF_ERROR(CheckPaths(q.list));
    // A subtree too big to list is refused rather than copied.
    TUPHAP_ASSIGN_OR_RETURN(auto leaves, source_->Leaves(q.scope, q.list, kLeafMax * 4));
    w.ArrayHeader(static_cast<uint32_t>(leaves.size()));
    for (const auto& list : leaves) {
      w.ArrayHeader(static_cast<uint32_t>(list.size()));
      for (const auto& l : list) {
        w.ArrayHeader(2);
        w.Str(l.record_id);
        w.Bin(std::string_view(reinterpret_cast<const char*>(l.hash.data()), l.hash.size()));
      }
    }
  } else {
    if (q.asks.size() > kRecordsPerQuery)
      return Status::InvalidArgument("more than 64 records in one query").WithReason("E_PROTOCOL");
    size_t refs = 0;
    for (const auto& a : q.asks) refs += a.other_history.size();
    if (refs > kMaxRefsPerQuery)
      return Status::InvalidArgument("more than " + std::to_string(kMaxRefsPerQuery) +
                                     " changes named in one query")
          .WithReason("E_PROTOCOL");
    TUPHAP_ASSIGN_OR_RETURN(auto details, source_->Records(q.scope, q.asks));
    w.ArrayHeader(static_cast<uint32_t>(details.size()));
    for (const auto& d : details) WriteDetail(w, d);
  }
  if (w.bytes().size() + 64 > replication::kMaxFrameBytes)
    return Status::ResourceExhausted("the answer to " + what + " would exceed one frame")
        .WithReason("E_TOO_LARGE");
  return w.Take();
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

// --- the walk ---------------------------------------------------------------------

namespace {

// `r`, with its error (if any) prefixed by where it came from.
template <class T>
Result<T> From(Result<T> r, const std::string& where) {
  if (!r.ok()) return r.status().Annotate(where);
  return r;
}

// Whether every one of `values` was written by a change in `lacking`.
bool FromLacking(const std::vector<EntryView>& values,
                 const std::vector<store::ChangeRef>& lacking) {
  return !values.empty() && std::all_of(values.begin(), values.end(), [&](const EntryView& v) {
    return std::any_of(lacking.begin(), lacking.end(), [&](const store::ChangeRef& r) {
      return r.origin == v.origin && r.seq == v.seq;
    });
  });
}

std::string TypeOf(const RecordDetail& d) {
  const std::vector<EntryView>* t = FieldOf(d, crdt::kTypeField);
  return t != nullptr && !t->empty() ? t->front().value.ToDisplay() : std::string();
}

// What a side's own check found, as a sentence (empty when nothing).
std::string TamperText(const RecordDetail& d, const char* side) {
  std::string what;
  if (!d.log_matches) {
    std::string fields;
    for (size_t i = 0; i < d.mismatched_fields.size() && i < 4; ++i)
      fields += (i ? ", " : "") + d.mismatched_fields[i];
    if (d.mismatched_fields.size() > 4) fields += ", …";
    what = std::string(side) + " stored record differs from what " + side +
           " own log gives (re-derived from " + std::to_string(d.derived_from) + " changes) in " +
           (d.present ? fields : "its existence");
  }
  if (!d.row_intact) {
    what += std::string(what.empty() ? "" : "; ") + side +
            " row no longer matches the hash stored beside it";
  }
  return what.empty() ? what : what + ": changed outside tuphap";
}

// Why a field differs.
void Explain(const RecordDetail& o, const RecordDetail& t, const std::string& field,
             const AdjudicatedFn& adjudicated, Difference* diff) {
  auto mismatched = [&](const RecordDetail& d) {
    return field == "*" ? !d.log_matches
                        : std::find(d.mismatched_fields.begin(), d.mismatched_fields.end(),
                                    field) != d.mismatched_fields.end();
  };
  if (mismatched(o) || mismatched(t)) {
    diff->reason = "tampered";
    diff->detail = mismatched(o) ? TamperText(o, "our") : TamperText(t, "their");
    return;
  }
  if (o.lacking.empty() && t.lacking.empty()) {
    diff->reason = "diverged";
    diff->detail = "both hold the same changes yet store different values";
    return;
  }
  // Concurrent edits: each side's value comes from a change the other lacks,
  // or a side holds several values and the other nothing newer that it lacks
  // (a resolution it has not received would close it: missing changes).
  const bool concurrent =
      (FromLacking(diff->ours, t.lacking) && FromLacking(diff->theirs, o.lacking)) ||
      (diff->ours.size() > 1 && !FromLacking(diff->theirs, o.lacking)) ||
      (diff->theirs.size() > 1 && !FromLacking(diff->ours, t.lacking));
  const std::string type = TypeOf(o.present ? o : t);
  const bool waits = !adjudicated || field == "*" || adjudicated(type, field);
  diff->reason = concurrent && waits ? "conflict" : "missing_changes";
  std::string d;
  if (!o.lacking.empty())
    d += "ours lacks " + std::to_string(o.lacking.size()) + " change(s): " + RefList(o.lacking);
  if (!t.lacking.empty())
    d += std::string(d.empty() ? "" : "; ") + "theirs lacks " + std::to_string(t.lacking.size()) +
         " change(s): " + RefList(t.lacking);
  if (concurrent)
    d = (waits ? "concurrent edits, a conflict for a person once both are known; "
               : "concurrent edits of a field where the latest wins; ") +
        d;
  diff->detail = d;
}

void Compare(const std::string& scope, const RecordDetail& o, const RecordDetail& t,
             const AdjudicatedFn& adjudicated, std::vector<Difference>* out) {
  auto base = [&](const std::string& field) {
    Difference d;
    d.scope = scope;
    d.record_id = o.record_id;
    d.field = field;
    d.ours_present = o.present;
    d.theirs_present = t.present;
    return d;
  };
  const size_t before = out->size();
  if (o.present != t.present) {
    Difference d = base("*");
    Explain(o, t, "*", adjudicated, &d);
    out->push_back(std::move(d));
  } else if (o.present) {
    std::set<std::string> names;
    for (const auto& f : o.fields) names.insert(f.first);
    for (const auto& f : t.fields) names.insert(f.first);
    static const std::vector<EntryView> kNone;
    for (const auto& n : names) {
      const std::vector<EntryView>* a = FieldOf(o, n);
      const std::vector<EntryView>* b = FieldOf(t, n);
      if (SameValues(a ? *a : kNone, b ? *b : kNone)) continue;
      Difference d = base(n);
      d.ours = a ? *a : kNone;
      d.theirs = b ? *b : kNone;
      Explain(o, t, n, adjudicated, &d);
      out->push_back(std::move(d));
    }
  }
  // A row that no longer matches its hash, or differs from its log where
  // the values shown agree: its own line.
  const bool reported = std::any_of(out->begin() + static_cast<std::ptrdiff_t>(before), out->end(),
                                    [](const Difference& d) { return d.reason == "tampered"; });
  for (const auto* side : {&o, &t}) {
    if (reported || (side->row_intact && side->log_matches)) continue;
    Difference d = base("*");
    d.reason = "tampered";
    d.detail = TamperText(*side, side == &o ? "our" : "their");
    out->push_back(std::move(d));
    break;
  }
}

}  // namespace

Result<ReconcileReport> Reconcile(StoreSource& ours, ReconcileSource& theirs,
                                  const std::vector<std::string>& scopes,
                                  const AdjudicatedFn& adjudicated) {
  ReconcileReport report;
  // Named scopes only; else every scope we hold, each asked of the other
  // side by name (so one it lacks shows as empty there, not as unshared),
  // and then the ones only it holds. Each side builds its trees at the
  // first ask: ours while the other side builds its own.
  const bool named = !scopes.empty();
  std::vector<std::string> asked = scopes;
  if (!named) {
    TUPHAP_ASSIGN_OR_RETURN(asked, ours.Scopes());
  }
  auto ours_roots = std::async(std::launch::async, [&] { return ours.Roots(asked, named); });
  auto theirs_roots = theirs.Roots(asked, named);
  TUPHAP_ASSIGN_OR_RETURN(auto ro, ours_roots.get());
  TUPHAP_ASSIGN_OR_RETURN(auto rt, From(std::move(theirs_roots), "the other side"));
  std::vector<std::string> only_theirs;
  for (const auto& [s, x] : rt)
    if (ro.count(s) == 0) only_theirs.push_back(s);
  if (!only_theirs.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(auto more, ours.Roots(only_theirs, true));
    ro.insert(more.begin(), more.end());
  }
  std::set<std::string> names(asked.begin(), asked.end());
  for (const auto& [s, x] : ro) names.insert(s);
  for (const auto& [s, x] : rt) names.insert(s);
  size_t compared = 0;
  for (const auto& scope : names) {
    ScopeComparison cmp;
    cmp.scope = scope;
    auto a = ro.find(scope);
    auto b = rt.find(scope);
    cmp.compared = a != ro.end() && b != rt.end();
    if (a != ro.end()) cmp.ours = a->second.records;
    if (b != rt.end()) cmp.theirs = b->second.records;
    if (!cmp.compared) {
      if (named)
        return Status::FailedPrecondition("commune " + scope +
                                          " cannot be compared: one side does not share it")
            .WithReason("E_NOT_SHARED");
      report.scopes.push_back(cmp);
      continue;
    }
    ++compared;
    auto side = [&](const char* who) { return std::string(who) + ", commune " + scope; };
    std::set<std::string> ids;
    {
      TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> altered, ours.AlteredRows(scope));
      ids.insert(altered.begin(), altered.end());
    }
    if (a->second != b->second) {
      // Level by level: only subtrees whose hashes differ are opened.
      std::vector<std::pair<std::string, uint64_t>> level{
          {"", std::max(a->second.records, b->second.records)}};
      while (!level.empty()) {
        std::vector<std::string> inner, small;
        for (const auto& [p, n] : level)
          (n <= kLeafMax || p.size() == kMaxDepth ? small : inner).push_back(p);
        level.clear();
        if (!inner.empty()) {
          TUPHAP_ASSIGN_OR_RETURN(auto ko, ours.Children(scope, inner));
          TUPHAP_ASSIGN_OR_RETURN(auto kt,
                                  From(theirs.Children(scope, inner), side("the other side")));
          if (ko.size() != inner.size() || kt.size() != inner.size())
            return Status::Internal("a tree answered for the wrong number of paths");
          for (size_t i = 0; i < inner.size(); ++i) {
            for (int d = 0; d < 16; ++d) {
              ++report.tree_nodes_compared;
              if (ko[i][d] == kt[i][d]) continue;
              level.emplace_back(inner[i] + kHex[d], std::max(ko[i][d].records, kt[i][d].records));
            }
          }
        }
        if (!small.empty()) {
          TUPHAP_ASSIGN_OR_RETURN(auto lo, ours.Leaves(scope, small));
          TUPHAP_ASSIGN_OR_RETURN(auto lt,
                                  From(theirs.Leaves(scope, small), side("the other side")));
          if (lo.size() != small.size() || lt.size() != small.size())
            return Status::Internal("a tree answered for the wrong number of paths");
          for (size_t i = 0; i < small.size(); ++i) {
            std::map<std::string, Hash16> mine;
            for (const auto& l : lo[i]) mine[l.record_id] = l.hash;
            for (const auto& l : lt[i]) {
              auto it = mine.find(l.record_id);
              if (it == mine.end() || it->second != l.hash) ids.insert(l.record_id);
              if (it != mine.end()) mine.erase(it);
            }
            for (const auto& [id, h] : mine) ids.insert(id);
          }
        }
      }
    }
    // The differing records, field by field, each side checked against its log.
    const std::vector<std::string> list(ids.begin(), ids.end());
    for (size_t at = 0; at < list.size(); at += kRecordsPerQuery) {
      std::vector<RecordAsk> asks;
      for (size_t i = at; i < std::min(list.size(), at + kRecordsPerQuery); ++i)
        asks.push_back({list[i], {}});
      TUPHAP_ASSIGN_OR_RETURN(auto first, ours.Records(scope, asks));
      for (size_t i = 0; i < asks.size(); ++i) asks[i].other_history = first[i].history;
      TUPHAP_ASSIGN_OR_RETURN(auto th, From(theirs.Records(scope, asks), side("the other side")));
      if (th.size() != asks.size()) return Status::Internal("records answered out of order");
      // Ours again, only where theirs names changes our record does not:
      // elsewhere the first answer already is the whole story.
      std::vector<RecordDetail> mine = std::move(first);
      std::vector<RecordAsk> again;
      std::vector<size_t> where;
      for (size_t i = 0; i < asks.size(); ++i) {
        std::set<std::pair<crdt::ReplicaId, uint64_t>> known;
        for (const auto& r : mine[i].history) known.emplace(r.origin, r.seq);
        if (std::all_of(th[i].history.begin(), th[i].history.end(), [&](const auto& r) {
              return known.count({r.origin, r.seq}) > 0;
            }))
          continue;
        again.push_back({asks[i].record_id, th[i].history});
        where.push_back(i);
      }
      if (!again.empty()) {
        TUPHAP_ASSIGN_OR_RETURN(auto redone, ours.Records(scope, again));
        for (size_t k = 0; k < where.size(); ++k) mine[where[k]] = std::move(redone[k]);
      }
      for (size_t i = 0; i < asks.size(); ++i) {
        if (th[i].record_id != asks[i].record_id)
          return Status::Internal("records answered out of order");
        const size_t n = report.differences.size();
        Compare(scope, mine[i], th[i], adjudicated, &report.differences);
        if (report.differences.size() > n) ++cmp.differing_records;
      }
    }
    // Differing trees whose records now agree changed during the run.
    cmp.equal = cmp.differing_records == 0;
    if (!cmp.equal) report.equal = false;
    report.scopes.push_back(cmp);
  }
  if (compared == 0)
    return Status::FailedPrecondition(
               "nothing to compare: the other side shares none of the communes this node holds")
        .WithReason("E_NOT_SHARED");
  return report;
}

}  // namespace tuphap::node
