// National figures pooled from final windows: national and per-municipality
// baselines (SPEC 8.1), the shrinkage prior and the q_value ranking (8.2).
#include <algorithm>
#include <cmath>
#include <limits>

#include "zicht/engine/national_baseline.h"

namespace zicht::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Exact pooled totals of a set of municipalities.
struct Pool {
  int64_t match = 0;
  int64_t all = 0;
  FixedSum sum = 0;
  int64_t population = 0;

  void Add(const WindowAgg& a, int64_t pop, int sign = 1) {
    match += sign * a.n_match;
    all += sign * a.n_all;
    sum += sign * a.sum;
    population += sign * pop;
  }
};

// The pooled rate, or NaN when it is undefined or not a usable baseline
// (SPEC: a national rate of 0 makes the measures not computable).
double PooledRate(const IndicatorDef& ind, const Pool& p) {
  switch (ind.aggregate) {
    case rules::Aggregate::kCount: {
      if (p.population <= 0) return kNaN;
      double r = static_cast<double>(p.match) / static_cast<double>(p.population) * ind.per;
      return r > 0 ? r : kNaN;
    }
    case rules::Aggregate::kSum: {
      if (p.population <= 0) return kNaN;
      double r = FromFixed(p.sum) / static_cast<double>(p.population) * ind.per;
      return r != 0 ? r : kNaN;
    }
    case rules::Aggregate::kMean: {
      if (p.match <= 0) return kNaN;
      double r = FromFixed(p.sum) / static_cast<double>(p.match);
      return r != 0 ? r : kNaN;
    }
    case rules::Aggregate::kShare: {
      if (p.all <= 0) return kNaN;
      double r = static_cast<double>(p.match) / static_cast<double>(p.all);
      return r > 0 ? r : kNaN;
    }
    case rules::Aggregate::kValue:
      return kNaN;
  }
  return kNaN;
}

// Per-municipality baseline rates for leave_one_out and peers, from the
// exact totals minus the municipality's own final window.
std::vector<double> BaselineRates(const IndicatorDef& ind, std::span<const int64_t> population,
                                  const std::vector<WindowAgg>& agg_of, const Pool& all) {
  const size_t n = population.size();
  std::vector<double> out(n, kNaN);
  if (ind.baseline == rules::BaselineKind::kLeaveOneOut) {
    for (size_t m = 0; m < n; ++m) {
      Pool p = all;
      p.Add(agg_of[m], population[m], -1);
      out[m] = PooledRate(ind, p);
    }
    return out;
  }
  // Peers: pooled per group, then the municipality's own window taken out; a
  // group of one leaves nothing to compare with.
  int groups = 0;
  for (int g : ind.peer_group) groups = std::max(groups, g + 1);
  std::vector<Pool> pools(static_cast<size_t>(groups));
  std::vector<int> members(static_cast<size_t>(groups), 0);
  for (size_t m = 0; m < n; ++m) {
    int g = ind.peer_group[m];
    if (g < 0) continue;
    pools[static_cast<size_t>(g)].Add(agg_of[m], population[m]);
    ++members[static_cast<size_t>(g)];
  }
  for (size_t m = 0; m < n; ++m) {
    int g = ind.peer_group[m];
    if (g < 0 || members[static_cast<size_t>(g)] < 2) continue;
    Pool p = pools[static_cast<size_t>(g)];
    p.Add(agg_of[m], population[m], -1);
    out[m] = PooledRate(ind, p);
  }
  return out;
}

}  // namespace

double MunicipalityRate(const IndicatorDef& ind, const WindowAgg& agg, int64_t population) {
  switch (ind.aggregate) {
    case rules::Aggregate::kCount:
      return population > 0
                 ? static_cast<double>(agg.n_match) / static_cast<double>(population) * ind.per
                 : kNaN;
    case rules::Aggregate::kSum:
      return population > 0 ? FromFixed(agg.sum) / static_cast<double>(population) * ind.per : kNaN;
    case rules::Aggregate::kMean:
      return agg.n_match > 0 ? FromFixed(agg.sum) / static_cast<double>(agg.n_match) : kNaN;
    case rules::Aggregate::kShare:
      return agg.n_all > 0 ? static_cast<double>(agg.n_match) / static_cast<double>(agg.n_all)
                           : kNaN;
    case rules::Aggregate::kValue:
      return kNaN;
  }
  return kNaN;
}

double ExpectedCount(const IndicatorDef& ind, const WindowAgg& window, int64_t population,
                     double baseline_rate) {
  if (std::isnan(baseline_rate)) return kNaN;
  if (ind.aggregate == rules::Aggregate::kCount) {
    return baseline_rate * static_cast<double>(population) / ind.per;
  }
  if (ind.aggregate == rules::Aggregate::kShare) {
    return baseline_rate * static_cast<double>(window.n_all);
  }
  return kNaN;
}

double BaselinePValue(const IndicatorDef& ind, const WindowAgg& window, int64_t population,
                      double baseline_rate) {
  if (std::isnan(baseline_rate)) return kNaN;
  if (ind.aggregate == rules::Aggregate::kCount) {
    const double expected = ExpectedCount(ind, window, population, baseline_rate);
    return expected > 0 ? PoissonUpperTail(window.n_match, expected) : kNaN;
  }
  if (ind.aggregate == rules::Aggregate::kShare) {
    if (window.n_all <= 0) return kNaN;
    return BinomialUpperTail(window.n_match, window.n_all, baseline_rate);
  }
  return kNaN;
}

