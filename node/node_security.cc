// A node's keys in use and its trust (docs/security.md): the envelope
// opener, unlocking (node/vault.h), sealing a write with the right key,
// the trust objects read from the store, and the security status. What the
// province's root key signs is in authority.cc; ingest in ingest.cc.
#include <algorithm>

#include "base/hex.h"
#include "node/domain/reference_data.h"
#include "node/node.h"
#include "replication/draft.h"
#include "replication/seal.h"

namespace tuphap::node {

using replication::Certificate;
using replication::KeyGrant;
using replication::PublicKey;

namespace {

std::optional<TrustKind> KindFromRecordId(std::string_view id) {
  if (id.starts_with(kCertPrefix)) return TrustKind::kCertificate;
  if (id.starts_with(kRevocationPrefix)) return TrustKind::kRevocation;
  if (id.starts_with(kGrantPrefix)) return TrustKind::kGrant;
  return std::nullopt;
}

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
    return n_->vault_.keyring().Has(h.scope, h.key_epoch) || !n_->vault_.unlocked();
  }

  Status Open(const replication::Envelope& env, crdt::Change* change) const override {
    const replication::EnvelopeHeader& h = env.header();
    if (env.is_draft()) return replication::OpenDraft(env, replication::kDefaultLimits, change);
    const uint8_t* key = nullptr;
    if ((h.flags & replication::kFlagEncrypted) != 0) {
      if (!n_->vault_.unlocked()) {
        // Inside a write transaction an opener never prompts or derives a
        // key: whoever began it unlocked first (Node::BeginSession, Ingest),
        // or the body stays unread and the envelope waits.
        if (n_->store_->session_open()) {
          return Status::Unavailable("the private keys are locked").WithReason("E_LOCKED");
        }
        Status s = n_->Unlock();
        if (!s.ok()) return Status::Unavailable(s.message()).WithReason("E_LOCKED");
      }
      key = n_->vault_.keyring().Get(h.scope, h.key_epoch);
      if (key == nullptr) {
        return Status::FailedPrecondition("no data key of epoch " + std::to_string(h.key_epoch) +
                                          " for " + h.scope)
            .WithReason("E_NO_KEY");
      }
    }
    return replication::OpenSealed(env, key, replication::kDefaultLimits, change);
  }

  // Locked keys: Open may unlock them (outside a session), which is not for
  // two threads.
  bool OpensConcurrently() const override { return n_->vault_.unlocked(); }

 private:
  Node* n_;
};

std::unique_ptr<store::EnvelopeOpener> MakeNodeOpener(Node* node) {
  return std::make_unique<NodeOpener>(node);
}

// ------------------------------------------------------------------ keys

Status Node::Unlock() {
  if (vault_.unlocked()) return Status::Ok();
  TUPHAP_RETURN_IF_ERROR(vault_.Unlock(store_->session_open()));
  return OpenGrants();
}

Status Node::OpenGrants() {
  if (trust_) vault_.OpenGrants(trust_->GrantsTo(box_pk_));
  return Status::Ok();
}

Result<std::string> Node::TrustStamp() {
  // About 30 µs on a province's worth of objects and feeds, against ~30 ms
  // for LoadTrust.
  return store_->TrustStamp(replication::PublicScope(info_.province));
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
    TUPHAP_ASSIGN_OR_RETURN(auto objects, store_->TrustObjects());
    for (const auto& [name, bytes] : objects) {
      if (auto kind = TrustKindFromName(name)) trust->Add(*kind, bytes);
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
  TUPHAP_RETURN_IF_ERROR(store_->AddTrustObject(
      id + "#" + ToHex(replication::AsBytes(h)).substr(0, 16), TrustKindName(kind), bytes));
  trust_->Add(kind, bytes);
  return Status::Ok();
}

Status Node::EnsureWriteKey(store::Store::Session& session, const std::string& scope) {
  if (!trust_) return Status::Ok();  // not enrolled: drafts
  TUPHAP_RETURN_IF_ERROR(Unlock());
  if (replication::IsPublicScope(scope)) return Status::Ok();
  if (vault_.keyring().Latest(scope) == 0) {
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

Status Node::ForgetUncommittedKeys() {
  if (pending_keys_.empty()) return Status::Ok();
  bool lost = false;
  for (const auto& [scope, epoch] : pending_keys_) {
    const std::string prefix = std::string(kGrantPrefix) + scope + "-" + std::to_string(epoch) +
                               "-" + ToHex(replication::AsBytes(box_pk_)) + "#";
    TUPHAP_ASSIGN_OR_RETURN(
        bool kept, store_->HasTrustObjectIn(prefix, prefix.substr(0, prefix.size() - 1) + "$"));
    if (!kept) {
      vault_.keyring().Remove(scope, epoch);
      lost = true;
    }
  }
  pending_keys_.clear();
  return lost ? LoadTrust() : Status::Ok();
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
  TUPHAP_ASSIGN_OR_RETURN(s.invalid, store_->InvalidCounts());
  if (trust_) {
    // Epochs granted to this node, known without unlocking.
    for (const KeyGrant* g : trust_->GrantsTo(box_pk_))
      s.key_epochs[g->scope] = std::max(s.key_epochs[g->scope], g->epoch);
  }
  return s;
}

}  // namespace tuphap::node
