#include "national_barrier.h"

#include <utility>

namespace zicht::engine {

bool NationalBarrier::Ready(PartitionState& part) const {
  if (active_partitions_ <= 1) return true;
  const WindowStore& ws = *part.store;
  const int64_t day = Bucket(ws, false), hour = Bucket(ws, true);
  if (part.ready_final_day == day && part.ready_final_hour == hour) return true;
  if (!national_->Complete(false, day)) return false;
  if (plan_.uses_hours() && !national_->Complete(true, hour)) return false;
  part.ready_final_day = day;
  part.ready_final_hour = hour;
  return true;
}

void NationalBarrier::Hold(PartitionState& part, PendingEvent event, bool at_front) {
  if (at_front) {
    part.pending.push_front(std::move(event));
  } else {
    part.pending.push_back(std::move(event));
  }
  ++held_;
}

PendingEvent NationalBarrier::TakeFront(PartitionState& part) {
  PendingEvent e = std::move(part.pending.front());
  part.pending.pop_front();
  --held_;
  return e;
}

}  // namespace zicht::engine
