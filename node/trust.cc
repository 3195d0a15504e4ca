#include "node/trust.h"

#include <algorithm>

#include "base/hex.h"
#include "node/domain/reference_data.h"
#include "node/keys.h"
#include "replication/hash.h"

namespace tuphap::node {

using replication::Certificate;
using replication::KeyGrant;
using replication::PublicKey;
using replication::Revocation;

std::string TrustRecordId(TrustKind kind, std::string_view bytes, const PublicKey& root) {
  switch (kind) {
    case TrustKind::kCertificate: {
      auto c = Certificate::Parse(bytes, root);
      return c.ok() ? std::string(kCertPrefix) + ToHex(replication::AsBytes(c->sign_key)) : "";
    }
    case TrustKind::kRevocation: {
      auto r = Revocation::Parse(bytes, root);
      return r.ok() ? std::string(kRevocationPrefix) + ToHex(replication::AsBytes(r->node)) : "";
    }
    case TrustKind::kGrant: {
      auto g = KeyGrant::Parse(bytes, root);
      return g.ok() ? std::string(kGrantPrefix) + g->scope + "-" + std::to_string(g->epoch) + "-" +
                          ToHex(replication::AsBytes(g->recipient))
                    : "";
    }
  }
  return "";
}

void Trust::Add(TrustKind kind, std::string_view bytes) {
  const replication::Hash h = replication::Blake2b256(bytes);
  std::string key(replication::AsBytes(h));
  if (seen_.count(key) > 0) return;
  seen_.emplace(std::move(key), std::string());
  switch (kind) {
    case TrustKind::kCertificate: {
      auto c = Certificate::Parse(bytes, root_);
      if (!c.ok() || c->province != province_) break;  // a root certifies its own province only
      // A later certificate of the same key (renewal) replaces the earlier
      // one when it reaches further.
      auto it = certs_.find(c->sign_key);
      if (it == certs_.end() || it->second.not_after_ms < c->not_after_ms)
        certs_.insert_or_assign(c->sign_key, std::move(*c));
      return;
    }
    case TrustKind::kRevocation: {
      auto r = Revocation::Parse(bytes, root_);
      if (!r.ok()) break;
      auto it = revoked_.find(r->node);
      if (it == revoked_.end()) {
        revoked_.emplace(r->node, std::move(*r));
      } else {
        // Two revocations of one node: the lower cut of each feed wins.
        Revocation& merged = it->second;
        for (auto& cut : merged.cuts) {
          const replication::RevocationCut* other = r->FindCut(cut.scope);
          const uint64_t seq = other != nullptr ? other->seq : 0;
          if (seq < cut.seq) {
            cut.seq = seq;
            cut.id = other != nullptr ? other->id : replication::Hash{};
          } else if (seq == cut.seq && cut.id == replication::Hash{} && other != nullptr) {
            cut.id = other->id;
          }
        }
      }
      return;
    }
    case TrustKind::kGrant: {
      auto g = KeyGrant::Parse(bytes, root_);
      if (!g.ok()) break;
      grants_.push_back(std::move(*g));
      return;
    }
  }
  ++rejected_;
}

const Certificate* Trust::CertFor(const PublicKey& sign_key) const {
  auto it = certs_.find(sign_key);
  return it == certs_.end() ? nullptr : &it->second;
}

const Certificate* Trust::CertByFingerprint(std::string_view fingerprint) const {
  for (const auto& [key, cert] : certs_) {
    if (KeyFingerprint(key) == fingerprint) return &cert;
  }
  return nullptr;
}

std::optional<uint64_t> Trust::CutFor(const PublicKey& node, std::string_view scope) const {
  auto it = revoked_.find(node);
  if (it == revoked_.end()) return std::nullopt;
  return it->second.CutFor(scope);
}

const Revocation* Trust::RevocationOf(const PublicKey& node) const {
  auto it = revoked_.find(node);
  return it == revoked_.end() ? nullptr : &it->second;
}

std::vector<const Certificate*> Trust::Members(std::string_view commune) const {
  std::vector<const Certificate*> out;
  for (const auto& [key, cert] : certs_) {
    if (replication::IsCommuneRole(cert.role) && cert.commune == commune && !IsRevoked(key))
      out.push_back(&cert);
  }
  return out;
}

std::vector<const KeyGrant*> Trust::GrantsTo(const PublicKey& box_key) const {
  std::vector<const KeyGrant*> out;
  for (const auto& g : grants_) {
    if (g.recipient == box_key) out.push_back(&g);
  }
  return out;
}

uint32_t Trust::LatestEpoch(std::string_view scope) const {
  uint32_t e = 0;
  for (const auto& g : grants_) {
    if (g.scope == scope) e = std::max(e, g.epoch);
  }
  return e;
}

std::string Trust::CheckOrigin(const replication::EnvelopeHeader& h,
                               const replication::Hash& id) const {
  const Certificate* cert = CertFor(h.origin.bytes);
  if (cert == nullptr) return "E_UNKNOWN_ORIGIN";
  // Node clocks cannot be trusted, so validity is judged on the change's own
  // stamp; a revocation, not the dates, is what stops a lost key.
  const uint64_t t = h.hlc.millis();
  if (t < cert->not_before_ms || t > cert->not_after_ms) return "E_CERT_EXPIRED";
  if (const Revocation* r = RevocationOf(h.origin.bytes)) {
    const replication::RevocationCut* cut = r->FindCut(h.scope);
    if (cut == nullptr || h.seq > cut->seq) return "E_REVOKED";
    // At the cut, only the envelope the hub held when it revoked.
    if (h.seq == cut->seq && cut->id != replication::Hash{} && id != cut->id) return "E_REVOKED";
  }
  return "";
}

std::optional<store::IngestGate::Cut> Trust::CutOf(const crdt::ReplicaId& origin,
                                                   std::string_view scope) const {
  const Revocation* r = RevocationOf(origin.bytes);
  if (r == nullptr) return std::nullopt;
  const replication::RevocationCut* cut = r->FindCut(scope);
  if (cut == nullptr || cut->id == replication::Hash{}) return std::nullopt;
  return Cut{cut->seq, cut->id};
}

bool Trust::CertMayWrite(const Certificate& cert, std::string_view scope) {
  if (replication::IsCommuneRole(cert.role)) return scope == cert.commune;
  if (scope == replication::PublicScope(cert.province)) return true;
  const domain::CommuneInfo* c = domain::ReferenceData::Get().Commune(scope);
  return c != nullptr && c->province_code == cert.province;
}

bool Trust::MayWrite(const PublicKey& origin, std::string_view scope) const {
  const Certificate* cert = CertFor(origin);
  return cert != nullptr && CertMayWrite(*cert, scope);
}

std::string Trust::Authorise(const replication::EnvelopeHeader& h) const {
  const Certificate* cert = CertFor(h.origin.bytes);
  if (cert == nullptr) return "E_UNKNOWN_ORIGIN";
  if (!CertMayWrite(*cert, h.scope)) return "E_NOT_AUTHORISED";
  // A commune's records travel encrypted, the public scope in clear: a
  // member must not put personal data in clear on relays and USB sticks.
  const bool encrypted = (h.flags & replication::kFlagEncrypted) != 0;
  if (encrypted == replication::IsPublicScope(h.scope)) return "E_WRONG_ENCRYPTION";
  return "";
}

void Keyring::Add(const std::string& scope, uint32_t epoch, replication::SecretBytes key) {
  keys_.insert_or_assign(std::make_pair(scope, epoch), std::move(key));
}

const uint8_t* Keyring::Get(std::string_view scope, uint32_t epoch) const {
  auto it = keys_.find(std::make_pair(std::string(scope), epoch));
  return it == keys_.end() || it->second.size() != 32 ? nullptr : it->second.data();
}

uint32_t Keyring::Latest(std::string_view scope) const {
  uint32_t e = 0;
  for (const auto& [k, v] : keys_) {
    if (k.first == scope) e = std::max(e, k.second);
  }
  return e;
}

const char* TrustKindName(TrustKind k) {
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

std::optional<TrustKind> TrustKindFromName(std::string_view s) {
  if (s == "cert") return TrustKind::kCertificate;
  if (s == "revocation") return TrustKind::kRevocation;
  if (s == "grant") return TrustKind::kGrant;
  return std::nullopt;
}

}  // namespace tuphap::node
