// RateLimiter: token buckets per client with an explicit clock.
#include "zicht/monitoring/rate_limiter.h"

#include <gtest/gtest.h>

namespace zicht::monitoring {
namespace {

RateLimitOptions Limit(double rps, double burst, size_t max_clients = 100) {
  RateLimitOptions o;
  o.requests_per_second = rps;
  o.burst = burst;
  o.max_clients = max_clients;
  return o;
}

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;

TEST(RateLimiterTest, AllowsTheBurstThenTheSustainedRate) {
  RateLimiter limiter(Limit(2, 3));
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("10.0.0.1", t0).allowed) << i;
  RateLimiter::Decision refused = limiter.Allow("10.0.0.1", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.5);  // one token at 2/s
  // Another client has its own bucket.
  EXPECT_TRUE(limiter.Allow("10.0.0.2", t0).allowed);
  // 500 ms later exactly one more token.
  EXPECT_TRUE(limiter.Allow("10.0.0.1", t0 + milliseconds(500)).allowed);
  EXPECT_FALSE(limiter.Allow("10.0.0.1", t0 + milliseconds(500)).allowed);
  // Refill never exceeds the burst.
  const Clock::time_point later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("10.0.0.1", later).allowed) << i;
  EXPECT_FALSE(limiter.Allow("10.0.0.1", later).allowed);
}

TEST(RateLimiterTest, ZeroRateTurnsTheLimitOff) {
  RateLimiter limiter(Limit(0, 1, 1));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Allow("c", Clock::time_point{}).allowed);
  EXPECT_EQ(limiter.tracked_clients(), 0u);
}

TEST(RateLimiterTest, ForgetsRefilledClientsWhenFullAndFailsOpen) {
  RateLimiter limiter(Limit(1, 2, 2));
  const Clock::time_point t0{};
  EXPECT_TRUE(limiter.Allow("a", t0).allowed);
  EXPECT_TRUE(limiter.Allow("b", t0).allowed);
  // Full and nobody refilled: a third client is let through untracked.
  EXPECT_TRUE(limiter.Allow("c", t0).allowed);
  EXPECT_EQ(limiter.tracked_clients(), 2u);
  // After a refill, full buckets are forgotten and the new client is tracked.
  const Clock::time_point t1 = t0 + std::chrono::seconds(5);
  EXPECT_TRUE(limiter.Allow("c", t1).allowed);
  EXPECT_EQ(limiter.tracked_clients(), 1u);
}

TEST(RateLimiterTest, ValidatesOptions) {
  EXPECT_TRUE(RateLimitOptions{}.Validate().ok());
  EXPECT_FALSE(Limit(-1, 200).Validate().ok());
  EXPECT_FALSE(Limit(1, 0.5).Validate().ok());
  EXPECT_FALSE(Limit(1, 2, 0).Validate().ok());
}

}  // namespace
}  // namespace zicht::monitoring
