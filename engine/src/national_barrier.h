// NationalBarrier: with several partitions, an event may only be evaluated
// once the national figures it is compared with are complete, i.e. once
// every active partition has published the final bucket the event's
// partition compares with (its own final bucket, `national_lag` days back).
// Events that arrive before are held back per partition, in order, and
// released as the figures complete (docs/consistency.md). Internal to the
// engine; one thread.
#pragma once

#include <cstdint>

#include "partition_state.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"

namespace zicht::engine {

// Final buckets re-published after a restart or reload (how far behind
// another partition may be then without losing exact national figures).
constexpr int kReloadHistoryDays = 8;

class NationalBarrier {
 public:
  NationalBarrier(const Plan& plan, const NationalBaseline* national, size_t active_partitions,
                  int national_lag_days)
      : plan_(plan),
        national_(national),
        active_partitions_(active_partitions),
        lag_days_(national_lag_days) {}

  // The final bucket whose national figures a partition compares with.
  int64_t Bucket(const WindowStore& ws, bool hours) const {
    return ws.final_bucket(hours) - (hours ? 24 * lag_days_ : lag_days_);
  }
  // Whether the figures for the partition's buckets are complete. Once
  // complete they stay so: remembered in the partition.
  bool Ready(PartitionState& part) const;

  // Held-back events, in source order per partition.
  void Hold(PartitionState& part, PendingEvent event, bool at_front);
  PendingEvent TakeFront(PartitionState& part);
  // A revoked partition: its held events will be read again by the next owner.
  void Forget(const PartitionState& part) { held_ -= static_cast<int64_t>(part.pending.size()); }
  // A partition replaced by a reload keeps its queue: nothing to count.
  int64_t held() const { return held_; }
  // Carried over when a reload replaces the barrier.
  void Restore(int64_t held) { held_ = held; }

 private:
  const Plan& plan_;
  const NationalBaseline* national_;
  size_t active_partitions_;
  int lag_days_;
  int64_t held_ = 0;
};

}  // namespace zicht::engine
