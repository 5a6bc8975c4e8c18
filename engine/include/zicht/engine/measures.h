// Measures (SPEC section 4): the deviation of a municipality's indicator from
// the national figure and from its own history, as conditions see them.
#pragma once

#include <cstdint>

#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"
#include "zicht/rules/alert.h"

namespace zicht::engine {

// Everything a condition needs to know about one (indicator, municipality).
struct MeasureInput {
  const IndicatorDef* indicator = nullptr;
  const WindowStore* store = nullptr;  // null for reference indicators
  int local = -1;
  // Index of the unit in the national figures: the municipality, or for a
  // neighbourhood indicator the neighbourhood (SPEC 8.3).
  int municipality = -1;
  int64_t population = 0;
  // Neighbourhood units: their municipality's local index and population
  // (municipality_ratio); -1 otherwise.
  int parent_local = -1;
  int64_t parent_population = 0;
  const NationalFigures* national = nullptr;
  // trend_ratio needs its 4 previous windows to lie after the first accepted
  // event of the partition (SPEC Semantics).
  TimeMs first_event_time = kMinTime;
  const ReferenceValues* reference = nullptr;
  int64_t final_bucket = 0;  // of the national figures (cache key)
};

// The numbers behind one condition; NaN where undefined.
struct MeasureResult {
  double observed;    // the measure; NaN when it cannot be computed
  int64_t count = 0;  // events counted (min_events); 0 for reference indicators
  double expected;    // count/share indicators with a national figure
  double rate;        // municipality rate (or share / mean / value)
  bool reference = false;
};

// Computes the measure of a condition without allocating (the hot path).
MeasureResult ComputeMeasure(rules::Measure measure, const MeasureInput& input);

// Whether the condition holds: computable, enough events, op satisfied.
bool ConditionHolds(const rules::ConditionSpec& condition, const MeasureResult& result,
                    int64_t min_events);

// Memory of one condition for one municipality between evaluations. Count
// indicators turn most conditions into "count >= threshold" for as long as the
// national figures stay the same (one final bucket), so an evaluation is one
// integer comparison; reference figures do not change at all.
struct ConditionCache {
  enum Mode : uint8_t { kNone, kThreshold, kConstant };
  Mode mode = kNone;
  bool upward = true;  // held for counts >= threshold (else: counts < threshold)
  bool held = false;   // kConstant
  // The last outcome, valid while the partition's epoch (bumped whenever
  // buckets move) is `epoch` and the indicator was not updated since.
  bool last_held = false;
  uint32_t epoch = 0;
  int64_t final_bucket = 0;
  int64_t threshold = 0;
  // The first evaluation under new national figures is computed directly
  // (one probe); only a second one in the same bucket pays for a threshold.
  int64_t direct_bucket = INT64_MIN;
};

// Same result as ConditionHolds(condition, ComputeMeasure(...), min_events),
// faster; `cache` may be null.
bool EvaluateHolds(const rules::ConditionSpec& condition, const MeasureInput& input,
                   int64_t min_events, ConditionCache* cache);

// The measure for an explicit window aggregate (as if the indicator's current
// window held `window`).
MeasureResult ComputeMeasureFor(rules::Measure measure, const MeasureInput& input,
                                const WindowAgg& window);

// Computes the condition's outcome: measure value, count, expected, rates.
// `observed` is empty when the measure cannot be computed; `held` includes the
// rule's min_events guard.
rules::ConditionOutcome EvaluateCondition(const rules::ConditionSpec& condition,
                                          const MeasureInput& input, int64_t min_events);

}  // namespace zicht::engine
