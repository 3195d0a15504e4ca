// The node's keys, enrolment, key grants and ingest (docs/security.md).
#include <algorithm>
#include <chrono>

#include "base/hex.h"
#include "node/domain/reference_data.h"
#include "node/node.h"
#include "replication/draft.h"
#include "replication/msgpack.h"
#include "replication/seal.h"

namespace tuphap::node {

using replication::Certificate;
using replication::EnrollRequest;
using replication::KeyGrant;
using replication::PublicKey;
using replication::Revocation;

namespace {

constexpr std::string_view kEnrolmentMagic = "tuphap-enrolment";
constexpr uint64_t kEnrolmentFormat = 1;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr size_t kMaxEnrolmentObjects = 100000;

const char* KindName(TrustKind k) {
  switch (k) {
    case TrustKind::kCertificate:
      return "cert";
    case TrustKind::kRevocation:
      return "revocation";
    case TrustKind::kGrant:
      return "grant";
  }
  return "?";
}

std::optional<TrustKind> KindFromName(std::string_view s) {
  if (s == "cert") return TrustKind::kCertificate;
  if (s == "revocation") return TrustKind::kRevocation;
  if (s == "grant") return TrustKind::kGrant;
  return std::nullopt;
}

std::optional<TrustKind> KindFromRecordId(std::string_view id) {
  if (id.starts_with(kCertPrefix)) return TrustKind::kCertificate;
  if (id.starts_with(kRevocationPrefix)) return TrustKind::kRevocation;
  if (id.starts_with(kGrantPrefix)) return TrustKind::kGrant;
  return std::nullopt;
}

PublicKey KeyOf(const crdt::ReplicaId& id) { return id.bytes; }

}  // namespace

// ------------------------------------------------------------------ opener

// Opens this node's envelopes: drafts and public (clear) bodies always,
// encrypted bodies with the data keys granted to it.
class NodeOpener final : public store::EnvelopeOpener {
 public:
  explicit NodeOpener(Node* node) : n_(node) {}

  bool CanRead(std::string_view scope) const override {
    const NodeInfo& info = n_->info_;
    if (replication::IsPublicScope(scope))
      return !info.province.empty() && scope == replication::PublicScope(info.province);
    if (info.role == Role::kCommune) return scope == info.commune;
    const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(scope);
    return c != nullptr && c->province_code == info.province;
  }

  bool CanOpen(const replication::EnvelopeHeader& h) const override {
    if (!CanRead(h.scope)) return false;
    if (h.version == replication::kDraftVersion) return true;
    if ((h.flags & replication::kFlagEncrypted) == 0) return true;
    return n_->keyring_.Has(h.scope, h.key_epoch) || !n_->secrets_;
  }

  Status Open(const replication::Envelope& env, crdt::Change* change) const override {
    const replication::EnvelopeHeader& h = env.header();
    if (env.is_draft()) return replication::OpenDraft(env, replication::kDefaultLimits, change);
    const uint8_t* key = nullptr;
    if ((h.flags & replication::kFlagEncrypted) != 0) {
      if (!n_->secrets_) {
        Status s = n_->Unlock();
        if (!s.ok()) return Status::Unavailable(s.message());
      }
      key = n_->keyring_.Get(h.scope, h.key_epoch);
      if (key == nullptr) {
        return Status::FailedPrecondition("no data key of epoch " + std::to_string(h.key_epoch) +
                                          " for " + h.scope)
            .WithReason("E_NO_KEY");
      }
    }
    return replication::OpenSealed(env, key, replication::kDefaultLimits, change);
  }

