#include "zicht/engine/measures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "zicht/engine/measure_math.h"

namespace zicht::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The aggregate's value for a window (NaN when undefined).
double AggregateValue(rules::Aggregate aggregate, const WindowAgg& w) {
  switch (aggregate) {
    case rules::Aggregate::kCount: return static_cast<double>(w.n_match);
    case rules::Aggregate::kSum: return FromFixed(w.sum);
    case rules::Aggregate::kMean:
      return w.n_match > 0 ? FromFixed(w.sum) / static_cast<double>(w.n_match) : kNaN;
    case rules::Aggregate::kShare:
      return w.n_all > 0 ? static_cast<double>(w.n_match) / static_cast<double>(w.n_all) : kNaN;
    case rules::Aggregate::kValue: return kNaN;
  }
  return kNaN;
}

// SPEC percentile: 100 × (lower + ½ equal) ÷ (municipalities − 1), itself
// excluded. `sorted_all` holds every municipality's national-snapshot rate,
// including this one's (`own_snapshot`, NaN if it had none), which is taken out.
double PercentileExcludingSelf(double own, double own_snapshot,
                               const std::vector<double>& sorted_all) {
  auto lo = std::lower_bound(sorted_all.begin(), sorted_all.end(), own);
  auto hi = std::upper_bound(lo, sorted_all.end(), own);
  double lower = static_cast<double>(lo - sorted_all.begin());
  double equal = static_cast<double>(hi - lo);
  double others = static_cast<double>(sorted_all.size());
  if (!std::isnan(own_snapshot)) {
    others -= 1;
    if (own_snapshot < own) {
      lower -= 1;
    } else if (own_snapshot == own) {
      equal -= 1;
    }
  }
  if (others <= 0) return kNaN;
  return 100.0 * (lower + 0.5 * equal) / others;
}

}  // namespace

MeasureResult ComputeMeasure(rules::Measure measure, const MeasureInput& in) {
  const IndicatorDef& ind = *in.indicator;
  const NationalFigures* nat = in.national;
  const bool nat_ok = nat != nullptr && nat->valid;
  MeasureResult r{kNaN, 0, kNaN, kNaN, false};

  if (ind.reference >= 0) {
    r.reference = true;
    const auto& v = in.reference->by_municipality[static_cast<size_t>(in.municipality)];
    if (!v) return r;  // no figure published for this municipality
    r.rate = *v;
    switch (measure) {
      case rules::Measure::kValue:
      case rules::Measure::kRate: r.observed = *v; break;
      case rules::Measure::kNationalRatio:
        if (nat_ok) r.observed = *v / nat->rate;
        break;
      case rules::Measure::kPercentile:
        if (nat != nullptr) {
          r.observed = PercentileExcludingSelf(
              *v, nat->rate_of[static_cast<size_t>(in.municipality)], nat->sorted_rates);
        }
        break;
      default: break;  // not valid for reference indicators (the validator says so)
    }
    return r;
  }

  const WindowAgg& w = in.store->Window(ind.index, in.local, 0);
  const bool is_share = ind.aggregate == rules::Aggregate::kShare;
  r.count = is_share ? w.n_all : w.n_match;
  r.rate = MunicipalityRate(ind, w, in.population);
  if (nat_ok) {
    if (ind.aggregate == rules::Aggregate::kCount) {
      r.expected = nat->rate * static_cast<double>(in.population) / ind.per;
    } else if (is_share) {
      r.expected = nat->rate * static_cast<double>(w.n_all);
    }
  }
  switch (measure) {
    case rules::Measure::kValue: r.observed = AggregateValue(ind.aggregate, w); break;
    case rules::Measure::kRate: r.observed = r.rate; break;
    case rules::Measure::kNationalRatio:
      if (nat_ok) r.observed = r.rate / nat->rate;
      break;
    case rules::Measure::kNationalZscore:
      if (r.expected > 0) r.observed = PoissonZScore(static_cast<double>(w.n_match), r.expected);
      break;
    case rules::Measure::kPoissonP:
      if (r.expected > 0) r.observed = PoissonUpperTail(w.n_match, r.expected);
      break;
    case rules::Measure::kPercentile:
      if (nat != nullptr && !std::isnan(r.rate)) {
        r.observed = PercentileExcludingSelf(
            r.rate, nat->rate_of[static_cast<size_t>(in.municipality)], nat->sorted_rates);
      }
      break;
    case rules::Measure::kTrendRatio: {
      const bool hours = in.store->series_hours(ind.series);
      const int64_t current = in.store->current_bucket(hours);
      const int64_t first_bucket = FloorDiv(in.first_event_time, hours ? kMsPerHour : kMsPerDay);
      // Until the 4 previous windows lie after the first accepted event: no trend.
      if (in.first_event_time == kMinTime || current - 5 * ind.window + 1 < first_bucket) break;
      double value = AggregateValue(ind.aggregate, w);
      std::array<double, 4> previous;
      bool defined = !std::isnan(value);
      for (int k = 1; k <= 4; ++k) {
        double p = AggregateValue(ind.aggregate, in.store->Window(ind.index, in.local, k));
        previous[static_cast<size_t>(k - 1)] = p;
        defined = defined && !std::isnan(p);
      }
      if (defined) r.observed = TrendRatio(value, previous);
      break;
    }
  }
  return r;
}

