// KeyVault: what a node keeps secret in memory — its private keys, read
// from the key file (DIR/keys) on first need, and the commune data keys
// granted to it — and how its own changes are sealed with them.
//
// The rule it enforces: keys are never unlocked while a write transaction is
// open. Unlocking may prompt for the passphrase and always runs Argon2id;
// done inside `BEGIN IMMEDIATE` it would hold every other writer of the
// store (serve ingesting a commune's batch included) for as long as an
// officer takes to type. A failed unlock is remembered for the life of the
// vault, so a command that cannot open the keys asks once, not once per
// value it tries to show.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crdt/change.h"
#include "node/keys.h"
#include "node/trust.h"
#include "replication/certificate.h"
#include "replication/envelope.h"

namespace tuphap::node {

class KeyVault {
 public:
  using PassphraseSource = std::function<Result<replication::SecretBytes>()>;

  // `key_file` holds the secrets of the node whose public keys are
  // `sign_pk` and `box_pk`; `passphrase` is asked at most once (unset:
  // unlocking fails with E_LOCKED).
  KeyVault(std::string key_file, const replication::PublicKey& sign_pk,
           const replication::PublicKey& box_pk, PassphraseSource passphrase);

  // Reads the private keys. Idempotent. `transaction_open`: the caller
  // holds a write transaction, which is a bug — E_LOCKED, and an assertion
  // in debug builds. The first failure is returned again without asking.
  Status Unlock(bool transaction_open);
  bool unlocked() const { return secrets_.has_value(); }
  // Null until unlocked.
  const NodeSecrets* secrets() const { return secrets_ ? &*secrets_ : nullptr; }
  // Secrets this process has just made (init): no key file to read.
  void Adopt(NodeSecrets secrets) { secrets_ = std::move(secrets); }

  // Opens the grants (sealed to this node's box key) not held yet; a grant
  // that does not open is skipped (the root signed something not ours).
  // Nothing happens while locked.
  void OpenGrants(const std::vector<const replication::KeyGrant*>& grants);
  Keyring& keyring() { return keyring_; }
  const Keyring& keyring() const { return keyring_; }

  // Seals one of this node's changes: clear and signed for the public
  // feed, encrypted under the newest epoch held for its scope otherwise, a
  // draft while locked or without a key (a commune before enrolment).
  Result<replication::Envelope> Seal(const crdt::Change& change, std::string_view body,
                                     const replication::Hash& prev) const;

 private:
  Status ReadKeys();

  std::string key_file_;
  replication::PublicKey sign_pk_{};
  replication::PublicKey box_pk_{};
  PassphraseSource passphrase_;
  std::optional<NodeSecrets> secrets_;
  std::optional<Status> failure_;
  Keyring keyring_;
};

}  // namespace tuphap::node
