// The signed trust objects of a province (docs/security.md):
//
//   EnrollRequest  a node's keys, role and commune, signed by the node's own
//                  key (proof that it holds the secret half);
//   Certificate    the same keys bound to a role, commune/province and
//                  validity dates, signed by the province root key;
//   Revocation     a node's feeds cut at sequence numbers, signed by the root;
//   KeyGrant       a commune's data key of one epoch sealed to one node's
//                  X25519 key, signed by the root (a sealed box alone is
//                  anonymous: anyone could seal a key of their own).
//
// Each is `array(2) [body: bin, signature: bin(64)]` in canonical msgpack,
// the signature over the exact body bytes with its own context (crypto.h).
// Decoding checks structure and the signature against a given key; nothing
// is ever re-encoded.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replication/crypto.h"
#include "replication/hash.h"

namespace tuphap::replication {

inline constexpr std::string_view kSignGrant = "tuphap/keygrant1";

// kCommune is the commune's primary node — the one that numbers the
// commune's register books and leases blocks of numbers (a certificate
// made before kCommuneSecondary existed names every commune node so);
// kCommuneSecondary a further node of the commune, which takes numbers
// only from the blocks leased to it (docs/register-numbers.md).
enum class NodeRole : uint8_t { kCommune, kHub, kCommuneSecondary };
// The role's family as a HELLO names it: "commune" (primary or secondary)
// or "hub".
const char* NodeRoleName(NodeRole r);
// The role as certificates and requests carry it: "commune", "secondary"
// or "hub" (docs/envelope.md).
const char* NodeRoleCode(NodeRole r);
// A node of a commune, primary or secondary.
inline bool IsCommuneRole(NodeRole r) {
  return r == NodeRole::kCommune || r == NodeRole::kCommuneSecondary;
}

struct EnrollRequest {
  PublicKey sign_key{};
  PublicKey box_key{};
  NodeRole role = NodeRole::kCommune;
  std::string commune;   // 5 digits (commune role)
  std::string province;  // 2 digits (hub role); may be empty for a commune
  uint64_t created_ms = 0;
  std::string label;  // free text for the operator: the office, the machine

  std::string Sign(const SigningKey& node_key) const;  // the request file's bytes
  // Checks structure and that the request is signed by its own sign_key.
  static Result<EnrollRequest> Parse(std::string_view bytes);
};

struct Certificate {
  PublicKey sign_key{};
  PublicKey box_key{};
  NodeRole role = NodeRole::kCommune;
  std::string commune;   // the commune a commune node writes; "" for a hub
  std::string province;  // 2 digits
  uint64_t not_before_ms = 0;
  uint64_t not_after_ms = 0;
  PublicKey issuer{};  // the root key that signed it

  std::string Sign(const SigningKey& root) const;
  // Checks structure and that `root` signed it (issuer must equal root).
  static Result<Certificate> Parse(std::string_view bytes, const PublicKey& root);
  // Reads the issuer without checking anything else (to find the root to
  // check against).
  static Result<PublicKey> PeekIssuer(std::string_view bytes);
};

// The scope of a province's public feed (certificates, revocations, key
// grants): "P" + the 2-digit province code. It can never be a commune code.
std::string PublicScope(std::string_view province);
bool IsPublicScope(std::string_view scope);

// Where a revocation cuts one feed: its last seq kept and, when the hub held
// that envelope, its id (zeros otherwise), so a fork of the history below
// the cut cannot be passed off as the original.
struct RevocationCut {
  std::string scope;
  uint64_t seq = 0;
  Hash id{};

  friend bool operator==(const RevocationCut&, const RevocationCut&) = default;
};

struct Revocation {
  PublicKey node{};  // the revoked node's sign key
  std::string reason;
  std::vector<RevocationCut> cuts;  // sorted by scope
  uint64_t issued_ms = 0;
  PublicKey issuer{};

  std::string Sign(const SigningKey& root) const;
  static Result<Revocation> Parse(std::string_view bytes, const PublicKey& root);
  // The last seq kept of (node, scope): 0 when the node has no cut there
  // (nothing of it is accepted).
  uint64_t CutFor(std::string_view scope) const;
  // The cut of `scope`, if the revocation names it.
  const RevocationCut* FindCut(std::string_view scope) const;
};

struct KeyGrant {
  std::string scope;
  uint32_t epoch = 0;
  PublicKey recipient{};  // X25519 key the data key is sealed to
  std::string sealed;     // crypto_box_seal(data key)
  PublicKey issuer{};

  std::string Sign(const SigningKey& root) const;
  static Result<KeyGrant> Parse(std::string_view bytes, const PublicKey& root);
};

}  // namespace tuphap::replication
