// NationalBaseline: national figures pooled over every partition's final
// windows, complete only once every active partition published.
#include "zicht/engine/national_baseline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_plan.h"

namespace zicht::engine {
namespace {

using testing::Count;
using testing::IndicatorOf;
using testing::SpecExamplePlan;

constexpr TimeMs kDay0 = 20000 * kMsPerDay;  // some UTC midnight

// Cash reports per municipality on day 0 (municipality index -> count).
const int kCounts[4] = {3, 0, 9, 12};

// The windows of `munis` with the counts above, closed through day 0.
std::unique_ptr<WindowStore> Windows(const Plan& plan, std::vector<int> munis) {
  auto ws = std::make_unique<WindowStore>(plan, munis);
  const int cash = IndicatorOf(plan, "cash_reports");
  for (int m : munis) Count(plan, *ws, cash, m, kDay0 + kMsPerHour, kCounts[m]);
  ws->Advance(kDay0 + 2 * kMsPerDay + kMsPerHour);  // day 0 final (1d lateness)
  return ws;
}

TEST(NationalBaselineTest, FiguresExistOnlyOnceEveryActivePartitionPublished) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  auto p0 = Windows(*plan, {0, 2}), p1 = Windows(*plan, {1, 3});
  const int64_t f = p0->final_bucket(false);
  ASSERT_EQ(f, FloorDiv(kDay0, kMsPerDay));
  NationalBaseline national(*plan, {0, 1});
  EXPECT_FALSE(national.CompleteUpTo(false).has_value());
  national.Publish(0, false, f, *p0);
  EXPECT_FALSE(national.Complete(false, f));
  EXPECT_EQ(national.NewestPublished(false), f);
  EXPECT_EQ(national.LatestFigures(IndicatorOf(*plan, "cash_reports")), nullptr);
  national.Publish(1, false, f, *p1);
  EXPECT_TRUE(national.Complete(false, f));
  EXPECT_EQ(national.CompleteUpTo(false), f);
  EXPECT_FALSE(national.Complete(false, f + 1));
}

TEST(NationalBaselineTest, PooledFiguresAreTheSumOverMunicipalities) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  auto p0 = Windows(*plan, {0, 2}), p1 = Windows(*plan, {1, 3});
  const int64_t f = p0->final_bucket(false);
  NationalBaseline national(*plan, {0, 1});
  national.Publish(0, false, f, *p0);
  national.Publish(1, false, f, *p1);
  const int cash = IndicatorOf(*plan, "cash_reports");
  auto figures = national.Figures(cash, f);
  ASSERT_NE(figures, nullptr);
  EXPECT_EQ(figures->total_match, 24);
  // 24 reports over 100,000 inhabitants, per 1000.
  EXPECT_TRUE(figures->valid);
  EXPECT_DOUBLE_EQ(figures->rate, 24.0 / 100000.0 * 1000.0);
  EXPECT_DOUBLE_EQ(figures->rate_of[0], 3.0 / 10000.0 * 1000.0);
  EXPECT_DOUBLE_EQ(figures->rate_of[1], 0.0);
  EXPECT_EQ(figures->agg_of[3].n_match, 12);
  ASSERT_EQ(figures->sorted_rates.size(), 4u);
  EXPECT_TRUE(std::is_sorted(figures->sorted_rates.begin(), figures->sorted_rates.end()));
  // Cached: the same figures object for the same bucket.
  EXPECT_EQ(national.Figures(cash, f), figures);
  EXPECT_EQ(national.LatestFigures(cash), figures);
}

TEST(NationalBaselineTest, FiguresDoNotDependOnHowMunicipalitiesAreSpreadOverPartitions) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  const int cash = IndicatorOf(*plan, "cash_reports");
  auto all = Windows(*plan, {0, 1, 2, 3});
  NationalBaseline one(*plan, {0});
  one.Publish(0, false, all->final_bucket(false), *all);
  auto a = Windows(*plan, {3}), b = Windows(*plan, {0, 1}), c = Windows(*plan, {2});
  NationalBaseline three(*plan, {0, 1, 2});
  // Published in another order than the municipalities' order.
  three.Publish(2, false, c->final_bucket(false), *c);
  three.Publish(0, false, a->final_bucket(false), *a);
  three.Publish(1, false, b->final_bucket(false), *b);
  auto x = one.Figures(cash, all->final_bucket(false)),
       y = three.Figures(cash, a->final_bucket(false));
  ASSERT_NE(x, nullptr);
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(x->rate, y->rate);  // bit for bit, not nearly
  EXPECT_EQ(x->sorted_rates, y->sorted_rates);
  EXPECT_EQ(x->total_match, y->total_match);
}

TEST(NationalBaselineTest, ARemoteSnapshotCountsLikeALocalPublication) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  const int cash = IndicatorOf(*plan, "cash_reports");
  auto p0 = Windows(*plan, {0, 2}), p1 = Windows(*plan, {1, 3});
  const int64_t f = p0->final_bucket(false);
  NationalBaseline local(*plan, {0, 1});
  local.Publish(0, false, f, *p0);
  local.Publish(1, false, f, *p1);
  NationalBaseline remote(*plan, {0, 1});
  remote.Publish(0, false, f, *p0);
  NationalBaseline::RemoteSnapshot snap;
  snap.final_bucket = f;
  for (const IndicatorDef& ind : plan->indicators()) {
    if (ind.series < 0 || p1->series_hours(ind.series)) continue;
    std::vector<std::pair<int, WindowAgg>> values;
    for (size_t l = 0; l < p1->municipalities().size(); ++l) {
      values.emplace_back(p1->municipalities()[l], p1->Final(ind.index, static_cast<int>(l)));
    }
    snap.values.emplace_back(ind.index, std::move(values));
  }
  remote.PublishSnapshot(1, false, std::move(snap));
  ASSERT_TRUE(remote.Complete(false, f));
  EXPECT_EQ(remote.Figures(cash, f)->rate, local.Figures(cash, f)->rate);
  EXPECT_EQ(remote.LatestOf(1, false), f);
}

TEST(NationalBaselineTest, MunicipalityRateFollowsTheAggregate) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  WindowAgg agg;
  agg.n_match = 5;
  agg.n_all = 20;
  agg.sum = ToFixed(250.0);
  const auto& ind = [&](const char* id) -> const IndicatorDef& {
    return plan->indicators()[static_cast<size_t>(IndicatorOf(*plan, id))];
  };
  EXPECT_DOUBLE_EQ(MunicipalityRate(ind("cash_reports"), agg, 10000),
                   0.5);  // 5 per 10,000 -> per 1000
  EXPECT_DOUBLE_EQ(MunicipalityRate(ind("company_purchases"), agg, 10000), 0.25);  // 5 of 20
  EXPECT_DOUBLE_EQ(MunicipalityRate(ind("reported_amount"), agg, 10000), 250.0);   // per 10,000
  EXPECT_TRUE(std::isnan(MunicipalityRate(ind("cash_reports"), agg, 0)));
  WindowAgg none;
  EXPECT_TRUE(std::isnan(MunicipalityRate(ind("company_purchases"), none, 10000)));
}

}  // namespace
}  // namespace zicht::engine
