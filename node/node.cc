#include "node/node.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "base/file_io.h"
#include "base/ulid.h"
#include "base/utf8.h"
#include "node/domain/content_rules.h"
#include "node/domain/indexer.h"
#include "node/domain/person_rules.h"
#include "node/domain/reference_data.h"
#include "node/node_dir.h"
#include "node/restore.h"
#include "replication/change_codec.h"
#include "replication/draft.h"

namespace tuphap::node {

std::unique_ptr<store::EnvelopeOpener> MakeNodeOpener(Node* node);

namespace {

namespace fs = std::filesystem;

constexpr const char* kMetaRole = "role";
constexpr const char* kMetaCommune = "commune";
constexpr const char* kMetaProvince = "province";
constexpr const char* kMetaNodeId = "node_id";
constexpr const char* kMetaNumbering = "numbering";
constexpr const char* kMetaBoxKey = "box_key";
constexpr const char* kMetaCreated = "created_ms";
constexpr const char* kMetaRootKey = "root_key";
constexpr size_t kMinPassphrase = 8;
constexpr int64_t kHubCertMarginMs = 24LL * 3600 * 1000;
constexpr int64_t kHubCertValidMs = 20LL * 365 * 24 * 3600 * 1000;

Result<std::string> RequireMeta(store::Store& s, const char* key) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> v, s.GetMeta(key));
  if (!v)
    return Status::Corruption(std::string("the store has no '") + key +
                              "' entry: not a tuphap node");
  return *v;
}

Status CheckFieldNames(const std::vector<FieldUpdate>& fields) {
  std::map<std::string_view, int> seen;
  for (const auto& f : fields) {
    if (f.field.empty() || f.field[0] == '$') {
      return Status::InvalidArgument("field name '" + f.field + "' is empty or reserved");
    }
    if (++seen[f.field] > 1) {
      return Status::InvalidArgument("field '" + f.field + "' is given twice; set each field once");
    }
  }
  return Status::Ok();
}

// The store refuses a restored node's writes (E_RESTORED) in the write
// transaction; the refusal is worded here for people.
Status WordRestored(Status s, Role role) {
  return s.reason() == "E_RESTORED" ? RestoredRefusal(role == Role::kHub) : s;
}

}  // namespace

