#include "replication/certificate.h"

#include <algorithm>

#include "replication/msgpack.h"

namespace tuphap::replication {
namespace {

constexpr uint64_t kFormat = 1;
constexpr size_t kMaxObject = 8 * 1024;

static_assert(kSignEnvelope.size() == 16 && kSignCertificate.size() == 16 &&
                  kSignRequest.size() == 16 && kSignRevocation.size() == 16 &&
                  kSignReceipt.size() == 16 && kSignGrant.size() == 16,
              "signature contexts are 16 bytes");

// Signs the body `w` holds with `key` under `context`: [body, signature].
std::string SignAndWrap(MsgpackWriter& w, const SigningKey& key, std::string_view context) {
  const std::string body = w.Take();
  const Signature sig = key.Sign(context, body);
  MsgpackWriter out(body.size() + 80);
  out.ArrayHeader(2);
  out.Bin(body);
  out.Bin(sig);
  return out.Take();
}

// Splits [body, signature] and checks the signature with `key` (or, when
// `key` is null, leaves that to the caller).
Result<std::pair<std::string_view, std::string_view>> Unwrap(std::string_view bytes,
                                                             const char* what) {
  if (bytes.size() > kMaxObject)
    return Status::InvalidArgument(std::string(what) + " is too large").WithReason("E_LIMIT_SIZE");
  MsgpackReader r(bytes);
  r.ExpectArray(2);
  std::string_view body = r.ReadBin(kMaxObject);
  std::string_view sig = r.ReadBin(64);
  r.ExpectEnd();
  if (r.ok() && sig.size() != 64) r.Fail("a signature is 64 bytes");
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate(what));
  return std::make_pair(body, sig);
}

Status BadSignature(const char* what) {
  return Status::PermissionDenied(std::string(what) + " is not signed by the expected key")
      .WithReason("E_BAD_SIGNATURE");
}

// A root-signed object: its issuer field names `root` and `root` signed the
// body under `context`.
Status CheckRootSigned(const PublicKey& issuer, const PublicKey& root, std::string_view context,
                       const std::pair<std::string_view, std::string_view>& parts,
                       const char* what) {
  if (issuer != root || !VerifySignature(root, context, parts.first, parts.second))
    return BadSignature(what);
  return Status::Ok();
}

void WriteRole(MsgpackWriter& w, NodeRole r) { w.Str(NodeRoleCode(r)); }

NodeRole ReadRole(MsgpackReader& r) {
  const std::string_view s = r.ReadStr(16);
  if (s == "commune") return NodeRole::kCommune;
  if (s == "hub") return NodeRole::kHub;
  if (s == "secondary") return NodeRole::kCommuneSecondary;
  if (r.ok()) r.Fail("unknown role");
  return NodeRole::kCommune;
}

}  // namespace

const char* NodeRoleName(NodeRole r) { return r == NodeRole::kHub ? "hub" : "commune"; }

const char* NodeRoleCode(NodeRole r) {
  switch (r) {
    case NodeRole::kCommune:
      return "commune";
    case NodeRole::kCommuneSecondary:
      return "secondary";
    case NodeRole::kHub:
      return "hub";
  }
  return "commune";
}

std::string PublicScope(std::string_view province) { return "P" + std::string(province); }
bool IsPublicScope(std::string_view scope) { return !scope.empty() && scope[0] == 'P'; }

// ------------------------------------------------------------ EnrollRequest

std::string EnrollRequest::Sign(const SigningKey& node_key) const {
  MsgpackWriter w(256);
  w.ArrayHeader(8);
  w.Uint(kFormat);
  w.Bin(sign_key);
  w.Bin(box_key);
  WriteRole(w, role);
  w.Str(commune);
  w.Str(province);
  w.Uint(created_ms);
  w.Str(label);
  return SignAndWrap(w, node_key, kSignRequest);
}

Result<EnrollRequest> EnrollRequest::Parse(std::string_view bytes) {
  TUPHAP_ASSIGN_OR_RETURN(auto parts, Unwrap(bytes, "enrolment request"));
  EnrollRequest q;
  MsgpackReader r(parts.first);
  r.ExpectArray(8);
  if (r.ReadUint() != kFormat && r.ok()) r.Fail("unknown format version");
  r.ReadBinFixed(q.sign_key);
  r.ReadBinFixed(q.box_key);
  q.role = ReadRole(r);
  q.commune = std::string(r.ReadStr(16));
  q.province = std::string(r.ReadStr(16));
  q.created_ms = r.ReadUint();
  q.label = std::string(r.ReadStr(256));
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("enrolment request"));
  if (!VerifySignature(q.sign_key, kSignRequest, parts.first, parts.second))
    return BadSignature("the enrolment request");
  return q;
}

// -------------------------------------------------------------- Certificate

std::string Certificate::Sign(const SigningKey& root) const {
  MsgpackWriter w(256);
  w.ArrayHeader(9);
  w.Uint(kFormat);
  w.Bin(sign_key);
  w.Bin(box_key);
  WriteRole(w, role);
  w.Str(commune);
  w.Str(province);
  w.Uint(not_before_ms);
  w.Uint(not_after_ms);
  w.Bin(root.public_key());
  return SignAndWrap(w, root, kSignCertificate);
}

