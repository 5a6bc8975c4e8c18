// Poisson tail, critical count, z-score, percentile and trend ratio on Boost.Math.
#include "zicht/engine/measure_math.h"

#include <algorithm>
#include <boost/math/distributions/poisson.hpp>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>

namespace zicht::engine {
namespace {

namespace bmp = boost::math::policies;

// Never throw on the event path: domain and evaluation problems give NaN (and set
// errno), a tail below the smallest double is 0, overflow gives infinity.
using NoThrowPolicy =
    bmp::policy<bmp::domain_error<bmp::errno_on_error>, bmp::pole_error<bmp::errno_on_error>,
                bmp::overflow_error<bmp::errno_on_error>, bmp::underflow_error<bmp::ignore_error>,
                bmp::denorm_error<bmp::ignore_error>, bmp::evaluation_error<bmp::errno_on_error>,
                bmp::rounding_error<bmp::errno_on_error>,
                bmp::indeterminate_result_error<bmp::errno_on_error>>;

// The same for the quantile used as a starting guess; rounding up gives an
// integer k near the critical count.
using GuessPolicy =
    bmp::policy<bmp::domain_error<bmp::errno_on_error>, bmp::pole_error<bmp::errno_on_error>,
                bmp::overflow_error<bmp::errno_on_error>, bmp::underflow_error<bmp::ignore_error>,
                bmp::denorm_error<bmp::ignore_error>, bmp::evaluation_error<bmp::errno_on_error>,
                bmp::rounding_error<bmp::errno_on_error>,
                bmp::indeterminate_result_error<bmp::errno_on_error>,
                bmp::discrete_quantile<bmp::integer_round_up>>;

bool ValidLambda(double lambda) {
  return std::isfinite(lambda) && lambda > 0;
}

// Far beyond any count the engine sees; keeps the search clear of overflow.
constexpr int64_t kSearchLimit = int64_t{1} << 62;

// A starting point for the critical count search. Only its closeness matters:
// the search below corrects it exactly.
int64_t CriticalCountGuess(double lambda, double p) {
  // The quantile of the complement solves P(X > q) <= p; the critical count of
  // P(X >= k) <= p is then q + 1. Tiny p are clamped because the quantile
  // search gives up below that; the search walks on from there.
  double clamped = std::max(p, 1e-300);
  boost::math::poisson_distribution<double, GuessPolicy> dist(lambda);
  double q = boost::math::quantile(boost::math::complement(dist, clamped));
  if (!std::isfinite(q) || q < 0) {
    // Normal approximation as a fallback: lambda + z * sqrt(lambda), z ~ 1..38.
    double z = std::sqrt(-2.0 * std::log(clamped));
    q = lambda + z * std::sqrt(lambda);
  }
  constexpr int64_t kHalfLimit = kSearchLimit / 2;
  if (q >= static_cast<double>(kHalfLimit)) return kHalfLimit;
  return static_cast<int64_t>(q) + 1;
}

}  // namespace

double PoissonUpperTail(int64_t k, double lambda) {
  if (!ValidLambda(lambda)) return std::numeric_limits<double>::quiet_NaN();
  if (k <= 0) return 1.0;
  // P(X >= k) = P(k, lambda), the regularised lower incomplete gamma function;
  // computed directly, so tiny tails never come from 1 - (something near 1).
  return boost::math::gamma_p(static_cast<double>(k), lambda, NoThrowPolicy());
}

int64_t PoissonCriticalCount(double lambda, double p_threshold) {
  if (!ValidLambda(lambda) || std::isnan(p_threshold) || p_threshold < 0) {
    return kNoCriticalCount;
  }
  if (p_threshold >= 1) return 0;  // P(X >= 0) = 1 <= threshold
  auto holds = [&](int64_t k) { return PoissonUpperTail(k, lambda) <= p_threshold; };
  // Invariant of the bracket: holds(hi) and !holds(lo). holds(0) is false
  // because the tail at 0 is 1 > p_threshold.
  int64_t guess = std::max<int64_t>(1, CriticalCountGuess(lambda, p_threshold));
  int64_t lo = 0;
  int64_t hi = 0;
  if (holds(guess)) {
    hi = guess;
    int64_t step = 1;
    while (true) {
      int64_t probe = hi - step;
      if (probe <= 0) {
        lo = 0;
        break;
      }
      if (!holds(probe)) {
        lo = probe;
        break;
      }
      hi = probe;
      step *= 2;
    }
  } else {
    lo = guess;
    int64_t step = 1;
    while (true) {
      if (lo > kSearchLimit - step) return kNoCriticalCount;
      int64_t probe = lo + step;
      if (holds(probe)) {
        hi = probe;
        break;
      }
      lo = probe;
      step *= 2;
    }
  }
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (holds(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

double PoissonZScore(double observed, double expected) {
  if (!std::isfinite(expected) || expected <= 0) return std::numeric_limits<double>::quiet_NaN();
  return (observed - expected) / std::sqrt(expected);
}

double Percentile(double own_rate, std::span<const double> others) {
  if (others.empty() || std::isnan(own_rate)) return std::numeric_limits<double>::quiet_NaN();
  size_t lower = 0;
  size_t equal = 0;
  for (double r : others) {
    if (r < own_rate) {
      ++lower;
    } else if (r == own_rate) {
      ++equal;
    }
  }
  return 100.0 * (static_cast<double>(lower) + 0.5 * static_cast<double>(equal)) /
         static_cast<double>(others.size());
}

double PercentileSorted(double own_rate, std::span<const double> sorted_others) {
  if (sorted_others.empty() || std::isnan(own_rate)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  auto [first, last] = std::equal_range(sorted_others.begin(), sorted_others.end(), own_rate);
  auto lower = static_cast<double>(first - sorted_others.begin());
  auto equal = static_cast<double>(last - first);
  return 100.0 * (lower + 0.5 * equal) / static_cast<double>(sorted_others.size());
}

double PercentileSortedWithSelf(double own_rate, std::span<const double> sorted_all) {
  if (sorted_all.size() < 2 || std::isnan(own_rate)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  auto [first, last] = std::equal_range(sorted_all.begin(), sorted_all.end(), own_rate);
  if (first == last) return std::numeric_limits<double>::quiet_NaN();  // not in the snapshot
  auto lower = static_cast<double>(first - sorted_all.begin());
  auto equal = static_cast<double>(last - first - 1);  // itself excluded
  return 100.0 * (lower + 0.5 * equal) / static_cast<double>(sorted_all.size() - 1);
}

double TrendRatio(double current, std::span<const double> previous) {
  if (previous.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (double v : previous) sum += v;
  double mean = sum / static_cast<double>(previous.size());
  if (mean == 0) {
    if (current > 0) return std::numeric_limits<double>::infinity();
    if (current < 0) return -std::numeric_limits<double>::infinity();
    return std::numeric_limits<double>::quiet_NaN();
  }
  return current / mean;
}

}  // namespace zicht::engine
