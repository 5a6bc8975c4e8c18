// RateLimiter: a token bucket per client address, so one client cannot keep
// the HTTP server (and the engine behind the API handlers) busy.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "zicht/base/status.h"

namespace zicht::monitoring {

struct RateLimitOptions {
  // Sustained requests per second per client address (default 100); 0 turns
  // the limit off.
  double requests_per_second = 100;
  // Requests a client may make at once after being idle (default 200).
  double burst = 200;
  // Client addresses tracked at once (default 10000). When full, buckets that
  // have refilled are forgotten; a client that still finds no room is let
  // through (the limit fails open rather than refusing everybody).
  size_t max_clients = 10000;

  Status Validate() const;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Decision {
    bool allowed = true;
    double retry_after_seconds = 0;  // when refused: until the next token
  };

  explicit RateLimiter(RateLimitOptions options);

  // Takes a token for `client` if one is available. Thread-safe.
  Decision Allow(std::string_view client, Clock::time_point now = Clock::now());
  size_t tracked_clients() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void Refill(Bucket& bucket, Clock::time_point now) const;

  RateLimitOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace zicht::monitoring
