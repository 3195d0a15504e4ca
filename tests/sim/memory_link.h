// A clean in-memory link between two ends of a sync session, for the
// simulations (tests/sim/): every frame is delivered whole and once, in the
// order it was sent, the two directions taking turns, and counted at the
// link. The faulty links of sim.cc and tests/property/sync_property_test.cc
// drive SyncSession the same way (Start, then OnFrame with the frames each
// side emits) and add drops, duplicates, reordering, delays and cuts.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "node/sync.h"

namespace tuphap::node::sim {

struct LinkCount {
  uint64_t frames = 0;
  uint64_t bytes = 0;
  LinkCount& operator+=(const LinkCount& o) {
    frames += o.frames;
    bytes += o.bytes;
    return *this;
  }
};

// What crossed one link, per direction.
struct LinkTally {
  LinkCount up;    // dialler -> listener
  LinkCount down;  // listener -> dialler
  LinkTally& operator+=(const LinkTally& o) {
    up += o.up;
    down += o.down;
    return *this;
  }
};

// One end of a link: takes a frame, appends the frames it answers with.
using FrameHandler = std::function<Status(std::string_view frame, std::vector<std::string>* out)>;

// Delivers `opening` (the dialler's HELLO) to the listener, then every frame
// either side emits, until `done()` holds. An error of either end ends the
// run with that error; a run where nothing is in flight and `done()` does
// not hold has stalled (a session that waits for a frame nobody sends).
inline Status RunCleanLink(std::string opening, const FrameHandler& dialer,
                           const FrameHandler& listener, const std::function<bool()>& done,
                           LinkTally* tally) {
  std::deque<std::string> to_listener{std::move(opening)}, to_dialer;
  tally->up.frames += 1;
  tally->up.bytes += to_listener.front().size();
  bool listener_turn = true;
  while (!done()) {
    if (to_listener.empty() && to_dialer.empty())
      return Status::Aborted("the session stalled: nothing in flight, not caught up");
    // Take turns while both directions have frames: a frame answers what
    // the other side sent before it, as on a real connection.
    if (to_listener.empty() || (!to_dialer.empty() && !listener_turn)) {
      listener_turn = true;
      const std::string frame = std::move(to_dialer.front());
      to_dialer.pop_front();
      std::vector<std::string> out;
      TUPHAP_RETURN_IF_ERROR(dialer(frame, &out));
      for (auto& f : out) {
        tally->up.frames += 1;
        tally->up.bytes += f.size();
        to_listener.push_back(std::move(f));
      }
    } else {
      listener_turn = false;
      const std::string frame = std::move(to_listener.front());
      to_listener.pop_front();
      std::vector<std::string> out;
      TUPHAP_RETURN_IF_ERROR(listener(frame, &out));
      for (auto& f : out) {
        tally->down.frames += 1;
        tally->down.bytes += f.size();
        to_dialer.push_back(std::move(f));
      }
    }
  }
  return Status::Ok();
}

// One session of two real SyncSessions over a clean link, until both have
// caught up.
inline Status RunCleanSession(SyncSession& dialer, SyncSession& listener, LinkTally* tally) {
  TUPHAP_ASSIGN_OR_RETURN(std::string hello, dialer.Start());
  return RunCleanLink(
      std::move(hello),
      [&](std::string_view f, std::vector<std::string>* out) { return dialer.OnFrame(f, out); },
      [&](std::string_view f, std::vector<std::string>* out) { return listener.OnFrame(f, out); },
      [&] { return dialer.caught_up() && listener.caught_up(); }, tally);
}

}  // namespace tuphap::node::sim
