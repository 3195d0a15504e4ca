#include "crdt/hlc.h"

#include <cstdio>

namespace tuphap::crdt {
namespace {

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::string FormatMillis(int64_t ms) {
  const int64_t secs = ms / 1000;
  const int64_t days = secs / 86400;
  const int64_t rem = secs % 86400;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), mo, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

}  // namespace

std::string Hlc::ToString() const {
  std::string s = FormatMillis(static_cast<int64_t>(millis()));
  if (counter() != 0) s += "+" + std::to_string(counter());
  return s;
}

Result<Hlc> HlcClock::Now(WhenBehind when_behind) {
  const int64_t wall = clock_.WallMillis();
  const uint64_t pt = wall < 0 ? 0 : static_cast<uint64_t>(wall);
  if (when_behind == WhenBehind::kRefuse && last_.millis() > pt &&
      last_.millis() - pt > static_cast<uint64_t>(max_ahead_ms_)) {
    return Status::FailedPrecondition("this computer's clock reads " + FormatMillis(wall) +
                                      " but this node has already issued or seen times up to " +
                                      last_.ToString() +
                                      "; set the clock right before recording anything")
        .WithReason("E_CLOCK_BEHIND");
  }
  Hlc next;
  if (pt > last_.millis()) {
    next = Hlc::FromParts(pt, 0);
  } else if (last_.counter() < 0xFFFF) {
    next = Hlc::FromRaw(last_.raw() + 1);
  } else {
    next = Hlc::FromParts(last_.millis() + 1, 0);
  }
  last_ = next;
  return next;
}

Status HlcClock::CheckRemote(Hlc remote) const {
  const int64_t wall = clock_.WallMillis();
  if (static_cast<int64_t>(remote.millis()) - wall > max_ahead_ms_) {
    return Status::FailedPrecondition("a peer's time " + remote.ToString() + " is more than " +
                                      std::to_string(max_ahead_ms_ / 1000) +
                                      " s ahead of this computer's clock (" + FormatMillis(wall) +
                                      "); one of the two clocks is wrong")
        .WithReason("E_CLOCK_AHEAD");
  }
  return Status::Ok();
}

Status HlcClock::Observe(Hlc remote) {
  TUPHAP_RETURN_IF_ERROR(CheckRemote(remote));
  if (remote > last_) last_ = remote;
  return Status::Ok();
}

}  // namespace tuphap::crdt
