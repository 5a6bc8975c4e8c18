// The measures of SPEC 8.1/8.2 end to end: baselines, binomial_p, funnel_z,
// shrunk_ratio, q_value and yoy_ratio give the same alerts, with the same
// explanations byte for byte, however six partitions are interleaved (as
// Kafka could deliver them), and after kill -9 and restarts. (Incremental
// against full evaluation: EngineTest.IncrementalEvaluationEqualsFullEvaluation.)
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>

#include "engine_harness.h"

namespace zicht::engine {
namespace {
using namespace zicht::engine::harness;  // NOLINT(google-build-using-namespace): the test
                                         // vocabulary

const std::string kStatisticsPack = ZICHT_SOURCE_DIR "/tests/engine/data/statistics_pack.yaml";
const std::string kYoyPack = ZICHT_SOURCE_DIR "/tests/engine/data/yoy_pack.yaml";

// Measures of the conditions that held in some alert.
std::set<std::string> HeldMeasures(const std::vector<Alert>& alerts) {
  std::set<std::string> out;
  simdjson::dom::parser parser;
  for (const Alert& a : alerts) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(a.json).get(doc), simdjson::SUCCESS);
    simdjson::dom::array conditions;
    EXPECT_EQ(doc["conditions"].get(conditions), simdjson::SUCCESS);
    for (simdjson::dom::element c : conditions) {
      bool held = false;
      std::string_view measure, baseline;
      if (c["held"].get(held) != simdjson::SUCCESS || !held) continue;
      EXPECT_EQ(c["measure"].get(measure), simdjson::SUCCESS);
      EXPECT_EQ(c["baseline"].get(baseline), simdjson::SUCCESS);
      out.insert(std::string(measure) + "@" + std::string(baseline));
    }
  }
  return out;
}

// Dir() for the helper below.
class StatisticsEngineTest : public EngineTest {
 public:
  using EngineTest::Dir;
};

TEST_F(StatisticsEngineTest, BaselinesAndNewMeasuresDoNotDependOnLayoutOrCrashes) {
  std::vector<std::string> lines = GenerateLines(200, 5, /*clean=*/true);
  PlanPtr plan = LoadPlan({kStatisticsPack});
  RunResult reference;
  ExpectLayoutIndependent(*this, plan, lines, &reference);
  ASSERT_GT(reference.alerts.size(), 100u);
  // Not a vacuous comparison: every new measure and baseline held somewhere.
  const std::set<std::string> held = HeldMeasures(reference.alerts);
  for (const char* m :
       {"q_value@leave_one_out", "funnel_z@leave_one_out", "shrunk_ratio@peers:province",
        "binomial_p@leave_one_out", "funnel_z@peers:province", "shrunk_ratio@national",
        "national_ratio@leave_one_out"}) {
    EXPECT_TRUE(held.count(m)) << m;
  }
}

TEST_F(StatisticsEngineTest, YearOverYearDoesNotDependOnLayoutOrCrashes) {
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  ASSERT_TRUE(munis.ok());
  GeneratorOptions options;
  options.days = 400;
  options.seed = 3;
  options.scale = 0.3;
  options.clean = true;
  std::stringstream out;
  ASSERT_TRUE(GenerateFeed(options, (*munis)->rows(), out, nullptr).ok());
  std::vector<std::string> lines;
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  PlanPtr plan = LoadPlan({kYoyPack});
  RunResult reference;
  ExpectLayoutIndependent(*this, plan, lines, &reference);
  ASSERT_GT(reference.alerts.size(), 50u);
  // No alert before the year-earlier window lies after the first event
  // (2026-01-01 + 364 days for the 1-day window, the shortest).
  for (const Alert& a : reference.alerts) EXPECT_GE(a.event_time, "2026-12-31") << a.json;
  const std::set<std::string> held = HeldMeasures(reference.alerts);
  EXPECT_TRUE(held.count("yoy_ratio@national"));
}

}  // namespace
}  // namespace zicht::engine
