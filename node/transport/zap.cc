#include "node/transport/zap.h"

#include <algorithm>
#include <vector>

#include "base/hex.h"
#include "obs/log.h"

namespace tuphap::node::transport {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

}  // namespace

const replication::Certificate* CertOfBoxKey(Node& node, const replication::PublicKey& box) {
  if (node.trust() == nullptr) return nullptr;
  for (const auto& [sign, cert] : node.trust()->certificates()) {
    if (cert.box_key == box && !node.trust()->IsRevoked(sign)) return &cert;
  }
  return nullptr;
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

ZapHandler::ZapHandler(zmq::context_t& ctx, Node& node)
    : node_(node), socket_(ctx, zmq::socket_type::rep) {
  socket_.bind(kZapEndpoint);
}

bool ZapHandler::AnswerOne(const AdmitFn& admit) {
  std::vector<zmq::message_t> req;
  while (true) {
    zmq::message_t m;
    if (!socket_.recv(m, zmq::recv_flags::dontwait)) break;
    const bool more = m.more();
    req.push_back(std::move(m));
    if (!more) break;
  }
  if (req.empty()) return false;
  // Every request gets a reply (a REP socket must answer), malformed or not.
  Verdict v;
  if (req.size() >= 7 && req[5].to_string() == "CURVE" && req[6].size() == 32) {
    replication::PublicKey client;
    std::copy_n(static_cast<const uint8_t*>(req[6].data()), 32, client.begin());
    v = Judge(client, admit);
  }
  Reply(req.size() > 1 ? req[1].to_string() : std::string(), v);
  return true;
}

ZapHandler::Verdict ZapHandler::Judge(const replication::PublicKey& client, const AdmitFn& admit) {
  Verdict v;
  // Trust as the store has it now: a certificate signed or revoked by
  // another process a moment ago (`enroll sign`, `revoke` beside `serve`)
  // counts at this very handshake. Re-read only when the store changed
  // (Node::ReloadTrustIfChanged: one pragma when nothing was written), so
  // every request can afford it — and a known key's revocation is seen as
  // promptly as a new key's certificate.
  const Result<bool> reloaded = node_.ReloadTrustIfChanged();
  if (!reloaded.ok() || node_.trust() == nullptr) {
    v.status = "500";  // temporary: the peer may try again
    v.text = "trust unavailable";
  } else if (CertOfBoxKey(node_, client) != nullptr) {
    if (admit(client)) {
      v.status = "200";
      v.text = "OK";
      v.user = ToHex(std::string_view(reinterpret_cast<const char*>(client.data()), 32));
    } else {
      v.status = "300";  // temporary: too many of its connections say nothing yet
      v.text = "too many connections";
    }
  }
  if (v.status == "400") obs::Log().warn("refused a connection from an unenrolled or revoked key");
  return v;
}

void ZapHandler::Reply(const std::string& request_id, const Verdict& v) {
  socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(v.status), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(v.text), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(v.user), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(std::string()), zmq::send_flags::none);
}

}  // namespace tuphap::node::transport
