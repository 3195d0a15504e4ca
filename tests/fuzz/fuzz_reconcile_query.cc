// The answering side of reconcile (node/reconcile/wire.cc): a hub's
// ReconcileResponder takes a QUERY body from an enrolled commune node. The
// first input byte picks the query's name (the four known and an unknown
// one), the rest is the body. Never a crash; an answer fits one frame and
// is one whole msgpack value. Seeds: the queries a real reconcile run of
// the commune against the hub asked.
#include <cstdlib>

#include "node/reconcile.h"
#include "replication/msgpack.h"
#include "replication/protocol.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

namespace {
const char* const kWhat[] = {"recon.roots", "recon.children", "recon.leaves", "recon.records",
                             "recon.unknown"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::World& w = fuzz::TheWorld();
  static node::ReconcileResponder responder(*w.hub, node::ReconcileResponder::Limits::Unlimited());
  const std::string what = kWhat[data[0] % 5];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  static int64_t now = 0;
  auto answer = responder.Answer(w.commune_cert, what, body, ++now);
  if (!answer.ok()) return 0;
  FUZZ_FAIL_IF(answer->size() > replication::kMaxFrameBytes);
  replication::MsgpackReader r(*answer);
  r.Skip();
  r.ExpectEnd();
  FUZZ_FAIL_IF(!r.ok());  // an answer the asker cannot read
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  std::vector<std::string> seeds;
  for (const auto& [what, body] : fuzz::TheWorld().queries) {
    char pick = 0;
    for (char i = 0; i < 4; ++i)
      if (what == kWhat[static_cast<int>(i)]) pick = i;
    seeds.push_back(pick + body);
  }
  // Found by the smoke test: a records query naming a change whose HLC is
  // above INT64_MAX, echoed in the answer (MsgpackReader::Skip refused it).
  seeds.push_back(*fuzz::Unhex(
      "0393b0613666c6343433646338643933613333a531383536389192a252339293c420be6af4b2c8e90f5aaf84de10"
      "7256bcf1a03f8300573ac8344a89d664966188d304cf8197c3488800000393c420be2af4b2c8e97b5aaf84de1072"
      "56bcf1a03f8300573ac8344a89d664966188d307cf0197c34888000006"));
  return seeds;
}
