// The statistics behind the SPEC measures (poisson_p, national_zscore, percentile,
// trend_ratio) as pure functions: no state, no exceptions, no allocation.
#pragma once

#include <cstdint>
#include <limits>
#include <span>

namespace zicht::engine {

// "Not computable" is NaN throughout: every comparison with NaN is false, so a
// condition on a measure that cannot be computed does not hold (SPEC section 4).

// P(X >= k) for X ~ Poisson(lambda): the upper-tail probability of observing at
// least k events when lambda are expected. Computed as the regularised lower
// incomplete gamma function P(k, lambda), which is exact and keeps full relative
// precision in the far tail (down to the smallest double; below that it is 0).
// k <= 0 gives 1. lambda <= 0, NaN or infinite gives NaN (national rate 0 or no
// population: the measure cannot be computed). Never throws.
double PoissonUpperTail(int64_t k, double lambda);

// Returned by PoissonCriticalCount when no count satisfies the threshold.
inline constexpr int64_t kNoCriticalCount = std::numeric_limits<int64_t>::max();

// The smallest k >= 0 with PoissonUpperTail(k, lambda) <= p_threshold, so that
// "poisson_p <= p_threshold" is exactly "observed count >= k" for this lambda.
// p_threshold >= 1 gives 0. kNoCriticalCount when lambda is not computable (see
// PoissonUpperTail), p_threshold is NaN or negative. p_threshold == 0 gives the
// first k whose tail underflows to 0. Costs O(log k) tail evaluations around a
// quantile estimate; meant to be cached until lambda or the threshold changes.
int64_t PoissonCriticalCount(double lambda, double p_threshold);

// (observed - expected) / sqrt(expected); NaN when expected <= 0 or not finite.
double PoissonZScore(double observed, double expected);

// SPEC percentile: 100 * (#others with a lower rate + 1/2 * #others with an equal
// rate) / others.size(), where `others` are the rates of all OTHER municipalities
// (so others.size() is municipalities - 1). NaN when others is empty or own_rate
// is NaN. Rates are expected to be finite (NaN entries in others count as neither
// lower nor equal). O(n).
double Percentile(double own_rate, std::span<const double> others);

// The same on the other municipalities' rates sorted ascending; O(log n).
double PercentileSorted(double own_rate, std::span<const double> sorted_others);

// The same on the rates of ALL municipalities, the municipality itself included,
// sorted ascending (the engine's national snapshot): one value equal to own_rate
// is taken out as "itself". NaN when fewer than 2 rates or own_rate is not among
// them. O(log n).
double PercentileSortedWithSelf(double own_rate, std::span<const double> sorted_all);

// current / mean(previous); +infinity when the mean is 0 and current > 0,
// -infinity when the mean is 0 and current < 0, NaN when both are 0 or previous
// is empty. The engine passes the 4 preceding windows.
double TrendRatio(double current, std::span<const double> previous);

}  // namespace zicht::engine