Status Node::Init(const std::string& dir, const InitParams& params_in,
                  const replication::SecretBytes& passphrase, KdfLimits kdf) {
  InitParams params = params_in;
  const domain::ReferenceData& ref = domain::ReferenceData::Get();
  if (params.role == Role::kCommune) {
    TUPHAP_RETURN_IF_ERROR(CheckCommuneCode(params.commune));
    const domain::CommuneInfo* c = ref.Commune(params.commune);
    if (c == nullptr) {
      return Status::InvalidArgument("commune " + params.commune +
                                     " is not in the 2025 list of communes (tuphap schema shows "
                                     "where the list comes from)");
    }
    params.province = c->province_code;
  } else {
    TUPHAP_RETURN_IF_ERROR(CheckProvinceCode(params.province));
    if (ref.ProvinceName(params.province).empty())
      return Status::InvalidArgument("province " + params.province +
                                     " is not one of the 2025 province codes");
  }
  if (CountCodePoints(passphrase.view()) < kMinPassphrase) {
    return Status::InvalidArgument("the passphrase must be at least " +
                                   std::to_string(kMinPassphrase) + " characters long");
  }
  // The node is built in a staging folder and published when whole
  // (node_dir.h): its key file, then its store.
  auto build = [&](const std::string& stage) -> Status {
    NodeSecrets secrets = GenerateSecrets(params.role == Role::kHub);
    const int64_t now = params.now_ms != 0 ? params.now_ms : SystemClock().WallMillis();
    TUPHAP_RETURN_IF_ERROR(WriteKeyFile(KeyFilePath(stage), secrets, passphrase, kdf));
    {
      TUPHAP_ASSIGN_OR_RETURN(
          std::unique_ptr<store::Store> s,
          store::Store::Open(StorePath(stage), store::Database::OpenMode::kCreate));
      auto bytes = [](const replication::PublicKey& k) {
        return std::string(replication::AsBytes(k));
      };
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, s->BeginTransaction());
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaRole, RoleName(params.role)));
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaCommune, params.commune));
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaProvince, params.province));
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(
          kMetaNumbering,
          params.role == Role::kHub ? "none" : (params.secondary ? "secondary" : "primary")));
      // The node id is its Ed25519 public key: every change it signs names it.
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaNodeId, bytes(secrets.sign.public_key())));
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaBoxKey, bytes(secrets.box.public_key())));
      TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaCreated, std::to_string(now)));
      if (secrets.root)
        TUPHAP_RETURN_IF_ERROR(s->SetMeta(kMetaRootKey, bytes(secrets.root->public_key())));
      TUPHAP_RETURN_IF_ERROR(txn->Commit());
    }
    if (params.role != Role::kHub) return Status::Ok();
    ManualClock init_clock(now);
    // The hub certifies itself with the root it holds and publishes the
    // certificate, so every node of the province can check its changes.
    NodeOptions options;
    options.clock = &init_clock;
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<Node> n, Node::Open(stage, options));
    n->vault_.Adopt(std::move(secrets));
    replication::Certificate cert;
    cert.sign_key = n->sign_pk_;
    cert.box_key = n->box_pk_;
    cert.role = replication::NodeRole::kHub;
    cert.province = params.province;
    cert.not_before_ms = static_cast<uint64_t>(now - kHubCertMarginMs);
    cert.not_after_ms = static_cast<uint64_t>(now + kHubCertValidMs);
    cert.issuer = n->trust_->root();
    const std::string signed_cert = cert.Sign(*n->vault_.secrets()->root);
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, n->BeginSession());
    TUPHAP_RETURN_IF_ERROR(n->StoreTrustObject(TrustKind::kCertificate, signed_cert));
    TUPHAP_RETURN_IF_ERROR(n->Publish(*session, {{TrustKind::kCertificate, signed_cert}}));
    return session->Commit();
  };
  return PublishNodeDir(dir, build);
}

