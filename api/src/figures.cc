#include "zicht/api/figures.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "zicht/engine/measure_math.h"
#include "zicht/engine/measures.h"

namespace zicht::api {
namespace {

using engine::ComputeMeasure;
using engine::IndicatorDef;
using engine::MeasureInput;
using engine::NationalFigures;
using engine::WindowAgg;

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

IndicatorFigures LiveFigures(const IndicatorDef& ind, const MeasureInput& in) {
  IndicatorFigures f;
  f.indicator = ind.index;
  f.live = true;
  const engine::MeasureResult value = ComputeMeasure(rules::Measure::kValue, in);
  f.count = value.count;
  f.value = value.observed;
  f.rate = value.rate;
  f.expected = value.expected;
  f.national_rate = in.national != nullptr && in.national->valid ? in.national->rate : kUndefined;
  f.national_ratio = ComputeMeasure(rules::Measure::kNationalRatio, in).observed;
  f.percentile = ComputeMeasure(rules::Measure::kPercentile, in).observed;
  const bool counts =
      ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare;
  f.national_zscore =
      counts ? ComputeMeasure(rules::Measure::kNationalZscore, in).observed : kUndefined;
  f.poisson_p = counts ? ComputeMeasure(rules::Measure::kPoissonP, in).observed : kUndefined;
  f.trend_ratio = ind.reference < 0 && ind.windows == 5
                      ? ComputeMeasure(rules::Measure::kTrendRatio, in).observed
                      : kUndefined;
  return f;
}

IndicatorFigures ReferenceSnapshotFigures(engine::Engine& engine, const IndicatorDef& ind,
                                          int municipality, IndicatorFigures f) {
  const auto& v = engine.plan()
                      .references()[static_cast<size_t>(ind.reference)]
                      .by_municipality[static_cast<size_t>(municipality)];
  double rate = kUndefined;
  if (v) rate = f.value = *v;
  f.rate = rate;
  const NationalFigures& rf = engine.national().ReferenceFigures(ind.index);
  if (rf.valid) f.national_rate = rf.rate;
  if (!std::isnan(rate) && rf.valid) f.national_ratio = rate / rf.rate;
  const double own_snapshot = rf.rate_of[static_cast<size_t>(municipality)];
  if (!std::isnan(rate)) {
    std::vector<double> others = rf.sorted_rates;
    auto it = std::lower_bound(others.begin(), others.end(), own_snapshot);
    if (it != others.end() && *it == own_snapshot) others.erase(it);
    f.percentile = engine::PercentileSorted(rate, others);
  }
  return f;
}

IndicatorFigures SnapshotFigures(engine::Engine& engine, int indicator, int municipality) {
  const engine::Plan& plan = engine.plan();
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  IndicatorFigures f;
  f.indicator = indicator;
  f.value = f.rate = f.national_rate = f.national_ratio = f.national_zscore = f.poisson_p =
      f.percentile = f.trend_ratio = f.expected = kUndefined;
  if (ind.reference >= 0) return ReferenceSnapshotFigures(engine, ind, municipality, f);
  const int64_t population = plan.municipalities().at(static_cast<size_t>(municipality)).population;
  std::shared_ptr<const NationalFigures> nat = engine.national().LatestFigures(indicator);
  if (!nat) return f;
  const WindowAgg agg = nat->agg_of[static_cast<size_t>(municipality)];
  const bool share = ind.aggregate == rules::Aggregate::kShare;
  f.count = share ? agg.n_all : agg.n_match;
  const double rate = nat->rate_of[static_cast<size_t>(municipality)];
  f.rate = rate;
  switch (ind.aggregate) {
    case rules::Aggregate::kCount:
      f.value = static_cast<double>(agg.n_match);
      break;
    case rules::Aggregate::kSum:
      f.value = engine::FromFixed(agg.sum);
      break;
    default:
      f.value = rate;
      break;
  }
  if (nat->valid) {
    f.national_rate = nat->rate;
    if (!std::isnan(rate)) f.national_ratio = rate / nat->rate;
    if (ind.aggregate == rules::Aggregate::kCount) {
      f.expected = nat->rate * static_cast<double>(population) / ind.per;
    } else if (share) {
      f.expected = nat->rate * static_cast<double>(agg.n_all);
    }
    if (f.expected > 0) {
      f.national_zscore = engine::PoissonZScore(static_cast<double>(agg.n_match), f.expected);
      f.poisson_p = engine::PoissonUpperTail(agg.n_match, f.expected);
    }
  }
  if (!std::isnan(rate)) f.percentile = engine::PercentileSortedWithSelf(rate, nat->sorted_rates);
  return f;
}

IndicatorFigures FiguresOf(engine::Engine& engine, int indicator, int municipality) {
  auto in = engine.LiveInput(indicator, municipality);
  if (!in) return SnapshotFigures(engine, indicator, municipality);
  return LiveFigures(engine.plan().indicators()[static_cast<size_t>(indicator)], *in);
}

}  // namespace

std::vector<IndicatorFigures> MunicipalityFigures(engine::Engine& engine, int municipality) {
  std::vector<IndicatorFigures> out;
  for (const IndicatorDef& ind : engine.plan().indicators())
    out.push_back(FiguresOf(engine, ind.index, municipality));
  return out;
}

std::vector<IndicatorFigures> IndicatorFiguresAll(engine::Engine& engine, int indicator) {
  std::vector<IndicatorFigures> out;
  const size_t n = engine.plan().municipalities().size();
  out.reserve(n);
  for (size_t m = 0; m < n; ++m) out.push_back(FiguresOf(engine, indicator, static_cast<int>(m)));
  return out;
}

std::vector<double> RateHistory(engine::Engine& engine, int indicator, int municipality, int days) {
  std::vector<double> out;
  const engine::Plan& plan = engine.plan();
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  const engine::WindowStore* ws = engine.WindowsOf(municipality);
  if (ind.series < 0 || ws == nullptr || !ws->has_clock()) return out;
  const int local = ws->Local(municipality);
  const bool hours = ws->series_hours(ind.series);
  const int64_t step = hours ? 24 : 1;  // one point per day for hour windows too
  const int64_t last = ws->current_bucket(hours);
  const int64_t population = plan.municipalities().at(static_cast<size_t>(municipality)).population;
  for (int64_t d = days - 1; d >= 0; --d) {
    const int64_t bucket = last - d * step;
    out.push_back(engine::MunicipalityRate(ind, ws->FinalAt(ind.index, local, bucket), population));
  }
  return out;
}

}  // namespace zicht::api
