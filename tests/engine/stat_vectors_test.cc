// The measures of SPEC 8.1/8.2 against independent vectors: every scenario of
// tests/engine/data/stat_vectors.json (written by scripts/make_stat_vectors.py
// with mpmath from the SPEC definitions alone) is rebuilt here as a real plan
// over a real municipality table, pooled with PoolNationalFigures and measured
// with ComputeMeasureFor, and must agree to 1e-6 relative.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "zicht/engine/measures.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"
#include "zicht/rules/loader.h"

namespace zicht::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// "nan", "+inf", "-inf" or a number.
double NumberOf(simdjson::dom::element e) {
  std::string_view s;
  if (e.get(s) == simdjson::SUCCESS) {
    if (s == "+inf") return kInf;
    if (s == "-inf") return -kInf;
    return kNaN;
  }
  double d = 0;
  if (e.get(d) == simdjson::SUCCESS) return d;
  int64_t i = 0;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  ADD_FAILURE() << "not a number: " << simdjson::to_string(e);
  return kNaN;
}

int64_t IntOf(simdjson::dom::element e, const char* key) {
  int64_t v = 0;
  EXPECT_EQ(e[key].get(v), simdjson::SUCCESS) << key;
  return v;
}

WindowAgg AggOf(simdjson::dom::element e) {
  WindowAgg a;
  a.n_match = IntOf(e, "n_match");
  a.n_all = IntOf(e, "n_all");
  a.sum = ToFixed(NumberOf(e["sum"]));
  return a;
}

// Agrees with the reference: the same non-finite class, else 1e-6 relative
// (absolute below 1e-300, where the reference writes an underflowed 0).
::testing::AssertionResult Agrees(double reference, double got) {
  if (std::isnan(reference)) {
    if (std::isnan(got)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected nan, got " << got;
  }
  if (std::isinf(reference)) {
    if (got == reference) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected " << reference << ", got " << got;
  }
  if (std::isnan(got) || std::isinf(got)) {
    return ::testing::AssertionFailure() << "expected " << reference << ", got " << got;
  }
  const double diff = std::fabs(got - reference);
  if (diff <= 1e-6 * std::fabs(reference) || diff <= 1e-300) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format("expected {:.17g}, got {:.17g} (rel {:.3g})",
                                                      reference, got, diff / std::fabs(reference));
}

std::string PackText(std::string_view aggregate, std::string_view baseline, double per,
                     int64_t window_days, rules::Measure measure) {
  std::string indicator;
  if (aggregate == "count") {
    indicator = "event: drug_finding\n    aggregate: count";
  } else if (aggregate == "share") {
    indicator = "event: property_sale\n    aggregate: share\n    where: { buyer_type: [company] }";
  } else {
    indicator = fmt::format(
        "event: suspicious_transaction\n    aggregate: {}\n    field: amount_eur", aggregate);
  }
  std::string base = baseline == "peers" ? "{ peers: grp }" : std::string(baseline);
  return fmt::format(R"(apiVersion: zicht/v1
kind: RulePack
metadata: {{ name: vectors }}
indicators:
  - id: x
    {}
    window: {}d
    per: {}
    baseline: {}
rules:
  - id: r
    conditions:
      - {{ indicator: x, measure: {}, op: ">=", value: 0 }}
)",
                     indicator, window_days, per, base, rules::MeasureName(measure));
}

struct Built {
  std::shared_ptr<const rules::RuleSet> rules;
  PlanPtr plan;
};

Built BuildPlan(const std::string& yaml, MunicipalityTablePtr table) {
  rules::PackLoadResult loaded = rules::LoadRulePackText(yaml, "vectors.yaml");
  EXPECT_TRUE(loaded.errors.empty()) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
  if (!loaded.pack) return {};
  std::vector<rules::RulePack> packs;
  packs.push_back(std::move(*loaded.pack));
  rules::RuleSetLoadResult set = rules::BuildRuleSet(std::move(packs));
  EXPECT_TRUE(set.errors.empty());
  auto plan = Plan::Build(set.rule_set, table);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return {set.rule_set, plan.ok() ? *plan : nullptr};
}

class StatVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(parser_.load(ZICHT_SOURCE_DIR "/tests/engine/data/stat_vectors.json").get(doc_),
              simdjson::SUCCESS);
  }
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
};

TEST_F(StatVectors, BaselinesAndMeasuresMatchTheIndependentScript) {
  simdjson::dom::array scenarios;
  ASSERT_EQ(doc_["scenarios"].get(scenarios), simdjson::SUCCESS);
  size_t checked = 0, scenario_count = 0;
  for (simdjson::dom::element sc : scenarios) {
    ++scenario_count;
    std::string_view name, aggregate, baseline;
    ASSERT_EQ(sc["name"].get(name), simdjson::SUCCESS);
    ASSERT_EQ(sc["aggregate"].get(aggregate), simdjson::SUCCESS);
    ASSERT_EQ(sc["baseline"].get(baseline), simdjson::SUCCESS);
    bool underflows = false;
    if (sc["p_underflows"].get(underflows) != simdjson::SUCCESS) underflows = false;
    const double per = NumberOf(sc["per"]);
    SCOPED_TRACE(std::string(name));

    simdjson::dom::array munis;
    ASSERT_EQ(sc["municipalities"].get(munis), simdjson::SUCCESS);
    std::vector<reference::Municipality> rows;
    std::vector<std::vector<std::string>> cells;
    std::vector<WindowAgg> finals, lives;
    for (simdjson::dom::element m : munis) {
      reference::Municipality row;
      row.code = fmt::format("GM{:04d}", rows.size() + 1);
      row.name = row.code;
      row.population = IntOf(m, "population");
      std::string_view group;
      std::string g = m["group"].get(group) == simdjson::SUCCESS ? std::string(group) : "";
      cells.push_back({row.code, row.name, std::to_string(row.population), g});
      rows.push_back(row);
      finals.push_back(AggOf(m["final"]));
      lives.push_back(AggOf(m["live"]));
    }
    auto table = reference::MunicipalityTable::FromRows(
        rows, "vectors.csv", {"code", "name", "population", "grp"}, cells);
    ASSERT_TRUE(table.ok()) << table.status().ToString();

    // A rule reading q_value makes the plan rank p-values (count and share;
    // the validator refuses q_value elsewhere).
    const bool counts = aggregate == "count" || aggregate == "share";
    Built built =
        BuildPlan(PackText(aggregate, baseline, per, 30,
                           counts ? rules::Measure::kQValue : rules::Measure::kNationalRatio),
                  *table);
    ASSERT_NE(built.plan, nullptr);
    const IndicatorDef& ind = built.plan->indicators()[0];
    ASSERT_EQ(ind.uses_q, counts);
    const NationalFigures figs = PoolNationalFigures(ind, **table, finals);

    simdjson::dom::array expected;
    ASSERT_EQ(sc["expected"].get(expected), simdjson::SUCCESS);
    for (simdjson::dom::element e : expected) {
      const int m = static_cast<int>(IntOf(e, "index"));
      SCOPED_TRACE(fmt::format("municipality {}", m));
      MeasureInput in;
      in.indicator = &ind;
      in.municipality = m;
      in.population = rows[static_cast<size_t>(m)].population;
      in.national = &figs;
      const WindowAgg& live = lives[static_cast<size_t>(m)];
      EXPECT_TRUE(Agrees(NumberOf(e["baseline_rate"]), BaselineRate(figs, m))) << "baseline_rate";
      const MeasureResult any = ComputeMeasureFor(rules::Measure::kRate, in, live);
      EXPECT_TRUE(Agrees(NumberOf(e["rate"]), any.rate)) << "rate";
      EXPECT_TRUE(Agrees(NumberOf(e["expected"]), any.expected)) << "expected";
      const std::pair<const char*, rules::Measure> measures[] = {
          {"national_ratio", rules::Measure::kNationalRatio},
          {"national_zscore", rules::Measure::kNationalZscore},
          {"poisson_p", rules::Measure::kPoissonP},
          {"binomial_p", rules::Measure::kBinomialP},
          {"funnel_z", rules::Measure::kFunnelZ},
          {"percentile", rules::Measure::kPercentile},
          {"shrunk_ratio", rules::Measure::kShrunkRatio},
          {"q_value", rules::Measure::kQValue}};
      for (const auto& [key, measure] : measures) {
        double reference = NumberOf(e[key]);
        double got = ComputeMeasureFor(measure, in, live).observed;
        // A p below the smallest double is 0 in the engine, so its funnel
        // position is +inf where the exact one is finite.
        if (underflows && measure == rules::Measure::kFunnelZ && got == kInf) continue;
        EXPECT_TRUE(Agrees(reference, got)) << key;
        ++checked;
      }
    }
  }
  EXPECT_GE(scenario_count, 50u);
  EXPECT_GE(checked, 2000u);
}

