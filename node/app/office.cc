#include "node/app/office.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iterator>

#include "base/file_io.h"
#include "node/domain/catalogue.h"
#include "node/domain/content_rules.h"
#include "node/domain/dates.h"
#include "node/domain/reference_data.h"
#include "node/keys.h"

namespace tuphap::app {
namespace {

// The sorted lines of `text` (a person index dump).
std::vector<std::string_view> SortedLines(const std::string& text) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    out.push_back(std::string_view(text).substr(at, end - at));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::unique_ptr<Office>> Office::Open(const std::string& data_dir,
                                             const node::NodeOptions& options, domain::Lang lang) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<node::Node> n, node::Node::Open(data_dir, options));
  return std::make_unique<Office>(std::move(n), lang);
}

Status Office::Init(const std::string& data_dir, const node::InitParams& params,
                    const replication::SecretBytes& passphrase, node::KdfLimits kdf) {
  return node::Node::Init(data_dir, params, passphrase, kdf);
}

Office::Office(std::unique_ptr<node::Node> node, domain::Lang lang)
    : node_(std::move(node)), lang_(lang) {}

Office::~Office() = default;

const node::NodeInfo& Office::info() const { return node_->info(); }

std::string Office::node_id() const { return node::NodeIdText(node_->sign_key()); }

void Office::set_officer(std::string officer) { node_->set_officer(std::move(officer)); }

const std::string& Office::officer() const { return node_->options().officer; }

std::string Office::Today() const {
  return domain::VietnamDate(node_->options().clock->WallMillis()).ToString();
}

domain::Registry& Office::registry() {
  // The registry words its refusals in one language: a new one when the
  // office's changed (a web request in the other language).
  if (registry_ == nullptr || registry_lang_ != lang_) {
    registry_ = std::make_unique<domain::Registry>(*node_, lang_);
    registry_lang_ = lang_;
  }
  return *registry_;
}

// --- records ---------------------------------------------------------------

// --scope naming another commune cannot apply on a commune node (it used to
// be ignored, and the record went into the node's own commune). A hub names
// the commune for every registration (Registry::Register says so when it is
// missing).
Status Office::CheckWriteScope(const std::string& scope) const {
  const node::NodeInfo& i = info();
  if (scope.empty() || i.role != node::Role::kCommune || scope == i.commune) return Status::Ok();
  return Status::InvalidArgument(
      domain::Tr(lang_,
                 "--scope {0} cannot apply: this node is commune {1}'s and registers only into its "
                 "own books (a hub registers into a commune's books with --scope)",
                 {scope, i.commune}));
}

Result<Office::Registered> Office::Register(std::string_view type, Json doc,
                                            const std::string& scope) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  TUPHAP_RETURN_IF_ERROR(CheckWriteScope(scope));
  domain::MaritalRecord marital;
  Registered out;
  TUPHAP_ASSIGN_OR_RETURN(out.id, registry().Register(type, std::move(doc), scope, &marital));
  if (!marital.status.empty()) out.marital = std::move(marital);
  return out;
}

Status Office::Amend(const std::string& id,
                     const std::vector<std::pair<std::string, std::string>>& fields,
                     const std::string& reason, const std::string& scope) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  return registry().Amend(id, fields, reason, scope);
}

Status Office::Revoke(const std::string& id, const std::string& reason, const std::string& scope) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  return node_->Revoke(id, reason, scope);
}

Status Office::Resolve(const std::string& id, const std::string& field, const std::string& value,
                       const std::string& reason, const std::string& scope) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  return registry().Resolve(id, field, value, reason, scope);
}

Result<Office::SearchPage> Office::Search(std::string_view query, std::string_view type,
                                          std::string_view from, std::string_view to, size_t offset,
                                          size_t limit) {
  SearchPage page;
  if (limit == 0) return page;
  // One hit more than the page tells whether there are more. The registry
  // ranks the rows it fetched (accents as typed first), so that extra row —
  // the oldest fetched, the store giving the latest first — is dropped
  // before the page is cut: the first `offset + limit` hits are then those
  // a search for exactly that many gives.
  const size_t end = offset + limit;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<domain::SearchHit> hits,
                          registry().Search(NormalizeReferences(query), type, from, to, end + 1));
  if (hits.size() > end) {
    page.more = true;
    // The store's order: event date descending, then record id ascending.
    auto last = std::min_element(hits.begin(), hits.end(),
                                 [](const domain::SearchHit& a, const domain::SearchHit& b) {
                                   if (a.date != b.date) return a.date < b.date;
                                   return a.record_id > b.record_id;
                                 });
    hits.erase(last);
  }
  if (offset < hits.size()) {
    page.hits.assign(std::make_move_iterator(hits.begin() + static_cast<ptrdiff_t>(offset)),
                     std::make_move_iterator(hits.end()));
  }
  return page;
}

