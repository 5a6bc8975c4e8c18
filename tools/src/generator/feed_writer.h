// FeedWriter: the day-by-day event stream of `zicht generate`, in delivery
// order (late and too-late events, duplicates, bad lines), as JSONL.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/tools/generator.h"

namespace zicht::tools::feed {

// Writes the feed of `options` starting at UTC day `first_day` with the
// planned anomalies; counts into `stats`.
Status WriteFeed(const GeneratorOptions& options, std::span<const FeedMunicipality> municipalities,
                 int64_t first_day, const std::vector<PlannedAnomaly>& anomalies, std::ostream& out,
                 GeneratorStats* stats);

}  // namespace zicht::tools::feed
