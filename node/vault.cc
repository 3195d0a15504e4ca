#include "node/vault.h"

#include <cassert>
#include <utility>

#include "replication/draft.h"
#include "replication/seal.h"

namespace tuphap::node {

KeyVault::KeyVault(std::string key_file, const replication::PublicKey& sign_pk,
                   const replication::PublicKey& box_pk, PassphraseSource passphrase)
    : key_file_(std::move(key_file)),
      sign_pk_(sign_pk),
      box_pk_(box_pk),
      passphrase_(std::move(passphrase)) {}

Status KeyVault::Unlock(bool transaction_open) {
  if (secrets_) return Status::Ok();
  if (failure_) return *failure_;
  if (transaction_open) {
    assert(false && "KeyVault::Unlock inside a write transaction");
    return Status::FailedPrecondition(
               "the private keys are locked and a write transaction is open: they must be "
               "unlocked before it begins")
        .WithReason("E_LOCKED");
  }
  Status s = ReadKeys();
  if (!s.ok()) failure_ = s;
  return s;
}

Status KeyVault::ReadKeys() {
  if (!passphrase_) {
    return Status::FailedPrecondition(
               "the private keys are locked: set TUPHAP_PASSPHRASE or run the command on a "
               "terminal to type the passphrase")
        .WithReason("E_LOCKED");
  }
  TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes pass, passphrase_());
  TUPHAP_ASSIGN_OR_RETURN(NodeSecrets secrets, ReadKeyFile(key_file_, pass));
  if (secrets.sign.public_key() != sign_pk_ || secrets.box.public_key() != box_pk_) {
    return Status::Corruption("the key file " + key_file_ + " belongs to another node")
        .WithReason("E_KEYFILE_DAMAGED");
  }
  secrets_ = std::move(secrets);
  return Status::Ok();
}

void KeyVault::OpenGrants(const std::vector<const replication::KeyGrant*>& grants) {
  if (!secrets_) return;
  for (const replication::KeyGrant* g : grants) {
    if (keyring_.Has(g->scope, g->epoch)) continue;
    auto key = replication::OpenSealedBox(secrets_->box, g->sealed);
    if (!key.ok() || key->size() != 32) continue;
    keyring_.Add(g->scope, g->epoch, std::move(*key));
  }
}

Result<replication::Envelope> KeyVault::Seal(const crdt::Change& change, std::string_view body,
                                             const replication::Hash& prev) const {
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

}  // namespace tuphap::node
