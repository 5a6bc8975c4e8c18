// RuleScheduler: which rules are evaluated for which municipality, and the
// evaluation itself (SPEC section 4, Evaluation). After an event only the
// rules that read an indicator it updated are evaluated for its municipality,
// and of those only the ones whose outcome can change (condition caches and
// the `for`/`cooldown` timers decide); a new UTC day evaluates every rule for
// every municipality of the partition. Firings are returned in evaluation
// order; the engine turns them into alerts. Internal to the engine; one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "national_barrier.h"
#include "partition_state.h"
#include "zicht/engine/measures.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"

namespace zicht::engine {

// Everything the measures of `indicator` need for municipality `local` of the
// partition, with the national figures at the bucket the barrier names
// (cached in the partition per final bucket).
MeasureInput PartitionInput(const Plan& plan, NationalBaseline& national,
                            const NationalBarrier& barrier, PartitionState& part, int indicator,
                            int local);

struct Firing {
  int rule;
  int local;
  double score;
};

class RuleScheduler {
 public:
  // `incremental` false: every evaluation recomputes every condition (the
  // reference the incremental path is tested against).
  RuleScheduler(const Plan& plan, NationalBaseline* national, const NationalBarrier* barrier,
                bool incremental);

  // An event starts: forget the previous one's rules and indicators.
  void BeginEvent();
  // The event was counted in `series` (matched its filter or only its share
  // denominator).
  void Touched(const SeriesDef& series, bool matched);
  // Evaluates what the event can have changed for municipality `local`.
  void EvaluateAfterEvent(PartitionState& part, int local, std::vector<Firing>* fired);
  // Every rule for every municipality of the partition (a new day).
  void EvaluateAll(PartitionState& part, std::vector<Firing>* fired);

  int64_t evaluations() const { return evaluations_; }

 private:
  // reuse: take cached condition outcomes that are still valid.
  void EvaluateRule(PartitionState& part, int rule, int local, bool reuse,
                    std::vector<Firing>* fired);
  void EvaluateAffected(PartitionState& part, int local, std::vector<Firing>* fired);

  const Plan& plan_;
  NationalBaseline* national_;
  const NationalBarrier* barrier_;
  bool incremental_;
  int64_t evaluations_ = 0;
  // Scratch (no allocation per event).
  std::vector<uint32_t> rule_stamp_;
  uint32_t stamp_ = 0;
  std::vector<int> rules_to_evaluate_;
  std::vector<int> updated_indicators_;
  std::unique_ptr<bool[]> held_;
};

}  // namespace zicht::engine
