// Office: one node's services for a front end — the CLI (cli/) and the web
// app (web/) call this and nothing below it, so neither holds SQL, domain
// wiring (Registry, report sources, snapshots) or reconcile plumbing. Every
// answer is plain data; wording and layout stay in the front end.
//
// Errors are the node's and the domain's (node/node.h, domain/registry.h):
// InvalidArgument with the error class as reason() for refused input,
// NotFound for an unknown record, FailedPrecondition for a write the state
// does not allow. Messages are in the office's language where the domain
// words them.
//
// Not thread-safe: one Office per thread (a Store is used from one thread;
// the web server opens its own).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/line_reader.h"
#include "base/status.h"
#include "node/bundle.h"
#include "node/domain/importer.h"
#include "node/domain/messages.h"
#include "node/domain/person_rules.h"
#include "node/domain/registry.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/reconcile.h"
#include "node/report/reports.h"
#include "node/transport.h"

namespace tuphap::app {

// A request is one signed object of a few hundred bytes; an enrolment file
// a certificate and a key grant per epoch of the commune's key (a few KiB
// even after years of rotations). Larger files are not ones tuphap wrote:
// front ends read (or accept uploads of) at most this much.
inline constexpr size_t kMaxRequestFile = 1 << 20;
inline constexpr size_t kMaxEnrolmentFile = 16 << 20;

class Office {
 public:
  // NotFound (naming `data_dir`) when there is no store there.
  static Result<std::unique_ptr<Office>> Open(const std::string& data_dir,
                                              const node::NodeOptions& options, domain::Lang lang);
  // Creates a node's data directory (node::Node::Init).
  static Status Init(const std::string& data_dir, const node::InitParams& params,
                     const replication::SecretBytes& passphrase, node::KdfLimits kdf = {});
  Office(std::unique_ptr<node::Node> node, domain::Lang lang);
  ~Office();
  Office(const Office&) = delete;
  Office& operator=(const Office&) = delete;

  // For what has no service yet; keep its use rare.
  node::Node& node() { return *node_; }
  const node::NodeInfo& info() const;
  std::string node_id() const;  // NodeIdText of this node's signing key
  domain::Lang lang() const { return lang_; }
  void set_lang(domain::Lang lang) { lang_ = lang; }
  // Who acts: every later write carries this officer text (the change's
  // officer field, shown in history). The CLI sets it once from --officer;
  // the web sets it per request to the logged-in officer.
  void set_officer(std::string officer);
  const std::string& officer() const;
  // Today as YYYY-MM-DD in Vietnam, by this node's clock.
  std::string Today() const;

  // --- records -------------------------------------------------------------

  struct Registered {
    std::string id;
    // What the records show of the subject's marital status, for a
    // marital-status confirmation (domain/person_rules.h).
    std::optional<domain::MaritalRecord> marital;
  };
  // `doc`: a create line (at least its "data" object); missing header fields
  // are filled in (domain::Registry::Register). `scope`: the commune's code,
  // required on a hub; on a commune node only its own (InvalidArgument
  // otherwise).
  Result<Registered> Register(std::string_view type, Json doc, const std::string& scope = {});
  // A commune node registers only into its own commune's books:
  // InvalidArgument for a `scope` naming another (Register checks it too;
  // a front end may ask first, before reading its input).
  Status CheckWriteScope(const std::string& scope) const;
  // Officer input "path=text" read as the field's kind: numbers for numeric
  // fields, JSON for lists and blocks, text otherwise.
  static Json CoerceField(std::string_view type, const std::string& path, const std::string& text) {
    return domain::Registry::CoerceField(type, path, text);
  }
  // `fields` as (path, text), e.g. ("data.child.given_name", "An"); text is
  // read as the field's kind (domain::Registry::CoerceField).
  Status Amend(const std::string& id,
               const std::vector<std::pair<std::string, std::string>>& fields,
               const std::string& reason, const std::string& scope = {});
  Status Revoke(const std::string& id, const std::string& reason, const std::string& scope = {});
  // Settles a conflicted field on `value` (replaces every competing value).
  Status Resolve(const std::string& id, const std::string& field, const std::string& value,
                 const std::string& reason, const std::string& scope = {});

