// Clock: the one seam for time. Production uses SystemClock; tests and the
// simulation use ManualClock so time is a value they control.
#pragma once

#include <cstdint>

namespace tuphap {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch. May jump either way.
  virtual int64_t WallMillis() const = 0;
  // Monotonic milliseconds for timeouts and backoff; never goes back.
  virtual int64_t SteadyMillis() const = 0;
};

// The process-wide real clock.
const Clock& SystemClock();

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'750'000'000'000, int64_t steady_ms = 0)
      : wall_(wall_ms), steady_(steady_ms) {}
  int64_t WallMillis() const override { return wall_; }
  int64_t SteadyMillis() const override { return steady_; }
  void SetWall(int64_t ms) { wall_ = ms; }
  // Advances both clocks.
  void Advance(int64_t ms) {
    wall_ += ms;
    steady_ += ms;
  }

 private:
  int64_t wall_;
  int64_t steady_;
};

}  // namespace tuphap
