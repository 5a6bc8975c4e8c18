#include "partition_state.h"

#include <algorithm>

namespace zicht::engine {

void InitPartitionState(PartitionState& part, const Plan& plan,
                        const std::vector<int>& municipalities) {
  // Neighbourhood units only when some indicator is kept per neighbourhood:
  // packs without one cost what they did before.
  std::vector<int> neighbourhoods;
  if (plan.uses_neighbourhoods() && plan.neighbourhoods() != nullptr) {
    for (int m : municipalities) {
      const auto& of = plan.neighbourhoods()->of_municipality(m);
      neighbourhoods.insert(neighbourhoods.end(), of.begin(), of.end());
    }
  }
  const size_t locals = municipalities.size() + neighbourhoods.size();
  part.owned = true;
  part.rule_count = plan.rules().size();
  part.condition_count = static_cast<size_t>(plan.total_conditions());
  part.series_count = plan.series().size();
  part.store = std::make_unique<WindowStore>(plan, municipalities, std::move(neighbourhoods));
  part.evidence.assign(plan.series().size() * locals, EvidenceRing{});
  part.timers.assign(plan.rules().size() * locals, rules::RuleTimer{});
  part.timer_dirty.assign(part.timers.size(), 0);
  part.figures.assign(plan.indicators().size(), PartitionState::FiguresRef{});
  part.conditions.assign(static_cast<size_t>(plan.total_conditions()) * locals, ConditionCache{});
  part.rule_held.assign(plan.rules().size() * locals, 0);
  ++part.epoch;
}

void PushEvidence(PartitionState& part, int series, int local, std::string_view id, TimeMs time,
                  int64_t bucket, size_t capacity) {
  EvidenceRing& ring = part.evidence[part.EvidenceSlot(series, local)];
  if (ring.entries.size() < capacity) {
    ring.entries.push_back(EvidenceEntry{time, bucket, std::string(id)});
  } else {
    EvidenceEntry& e = ring.entries[ring.head];
    e.time = time;
    e.bucket = bucket;
    e.id.assign(id);
    ring.head = (ring.head + 1) % capacity;
  }
  ring.dirty = true;
}

void MergeEvidence(PartitionState& part, int from, int into, size_t capacity) {
  for (size_t series = 0; series < part.series_count; ++series) {
    EvidenceRing& src = part.evidence[part.EvidenceSlot(static_cast<int>(series), from)];
    if (src.entries.empty()) continue;
    EvidenceRing& dst = part.evidence[part.EvidenceSlot(static_cast<int>(series), into)];
    std::vector<EvidenceEntry> all = dst.entries;
    all.insert(all.end(), src.entries.begin(), src.entries.end());
    // Oldest first, ties by id, so the result does not depend on ring heads.
    std::sort(all.begin(), all.end(), [](const EvidenceEntry& a, const EvidenceEntry& b) {
      return a.time != b.time ? a.time < b.time : a.id < b.id;
    });
    if (all.size() > capacity)
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(capacity));
    dst.entries = std::move(all);
    dst.head = 0;
    dst.dirty = true;
  }
}

}  // namespace zicht::engine
