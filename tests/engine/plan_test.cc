// Plan: what the engine compiles from the rule set and the municipalities.
#include "zicht/engine/plan.h"

#include <gtest/gtest.h>

#include <set>

#include "test_plan.h"
#include "zicht/rules/loader.h"

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

const char kPeersPack[] =
    "apiVersion: zicht/v1\n"
    "kind: RulePack\n"
    "metadata: { name: peers }\n"
    "indicators:\n"
    "  - id: sites\n"
    "    event: drug_finding\n"
    "    aggregate: count\n"
    "    window: 30d\n"
    "    baseline: { peers: urbanisation }\n"
    "rules:\n"
    "  - id: r\n"
    "    conditions:\n"
    "      - { indicator: sites, measure: yoy_ratio, op: \">=\", value: 2 }\n";

Result<PlanPtr> PeersPlan(std::vector<std::string> columns,
                          std::vector<std::vector<std::string>> cells) {
  std::vector<reference::Municipality> rows;
  for (size_t i = 0; i < cells.size(); ++i) {
    rows.push_back({cells[i][0], cells[i][0], "P", 1000, std::nullopt, 2024});
  }
  auto table = reference::MunicipalityTable::FromRows(rows, "munis.csv", std::move(columns),
                                                      std::move(cells));
  EXPECT_TRUE(table.ok());
  rules::PackLoadResult pack = rules::LoadRulePackText(kPeersPack, "peers.yaml");
  EXPECT_TRUE(pack.errors.empty());
  std::vector<rules::RulePack> packs;
  packs.push_back(std::move(*pack.pack));
  auto set = rules::BuildRuleSet(std::move(packs));
  return Plan::Build(set.rule_set, *table);
}

TEST(PlanTest, PeersGroupTheValuesOfAColumnAndYoyKeepsAYearOfHistory) {
  auto plan = PeersPlan({"code", "population", "urbanisation"}, {{"GM0001", "1000", "1"},
                                                                 {"GM0002", "1000", " 2 "},
                                                                 {"GM0003", "1000", ""},
                                                                 {"GM0004", "1000", "1"}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const IndicatorDef& ind = (*plan)->indicators()[0];
  EXPECT_EQ(ind.baseline, rules::BaselineKind::kPeers);
  EXPECT_EQ(ind.peer_group, (std::vector<int>{0, 1, -1, 0}));
  EXPECT_EQ(ind.yoy_lag, 364);
  EXPECT_GE((*plan)->series()[static_cast<size_t>(ind.series)].retention, 364 + 30);
}

TEST(PlanTest, APeersColumnTheTableLacksIsAnErrorAtTheBaseline) {
  auto plan = PeersPlan({"code", "population"}, {{"GM0001", "1000"}});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "peers.yaml:9:24: indicator 'sites': the municipalities file munis.csv has no column "
            "'urbanisation' (columns: code, population)");
}

constexpr char kBuurtPack[] = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: buurt }
indicators:
  - id: cash
    event: suspicious_transaction
    aggregate: count
    window: 30d
    level: neighbourhood
    baseline: { peers: urbanisation }
rules:
  - id: r
    conditions:
      - { indicator: cash, measure: municipality_ratio, op: ">=", value: 2 }
)";

Result<PlanPtr> BuurtPlan(bool with_table) {
  std::vector<reference::Municipality> rows = {{"GM0001", "A", "P", 1000, std::nullopt, 2024},
                                               {"GM0002", "B", "P", 1000, std::nullopt, 2024}};
  auto table = reference::MunicipalityTable::FromRows(
      rows, "munis.csv", {"code", "population", "urbanisation"},
      {{"GM0001", "1000", "1"}, {"GM0002", "1000", "2"}});
  EXPECT_TRUE(table.ok());
  rules::LoadOptions load;
  load.municipality_columns = (*table)->columns();
  rules::PackLoadResult pack = rules::LoadRulePackText(kBuurtPack, "buurt.yaml", load);
  EXPECT_TRUE(pack.errors.empty()) << pack.errors[0].ToString();
  std::vector<rules::RulePack> packs;
  packs.push_back(std::move(*pack.pack));
  auto set = rules::BuildRuleSet(std::move(packs));
  PlanOptions options;
  if (with_table) {
    options.neighbourhoods = *reference::NeighbourhoodTable::FromRows(
        {{"BU00010000", "a1", 0, 600}, {"BU00010001", "a2", 0, 400}, {"BU00020000", "b1", 1, 1000}},
        2);
  }
  return Plan::Build(set.rule_set, *table, options);
}

TEST(PlanTest, NeighbourhoodIndicatorsKeepTheirOwnSeriesAndPeersByMunicipality) {
  auto plan = BuurtPlan(true);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const IndicatorDef& ind = (*plan)->indicators()[0];
  EXPECT_TRUE(ind.neighbourhood);
  EXPECT_TRUE((*plan)->series()[static_cast<size_t>(ind.series)].neighbourhood);
  EXPECT_TRUE((*plan)->rules()[0].neighbourhood);
  EXPECT_TRUE((*plan)->rules()[0].reads_parent);
  EXPECT_TRUE((*plan)->uses_neighbourhoods());
  // A buurt's peers group is its municipality's.
  EXPECT_EQ(ind.peer_group, (std::vector<int>{0, 0, 1}));
  EXPECT_EQ((*plan)->populations(true), (std::vector<int64_t>{600, 400, 1000}));
}

TEST(PlanTest, ANeighbourhoodIndicatorWithoutATableIsAnErrorAtItsLevel) {
  auto plan = BuurtPlan(false);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            "buurt.yaml:9:12: indicator 'cash' has level: neighbourhood, but no neighbourhood "
            "table is loaded (reference.neighbourhoods in the engine config, --neighbourhoods on "
            "the command line)");
}

}  // namespace
}  // namespace zicht::engine
