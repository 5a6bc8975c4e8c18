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
    case rules::Aggregate::kCount:
      return static_cast<double>(w.n_match);
    case rules::Aggregate::kSum:
      return FromFixed(w.sum);
    case rules::Aggregate::kMean:
      return w.n_match > 0 ? FromFixed(w.sum) / static_cast<double>(w.n_match) : kNaN;
    case rules::Aggregate::kShare:
      return w.n_all > 0 ? static_cast<double>(w.n_match) / static_cast<double>(w.n_all) : kNaN;
    case rules::Aggregate::kValue:
      return kNaN;
  }
  return kNaN;
}

// SPEC percentile: 100 × (lower + ½ equal) ÷ (municipalities − 1), itself
// excluded. `sorted_all` holds every defined national-snapshot rate,
// including this one's (`own_snapshot`, NaN if it had none), which is taken out.
// Municipalities whose rate is undefined (a share or mean without events)
// are neither lower nor equal, but they count in the denominator as the SPEC
// writes it.
double PercentileExcludingSelf(double own, double own_snapshot,
                               const std::vector<double>& sorted_all, size_t municipalities) {
  auto lo = std::lower_bound(sorted_all.begin(), sorted_all.end(), own);
  auto hi = std::upper_bound(lo, sorted_all.end(), own);
  double lower = static_cast<double>(lo - sorted_all.begin());
  double equal = static_cast<double>(hi - lo);
  double others = static_cast<double>(municipalities) - 1;
  if (!std::isnan(own_snapshot)) {
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
  if (in.indicator->reference >= 0) return ComputeMeasureFor(measure, in, WindowAgg{});
  return ComputeMeasureFor(measure, in, in.store->Window(in.indicator->index, in.local, 0));
}

MeasureResult ComputeMeasureFor(rules::Measure measure, const MeasureInput& in,
                                const WindowAgg& w) {
  const IndicatorDef& ind = *in.indicator;
  const NationalFigures* nat = in.national;
  // The rate this municipality is compared with (SPEC 8.1); NaN: none.
  const double base = nat != nullptr ? BaselineRate(*nat, in.municipality) : kNaN;
  MeasureResult r{kNaN, 0, kNaN, kNaN, false};

  if (ind.reference >= 0) {
    r.reference = true;
    const auto& v = in.reference->by_municipality[static_cast<size_t>(in.municipality)];
    if (!v) return r;  // no figure published for this municipality
    r.rate = *v;
    switch (measure) {
      case rules::Measure::kValue:
      case rules::Measure::kRate:
        r.observed = *v;
        break;
      case rules::Measure::kNationalRatio:
        r.observed = *v / base;
        break;
      case rules::Measure::kPercentile:
        if (nat != nullptr) {
          r.observed =
              PercentileExcludingSelf(*v, nat->rate_of[static_cast<size_t>(in.municipality)],
                                      nat->sorted_rates, nat->rate_of.size());
        }
        break;
      default:
        break;  // not valid for reference indicators (the validator says so)
    }
    return r;
  }

  const bool is_share = ind.aggregate == rules::Aggregate::kShare;
  const bool is_count = ind.aggregate == rules::Aggregate::kCount;
  r.count = is_share ? w.n_all : w.n_match;
  r.rate = MunicipalityRate(ind, w, in.population);
  r.expected = ExpectedCount(ind, w, in.population, base);
  switch (measure) {
    case rules::Measure::kValue:
      r.observed = AggregateValue(ind.aggregate, w);
      break;
    case rules::Measure::kRate:
      r.observed = r.rate;
      break;
    case rules::Measure::kNationalRatio:
      r.observed = r.rate / base;
      break;
    case rules::Measure::kNationalZscore:
      if (r.expected > 0) r.observed = PoissonZScore(static_cast<double>(w.n_match), r.expected);
      break;
    case rules::Measure::kPoissonP:
      if (r.expected > 0) r.observed = PoissonUpperTail(w.n_match, r.expected);
      break;
    case rules::Measure::kBinomialP:
      if (is_share) r.observed = BaselinePValue(ind, w, in.population, base);
      break;
    case rules::Measure::kFunnelZ:
      // poisson_p of counts, binomial_p of shares (NaN for other aggregates).
      r.observed = FunnelZ(BaselinePValue(ind, w, in.population, base));
      break;
    case rules::Measure::kShrunkRatio:
      if ((is_count || is_share) && nat != nullptr && nat->valid) {
        // Against the national rate whatever the baseline (SPEC 8.2).
        r.observed = ShrunkRatio(nat->shrink, static_cast<double>(w.n_match),
                                 ExpectedCount(ind, w, in.population, nat->rate));
      }
      break;
    case rules::Measure::kQValue:
      if ((is_count || is_share) && nat != nullptr && !nat->q_member_of.empty()) {
        const int member = nat->q_member_of[static_cast<size_t>(in.municipality)];
        if (member >= 0) {
          r.observed = nat->q_ranking.AdjustedFor(static_cast<size_t>(member),
                                                  BaselinePValue(ind, w, in.population, base));
        }
      }
      break;
    case rules::Measure::kPercentile:
      if (nat != nullptr && !std::isnan(r.rate)) {
        r.observed =
            PercentileExcludingSelf(r.rate, nat->rate_of[static_cast<size_t>(in.municipality)],
                                    nat->sorted_rates, nat->rate_of.size());
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
    case rules::Measure::kMunicipalityRatio: {
      if (in.parent_local < 0) break;
      // The municipality's window counts every event there, with or without
      // a neighbourhood; its rate is what the neighbourhood is set against.
      const double parent = MunicipalityRate(ind, in.store->Window(ind.index, in.parent_local, 0),
                                             in.parent_population);
      r.observed = r.rate / parent;
      r.expected = ExpectedCount(ind, w, in.population, parent);
      break;
    }
    case rules::Measure::kYoyRatio: {
      if (ind.yoy_lag <= 0) break;
      const bool hours = in.store->series_hours(ind.series);
      const int64_t current = in.store->current_bucket(hours);
      const int64_t first_bucket = FloorDiv(in.first_event_time, hours ? kMsPerHour : kMsPerDay);
      // Until the window a year back lies wholly after the first accepted event.
      if (in.first_event_time == kMinTime || current - ind.yoy_lag - ind.window + 1 < first_bucket)
        break;
      const double value = AggregateValue(ind.aggregate, w);
      const double earlier = AggregateValue(ind.aggregate, in.store->Lagged(ind.index, in.local));
      if (!std::isnan(value) && !std::isnan(earlier)) {
        r.observed = TrendRatio(value, std::span<const double>(&earlier, 1));
      }
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

namespace {

// Measures of a count indicator that rise with the count.
bool ThresholdMeasure(rules::Measure m) {
  switch (m) {
    case rules::Measure::kValue:
    case rules::Measure::kRate:
    case rules::Measure::kNationalRatio:
    case rules::Measure::kNationalZscore:
    case rules::Measure::kPercentile:
    case rules::Measure::kFunnelZ:      // Φ⁻¹ of a tail that falls with the count
    case rules::Measure::kShrunkRatio:  // (O + a) ÷ (E + b) with E fixed per bucket
      return true;
    default:
      return false;
  }
}

constexpr int64_t kNoCount = INT64_MAX / 4;  // "no count satisfies it"

// Smallest count >= 0 for which `held` is true, given that held is monotone
// (false ... false true ... true); kNoCount if none up to the cap. Starts
// from `guess` so that a good guess costs two or three evaluations.
template <typename Held>
int64_t SmallestHeld(int64_t guess, Held held) {
  constexpr int64_t kCap = int64_t{1} << 42;
  guess = std::clamp<int64_t>(guess, 0, kCap);
  int64_t lo, hi;  // invariant: !held(lo) (or lo == -1), held(hi)
  if (held(guess)) {
    hi = guess;
    int64_t step = 1;
    lo = guess - step;
    while (lo >= 0 && held(lo)) {
      hi = lo;
      step *= 2;
      lo = hi - step;
    }
    if (lo < 0) lo = -1;
  } else {
    lo = guess;
    int64_t step = 1;
    hi = guess + step;
    while (!held(hi)) {
      lo = hi;
      step *= 2;
      if (hi > kCap) return kNoCount;
      hi = lo + step;
    }
  }
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (held(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

// A first guess of the count at which a rising measure reaches `v`.
double GuessCount(rules::Measure m, double v, const MeasureInput& in, const NationalFigures* nat) {
  const double pop = static_cast<double>(in.population);
  const double per = in.indicator->per;
  double nat_rate = nat != nullptr ? BaselineRate(*nat, in.municipality) : 0;
  if (std::isnan(nat_rate)) nat_rate = 0;
  switch (m) {
    case rules::Measure::kValue:
      return v;
    case rules::Measure::kRate:
      return v * pop / per;
    case rules::Measure::kNationalRatio:
      return v * nat_rate * pop / per;
    case rules::Measure::kNationalZscore: {
      double e = nat_rate * pop / per;
      return e + v * std::sqrt(std::max(e, 0.0));
    }
    case rules::Measure::kFunnelZ: {
      const double e = nat_rate * pop / per;
      return e + v * std::sqrt(std::max(e, 0.0));
    }
    case rules::Measure::kShrunkRatio: {
      if (nat == nullptr || !nat->valid || !nat->shrink.valid || nat->shrink.flat) return 0;
      double e = nat->rate * pop / per;
      return v * (e + nat->shrink.b) - nat->shrink.a;
    }
    case rules::Measure::kPercentile: {
      if (nat == nullptr || nat->sorted_rates.empty()) return 0;
      size_t idx = static_cast<size_t>(std::clamp(v / 100.0, 0.0, 1.0) *
                                       static_cast<double>(nat->sorted_rates.size() - 1));
      return nat->sorted_rates[idx] * pop / per;
    }
    default:
      return 0;
  }
}

}  // namespace

bool EvaluateHolds(const rules::ConditionSpec& condition, const MeasureInput& in,
                   int64_t min_events, ConditionCache* cache) {
  const IndicatorDef& ind = *in.indicator;
  if (cache == nullptr)
    return ConditionHolds(condition, ComputeMeasure(condition.measure, in), min_events);
  // Reference figures do not change while a plan runs.
  if (ind.reference >= 0) {
    if (cache->mode != ConditionCache::kConstant) {
      cache->held = ConditionHolds(condition, ComputeMeasure(condition.measure, in), min_events);
      cache->mode = ConditionCache::kConstant;
    }
    return cache->held;
  }
  const bool count = ind.aggregate == rules::Aggregate::kCount;
  const bool ordered = condition.op == rules::Op::kGe || condition.op == rules::Op::kGt ||
                       condition.op == rules::Op::kLe || condition.op == rules::Op::kLt;
  const WindowAgg& w = in.store->Window(ind.index, in.local, 0);

  // Count indicators: the measure is a monotone function of the window count
  // for as long as the national figures stay the same (one final bucket), so
  // the condition reduces to comparing the count with a threshold computed
  // once per final bucket, by exact evaluation of the same formulas.
  if (count && ordered && ThresholdMeasure(condition.measure)) {
    if (cache->mode != ConditionCache::kThreshold || cache->final_bucket != in.final_bucket) {
      // Most municipalities see no event, or one, between national updates:
      // evaluating once costs one probe where a threshold costs two or more.
      if (cache->direct_bucket != in.final_bucket) {
        cache->direct_bucket = in.final_bucket;
        return ConditionHolds(condition, ComputeMeasureFor(condition.measure, in, w), min_events);
      }
      const bool upward = condition.op == rules::Op::kGe || condition.op == rules::Op::kGt;
      auto held_at = [&](int64_t x) {
        WindowAgg a;
        a.n_match = a.n_all = x;
        return ConditionHolds(condition, ComputeMeasureFor(condition.measure, in, a), 0);
      };
      // The national figures move little from one day to the next, so the
      // previous day's threshold is the best guess: two or three probes, which
      // matters for measures whose probe is a special function (funnel_z).
      const int64_t guess = cache->mode == ConditionCache::kThreshold && cache->threshold < kNoCount
                                ? cache->threshold
                                : static_cast<int64_t>(GuessCount(
                                      condition.measure, condition.value, in, in.national));
      // Rising measure with >=/>: held for counts >= t. With <=/<: held for
      // counts < t', where t' is the smallest count at which it stops holding.
      cache->threshold = upward ? SmallestHeld(guess, held_at)
                                : SmallestHeld(guess, [&](int64_t x) { return !held_at(x); });
      cache->upward = upward;
      cache->final_bucket = in.final_bucket;
      cache->mode = ConditionCache::kThreshold;
    }
    if (w.n_match < min_events) return false;
    return cache->upward ? w.n_match >= cache->threshold : w.n_match < cache->threshold;
  }

  // poisson_p <= x: at or below the median (>= lambda - ln 2) the tail is at
  // least 1/2, and it is never below the probability of the count itself; only
  // counts that pass both cheap bounds need the incomplete gamma function.
  const bool share = ind.aggregate == rules::Aggregate::kShare;
  if ((count || share) && condition.measure == rules::Measure::kPoissonP &&
      (condition.op == rules::Op::kLe || condition.op == rules::Op::kLt) && condition.value < 0.5) {
    const NationalFigures* nat = in.national;
    if (nat == nullptr) return false;
    const double base = BaselineRate(*nat, in.municipality);
    if (std::isnan(base)) return false;
    const int64_t n = share ? w.n_all : w.n_match;
    if (n < min_events) return false;
    const double expected = ExpectedCount(ind, w, in.population, base);
    if (!(expected > 0)) return false;
    const double k = static_cast<double>(w.n_match);
    if (k <= expected - 0.6931471805599453) return false;
    const double log_pmf = -expected + k * std::log(expected) - std::lgamma(k + 1);
    if (log_pmf > std::log(condition.value) + 1e-9 * (1 + std::fabs(log_pmf))) return false;
    if (share)
      return rules::ApplyOp(condition.op, PoissonUpperTail(w.n_match, expected), condition.value);
    // Count indicators keep the same expected count for a whole final bucket:
    // the smallest count whose tail is small enough, computed once.
    if (cache->mode != ConditionCache::kThreshold || cache->final_bucket != in.final_bucket) {
      const double threshold =
          condition.op == rules::Op::kLe ? condition.value : std::nextafter(condition.value, -1.0);
      cache->threshold = PoissonCriticalCount(expected, threshold);
      cache->upward = true;
      cache->final_bucket = in.final_bucket;
      cache->mode = ConditionCache::kThreshold;
    }
    return w.n_match >= cache->threshold;
  }
  return ConditionHolds(condition, ComputeMeasureFor(condition.measure, in, w), min_events);
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
  if (in.national != nullptr) {
    const double base = BaselineRate(*in.national, in.municipality);
    if (!std::isnan(base)) out.national_rate = base;
  }
  if (in.indicator->reference < 0) out.window = in.indicator->spec->window.ToString();
  out.held = ConditionHolds(condition, r, min_events);
  out.baseline = in.indicator->spec->baseline.ToString();
  return out;
}

}  // namespace zicht::engine
