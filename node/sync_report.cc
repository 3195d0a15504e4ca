// The end of a sync session as operators see it: one info line in the log
// (docs/metrics.md, "Logs") and the session metrics. In a file of its own
// so that sync.cc stays the protocol.
#include <string>

#include "node/keys.h"
#include "node/sync.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace tuphap::node {

SyncSession::~SyncSession() {
  const char* side = side_ == Side::kDialer ? "dialer" : "listener";
  const char* outcome = failed_ ? "error" : caught_up() ? "caught_up" : "incomplete";
  obs::Metrics::Get().SessionEnded(side, outcome, stats_.bytes_in, stats_.bytes_out);
  spdlog::logger& log = obs::Log();
  if (!log.should_log(spdlog::level::info)) return;  // nothing is formatted then
  // The commune the session was about: the peer's on a hub, this node's on
  // a commune ("-" between two hubs).
  std::string commune = node_.info().commune;
  if (peer_ != nullptr && !peer_->commune.empty()) commune = peer_->commune;
  if (commune.empty()) commune = "-";
  std::string refused;  // E_X=n,E_Y=m
  for (const auto& [reason, n] : refused_reasons_)
    refused += (refused.empty() ? "" : ",") + reason + "=" + std::to_string(n);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - began_)
                      .count();
  log.info(
      "sync session ended: side={} peer={} commune={} outcome={} sent={} received={} "
      "refused_here={} refused_by_peer={} refused_reasons={} equivocations={} bytes_in={} "
      "bytes_out={} "
      "duration_ms={} ended=\"{}\"",
      side, peer_ != nullptr ? NodeIdText(peer_->sign_key) : std::string("unknown"), commune,
      outcome, stats_.sent, stats_.received, stats_.refused_here, stats_.refused_by_peer,
      refused.empty() ? "-" : refused, equivocations_, stats_.bytes_in, stats_.bytes_out, ms,
      ended_.empty() ? "closed" : ended_);
}

}  // namespace tuphap::node