  struct SearchPage {
    std::vector<domain::SearchHit> hits;
    bool more = false;  // hits beyond offset + limit exist
  };
  // Diacritic-insensitive search over names, ID numbers and register
  // references (domain::Registry::Search), hits [offset, offset + limit).
  // A reference typed with its entry number unpadded ("ks 2026/24") is
  // read as the register writes it ("KS 2026/000024": NormalizeReferences).
  // `type`, `from`, `to` (YYYY-MM-DD) empty: any. The first page is exactly
  // what a search for `limit` hits gives (the CLI's --limit); the registry
  // ranks the window it fetched, so with a larger offset a hit may move
  // across a page boundary (docs/architecture.md, Application layer).
  Result<SearchPage> Search(std::string_view query, std::string_view type, std::string_view from,
                            std::string_view to, size_t offset, size_t limit);
  // "ks 2026/24" -> "KS 2026/000024": every register reference in `query`
  // (a register code, a year, an entry number of 1 to 6 digits) with its
  // number padded as records are numbered; the rest as it is.
  static std::string NormalizeReferences(std::string_view query);

  // Everything a record page shows.
  struct RecordPage {
    store::RecordView record;
    std::vector<node::HistoryEntry> history;
    // Per conflicted field, in field order, its competing values (display
    // winner first) with who wrote them. "$type" with two or more values is
    // a duplicate registration: two creations claimed this id.
    std::vector<std::pair<std::string, std::vector<node::EntryView>>> conflicts;
    // Open person conflicts this record is in (either side).
    std::vector<store::PersonConflictRow> person_conflicts;
    // Its content judged invalid (record.invalid non-empty): why, in the
    // office's language; "" otherwise.
    std::string flag_message;
  };
  Result<RecordPage> Record(const std::string& id, const std::string& scope = {});
  // The parts of a record page alone (record show, record history).
  Result<store::RecordView> GetRecord(const std::string& id, const std::string& scope = {});
  Result<std::vector<node::HistoryEntry>> History(const std::string& id,
                                                  const std::string& scope = {});
  // The competing values of every conflicted field of `record` (as
  // RecordPage::conflicts).
  Result<std::vector<std::pair<std::string, std::vector<node::EntryView>>>> FieldConflicts(
      const store::RecordView& record);

  // Records of `scope` whose id starts with `prefix`, in id order; not
  // bounded, so for small sets (a register-year of a small commune, the
  // demo).
  Result<std::vector<store::RecordView>> Records(const std::string& scope,
                                                 const std::string& prefix);

  // One person by 12-digit personal ID (the person index).
  struct PersonPage {
    std::string personal_id;
    std::string on;  // the date the marital status is as of
    std::vector<store::PersonRow> records;
    bool cut = false;  // records holds only the first store::kMaxPersonEntries
    domain::MaritalRecord marital;
    std::vector<store::PersonConflictRow> conflicts;
  };
  // `on`: YYYY-MM-DD, empty: today. InvalidArgument for an ID that is not
  // 12 digits or a date that is not one.
  Result<PersonPage> Person(const std::string& personal_id, const std::string& on = {});

  // Register numbers: on a commune's primary node, leases the next `count`
  // numbers of a register-year to another node of the commune; returns the
  // first.
  Result<int64_t> LeaseNumbers(const std::string& to_node, std::string_view register_code, int year,
                               int count);

  // --- import --------------------------------------------------------------

  // Streams JSON Lines from `reader` through validation into the store
  // (domain::Import: batches, all-or-nothing, progress, refused lines).
  Result<domain::ImportSummary> Import(LineReader& reader, const domain::ImportOptions& options);

  // --- schema --------------------------------------------------------------

  // Every record schema, or only `type`'s (InvalidArgument for an unknown
  // type). Variants of a type come as schemas of their own.
  static Result<std::vector<const domain::TypeSchema*>> Schemas(std::string_view type = {});

  // --- status and reports --------------------------------------------------

  // This node: identity, enrolment, keys, refusals, and its sync peers.
  struct NodeStatus {
    node::NodeInfo info;
    node::SecurityStatus security;
    std::vector<node::Node::PeerRow> peers;
  };
  Result<NodeStatus> GetNodeStatus();

