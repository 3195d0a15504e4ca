// A node's private keys and the file that keeps them (docs/security.md).
//
// DIR/keys holds the Ed25519 signing key, the X25519 key (sealed boxes and
// ZeroMQ CURVE) and, on a hub, the province root key, encrypted with a key
// derived from the operator's passphrase (Argon2id) under
// XChaCha20-Poly1305. The file's clear header (format, KDF limits, salt) is
// the associated data, so it cannot be altered either. Since format 2 the
// file ends with a BLAKE2b-256 checksum of everything before it, checked
// before anything else: a damaged file is told apart from a wrong
// passphrase without the passphrase. The KDF limits are used only when
// they are ones this program writes (KdfLimits::Accepted), so a damaged or
// hostile header cannot make an unlock run for minutes or allocate
// gigabytes. The byte layout is in docs/security.md (Key file). Secrets
// live in SecretBytes and are wiped when dropped.
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

// Argon2id limits of a key file: passes and memory in bytes.
struct KdfLimits {
  uint64_t ops = 0;  // 0 (with mem 0): libsodium's "interactive" limits
  size_t mem = 0;

  // libsodium's presets: interactive (2 passes, 64 MiB, the default) and
  // moderate (3 passes, 256 MiB); weak (1 pass, 8 KiB) is for tests only —
  // a key file made with it is cheap to brute-force.
  static KdfLimits Interactive();
  static KdfLimits Moderate();
  static KdfLimits Weak();
  // True for exactly those three: the only limits written, and the only
  // ones a key file is read with.
  static bool Accepted(uint64_t ops, uint64_t mem);
  friend bool operator==(const KdfLimits&, const KdfLimits&) = default;
};

// A key file is a few hundred bytes; anything much larger is not one.
inline constexpr size_t kMaxKeyFileBytes = 4096;

struct NodeSecrets {
  replication::SigningKey sign;
  replication::BoxKey box;
  std::optional<replication::SigningKey> root;  // a hub's province root key
};

NodeSecrets GenerateSecrets(bool with_root);

// The key file inside a data directory.
std::string KeyFilePath(const std::string& dir);

// Writes the key file (format 2, mode 0600, atomically: a temporary file
// renamed, the directory synced). InvalidArgument when `limits` is not
// one KdfLimits::Accepted takes.
Status WriteKeyFile(const std::string& path, const NodeSecrets& secrets,
                    const replication::SecretBytes& passphrase, KdfLimits limits = {});
// InvalidArgument (E_WRONG_PASSPHRASE) when the passphrase does not open it;
// Corruption (E_KEYFILE_DAMAGED) when the file is truncated, malformed,
// fails its checksum or names KDF limits this program does not write —
// all found before any key derivation; NotFound when there is none.
// Reads format 1 (no checksum) too: there damage inside the sealed part
// reads as a wrong passphrase.
Result<NodeSecrets> ReadKeyFile(const std::string& path,
                                const replication::SecretBytes& passphrase);

// The structural checks of ReadKeyFile (size, checksum, format, limits),
// without the passphrase: what a restore checks before it publishes a key
// file. Same errors.
Status CheckKeyFile(const std::string& path);

// The short node id: "XXXX-XXXX-XXXX-XXXX-CCCC".
std::string NodeIdText(const replication::PublicKey& sign_key);
// The 10-byte fingerprint a node id names. InvalidArgument when it is not
// 20 base-32 characters or its checksum does not match (a typo).
Result<std::string> ParseNodeIdText(std::string_view text);
// The 10-byte fingerprint of a key.
std::string KeyFingerprint(const replication::PublicKey& sign_key);

}  // namespace tuphap::node
