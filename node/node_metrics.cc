#include "node/node_metrics.h"

#include <algorithm>
#include <filesystem>

#include "obs/metrics.h"

namespace tuphap::node {
namespace {

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

Status RefreshStoreMetrics(Node& node) {
  obs::Metrics::StoreSnapshot s;
  store::Store& st = node.store();
  TUPHAP_ASSIGN_OR_RETURN(s.held, st.HeldCount());
  TUPHAP_ASSIGN_OR_RETURN(auto equivocations, st.Equivocations());
  s.equivocations = equivocations.size();
  TUPHAP_ASSIGN_OR_RETURN(auto quarantined, st.QuarantinedOrigins());
  s.quarantined_origins = quarantined.size();
  TUPHAP_ASSIGN_OR_RETURN(auto refusals, st.Refusals());
  for (const auto& r : refusals) s.refusals[r.reason] = r.count;
  s.store_bytes = FileSize(st.path()) + FileSize(st.path() + "-wal");
  if (const auto c = st.checkpoints()) {
    s.checkpoints = {{"background", c->background},
                     {"whole", c->whole},
                     {"inline", c->inline_},
                     {"failed", c->failed}};
    s.wal_frames = c->wal_frames;
  }
  const Trust* trust = node.trust();
  if (node.info().role == Role::kHub && trust != nullptr) {
    // Every commune node enrolled here, synced or not; a commune with a
    // second node counts both.
    for (const auto& [key, cert] : trust->certificates()) {
      if (replication::IsCommuneRole(cert.role) && !trust->IsRevoked(key))
        s.communes.try_emplace(cert.commune);
    }
    TUPHAP_ASSIGN_OR_RETURN(std::vector<Node::PeerRow> peers, node.Peers());
    for (const auto& p : peers) {
      const replication::Certificate* cert = trust->CertFor(p.peer);
      if (cert == nullptr || !replication::IsCommuneRole(cert->role)) continue;
      auto& c = s.communes[cert->commune];
      c.last_sync_ms = std::max(c.last_sync_ms, p.last_success_ms);
      c.behind += p.pending_in;
    }
  }
  obs::Metrics::Get().SetStore(s);
  return Status::Ok();
}

}  // namespace tuphap::node
