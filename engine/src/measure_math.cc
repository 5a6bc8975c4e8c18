// Poisson tail, critical count, z-score, percentile and trend ratio on Boost.Math.
#include "zicht/engine/measure_math.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
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

namespace zicht::engine {

double BinomialUpperTail(int64_t k, int64_t n, double p) {
  if (n < 0 || std::isnan(p) || p < 0 || p > 1) return std::numeric_limits<double>::quiet_NaN();
  if (k <= 0) return 1.0;
  if (k > n) return 0.0;
  if (p == 1) return 1.0;
  if (p == 0) return 0.0;
  // P(X >= k) = I_p(k, n - k + 1): the regularised incomplete beta function.
  return boost::math::ibeta(static_cast<double>(k), static_cast<double>(n - k + 1), p,
                            NoThrowPolicy());
}

double FunnelZ(double p) {
  if (std::isnan(p) || p < 0 || p > 1) return std::numeric_limits<double>::quiet_NaN();
  if (p == 0) return std::numeric_limits<double>::infinity();
  if (p == 1) return -std::numeric_limits<double>::infinity();
  // Φ⁻¹(1 − p) from the complement: exact for tiny p, where 1 − p rounds to 1.
  boost::math::normal_distribution<double, NoThrowPolicy> normal(0.0, 1.0);
  return boost::math::quantile(boost::math::complement(normal, p));
}

ShrinkagePrior EstimateShrinkagePrior(std::span<const double> observed,
                                      std::span<const double> expected) {
  ShrinkagePrior prior;
  const size_t n = std::min(observed.size(), expected.size());
  double sum_o = 0, sum_e = 0;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = expected[i];
    if (!(e > 0) || !std::isfinite(e) || std::isnan(observed[i])) continue;
    sum_o += observed[i];
    sum_e += e;
    ++used;
  }
  if (used == 0 || !(sum_e > 0)) return prior;
  const double m = sum_o / sum_e;
  // Σ E_i (O_i/E_i − m)² written as Σ (O_i − m E_i)² ÷ E_i: no division of
  // small counts by small expectations before the subtraction.
  double spread = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = expected[i];
    if (!(e > 0) || !std::isfinite(e) || std::isnan(observed[i])) continue;
    const double d = observed[i] - m * e;
    spread += d * d / e;
  }
  const double mean_e = sum_e / static_cast<double>(used);
  const double s2 = spread / sum_e - m / mean_e;
  prior.valid = true;
  prior.mean = m;
  prior.variance = s2;
  if (!(s2 > 0)) {
    prior.flat = true;
  } else {
    prior.a = m * m / s2;
    prior.b = m / s2;
  }
  return prior;
}

double ShrunkRatio(const ShrinkagePrior& prior, double observed, double expected) {
  if (!prior.valid || std::isnan(observed) || std::isnan(expected)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (prior.flat) return prior.mean;
  return (observed + prior.a) / (expected + prior.b);
}

namespace {
double AsP(double p) {
  return std::isnan(p) ? 1.0 : p;
}
}  // namespace

BhRanking::BhRanking(std::vector<double> p) : own_(std::move(p)) {
  for (double& v : own_) v = AsP(v);
  sorted_ = own_;
  std::sort(sorted_.begin(), sorted_.end());
  const size_t n = sorted_.size();
  const double dn = static_cast<double>(n);
  suffix_.assign(n + 1, std::numeric_limits<double>::infinity());
  for (size_t j = n; j-- > 0;) {
    suffix_[j] = std::min(suffix_[j + 1], dn * sorted_[j] / static_cast<double>(j + 1));
  }
  if (n == 0) return;
  sparse_.emplace_back(n);
  for (size_t j = 0; j < n; ++j) sparse_[0][j] = dn * sorted_[j] / static_cast<double>(j + 2);
  for (size_t k = 1; (size_t{1} << k) <= n; ++k) {
    const size_t half = size_t{1} << (k - 1);
    const std::vector<double>& prev = sparse_[k - 1];
    std::vector<double> level(n - (size_t{1} << k) + 1);
    for (size_t j = 0; j < level.size(); ++j) level[j] = std::min(prev[j], prev[j + half]);
    sparse_.push_back(std::move(level));
  }
}

double BhRanking::RangeMinShifted(size_t from, size_t to) const {
  if (from >= to) return std::numeric_limits<double>::infinity();
  size_t k = 0;
  while ((size_t{2} << k) <= to - from) ++k;
  return std::min(sparse_[k][from], sparse_[k][to - (size_t{1} << k)]);
}

double BhRanking::AdjustedFor(size_t member, double p) const {
  const size_t n = sorted_.size();
  if (n == 0 || member >= n) return std::numeric_limits<double>::quiet_NaN();
  const double x = AsP(p);
  const double dn = static_cast<double>(n);
  // The member's own entry a_r in the sorted set (any one of equal values:
  // tied p-values get the same q whatever their order).
  const size_t r = static_cast<size_t>(
      std::lower_bound(sorted_.begin(), sorted_.end(), own_[member]) - sorted_.begin());
  // x goes after every other entry <= x; only the entries above it bound its q.
  const size_t u =
      static_cast<size_t>(std::upper_bound(sorted_.begin(), sorted_.end(), x) - sorted_.begin());
  const size_t c = u - (r < u ? 1 : 0);  // other members with p <= x
  double q = dn * x / static_cast<double>(c + 1);
  // Entries above x and above a_r keep their rank j + 1 (one out, one in
  // before them); those above x but below a_r move one rank up (j + 2).
  q = std::min(q, suffix_[std::max(u, r + 1)]);
  if (u < r) q = std::min(q, RangeMinShifted(u, r));
  return std::min(1.0, q);
}

std::vector<double> BenjaminiHochberg(std::vector<double> p) {
  const size_t n = p.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) {
    order[i] = i;
    p[i] = AsP(p[i]);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> q(n);
  double running = 1.0;
  for (size_t k = n; k-- > 0;) {
    running = std::min(running, static_cast<double>(n) * p[order[k]] / static_cast<double>(k + 1));
    q[order[k]] = running;
  }
  return q;
}

}  // namespace zicht::engine