 private:
  Node* n_;
};

std::unique_ptr<store::EnvelopeOpener> MakeNodeOpener(Node* node) {
  return std::make_unique<NodeOpener>(node);
}

// ------------------------------------------------------------------ keys

Status Node::Unlock() {
  if (secrets_) return Status::Ok();
  if (!options_.passphrase) {
    return Status::FailedPrecondition(
               "the private keys are locked: set TUPHAP_PASSPHRASE or run the command on a "
               "terminal to type the passphrase")
        .WithReason("E_LOCKED");
  }
  TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes pass, options_.passphrase());
  TUPHAP_ASSIGN_OR_RETURN(NodeSecrets secrets, ReadKeyFile(KeyFilePath(dir_), pass));
  if (secrets.sign.public_key() != sign_pk_ || secrets.box.public_key() != box_pk_) {
    return Status::Corruption("the key file in " + dir_ + " belongs to another node")
        .WithReason("E_KEYFILE_DAMAGED");
  }
  secrets_ = std::move(secrets);
  return OpenGrants();
}

Status Node::OpenGrants() {
  if (!trust_ || !secrets_) return Status::Ok();
  for (const KeyGrant* g : trust_->GrantsTo(box_pk_)) {
    if (keyring_.Has(g->scope, g->epoch)) continue;
    auto key = replication::OpenSealedBox(secrets_->box, g->sealed);
    if (!key.ok() || key->size() != 32) continue;  // not ours after all; the root signed junk
    keyring_.Add(g->scope, g->epoch, std::move(*key));
  }
  return Status::Ok();
}

Result<std::string> Node::TrustStamp() {
  // trust_objects rows are only ever inserted, and a public record changes
  // only when its feed materialises one more change: counts and sums say
  // whether anything LoadTrust reads moved. One statement: about 30 µs on a
  // province's worth of objects and feeds, against ~30 ms for LoadTrust.
  TUPHAP_ASSIGN_OR_RETURN(
      store::Stmt q,
      store_->db().Prepare("SELECT (SELECT value FROM meta WHERE key = 'root_key'), "
                           "(SELECT count(*) FROM trust_objects), "
                           "(SELECT count(*) || '/' || coalesce(sum(applied_seq), 0) "
                           "FROM feeds WHERE scope = ?1)"));
  q.Bind(1, replication::PublicScope(info_.province));
  TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("the trust stamp query returned nothing");
  return ToHex(q.Blob(0)) + "|" + std::to_string(q.Int(1)) + "|" + std::string(q.Text(2));
}

Status Node::LoadTrust() {
  // The stamp first: a write landing while trust is read moves it again, so
  // the next ReloadTrustIfChanged reads once more rather than missing it.
  TUPHAP_ASSIGN_OR_RETURN(std::string stamp, TrustStamp());
  ++trust_loads_;
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> root, store_->GetMeta("root_key"));
  if (!root || root->size() != 32) {
    trust_.reset();
    trust_stamp_ = std::move(stamp);
    return Status::Ok();
  }
  PublicKey pk;
  std::copy(root->begin(), root->end(), pk.begin());
  // Built aside and swapped in whole: a read error must not leave a trust
  // that lacks a revocation.
  auto trust = std::make_unique<Trust>(pk, info_.province);
  {
    TUPHAP_ASSIGN_OR_RETURN(store::Stmt q,
                            store_->db().Prepare("SELECT kind, bytes FROM trust_objects"));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (auto kind = KindFromName(q.Text(0))) trust->Add(*kind, q.Blob(1));
    }
  }
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::RecordView> records,
                          store_->RecordsWithPrefix(replication::PublicScope(info_.province), "_"));
  for (const auto& rec : records) {
    auto kind = KindFromRecordId(rec.record_id);
    const crdt::MvRegister* reg = rec.state.Field(kObjectField);
    if (!kind || reg == nullptr) continue;
    for (const auto& e : reg->entries()) {
      if (auto bytes = FromHex(e.value.text())) {
        trust->Add(*kind,
                   std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
      }
    }
  }
  trust_ = std::move(trust);
  trust_stamp_ = std::move(stamp);
  return Status::Ok();
}

