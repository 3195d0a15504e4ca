// The asking side of reconcile (node/reconcile/wire.cc): RemoteSource reads
// an ANSWER body from the peer. The first input byte picks which of the
// four queries was asked (with fixed arguments), the rest is the answer
// handed back. Never a crash; what is decoded is no more than the answer's
// bytes can hold (every element costs at least one byte). Seeds: the hub's
// real answers to those four queries.
#include <cstdlib>

#include "node/reconcile.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

namespace {

const std::string kScope = "18568";

// Hands back `answer` to whatever is asked.
class Channel final : public node::QueryChannel {
 public:
  std::string answer;
  Result<std::string> Ask(const std::string&, std::string) override { return answer; }
};

std::vector<node::RecordAsk> Asks() { return {{"R3", {}}, {"R0", {}}, {"missing", {}}}; }

// Runs query `pick`; the number of things decoded, or -1 on error.
long Run(node::ReconcileSource* remote, int pick) {
  switch (pick % 4) {
    case 0: {
      auto r = remote->Roots({kScope}, false);
      return r.ok() ? static_cast<long>(r->size()) : -1;
    }
    case 1: {
      auto r = remote->Children(kScope, {""});
      return r.ok() ? static_cast<long>(r->size()) : -1;
    }
    case 2: {
      auto r = remote->Leaves(kScope, {""});
      if (!r.ok()) return -1;
      long n = 0;
      for (const auto& l : *r) n += static_cast<long>(l.size());
      return n;
    }
    default: {
      auto r = remote->Records(kScope, Asks());
      if (!r.ok()) return -1;
      long n = 0;
      for (const auto& d : *r)
        n += static_cast<long>(d.fields.size() + d.history.size() + d.lacking.size() +
                               d.mismatched_fields.size());
      return n;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // One source for the process: making one draws its run name from
  // std::random_device, which costs more than decoding an answer.
  static Channel ch;
  static const std::unique_ptr<node::ReconcileSource> remote = node::RemoteSource(ch);
  ch.answer.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  const long decoded = Run(remote.get(), data[0]);
  FUZZ_FAIL_IF(decoded > static_cast<long>(size));
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  fuzz::World& w = fuzz::TheWorld();
  node::ReconcileResponder responder(*w.hub, node::ReconcileResponder::Limits::Unlimited());
  std::vector<std::string> seeds;
  for (int pick = 0; pick < 4; ++pick) {
    // The hub's real answer to the query RemoteSource asks for `pick`.
    struct Recorder final : node::QueryChannel {
      node::ReconcileResponder* r;
      std::string last;
      Result<std::string> Ask(const std::string& what, std::string body) override {
        auto a = r->Answer(fuzz::TheWorld().commune_cert, what, body, 0);
        if (a.ok()) last = *a;
        return a;
      }
    } rec;
    rec.r = &responder;
    FUZZ_FAIL_IF(Run(node::RemoteSource(rec).get(), pick) < 0);
    seeds.push_back(static_cast<char>(pick) + rec.last);
  }
  return seeds;
}
