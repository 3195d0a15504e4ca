// Enrolment requests (replication/certificate.cc, EnrollRequest::Parse): the
// file a node's operator carries to the hub. The first input byte picks
//  raw:    the rest is the request file;
//  signed: the rest is the request's body, signed by the harness with the
//          commune node's key (a body naming another key fails its check),
//          so the fields behind the signature meet hostile bytes too.
// Never a crash; a request accepted is exactly what signing its decoded
// form gives. Seeds: a real request (`enroll request`) and its body.
#include <cstdlib>

#include "replication/certificate.h"
#include "replication/msgpack.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::World& w = fuzz::TheWorld();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes(rest);
  if (data[0] & 1) {
    const replication::Signature sig = w.commune_key->Sign(replication::kSignRequest, rest);
    replication::MsgpackWriter wr;
    wr.ArrayHeader(2);
    wr.Bin(rest);
    wr.Bin(sig);
    bytes = wr.Take();
  }
  auto q = replication::EnrollRequest::Parse(bytes);
  if (!q.ok()) return 0;
  // A request is signed by its own key: one of a node this world holds
  // re-signs to exactly its bytes (one byte form per request).
  static const replication::SigningKey& stranger = (*w.stranger->UnlockedSecrets())->sign;
  const replication::SigningKey* signer = q->sign_key == w.commune_key->public_key() ? w.commune_key
                                          : q->sign_key == stranger.public_key()     ? &stranger
                                                                                     : nullptr;
  FUZZ_FAIL_IF(signer != nullptr && q->Sign(*signer) != bytes);
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  fuzz::World& w = fuzz::TheWorld();
  // The stranger's real request, and one of the commune node's own.
  auto own = w.commune->EnrollRequestFile("máy chính");
  FUZZ_FAIL_IF(!own.ok());
  std::vector<std::string> seeds{'\0' + w.request_file, '\0' + *own};
  replication::MsgpackReader r(*own);
  r.ExpectArray(2);
  seeds.push_back('\1' + std::string(r.ReadBin()));
  return seeds;
}