Status Node::StoreTrustObject(TrustKind kind, std::string_view bytes) {
  if (!trust_) return Status::FailedPrecondition("no province root key is known yet");
  const std::string id = TrustRecordId(kind, bytes, trust_->root());
  if (id.empty()) return Status::InvalidArgument("a trust object does not verify against the root");
  // Ids name the subject; the object's hash keeps a renewal beside the first.
  const replication::Hash h = replication::Blake2b256(bytes);
  TUPHAP_ASSIGN_OR_RETURN(
      store::Stmt ins,
      store_->db().Prepare(
          "INSERT OR IGNORE INTO trust_objects(record_id, kind, bytes) VALUES(?, ?, ?)"));
  TUPHAP_RETURN_IF_ERROR(ins.Bind(1, id + "#" + ToHex(replication::AsBytes(h)).substr(0, 16))
                             .Bind(2, KindName(kind))
                             .BindBlob(3, bytes)
                             .Run());
  trust_->Add(kind, bytes);
  return Status::Ok();
}

Status Node::Publish(store::Store::Session& session,
                     const std::vector<std::pair<TrustKind, std::string>>& objects) {
  const std::string scope = replication::PublicScope(info_.province);
  return Append(
      session, scope, "trust objects",
      [&](const RecordReader& read) -> Result<std::vector<crdt::RecordOps>> {
        std::vector<crdt::RecordOps> out;
        for (const auto& [kind, bytes] : objects) {
          const std::string id = TrustRecordId(kind, bytes, trust_->root());
          TUPHAP_ASSIGN_OR_RETURN(std::optional<store::RecordView> rec, read(id));
          crdt::RecordOps ops{id, {}};
          std::vector<crdt::Dot> pred;
          if (rec) {
            if (const crdt::MvRegister* reg = rec->state.Field(kObjectField))
              pred = reg->Frontier();
          } else {
            ops.ops.push_back(
                {std::string(crdt::kTypeField), crdt::Value::String("trust_object"), {}});
            ops.ops.push_back({"kind", crdt::Value::String(KindName(kind)), {}});
          }
          ops.ops.push_back({std::string(kObjectField), crdt::Value::String(ToHex(bytes)), pred});
          out.push_back(std::move(ops));
        }
        return out;
      });
}

std::string Node::NewGrant(const std::string& scope, uint32_t epoch, const uint8_t* key,
                           const PublicKey& recipient) const {
  KeyGrant g;
  g.scope = scope;
  g.epoch = epoch;
  g.recipient = recipient;
  g.sealed =
      replication::SealTo(recipient, std::string_view(reinterpret_cast<const char*>(key), 32));
  g.issuer = trust_->root();
  return g.Sign(*secrets_->root);
}

Result<std::vector<std::pair<uint32_t, const uint8_t*>>> Node::CommuneKeys(
    store::Store::Session& session, const std::string& commune) {
  TUPHAP_RETURN_IF_ERROR(Unlock());
  if (!secrets_->root) return Status::FailedPrecondition("only the hub makes commune keys");
  if (keyring_.Latest(commune) == 0) {
    // A commune's first key: epoch 1, granted to this hub so it survives in
    // the public feed.
    if (trust_->LatestEpoch(commune) != 0) {
      return Status::FailedPrecondition("the hub cannot open its own key grants for " + commune +
                                        ": its key file does not match its store");
    }
    replication::SecretBytes key(32);
    replication::RandomBytes(key.data(), key.size());
    std::string grant = NewGrant(commune, 1, key.data(), box_pk_);
    keyring_.Add(commune, 1, std::move(key));
    pending_keys_.emplace_back(commune, 1);
    TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kGrant, grant));
    TUPHAP_RETURN_IF_ERROR(Publish(session, {{TrustKind::kGrant, std::move(grant)}}));
  }
  std::vector<std::pair<uint32_t, const uint8_t*>> out;
  for (uint32_t e = 1; e <= keyring_.Latest(commune); ++e) {
    if (const uint8_t* k = keyring_.Get(commune, e)) out.emplace_back(e, k);
  }
  return out;
}

