#include "replication/envelope.h"

#include "replication/msgpack.h"

namespace tuphap::replication {

Hash SigningDigest(std::string_view header_bytes, std::string_view body) {
  Hasher h;
  h.UpdateFramed(header_bytes);
  h.UpdateFramed(body);
  return h.Final();
}

Hash EnvelopeId(const Hash& digest, std::string_view signature) {
  Hasher h;
  h.Update(AsBytes(digest));
  h.Update(signature);
  return h.Final();
}

std::string EncodeHeader(const EnvelopeHeader& h) {
  MsgpackWriter w(128);
  w.ArrayHeader(8);
  w.Uint(h.version);
  w.Bin(h.origin.bytes);
  w.Str(h.scope);
  w.Uint(h.seq);
  w.Bin(h.prev);
  w.Uint(h.hlc.raw());
  w.Uint(h.key_epoch);
  w.Uint(h.flags);
  return w.Take();
}

Envelope Envelope::Assemble(const EnvelopeHeader& header, std::string_view body,
                            std::string_view signature) {
  Envelope e;
  e.header_ = header;
  const std::string hb = EncodeHeader(header);
  MsgpackWriter w(hb.size() + body.size() + signature.size() + 16);
  w.ArrayHeader(3);
  w.Bin(hb);
  e.header_off_ = w.bytes().size() - hb.size();
  e.header_len_ = hb.size();
  w.Bin(body);
  e.body_off_ = w.bytes().size() - body.size();
  e.body_len_ = body.size();
  w.Bin(signature);
  e.sig_off_ = w.bytes().size() - signature.size();
  e.sig_len_ = signature.size();
  e.bytes_ = w.Take();
  e.digest_ = SigningDigest(hb, body);
  e.hash_ = EnvelopeId(e.digest_, signature);
  return e;
}

Result<bool> Envelope::IsDraft(std::string_view bytes) {
  MsgpackReader r(bytes);
  r.ExpectArray(3);
  MsgpackReader h(r.ReadBin(1024));
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("envelope"));
  h.ExpectArray(8);
  const uint64_t version = h.ReadUint();
  TUPHAP_RETURN_IF_ERROR(h.status().Annotate("envelope header"));
  return version == kDraftVersion;
}

Result<Envelope> Envelope::Parse(std::string bytes, const Limits& limits) {
  if (bytes.size() > limits.max_envelope_bytes) {
    return Status::InvalidArgument("an envelope of " + std::to_string(bytes.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(limits.max_envelope_bytes))
        .WithReason("E_LIMIT_SIZE");
  }
  Envelope e;
  e.bytes_ = std::move(bytes);
  MsgpackReader r(e.bytes_);
  r.ExpectArray(3);
  std::string_view hb = r.ReadBin(1024);
  std::string_view body = r.ReadBin();
  std::string_view sig = r.ReadBin(64);
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("envelope"));
  e.header_off_ = static_cast<size_t>(hb.data() - e.bytes_.data());
  e.header_len_ = hb.size();
  e.body_off_ = static_cast<size_t>(body.data() - e.bytes_.data());
  e.body_len_ = body.size();
  e.sig_off_ = static_cast<size_t>(sig.data() - e.bytes_.data());
  e.sig_len_ = sig.size();

  MsgpackReader h(hb);
  h.ExpectArray(8);
  const uint64_t version = h.ReadUint();
  h.ReadBinFixed(e.header_.origin.bytes);
  e.header_.scope = std::string(h.ReadStr(limits.max_scope_bytes));
  e.header_.seq = h.ReadUint();
  h.ReadBinFixed(e.header_.prev);
  e.header_.hlc = crdt::Hlc::FromRaw(h.ReadUint());
  const uint64_t epoch = h.ReadUint();
  const uint64_t flags = h.ReadUint();
  h.ExpectEnd();
  if (h.ok() && (version > kSealedVersion || epoch > UINT32_MAX ||
                 (flags & ~uint64_t{kFlagEncrypted}) != 0)) {
    h.Fail("unknown envelope version, flag or field out of range");
  }
  if (h.ok() && (e.header_.seq == 0 || e.header_.scope.empty())) h.Fail("seq 0 or empty scope");
  // A draft is unsigned and in clear; a sealed envelope is always signed.
  if (h.ok() && version == kDraftVersion && (!sig.empty() || epoch != 0 || flags != 0))
    h.Fail("a draft carries no signature, key epoch or flags");
  if (h.ok() && version == kSealedVersion && sig.size() != kSignatureBytes)
    h.Fail("a sealed envelope needs a 64-byte signature");
  TUPHAP_RETURN_IF_ERROR(h.status().Annotate("envelope header"));
  e.header_.version = static_cast<uint32_t>(version);
  e.header_.key_epoch = static_cast<uint32_t>(epoch);
  e.header_.flags = static_cast<uint32_t>(flags);
  e.digest_ = SigningDigest(e.header_bytes(), e.body());
  e.hash_ = EnvelopeId(e.digest_, e.signature());
  return e;
}

}  // namespace tuphap::replication
