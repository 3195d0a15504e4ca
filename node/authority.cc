// Province authority and enrolment (docs/security.md): what a hub signs
// with its province's root key — certificates, key grants, revocations, the
// public feed that carries them — and a commune's side of enrolment.
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

PublicKey KeyOf(const crdt::ReplicaId& id) { return id.bytes; }

}  // namespace

std::string Node::NewGrant(const std::string& scope, uint32_t epoch, const uint8_t* key,
                           const PublicKey& recipient) const {
  KeyGrant g;
  g.scope = scope;
  g.epoch = epoch;
  g.recipient = recipient;
  g.sealed =
      replication::SealTo(recipient, std::string_view(reinterpret_cast<const char*>(key), 32));
  g.issuer = trust_->root();
  return g.Sign(*vault_.secrets()->root);
}

Result<std::vector<std::pair<uint32_t, const uint8_t*>>> Node::CommuneKeys(
    store::Store::Session& session, const std::string& commune) {
  TUPHAP_RETURN_IF_ERROR(Unlock());
  if (!vault_.secrets()->root) return Status::FailedPrecondition("only the hub makes commune keys");
  if (vault_.keyring().Latest(commune) == 0) {
    // A commune's first key: epoch 1, granted to this hub so it survives in
    // the public feed.
    if (trust_->LatestEpoch(commune) != 0) {
      return Status::FailedPrecondition("the hub cannot open its own key grants for " + commune +
                                        ": its key file does not match its store");
    }
    replication::SecretBytes key(32);
    replication::RandomBytes(key.data(), key.size());
    std::string grant = NewGrant(commune, 1, key.data(), box_pk_);
    vault_.keyring().Add(commune, 1, std::move(key));
    pending_keys_.emplace_back(commune, 1);
    TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kGrant, grant));
    TUPHAP_RETURN_IF_ERROR(Publish(session, {{TrustKind::kGrant, std::move(grant)}}));
  }
  std::vector<std::pair<uint32_t, const uint8_t*>> out;
  for (uint32_t e = 1; e <= vault_.keyring().Latest(commune); ++e) {
    if (const uint8_t* k = vault_.keyring().Get(commune, e)) out.emplace_back(e, k);
  }
  return out;
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
            ops.ops.push_back({"kind", crdt::Value::String(TrustKindName(kind)), {}});
          }
          ops.ops.push_back({std::string(kObjectField), crdt::Value::String(ToHex(bytes)), pred});
          out.push_back(std::move(ops));
        }
        return out;
      });
}

Result<std::string> Node::EnrollRequestFile(const std::string& label) {
  if (info_.role != Role::kCommune)
    return Status::FailedPrecondition("a hub holds its province's root key; it is not enrolled");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  EnrollRequest q;
  q.sign_key = sign_pk_;
  q.box_key = box_pk_;
  // Which node of the commune numbers its books is the province's word, not
  // the node's: the request asks, the certificate says (register-numbers.md).
  q.role = info_.numbering == Numbering::kSecondary ? replication::NodeRole::kCommuneSecondary
                                                    : replication::NodeRole::kCommune;
  q.commune = info_.commune;
  q.province = info_.province;
  TUPHAP_ASSIGN_OR_RETURN(std::optional<std::string> created, store_->GetMeta("created_ms"));
  q.created_ms = created ? std::stoull(*created) : options_.clock->WallMillis();
  q.label = label;
  return q.Sign(vault_.secrets()->sign);
}

