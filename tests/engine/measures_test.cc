// Measures: each SPEC measure of a municipality against pooled national
// figures, computed by hand here; the cached evaluation agrees with the
// direct one.
#include "zicht/engine/measures.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_plan.h"
#include "zicht/engine/measure_math.h"

namespace zicht::engine {
namespace {

using testing::Count;
using testing::IndicatorOf;
using testing::SpecExamplePlan;

constexpr TimeMs kDay0 = 20000 * kMsPerDay;

struct Fixture {
  PlanPtr plan = SpecExamplePlan();
  std::unique_ptr<WindowStore> ws;
  std::unique_ptr<NationalBaseline> national;
  std::shared_ptr<const NationalFigures> figures;
  int cash = -1;

  // Cash reports on day 0 per municipality (populations 10k, 20k, 30k, 40k).
  explicit Fixture(std::vector<int> counts) {
    cash = IndicatorOf(*plan, "cash_reports");
    ws = std::make_unique<WindowStore>(*plan, std::vector<int>{0, 1, 2, 3});
    for (int m = 0; m < 4; ++m)
      Count(*plan, *ws, cash, m, kDay0 + kMsPerHour, counts[static_cast<size_t>(m)]);
    ws->Advance(kDay0 + 2 * kMsPerDay + kMsPerHour);
    national = std::make_unique<NationalBaseline>(*plan, std::vector<int>{0});
    national->Publish(0, false, ws->final_bucket(false), *ws);
    figures = national->Figures(cash, ws->final_bucket(false));
  }
  MeasureInput Input(int m) const {
    MeasureInput in;
    in.indicator = &plan->indicators()[static_cast<size_t>(cash)];
    in.store = ws.get();
    in.local = ws->Local(m);
    in.municipality = m;
    in.population = plan->municipalities().at(static_cast<size_t>(m)).population;
    in.national = figures.get();
    in.first_event_time = kDay0;
    in.final_bucket = ws->final_bucket(false);
    return in;
  }
};

TEST(MeasuresTest, NationalComparisonsFollowTheSpecFormulas) {
  Fixture fx({3, 0, 9, 12});
  ASSERT_NE(fx.figures, nullptr);
  const double national_rate = 24.0 / 100000.0 * 1000.0;
  const MeasureInput in = fx.Input(3);  // 12 reports, 40,000 inhabitants
  const double rate = 12.0 / 40000.0 * 1000.0;
  const double expected = national_rate * 40000.0 / 1000.0;  // 9.6
  MeasureResult value = ComputeMeasure(rules::Measure::kValue, in);
  EXPECT_EQ(value.count, 12);
  EXPECT_DOUBLE_EQ(value.observed, 12.0);
  EXPECT_DOUBLE_EQ(value.rate, rate);
  EXPECT_DOUBLE_EQ(value.expected, expected);
  EXPECT_DOUBLE_EQ(ComputeMeasure(rules::Measure::kRate, in).observed, rate);
  EXPECT_DOUBLE_EQ(ComputeMeasure(rules::Measure::kNationalRatio, in).observed,
                   rate / national_rate);
  EXPECT_DOUBLE_EQ(ComputeMeasure(rules::Measure::kNationalZscore, in).observed,
                   PoissonZScore(12.0, expected));
  EXPECT_DOUBLE_EQ(ComputeMeasure(rules::Measure::kPoissonP, in).observed,
                   PoissonUpperTail(12, expected));
  // Percentile among the other municipalities (rates 0.3, 0.0, 0.3 below
  // its 0.3): the highest rate ranks above the lowest.
  const double pct = ComputeMeasure(rules::Measure::kPercentile, in).observed;
  EXPECT_GE(pct, 0.0);
  EXPECT_LE(pct, 100.0);
  EXPECT_GT(pct, ComputeMeasure(rules::Measure::kPercentile, fx.Input(1)).observed);
}

TEST(MeasuresTest, UndefinedWithoutANationalFigure) {
  Fixture fx({0, 0, 0, 0});
  ASSERT_NE(fx.figures, nullptr);
  EXPECT_FALSE(fx.figures->valid);
  const MeasureInput in = fx.Input(0);
  EXPECT_TRUE(std::isnan(ComputeMeasure(rules::Measure::kNationalRatio, in).observed));
  rules::ConditionSpec c;
  c.indicator = "cash_reports";
  c.measure = rules::Measure::kNationalRatio;
  c.op = rules::Op::kGe;
  c.value = 0;
  // A measure that cannot be computed never holds, whatever the threshold.
  EXPECT_FALSE(ConditionHolds(c, ComputeMeasure(c.measure, in), 0));
}

TEST(MeasuresTest, CachedEvaluationAgreesWithTheDirectOneAcrossThresholds) {
  for (int n = 0; n <= 40; n += 3) {
    Fixture fx({3, n, 9, 12});
    ASSERT_NE(fx.figures, nullptr);
    for (rules::Measure measure : {rules::Measure::kValue, rules::Measure::kNationalRatio,
                                   rules::Measure::kNationalZscore, rules::Measure::kPoissonP}) {
      for (rules::Op op : {rules::Op::kGe, rules::Op::kLt, rules::Op::kLe}) {
        for (double value : {0.001, 0.5, 1.5, 2.0, 8.0}) {
          rules::ConditionSpec c;
          c.indicator = "cash_reports";
          c.measure = measure;
          c.op = op;
          c.value = value;
          for (int min_events : {0, 5}) {
            const MeasureInput in = fx.Input(1);
            ConditionCache cache;
            const bool direct = ConditionHolds(c, ComputeMeasure(measure, in), min_events);
            EXPECT_EQ(EvaluateHolds(c, in, min_events, &cache), direct)
                << "n=" << n << " value=" << value;
            // Second call answers from the cache.
            EXPECT_EQ(EvaluateHolds(c, in, min_events, &cache), direct);
            EXPECT_EQ(EvaluateHolds(c, in, min_events, nullptr), direct);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace zicht::engine
