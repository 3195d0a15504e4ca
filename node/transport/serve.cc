// The composition: `serve` (a listener and any number of dials; the
// listener's network thread beside the loop that owns the node) and
// `sync --once` (one dial until caught up).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "node/node_metrics.h"
#include "node/transport.h"
#include "node/transport/dialer.h"
#include "node/transport/listener.h"
#include "node/transport/socket.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace tuphap::node {
namespace {

using transport::Dial;
using transport::Listener;
using transport::NowMs;

// SIGINT/SIGTERM and the pump timer, on Boost.Asio, run by the loop
// between polls: a signal stops it between batches.
class LoopEvents {
 public:
  // `pump_interval_ms` 0: no pump timer.
  explicit LoopEvents(int pump_interval_ms)
      : signals_(io_, SIGINT, SIGTERM), pump_(io_), pump_interval_ms_(pump_interval_ms) {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stopped_ = true;
    });
    if (pump_interval_ms_ > 0) Arm();
  }
  // Runs whatever is due, without waiting.
  void Poll() { io_.poll(); }
  bool stopped() const { return stopped_; }
  // Whether a pump fell due since the last call.
  bool TakePump() { return std::exchange(pump_due_, false); }

 private:
  void Arm() {
    pump_.expires_after(std::chrono::milliseconds(pump_interval_ms_));
    pump_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      pump_due_ = true;
      Arm();
    });
  }

  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer pump_;
  int pump_interval_ms_;
  bool stopped_ = false;
  bool pump_due_ = true;
};

// One dial per upstream, opened in place. "NODE-ID@tcp://host:port" names
// the node there (a commune relay); a bare endpoint is this province's hub.
Status OpenUpstreams(zmq::context_t& ctx, Node& node, const std::vector<std::string>& upstreams,
                     std::vector<Dial>& dials) {
  for (size_t i = 0; i < dials.size(); ++i) {
    std::string up = upstreams[i], peer_id;
    if (const size_t at = up.find('@'); at != std::string::npos) {
      peer_id = up.substr(0, at);
      up = up.substr(at + 1);
    }
    dials[i].ctx = &ctx;
    dials[i].index = static_cast<int>(i);
    dials[i].endpoint = up;
    TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert,
                            transport::PeerCertificate(node, peer_id));
    dials[i].peer = *cert;
    TUPHAP_RETURN_IF_ERROR(transport::OpenDial(node, dials[i]));
  }
  return Status::Ok();
}

void LogBanner(Node& node, const ServeOptions& options) {
  std::string where;
  if (!options.listen.empty()) where += " listening on " + options.listen;
  for (const auto& e : options.upstreams) where += " dialling " + e;
  obs::Log().info("tuphap node {} ({}){}", NodeIdText(node.sign_key()), RoleName(node.info().role),
                  where);
}

// The store's metrics, read by the loop when due: every
// `metrics_interval_ms`, and a second after a session ended (a scrape then
// shows what it did). Scrapes read memory only.
class StoreMetricsRefresh {
 public:
  explicit StoreMetricsRefresh(int interval_ms) : interval_ms_(interval_ms) {}
  void MaybeRun(Node& node) {
    const int64_t now = NowMs();
    const uint64_t ended = obs::Metrics::Get().sessions_ended();
    const bool due = now - last_ms_ >= interval_ms_ || (ended != ended_ && now - last_ms_ >= 1000);
    if (!due) return;
    last_ms_ = now;
    ended_ = ended;
    Status s = RefreshStoreMetrics(node);
    if (!s.ok()) obs::Log().error("reading the store's metrics: {}", s.ToString());
  }

 private:
  int interval_ms_;
  int64_t last_ms_ = 0;
  uint64_t ended_ = 0;
};

