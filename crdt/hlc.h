// Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks
// and Consistent Snapshots in Globally Distributed Databases", OPODIS 2014).
//
// An Hlc is 64 bits: 48 bits of Unix milliseconds and a 16-bit counter, so it
// orders like an integer. HlcClock issues stamps that
//   * never go back, even when the wall clock does (the counter, and past
//     65535 the millisecond part, advance instead);
//   * are greater than every stamp it has observed from peers;
//   * refuse a time more than `max_ahead_ms` ahead of the wall clock: a remote
//     stamp that far ahead (a peer whose clock is wrong), or our own next stamp
//     once the wall clock has fallen that far behind what we have issued or
//     seen (this computer's clock was set back). Either would drag every
//     replica's clock into the future, so it is an error for a person to fix.
// HLC orders changes and breaks ties; legal dates are fields, never the HLC.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/status.h"

namespace tuphap::crdt {

class Hlc {
 public:
  static constexpr uint64_t kMaxMillis = (uint64_t{1} << 48) - 1;

  constexpr Hlc() = default;
  static constexpr Hlc FromRaw(uint64_t raw) { return Hlc(raw); }
  static constexpr Hlc FromParts(uint64_t millis, uint16_t counter) {
    return Hlc((millis & kMaxMillis) << 16 | counter);
  }

  constexpr uint64_t raw() const { return raw_; }
  constexpr uint64_t millis() const { return raw_ >> 16; }
  constexpr uint16_t counter() const { return static_cast<uint16_t>(raw_ & 0xFFFF); }
  // "2025-07-01T08:30:00.123Z" plus "+N" when the counter is not zero.
  std::string ToString() const;

  friend constexpr auto operator<=>(Hlc, Hlc) = default;

 private:
  constexpr explicit Hlc(uint64_t raw) : raw_(raw) {}
  uint64_t raw_ = 0;
};

class HlcClock {
 public:
  // `clock` must outlive this. `max_ahead_ms` bounds how far any stamp may be
  // ahead of the wall clock.
  HlcClock(const Clock& clock, int64_t max_ahead_ms) : clock_(clock), max_ahead_ms_(max_ahead_ms) {}

  enum class WhenBehind { kRefuse, kContinueLogically };

  // The next local stamp, strictly greater than every stamp issued or
  // observed. FailedPrecondition (reason E_CLOCK_BEHIND) when the wall clock
  // is more than max_ahead behind the last stamp — unless the operator has
  // said the clock is right now (kContinueLogically: the stamp then follows
  // the last one, as if no time had passed).
  Result<Hlc> Now(WhenBehind when_behind = WhenBehind::kRefuse);
  // Takes in a peer's stamp. FailedPrecondition (reason E_CLOCK_AHEAD) when it
  // is more than max_ahead ahead of our wall clock; the clock is unchanged then.
  Status Observe(Hlc remote);
  // Checks a stamp without observing it.
  Status CheckRemote(Hlc remote) const;
  // Restores the high-water mark after a restart (from the store).
  void Restore(Hlc last) {
    if (last > last_) last_ = last;
  }
  Hlc last() const { return last_; }
  int64_t max_ahead_ms() const { return max_ahead_ms_; }

 private:
  const Clock& clock_;
  int64_t max_ahead_ms_;
  Hlc last_;
};

}  // namespace tuphap::crdt
