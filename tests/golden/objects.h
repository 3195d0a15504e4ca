// The fixed objects the golden vectors encode (docs, "Test vectors"): the
// changes and envelopes of a commune node of 18568 and of the hub of
// province 42. See golden.h.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <string>

#include "replication/change_codec.h"
#include "replication/envelope.h"
#include "replication/seal.h"
#include "tests/golden/golden.h"

namespace tuphap::golden {

using crdt::Value;
using replication::EnvelopeHeader;

// Seq 1 of the commune node's feed of 18568, written before enrolment.
inline crdt::Change DraftChange() {
  crdt::Change c;
  c.origin = Id(K().commune);
  c.scope = std::string(kCommune);
  c.seq = 1;
  c.hlc = crdt::Hlc::FromParts(kNowMs, 0);
  c.officer = "Lê Thị Hoa";
  c.records = {{"18568-KS-2025-000001",
                {{"$type", Value::String("birth"), {}},
                 {"data.child.given_name", Value::String("An"), {}}}}};
  return c;
}

// Seq 2: every kind of value, pred dots of two origins (the origin table
// lists them in first-use order: the hub, then this node).
inline crdt::Change SampleChange() {
  crdt::Change c;
  c.origin = Id(K().commune);
  c.scope = std::string(kCommune);
  c.seq = 2;
  c.hlc = crdt::Hlc::FromParts(kNowMs + 60'000, 1);
  c.officer = "Lê Thị Hoa";
  c.reason = "sửa tên";
  c.records = {
      {"18568-KS-2025-000001",
       {{"data.child.given_name", Value::String("Anh"), {{Id(K().hub), 4, 2}, {c.origin, 1, 1}}},
        {"data.registration.entry_no", Value::Int(12), {}},
        {"data.father", Value::Null(), {}},
        {"data.late", Value::Bool(false), {}}}},
      {"18568-XP-2025-000007",
       {{"data.additional_penalties", Value::JsonText(R"(["cảnh cáo","tịch thu"])"), {}},
        {"data.adjustment", Value::Int(-5), {}}}}};
  return c;
}

// Seq 1 of the hub's public feed P42 (one trust record, its object left
// out for brevity).
inline crdt::Change PublicChange() {
  crdt::Change c;
  c.origin = Id(K().hub);
  c.scope = "P" + std::string(kProvince);
  c.seq = 1;
  c.hlc = crdt::Hlc::FromParts(kNowMs - kDayMs, 0);
  c.reason = "trust objects";
  c.records = {
      {"_cert-" + ToHex(Bytes(K().commune.public_key())),
       {{"$type", Value::String("trust_object"), {}}, {"kind", Value::String("cert"), {}}}}};
  return c;
}

inline EnvelopeHeader HeaderOf(const crdt::Change& c) {
  EnvelopeHeader h;
  h.origin = c.origin;
  h.scope = c.scope;
  h.seq = c.seq;
  h.hlc = c.hlc;
  return h;
}

inline replication::Envelope ClearEnvelope() {
  return replication::SealBody(HeaderOf(PublicChange()),
                               replication::EncodeChangeBody(PublicChange()), nullptr, 0, K().hub);
}

// The encrypted envelope as the documented formula makes it, with the
// vector's fixed nonce (SealBody draws a random one).
inline const std::string kSealedPrev = Fill(0x22);
inline const std::string kNonce = Fill(0x07, 24);

inline EnvelopeHeader SealedHeader() {
  EnvelopeHeader h = HeaderOf(SampleChange());
  h.version = replication::kSealedVersion;
  std::copy(kSealedPrev.begin(), kSealedPrev.end(), h.prev.begin());
  h.key_epoch = 1;
  h.flags = replication::kFlagEncrypted;
  return h;
}

inline replication::Envelope SealedEnvelope() {
  const EnvelopeHeader h = SealedHeader();
  const std::string header = replication::EncodeHeader(h);
  const std::string clear = replication::EncodeChangeBody(SampleChange());
  std::string body = kNonce + std::string(clear.size() + 16, '\0');
  unsigned long long n = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(body.data() + 24), &n,
      reinterpret_cast<const unsigned char*>(clear.data()), clear.size(),
      reinterpret_cast<const unsigned char*>(header.data()), header.size(), nullptr,
      reinterpret_cast<const unsigned char*>(kNonce.data()),
      reinterpret_cast<const unsigned char*>(DataKey().data()));
  const replication::Hash digest = replication::SigningDigest(header, body);
  const replication::Signature sig = K().commune.Sign(replication::kSignEnvelope, Bytes(digest));
  return replication::Envelope::Assemble(h, body,
                                         {reinterpret_cast<const char*>(sig.data()), sig.size()});
}

}  // namespace tuphap::golden
