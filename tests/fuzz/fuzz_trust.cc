// Root-signed trust objects (replication/certificate.cc) and the trust
// built from them (node/trust.cc): certificates, revocations and key
// grants. The first input byte picks the kind and the mode:
//  raw:    the rest is the object's bytes, checked against the root;
//  signed: the rest is the object's body, which the harness signs with the
//          root key, so what lies behind the signature check (the body's
//          fields, and Trust's rules on them) meets hostile bytes too.
// Never a crash; an object accepted is exactly what signing its decoded
// form gives (Ed25519 is deterministic: one byte form per object); Trust
// adds it or counts it rejected, and answers questions about it.
#include <cstdlib>

#include "node/trust.h"
#include "replication/msgpack.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

namespace {

// [body, signature] under `context`, as the root signs (certificate.cc).
std::string Wrap(std::string_view body, const replication::SigningKey& key,
                 std::string_view context) {
  const replication::Signature sig = key.Sign(context, body);
  replication::MsgpackWriter w;
  w.ArrayHeader(2);
  w.Bin(body);
  w.Bin(sig);
  return w.Take();
}

// The body of a [body, signature] object ("" when it is not one).
std::string Body(std::string_view object) {
  replication::MsgpackReader r(object);
  r.ExpectArray(2);
  const std::string_view body = r.ReadBin();
  return r.ok() ? std::string(body) : std::string();
}

constexpr std::string_view kContexts[] = {replication::kSignCertificate,
                                          replication::kSignRevocation, replication::kSignGrant};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::World& w = fuzz::TheWorld();
  const replication::SigningKey& root = *w.root;
  const int kind = data[0] % 3;
  const bool sign = (data[0] / 3) % 2 == 1;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string bytes = sign ? Wrap(rest, root, kContexts[kind]) : std::string(rest);
  const replication::PublicKey& pk = root.public_key();
  bool accepted = false;
  switch (kind) {
    case 0:
      if (auto c = replication::Certificate::Parse(bytes, pk); c.ok()) {
        accepted = true;
        FUZZ_FAIL_IF(c->Sign(root) != bytes);
      }
      break;
    case 1:
      if (auto v = replication::Revocation::Parse(bytes, pk); v.ok()) {
        accepted = true;
        FUZZ_FAIL_IF(v->Sign(root) != bytes);
        for (const auto& cut : v->cuts) FUZZ_FAIL_IF(v->FindCut(cut.scope) == nullptr);
      }
      break;
    default:
      if (auto g = replication::KeyGrant::Parse(bytes, pk); g.ok()) {
        accepted = true;
        FUZZ_FAIL_IF(g->Sign(root) != bytes || g->epoch == 0);
      }
  }
  // Trust takes the same bytes the same way, beside the real objects.
  node::Trust trust(pk, "42");
  for (const auto& [k, b] : w.trust_objects) trust.Add(k, b);
  bool known = false;  // bytes Trust has seen (under any kind) are not looked at again
  for (const auto& [k, b] : w.trust_objects) known = known || b == bytes;
  const size_t rejected = trust.rejected();
  trust.Add(static_cast<node::TrustKind>(kind), bytes);
  FUZZ_FAIL_IF(!accepted && !known && trust.rejected() != rejected + 1);
  for (const auto& [key, cert] : trust.certificates()) {
    trust.MayWrite(key, cert.commune);
    trust.MayWrite(key, "P42");
    trust.CutFor(key, "18568");
  }
  trust.LatestEpoch("18568");
  trust.GrantsTo(w.commune->box_key());
  trust.Members("18568");
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  for (const auto& [kind, bytes] : fuzz::TheWorld().trust_objects) {
    const char k = static_cast<char>(kind);
    seeds.push_back(k + bytes);
    seeds.push_back(static_cast<char>(k + 3) + Body(bytes));
  }
  return seeds;
}