NationalFigures PoolNationalFigures(const IndicatorDef& ind, const MunicipalityTable& munis,
                                    std::vector<WindowAgg> agg_of) {
  std::vector<int64_t> population;
  population.reserve(munis.size());
  for (const Municipality& m : munis.rows()) population.push_back(m.population);
  return PoolNationalFigures(ind, population, std::move(agg_of));
}

NationalFigures PoolNationalFigures(const IndicatorDef& ind, std::span<const int64_t> population,
                                    std::vector<WindowAgg> agg_of) {
  NationalFigures f;
  const size_t units = population.size();
  agg_of.resize(units);
  f.rate_of.assign(units, kNaN);
  Pool all;
  for (size_t m = 0; m < units; ++m) {
    const WindowAgg& a = agg_of[m];
    all.Add(a, population[m]);
    double r = MunicipalityRate(ind, a, population[m]);
    f.rate_of[m] = r;
    if (!std::isnan(r)) f.sorted_rates.push_back(r);
  }
  std::sort(f.sorted_rates.begin(), f.sorted_rates.end());
  f.total_match = all.match;
  f.total_all = all.all;
  f.total_sum = all.sum;
  all.population = 0;
  for (int64_t p : population) all.population += p;
  const double total_population = static_cast<double>(all.population);
  switch (ind.aggregate) {
    case rules::Aggregate::kCount:
      f.rate = total_population > 0
                   ? static_cast<double>(f.total_match) / total_population * ind.per
                   : 0;
      f.valid = f.rate > 0;
      break;
    case rules::Aggregate::kSum:
      f.rate = total_population > 0 ? FromFixed(f.total_sum) / total_population * ind.per : 0;
      f.valid = f.rate != 0;
      break;
    case rules::Aggregate::kMean:
      f.valid = f.total_match > 0;
      f.rate = f.valid ? FromFixed(f.total_sum) / static_cast<double>(f.total_match) : 0;
      f.valid = f.valid && f.rate != 0;
      break;
    case rules::Aggregate::kShare:
      f.valid = f.total_all > 0;
      f.rate = f.valid ? static_cast<double>(f.total_match) / static_cast<double>(f.total_all) : 0;
      f.valid = f.valid && f.rate > 0;
      break;
    case rules::Aggregate::kValue:
      break;
  }
  if (ind.baseline != rules::BaselineKind::kNational) {
    f.baseline_rate_of = BaselineRates(ind, population, agg_of, all);
  }
  const bool counts =
      ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare;
  if (counts && f.valid) {
    // Always against the national rate (SPEC shrunk_ratio), all municipalities.
    std::vector<double> observed(units), expected(units);
    for (size_t m = 0; m < units; ++m) {
      observed[m] = static_cast<double>(agg_of[m].n_match);
      expected[m] = ExpectedCount(ind, agg_of[m], population[m], f.rate);
    }
    f.shrink = EstimateShrinkagePrior(observed, expected);
  }
  if (counts && ind.uses_q) {
    std::vector<double> p;
    f.q_member_of.assign(units, -1);
    for (size_t m = 0; m < units; ++m) {
      const int64_t pop = population[m];
      if (pop <= 0) continue;
      f.q_member_of[m] = static_cast<int>(p.size());
      p.push_back(BaselinePValue(ind, agg_of[m], pop, BaselineRate(f, static_cast<int>(m))));
    }
    f.q_ranking = BhRanking(std::move(p));
  }
  f.agg_of = std::move(agg_of);
  return f;
}

NationalFigures PoolReferenceFigures(const IndicatorDef& ind, const MunicipalityTable& munis,
                                     const ReferenceValues& ref) {
  NationalFigures f;
  double weighted = 0, population = 0;
  f.rate_of.assign(munis.size(), kNaN);
  for (size_t m = 0; m < munis.size(); ++m) {
    if (!ref.by_municipality[m]) continue;
    double v = *ref.by_municipality[m];
    f.rate_of[m] = v;
    f.sorted_rates.push_back(v);
    weighted += v * static_cast<double>(munis.at(m).population);
    population += static_cast<double>(munis.at(m).population);
  }
  std::sort(f.sorted_rates.begin(), f.sorted_rates.end());
  if (population > 0) {
    f.rate = weighted / population;
    f.valid = f.rate != 0;
  }
  if (ind.baseline == rules::BaselineKind::kNational) return f;
  // Weighted means over the other municipalities (all, or the same group),
  // each summed afresh in municipality order rather than by subtraction.
  f.baseline_rate_of.assign(munis.size(), kNaN);
  for (size_t m = 0; m < munis.size(); ++m) {
    const int group = ind.baseline == rules::BaselineKind::kPeers ? ind.peer_group[m] : 0;
    if (group < 0) continue;
    double w = 0, pop = 0;
    for (size_t i = 0; i < munis.size(); ++i) {
      if (i == m || !ref.by_municipality[i]) continue;
      if (ind.baseline == rules::BaselineKind::kPeers && ind.peer_group[i] != group) continue;
      w += *ref.by_municipality[i] * static_cast<double>(munis.at(i).population);
      pop += static_cast<double>(munis.at(i).population);
    }
    if (pop > 0 && w != 0) f.baseline_rate_of[m] = w / pop;
  }
  return f;
}

}  // namespace zicht::engine
