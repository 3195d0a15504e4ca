#include "node/transport/dialer.h"

#include <random>

#include "node/transport/socket.h"
#include "obs/log.h"

namespace tuphap::node::transport {
namespace {

// A dialler sends a keepalive after kKeepAliveMs without traffic and
// reconnects after kDialSilenceMs.
constexpr int64_t kKeepAliveMs = 30000;
constexpr int64_t kDialSilenceMs = 120000;

// A session on a connection that has none: its HELLO goes out.
Status StartSession(Node& node, Dial& d, std::vector<std::string>& out) {
  d.session =
      std::make_unique<SyncSession>(node, SyncSession::Side::kDialer, d.peer.box_key, &d.memory);
  d.session_progress = 0;
  ++d.sessions;
  d.reported = false;
  d.recorded = {};
  d.recorded_progress = 0;
  TUPHAP_ASSIGN_OR_RETURN(std::string hello, d.session->Start());
  out.push_back(std::move(hello));
  d.last_traffic_ms = NowMs();
  return Status::Ok();
}

// Hands every frame waiting on the socket to the session. An error ends
// the session (what it answered is sent first).
Status ReceiveFrames(Dial& d, std::vector<std::string>& out) {
  while (true) {
    zmq::message_t m;
    if (!d.socket->recv(m, zmq::recv_flags::dontwait)) return Status::Ok();
    d.last_traffic_ms = NowMs();
    if (!d.session) continue;  // a frame of a session already given up
    const bool had_hello = d.session->hello_received();
    Status s = d.session->OnFrame(m.to_string_view(), &out);
    if (!had_hello && d.session->hello_received()) ++d.since_progress.hellos;
    if (!s.ok()) {
      SendAll(*d.socket, out);
      d.EndSession(/*lost=*/false);
      return s;
    }
    if (d.session->progress() != d.session_progress) {
      d.session_progress = d.session->progress();
      d.last_progress_ms = NowMs();
      d.since_progress = {};
    }
  }
}

// Records a session's catch-up in the peers table (and the log, once);
// then, on a live session, each time later batches were acknowledged and
// nothing is in flight: the last successful sync is then, not when the
// session began.
Status ReportCaughtUp(Node& node, Dial& d) {
  if (!d.session || !d.session->caught_up()) return Status::Ok();
  if (d.reported && (d.session->progress() == d.recorded_progress || !d.session->idle()))
    return Status::Ok();
  const bool first = !d.reported;
  d.reported = true;
  d.recorded_progress = d.session->progress();
  const SyncStats st = d.session->stats().Since(d.recorded);
  d.recorded = d.session->stats();
  TUPHAP_RETURN_IF_ERROR(node.RecordPeerSession(d.peer.sign_key, d.endpoint, true, st.sent,
                                                st.received, st.refused_here + st.refused_by_peer));
  if (first)
    obs::Log().info("caught up with {} at {}: sent {}, received {}", NodeIdText(d.peer.sign_key),
                    d.endpoint, st.sent, st.received);
  return Status::Ok();
}

}  // namespace

void DialMonitor::on_event_handshake_succeeded(const zmq_event_t&, const char*) {
  connected = true;
  ++counts_.handshakes;
}

// ZAP's status: 400 refuses the key; 300 and 500 are temporary (too many
// connections of it waiting, trust being read): try again.
void DialMonitor::on_event_handshake_failed_auth(const zmq_event_t& e, const char*) {
  if (e.value == 300 || e.value == 500) {
    ++counts_.refused;
  } else {
    auth_failed = true;
  }
}

void DialMonitor::on_event_disconnected(const zmq_event_t&, const char*) {
  if (connected) ++counts_.lost;
  connected = false;
  lost = true;
}

void Dial::EndSession(bool lost) {
  if (!session) return;
  if (lost) session->ConnectionLost();
  past += session->stats();
  session.reset();
}

SyncStats Dial::Totals() const {
  SyncStats t = past;
  if (session) t += session->stats();
  return t;
}

Result<const replication::Certificate*> PeerCertificate(Node& node, const std::string& peer) {
  TUPHAP_RETURN_IF_ERROR(node.ReloadTrust());
  const Trust* trust = node.trust();
  if (trust == nullptr || !node.enrolled())
    return Status::FailedPrecondition("this node is not enrolled: it cannot sync yet")
        .WithReason("E_NOT_ENROLLED");
  if (!peer.empty()) {
    TUPHAP_ASSIGN_OR_RETURN(std::string fp, ParseNodeIdText(peer));
    const replication::Certificate* c = trust->CertByFingerprint(fp);
    if (c == nullptr) return Status::NotFound("no enrolled node " + peer + " is known here");
    return c;
  }
  for (const auto& [sign, cert] : trust->certificates()) {
    if (cert.role == replication::NodeRole::kHub && cert.province == node.info().province &&
        !trust->IsRevoked(sign))
      return &cert;
  }
  return Status::NotFound("no hub certificate for province " + node.info().province);
}

Status OpenDial(Node& node, Dial& d) {
  TUPHAP_ASSIGN_OR_RETURN(const NodeSecrets* secrets, node.UnlockedSecrets());
  d.monitor.reset();
  d.socket.reset();
  d.socket = std::make_unique<zmq::socket_t>(*d.ctx, zmq::socket_type::dealer);
  CommonOptions(*d.socket);
  d.socket->set(zmq::sockopt::curve_serverkey, KeyBuffer(d.peer.box_key.data()));
  d.socket->set(zmq::sockopt::curve_publickey, KeyBuffer(node.box_key().data()));
  d.socket->set(zmq::sockopt::curve_secretkey, KeyBuffer(secrets->box.secret().data()));
  // Reconnection backs off exponentially up to 30 s; a random first
  // interval spreads many communes reconnecting after an outage.
  std::random_device rd;
  d.socket->set(zmq::sockopt::reconnect_ivl, 100 + static_cast<int>(rd() % 400));
  d.socket->set(zmq::sockopt::reconnect_ivl_max, 30000);
  d.monitor = std::make_unique<DialMonitor>(d.since_progress);
  d.monitor->init(
      *d.socket,
      "inproc://tuphap-monitor-" + std::to_string(d.index) + "-" + std::to_string(d.generation++),
      ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
          ZMQ_EVENT_DISCONNECTED);
  d.socket->connect(d.endpoint);
  d.last_traffic_ms = NowMs();
  return Status::Ok();
}

Status PollMonitor(Dial& d) {
  while (d.monitor->check_event(0)) {
  }
  if (!d.monitor->auth_failed) return Status::Ok();
  d.monitor->auth_failed = false;
  return Status::PermissionDenied("the node at " + d.endpoint +
                                  " refused this node's key (not enrolled there, or revoked)")
      .WithReason("E_NOT_AUTHORISED");
}

Status ServiceDial(Node& node, Dial& d) {
  TUPHAP_RETURN_IF_ERROR(PollMonitor(d));
  // A lost connection, or a session silent for too long: start again on a
  // fresh socket, from the heads. Frames lost with it shrink the link's
  // frame size. Frames that arrived whole before the connection was lost
  // are still handled (committed) first: they need not cross the link
  // again.
  const bool silent = d.session && NowMs() - d.last_traffic_ms > kDialSilenceMs;
  const bool lost = d.monitor->lost || silent;
  std::vector<std::string> out;
  if (!lost && d.monitor->connected && !d.session)
    TUPHAP_RETURN_IF_ERROR(StartSession(node, d, out));
  TUPHAP_RETURN_IF_ERROR(ReceiveFrames(d, out));
  if (lost) {
    if (d.session) obs::Log().info("connection to {} lost", d.endpoint);
    d.EndSession(/*lost=*/true);
    return OpenDial(node, d);
  }
  if (!SendAll(*d.socket, out)) d.EndSession(/*lost=*/true);
  return ReportCaughtUp(node, d);
}

void PumpDial(Dial& d) {
  if (!d.session) return;
  std::vector<std::string> out;
  if (d.session->Pump(&out).ok() && out.empty() && NowMs() - d.last_traffic_ms > kKeepAliveMs &&
      d.session->idle())
    d.session->KeepAlive(&out);
  if (!SendAll(*d.socket, out)) d.EndSession(/*lost=*/true);
}

Status NoProgress(const Dial& d, int timeout_s) {
  // Whole sentences with their numbers inline, so the message catalogue
  // has one template per case to translate (po/vi.po).
  const DialCounts& c = d.since_progress;
  const std::string s = std::to_string(timeout_s);
  if (c.tcp == 0) {
    return Status::Unavailable("no batch acknowledged with " + d.endpoint + " for " + s +
                               " s: no connection could be made (is 'tuphap serve' running "
                               "there?)")
        .WithReason("E_UNREACHABLE");
  }
  if (c.handshakes == 0) {
    const std::string tcp = std::to_string(c.tcp), id = NodeIdText(d.peer.sign_key);
    if (c.refused > 0) {
      return Status::Unavailable(
                 "no batch acknowledged with " + d.endpoint + " for " + s + " s: " + tcp +
                 " connection(s) made, the secure handshake failed on " + "every one (" +
                 std::to_string(c.refused) + " refused): the node there is not " + id +
                 " (another hub's key?) or the link drops during the handshake")
          .WithReason("E_HANDSHAKE");
    }
    return Status::Unavailable("no batch acknowledged with " + d.endpoint + " for " + s +
                               " s: " + tcp +
                               " connection(s) made, the secure handshake failed on every one: "
                               "the node there is not " +
                               id + " (another hub's key?) or the link drops during the handshake")
        .WithReason("E_HANDSHAKE");
  }
  if (c.hellos == 0) {
    return Status::Unavailable(
               "no batch acknowledged with " + d.endpoint + " for " + s +
               " s: " + std::to_string(c.handshakes) +
               " connection(s) made, the peer never answered HELLO (peer silent, or a "
               "busy hub letting other communes send first: try again later or "
               "with a longer --timeout)")
        .WithReason("E_PEER_SILENT");
  }
  if (c.lost > 0) {
    return Status::Unavailable("no batch acknowledged with " + d.endpoint + " for " + s +
                               " s: " + std::to_string(c.hellos) + " session(s) opened and " +
                               std::to_string(c.lost) +
                               " connection(s) lost before a batch got through (the link drops "
                               "connections)")
        .WithReason("E_LINK_DROPS");
  }
  return Status::Unavailable("no batch acknowledged with " + d.endpoint + " for " + s +
                             " s: the session opened but the peer has been silent since (peer "
                             "silent)")
      .WithReason("E_PEER_SILENT");
}

}  // namespace tuphap::node::transport