Result<store::RecordView> Office::GetRecord(const std::string& id, const std::string& scope) {
  return node_->GetRecord(id, scope);
}

Result<std::vector<node::HistoryEntry>> Office::History(const std::string& id,
                                                        const std::string& scope) {
  return node_->History(id, scope);
}

Result<std::vector<std::pair<std::string, std::vector<node::EntryView>>>> Office::FieldConflicts(
    const store::RecordView& record) {
  std::vector<std::pair<std::string, std::vector<node::EntryView>>> out;
  for (const auto& [name, reg] : record.state.fields()) {
    // $type with two entries: two creations claimed this id (a duplicate
    // registration) even when they agree on the type.
    const bool duplicate = name == crdt::kTypeField && reg.entries().size() > 1;
    if (!reg.InConflict() && !duplicate) continue;
    TUPHAP_ASSIGN_OR_RETURN(std::vector<node::EntryView> entries,
                            node_->DescribeEntries(record.scope, reg));
    out.emplace_back(name, std::move(entries));
  }
  return out;
}

Result<Office::RecordPage> Office::Record(const std::string& id, const std::string& scope) {
  RecordPage page;
  TUPHAP_ASSIGN_OR_RETURN(page.record, node_->GetRecord(id, scope));
  TUPHAP_ASSIGN_OR_RETURN(page.history, node_->History(page.record.record_id, page.record.scope));
  TUPHAP_ASSIGN_OR_RETURN(page.conflicts, FieldConflicts(page.record));
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> persons,
                          node_->store().PersonConflicts(page.record.scope));
  for (auto& c : persons) {
    if ((c.record_id == page.record.record_id && c.scope == page.record.scope) ||
        (c.other_id == page.record.record_id && c.other_scope == page.record.scope)) {
      page.person_conflicts.push_back(std::move(c));
    }
  }
  if (!page.record.invalid.empty()) {
    store::FlaggedRecord f;
    f.record_id = page.record.record_id;
    f.scope = page.record.scope;
    f.type = page.record.state.Type();
    f.flag = page.record.invalid;
    f.revoked = page.record.state.Revoked();
    TUPHAP_ASSIGN_OR_RETURN(page.flag_message,
                            domain::DescribeFlag(node_->store(), f, lang_, node_->book_writers()));
  }
  return page;
}

Result<std::vector<store::RecordView>> Office::Records(const std::string& scope,
                                                       const std::string& prefix) {
  return node_->store().RecordsWithPrefix(scope, prefix);
}

Result<Office::PersonPage> Office::Person(const std::string& personal_id, const std::string& on) {
  if (personal_id.size() != 12 ||
      personal_id.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(
        domain::Tr(lang_, "personal ID '{0}' is not 12 digits", {personal_id}));
  }
  PersonPage page;
  page.personal_id = personal_id;
  page.on = on.empty() ? Today() : on;
  if (!domain::ParseDateOrNull(page.on)) {
    return Status::InvalidArgument(
        domain::Tr(lang_, "'{0}' is not a date (YYYY-MM-DD)", {page.on}));
  }
  store::Store& s = node_->store();
  store::ReadSnapshot snapshot(s);  // the rows, the status and the conflicts of one moment
  const store::PersonRowsOf rows_of = [&](std::string_view p) {
    return s.PersonRows(p, /*judged_only=*/true);
  };
  TUPHAP_ASSIGN_OR_RETURN(page.records, s.PersonRows(personal_id));
  page.cut = page.records.size() >= store::kMaxPersonEntries;
  TUPHAP_ASSIGN_OR_RETURN(page.marital,
                          domain::MaritalStatusOnRecord(personal_id, page.on, rows_of));
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> all, s.PersonConflicts());
  for (auto& c : all)
    if (c.personal_id == personal_id) page.conflicts.push_back(std::move(c));
  return page;
}

Result<int64_t> Office::LeaseNumbers(const std::string& to_node, std::string_view register_code,
                                     int year, int count) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  return registry().GrantLease(to_node, register_code, year, count);
}

// --- import ----------------------------------------------------------------

Result<domain::ImportSummary> Office::Import(LineReader& reader,
                                             const domain::ImportOptions& options) {
  TUPHAP_RETURN_IF_ERROR(Refresh());
  return domain::Import(registry(), reader, options);
}

// --- schema ----------------------------------------------------------------

Result<std::vector<const domain::TypeSchema*>> Office::Schemas(std::string_view type) {
  if (!type.empty() && !domain::IsRecordType(type))
    return Status::InvalidArgument("unknown record type \"" + std::string(type) + "\"");
  std::vector<const domain::TypeSchema*> out;
  for (const domain::TypeSchema& s : domain::AllSchemas()) {
    if (type.empty() || s.type == type) out.push_back(&s);
  }
  return out;
}

