// RateLimiter: token buckets per client address.
#include "zicht/monitoring/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace zicht::monitoring {

Status RateLimitOptions::Validate() const {
  if (!(requests_per_second >= 0) || !std::isfinite(requests_per_second)) {
    return Status::InvalidArgument("rate limit: requests_per_second must be >= 0");
  }
  if (requests_per_second > 0 && !(burst >= 1)) {
    return Status::InvalidArgument("rate limit: burst must be >= 1");
  }
  if (max_clients == 0) return Status::InvalidArgument("rate limit: max_clients must be > 0");
  return Status::Ok();
}

RateLimiter::RateLimiter(RateLimitOptions options) : options_(options) {}

void RateLimiter::Refill(Bucket& bucket, Clock::time_point now) const {
  if (now <= bucket.updated) return;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(options_.burst, bucket.tokens + elapsed * options_.requests_per_second);
  bucket.updated = now;
}

RateLimiter::Decision RateLimiter::Allow(std::string_view client, Clock::time_point now) {
  if (options_.requests_per_second <= 0) return {};
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_clients) {
      // A full bucket is the same as no bucket: forget those.
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        Refill(b->second, now);
        b = b->second.tokens >= options_.burst ? buckets_.erase(b) : std::next(b);
      }
      if (buckets_.size() >= options_.max_clients) return {};
    }
    it = buckets_.emplace(std::string(client), Bucket{options_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  return {false, (1 - bucket.tokens) / options_.requests_per_second};
}

size_t RateLimiter::tracked_clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

}  // namespace zicht::monitoring