TEST_F(StatVectors, YearOverYearMatchesTheIndependentScript) {
  simdjson::dom::array cases;
  ASSERT_EQ(doc_["yoy"].get(cases), simdjson::SUCCESS);
  size_t n = 0;
  for (simdjson::dom::element c : cases) {
    std::string_view name, aggregate;
    ASSERT_EQ(c["name"].get(name), simdjson::SUCCESS);
    ASSERT_EQ(c["aggregate"].get(aggregate), simdjson::SUCCESS);
    SCOPED_TRACE(std::string(name));
    const int64_t window = IntOf(c, "window");
    const int64_t current = IntOf(c, "current_day");
    const int64_t first = IntOf(c, "first_event_day");
    auto table = reference::MunicipalityTable::FromRows(
        {{"GM0001", "Een", "P", 10000, std::nullopt, 2024}}, "one.csv");
    ASSERT_TRUE(table.ok());
    Built built =
        BuildPlan(PackText(aggregate, "national", 1000, window, rules::Measure::kYoyRatio), *table);
    ASSERT_NE(built.plan, nullptr);
    const Plan& plan = *built.plan;
    const IndicatorDef& ind = plan.indicators()[0];
    ASSERT_EQ(ind.yoy_lag, 364);
    WindowStore store(plan, {0});
    simdjson::dom::array buckets;
    ASSERT_EQ(c["buckets"].get(buckets), simdjson::SUCCESS);
    for (simdjson::dom::element b : buckets) {
      simdjson::dom::array row;
      ASSERT_EQ(b.get(row), simdjson::SUCCESS);
      int64_t day = 0, match = 0, all = 0, micro = 0;
      ASSERT_EQ(row.at(0).get(day), simdjson::SUCCESS);
      ASSERT_EQ(row.at(1).get(match), simdjson::SUCCESS);
      ASSERT_EQ(row.at(2).get(all), simdjson::SUCCESS);
      ASSERT_EQ(row.at(3).get(micro), simdjson::SUCCESS);
      const TimeMs t = day * kMsPerDay + kMsPerHour;
      if (!store.has_clock() || store.NeedsAdvance(t)) store.Advance(t);
      for (int64_t i = 0; i < all; ++i) {
        const bool matched = i < match;
        store.Add(ind.series, 0, day, matched, matched && i == 0 ? FixedSum(micro) : FixedSum(0));
      }
    }
    store.Advance(current * kMsPerDay + kMsPerHour);
    MeasureInput in;
    in.indicator = &ind;
    in.store = &store;
    in.local = 0;
    in.municipality = 0;
    in.population = 10000;
    in.first_event_time = first * kMsPerDay;
    EXPECT_TRUE(
        Agrees(NumberOf(c["expected"]), ComputeMeasure(rules::Measure::kYoyRatio, in).observed));
    ++n;
  }
  EXPECT_GE(n, 15u);
}

}  // namespace
}  // namespace zicht::engine
