// Sealed envelopes (version 1): the change body encrypted under the scope's
// data key with the header as associated data, signed by the origin's
// Ed25519 key (docs/envelope.md).
//
// Cheap verification: a run of envelopes of one feed, each `prev` naming the
// id of the one before, is authenticated by the signature of its last
// envelope — the id covers every byte including the signature, so the last
// signature commits to the whole run. VerifyRuns checks the links, verifies
// one signature per unbroken run, and falls back to single envelopes only
// where a run is broken or its last signature fails.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "crdt/change.h"
#include "replication/crypto.h"
#include "replication/envelope.h"

namespace tuphap::replication {

// Seals a change body. `key` null: a clear body (public data: certificates,
// revocations), still signed. `header.version`, `flags` and `key_epoch` are
// set here (key_epoch from the argument).
// `key` points to the 32-byte data key.
Envelope SealBody(EnvelopeHeader header, std::string_view clear_body, const uint8_t* key,
                  uint32_t key_epoch, const SigningKey& signer);

// Whether the envelope's signature is the origin's over its digest.
bool SignatureValid(const Envelope& envelope);

// The clear body: decrypted with `key` when the envelope is encrypted
// (`key` may be null otherwise). Corruption (E_DECRYPT) when it does not
// decrypt.
Result<std::string> OpenBody(const Envelope& envelope, const uint8_t* key);

// Decodes a sealed envelope's body into `change` (header fields from the
// header).
Status OpenSealed(const Envelope& envelope, const uint8_t* key, const Limits& limits,
                  crdt::Change* change);

struct RunVerification {
  std::vector<bool> valid;  // per input envelope
  size_t signatures_checked = 0;
};

// Authenticates `envelopes` (any mix of feeds, in arrival order; drafts are
// never valid). A run is a maximal sequence of envelopes of one feed,
// adjacent in the input, with seq + 1 and prev = id of the one before.
RunVerification VerifyRuns(std::span<const Envelope* const> envelopes);

}  // namespace tuphap::replication