// --- status and reports ----------------------------------------------------

Result<Office::NodeStatus> Office::GetNodeStatus() {
  NodeStatus out;
  out.info = node_->info();
  TUPHAP_ASSIGN_OR_RETURN(out.security, node_->Security());
  TUPHAP_ASSIGN_OR_RETURN(out.peers, node_->Peers());
  return out;
}

Result<Office::Home> Office::HomePage() {
  Home h;
  h.today = Today();
  TUPHAP_ASSIGN_OR_RETURN(store::Store::DayRecords today, node_->store().RecordsOfDay(h.today, 0));
  h.registered_today = today.in_force;
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, node_->store().Heads());
  for (const auto& head : heads)
    if (head.feed.origin == node_->info().id) h.own_changes += head.seq;
  TUPHAP_ASSIGN_OR_RETURN(h.peers, node_->Peers());
  h.waiting_to_sync = h.peers.empty() ? h.own_changes : 0;
  for (const auto& p : h.peers) {
    h.waiting_to_sync = std::max(h.waiting_to_sync, p.pending_out);
    h.last_sync_ms = std::max(h.last_sync_ms, p.last_success_ms);
    h.last_contact_ms = std::max(h.last_contact_ms, p.last_contact_ms);
  }
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::ConflictRow> conflicts, node_->Conflicts());
  h.open_conflicts = conflicts.size();
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> persons,
                          report::PersonConflicts(*node_));
  h.person_conflicts = persons.size();
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::InvalidCount> invalid, node_->store().InvalidCounts());
  for (const auto& c : invalid) h.attention += c.count;
  return h;
}

Result<std::vector<report::StatsRow>> Office::Stats(const report::StatsOptions& options) {
  return report::Stats(*node_, options);
}

Result<Office::ConflictsReport> Office::Conflicts() {
  ConflictsReport out;
  TUPHAP_ASSIGN_OR_RETURN(out.fields, report::Conflicts(*node_));
  TUPHAP_ASSIGN_OR_RETURN(out.persons, report::PersonConflicts(*node_));
  return out;
}

Result<Office::DuplicatesReport> Office::Duplicates(std::string_view scope, size_t limit) {
  DuplicatesReport out;
  // One group more than shown tells whether the list was cut.
  TUPHAP_ASSIGN_OR_RETURN(out.groups, report::Duplicates(*node_, scope, limit + 1));
  out.more = out.groups.size() > limit;
  if (out.more) out.groups.resize(limit);
  return out;
}

Result<Office::AttentionReport> Office::Attention(bool include_revoked) {
  AttentionReport out;
  TUPHAP_ASSIGN_OR_RETURN(out.records, report::Attention(*node_, lang_, include_revoked));
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> persons,
                          report::PersonConflicts(*node_));
  out.person_conflicts = persons.size();
  return out;
}

Result<report::StatusReport> Office::ProvinceStatus() { return report::StatusOf(*node_); }

std::string Office::CommuneName(std::string_view code) {
  const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(code);
  return c != nullptr ? c->name : std::string();
}

std::string Office::ProvinceName(std::string_view code) {
  return std::string(domain::ReferenceData::Get().ProvinceName(code));
}

Result<std::vector<store::ScopeDigest>> Office::Digests(const std::string& scope) {
  std::optional<std::string_view> only;
  if (!scope.empty()) only = scope;
  return node_->Digests(only);
}

// --- indexes ---------------------------------------------------------------

Result<uint64_t> Office::RebuildIndexes() {
  TUPHAP_RETURN_IF_ERROR(node_->store().Reindex());
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::PersonConflictRow> conflicts,
                          node_->store().PersonConflicts());
  return static_cast<uint64_t>(conflicts.size());
}

Result<Office::IndexCheck> Office::CheckIndexes() {
  IndexCheck out;
  TUPHAP_ASSIGN_OR_RETURN(std::string kept, node_->store().PersonIndexDump());
  TUPHAP_ASSIGN_OR_RETURN(std::string rebuilt, node_->store().RebuiltPersonIndexDump());
  out.equal = kept == rebuilt;
  if (out.equal) return out;
  const auto a = SortedLines(kept), b = SortedLines(rebuilt);
  std::vector<std::string_view> only_kept, only_rebuilt;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_kept));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_rebuilt));
  if (!only_rebuilt.empty()) {
    out.first_difference = std::string(only_rebuilt.front());
    out.missing = true;
  } else if (!only_kept.empty()) {
    out.first_difference = std::string(only_kept.front());
  }
  return out;
}