Status Node::EnsureWriteKey(store::Store::Session& session, const std::string& scope) {
  if (!trust_) return Status::Ok();  // not enrolled: drafts
  TUPHAP_RETURN_IF_ERROR(Unlock());
  if (replication::IsPublicScope(scope)) return Status::Ok();
  if (keyring_.Latest(scope) == 0) {
    if (info_.role == Role::kHub) return CommuneKeys(session, scope).status();
    return Status::Ok();  // a commune without its key yet writes drafts
  }
  if (info_.role == Role::kCommune && !no_drafts_) {
    // A sealed change must never follow a draft (drafts never leave). Once
    // none is left, none can appear: drafts are written only without a key.
    TUPHAP_ASSIGN_OR_RETURN(uint64_t drafts, store_->DraftCount({info_.id, scope}));
    no_drafts_ = drafts == 0;
    if (drafts > 0) {
      return Status::FailedPrecondition(
          std::to_string(drafts) +
          " changes written before enrolment are not sealed yet: run 'tuphap enroll accept' "
          "with the enrolment file again");
    }
  }
  return Status::Ok();
}

Result<replication::Envelope> Node::SealLocal(const crdt::Change& change, std::string_view body,
                                              const replication::Hash& prev) {
  replication::EnvelopeHeader h;
  h.origin = change.origin;
  h.scope = change.scope;
  h.seq = change.seq;
  h.prev = prev;
  h.hlc = change.hlc;
  if (!secrets_) return replication::MakeDraftFromBody(change, body, prev);
  if (replication::IsPublicScope(change.scope))
    return replication::SealBody(std::move(h), body, nullptr, 0, secrets_->sign);
  const uint32_t epoch = keyring_.Latest(change.scope);
  if (epoch == 0) return replication::MakeDraftFromBody(change, body, prev);
  return replication::SealBody(std::move(h), body, keyring_.Get(change.scope, epoch), epoch,
                               secrets_->sign);
}

Status Node::ForgetUncommittedKeys() {
  if (pending_keys_.empty()) return Status::Ok();
  bool lost = false;
  for (const auto& [scope, epoch] : pending_keys_) {
    const std::string prefix = std::string(kGrantPrefix) + scope + "-" + std::to_string(epoch) +
                               "-" + ToHex(replication::AsBytes(box_pk_)) + "#";
    TUPHAP_ASSIGN_OR_RETURN(
        store::Stmt q,
        store_->db().Prepare("SELECT 1 FROM trust_objects WHERE record_id >= ? AND record_id < ?"));
    q.Bind(1, prefix).Bind(2, prefix.substr(0, prefix.size() - 1) + "$");
    TUPHAP_ASSIGN_OR_RETURN(bool kept, q.Step());
    if (!kept) {
      keyring_.Remove(scope, epoch);
      lost = true;
    }
  }
  pending_keys_.clear();
  return lost ? LoadTrust() : Status::Ok();
}

// ------------------------------------------------------------------ enrolment

Result<std::string> Node::EnrollRequestFile(const std::string& label) {
  if (info_.role != Role::kCommune)
    return Status::FailedPrecondition("a hub holds its province's root key; it is not enrolled");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  EnrollRequest q;
  q.sign_key = sign_pk_;
  q.box_key = box_pk_;
  q.role = replication::NodeRole::kCommune;
  q.commune = info_.commune;
  q.province = info_.province;
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> created, store_->GetMeta("created_ms"));
  q.created_ms = created ? std::stoull(*created) : options_.clock->WallMillis();
  q.label = label;
  return q.Sign(secrets_->sign);
}

