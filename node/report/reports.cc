#include "node/report/reports.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "node/domain/content_rules.h"
#include "node/domain/dates.h"
#include "node/domain/indexer.h"
#include "node/domain/reference_data.h"
#include "node/store/sqlite.h"
#include "replication/certificate.h"

namespace tuphap::report {

std::string Winner(const crdt::RecordState& s, std::string_view field) {
  const crdt::MvRegister* r = s.Field(field);
  if (r == nullptr || r->Winner() == nullptr) return "";
  const crdt::Value& v = r->Winner()->value;
  return v.kind() == crdt::Value::Kind::kInt ? std::to_string(v.as_int()) : v.text();
}

int64_t WinnerInt(const crdt::RecordState& s, std::string_view field) {
  const crdt::MvRegister* r = s.Field(field);
  if (r == nullptr || r->Winner() == nullptr) return 0;
  const crdt::Value& v = r->Winner()->value;
  return v.kind() == crdt::Value::Kind::kInt ? v.as_int() : 0;
}

namespace {

Status CheckDate(const std::string& d, const char* what) {
  if (d.empty()) return Status::Ok();
  domain::Date parsed;
  if (domain::ParseDate(d, false, &parsed) != domain::DateProblem::kNone)
    return Status::InvalidArgument(std::string(what) + " must be a date YYYY-MM-DD, not '" + d +
                                   "'");
  return Status::Ok();
}

// A violation decision in force, added to its row's fines when its penalty
// is a fine that was not cancelled (domain::FineOf).
void AddFine(const crdt::RecordState& s, StatsRow* row) {
  const std::optional<store::StatsFine> fine = domain::FineOf(s);
  if (!fine) return;
  ++row->fines;
  row->fines_issued_vnd += fine->issued_vnd;
  if (fine->paid_vnd) {
    row->fines_paid_vnd += *fine->paid_vnd;
  } else {
    row->fines_outstanding_vnd += fine->issued_vnd;
  }
}

}  // namespace

Result<std::vector<StatsRow>> Stats(node::Node& node, const StatsOptions& o) {
  TUPHAP_RETURN_IF_ERROR(CheckDate(o.from, "--from"));
  TUPHAP_RETURN_IF_ERROR(CheckDate(o.to, "--to"));
  if (!o.from.empty() && !o.to.empty() && o.from > o.to)
    return Status::InvalidArgument("--from " + o.from + " is after --to " + o.to);
  // The counts, the fines and the person conflicts that hold some back, of
  // one moment (a serving node may commit meanwhile).
  store::ReadSnapshot snapshot(node.store());
  std::map<std::tuple<std::string, std::string, std::string>, StatsRow> groups;
  auto row_of = [&](std::string_view scope, std::string_view type,
                    std::string_view month) -> StatsRow& {
    auto key = std::make_tuple(o.by_commune ? std::string(scope) : "all",
                               o.by_type ? std::string(type) : "all",
                               o.by_month ? std::string(month) : "all");
    auto [it, added] = groups.try_emplace(std::move(key));
    if (added) {
      it->second.commune = std::get<0>(it->first);
      it->second.type = std::get<1>(it->first);
      it->second.period = std::get<2>(it->first);
    }
    return it->second;
  };
  // Nearly every record: from the totals kept per (scope, type, month).
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::Store::StatsTotal> totals,
                          node.store().StatsTotals(o.from, o.to));
  for (const auto& t : totals) {
    if (replication::IsPublicScope(t.scope)) continue;
    StatsRow& row = row_of(t.scope, t.type, t.month);
    row.invalid += t.invalid;
    row.revoked += t.revoked;
    row.held_back += t.held_back;
    row.count += t.records - t.invalid - t.revoked - t.held_back;
    row.fines += t.fines;
    row.fines_issued_vnd += t.fines_issued_vnd;
    row.fines_paid_vnd += t.fines_paid_vnd;
    row.fines_outstanding_vnd += t.fines_outstanding_vnd;
  }
  // The few whose event date the index does not hold as YYYY-MM-DD…: their
  // date read from the state, as the index would have been.
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::Store::StatsOddRecord> odd,
                          node.store().StatsOddRecords());
  for (const auto& [rec, held_back] : odd) {
    if (replication::IsPublicScope(rec.scope)) continue;
    const std::string type = rec.state.Type();
    if (type.empty() || type[0] == '_') continue;  // bookkeeping (number leases)
    std::string date = Winner(rec.state, "registered_at");
    if (date.empty()) date = Winner(rec.state, "data.decision_date");
    if (date.size() < 10) continue;
    if ((!o.from.empty() && date < o.from) || (!o.to.empty() && date.substr(0, 10) > o.to))
      continue;
    StatsRow& row = row_of(rec.scope, type, date.substr(0, 7));
    if (!rec.invalid.empty()) {  // judged invalid: counted apart, never in the figures
      ++row.invalid;
    } else if (rec.state.Revoked()) {
      ++row.revoked;
    } else if (held_back) {
      // A second registration of one person (a child registered twice...)
      // would count the person twice: the later one waits for a person to
      // settle the conflict.
      ++row.held_back;
    } else {
      ++row.count;
      AddFine(rec.state, &row);
    }
  }
  std::vector<StatsRow> out;
  out.reserve(groups.size());
  for (auto& [k, v] : groups) out.push_back(std::move(v));
  return out;
}