bool ConditionHolds(const rules::ConditionSpec& condition, const MeasureResult& r,
                    int64_t min_events) {
  if (std::isnan(r.observed)) return false;
  if (!r.reference && r.count < min_events) return false;
  return rules::ApplyOp(condition.op, r.observed, condition.value);
}

bool EvaluateHolds(const rules::ConditionSpec& condition, const MeasureInput& in,
                   int64_t min_events, PoissonCache* cache) {
  const IndicatorDef& ind = *in.indicator;
  const bool fast = cache != nullptr && condition.measure == rules::Measure::kPoissonP &&
                    (condition.op == rules::Op::kLe || condition.op == rules::Op::kLt) &&
                    condition.value < 0.5 && ind.reference < 0 &&
                    (ind.aggregate == rules::Aggregate::kCount ||
                     ind.aggregate == rules::Aggregate::kShare);
  if (!fast) return ConditionHolds(condition, ComputeMeasure(condition.measure, in), min_events);
  const NationalFigures* nat = in.national;
  if (nat == nullptr || !nat->valid) return false;
  const WindowAgg& w = in.store->Window(ind.index, in.local, 0);
  const bool is_share = ind.aggregate == rules::Aggregate::kShare;
  const int64_t count = is_share ? w.n_all : w.n_match;
  if (count < min_events) return false;
  const double expected = is_share ? nat->rate * static_cast<double>(w.n_all)
                                   : nat->rate * static_cast<double>(in.population) / ind.per;
  if (!(expected > 0)) return false;
  // At or below the median (≥ λ − ln 2) the upper tail is at least ½, above
  // any threshold this path takes.
  if (static_cast<double>(w.n_match) <= expected - 0.6931471805599453) return false;
  if (is_share) {
    // The expected count moves with every event of the type: one tail per call
    // is cheaper than a critical-count search.
    return rules::ApplyOp(condition.op, PoissonUpperTail(w.n_match, expected), condition.value);
  }
  if (cache->expected != expected) {
    const double threshold = condition.op == rules::Op::kLe
                                 ? condition.value
                                 : std::nextafter(condition.value, -1.0);
    cache->critical = PoissonCriticalCount(expected, threshold);
    cache->expected = expected;
  }
  return w.n_match >= cache->critical;
}

rules::ConditionOutcome EvaluateCondition(const rules::ConditionSpec& condition,
                                          const MeasureInput& in, int64_t min_events) {
  MeasureResult r = ComputeMeasure(condition.measure, in);
  rules::ConditionOutcome out;
  out.id = condition.id;
  out.indicator = condition.indicator;
  out.measure = condition.measure;
  out.op = condition.op;
  out.value = condition.value;
  if (!std::isnan(r.observed)) out.observed = r.observed;
  out.count = r.count;
  if (!std::isnan(r.expected)) out.expected = r.expected;
  if (!std::isnan(r.rate)) out.rate = r.rate;
  if (in.national != nullptr && in.national->valid) out.national_rate = in.national->rate;
  if (in.indicator->reference < 0) out.window = in.indicator->spec->window.ToString();
  out.held = ConditionHolds(condition, r, min_events);
  return out;
}

}  // namespace zicht::engine
