// Who may open a CURVE connection to the listener (internal to
// node/transport): a ZAP handler (ZeroMQ RFC 27) that admits the X25519
// keys of this province's enrolled, unrevoked nodes. Without one, CURVE
// admits any key (TOOLCHAIN.md), so it is bound before the listener's
// socket accepts anything.
//
// It runs on the listener's network thread and never reads the store's
// trust itself: it answers from the worker's TrustCache (handoff.h) as
// long as the store's trust stamp, read through a TrustProbe of its own
// (a WAL reader: it never waits for a commit), is the cache's. When the
// stamp moved (a certificate or a revocation written by `enroll sign` or
// `revoke` beside `serve`), the request waits — the handler is a ROUTER,
// so it can answer later — until the worker has reloaded trust and
// published it: a certificate signed a moment ago admits its first
// handshake, and a revocation refuses the next one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "node/node.h"
#include "node/store/trust_probe.h"
#include "node/transport/handoff.h"

namespace tuphap::node::transport {

// The ZAP domain the listener's ROUTER names.
inline constexpr const char* kZapDomain = "tuphap";

// The certificate of an enrolled, unrevoked node with this X25519 key, in
// the node's current trust; null when there is none.
const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box);

// The worker's side of the cache: the node's trust as the handler needs it.
std::shared_ptr<const TrustCache> MakeTrustCache(Node& node);

// The X25519 key ZAP admitted for the connection a frame came from (its
// User-Id); none when the frame did not pass ZAP.
std::optional<replication::PublicKey> BoxKeyOf(zmq::message_t& frame);

class ZapHandler {
 public:
  // Whether an enrolled key may have one more connection now.
  using AdmitFn = std::function<bool(const replication::PublicKey&)>;

  // Binds the handler in `ctx` (throws zmq::error_t if it cannot).
  // `probe`: null answers from the cache alone, waiting for the worker
  // whenever a key is not in it.
  ZapHandler(zmq::context_t& ctx, std::unique_ptr<store::TrustProbe> probe,
             std::shared_ptr<const TrustCache> trust);

  zmq::socket_t& socket() { return socket_; }

  // Answers every waiting request it can. Returns whether one waits for
  // the worker's trust (ask for it).
  bool Service(const AdmitFn& admit);
  // The worker published its trust: every request waiting is answered when
  // it is the store's trust now. Returns whether they still wait (ask the
  // worker again: the store moved since it read it).
  bool OnTrust(std::shared_ptr<const TrustCache> trust, const AdmitFn& admit);

 private:
  struct Request {
    std::string peer;  // the ROUTER's routing id of libzmq's ZAP client
    std::string request_id;
    std::optional<replication::PublicKey> client;  // none: malformed
  };
  struct Verdict {
    std::string status = "400";  // 200 admitted; 300 and 500 temporary; 400 refused
    std::string text = "unknown key";
    std::string user;  // the admitted key in hex: each frame's User-Id
  };
  bool Fresh();
  Verdict Judge(const Request& r, const AdmitFn& admit);
  void Reply(const Request& r, const Verdict& v);

  std::unique_ptr<store::TrustProbe> probe_;
  std::shared_ptr<const TrustCache> trust_;
  std::vector<Request> waiting_;  // for the worker's trust
  zmq::socket_t socket_;
};

}  // namespace tuphap::node::transport