Result<Enrolment> Node::EnrollSign(std::string_view request_file, int days) {
  if (info_.role != Role::kHub || !trust_)
    return Status::FailedPrecondition("only a hub signs enrolment requests");
  if (days < 1 || days > 20 * 366)
    return Status::InvalidArgument("--days must be between 1 and 7320");
  TUPHAP_ASSIGN_OR_RETURN(EnrollRequest q, EnrollRequest::Parse(request_file));
  if (q.role != replication::NodeRole::kCommune)
    return Status::InvalidArgument("the request is not a commune node's");
  const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(q.commune);
  if (c == nullptr)
    return Status::InvalidArgument("the request names commune " + q.commune +
                                   ", which is not in the 2025 list of communes");
  if (c->province_code != info_.province) {
    return Status::PermissionDenied("commune " + q.commune + " (" + c->name + ") belongs to " +
                                    c->province_name + " (" + c->province_code +
                                    "), not to this hub's province " + info_.province)
        .WithReason("E_NOT_AUTHORISED");
  }
  if (trust_->IsRevoked(q.sign_key))
    return Status::PermissionDenied("this node's key was revoked; make a new node")
        .WithReason("E_REVOKED");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  const int64_t now = options_.clock->WallMillis();
  Enrolment out;
  Certificate& cert = out.certificate;
  cert.sign_key = q.sign_key;
  cert.box_key = q.box_key;
  cert.role = replication::NodeRole::kCommune;
  cert.commune = q.commune;
  cert.province = info_.province;
  // Valid from the node's creation (a day's margin for its clock), so the
  // drafts it made before enrolment pass.
  // (at most a year back: the request's time is the node's word).
  cert.not_before_ms = static_cast<uint64_t>(
      std::max<int64_t>(now - 366 * kDayMs, std::min<int64_t>(q.created_ms, now) - kDayMs));
  cert.not_after_ms = static_cast<uint64_t>(now + days * kDayMs);
  cert.issuer = trust_->root();
  std::vector<std::pair<TrustKind, std::string>> objects;
  objects.emplace_back(TrustKind::kCertificate, cert.Sign(*secrets_->root));

  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, BeginSession());
  TUPHAP_ASSIGN_OR_RETURN(auto keys, CommuneKeys(*session, q.commune));
  for (const auto& [epoch, key] : keys) {
    objects.emplace_back(TrustKind::kGrant, NewGrant(q.commune, epoch, key, q.box_key));
    out.epochs_granted.push_back(epoch);
  }
  for (const auto& [kind, bytes] : objects) TUPHAP_RETURN_IF_ERROR(StoreTrustObject(kind, bytes));
  TUPHAP_RETURN_IF_ERROR(Publish(*session, objects));
  TUPHAP_RETURN_IF_ERROR(session->Commit());

  // The file carries everything the node needs before its first sync:
  // every certificate, revocation and grant this hub knows of.
  std::vector<std::pair<std::string, std::string>> all;
  {
    TUPHAP_ASSIGN_OR_RETURN(store::Stmt sel,
                            store_->db().Prepare("SELECT kind, bytes FROM trust_objects "
                                                 "ORDER BY record_id"));
    while (true) {
      TUPHAP_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) break;
      all.emplace_back(std::string(sel.Text(0)), std::string(sel.Blob(1)));
    }
  }
  replication::MsgpackWriter w;
  w.ArrayHeader(4);
  w.Str(kEnrolmentMagic);
  w.Uint(kEnrolmentFormat);
  w.Bin(trust_->root());
  w.ArrayHeader(static_cast<uint32_t>(all.size()));
  for (const auto& [kind, bytes] : all) {
    w.ArrayHeader(2);
    w.Str(kind);
    w.Bin(bytes);
  }
  out.file = w.Take();
  return out;
}

