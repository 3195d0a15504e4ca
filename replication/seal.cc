#include "replication/seal.h"

#include "replication/change_codec.h"
#include "replication/draft.h"

namespace tuphap::replication {

Envelope SealBody(EnvelopeHeader header, std::string_view clear_body, const uint8_t* key,
                  uint32_t key_epoch, const SigningKey& signer) {
  header.version = kSealedVersion;
  header.origin.bytes = signer.public_key();
  header.key_epoch = key != nullptr ? key_epoch : 0;
  header.flags = key != nullptr ? kFlagEncrypted : 0;
  const std::string hb = EncodeHeader(header);
  const std::string body = key != nullptr ? AeadSeal(key, hb, clear_body) : std::string(clear_body);
  const Hash digest = SigningDigest(hb, body);
  const Signature sig = signer.Sign(kSignEnvelope, AsBytes(digest));
  return Envelope::Assemble(
      header, body, std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

bool SignatureValid(const Envelope& envelope) {
  if (envelope.is_draft()) return false;
  return VerifySignature(envelope.header().origin.bytes, kSignEnvelope, AsBytes(envelope.digest()),
                         envelope.signature());
}

Result<std::string> OpenBody(const Envelope& envelope, const uint8_t* key) {
  if ((envelope.header().flags & kFlagEncrypted) == 0) return std::string(envelope.body());
  if (key == nullptr)
    return Status::FailedPrecondition("no key for this scope and epoch").WithReason("E_NO_KEY");
  return AeadOpen(key, envelope.header_bytes(), envelope.body());
}

Status OpenSealed(const Envelope& envelope, const uint8_t* key, const Limits& limits,
                  crdt::Change* change) {
  if (envelope.is_draft()) return OpenDraft(envelope, limits, change);
  TUPHAP_ASSIGN_OR_RETURN(std::string body, OpenBody(envelope, key));
  ChangeHeaderFromEnvelope(envelope.header(), change);
  return DecodeChangeBody(body, limits, change);
}

namespace {

bool Links(const Envelope& a, const Envelope& b) {
  const auto& ha = a.header();
  const auto& hb = b.header();
  return ha.origin == hb.origin && ha.scope == hb.scope && hb.seq == ha.seq + 1 &&
         hb.prev == a.hash();
}

// Verifies envelopes[lo, hi) as one linked run: the last signature vouches
// for all; when it fails, the last is invalid and the rest is tried again.
void VerifyRun(std::span<const Envelope* const> e, size_t lo, size_t hi, RunVerification* out) {
  while (hi > lo) {
    ++out->signatures_checked;
    if (SignatureValid(*e[hi - 1])) {
      for (size_t i = lo; i < hi; ++i) out->valid[i] = true;
      return;
    }
    --hi;  // e[hi] stays invalid
  }
}

}  // namespace

RunVerification VerifyRuns(std::span<const Envelope* const> envelopes) {
  RunVerification out;
  out.valid.assign(envelopes.size(), false);
  size_t start = 0;
  for (size_t i = 0; i < envelopes.size(); ++i) {
    const bool last = i + 1 == envelopes.size();
    if (envelopes[i]->is_draft()) {
      VerifyRun(envelopes, start, i, &out);
      start = i + 1;
      continue;
    }
    if (last || envelopes[i + 1]->is_draft() || !Links(*envelopes[i], *envelopes[i + 1])) {
      VerifyRun(envelopes, start, i + 1, &out);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace tuphap::replication