Result<std::vector<ConflictReportRow>> Conflicts(node::Node& node) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ConflictRow> rows, node.Conflicts());
  std::vector<ConflictReportRow> out;
  for (auto& row : rows) {
    ConflictReportRow c;
    TUPHAP_ASSIGN_OR_RETURN(c.values, node.DescribeEntries(row.scope, row.values));
    c.since = crdt::Hlc::FromRaw(UINT64_MAX);
    for (const auto& e : c.values) c.since = std::min(c.since, e.hlc);
    c.row = std::move(row);
    out.push_back(std::move(c));
  }
  // Oldest first: the conflict waiting longest for a person.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.since < b.since; });
  return out;
}

Result<std::vector<store::PersonConflictRow>> PersonConflicts(node::Node& node,
                                                              std::string_view scope) {
  return node.store().PersonConflicts(scope);
}

Result<std::vector<DuplicateReportGroup>> Duplicates(node::Node& node, std::string_view scope,
                                                     size_t limit) {
  if (!scope.empty() && domain::ReferenceData::Get().Commune(std::string(scope)) == nullptr)
    return Status::InvalidArgument("--scope " + std::string(scope) + " is not a commune code");
  store::ReadSnapshot snapshot(node.store());  // the groups and their records, of one moment
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::DuplicateGroup> groups,
                          node.store().DuplicateGroups(scope, limit));
  std::vector<DuplicateReportGroup> out;
  for (auto& g : groups) {
    DuplicateReportGroup group;
    group.key = std::move(g.key);
    for (auto& m : g.members) {
      DuplicateMember d;
      d.record_id = std::move(m.record_id);
      d.commune = std::move(m.scope);
      d.type = std::move(m.type);
      d.personal_id = std::move(m.personal_id);
      // The names as written, where the key holds them folded: what a
      // person compares.
      TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec,
                              node.store().GetRecord(d.record_id, d.commune));
      if (rec) {
        std::string event = d.type, base = "data";
        if (event == "re_registration") {
          event = Winner(rec->state, "data.event_type");
          base = "data.event";
        }
        const std::string person = base + (event == "death" ? ".deceased" : ".child");
        d.full_name = Winner(rec->state, person + ".full_name");
        d.birth_date = Winner(rec->state, person + ".birth_date");
        d.registered_at = Winner(rec->state, "registered_at");
        if (event == "birth") {
          d.mother = Winner(rec->state, base + ".mother.full_name");
          d.father = Winner(rec->state, base + ".father.full_name");
        }
      }
      group.members.push_back(std::move(d));
    }
    out.push_back(std::move(group));
  }
  return out;
}