Result<std::pair<Certificate, uint64_t>> Node::EnrollAccept(std::string_view file) {
  if (info_.role != Role::kCommune)
    return Status::FailedPrecondition("a hub is not enrolled; it holds the root key");
  replication::MsgpackReader r(file);
  r.ExpectArray(4);
  if (r.ok() && r.ReadStr(64) != kEnrolmentMagic) r.Fail("not a tuphap enrolment file");
  if (r.ok() && r.ReadUint() != kEnrolmentFormat) r.Fail("unknown enrolment file version");
  PublicKey root{};
  r.ReadBinFixed(root);
  std::vector<std::pair<TrustKind, std::string>> objects;
  const uint32_t n = r.ReadArrayHeader(kMaxEnrolmentObjects);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(2);
    const std::string_view kind = r.ReadStr(32);
    const std::string_view bytes = r.ReadBin(1 << 20);
    auto k = KindFromName(kind);
    if (!k && r.ok()) r.Fail("unknown object kind '" + std::string(kind) + "'");
    if (r.ok()) objects.emplace_back(*k, std::string(bytes));
  }
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("enrolment file"));
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> pinned, store_->GetMeta("root_key"));
  const std::string root_bytes(replication::AsBytes(root));
  if (pinned && *pinned != root_bytes) {
    return Status::PermissionDenied("this enrolment file is signed by another province root (" +
                                    NodeIdText(root) + ") than the one this node trusts")
        .WithReason("E_BAD_SIGNATURE");
  }
  // Check everything before keeping anything.
  Trust check(root, info_.province);
  for (const auto& [kind, bytes] : objects) check.Add(kind, bytes);
  if (check.rejected() > 0) {
    return Status::PermissionDenied(std::to_string(check.rejected()) + " of " +
                                    std::to_string(objects.size()) +
                                    " objects in the enrolment file do not verify against its "
                                    "root key: the file was altered")
        .WithReason("E_BAD_SIGNATURE");
  }
  const Certificate* cert = check.CertFor(sign_pk_);
  if (cert == nullptr)
    return Status::InvalidArgument("the enrolment file holds no certificate for this node (" +
                                   NodeIdText(sign_pk_) + ")");
  if (cert->role != replication::NodeRole::kCommune || cert->commune != info_.commune ||
      cert->province != info_.province || cert->box_key != box_pk_) {
    return Status::InvalidArgument("the certificate is for a " +
                                   std::string(replication::NodeRoleName(cert->role)) +
                                   " node of commune " + cert->commune + ", province " +
                                   cert->province + " or another key; this node is commune " +
                                   info_.commune + " of province " + info_.province);
  }
  if (check.IsRevoked(sign_pk_))
    return Status::PermissionDenied("this node is revoked").WithReason("E_REVOKED");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  // The commune's key must open here before anything is kept: a node that
  // trusts a root but holds no key would chain sealed changes onto drafts.
  bool key_opens = false;
  for (const KeyGrant* g : check.GrantsTo(box_pk_)) {
    if (g->scope != info_.commune) continue;
    auto key = replication::OpenSealedBox(secrets_->box, g->sealed);
    key_opens = key_opens || (key.ok() && key->size() == 32);
  }
  if (!key_opens) {
    return Status::FailedPrecondition("the enrolment file grants no data key of commune " +
                                      info_.commune + " that this node can open");
  }
  Certificate out = *cert;
  {
    store::Transaction txn(store_->db());
    TUPHAP_RETURN_IF_ERROR(txn.status());
    Status s = store_->SetMeta("root_key", root_bytes);
    trust_ = std::make_unique<Trust>(root, info_.province);
    for (const auto& [kind, bytes] : objects) {
      if (s.ok()) s = StoreTrustObject(kind, bytes);
    }
    if (s.ok()) s = txn.Commit();
    if (!s.ok()) {
      (void)LoadTrust();  // back to what the store holds
      return s;
    }
  }
  TUPHAP_RETURN_IF_ERROR(LoadTrust());
  TUPHAP_RETURN_IF_ERROR(OpenGrants());
  // Seal what was written before enrolment, in order, under the newest key.
  const store::FeedKey feed{info_.id, info_.commune};
  TUPHAP_ASSIGN_OR_RETURN(
      uint64_t sealed,
      store_->SealDrafts(feed,
                         [&](const replication::Envelope& draft,
                             const replication::Hash& prev) -> Result<replication::Envelope> {
                           crdt::Change change;
                           replication::ChangeHeaderFromEnvelope(draft.header(), &change);
                           return SealLocal(change, draft.body(), prev);
                         }));
  TUPHAP_RETURN_IF_ERROR(store_->RetryBlockedFeeds(*opener_));
  return std::make_pair(std::move(out), sealed);
}