  // A commune's home page.
  struct Home {
    std::string today;  // YYYY-MM-DD, Vietnam
    // Records in force (not revoked, content not judged invalid) whose
    // event date is today: registered today (a violation decision: decided
    // today). Read off the event-date index.
    uint64_t registered_today = 0;
    // Changes a peer lacks, as far as known: the most any peer lacks; with
    // no peer yet (never synced), every change this node made.
    uint64_t waiting_to_sync = 0;
    uint64_t own_changes = 0;     // changes this node wrote, all feeds
    int64_t last_sync_ms = 0;     // last successful sync with any peer; 0: never
    int64_t last_contact_ms = 0;  // last contact with any peer; 0: never
    uint64_t open_conflicts = 0;  // field conflicts
    uint64_t person_conflicts = 0;
    uint64_t attention = 0;  // unrevoked records judged invalid
    std::vector<node::Node::PeerRow> peers;
  };
  Result<Home> HomePage();

  // report stats.
  Result<std::vector<report::StatsRow>> Stats(const report::StatsOptions& options);
  // report conflicts, conflicts list: field conflicts oldest first, then
  // person conflicts.
  struct ConflictsReport {
    std::vector<report::ConflictReportRow> fields;
    std::vector<store::PersonConflictRow> persons;
  };
  Result<ConflictsReport> Conflicts();
  // report duplicates: at most `limit` groups (of `scope`'s records only,
  // when given); `more` when there were others.
  struct DuplicatesReport {
    std::vector<report::DuplicateReportGroup> groups;
    bool more = false;
  };
  Result<DuplicatesReport> Duplicates(std::string_view scope, size_t limit);
  // report attention: records judged invalid, and how many person conflicts
  // wait for an officer too (listed by Conflicts).
  struct AttentionReport {
    std::vector<report::AttentionRow> records;
    uint64_t person_conflicts = 0;
  };
  Result<AttentionReport> Attention(bool include_revoked);
  // report status: per commune and node (the hub's console).
  Result<report::StatusReport> ProvinceStatus();
  // Names from the reference data, for pages that show a code: a commune's
  // ("Phường Bắc Nha Trang") and a province's ("Khánh Hòa"); "" when the
  // code is not one.
  static std::string CommuneName(std::string_view code);
  static std::string ProvinceName(std::string_view code);
  // The province code of a commune code ("22333" -> "56"); "" when the
  // code is not one.
  static std::string ProvinceOf(std::string_view commune);
  Result<std::vector<store::ScopeDigest>> Digests(const std::string& scope = {});

  // --- indexes -------------------------------------------------------------

  // Rebuilds the search index, person index and person conflicts from the
  // records; returns how many person conflicts there are then.
  Result<uint64_t> RebuildIndexes();
  struct IndexCheck {
    bool equal = true;
    // The first entry one side has and the other lacks (sorted), with which
    // side: `missing` true when only a rebuild has it.
    std::string first_difference;
    bool missing = false;
  };
  Result<IndexCheck> CheckIndexes();

  // A consistent copy of the store in one new file (owner-only, published
  // whole). AlreadyExists when `path` exists. Returns its size in bytes.
  Result<uint64_t> Snapshot(const std::string& path);

  // --- enrolment (docs/security.md) -----------------------------------------

  // Commune side: the signed request file's bytes.
  Result<std::string> EnrollRequest(const std::string& label);
  // Hub side: certify a request (its bytes) for `days`.
  Result<node::Enrolment> EnrollSign(std::string_view request, int days);
  struct Accepted {
    replication::Certificate certificate;
    uint64_t drafts_sealed = 0;
    std::string root;  // NodeIdText of the province root
  };
  // Commune side: take the hub's enrolment file (its bytes).
  Result<Accepted> EnrollAccept(std::string_view enrolment_file);
  // Hub side: revoke a node by its id text or hex key.
  Result<node::RevocationResult> RevokeNode(const std::string& node_id, const std::string& reason,
                                            std::optional<uint64_t> cut);

  // --- sync ----------------------------------------------------------------

