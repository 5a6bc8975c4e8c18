// Plan: what the engine compiles from the rule set and the municipalities.
#include "zicht/engine/plan.h"

#include <gtest/gtest.h>

#include <set>

#include "test_plan.h"

namespace zicht::engine {
namespace {

using testing::IndicatorOf;
using testing::SpecExamplePlan;

TEST(PlanTest, IndicatorsOnTheSameEventsAndFilterShareOneSeries) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  const IndicatorDef& cash =
      plan->indicators()[static_cast<size_t>(IndicatorOf(*plan, "cash_reports"))];
  const IndicatorDef& amount =
      plan->indicators()[static_cast<size_t>(IndicatorOf(*plan, "reported_amount"))];
  // Different filters and a sum field: different series; each is counted per day.
  EXPECT_NE(cash.series, amount.series);
  const SeriesDef& cash_series = plan->series()[static_cast<size_t>(cash.series)];
  EXPECT_EQ(cash_series.bucket_ms, kMsPerDay);
  EXPECT_FALSE(cash_series.hours);
  EXPECT_EQ(cash.window, 90);
  EXPECT_GE(cash_series.retention, cash.window * cash.windows);
  EXPECT_GE(plan->series()[static_cast<size_t>(amount.series)].sum_field, 0);
  // Every series is indexed under its event type.
  for (size_t s = 0; s < plan->series().size(); ++s) {
    const auto& of_type = plan->series_of_type(plan->series()[s].event_type);
    EXPECT_NE(std::find(of_type.begin(), of_type.end(), static_cast<int>(s)), of_type.end());
  }
}

TEST(PlanTest, ShareIndicatorsCountTheDenominatorAndRulesKnowTheirConditions) {
  PlanPtr plan = SpecExamplePlan();
  ASSERT_NE(plan, nullptr);
  const IndicatorDef& share =
      plan->indicators()[static_cast<size_t>(IndicatorOf(*plan, "company_purchases"))];
  EXPECT_EQ(share.aggregate, rules::Aggregate::kShare);
  const SeriesDef& series = plan->series()[static_cast<size_t>(share.series)];
  EXPECT_TRUE(series.count_all);
  EXPECT_FALSE(series.share_rules.empty());
  // Condition slots are dense over all rules, in rule order.
  int next = 0;
  for (const RuleDef& r : plan->rules()) {
    EXPECT_EQ(r.condition_base, next);
    EXPECT_EQ(r.condition_indicator.size(), r.spec->conditions.size());
    next += static_cast<int>(r.spec->conditions.size());
  }
  EXPECT_EQ(plan->total_conditions(), next);
  // Every (rule, condition) reading an indicator is listed on it.
  for (size_t r = 0; r < plan->rules().size(); ++r) {
    const RuleDef& rd = plan->rules()[r];
    for (size_t c = 0; c < rd.condition_indicator.size(); ++c) {
      const auto& conds =
          plan->indicators()[static_cast<size_t>(rd.condition_indicator[c])].conditions;
      EXPECT_NE(std::find(conds.begin(), conds.end(),
                          std::make_pair(static_cast<int>(r), static_cast<int>(c))),
                conds.end());
    }
  }
}

TEST(PlanTest, SeriesKeysAreStableAcrossBuildsAndDistinct) {
  PlanPtr a = SpecExamplePlan(), b = SpecExamplePlan();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::set<uint64_t> keys;
  ASSERT_EQ(a->series().size(), b->series().size());
  for (size_t s = 0; s < a->series().size(); ++s) {
    EXPECT_EQ(a->series()[s].key, b->series()[s].key) << a->series()[s].description;
    keys.insert(a->series()[s].key);
  }
  EXPECT_EQ(keys.size(), a->series().size());
}

}  // namespace
}  // namespace zicht::engine
