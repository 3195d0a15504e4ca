// Sync frames (replication/protocol.cc), all eight message types: never
// crash; a frame that decodes is the canonical encoding of what it decoded
// to (re-encoding gives the same bytes), and PeekType names its type.
// Seeds: the frames of a real session between a commune node and its hub,
// plus ERROR, QUERY and ANSWER frames, and the commune's HELLO in the
// summary form (version 2) with the HEADS that expand it.
#include <cstdlib>

#include "replication/protocol.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const uint64_t peeked = replication::PeekType(frame);
  auto m = replication::Decode(frame);
  if (!m.ok()) return 0;
  FUZZ_FAIL_IF(replication::Encode(*m) != frame);  // accepted a non-canonical frame
  FUZZ_FAIL_IF(peeked != m->index() + 1);
  if (const auto* ack = std::get_if<replication::Ack>(&*m)) {
    // A receipt is checked against a key, never trusted for its shape.
    FUZZ_FAIL_IF(replication::ReceiptValid(*ack, fuzz::TheWorld().hub->sign_key()) &&
                 ack->receipt.size() != 64);
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  const fuzz::World& w = fuzz::TheWorld();
  std::vector<std::string> seeds = w.dialer_frames;
  seeds.insert(seeds.end(), w.listener_frames.begin(), w.listener_frames.end());
  seeds.push_back(replication::Encode(
      replication::ErrorMessage{"E_NOT_AUTHORISED", "nút này không được phép / not allowed"}));
  auto hello = replication::Decode(w.dialer_frames.front());
  if (hello.ok() && std::holds_alternative<replication::Hello>(*hello)) {
    auto h = std::get<replication::Hello>(*hello);
    const auto heads = h.heads;
    h.summary = replication::Summarise(h.heads, 2);
    h.heads.clear();
    h.version = replication::kSummaryVersion;
    seeds.push_back(replication::Encode(h));
    seeds.push_back(replication::Encode(replication::HeadsMessage{true, heads}));
  }
  for (const auto& [what, body] : w.queries) {
    seeds.push_back(replication::Encode(replication::Query{3, what, body}));
    seeds.push_back(replication::Encode(replication::Answer{3, body}));
  }
  return seeds;
}