Result<std::unique_ptr<Node>> Node::Open(const std::string& dir, const NodeOptions& options) {
  std::error_code ec;
  if (!fs::exists(StorePath(dir), ec)) {
    return Status::NotFound("no tuphap node in " + dir +
                            " (run 'tuphap init' first, or give --data DIR)");
  }
  store::StoreOptions store_options;
  store_options.clock = options.clock;
  store_options.max_clock_ahead_ms = options.max_clock_ahead_ms;
  store_options.adjudicated = domain::IsAdjudicated;
  store_options.index = domain::IndexRecord;
  if (options.person_rules) {
    store_options.person_rules = domain::JudgePerson;
  } else {
    store_options.index = [](std::string_view id, const crdt::RecordState& state) {
      store::IndexEntry e = domain::IndexRecord(id, state);
      e.persons.clear();
      return e;
    };
  }
  // Content from anywhere is judged, with the primary of each commune named
  // by the certificates this node trusts: the checker lives in the store,
  // which exists before the node, so it reaches the node through `self`
  // (filled below; the store dies with the node).
  auto self = std::make_shared<const Node*>(nullptr);
  store_options.checker =
      domain::MakeContentChecker([self](const crdt::ReplicaId& node, std::string_view commune) {
        return *self != nullptr ? (*self)->BookWriterOf(node, commune) : domain::BookWriter::kOther;
      });
  store_options.rejudge_on_open = false;  // after trust is loaded, below
  TUPHAP_ASSIGN_OR_RETURN(
      std::unique_ptr<store::Store> s,
      store::Store::Open(StorePath(dir), store::Database::OpenMode::kExisting, store_options));
  NodeInfo info;
  TUPHAP_ASSIGN_OR_RETURN(std::string role, RequireMeta(*s, kMetaRole));
  TUPHAP_ASSIGN_OR_RETURN(info.role, ParseRole(role));
  if (info.role == Role::kHub && options.serving_hub) TUPHAP_RETURN_IF_ERROR(s->UseHubSettings());
  TUPHAP_ASSIGN_OR_RETURN(info.commune, RequireMeta(*s, kMetaCommune));
  TUPHAP_ASSIGN_OR_RETURN(info.province, RequireMeta(*s, kMetaProvince));
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> numbering, s->GetMeta(kMetaNumbering));
  info.numbering = !numbering || *numbering == "none" ? Numbering::kNone
                   : *numbering == "secondary"        ? Numbering::kSecondary
                                                      : Numbering::kPrimary;
  if (info.province.empty() && info.role == Role::kCommune) {
    if (const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(info.commune))
      info.province = c->province_code;
  }
  TUPHAP_ASSIGN_OR_RETURN(std::string id, RequireMeta(*s, kMetaNodeId));
  if (id.size() != info.id.bytes.size())
    return Status::Corruption("the node id in the store is damaged");
  std::copy(id.begin(), id.end(), info.id.bytes.begin());
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> box, s->GetMeta(kMetaBoxKey));
  if (!box || box->size() != 32) {
    return Status::Corruption("the store in " + dir +
                              " has no node keys (made by a tuphap before keys existed): "
                              "init a new node and import its records");
  }
  replication::PublicKey box_pk{};
  std::copy(box->begin(), box->end(), box_pk.begin());
  KeyVault vault(KeyFilePath(dir), info.id.bytes, box_pk, options.passphrase);
  std::unique_ptr<Node> n(new Node(std::move(s), std::move(info), options, std::move(vault)));
  n->dir_ = dir;
  n->sign_pk_ = n->info_.id.bytes;
  n->box_pk_ = box_pk;
  *self = n.get();
  TUPHAP_RETURN_IF_ERROR(n->LoadTrust());
  TUPHAP_RETURN_IF_ERROR(n->store_->RejudgeIfStale());
  return n;
}

domain::BookWriter Node::BookWriterOf(const crdt::ReplicaId& node, std::string_view commune) const {
  using domain::BookWriter;
  // Any certificate of the key counts, revoked or not: a revocation cuts
  // the node's feeds (what it wrote before the cut stays valid), and the
  // ingest gate judges the dates against each change.
  if (const replication::Certificate* cert = trust_ ? trust_->CertFor(node.bytes) : nullptr) {
    if (cert->role == replication::NodeRole::kHub) return BookWriter::kHub;
    return cert->role == replication::NodeRole::kCommune && cert->commune == commune
               ? BookWriter::kPrimary
               : BookWriter::kOther;
  }
  if (node != info_.id) return BookWriter::kOther;
  if (info_.role == Role::kHub) return BookWriter::kHub;
  return info_.numbering == Numbering::kPrimary && info_.commune == commune ? BookWriter::kPrimary
                                                                            : BookWriter::kOther;
}

Node::Node(std::unique_ptr<store::Store> store, NodeInfo info, const NodeOptions& options,
           KeyVault vault)
    : store_(std::move(store)),
      info_(std::move(info)),
      options_(options),
      clock_(*options.clock, options.max_clock_ahead_ms),
      opener_(MakeNodeOpener(this)),
      vault_(std::move(vault)) {}

Node::~Node() = default;

Result<std::unique_ptr<store::Store::Session>> Node::BeginSession() {
  // A key made in a session that rolled back must not seal anything.
  TUPHAP_RETURN_IF_ERROR(ForgetUncommittedKeys());
  // Keys first (a prompt, then Argon2id): never while holding the write
  // lock. A node with trust seals what it writes and may open what it
  // reads; one without (a commune before enrolment) writes drafts only.
  if (trust_) TUPHAP_RETURN_IF_ERROR(Unlock());
  return store_->BeginSession(*opener_);
}