Result<Enrolment> Node::EnrollSign(std::string_view request_file, int days) {
  if (info_.role != Role::kHub || !trust_)
    return Status::FailedPrecondition("only a hub signs enrolment requests");
  if (days < 1 || days > 20 * 366)
    return Status::InvalidArgument("--days must be between 1 and 7320");
  TUPHAP_ASSIGN_OR_RETURN(EnrollRequest q, EnrollRequest::Parse(request_file));
  if (!replication::IsCommuneRole(q.role))
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
  // The request's province is the node's own word on where it belongs:
  // one that disagrees with its commune was made by a misconfigured or
  // forged node, so nothing is certified (security.md, enrolment request).
  if (q.province != info_.province) {
    return Status::PermissionDenied("the request names province '" + q.province +
                                    "', but its commune " + q.commune + " and this hub are in " +
                                    info_.province)
        .WithReason("E_NOT_AUTHORISED");
  }
  if (trust_->IsRevoked(q.sign_key))
    return Status::PermissionDenied("this node's key was revoked; make a new node")
        .WithReason("E_REVOKED");
  const int64_t now = options_.clock->WallMillis();
  // A key keeps the role it was first certified with: every replica judges
  // the leases and numbers a node wrote by its role (content_rules.h), and
  // a verdict once reached is not revisited when a certificate changes.
  if (const Certificate* old = trust_->CertFor(q.sign_key); old != nullptr && old->role != q.role) {
    return Status::FailedPrecondition(
               std::string("this node's key is certified as ") +
               (old->role == replication::NodeRole::kCommune ? "the commune's primary"
                                                             : "a secondary") +
               " node, and a key keeps its role: make a new node ('tuphap init --commune " +
               q.commune +
               (q.role == replication::NodeRole::kCommuneSecondary ? " --secondary" : "") +
               "'), enrol it, and revoke this one")
        .WithReason("E_ROLE_FIXED");
  }
  // A commune has one primary: the node every replica lets number the books
  // outside leased blocks and write leases. A second one would make the
  // first one's leases and numbers contestable.
  if (q.role == replication::NodeRole::kCommune) {
    for (const Certificate* m : trust_->Members(q.commune)) {
      if (m->role != replication::NodeRole::kCommune || m->sign_key == q.sign_key ||
          m->not_after_ms < static_cast<uint64_t>(now))
        continue;
      return Status::FailedPrecondition(
                 "commune " + q.commune + " already has a primary node (" +
                 NodeIdText(m->sign_key) + "): make this node with 'tuphap init --commune " +
                 q.commune +
                 " --secondary' and enrol that one, or revoke the old primary first "
                 "('tuphap revoke')")
          .WithReason("E_PRIMARY_EXISTS");
    }
  }
  TUPHAP_RETURN_IF_ERROR(Unlock());
  Enrolment out;
  Certificate& cert = out.certificate;
  cert.sign_key = q.sign_key;
  cert.box_key = q.box_key;
  cert.role = q.role;
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
  objects.emplace_back(TrustKind::kCertificate, cert.Sign(*vault_.secrets()->root));

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
  TUPHAP_ASSIGN_OR_RETURN(all, store_->TrustObjects());
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
  // A backup taken before enrolment holds drafts the hub may already hold
  // sealed: sealing them again (another nonce, another hash) would fork this
  // node's feed.
  TUPHAP_ASSIGN_OR_RETURN(bool restored, Restored());
  if (restored) {
    TUPHAP_ASSIGN_OR_RETURN(uint64_t drafts, store_->DraftCount({info_.id, info_.commune}));
    if (drafts > 0) {
      return Status::FailedPrecondition(
                 "this node was restored from a backup taken before it was enrolled, and holds " +
                 std::to_string(drafts) +
                 " change(s) written before enrolment: sealing them again would fork its "
                 "history. Restore a backup taken after enrolment; if this node was never "
                 "enrolled before, run 'tuphap resume-writes' first")
          .WithReason("E_RESTORED");
    }
  }
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
    auto k = TrustKindFromName(kind);
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
  if (!replication::IsCommuneRole(cert->role) || cert->commune != info_.commune ||
      cert->province != info_.province || cert->box_key != box_pk_) {
    return Status::InvalidArgument("the certificate is for a " +
                                   std::string(replication::NodeRoleName(cert->role)) +
                                   " node of commune " + cert->commune + ", province " +
                                   cert->province + " or another key; this node is commune " +
                                   info_.commune + " of province " + info_.province);
  }
  // A node initialised as primary holding a secondary's certificate (or
  // the reverse) would number what every other replica flags.
  const bool cert_primary = cert->role == replication::NodeRole::kCommune;
  if (cert_primary != (info_.numbering == Numbering::kPrimary)) {
    return Status::InvalidArgument(std::string("the certificate makes this node the commune's ") +
                                   (cert_primary ? "primary" : "secondary") +
                                   " node, but it was initialised as " +
                                   (cert_primary ? "a secondary (--secondary)" : "the primary") +
                                   ": ask the hub to sign this node's own request");
  }
  if (check.IsRevoked(sign_pk_))
    return Status::PermissionDenied("this node is revoked").WithReason("E_REVOKED");
  TUPHAP_RETURN_IF_ERROR(Unlock());
  // The commune's key must open here before anything is kept: a node that
  // trusts a root but holds no key would chain sealed changes onto drafts.
  bool key_opens = false;
  for (const KeyGrant* g : check.GrantsTo(box_pk_)) {
    if (g->scope != info_.commune) continue;
    auto key = replication::OpenSealedBox(vault_.secrets()->box, g->sealed);
    key_opens = key_opens || (key.ok() && key->size() == 32);
  }
  if (!key_opens) {
    return Status::FailedPrecondition("the enrolment file grants no data key of commune " +
                                      info_.commune + " that this node can open");
  }
  Certificate out = *cert;
  {
    TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Transaction> txn, store_->BeginTransaction());
    Status s = store_->SetMeta("root_key", root_bytes);
    trust_ = std::make_unique<Trust>(root, info_.province);
    for (const auto& [kind, bytes] : objects) {
      if (s.ok()) s = StoreTrustObject(kind, bytes);
    }
    if (s.ok()) s = txn->Commit();
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
                           return vault_.Seal(change, draft.body(), prev);
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
  if (replication::IsCommuneRole(cert->role)) cuts[cert->commune] = cut.value_or(0);
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
  objects.emplace_back(TrustKind::kRevocation, rev.Sign(*vault_.secrets()->root));

  TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<store::Store::Session> session, BeginSession());
  TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kRevocation, objects[0].second));
  if (replication::IsCommuneRole(cert->role)) {
    // A new epoch of the commune's key for the members that remain (and
    // this hub); they keep the old epochs for history.
    out.scope = cert->commune;
    TUPHAP_RETURN_IF_ERROR(CommuneKeys(*session, out.scope).status());
    out.new_epoch =
        std::max(vault_.keyring().Latest(out.scope), trust_->LatestEpoch(out.scope)) + 1;
    replication::SecretBytes key(32);
    replication::RandomBytes(key.data(), key.size());
    std::vector<PublicKey> recipients{box_pk_};
    for (const Certificate* m : trust_->Members(out.scope)) recipients.push_back(m->box_key);
    for (const PublicKey& to : recipients) {
      objects.emplace_back(TrustKind::kGrant, NewGrant(out.scope, out.new_epoch, key.data(), to));
      TUPHAP_RETURN_IF_ERROR(StoreTrustObject(TrustKind::kGrant, objects.back().second));
    }
    out.members_rekeyed = recipients.size() - 1;
    vault_.keyring().Add(out.scope, out.new_epoch, std::move(key));
    pending_keys_.emplace_back(out.scope, out.new_epoch);
  }
  TUPHAP_RETURN_IF_ERROR(Publish(*session, objects));
  TUPHAP_RETURN_IF_ERROR(session->Commit());
  return out;
}

}  // namespace tuphap::node