Result<RevocationResult> Node::RevokeNode(const std::string& node, const std::string& reason,
                                          std::optional<uint64_t> cut) {
  if (info_.role != Role::kHub || !trust_)
    return Status::FailedPrecondition("only a hub revokes nodes");
  if (reason.empty()) return Status::InvalidArgument("a revocation needs a reason (--reason)");
  const Certificate* cert = nullptr;
  if (node.size() == 64) {
    if (auto bytes = FromHex(node); bytes && bytes->size() == 32) {
      PublicKey pk;
      std::copy(bytes->begin(), bytes->end(), pk.begin());
      cert = trust_->CertFor(pk);
    }
  }
  if (cert == nullptr) {
    TUPHAP_ASSIGN_OR_RETURN(std::string fp, ParseNodeIdText(node));
    cert = trust_->CertByFingerprint(fp);
  }
  if (cert == nullptr) return Status::NotFound("no enrolled node " + node + " in this province");
  if (cert->sign_key == sign_pk_) return Status::InvalidArgument("a hub cannot revoke itself");
  if (trust_->IsRevoked(cert->sign_key))
    return Status::FailedPrecondition("node " + node + " is already revoked");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  RevocationResult out;
  Revocation& rev = out.revocation;
  rev.node = cert->sign_key;
  rev.reason = reason;
  rev.issued_ms = static_cast<uint64_t>(options_.clock->WallMillis());
  rev.issuer = trust_->root();
  // Cut every feed of the node at what this hub holds of it (or the seq
  // given): offline work already delivered stays, anything later is refused.
  std::map<std::string, uint64_t> cuts;
  if (cert->role == replication::NodeRole::kCommune) cuts[cert->commune] = cut.value_or(0);
  TUPHAP_ASSIGN_OR_RETURN(std::vector<store::FeedHead> heads, store_->Heads());
  for (const auto& h : heads) {
    if (KeyOf(h.feed.origin) == cert->sign_key) cuts[h.feed.scope] = cut.value_or(h.seq);
  }
  for (const auto& [scope, seq] : cuts) {
    replication::RevocationCut c{scope, seq, {}};
    // Name the envelope at the cut when this hub holds it: a fork of the
    // history below the cut then never applies anywhere.
    if (seq > 0) {
      TUPHAP_ASSIGN_OR_RETURN(std::optional<replication::Envelope> at,
                              store_->GetEnvelope({crdt::ReplicaId{cert->sign_key}, scope}, seq));
      if (at) c.id = at->hash();
    }
    rev.cuts.push_back(std::move(c));
  }
  std::vector<std::pair<TrustKind, std::string>> objects;
  objects.emplace_back(TrustKind::kRevocation, rev.Sign(*secrets_->root));

  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, BeginSession());
  TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kRevocation, objects[0].second));
  if (cert->role == replication::NodeRole::kCommune) {
    // A new epoch of the commune's key for the members that remain (and
    // this hub); they keep the old epochs for history.
    out.scope = cert->commune;
    TUPHAP_RETURN_IF_ERROR(CommuneKeys(*session, out.scope).status());
    out.new_epoch = std::max(keyring_.Latest(out.scope), trust_->LatestEpoch(out.scope)) + 1;
    replication::SecretBytes key(32);
    replication::RandomBytes(key.data(), key.size());
    std::vector<PublicKey> recipients{box_pk_};
    for (const Certificate* m : trust_->Members(out.scope)) recipients.push_back(m->box_key);
    for (const PublicKey& to : recipients) {
      objects.emplace_back(TrustKind::kGrant, NewGrant(out.scope, out.new_epoch, key.data(), to));
      TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kGrant, objects.back().second));
    }
    out.members_rekeyed = recipients.size() - 1;
    keyring_.Add(out.scope, out.new_epoch, std::move(key));
    pending_keys_.emplace_back(out.scope, out.new_epoch);
  }
  TUPHAP_RETURN_IF_ERROR(Publish(*session, objects));
  TUPHAP_RETURN_IF_ERROR(session->Commit());
  return out;
}

// ------------------------------------------------------------------ ingest

