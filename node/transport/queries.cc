// PeerQueries: reconcile's questions to a listening node, outside any sync
// session, over a Dial of their own.
#include <chrono>
#include <thread>

#include "node/transport.h"
#include "node/transport/dialer.h"
#include "node/transport/socket.h"

namespace tuphap::node {

using transport::NowMs;

// A query refused E_RATE_LIMITED is asked again this much later.
constexpr int64_t kRateWaitMs = 250;

struct PeerQueries::Impl {
  zmq::context_t ctx;
  transport::Dial dial;
  Node* node = nullptr;
  int timeout_s = 60;
  uint64_t next_no = 0;
  uint64_t bytes_out = 0, bytes_in = 0, queries = 0, rate_limited = 0;
  std::string peer_id;
};

PeerQueries::PeerQueries(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerQueries::~PeerQueries() = default;
uint64_t PeerQueries::bytes_out() const { return impl_->bytes_out; }
uint64_t PeerQueries::bytes_in() const { return impl_->bytes_in; }
uint64_t PeerQueries::queries() const { return impl_->queries; }
uint64_t PeerQueries::rate_limited() const { return impl_->rate_limited; }
const std::string& PeerQueries::peer_id() const { return impl_->peer_id; }

Result<std::unique_ptr<PeerQueries>> PeerQueries::Open(Node& node, const std::string& endpoint,
                                                       const std::string& peer, int timeout_s) {
  TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert,
                          transport::PeerCertificate(node, peer));
  if (cert->sign_key == node.sign_key()) {
    return Status::InvalidArgument("the node expected at " + endpoint +
                                   " is this node itself: name the other one (NODE-ID@" + endpoint +
                                   ", or --peer-id)");
  }
  auto impl = std::make_unique<Impl>();
  impl->node = &node;
  impl->timeout_s = timeout_s;
  impl->dial.ctx = &impl->ctx;
  impl->dial.endpoint = endpoint;
  impl->dial.peer = *cert;
  impl->peer_id = NodeIdText(cert->sign_key);
  try {
    TUPHAP_RETURN_IF_ERROR(transport::OpenDial(node, impl->dial));
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot reach " + endpoint + ": " + e.what());
  }
  return std::unique_ptr<PeerQueries>(new PeerQueries(std::move(impl)));
}

Result<std::string> PeerQueries::Ask(const std::string& what, std::string body) {
  Impl& m = *impl_;
  transport::Dial& d = m.dial;
  const uint64_t no = ++m.next_no;
  std::string frame = replication::Encode(replication::Query{no, what, std::move(body)});
  if (frame.size() > replication::kMaxQueryBytes)
    return Status::InvalidArgument("a " + what + " query of " + std::to_string(frame.size()) +
                                   " bytes is over the 1 MiB a node accepts");
  const int64_t start = NowMs();
  try {
    bool sent = false;
    while (true) {
      TUPHAP_RETURN_IF_ERROR(transport::PollMonitor(d));
      if (!sent && d.socket->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value()) {
        sent = true;
        m.bytes_out += frame.size();
        ++m.queries;
      }
      std::vector<zmq::pollitem_t> items{{d.socket->handle(), 0, ZMQ_POLLIN, 0}};
      transport::PollOrSignal(items, 20);
      zmq::message_t reply;
      while (d.socket->recv(reply, zmq::recv_flags::dontwait)) {
        m.bytes_in += reply.size();
        auto msg = replication::Decode(reply.to_string_view());
        if (!msg.ok()) return msg.status();
        if (auto* e = std::get_if<replication::ErrorMessage>(&*msg)) {
          if (e->code == "E_RATE_LIMITED" && NowMs() - start + kRateWaitMs < m.timeout_s * 1000LL) {
            // Over the peer's budget for this node: asked again once it refilled.
            ++m.rate_limited;
            std::this_thread::sleep_for(std::chrono::milliseconds(kRateWaitMs));
            sent = false;
            continue;
          }
          return Status::Aborted("the peer refused the query: " + e->message + " [" + e->code + "]")
              .WithReason(e->code);
        }
        if (auto* a = std::get_if<replication::Answer>(&*msg); a != nullptr && a->query_no == no)
          return std::move(a->body);
      }
      if (NowMs() - start > m.timeout_s * 1000LL) {
        return Status::Unavailable("no answer from " + d.endpoint + " for " +
                                   std::to_string(m.timeout_s) +
                                   " s (is 'tuphap serve' running there?)");
      }
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot reach " + d.endpoint + ": " + e.what());
  }
}

}  // namespace tuphap::node
