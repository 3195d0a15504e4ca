// The walk (docs/reconcile.md): both trees compared level by level where
// their hashes differ, then the differing records drilled into field by
// field, each difference given its reason.
#include <algorithm>
#include <map>
#include <set>

#include "node/reconcile.h"
#include "node/reconcile/internal.h"

namespace tuphap::node {
namespace {

using reconcile::kHex;
using reconcile::kLeafMax;
using reconcile::kMaxDepth;
using reconcile::kRecordsPerQuery;

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
using Roots = std::map<std::string, TreeSummary>;

std::string TheirSide(const std::string& scope) { return "the other side, commune " + scope; }

// The roots of both sides (named scopes only when `named`), then ours of
// the scopes only the other side named. Each side builds its trees at its
// first ask: ours on a connection of their own while the other side builds
// its own. The other side is asked from this thread, and our Store is used
// from this thread only (store.h), as are the node's opener and trust.
Status BothRoots(StoreSource& ours, ReconcileSource& theirs, const std::vector<std::string>& asked,
                 bool named, Roots* ro, Roots* rt) {
  Result<Roots> theirs_roots = Roots{};
  TUPHAP_ASSIGN_OR_RETURN(
      *ro, ours.RootsWhile(asked, named, [&] { theirs_roots = theirs.Roots(asked, named); }));
  TUPHAP_ASSIGN_OR_RETURN(*rt, From(std::move(theirs_roots), "the other side"));
  std::vector<std::string> only_theirs;
  for (const auto& [s, x] : *rt)
    if (ro->count(s) == 0) only_theirs.push_back(s);
  if (!only_theirs.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(auto more, ours.Roots(only_theirs, true));
    ro->insert(more.begin(), more.end());
  }
  return Status::Ok();
}

// Opens one level of inner nodes on both sides: the children whose
// summaries differ make the next level.
Status OpenInner(const std::string& scope, const std::vector<std::string>& inner, StoreSource& ours,
                 ReconcileSource& theirs, uint64_t* nodes_compared,
                 std::vector<std::pair<std::string, uint64_t>>* next) {
  TUPHAP_ASSIGN_OR_RETURN(auto ko, ours.Children(scope, inner));
  TUPHAP_ASSIGN_OR_RETURN(auto kt, From(theirs.Children(scope, inner), TheirSide(scope)));
  if (ko.size() != inner.size() || kt.size() != inner.size())
    return Status::Internal("a tree answered for the wrong number of paths");
  for (size_t i = 0; i < inner.size(); ++i) {
    for (int d = 0; d < 16; ++d) {
      ++*nodes_compared;
      if (ko[i][d] == kt[i][d]) continue;
      next->emplace_back(inner[i] + kHex[d], std::max(ko[i][d].records, kt[i][d].records));
    }
  }
  return Status::Ok();
}

// Lists the records under small subtrees on both sides: those on one side
// only, or with different leaves, go to `ids`.
Status CompareLeaves(const std::string& scope, const std::vector<std::string>& small,
                     StoreSource& ours, ReconcileSource& theirs, std::set<std::string>* ids) {
  TUPHAP_ASSIGN_OR_RETURN(auto lo, ours.Leaves(scope, small));
  TUPHAP_ASSIGN_OR_RETURN(auto lt, From(theirs.Leaves(scope, small), TheirSide(scope)));
  if (lo.size() != small.size() || lt.size() != small.size())
    return Status::Internal("a tree answered for the wrong number of paths");
  for (size_t i = 0; i < small.size(); ++i) {
    std::map<std::string, Hash16> mine;
    for (const auto& l : lo[i]) mine[l.record_id] = l.hash;
    for (const auto& l : lt[i]) {
      auto it = mine.find(l.record_id);
      if (it == mine.end() || it->second != l.hash) ids->insert(l.record_id);
      if (it != mine.end()) mine.erase(it);
    }
    for (const auto& [id, h] : mine) ids->insert(id);
  }
  return Status::Ok();
}

// Level by level from the root (`records` at most under it): only subtrees
// whose hashes differ are opened, down to kLeafMax records.
Status WalkTrees(const std::string& scope, uint64_t records, StoreSource& ours,
                 ReconcileSource& theirs, uint64_t* nodes_compared, std::set<std::string>* ids) {
  std::vector<std::pair<std::string, uint64_t>> level{{"", records}};
  while (!level.empty()) {
    std::vector<std::string> inner, small;
    for (const auto& [p, n] : level)
      (n <= kLeafMax || p.size() == kMaxDepth ? small : inner).push_back(p);
    level.clear();
    if (!inner.empty())
      TUPHAP_RETURN_IF_ERROR(OpenInner(scope, inner, ours, theirs, nodes_compared, &level));
    if (!small.empty()) TUPHAP_RETURN_IF_ERROR(CompareLeaves(scope, small, ours, theirs, ids));
  }
  return Status::Ok();
}

// Where the other side's record names changes ours does not: there our
// first detail is not the whole story.
std::vector<size_t> NamingMore(const std::vector<RecordDetail>& mine,
                               const std::vector<RecordDetail>& th) {
  std::vector<size_t> where;
  for (size_t i = 0; i < mine.size(); ++i) {
    std::set<std::pair<crdt::ReplicaId, uint64_t>> known;
    for (const auto& r : mine[i].history) known.emplace(r.origin, r.seq);
    if (!std::all_of(th[i].history.begin(), th[i].history.end(), [&](const auto& r) {
          return known.count({r.origin, r.seq}) > 0;
        }))
      where.push_back(i);
  }
  return where;
}

// Up to kRecordsPerQuery differing records, field by field, each side
// checked against its log: our detail, theirs given our history, ours
// again given theirs where it names more.
Status DrillDown(const std::string& scope, const std::vector<std::string>& ids, StoreSource& ours,
                 ReconcileSource& theirs, const AdjudicatedFn& adjudicated, ScopeComparison* cmp,
                 std::vector<Difference>* out) {
  std::vector<RecordAsk> asks;
  for (const auto& id : ids) asks.push_back({id, {}});
  TUPHAP_ASSIGN_OR_RETURN(std::vector<RecordDetail> mine, ours.Records(scope, asks));
  for (size_t i = 0; i < asks.size(); ++i) asks[i].other_history = mine[i].history;
  TUPHAP_ASSIGN_OR_RETURN(auto th, From(theirs.Records(scope, asks), TheirSide(scope)));
  if (th.size() != asks.size()) return Status::Internal("records answered out of order");
  const std::vector<size_t> where = NamingMore(mine, th);
  if (!where.empty()) {
    std::vector<RecordAsk> again;
    for (size_t i : where) again.push_back({asks[i].record_id, th[i].history});
    TUPHAP_ASSIGN_OR_RETURN(auto redone, ours.Records(scope, again));
    for (size_t k = 0; k < where.size(); ++k) mine[where[k]] = std::move(redone[k]);
  }
  for (size_t i = 0; i < asks.size(); ++i) {
    if (th[i].record_id != asks[i].record_id)
      return Status::Internal("records answered out of order");
    const size_t n = out->size();
    Compare(scope, mine[i], th[i], adjudicated, out);
    if (out->size() > n) ++cmp->differing_records;
  }
  return Status::Ok();
}

// One scope both sides hold and share, roots `a` (ours) and `b` (theirs).
Status CompareScope(StoreSource& ours, ReconcileSource& theirs, const TreeSummary& a,
                    const TreeSummary& b, const AdjudicatedFn& adjudicated, ScopeComparison* cmp,
                    ReconcileReport* report) {
  const std::string& scope = cmp->scope;
  std::set<std::string> ids;
  {
    TUPHAP_ASSIGN_OR_RETURN(std::vector<std::string> altered, ours.AlteredRows(scope));
    ids.insert(altered.begin(), altered.end());
  }
  if (a != b) {
    TUPHAP_RETURN_IF_ERROR(WalkTrees(scope, std::max(a.records, b.records), ours, theirs,
                                     &report->tree_nodes_compared, &ids));
  }
  const std::vector<std::string> list(ids.begin(), ids.end());
  for (size_t at = 0; at < list.size(); at += kRecordsPerQuery) {
    const auto first = list.begin() + static_cast<std::ptrdiff_t>(at);
    const std::vector<std::string> part(
        first, first + static_cast<std::ptrdiff_t>(std::min(list.size() - at, kRecordsPerQuery)));
    TUPHAP_RETURN_IF_ERROR(
        DrillDown(scope, part, ours, theirs, adjudicated, cmp, &report->differences));
  }
  // Differing trees whose records now agree changed during the run.
  cmp->equal = cmp->differing_records == 0;
  if (!cmp->equal) report->equal = false;
  return Status::Ok();
}

}  // namespace

Result<ReconcileReport> Reconcile(StoreSource& ours, ReconcileSource& theirs,
                                  const std::vector<std::string>& scopes,
                                  const AdjudicatedFn& adjudicated) {
  ReconcileReport report;
  // Named scopes only; else every scope we hold, each asked of the other
  // side by name (so one it lacks shows as empty there, not as unshared),
  // and then the ones only it holds.
  const bool named = !scopes.empty();
  std::vector<std::string> asked = scopes;
  if (!named) {
    TUPHAP_ASSIGN_OR_RETURN(asked, ours.Scopes());
  }
  Roots ro, rt;
  TUPHAP_RETURN_IF_ERROR(BothRoots(ours, theirs, asked, named, &ro, &rt));
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
    TUPHAP_RETURN_IF_ERROR(
        CompareScope(ours, theirs, a->second, b->second, adjudicated, &cmp, &report));
    report.scopes.push_back(cmp);
  }
  if (compared == 0)
    return Status::FailedPrecondition(
               "nothing to compare: the other side shares none of the communes this node holds")
        .WithReason("E_NOT_SHARED");
  return report;
}

}  // namespace tuphap::node