  // Syncs with the node at `endpoint` until both sides caught up. `peer`:
  // the node expected there, default this province's hub.
  // Hands this office (its node's store) to the calling thread, for a
  // server that opens it on one thread and serves on another.
  void AdoptThread() { node_->store().AdoptThread(); }
  // Re-reads what this node trusts when another process (enroll accept, a
  // sync bringing a new key epoch) changed it since, so that a long-lived
  // office (the web app's) writes sealed, with the current key, and reads
  // with current grants. Every write service calls it first, and the web
  // app before each request; never inside the node, where a reload would
  // free what a caller holds of the old trust. One pragma when nothing was
  // written.
  Status Refresh();
  // Reads the private keys now (asking for the passphrase): a server asks
  // at start, not in the middle of its work.
  Status Unlock();
  // The node's sync service (node::Serve): listens and/or keeps syncing
  // with upstreams until SIGINT/SIGTERM or `*stop`.
  Status Serve(const node::ServeOptions& options, std::atomic<bool>* stop = nullptr);
  Result<node::SyncResult> SyncNow(const std::string& endpoint, const std::string& peer = {},
                                   int timeout_s = 60);
  Result<node::BundleExport> ExportBundle(const std::string& peer, bool all,
                                          const std::string& path);
  Result<node::BundleImport> ImportBundle(const std::string& path);

  struct ReconcileOptions {
    // Exactly one of: a listening node's endpoint (NODE-ID@ENDPOINT names the
    // node there), or a snapshot or bundle file.
    std::string peer;
    std::string peer_id;  // with `peer`: the node expected (default: the hub)
    std::string from;
    std::string scope;  // only this commune; empty: every shared one
    int timeout_s = 60;
  };
  struct ReconcileResult {
    node::ReconcileReport report;
    std::string other;  // "NODE-ID at ENDPOINT", or the file
    bool remote = false;
    uint64_t queries = 0, bytes_sent = 0, bytes_received = 0;  // remote only
  };
  // Compares this node's records with the other copy down to the differing
  // fields.
  Result<ReconcileResult> Reconcile(const ReconcileOptions& options);

  // --- for the officers' web pages (office_pages.cc) ------------------------

  // Whether the last change this node made to `record` has reached the hub:
  // a peer that is not another commune node (by its certificate) is known
  // to hold that change's feed up to it (its HELLO or its ACK).
  enum class HubState {
    kNoLocalChange,  // this node never changed the record
    kWaiting,        // its last change here has not reached the hub yet
    kReached,
  };
  Result<HubState> RecordHubState(const store::RecordView& record);
  // What the hub side is known to hold of this node's feeds (per hub-side
  // peer, its heads), read once for a page that shows the state of many
  // records: RecordHubState reads the peers and their heads per call.
  struct HubHeads {
    std::vector<std::map<store::FeedKey, uint64_t>> peers;
  };
  Result<HubHeads> ReadHubHeads();
  // Whether a sync peer is the province's hub by its certificate (false
  // when no certificate of it is known), for pages that name peers.
  bool IsHubPeer(const replication::PublicKey& peer);
  // RecordHubState against heads read before (ReadHubHeads).
  HubState RecordHubState(const store::RecordView& record, const HubHeads& heads) const;

  // Records registered on `date` (YYYY-MM-DD, their event date), the
  // highest record id first, at most `limit`; revoked ones too. Reads the
  // event-date index and the records shown.
  Result<std::vector<store::RecordView>> RegisteredOn(const std::string& date, size_t limit);

  // A record being typed, as filled so far, judged with the import's rules
  // in the office's language: the problems at the paths in `touched` (at
  // most one each). Header fields missing from `doc` are filled as Register
  // would; a required field nobody has typed yet gets a stand-in value, and
  // a rule between fields is not reported while a field it may read in the
  // same block (person) is such a stand-in, so that the officer sees only
  // what is wrong with what they typed. Person rules (store) are not run:
  // Register does.
  Result<std::vector<domain::Problem>> CheckDraft(std::string_view type, Json doc,
                                                  const std::vector<std::string>& touched);

 private:
  domain::Registry& registry();

  std::unique_ptr<node::Node> node_;
  domain::Lang lang_;
  std::unique_ptr<domain::Registry> registry_;  // made when first needed, in lang_
  domain::Lang registry_lang_ = domain::Lang::kEnglish;
};

}  // namespace tuphap::app