// One turn of the serve loop on the thread that owns the node (the
// listener's worker): waits up to 50 ms for the network thread or a dial
// (not at all when work is waiting), handles what the network thread
// handed over for up to 100 ms, serves every dial, and pumps them when the
// timer says so.
void ServeTurn(Node& node, Listener* listener, std::vector<Dial>& dials, LoopEvents& events,
               const std::function<bool()>& stop) {
  std::vector<zmq::pollitem_t> items;
  if (listener != nullptr) listener->AddPollItems(items);
  for (auto& d : dials) items.push_back({d.socket->handle(), 0, ZMQ_POLLIN, 0});
  const int wait_ms = listener != nullptr && listener->has_work() ? 0 : 50;
  if (!transport::PollOrSignal(items, wait_ms)) return;
  if (listener != nullptr) listener->Service(100, stop);
  for (auto& d : dials) {
    Status s = transport::ServiceDial(node, d);
    if (!s.ok()) obs::Log().error("{}: {}", d.endpoint, s.ToString());
  }
  if (!events.TakePump()) return;
  if (listener != nullptr) listener->Pump();
  for (auto& d : dials) transport::PumpDial(d);
}

}  // namespace

Status Serve(Node& node, const ServeOptions& options, std::atomic<bool>* external_stop) {
  if (!node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: run 'tuphap enroll' first")
        .WithReason("E_NOT_ENROLLED");
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  LoopEvents events(options.pump_interval_ms);
  zmq::context_t ctx;  // outlives every socket below
  try {
    std::unique_ptr<Listener> listener;
    if (!options.listen.empty())
      listener =
          std::make_unique<Listener>(ctx, node, *secrets, options.listen, options.max_catching_up);
    std::vector<Dial> dials(options.upstreams.size());
    TUPHAP_RETURN_IF_ERROR(OpenUpstreams(ctx, node, options.upstreams, dials));
    LogBanner(node, options);
    StoreMetricsRefresh metrics(options.metrics_interval_ms);
    if (options.on_ready) options.on_ready();
    // Asked between two frames too: a signal stops serve after the batch
    // in hand is committed and answered.
    const std::function<bool()> stop = [&] {
      events.Poll();
      return events.stopped() || (external_stop != nullptr && *external_stop);
    };
    while (!stop()) {
      ServeTurn(node, listener.get(), dials, events, stop);
      metrics.MaybeRun(node);
      if (options.on_turn) options.on_turn();
    }
    for (auto& d : dials) {
      if (d.session) d.session->SetEnded("serve stopped");
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("network: ") + e.what());
  }
  obs::Log().info("stopped");
  return Status::Ok();
}

Result<SyncResult> SyncOnce(Node& node, const SyncOnceOptions& options) {
  TUPHAP_ASSIGN_OR_RETURN(const replication::Certificate* cert,
                          transport::PeerCertificate(node, options.peer));
  LoopEvents events(/*pump_interval_ms=*/0);
  zmq::context_t ctx;
  Dial d;
  d.ctx = &ctx;
  d.endpoint = options.endpoint;
  d.peer = *cert;
  d.last_progress_ms = NowMs();
  try {
    TUPHAP_RETURN_IF_ERROR(transport::OpenDial(node, d));
    while (!events.stopped()) {
      events.Poll();
      std::vector<zmq::pollitem_t> items{{d.socket->handle(), 0, ZMQ_POLLIN, 0}};
      if (!transport::PollOrSignal(items, 20)) continue;
      TUPHAP_RETURN_IF_ERROR(transport::ServiceDial(node, d));
      if (d.session && d.session->caught_up()) {
        d.session->SetEnded("sync done");
        SyncResult r;
        r.stats = d.Totals();
        r.sessions = d.sessions;
        r.peer_id = NodeIdText(d.peer.sign_key);
        return r;
      }
      if (NowMs() - d.last_progress_ms > options.timeout_s * 1000LL)
        return transport::NoProgress(d, options.timeout_s);
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot sync with " + options.endpoint + ": " + e.what());
  }
  return Status::Cancelled("interrupted: every batch acknowledged so far is committed");
}

std::string FreeLoopbackEndpoint() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (s >= 0) close(s);
  return "tcp://127.0.0.1:" + std::to_string(port);
}

}  // namespace tuphap::node
