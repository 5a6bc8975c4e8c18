// The statistics behind the SPEC measures (poisson_p, binomial_p, funnel_z,
// national_zscore, percentile, trend_ratio, shrunk_ratio, q_value) as pure
// functions: no state, no exceptions; only the q_value ranking allocates
// (once per national update).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

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

// P(X >= k) for X ~ Binomial(n, p): the regularised incomplete beta function
// I_p(k, n - k + 1), exact in the far tail. k <= 0 gives 1, k > n gives 0,
// p == 1 gives 1 for k <= n. NaN when n < 0 or p is not in [0, 1].
double BinomialUpperTail(int64_t k, int64_t n, double p);

// SPEC funnel_z: the standard normal quantile of 1 - p, computed from the
// complement so that tiny p keep their precision. +inf for p == 0, -inf for
// p == 1, NaN for NaN or p outside [0, 1].
double FunnelZ(double p);

// The Poisson–gamma prior of SPEC shrunk_ratio (Marshall 1991, moment
// estimator) over the municipalities with expected > 0.
struct ShrinkagePrior {
  bool valid = false;  // false: no municipality with expected > 0
  bool flat = false;   // s² <= 0: the ratio is `mean` for everyone
  double mean = std::numeric_limits<double>::quiet_NaN();      // m = ΣO ÷ ΣE
  double variance = std::numeric_limits<double>::quiet_NaN();  // s²
  double a = 0;                                                // m² ÷ s² (prior observations)
  double b = 0;                                                // m ÷ s² (prior expected)
};

// m and s² from observed and expected counts (same length; entries with
// expected <= 0 or not finite are skipped). Summed in the order given, so the
// same inputs give the same bits. O(n).
ShrinkagePrior EstimateShrinkagePrior(std::span<const double> observed,
                                      std::span<const double> expected);

// (O + a) ÷ (E + b), or the prior mean when the prior is flat; NaN when the
// prior is not valid or O, E are NaN.
double ShrunkRatio(const ShrinkagePrior& prior, double observed, double expected);

// Benjamini–Hochberg adjusted p-values (SPEC q_value) over a fixed set of
// members, where one member's p is replaced by a live value: its q is the
// adjusted p it would get in the set with that one entry changed. Built once
// per national update in O(n log n); each query costs O(log n).
class BhRanking {
 public:
  BhRanking() = default;
  // `p` per member; NaN counts as 1 (SPEC: a p that cannot be computed).
  explicit BhRanking(std::vector<double> p);

  size_t size() const { return sorted_.size(); }
  // q of `member` with its p replaced by `p` (NaN counts as 1). NaN when the
  // set is empty or member is out of range.
  double AdjustedFor(size_t member, double p) const;
  // q of `member` with the p it was built with.
  double Adjusted(size_t member) const { return AdjustedFor(member, own_[member]); }

 private:
  // min over j in [from, to) of n·a_j ÷ (j + 2), from the sparse table.
  double RangeMinShifted(size_t from, size_t to) const;

  std::vector<double> own_;     // per member
  std::vector<double> sorted_;  // ascending
  std::vector<double> suffix_;  // suffix_[i] = min_{j>=i} n·a_j ÷ (j + 1); size n + 1
  std::vector<std::vector<double>> sparse_;  // sparse_[k][i] = min of 2^k entries n·a_j ÷ (j + 2)
};

// Reference implementation for tests: the adjusted p-values of all `p` (NaN
// counts as 1) by sorting; O(n log n) per call.
std::vector<double> BenjaminiHochberg(std::vector<double> p);

}  // namespace zicht::engine
