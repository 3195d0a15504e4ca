// Who may open a CURVE connection to the listener (internal to
// node/transport): a ZAP handler (ZeroMQ RFC 27) that admits the X25519
// keys of this province's enrolled, unrevoked nodes. Without one, CURVE
// admits any key (TOOLCHAIN.md), so it is bound before the listener's
// socket accepts anything.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "node/node.h"

namespace tuphap::node::transport {

// The ZAP domain the listener's ROUTER names.
inline constexpr const char* kZapDomain = "tuphap";

// The certificate of an enrolled, unrevoked node with this X25519 key, in
// the node's current trust; null when there is none.
const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box);

// The X25519 key ZAP admitted for the connection a frame came from (its
// User-Id); none when the frame did not pass ZAP.
std::optional<replication::PublicKey> BoxKeyOf(zmq::message_t& frame);

class ZapHandler {
 public:
  // Whether an enrolled key may have one more connection now.
  using AdmitFn = std::function<bool(const replication::PublicKey&)>;

  // Binds the handler in `ctx` (throws zmq::error_t if it cannot).
  ZapHandler(zmq::context_t& ctx, Node& node);

  zmq::socket_t& socket() { return socket_; }

  // Answers one waiting request, if there is one. Returns whether it
  // answered.
  bool AnswerOne(const AdmitFn& admit);

 private:
  struct Verdict {
    std::string status = "400";  // 200 admitted; 300 and 500 temporary; 400 refused
    std::string text = "unknown key";
    std::string user;  // the admitted key in hex: each frame's User-Id
  };
  Verdict Judge(const replication::PublicKey& client, const AdmitFn& admit);
  void Reply(const std::string& request_id, const Verdict& v);

  Node& node_;
  zmq::socket_t socket_;
};

}  // namespace tuphap::node::transport
