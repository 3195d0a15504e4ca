#include "node/reconcile.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>

#include "node/bundle.h"
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
constexpr uint32_t kMaxList = 1 << 20;  // any list decoded from a peer

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

bool SameValues(const std::vector<StoredValue>& a, const std::vector<StoredValue>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].origin != b[i].origin || a[i].seq != b[i].seq || !(a[i].value == b[i].value))
      return false;
  }
  return true;
}

const std::vector<StoredValue>* FieldOf(const RecordDetail& d, std::string_view name) {
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
    std::vector<StoredValue> values;
    const uint32_t nv = r.ReadArrayHeader(lim.max_pred_per_op * 4);
    for (uint32_t j = 0; j < nv && r.ok(); ++j) {
      StoredValue v;
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
StoreSource::~StoreSource() = default;

Result<const StoreSource::Tree*> StoreSource::TreeOf(const std::string& scope) {
  if (!shares_(scope)) {
    return Status::PermissionDenied("commune " + scope + " is not shared with the asking node")
        .WithReason("E_NOT_AUTHORISED");
  }
  auto it = trees_.find(scope);
  if (it != trees_.end()) return it->second.get();
  auto tree = std::make_unique<Tree>();
  TUPHAP_ASSIGN_OR_RETURN(
      store::Stmt q,
      store_.db().Prepare("SELECT record_id, state, state_hash FROM records WHERE scope = ?"));
  q.Bind(1, scope);
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const std::string_view id = q.Text(0), blob = q.Blob(1), stored = q.Blob(2);
    // The leaf hashes the row's state bytes as they are now, not the hash
    // stored beside them: an edit behind tuphap's back changes the leaf.
    MsgpackReader r(blob);
    r.ExpectArray(3);
    r.ReadUint();
    const size_t start = r.position();
    r.Skip(64);
    replication::Hash h = r.ok() ? replication::Blake2b256(blob.substr(start, r.position() - start))
                                 : replication::Blake2b256(blob);
    if (!r.ok() || stored != replication::AsBytes(h)) tree->altered.emplace_back(id);
    tree->entries.push_back({PlaceOf(id), std::string(id), Truncate(h)});
  }
  std::sort(tree->entries.begin(), tree->entries.end(), [](const auto& a, const auto& b) {
    return a.place != b.place ? a.place < b.place : a.id < b.id;
  });
  return (trees_[scope] = std::move(tree)).get();
}

Result<std::map<std::string, TreeSummary>> StoreSource::Roots(
    const std::vector<std::string>& scopes) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldScopes(store_));
  std::set<std::string> all(scopes.begin(), scopes.end());
  all.insert(held.begin(), held.end());
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
  TUPHAP_ASSIGN_OR_RETURN(const Tree* t, TreeOf(scope));
  std::vector<std::vector<RecordLeaf>> out;
  for (const auto& p : prefixes) {
    TUPHAP_ASSIGN_OR_RETURN(auto bounds, PrefixBounds(p));
    const auto [a, b] = t->Range(bounds.first, bounds.second);
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
  for (const auto& [key, ref] : refs) {
    const store::FeedKey feed{ref.origin, scope};
    auto at = applied.find(feed);
    std::optional<replication::Envelope> env;
    if (at != applied.end() && ref.seq <= at->second) {
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
    std::vector<StoredValue> values;
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
  TUPHAP_ASSIGN_OR_RETURN(store::Stmt q,
                          store.db().Prepare("SELECT DISTINCT scope FROM feeds ORDER BY scope"));
  std::vector<std::string> out;
  while (true) {
    TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(q.Text(0));
  }
  return out;
}

// --- over the wire -------------------------------------------------------------

namespace {

class Remote final : public ReconcileSource {
 public:
  explicit Remote(QueryChannel& ch) : ch_(ch) {
    std::random_device rd;
    for (int i = 0; i < 16; ++i) run_ += kHex[rd() % 16];
  }

  Result<std::map<std::string, TreeSummary>> Roots(
      const std::vector<std::string>& scopes) override {
    TUPHAP_ASSIGN_OR_RETURN(std::string a,
                            ch_.Ask("recon.roots", EncodeQuery(run_, "", scopes, nullptr)));
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

Result<std::string> ReconcileResponder::Answer(const replication::Certificate& peer,
                                               const std::string& what, std::string_view body) {
  const bool records = what == "recon.records";
  if (!records && what != "recon.roots" && what != "recon.children" && what != "recon.leaves")
    return Status::InvalidArgument("unknown query " + what).WithReason("E_UNKNOWN_MESSAGE");
  TUPHAP_ASSIGN_OR_RETURN(QueryArgs q, DecodeQuery(body, records));
  // One cached source per asking run and peer: a new run sees the store anew.
  const std::string run =
      q.run + '\0' +
      std::string(reinterpret_cast<const char*>(peer.sign_key.data()), peer.sign_key.size());
  if (run != run_ || !source_) {
    run_ = run;
    Node* n = &node_;
    source_ = std::make_unique<StoreSource>(
        node_.store(), node_.opener(), [n, peer](std::string_view scope) {
          return n->Offers(peer, scope) && n->opener().CanRead(scope);
        });
  }
  MsgpackWriter w(1024);
  if (what == "recon.roots") {
    TUPHAP_ASSIGN_OR_RETURN(auto roots, source_->Roots(q.list));
    w.ArrayHeader(static_cast<uint32_t>(roots.size()));
    for (const auto& [scope, s] : roots) {
      w.ArrayHeader(2);
      w.Str(scope);
      WriteSummary(w, s);
    }
  } else if (what == "recon.children") {
    if (q.list.size() > kPrefixesPerQuery)
      return Status::InvalidArgument("too many tree paths").WithReason("E_PROTOCOL");
    TUPHAP_ASSIGN_OR_RETURN(auto kids, source_->Children(q.scope, q.list));
    w.ArrayHeader(static_cast<uint32_t>(kids.size()));
    for (const auto& k : kids) {
      w.ArrayHeader(16);
      for (const auto& s : k) WriteSummary(w, s);
    }
  } else if (what == "recon.leaves") {
    if (q.list.size() > kPrefixesPerQuery)
      return Status::InvalidArgument("too many tree paths").WithReason("E_PROTOCOL");
    TUPHAP_ASSIGN_OR_RETURN(auto leaves, source_->Leaves(q.scope, q.list));
    w.ArrayHeader(static_cast<uint32_t>(leaves.size()));
    for (const auto& list : leaves) {
      // A subtree too big to list is refused rather than sent whole.
      if (list.size() > kLeafMax * 64)
        return Status::InvalidArgument("asked to list a large subtree").WithReason("E_PROTOCOL");
      w.ArrayHeader(static_cast<uint32_t>(list.size()));
      for (const auto& l : list) {
        w.ArrayHeader(2);
        w.Str(l.record_id);
        w.Bin(std::string_view(reinterpret_cast<const char*>(l.hash.data()), l.hash.size()));
      }
    }
  } else {
    if (q.asks.size() > kRecordsPerQuery)
      return Status::InvalidArgument("too many records in one query").WithReason("E_PROTOCOL");
    TUPHAP_ASSIGN_OR_RETURN(auto details, source_->Records(q.scope, q.asks));
    w.ArrayHeader(static_cast<uint32_t>(details.size()));
    for (const auto& d : details) WriteDetail(w, d);
  }
  return w.Take();
}

// --- from a file -----------------------------------------------------------------

namespace {

class FileSource final : public ReconcileSource {
 public:
  ~FileSource() override {
    source_.reset();
    store_.reset();
    if (!scratch_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(scratch_, ec);
    }
  }
  static Result<std::unique_ptr<ReconcileSource>> Open(Node& node, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound("cannot read " + path);
    char magic[16] = {};
    in.read(magic, sizeof magic);
    auto src = std::unique_ptr<FileSource>(new FileSource());
    const bool snapshot = in.gcount() == 16 &&
                          std::string_view(magic, 16) == std::string_view("SQLite format 3\0", 16);
    if (snapshot) {
      auto store = store::Store::Open(path, store::Database::OpenMode::kExisting);
      if (!store.ok()) return store.status().Annotate("snapshot " + path);
      src->store_ = std::move(*store);
    } else {
      // A bundle: checked whole, then applied into a scratch store.
      std::string tmpl =
          (std::filesystem::temp_directory_path() / "tuphap-reconcile-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr)
        return Status::Internal("cannot make a scratch folder for " + path);
      src->scratch_ = tmpl;
      TUPHAP_ASSIGN_OR_RETURN(
          src->store_, store::Store::Open(tmpl + "/bundle.db", store::Database::OpenMode::kCreate));
      store::Store& st = *src->store_;
      TUPHAP_RETURN_IF_ERROR(
          ReadBundle(node, path, [&](std::vector<store::Store::Incoming>& batch) {
            return st.Apply(batch, node.opener()).status();
          }).status());
    }
    const store::EnvelopeOpener* opener = &node.opener();
    src->source_ = std::make_unique<StoreSource>(
        *src->store_, node.opener(), [opener](std::string_view s) { return opener->CanRead(s); });
    return std::unique_ptr<ReconcileSource>(std::move(src));
  }

  Result<std::map<std::string, TreeSummary>> Roots(const std::vector<std::string>& s) override {
    return source_->Roots(s);
  }
  Result<std::vector<std::array<TreeSummary, 16>>> Children(
      const std::string& scope, const std::vector<std::string>& p) override {
    return source_->Children(scope, p);
  }
  Result<std::vector<std::vector<RecordLeaf>>> Leaves(const std::string& scope,
                                                      const std::vector<std::string>& p) override {
    return source_->Leaves(scope, p);
  }
  Result<std::vector<RecordDetail>> Records(const std::string& scope,
                                            const std::vector<RecordAsk>& asks) override {
    return source_->Records(scope, asks);
  }

 private:
  FileSource() = default;
  std::string scratch_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<StoreSource> source_;
};

}  // namespace

Result<std::unique_ptr<ReconcileSource>> OpenFileSource(Node& node, const std::string& path) {
  return FileSource::Open(node, path);
}

// --- the walk ---------------------------------------------------------------------

namespace {

// Why a field (or, with field "*", a whole record) differs.
void Explain(const RecordDetail& o, const RecordDetail& t, const std::string& field,
             Difference* diff) {
  auto in = [&](const RecordDetail& d) {
    return std::find(d.mismatched_fields.begin(), d.mismatched_fields.end(), field) !=
               d.mismatched_fields.end() ||
           (field == "*" && !d.mismatched_fields.empty());
  };
  auto tampered = [&](const RecordDetail& d, const char* side) {
    return std::string(side) + " stored record does not match " + side +
           " own log (re-derived from " + std::to_string(d.derived_from) + " changes)" +
           (d.row_intact ? "" : " and its row no longer matches its stored hash") +
           ": it was changed outside tuphap";
  };
  if (in(o) || (!o.row_intact && o.lacking.empty() && t.lacking.empty())) {
    diff->reason = "tampered";
    diff->detail = tampered(o, "our");
  } else if (in(t) || (!t.row_intact && o.lacking.empty() && t.lacking.empty())) {
    diff->reason = "tampered";
    diff->detail = tampered(t, "their");
  } else if (!o.lacking.empty() || !t.lacking.empty()) {
    // Concurrent: each side's value comes from a change the other lacks
    // (they conflict once both are known), or a side holds both already.
    auto from_lacking = [](const std::vector<StoredValue>& values,
                           const std::vector<store::ChangeRef>& lacking) {
      return !values.empty() &&
             std::all_of(values.begin(), values.end(), [&](const StoredValue& v) {
               return std::any_of(lacking.begin(), lacking.end(), [&](const store::ChangeRef& r) {
                 return r.origin == v.origin && r.seq == v.seq;
               });
             });
    };
    const bool conflict =
        diff->ours.size() > 1 || diff->theirs.size() > 1 ||
        (from_lacking(diff->ours, t.lacking) && from_lacking(diff->theirs, o.lacking));
    diff->reason = conflict ? "conflict" : "missing_changes";
    std::string d;
    if (!o.lacking.empty())
      d += "ours lacks " + std::to_string(o.lacking.size()) + " change(s): " + RefList(o.lacking);
    if (!t.lacking.empty())
      d += std::string(d.empty() ? "" : "; ") + "theirs lacks " + std::to_string(t.lacking.size()) +
           " change(s): " + RefList(t.lacking);
    if (conflict) d = "concurrent edits, in conflict where both are known; " + d;
    diff->detail = d;
  } else {
    diff->reason = "diverged";
    diff->detail = "both hold the same changes yet store different values";
  }
}

void Compare(const std::string& scope, const RecordDetail& o, const RecordDetail& t,
             std::vector<Difference>* out) {
  auto base = [&](const std::string& field) {
    Difference d;
    d.scope = scope;
    d.record_id = o.record_id;
    d.field = field;
    d.ours_present = o.present;
    d.theirs_present = t.present;
    return d;
  };
  if (!o.present || !t.present) {
    if (!o.present && !t.present) return;  // neither holds it any more
    Difference d = base("*");
    Explain(o, t, "*", &d);
    out->push_back(std::move(d));
    return;
  }
  std::set<std::string> names;
  for (const auto& f : o.fields) names.insert(f.first);
  for (const auto& f : t.fields) names.insert(f.first);
  const size_t before = out->size();
  static const std::vector<StoredValue> kNone;
  for (const auto& n : names) {
    const std::vector<StoredValue>* a = FieldOf(o, n);
    const std::vector<StoredValue>* b = FieldOf(t, n);
    if (SameValues(a ? *a : kNone, b ? *b : kNone)) continue;
    Difference d = base(n);
    d.ours = a ? *a : kNone;
    d.theirs = b ? *b : kNone;
    Explain(o, t, n, &d);
    out->push_back(std::move(d));
  }
  // Drilled into, yet no value differs: a row that does not match its hash,
  // or stored bytes that differ beyond the values. Say so.
  if (out->size() == before) {
    Difference d = base("*");
    Explain(o, t, "*", &d);
    out->push_back(std::move(d));
  }
}

}  // namespace

Result<ReconcileReport> Reconcile(ReconcileSource& ours, ReconcileSource& theirs,
                                  const std::vector<std::string>& scopes) {
  ReconcileReport report;
  // Each side builds its trees at the first ask: ours while the other
  // side builds its own.
  auto ours_roots = std::async(std::launch::async, [&] { return ours.Roots(scopes); });
  auto theirs_roots = theirs.Roots(scopes);
  TUPHAP_ASSIGN_OR_RETURN(auto ro, ours_roots.get());
  TUPHAP_ASSIGN_OR_RETURN(auto rt, std::move(theirs_roots));
  std::set<std::string> names;
  for (const auto& [s, x] : ro) names.insert(s);
  for (const auto& [s, x] : rt) names.insert(s);
  if (!scopes.empty()) names = std::set<std::string>(scopes.begin(), scopes.end());
  for (const auto& scope : names) {
    ScopeComparison cmp;
    cmp.scope = scope;
    auto a = ro.find(scope);
    auto b = rt.find(scope);
    cmp.compared = a != ro.end() && b != rt.end();
    if (a != ro.end()) cmp.ours = a->second.records;
    if (b != rt.end()) cmp.theirs = b->second.records;
    if (!cmp.compared) {
      report.scopes.push_back(cmp);
      continue;
    }
    std::set<std::string> ids;
    if (auto* local = dynamic_cast<StoreSource*>(&ours)) {
      TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> altered, local->AlteredRows(scope));
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
          TUPHAP_ASSIGN_OR_RETURN(auto kt, theirs.Children(scope, inner));
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
          TUPHAP_ASSIGN_OR_RETURN(auto lt, theirs.Leaves(scope, small));
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
    const size_t before = report.differences.size();
    for (size_t at = 0; at < list.size(); at += kRecordsPerQuery) {
      std::vector<RecordAsk> asks;
      for (size_t i = at; i < std::min(list.size(), at + kRecordsPerQuery); ++i)
        asks.push_back({list[i], {}});
      TUPHAP_ASSIGN_OR_RETURN(auto first, ours.Records(scope, asks));
      for (size_t i = 0; i < asks.size(); ++i) asks[i].other_history = first[i].history;
      TUPHAP_ASSIGN_OR_RETURN(auto th, theirs.Records(scope, asks));
      if (th.size() != asks.size()) return Status::Internal("records answered out of order");
      for (size_t i = 0; i < asks.size(); ++i) asks[i].other_history = th[i].history;
      TUPHAP_ASSIGN_OR_RETURN(auto mine, ours.Records(scope, asks));
      for (size_t i = 0; i < asks.size(); ++i) {
        if (th[i].record_id != asks[i].record_id)
          return Status::Internal("records answered out of order");
        const size_t n = report.differences.size();
        Compare(scope, mine[i], th[i], &report.differences);
        if (report.differences.size() > n) ++cmp.differing_records;
      }
    }
    cmp.equal = a->second == b->second && report.differences.size() == before;
    if (!cmp.equal) report.equal = false;
    report.scopes.push_back(cmp);
  }
  return report;
}

}  // namespace tuphap::node
