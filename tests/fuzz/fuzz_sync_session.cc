// A hub's side of sync (node/sync.cc) fed hostile frames from one
// connection of an enrolled commune node, dispatched as the listener does
// (node/transport/listener.cc): a QUERY is answered outside the session, a
// HELLO (or any frame when there is no session) starts a new session, a
// session that fails is dropped and the connection goes on. The input is
// the connection's frames (fuzz_world.h, SplitFrames). Never a crash, and
// every frame the hub sends back decodes. Seeds: the frames the commune
// really sent in one session, whole and one at a time after its HELLO.
#include <memory>

#include "node/reconcile.h"
#include "node/sync.h"
#include "replication/protocol.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/fuzz_world.h"

using namespace tuphap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::World& w = fuzz::TheWorld();
  static node::PeerMemory memory;  // the listener keeps one per peer key
  static node::ReconcileResponder responder(*w.hub, node::ReconcileResponder::Limits::Unlimited());
  static int64_t now = 0;
  const auto frames =
      fuzz::SplitFrames(std::string_view(reinterpret_cast<const char*>(data), size));
  std::unique_ptr<node::SyncSession> session;
  std::vector<std::string> out;
  for (const auto& f : frames) {
    const uint64_t type = replication::PeekType(f);
    if (type == static_cast<uint64_t>(replication::MessageType::kQuery)) {
      auto q = replication::Decode(f);
      if (q.ok() && std::holds_alternative<replication::Query>(*q)) {
        const auto& query = std::get<replication::Query>(*q);
        auto a = responder.Answer(w.commune_cert, query.what, query.body, ++now);
        if (a.ok()) out.push_back(replication::Encode(replication::Answer{query.query_no, *a}));
      }
      continue;
    }
    if (type == static_cast<uint64_t>(replication::MessageType::kHello) || !session) {
      session = std::make_unique<node::SyncSession>(*w.hub, node::SyncSession::Side::kListener,
                                                    w.commune->box_key(), &memory);
    }
    if (!session->OnFrame(f, &out).ok() || !session->Pump(&out).ok()) session.reset();
  }
  for (const auto& f : out) {
    FUZZ_FAIL_IF(!replication::Decode(f).ok());  // a frame no peer can read
  }
  return 0;
}

std::vector<std::string> FuzzSeeds() {
  const fuzz::World& w = fuzz::TheWorld();
  std::vector<std::string> seeds{fuzz::JoinFrames(w.dialer_frames)};
  for (const auto& f : w.dialer_frames) seeds.push_back(fuzz::JoinFrames({w.dialer_frames[0], f}));
  // The commune's HELLO in the summary form (version 2), every bucket
  // expanded by one HEADS, then the rest of its frames.
  auto hello = replication::Decode(w.dialer_frames.front());
  if (hello.ok() && std::holds_alternative<replication::Hello>(*hello)) {
    auto h = std::get<replication::Hello>(*hello);
    const auto heads = h.heads;
    h.summary = replication::Summarise(h.heads, 1);
    h.heads.clear();
    h.version = replication::kSummaryVersion;
    std::vector<std::string> frames{replication::Encode(h),
                                    replication::Encode(replication::HeadsMessage{true, heads})};
    frames.insert(frames.end(), w.dialer_frames.begin() + 1, w.dialer_frames.end());
    seeds.push_back(fuzz::JoinFrames(frames));
  }
  // A reconcile query on the same connection, and a HELLO after it.
  const auto& [what, body] = w.queries.front();
  seeds.push_back(fuzz::JoinFrames(
      {replication::Encode(replication::Query{1, what, body}), w.dialer_frames[0]}));
  return seeds;
}