Result<uint64_t> Office::Snapshot(const std::string& path) {
  if (std::filesystem::exists(path))
    return Status::AlreadyExists(path + " already exists: choose a new file");
  // The copy holds readable records, as the store does: owner only. Written
  // under a temporary name and published whole (fsync, rename, fsync of the
  // directory): a crash leaves no half snapshot.
  // The temporary's name is this process's (and unique in it); one with
  // that name can only be left by an earlier process that had our PID.
  static std::atomic<uint64_t> counter{0};
  RemoveStaleTemporaries(path);
  const std::string tmp =
      path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  std::error_code ignored;
  std::filesystem::remove(tmp, ignored);
  const mode_t old = umask(077);
  Status s = node_->store().Snapshot(tmp);
  umask(old);
  if (s.ok()) {
    s = PublishFile(tmp, path);
  } else {
    std::filesystem::remove(tmp, ignored);
  }
  TUPHAP_RETURN_IF_ERROR(s.Annotate("snapshot to " + path));
  return static_cast<uint64_t>(std::filesystem::file_size(path));
}

// --- enrolment -------------------------------------------------------------

Result<std::string> Office::EnrollRequest(const std::string& label) {
  return node_->EnrollRequestFile(label);
}

Result<node::Enrolment> Office::EnrollSign(std::string_view request, int days) {
  return node_->EnrollSign(request, days);
}

Result<Office::Accepted> Office::EnrollAccept(std::string_view enrolment_file) {
  TUPHAP_ASSIGN_OR_RETURN(auto r, node_->EnrollAccept(enrolment_file));
  Accepted out;
  out.certificate = std::move(r.first);
  out.drafts_sealed = r.second;
  out.root = node::NodeIdText(node_->trust()->root());
  return out;
}

Result<node::RevocationResult> Office::RevokeNode(const std::string& node_id,
                                                  const std::string& reason,
                                                  std::optional<uint64_t> cut) {
  return node_->RevokeNode(node_id, reason, cut);
}

// --- sync ------------------------------------------------------------------

Status Office::Unlock() { return node_->Unlock(); }

Status Office::Refresh() { return node_->ReloadTrustIfChanged().status(); }

Status Office::Serve(const node::ServeOptions& options, std::atomic<bool>* stop) {
  return node::Serve(*node_, options, stop);
}

Result<node::SyncResult> Office::SyncNow(const std::string& endpoint, const std::string& peer,
                                         int timeout_s) {
  node::SyncOnceOptions o;
  o.endpoint = endpoint;
  o.peer = peer;
  o.timeout_s = timeout_s;
  return node::SyncOnce(*node_, o);
}

Result<node::BundleExport> Office::ExportBundle(const std::string& peer, bool all,
                                                const std::string& path) {
  return node::ExportBundle(*node_, peer, all, path);
}

Result<node::BundleImport> Office::ImportBundle(const std::string& path) {
  return node::ImportBundle(*node_, path);
}

Result<Office::ReconcileResult> Office::Reconcile(const ReconcileOptions& options) {
  if (options.peer.empty() == options.from.empty())
    return Status::InvalidArgument("name the other copy: a peer's endpoint or a file");
  TUPHAP_RETURN_IF_ERROR(node_->Unlock());
  const store::EnvelopeOpener* opener = &node_->opener();
  node::StoreSource ours(node_->store(), node_->opener(),
                         [opener](std::string_view s) { return opener->CanRead(s); });
  std::unique_ptr<node::PeerQueries> channel;
  std::unique_ptr<node::ReconcileSource> theirs;  // the peer, or a file's store
  ReconcileResult out;
  if (!options.peer.empty()) {
    // NODE-ID@ENDPOINT names the node there, as --upstream does.
    std::string endpoint = options.peer, peer_id = options.peer_id;
    if (const size_t at = endpoint.find('@'); at != std::string::npos) {
      peer_id = endpoint.substr(0, at);
      endpoint = endpoint.substr(at + 1);
    }
    TUPHAP_ASSIGN_OR_RETURN(channel,
                            node::PeerQueries::Open(*node_, endpoint, peer_id, options.timeout_s));
    theirs = node::RemoteSource(*channel);
    out.other = channel->peer_id() + " at " + endpoint;
    out.remote = true;
  } else {
    TUPHAP_ASSIGN_OR_RETURN(theirs, node::OpenFileSource(*node_, options.from));
    out.other = options.from;
  }
  std::vector<std::string> scopes;
  if (!options.scope.empty()) scopes.push_back(options.scope);
  TUPHAP_ASSIGN_OR_RETURN(
      out.report, node::Reconcile(ours, *theirs, scopes, node_->store().options().adjudicated));
  if (channel) {
    out.queries = channel->queries();
    out.bytes_sent = channel->bytes_out();
    out.bytes_received = channel->bytes_in();
  }
  return out;
}

}  // namespace tuphap::app