Result<StatusReport> StatusOf(node::Node& node) {
  StatusReport out;
  // Certificates another process (enroll sign, revoke) may have added: read
  // again only when the trust stamp moved (a full reload is ~30 ms).
  TUPHAP_RETURN_IF_ERROR(node.ReloadTrustIfChanged().status());
  std::map<std::string, CommuneStatusRow> by;
  auto row = [&](const std::string& commune) -> CommuneStatusRow& {
    CommuneStatusRow& r = by[commune];
    if (r.commune.empty()) {
      r.commune = commune;
      if (const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(commune))
        r.name = c->name;
    }
    return r;
  };
  if (node.info().role == node::Role::kCommune) row(node.info().commune);
  TUPHAP_ASSIGN_OR_RETURN(std::vector<node::Node::PeerRow> peers, node.Peers());
  std::map<replication::PublicKey, const node::Node::PeerRow*> peer_of;
  for (const auto& p : peers) peer_of[p.peer] = &p;
  if (const node::Trust* trust = node.trust()) {
    for (const auto& [key, cert] : trust->certificates()) {
      if (!replication::IsCommuneRole(cert.role)) continue;
      if (node.info().role == node::Role::kCommune && cert.commune != node.info().commune) continue;
      NodeStatusRow n;
      n.node_id = node::NodeIdText(key);
      n.role = replication::NodeRoleName(cert.role);
      n.revoked = trust->IsRevoked(key);
      if (auto it = peer_of.find(key); it != peer_of.end()) {
        n.last_contact_ms = it->second->last_contact_ms;
        n.last_success_ms = it->second->last_success_ms;
        n.pending_out = it->second->pending_out;
        n.pending_in = it->second->pending_in;
        n.refused = it->second->refused;
      }
      row(cert.commune).nodes.push_back(std::move(n));
    }
  }
  using Counted = store::Store::Counted;
  auto count_by_scope = [&](Counted what, uint64_t CommuneStatusRow::*field) -> tuphap::Status {
    TUPHAP_ASSIGN_OR_RETURN(auto counts, node.store().CountByScope(what));
    for (const auto& [scope, n] : counts) {
      if (!replication::IsPublicScope(scope)) row(scope).*field = n;
    }
    return Status::Ok();
  };
  TUPHAP_RETURN_IF_ERROR(count_by_scope(Counted::kRecords, &CommuneStatusRow::records));
  TUPHAP_RETURN_IF_ERROR(count_by_scope(Counted::kHeld, &CommuneStatusRow::held));
  TUPHAP_RETURN_IF_ERROR(count_by_scope(Counted::kOpenConflicts, &CommuneStatusRow::conflicts));
  TUPHAP_RETURN_IF_ERROR(count_by_scope(Counted::kEquivocations, &CommuneStatusRow::equivocations));
  TUPHAP_RETURN_IF_ERROR(
      count_by_scope(Counted::kPersonConflicts, &CommuneStatusRow::person_conflicts));
  TUPHAP_ASSIGN_OR_RETURN(out.invalid, node.store().InvalidCounts());
  for (const auto& c : out.invalid) {
    if (!replication::IsPublicScope(c.scope)) row(c.scope).invalid += c.count;
  }
  for (auto& [k, v] : by) out.communes.push_back(std::move(v));
  TUPHAP_ASSIGN_OR_RETURN(out.refusals, node.store().Refusals());
  return out;
}

Result<std::vector<AttentionRow>> Attention(node::Node& node, domain::Lang lang,
                                            bool include_revoked) {
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FlaggedRecord> flagged,
                          node.store().FlaggedRecords(include_revoked));
  std::vector<AttentionRow> out;
  for (auto& f : flagged) {
    AttentionRow a;
    TUPHAP_ASSIGN_OR_RETURN(a.message,
                            domain::DescribeFlag(node.store(), f, lang, node.book_writers()));
    TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec,
                            node.store().GetRecord(f.record_id, f.scope));
    if (rec) {
      if (const crdt::MvRegister* t = rec->state.Field(crdt::kTypeField)) {
        for (const auto& e : t->entries())
          a.created_by.push_back(node::NodeIdText(e.dot.origin.bytes));
      }
      if (!rec->history.empty()) {
        a.last_origin = rec->history.back().origin;
        a.last_change = rec->history.back().hlc;
      }
    }
    a.record = std::move(f);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace tuphap::report