namespace {

Result<Certificate> DecodeCertificate(std::string_view body) {
  Certificate c;
  MsgpackReader r(body);
  r.ExpectArray(9);
  if (r.ReadUint() != kFormat && r.ok()) r.Fail("unknown format version");
  r.ReadBinFixed(c.sign_key);
  r.ReadBinFixed(c.box_key);
  c.role = ReadRole(r);
  c.commune = std::string(r.ReadStr(16));
  c.province = std::string(r.ReadStr(16));
  c.not_before_ms = r.ReadUint();
  c.not_after_ms = r.ReadUint();
  r.ReadBinFixed(c.issuer);
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("certificate"));
  return c;
}

}  // namespace

Result<Certificate> Certificate::Parse(std::string_view bytes, const PublicKey& root) {
  TUPHAP_ASSIGN_OR_RETURN(auto parts, Unwrap(bytes, "certificate"));
  TUPHAP_ASSIGN_OR_RETURN(Certificate c, DecodeCertificate(parts.first));
  TUPHAP_RETURN_IF_ERROR(
      CheckRootSigned(c.issuer, root, kSignCertificate, parts, "the certificate"));
  return c;
}

Result<PublicKey> Certificate::PeekIssuer(std::string_view bytes) {
  TUPHAP_ASSIGN_OR_RETURN(auto parts, Unwrap(bytes, "certificate"));
  TUPHAP_ASSIGN_OR_RETURN(Certificate c, DecodeCertificate(parts.first));
  return c.issuer;
}

// --------------------------------------------------------------- Revocation

std::string Revocation::Sign(const SigningKey& root) const {
  MsgpackWriter w(256);
  w.ArrayHeader(6);
  w.Uint(kFormat);
  w.Bin(node);
  w.Str(reason);
  w.ArrayHeader(static_cast<uint32_t>(cuts.size()));
  for (const auto& cut : cuts) {
    w.ArrayHeader(3);
    w.Str(cut.scope);
    w.Uint(cut.seq);
    w.Bin(AsBytes(cut.id));
  }
  w.Uint(issued_ms);
  w.Bin(root.public_key());
  return SignAndWrap(w, root, kSignRevocation);
}

Result<Revocation> Revocation::Parse(std::string_view bytes, const PublicKey& root) {
  TUPHAP_ASSIGN_OR_RETURN(auto parts, Unwrap(bytes, "revocation"));
  Revocation v;
  MsgpackReader r(parts.first);
  r.ExpectArray(6);
  if (r.ReadUint() != kFormat && r.ok()) r.Fail("unknown format version");
  r.ReadBinFixed(v.node);
  v.reason = std::string(r.ReadStr(2048));
  const uint32_t n = r.ReadArrayHeader(1024);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    r.ExpectArray(3);
    RevocationCut cut;
    cut.scope = std::string(r.ReadStr(16));
    cut.seq = r.ReadUint();
    r.ReadBinFixed(cut.id);
    if (r.ok() && !v.cuts.empty() && v.cuts.back().scope >= cut.scope) r.Fail("cuts not sorted");
    v.cuts.push_back(std::move(cut));
  }
  v.issued_ms = r.ReadUint();
  r.ReadBinFixed(v.issuer);
  r.ExpectEnd();
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("revocation"));
  TUPHAP_RETURN_IF_ERROR(CheckRootSigned(v.issuer, root, kSignRevocation, parts, "the revocation"));
  return v;
}

uint64_t Revocation::CutFor(std::string_view scope) const {
  const RevocationCut* c = FindCut(scope);
  return c != nullptr ? c->seq : 0;
}

const RevocationCut* Revocation::FindCut(std::string_view scope) const {
  for (const auto& c : cuts) {
    if (c.scope == scope) return &c;
  }
  return nullptr;
}

// ----------------------------------------------------------------- KeyGrant

std::string KeyGrant::Sign(const SigningKey& root) const {
  MsgpackWriter w(256);
  w.ArrayHeader(6);
  w.Uint(kFormat);
  w.Str(scope);
  w.Uint(epoch);
  w.Bin(recipient);
  w.Bin(sealed);
  w.Bin(root.public_key());
  return SignAndWrap(w, root, kSignGrant);
}

Result<KeyGrant> KeyGrant::Parse(std::string_view bytes, const PublicKey& root) {
  TUPHAP_ASSIGN_OR_RETURN(auto parts, Unwrap(bytes, "key grant"));
  KeyGrant g;
  MsgpackReader r(parts.first);
  r.ExpectArray(6);
  if (r.ReadUint() != kFormat && r.ok()) r.Fail("unknown format version");
  g.scope = std::string(r.ReadStr(16));
  const uint64_t epoch = r.ReadUint();
  r.ReadBinFixed(g.recipient);
  g.sealed = std::string(r.ReadBin(256));
  r.ReadBinFixed(g.issuer);
  r.ExpectEnd();
  if (r.ok() && (epoch == 0 || epoch > UINT32_MAX)) r.Fail("key epoch out of range");
  TUPHAP_RETURN_IF_ERROR(r.status().Annotate("key grant"));
  g.epoch = static_cast<uint32_t>(epoch);
  TUPHAP_RETURN_IF_ERROR(CheckRootSigned(g.issuer, root, kSignGrant, parts, "the key grant"));
  return g;
}

}  // namespace tuphap::replication
