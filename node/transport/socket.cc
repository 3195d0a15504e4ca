#include "node/transport/socket.h"

#include <cerrno>

#include "replication/protocol.h"

namespace tuphap::node::transport {
namespace {

// Frames received from one connection and not yet handled: not bounded by
// ZeroMQ's receive high-water mark, because libzmq 4.3.4 (Debian 12)
// aborts — `Assertion failed: !_io_error (stream_engine_base.cpp)` — when
// a connection whose input was stopped by a full receive queue is closed
// and then a heartbeat or a buffered PING makes it write: any peer could
// bring a listener down that way (our attack test did). The listener reads
// every connection into an inbox instead and bounds that (listener.cc).
constexpr int kReceiveQueueFrames = 0;  // ZMQ_RCVHWM: no limit, see above

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

void CommonOptions(zmq::socket_t& s) {
  // The frame limit is enforced by libzmq before any byte is decoded.
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(replication::kMaxFrameBytes));
  s.set(zmq::sockopt::sndhwm, kSendQueueFrames);
  s.set(zmq::sockopt::rcvhwm, kReceiveQueueFrames);
  s.set(zmq::sockopt::heartbeat_ivl, 2000);
  s.set(zmq::sockopt::heartbeat_timeout, 6000);
  s.set(zmq::sockopt::handshake_ivl, 10000);
  s.set(zmq::sockopt::linger, 0);
}

bool SendAll(zmq::socket_t& dealer, std::vector<std::string>& frames) {
  bool ok = true;
  for (auto& f : frames) {
    try {
      ok = ok && dealer.send(zmq::buffer(f), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      ok = false;
    }
  }
  frames.clear();
  return ok;
}

bool SendTo(zmq::socket_t& router, const std::string& rid, std::vector<std::string>& frames) {
  bool ok = true;
  for (auto& f : frames) {
    try {
      ok = ok &&
           router.send(zmq::buffer(rid), zmq::send_flags::sndmore | zmq::send_flags::dontwait)
               .has_value() &&
           router.send(zmq::buffer(f), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      ok = false;
    }
  }
  frames.clear();
  return ok;
}

bool PollOrSignal(std::vector<zmq::pollitem_t>& items, int ms) {
  try {
    zmq::poll(items, std::chrono::milliseconds(ms));
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

}  // namespace tuphap::node::transport
