// What a node knows of its province's trust (docs/security.md): the root
// key, every certificate and revocation, and the key grants — all objects
// the root signed, gathered from the enrolment file and from the province's
// public feed. Trust is the store's IngestGate: who may write what.
//
// Keyring holds the commune data keys this node has opened, by (scope,
// epoch), in guarded memory.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/store/store.h"
#include "replication/certificate.h"

namespace tuphap::node {

// How a root-signed object is named as a record of the public scope.
inline constexpr std::string_view kCertPrefix = "_cert-";
inline constexpr std::string_view kRevocationPrefix = "_revocation-";
inline constexpr std::string_view kGrantPrefix = "_grant-";
inline constexpr std::string_view kObjectField = "object";  // hex of the signed bytes

enum class TrustKind { kCertificate, kRevocation, kGrant };
// The kind's name in trust_objects and public records ("cert",
// "revocation", "grant"), and back.
const char* TrustKindName(TrustKind kind);
std::optional<TrustKind> TrustKindFromName(std::string_view name);
// The public-scope record id of an object.
std::string TrustRecordId(TrustKind kind, std::string_view bytes,
                          const replication::PublicKey& root);

class Trust final : public store::IngestGate {
 public:
  Trust(const replication::PublicKey& root, std::string province)
      : root_(root), province_(std::move(province)) {}

  const replication::PublicKey& root() const { return root_; }
  // Adds one object, checked against the root. Objects that do not verify
  // are ignored and counted (rejected()).
  void Add(TrustKind kind, std::string_view bytes);
  size_t rejected() const { return rejected_; }

  const replication::Certificate* CertFor(const replication::PublicKey& sign_key) const;
  // By the 10-byte fingerprint of a node id.
  const replication::Certificate* CertByFingerprint(std::string_view fingerprint) const;
  const std::map<replication::PublicKey, replication::Certificate>& certificates() const {
    return certs_;
  }
  // The last seq kept of (node, scope) when the node is revoked.
  std::optional<uint64_t> CutFor(const replication::PublicKey& node, std::string_view scope) const;
  bool IsRevoked(const replication::PublicKey& node) const { return revoked_.count(node) > 0; }
  const replication::Revocation* RevocationOf(const replication::PublicKey& node) const;
  // Unrevoked commune-node certificates of `commune`.
  std::vector<const replication::Certificate*> Members(std::string_view commune) const;
  // Grants sealed to `box_key`.
  std::vector<const replication::KeyGrant*> GrantsTo(const replication::PublicKey& box_key) const;
  // The highest epoch granted for `scope` (0: none).
  uint32_t LatestEpoch(std::string_view scope) const;
  // Whether `origin` holds a certificate that lets it write `scope` (a
  // commune node its commune; a hub its province's public scope and
  // communes): exactly the feeds that can exist in this province.
  bool MayWrite(const replication::PublicKey& origin, std::string_view scope) const;

  // store::IngestGate
  std::string CheckOrigin(const replication::EnvelopeHeader& header,
                          const replication::Hash& id) const override;
  std::optional<Cut> CutOf(const crdt::ReplicaId& origin, std::string_view scope) const override;
  std::string Authorise(const replication::EnvelopeHeader& header) const override;

 private:
  replication::PublicKey root_;
  std::string province_;
  std::map<replication::PublicKey, replication::Certificate> certs_;
  std::map<replication::PublicKey, replication::Revocation> revoked_;
  std::vector<replication::KeyGrant> grants_;
  std::map<std::string, std::string> seen_;  // object bytes already added (by hash)
  size_t rejected_ = 0;

  static bool CertMayWrite(const replication::Certificate& cert, std::string_view scope);
};

class Keyring {
 public:
  void Add(const std::string& scope, uint32_t epoch, replication::SecretBytes key);
  // The 32-byte key, or nullptr.
  const uint8_t* Get(std::string_view scope, uint32_t epoch) const;
  // The newest epoch held for `scope` (0: none).
  uint32_t Latest(std::string_view scope) const;
  bool Has(std::string_view scope, uint32_t epoch) const { return Get(scope, epoch) != nullptr; }
  void Remove(const std::string& scope, uint32_t epoch) {
    keys_.erase(std::make_pair(scope, epoch));
  }
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::pair<std::string, uint32_t>, replication::SecretBytes, std::less<>> keys_;
};

}  // namespace tuphap::node
