// NationalExchange: the wire form of a partition's national snapshot (its
// municipalities' final windows at one final bucket), for the compacted
// national topic that lets instances share national figures (docs/kafka.md).
// Keys keep the last 64 snapshots of each partition and unit. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "zicht/base/status.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"

namespace zicht::engine {

struct NationalExchange {
  // (key, value) of the snapshot of `partition`'s final windows in `ws`, as
  // national figures count them (NationalWindow).
  static std::pair<std::string, std::string> Encode(const Plan& plan, int partition, bool hours,
                                                    int64_t final_bucket, const WindowStore& ws,
                                                    int lag_days);

  struct Decoded {
    bool same_rule_set =
        false;  // false: from another rule set (a rolling reload); nothing else is set
    int partition = -1;
    bool hours = false;
    NationalBaseline::RemoteSnapshot snapshot;
  };
  // Errors: an unknown format, truncated data, an indicator the plan lacks.
  static Result<Decoded> Decode(const Plan& plan, std::string_view value);
};

}  // namespace zicht::engine