Result<store::ApplyReport> Node::Ingest(std::vector<store::Store::Incoming>& batch) {
  if (!enrolled()) {
    return Status::FailedPrecondition(
               "this node is not enrolled yet: it cannot check who wrote a change (run 'tuphap "
               "enroll request' and 'tuphap enroll accept')")
        .WithReason("E_NOT_ENROLLED");
  }
  TUPHAP_RETURN_IF_ERROR(Unlock());
  // The public feed first: certificates, revocations and key grants in it
  // decide what the rest of the batch may do.
  std::vector<size_t> order_public, order_rest;
  for (size_t i = 0; i < batch.size(); ++i) {
    (replication::IsPublicScope(batch[i].envelope.header().scope) ? order_public : order_rest)
        .push_back(i);
  }
  store::ApplyReport total;
  total.outcomes.resize(batch.size());
  auto run = [&](const std::vector<size_t>& idx) -> Status {
    if (idx.empty()) return Status::Ok();
    std::vector<store::Store::Incoming> part;
    part.reserve(idx.size());
    for (size_t i : idx) part.push_back(std::move(batch[i]));
    store::ApplyOptions options;
    options.gate = trust_.get();
    auto report = store_->Apply(part, *opener_, options);
    for (size_t k = 0; k < idx.size(); ++k) batch[idx[k]] = std::move(part[k]);
    TUPHAP_RETURN_IF_ERROR(report.status());
    for (size_t k = 0; k < idx.size(); ++k) total.outcomes[idx[k]] = report->outcomes[k];
    total.AddCounts(*report);
    return Status::Ok();
  };
  TUPHAP_RETURN_IF_ERROR(run(order_public));
  if (!order_public.empty()) {
    const size_t keys_before = keyring_.size();
    TUPHAP_RETURN_IF_ERROR(LoadTrust());
    TUPHAP_RETURN_IF_ERROR(OpenGrants());
    if (keyring_.size() != keys_before) TUPHAP_RETURN_IF_ERROR(store_->RetryBlockedFeeds(*opener_));
  }
  TUPHAP_RETURN_IF_ERROR(run(order_rest));
  return total;
}

Status Node::ReloadTrust() {
  TUPHAP_RETURN_IF_ERROR(LoadTrust());
  return OpenGrants();
}

Result<bool> Node::ReloadTrustIfChanged() {
  // Nothing written anywhere since the last look (one pragma): trust is
  // current. Something was: compare what LoadTrust reads.
  TUPHAP_ASSIGN_OR_RETURN(store::Store::Stamp now, store_->HeadsStamp());
  if (trust_checked_at_ && *trust_checked_at_ == now) return false;
  TUPHAP_ASSIGN_OR_RETURN(std::string stamp, TrustStamp());
  const bool changed = stamp != trust_stamp_;
  if (changed) TUPHAP_RETURN_IF_ERROR(ReloadTrust());
  trust_checked_at_ = now;
  return changed;
}

Result<SecurityStatus> Node::Security() {
  SecurityStatus s;
  s.node_id = NodeIdText(sign_pk_);
  if (trust_) {
    s.root = NodeIdText(trust_->root());
    if (const Certificate* c = trust_->CertFor(sign_pk_)) s.certificate = *c;
    s.enrolled = s.certificate.has_value();
    s.revoked = trust_->IsRevoked(sign_pk_);
    s.certificates = trust_->certificates().size();
    for (const auto& [pk, c] : trust_->certificates()) s.revocations += trust_->IsRevoked(pk);
  }
  if (info_.role == Role::kCommune) {
    TUPHAP_ASSIGN_OR_RETURN(s.drafts, store_->DraftCount({info_.id, info_.commune}));
  }
  TUPHAP_ASSIGN_OR_RETURN(s.held, store_->HeldCount());
  TUPHAP_ASSIGN_OR_RETURN(s.refusals, store_->Refusals());
  TUPHAP_ASSIGN_OR_RETURN(s.equivocations, store_->Equivocations());
  TUPHAP_ASSIGN_OR_RETURN(s.quarantined, store_->QuarantinedOrigins());
  if (trust_) {
    // Epochs granted to this node, known without unlocking.
    for (const KeyGrant* g : trust_->GrantsTo(box_pk_))
      s.key_epochs[g->scope] = std::max(s.key_epochs[g->scope], g->epoch);
  }
  return s;
}

}  // namespace tuphap::node
