// What the listener, the dialler and the loops share (internal to
// node/transport): a monotonic clock, the options every connection gets,
// sending without blocking, and polling that a signal may interrupt.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace tuphap::node::transport {

using Clock = std::chrono::steady_clock;

// Frames queued to one connection (ZeroMQ's send high-water mark, with
// ZMQ_ROUTER_MANDATORY on the listener): a peer with this many unread is
// not reading and is dropped. A session has at most 4 batches and 4 acks
// out at once.
inline constexpr int kSendQueueFrames = 16;

// Milliseconds on the monotonic clock.
int64_t NowMs();

// The frame limit, queue bounds, heartbeats and linger of every socket.
void CommonOptions(zmq::socket_t& s);

// A 32-byte CURVE key as a socket option value.
inline zmq::const_buffer KeyBuffer(const uint8_t* data) { return zmq::const_buffer(data, 32); }

// Sends `frames` on a DEALER without blocking and clears them; false when
// the peer is not reading (its queue is full) or gone.
bool SendAll(zmq::socket_t& dealer, std::vector<std::string>& frames);

// Sends `frames` to one peer of a ROUTER (routing id `rid`) without blocking
// and clears them; false when the peer is gone or not reading.
bool SendTo(zmq::socket_t& router, const std::string& rid, std::vector<std::string>& frames);

// zmq::poll, except that a signal (SIGTERM, SIGINT) interrupting it is not
// an error: false, the loop goes round and Asio delivers the signal.
bool PollOrSignal(std::vector<zmq::pollitem_t>& items, int ms);

}  // namespace tuphap::node::transport