Result<crdt::Change> Node::StampChange(const std::string& scope,
                                       const store::Store::LocalSlot& slot) {
  clock_.Restore(slot.last_hlc);
  crdt::Change change;
  change.origin = info_.id;
  change.scope = scope;
  change.seq = slot.seq;
  TUPHAP_ASSIGN_OR_RETURN(
      change.hlc,
      clock_.Now(options_.accept_clock_behind ? crdt::HlcClock::WhenBehind::kContinueLogically
                                              : crdt::HlcClock::WhenBehind::kRefuse));
  change.officer = options_.officer;
  return change;
}

Status Node::Append(store::Store::Session& session, const std::string& scope,
                    const std::string& reason, const OpsBuilder& build) {
  if (!IsValidUtf8(options_.officer) || !IsValidUtf8(reason)) {
    return Status::InvalidArgument("the officer name and the reason must be UTF-8 text");
  }
  const RecordReader read = [&](const std::string& id) { return session.GetRecord(scope, id); };
  TUPHAP_RETURN_IF_ERROR(EnsureWriteKey(session, scope));
  return WordRestored(
      session.AppendLocal(
          store::FeedKey{info_.id, scope},
          [&](const store::Store::LocalSlot& slot) -> Result<store::Store::Incoming> {
            TUPHAP_ASSIGN_OR_RETURN(crdt::Change change, StampChange(scope, slot));
            change.reason = reason;
            TUPHAP_ASSIGN_OR_RETURN(change.records, build(read));
            TUPHAP_RETURN_IF_ERROR(change.CheckShape());
            TUPHAP_RETURN_IF_ERROR(replication::CheckLimits(change, replication::kDefaultLimits));
            TUPHAP_ASSIGN_OR_RETURN(
                replication::Envelope env,
                vault_.Seal(change, replication::EncodeChangeBody(change), slot.prev));
            return store::Store::Incoming{std::move(env), std::move(change)};
          }),
      info_.role);
}

Result<Node::PreparedOps> Node::Prepare(std::vector<crdt::RecordOps> records,
                                        std::string reason) const {
  crdt::Change c;  // header fields do not matter for these checks: no pred names this feed
  c.origin = info_.id;
  c.seq = 1;
  c.officer = options_.officer;
  c.reason = std::move(reason);
  c.records = std::move(records);
  TUPHAP_RETURN_IF_ERROR(c.CheckShape());
  TUPHAP_RETURN_IF_ERROR(replication::CheckLimits(c, replication::kDefaultLimits));
  PreparedOps out;
  out.body = replication::EncodeChangeBody(c);
  out.records = std::move(c.records);
  out.reason = std::move(c.reason);
  return out;
}

Status Node::AppendPrepared(store::Store::Session& session, const std::string& scope,
                            PreparedOps&& ops) {
  TUPHAP_RETURN_IF_ERROR(EnsureWriteKey(session, scope));
  return WordRestored(
      session.AppendLocal(
          store::FeedKey{info_.id, scope},
          [&](const store::Store::LocalSlot& slot) -> Result<store::Store::Incoming> {
            TUPHAP_ASSIGN_OR_RETURN(crdt::Change change, StampChange(scope, slot));
            change.reason = std::move(ops.reason);
            change.records = std::move(ops.records);
            TUPHAP_ASSIGN_OR_RETURN(replication::Envelope env,
                                    vault_.Seal(change, ops.body, slot.prev));
            return store::Store::Incoming{std::move(env), std::move(change)};
          }),
      info_.role);
}

Status Node::Commit(const std::string& scope, const std::string& reason, const OpsBuilder& build) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, BeginSession());
  TUPHAP_RETURN_IF_ERROR(Append(*session, scope, reason, build));
  return session->Commit();
}

Result<std::string> Node::CreateRecord(const std::string& id, const std::string& type,
                                       const std::string& scope_arg,
                                       const std::vector<FieldUpdate>& fields,
                                       const std::string& reason) {
  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, BeginSession());
  TUPHAP_ASSIGN_OR_RETURN(std::string record_id,
                          CreateRecordIn(*session, id, type, scope_arg, fields, reason));
  TUPHAP_RETURN_IF_ERROR(session->Commit());
  return record_id;
}

