// A node's private keys and the file that keeps them (docs/security.md).
//
// DIR/keys holds the Ed25519 signing key, the X25519 key (sealed boxes and
// ZeroMQ CURVE) and, on a hub, the province root key, encrypted with a key
// derived from the operator's passphrase (Argon2id) under
// XChaCha20-Poly1305. The file's clear header (format, KDF limits, salt) is
// the associated data, so it cannot be altered either. Secrets live in
// SecretBytes and are wiped when dropped.
//
// The node id people see is a short text form of the signing key: 16
// base-32 characters of a BLAKE2b fingerprint and 4 of checksum, grouped by
// four (K7QF-2M9D-X4TR-8HNC-3PW1). A mistyped character fails the checksum.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "replication/crypto.h"

namespace tuphap::node {

struct KdfLimits {
  uint64_t ops = 0;  // 0: libsodium's "interactive" limits
  size_t mem = 0;
};

struct NodeSecrets {
  replication::SigningKey sign;
  replication::BoxKey box;
  std::optional<replication::SigningKey> root;  // a hub's province root key
};

NodeSecrets GenerateSecrets(bool with_root);

// The key file inside a data directory.
std::string KeyFilePath(const std::string& dir);

// Writes the key file (mode 0600, atomically: a temporary file renamed).
Status WriteKeyFile(const std::string& path, const NodeSecrets& secrets,
                    const replication::SecretBytes& passphrase, KdfLimits limits = {});
// InvalidArgument (E_WRONG_PASSPHRASE) when the passphrase does not open it;
// Corruption (E_KEYFILE_DAMAGED) when the file is truncated or malformed;
// NotFound when there is none.
Result<NodeSecrets> ReadKeyFile(const std::string& path,
                                const replication::SecretBytes& passphrase);

// The short node id: "XXXX-XXXX-XXXX-XXXX-CCCC".
std::string NodeIdText(const replication::PublicKey& sign_key);
// The 10-byte fingerprint a node id names. InvalidArgument when it is not
// 20 base-32 characters or its checksum does not match (a typo).
Result<std::string> ParseNodeIdText(std::string_view text);
// The 10-byte fingerprint of a key.
std::string KeyFingerprint(const replication::PublicKey& sign_key);

}  // namespace tuphap::node
