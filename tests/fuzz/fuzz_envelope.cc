// Envelope parser and change body decoder: never crash; an accepted body
// is in canonical form (re-encoding gives the same bytes) and meets
// Change::CheckShape.
#include <cstdlib>

#include "replication/change_codec.h"
#include "replication/draft.h"
#include "tests/fuzz/fuzz_target.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto env = replication::Envelope::Parse(bytes);
  if (env.ok()) {
    crdt::Change c;
    replication::ChangeHeaderFromEnvelope(env->header(), &c);
    if (replication::DecodeChangeBody(env->body(), replication::kDefaultLimits, &c).ok()) {
      FUZZ_FAIL_IF(replication::EncodeChangeBody(c) != env->body());
      FUZZ_FAIL_IF(!c.CheckShape().ok());
    }
  }
  // The body decoder on its own, too.
  crdt::Change c;
  c.origin = crdt::ReplicaId::ForTest(1);
  c.seq = 5;
  if (replication::DecodeChangeBody(bytes, replication::kDefaultLimits, &c).ok()) {
    FUZZ_FAIL_IF(replication::EncodeChangeBody(c) != bytes);
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  crdt::Change c;
  c.origin = crdt::ReplicaId::ForTest(1);
  c.scope = "22333";
  c.seq = 5;
  c.hlc = crdt::Hlc::FromParts(1'751'328'000'000, 1);
  c.officer = "Lan";
  c.reason = "sửa sai";
  c.records.push_back({"22333-KS-2025-000001",
                       {{"$type", crdt::Value::String("birth"), {}},
                        {"data.child.given_name",
                         crdt::Value::String("Anh"),
                         {{crdt::ReplicaId::ForTest(2), 3, 1}}},
                        {"data.fine", crdt::Value::Int(-5), {{c.origin, 2, 0}}},
                        {"data.list", crdt::Value::JsonText("[\"a\",1]"), {}}}});
  const replication::Envelope e = replication::MakeDraft(c, replication::Blake2b256("prev"));
  return {e.bytes(), std::string(e.body())};
}