Result<std::string> Node::CreateRecordIn(store::Store::Session& session, const std::string& id,
                                         const std::string& type, const std::string& scope_arg,
                                         const std::vector<FieldUpdate>& fields,
                                         const std::string& reason) {
  if (type.empty()) return Status::InvalidArgument("a record needs a type");
  std::string scope = scope_arg;
  if (scope.empty()) {
    if (info_.role == Role::kHub) {
      return Status::InvalidArgument(
          "a hub records into a commune's register: give the commune code (--scope)");
    }
    scope = info_.commune;
  }
  TUPHAP_RETURN_IF_ERROR(CheckCommuneCode(scope));
  if (info_.role == Role::kCommune && scope != info_.commune) {
    return Status::PermissionDenied("this node records for commune " + info_.commune +
                                    " only, not " + scope);
  }
  if (info_.role == Role::kHub && !opener_->CanRead(scope)) {
    return Status::PermissionDenied("commune " + scope + " is not in this hub's province " +
                                    info_.province);
  }
  std::string record_id = id;
  if (record_id.empty()) {
    std::array<uint8_t, 10> rnd;
    randombytes_buf(rnd.data(), rnd.size());
    record_id = MakeUlid(static_cast<uint64_t>(options_.clock->WallMillis()), rnd);
  }
  if (!IsValidUtf8(record_id)) return Status::InvalidArgument("a record id must be UTF-8 text");
  TUPHAP_RETURN_IF_ERROR(CheckFieldNames(fields));
  TUPHAP_RETURN_IF_ERROR(
      Append(session, scope, reason,
             [&](const RecordReader& read) -> Result<std::vector<crdt::RecordOps>> {
               TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> existing, read(record_id));
               if (existing)
                 return Status::AlreadyExists("record " + record_id + " already exists");
               crdt::RecordOps ops{
                   record_id, {{std::string(crdt::kTypeField), crdt::Value::String(type), {}}}};
               for (const auto& f : fields) ops.ops.push_back({f.field, f.value, {}});
               return std::vector<crdt::RecordOps>{std::move(ops)};
             }));
  return record_id;
}

Status Node::Update(const std::string& id, const std::string& scope_arg, const std::string& reason,
                    const std::function<Result<crdt::RecordOps>(const store::RecordView&)>& ops) {
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView current, GetRecord(id, scope_arg));
  if (replication::IsPublicScope(current.scope)) {
    return Status::PermissionDenied(
        "record " + id +
        " belongs to the province's public trust records: only enrolment and revocation "
        "write them");
  }
  if (info_.role == Role::kCommune && current.scope != info_.commune) {
    return Status::PermissionDenied("record " + id + " belongs to commune " + current.scope +
                                    "; this node writes for commune " + info_.commune + " only");
  }
  return Commit(current.scope, reason,
                [&](const RecordReader& read) -> Result<std::vector<crdt::RecordOps>> {
                  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec, read(id));
                  if (!rec) return Status::NotFound("no record with id " + id);
                  TUPHAP_ASSIGN_OR_RETURN(crdt::RecordOps r, ops(*rec));
                  return std::vector<crdt::RecordOps>{std::move(r)};
                });
}

Status Node::SetFields(const std::string& id, const std::vector<FieldUpdate>& fields,
                       const std::string& reason, const std::string& scope) {
  if (fields.empty()) return Status::InvalidArgument("nothing to change: give at least one field");
  TUPHAP_RETURN_IF_ERROR(CheckFieldNames(fields));
  return Update(id, scope, reason, [&](const store::RecordView& rec) -> Result<crdt::RecordOps> {
    if (rec.state.Revoked()) {
      return Status::FailedPrecondition("record " + id +
                                        " is revoked; it can no longer be amended");
    }
    crdt::RecordOps ops{id, {}};
    for (const auto& f : fields) {
      std::vector<crdt::Dot> pred;
      if (const crdt::MvRegister* reg = rec.state.Field(f.field)) pred = reg->Frontier();
      ops.ops.push_back({f.field, f.value, std::move(pred)});
    }
    return ops;
  });
}

