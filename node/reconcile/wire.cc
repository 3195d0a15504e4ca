// Reconcile over the wire (docs/reconcile.md, docs/protocol.md): the four
// queries and their answers as msgpack, the asking side (RemoteSource over
// a QueryChannel) and the answering side (ReconcileResponder, confined to
// the scopes this node offers the asker). Everything decoded from a peer
// is bounded before it is allocated.
#include <algorithm>
#include <random>

#include "node/domain/reference_data.h"
#include "node/reconcile.h"
#include "node/reconcile/internal.h"
#include "replication/change_codec.h"
#include "replication/msgpack.h"

namespace tuphap::node {
namespace {

using reconcile::kHex;
using reconcile::kLeafMax;
using reconcile::kMaxDepth;
using reconcile::kPrefixesPerQuery;
using reconcile::kRecordsPerQuery;
using replication::MsgpackReader;
using replication::MsgpackWriter;

constexpr size_t kMaxRefsPerQuery = 16384;  // changes a records query may name
constexpr uint32_t kMaxList = 1 << 20;      // any list decoded from a peer

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

// The answers of the four queries, written to `w`.
Status WriteRoots(StoreSource& source, const QueryArgs& q, MsgpackWriter& w) {
  TUPHAP_ASSIGN_OR_RETURN(auto roots, source.Roots(q.list, q.scope == "only"));
  w.ArrayHeader(static_cast<uint32_t>(roots.size()));
  for (const auto& [scope, sum] : roots) {
    w.ArrayHeader(2);
    w.Str(scope);
    WriteSummary(w, sum);
  }
  return Status::Ok();
}

Status WriteChildren(StoreSource& source, const QueryArgs& q, MsgpackWriter& w) {
  TUPHAP_RETURN_IF_ERROR(CheckPaths(q.list));
  TUPHAP_ASSIGN_OR_RETURN(auto kids, source.Children(q.scope, q.list));
  w.ArrayHeader(static_cast<uint32_t>(kids.size()));
  for (const auto& k : kids) {
    w.ArrayHeader(16);
    for (const auto& sum : k) WriteSummary(w, sum);
  }
  return Status::Ok();
}

Status WriteLeaves(StoreSource& source, const QueryArgs& q, MsgpackWriter& w) {
  TUPHAP_RETURN_IF_ERROR(CheckPaths(q.list));
  // A subtree too big to list is refused rather than copied.
  TUPHAP_ASSIGN_OR_RETURN(auto leaves, source.Leaves(q.scope, q.list, kLeafMax * 4));
  w.ArrayHeader(static_cast<uint32_t>(leaves.size()));
  for (const auto& list : leaves) {
    w.ArrayHeader(static_cast<uint32_t>(list.size()));
    for (const auto& l : list) {
      w.ArrayHeader(2);
      w.Str(l.record_id);
      w.Bin(std::string_view(reinterpret_cast<const char*>(l.hash.data()), l.hash.size()));
    }
  }
  return Status::Ok();
}

Status WriteRecords(StoreSource& source, const QueryArgs& q, MsgpackWriter& w) {
  if (q.asks.size() > kRecordsPerQuery)
    return Status::InvalidArgument("more than 64 records in one query").WithReason("E_PROTOCOL");
  size_t refs = 0;
  for (const auto& a : q.asks) refs += a.other_history.size();
  if (refs > kMaxRefsPerQuery)
    return Status::InvalidArgument("more than " + std::to_string(kMaxRefsPerQuery) +
                                   " changes named in one query")
        .WithReason("E_PROTOCOL");
  TUPHAP_ASSIGN_OR_RETURN(auto details, source.Records(q.scope, q.asks));
  w.ArrayHeader(static_cast<uint32_t>(details.size()));
  for (const auto& d : details) WriteDetail(w, d);
  return Status::Ok();
}

}  // namespace

std::unique_ptr<ReconcileSource> RemoteSource(QueryChannel& channel) {
  return std::make_unique<Remote>(channel);
}

ReconcileResponder::Limits ReconcileResponder::Limits::Unlimited() {
  Limits l;
  l.queries_per_second = l.query_burst = 1e18;
  l.bytes_per_minute = l.byte_burst = 1e18;
  return l;
}

ReconcileResponder::ReconcileResponder(Node& node) : ReconcileResponder(node, Limits{}) {}
ReconcileResponder::ReconcileResponder(Node& node, Limits limits) : node_(node), limits_(limits) {}
ReconcileResponder::~ReconcileResponder() = default;

void ReconcileResponder::Expire(int64_t now_ms, int64_t idle_ms) {
  for (auto it = budgets_.begin(); it != budgets_.end();) {
    it = now_ms - it->second.at_ms > idle_ms ? budgets_.erase(it) : std::next(it);
  }
}

Result<std::string> ReconcileResponder::Answer(const replication::Certificate& peer,
                                               const std::string& what, std::string_view body,
                                               int64_t now_ms) {
  const std::string key(reinterpret_cast<const char*>(peer.sign_key.data()), peer.sign_key.size());
  auto it = budgets_.find(key);
  if (it == budgets_.end()) {
    if (budgets_.size() >= limits_.max_askers) {
      // Bounded: the key idle longest is forgotten (its budget was the
      // fullest anyway).
      auto idlest = std::min_element(
          budgets_.begin(), budgets_.end(),
          [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
      budgets_.erase(idlest);
    }
    it = budgets_.emplace(key, Budget{limits_.query_burst, limits_.byte_burst, now_ms}).first;
  }
  Budget& b = it->second;
  const double secs = static_cast<double>(std::max<int64_t>(0, now_ms - b.at_ms)) / 1000.0;
  b.queries = std::min(limits_.query_burst, b.queries + secs * limits_.queries_per_second);
  b.bytes = std::min(limits_.byte_burst, b.bytes + secs * limits_.bytes_per_minute / 60.0);
  b.at_ms = std::max(b.at_ms, now_ms);
  Result<std::string> a = AnswerIn(peer, what, body, b);
  if (a.ok()) {
    ++answered_;
    b.bytes -= static_cast<double>(a->size());
  } else {
    std::string reason = a.status().reason().empty() ? "E_INTERNAL" : a.status().reason();
    if (reason == "E_RATE_LIMITED")
      reason += a.status().message().find("bytes") != std::string::npos ? " bytes" : " queries";
    ++refusals_[reason];
  }
  return a;
}

Result<std::string> ReconcileResponder::AnswerIn(const replication::Certificate& peer,
                                                 const std::string& what, std::string_view body,
                                                 Budget& budget) {
  if (budget.queries < 1) {
    return Status::ResourceExhausted("over " +
                                     std::to_string(static_cast<int>(limits_.queries_per_second)) +
                                     " reconcile queries a second; ask again later")
        .WithReason("E_RATE_LIMITED");
  }
  if (budget.bytes <= 0) {
    return Status::ResourceExhausted(
               "over " + std::to_string(static_cast<int64_t>(limits_.bytes_per_minute)) +
               " answer bytes a minute; ask again later")
        .WithReason("E_RATE_LIMITED");
  }
  budget.queries -= 1;
  const bool records = what == "recon.records";
  if (!records && what != "recon.roots" && what != "recon.children" && what != "recon.leaves")
    return Status::InvalidArgument("unknown query " + what).WithReason("E_UNKNOWN_MESSAGE");
  TUPHAP_ASSIGN_OR_RETURN(QueryArgs q, DecodeQuery(body, records));
  if (records) {
    // Re-derivation opens the changes a query names: a larger one costs more.
    size_t refs = 0;
    for (const auto& a : q.asks) refs += a.other_history.size();
    budget.queries -= static_cast<double>(refs / std::max<size_t>(1, limits_.refs_per_query_token));
  }
  // A source per query: it reads the maintained tree, so it costs nothing
  // to make, and every query sees the store as it is.
  Node* n = &node_;
  StoreSource source(
      node_.store(), node_.opener(),
      [n, &peer](std::string_view scope) {
        return PeerMayRead(peer, scope) && n->Offers(peer, scope) && n->opener().CanRead(scope);
      },
      /*verify=*/false);
  MsgpackWriter w(1024);
  if (what == "recon.roots") {
    TUPHAP_RETURN_IF_ERROR(WriteRoots(source, q, w));
  } else if (what == "recon.children") {
    TUPHAP_RETURN_IF_ERROR(WriteChildren(source, q, w));
  } else if (what == "recon.leaves") {
    TUPHAP_RETURN_IF_ERROR(WriteLeaves(source, q, w));
  } else {
    TUPHAP_RETURN_IF_ERROR(WriteRecords(source, q, w));
  }
  if (w.bytes().size() > limits_.max_answer_bytes) {
    // Charged as if sent: a peer asking over and over for what cannot be
    // sent must not have the answers built for free.
    budget.bytes -= static_cast<double>(w.bytes().size());
    return Status::ResourceExhausted("the answer to " + what + " would exceed one frame")
        .WithReason("E_TOO_LARGE");
  }
  return w.Take();
}

}  // namespace tuphap::node
