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
  int municipality = -1;
  int64_t population = 0;
  const NationalFigures* national = nullptr;
  // trend_ratio needs its 4 previous windows to lie after the first accepted
  // event of the partition (SPEC Semantics).
  TimeMs first_event_time = kMinTime;
  const ReferenceValues* reference = nullptr;
};

// The numbers behind one condition; NaN where undefined.
struct MeasureResult {
  double observed;       // the measure; NaN when it cannot be computed
  int64_t count = 0;     // events counted (min_events); 0 for reference indicators
  double expected;       // count/share indicators with a national figure
  double rate;           // municipality rate (or share / mean / value)
  bool reference = false;
};

// Computes the measure of a condition without allocating (the hot path).
MeasureResult ComputeMeasure(rules::Measure measure, const MeasureInput& input);

// Whether the condition holds: computable, enough events, op satisfied.
bool ConditionHolds(const rules::ConditionSpec& condition, const MeasureResult& result,
                    int64_t min_events);

// Memory of one poisson_p condition for one municipality: the critical count
// for the last expected count seen. Count indicators keep the same expected
// count for a whole final bucket (a day), so `poisson_p <= x` becomes one
// integer comparison per evaluation instead of an incomplete gamma function.
struct PoissonCache {
  double expected = -1;
  int64_t critical = 0;
};

// Same result as ConditionHolds(condition, ComputeMeasure(...), min_events),
// faster for poisson_p thresholds; `cache` may be null.
bool EvaluateHolds(const rules::ConditionSpec& condition, const MeasureInput& input,
                   int64_t min_events, PoissonCache* cache);

// Computes the condition's outcome: measure value, count, expected, rates.
// `observed` is empty when the measure cannot be computed; `held` includes the
// rule's min_events guard.
rules::ConditionOutcome EvaluateCondition(const rules::ConditionSpec& condition,
                                          const MeasureInput& input, int64_t min_events);

}  // namespace zicht::engine