Status Node::Revoke(const std::string& id, const std::string& reason, const std::string& scope) {
  if (reason.empty()) return Status::InvalidArgument("a revocation needs a reason");
  return Update(id, scope, reason, [&](const store::RecordView& rec) -> Result<crdt::RecordOps> {
    if (rec.state.Revoked())
      return Status::FailedPrecondition("record " + id + " is already revoked");
    std::vector<crdt::Dot> pred;
    if (const crdt::MvRegister* reg = rec.state.Field(crdt::kRevokedField)) pred = reg->Frontier();
    return crdt::RecordOps{
        id, {{std::string(crdt::kRevokedField), crdt::Value::String(reason), std::move(pred)}}};
  });
}

Result<store::RecordView> Node::GetRecord(const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec, store_->GetRecord(id, scope));
  if (!rec)
    return Status::NotFound("no record with id " + id +
                            (scope.empty() ? "" : " in commune " + scope));
  return std::move(*rec);
}

Result<std::vector<HistoryEntry>> Node::History(const std::string& id, const std::string& scope) {
  TUPHAP_ASSIGN_OR_RETURN(store::RecordView rec, GetRecord(id, scope));
  std::vector<HistoryEntry> out;
  // Every value ever written to the record, by dot: an op's "old" values are
  // what its pred names, i.e. what its author saw and replaced.
  std::map<crdt::Dot, crdt::RegisterEntry> written;
  for (const auto& ref : rec.history) {
    TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                            store_->GetEnvelope({ref.origin, rec.scope}, ref.seq));
    if (!env) return Status::Corruption("the log lacks a change named in the history of " + id);
    crdt::Change change;
    TUPHAP_RETURN_IF_ERROR(opener_->Open(*env, &change));
    HistoryEntry entry{change.origin, change.seq, change.hlc, change.officer, change.reason, {}};
    change.ForEachOp([&](const std::string& record_id, const crdt::Op& op, const crdt::Dot& dot) {
      if (record_id != id) return;
      OpView view{op.field, op.value, {}};
      std::vector<crdt::RegisterEntry> old;
      for (const auto& d : op.pred) {
        auto it = written.find(d);
        if (it != written.end()) old.push_back(it->second);
      }
      std::sort(old.begin(), old.end(),
                [](const auto& a, const auto& b) { return crdt::DisplayLess(b, a); });
      for (auto& e : old) view.old.push_back(std::move(e.value));
      written[dot] = crdt::RegisterEntry{dot, change.hlc, op.value};
      entry.ops.push_back(std::move(view));
    });
    out.push_back(std::move(entry));
  }
  return out;
}

Result<std::vector<store::ScopeDigest>> Node::Digests(std::optional<std::string_view> scope) {
  if (scope) TUPHAP_RETURN_IF_ERROR(CheckCommuneCode(*scope));
  return store_->Digests(scope);
}

Result<std::vector<store::ConflictRow>> Node::Conflicts() { return store_->Conflicts(); }

Result<std::vector<EntryView>> Node::DescribeEntries(const std::string& scope,
                                                     const crdt::MvRegister& reg) {
  std::vector<crdt::RegisterEntry> entries(reg.entries().begin(), reg.entries().end());
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return crdt::DisplayLess(b, a); });
  std::vector<EntryView> out;
  for (const auto& e : entries) {
    EntryView v{e.value, e.dot.origin, e.dot.seq, e.hlc, {}};
    TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> env,
                            store_->GetEnvelope({e.dot.origin, scope}, e.dot.seq));
    if (env) {
      crdt::Change change;
      if (opener_->Open(*env, &change).ok()) {
        v.officer = change.officer;
      } else {
        v.sealed = true;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace tuphap::node
