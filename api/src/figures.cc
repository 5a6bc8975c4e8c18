#include "zicht/api/figures.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "zicht/engine/measure_math.h"
#include "zicht/engine/measures.h"

namespace zicht::api {
namespace {

using engine::ComputeMeasureFor;
using engine::IndicatorDef;
using engine::MeasureInput;
using engine::NationalFigures;
using engine::WindowAgg;

constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

bool Counts(const IndicatorDef& ind) {
  return ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare;
}

// Every figure of one (indicator, municipality) from the engine's own
// measures, for the window `w` (the live one, or the national snapshot's):
// the numbers its rules see. The trend needs the live window's history.
IndicatorFigures FiguresFor(const IndicatorDef& ind, const MeasureInput& in, const WindowAgg& w,
                            bool live) {
  auto measure = [&](rules::Measure m) { return ComputeMeasureFor(m, in, w).observed; };
  IndicatorFigures f;
  f.indicator = ind.index;
  f.live = live;
  f.window = w;
  const engine::MeasureResult value = ComputeMeasureFor(rules::Measure::kValue, in, w);
  f.count = value.count;
  f.value = value.observed;
  f.rate = value.rate;
  f.expected = value.expected;
  const NationalFigures* nat = in.national;
  f.national_rate = nat != nullptr && nat->valid ? nat->rate : kUndefined;
  f.national_ratio = measure(rules::Measure::kNationalRatio);
  f.percentile = measure(rules::Measure::kPercentile);
  if (live && ind.reference < 0 && ind.windows == 5) {
    f.trend_ratio = measure(rules::Measure::kTrendRatio);
  }
  if (!Counts(ind)) return f;
  f.national_zscore = measure(rules::Measure::kNationalZscore);
  f.poisson_p = measure(rules::Measure::kPoissonP);
  f.funnel_z = measure(rules::Measure::kFunnelZ);
  f.shrunk_ratio = measure(rules::Measure::kShrunkRatio);
  if (ind.uses_q) f.q_value = measure(rules::Measure::kQValue);
  f.observed = static_cast<double>(w.n_match);
  if (nat != nullptr && nat->valid) {
    f.national_expected = engine::ExpectedCount(ind, w, in.population, nat->rate);
  }
  return f;
}

// A municipality owned elsewhere: its final window in the latest complete
// national snapshot (reference indicators: the table), through the same
// measures with that window.
IndicatorFigures SnapshotFigures(engine::Engine& engine, int indicator, int municipality) {
  const engine::Plan& plan = engine.plan();
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  MeasureInput in;
  in.indicator = &ind;
  in.municipality = municipality;
  in.population = plan.municipalities().at(static_cast<size_t>(municipality)).population;
  if (ind.reference >= 0) {
    in.reference = &plan.references()[static_cast<size_t>(ind.reference)];
    in.national = &engine.national().ReferenceFigures(indicator);
    return FiguresFor(ind, in, WindowAgg{}, false);
  }
  std::shared_ptr<const NationalFigures> nat = engine.national().LatestFigures(indicator);
  if (!nat) {
    IndicatorFigures none;
    none.indicator = indicator;
    return none;
  }
  in.national = nat.get();
  return FiguresFor(ind, in, nat->agg_of[static_cast<size_t>(municipality)], false);
}

IndicatorFigures FiguresOf(engine::Engine& engine, int indicator, int municipality) {
  auto in = engine.LiveInput(indicator, municipality);
  const IndicatorDef& def = engine.plan().indicators()[static_cast<size_t>(indicator)];
  if (def.neighbourhood) {
    // Its national figures range over buurten: a municipality has its own
    // window (every event there) but nothing national to be set against.
    IndicatorFigures f;
    f.indicator = indicator;
    if (!in) return f;
    in->national = nullptr;
    f = FiguresFor(def, *in, in->store->Window(def.index, in->local, 0), true);
    return f;
  }
  if (!in) return SnapshotFigures(engine, indicator, municipality);
  const IndicatorDef& ind = engine.plan().indicators()[static_cast<size_t>(indicator)];
  const WindowAgg w = ind.reference >= 0 ? WindowAgg{} : in->store->Window(ind.index, in->local, 0);
  return FiguresFor(ind, *in, w, true);
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

std::vector<std::pair<int, IndicatorFigures>> NeighbourhoodFigures(engine::Engine& engine,
                                                                   int indicator,
                                                                   int municipality) {
  std::vector<std::pair<int, IndicatorFigures>> out;
  const engine::Plan& plan = engine.plan();
  const IndicatorDef& ind = plan.indicators()[static_cast<size_t>(indicator)];
  if (!ind.neighbourhood || plan.neighbourhoods() == nullptr) return out;
  for (int n : plan.neighbourhoods()->of_municipality(municipality)) {
    auto in = engine.LiveNeighbourhoodInput(indicator, n);
    if (!in) return {};
    const WindowAgg& w = in->store->Window(ind.index, in->local, 0);
    IndicatorFigures f = FiguresFor(ind, *in, w, true);
    f.municipality_ratio = ComputeMeasureFor(rules::Measure::kMunicipalityRatio, *in, w).observed;
    out.emplace_back(n, f);
  }
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
