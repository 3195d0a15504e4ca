#include "node/transport/zap.h"

#include <algorithm>
#include <vector>

#include "base/hex.h"
#include "obs/log.h"

namespace tuphap::node::transport {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// Handshakes waiting for the worker's trust at once; more are answered
// 300 (temporary: the dialler tries again).
constexpr size_t kMaxWaiting = 1024;

}  // namespace

const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box) {
  if (node.trust() == nullptr) return nullptr;
  for (const auto& [sign, cert] : node.trust()->certificates()) {
    if (cert.box_key == box && !node.trust()->IsRevoked(sign)) return &cert;
  }
  return nullptr;
}

std::shared_ptr<const TrustCache> MakeTrustCache(Node& node) {
  auto c = std::make_shared<TrustCache>();
  c->stamp = node.trust_stamp();
  if (const Trust* t = node.trust(); t != nullptr) {
    c->available = true;
    for (const auto& [sign, cert] : t->certificates())
      if (!t->IsRevoked(sign)) c->admitted.insert(cert.box_key);
  }
  return c;
}

std::optional<replication::PublicKey> BoxKeyOf(zmq::message_t& frame) {
  const char* user = nullptr;
  try {
    user = frame.gets("User-Id");
  } catch (const zmq::error_t&) {
    return std::nullopt;  // not admitted by ZAP: never served
  }
  if (user == nullptr) return std::nullopt;
  auto bytes = FromHex(user);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  replication::PublicKey k;
  std::copy(bytes->begin(), bytes->end(), k.begin());
  return k;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::unique_ptr<store::TrustProbe> probe,
                       std::shared_ptr<const TrustCache> trust)
    : probe_(std::move(probe)), trust_(std::move(trust)), socket_(ctx, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
}

// Whether the cache holds the trust the store holds now. Unknown (the
// probe could not read): no, the worker decides.
bool ZapHandler::Fresh() {
  if (probe_ == nullptr || trust_ == nullptr) return false;
  const Result<std::string> now = probe_->Stamp();
  return now.ok() && *now == trust_->stamp;
}

bool ZapHandler::Service(const AdmitFn& admit) {
  bool ask = false;
  while (true) {
    // [client routing id] [empty] [version] [request id] [domain] [address]
    // [identity] [mechanism] [credentials...]
    std::vector<zmq::message_t> req;
    while (true) {
      zmq::message_t m;
      if (!socket_.recv(m, zmq::recv_flags::dontwait)) break;
      const bool more = m.more();
      req.push_back(std::move(m));
      if (!more) break;
    }
    if (req.empty()) return ask;
    Request r;
    r.peer = req[0].to_string();
    if (req.size() > 3) r.request_id = req[3].to_string();
    if (req.size() >= 9 && req[7].to_string() == "CURVE" && req[8].size() == 32) {
      replication::PublicKey client;
      std::copy_n(static_cast<const uint8_t*>(req[8].data()), 32, client.begin());
      r.client = client;
    }
    // Every request gets a reply, malformed or not. A key the cache admits
    // or refuses is answered now while the store's trust is the cache's.
    if (!r.client || Fresh()) {
      Reply(r, Judge(r, admit));
    } else if (waiting_.size() >= kMaxWaiting) {
      Reply(r, Verdict{"300", "busy", {}});
    } else {
      waiting_.push_back(std::move(r));
      ask = true;
    }
  }
}

bool ZapHandler::OnTrust(std::shared_ptr<const TrustCache> trust, const AdmitFn& admit) {
  trust_ = std::move(trust);
  // The worker may have published this trust before a revocation or a
  // certificate that a waiting request saw the stamp move for: they are
  // answered only with trust as new as the store is now (ask again
  // otherwise). Without a readable probe, or when the worker could not read
  // trust either (answered "500", try again), the worker's word decides.
  if (probe_ != nullptr && trust_->available && !waiting_.empty()) {
    const Result<std::string> now = probe_->Stamp();
    if (now.ok() && *now != trust_->stamp) return true;
  }
  for (const Request& r : std::exchange(waiting_, {})) Reply(r, Judge(r, admit));
  return false;
}

ZapHandler::Verdict ZapHandler::Judge(const Request& r, const AdmitFn& admit) {
  Verdict v;
  if (trust_ == nullptr || !trust_->available) {
    v.status = "500";  // temporary: the peer may try again
    v.text = "trust unavailable";
  } else if (r.client && trust_->admitted.count(*r.client) != 0) {
    if (admit(*r.client)) {
      v.status = "200";
      v.text = "OK";
      v.user = ToHex(std::string_view(reinterpret_cast<const char*>(r.client->data()), 32));
    } else {
      v.status = "300";  // temporary: too many of its connections say nothing yet
      v.text = "too many connections";
    }
  }
  if (v.status == "400") obs::Log().warn("refused a connection from an unenrolled or revoked key");
  return v;
}

void ZapHandler::Reply(const Request& r, const Verdict& v) {
  try {
    socket_.send(zmq::buffer(r.peer), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string()), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(r.request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(v.status), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(v.text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(v.user), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string()), zmq::send_flags::none);
  } catch (const zmq::error_t&) {
    // The connection asking is gone: libzmq drops the reply.
  }
}

}  // namespace tuphap::node::transport
