// Clock: the one seam through which zicht reads time that is not event time:
// the wall clock (alert `emitted_at`, ingest timestamps, latency) and a
// monotonic clock (commit intervals, idle partitions, deadlines). Production
// code takes a `const Clock*` (null: SystemClock()); tests pass a FakeClock.
#pragma once

#include <atomic>
#include <cstdint>

#include "zicht/base/time.h"

namespace zicht {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC).
  virtual TimeMs WallMs() const = 0;
  // Milliseconds on a monotonic clock with an arbitrary origin.
  virtual int64_t SteadyMs() const = 0;
};

// The process's real clocks (std::chrono::system_clock, steady_clock).
// Thread-safe; lives for the whole program.
const Clock& SystemClock();

// The clock itself when given, else SystemClock().
inline const Clock& ClockOr(const Clock* clock) {
  return clock != nullptr ? *clock : SystemClock();
}

// A clock that moves only when told to. Thread-safe (reads may race with a
// test advancing it; both clocks are plain atomics).
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimeMs wall = 0, int64_t steady = 0) : wall_(wall), steady_(steady) {}
  TimeMs WallMs() const override { return wall_.load(std::memory_order_relaxed); }
  int64_t SteadyMs() const override { return steady_.load(std::memory_order_relaxed); }
  void SetWall(TimeMs wall) { wall_.store(wall, std::memory_order_relaxed); }
  // Moves both clocks forward by `ms`.
  void Advance(int64_t ms) {
    wall_.fetch_add(ms, std::memory_order_relaxed);
    steady_.fetch_add(ms, std::memory_order_relaxed);
  }

 private:
  std::atomic<TimeMs> wall_;
  std::atomic<int64_t> steady_;
};

}  // namespace zicht
