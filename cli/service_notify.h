// What `serve` tells systemd when it runs as a Type=notify service
// (packaging/tuphap.service): READY=1 once its listener is bound and its
// upstreams dialled, WATCHDOG=1 from the serve loop while it turns, and
// STOPPING=1 when it begins to stop. Outside systemd ($NOTIFY_SOCKET unset)
// every call does nothing. libsystemd's sd_notify writes the datagrams.
#pragma once

#include <cstdint>
#include <string_view>

namespace tuphap::cli {

class ServiceNotifier {
 public:
  ServiceNotifier();

  void Ready(std::string_view status) const;
  void Stopping() const;
  // Called from every turn of the serve loop: sends WATCHDOG=1 at most every
  // half of WatchdogSec=, so a loop that hangs (a stuck lock, a deadlocked
  // socket) stops the keep-alives and systemd restarts the node.
  void Tick();

 private:
  uint64_t watchdog_usec_ = 0;  // 0: no watchdog asked for
  uint64_t last_ping_usec_ = 0;
};

}  // namespace tuphap::cli
