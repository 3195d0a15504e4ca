#include "cli/service_notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace tuphap::cli {
namespace {

uint64_t MonotonicUsec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  uint64_t usec = 0;
  // > 0 only when systemd set WATCHDOG_USEC (and WATCHDOG_PID, if set, is us).
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0) watchdog_usec_ = usec;
}

void ServiceNotifier::Ready(std::string_view status) const {
  const std::string msg = "READY=1\nSTATUS=" + std::string(status);
  sd_notify(/*unset_environment=*/0, msg.c_str());
}

void ServiceNotifier::Stopping() const { sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

void ServiceNotifier::Tick() {
  if (watchdog_usec_ == 0) return;
  const uint64_t now = MonotonicUsec();
  if (last_ping_usec_ != 0 && now - last_ping_usec_ < watchdog_usec_ / 2) return;
  last_ping_usec_ = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace tuphap::cli
