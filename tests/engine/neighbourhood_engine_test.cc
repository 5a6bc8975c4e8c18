// Neighbourhoods end to end (SPEC 8.3): indicators with `level: neighbourhood`
// give the same alerts byte for byte however six partitions are interleaved
// and after kill -9 and restarts, incremental evaluation equals full
// evaluation, municipality_ratio equals a recount from the raw events, and
// the alerts name the neighbourhood and hash it into their id.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "engine_harness.h"
#include "zicht/base/time.h"
#include "zicht/rules/alert.h"

namespace zicht::engine {
namespace {
using namespace zicht::engine::harness;  // NOLINT(google-build-using-namespace): the test
                                         // vocabulary

const std::string kPack = ZICHT_SOURCE_DIR "/tests/engine/data/neighbourhood_pack.yaml";

class NeighbourhoodEngineTest : public EngineTest {
 public:
  using EngineTest::Dir;
  static void SetUpTestSuite() {
    buurt_lines_ = new std::vector<std::string>(
        GenerateLines(150, 5, /*clean=*/true, /*neighbourhoods=*/true, /*scale=*/0.5));
  }
  static void TearDownTestSuite() {
    delete buurt_lines_;
    buurt_lines_ = nullptr;
  }
  static std::vector<std::string>* buurt_lines_;
};
std::vector<std::string>* NeighbourhoodEngineTest::buurt_lines_ = nullptr;

std::map<std::string, int> AlertsByRule(const std::vector<Alert>& alerts) {
  std::map<std::string, int> out;
  for (const Alert& a : alerts) ++out[a.rule];
  return out;
}

TEST_F(NeighbourhoodEngineTest, AlertsDoNotDependOnLayoutOrCrashes) {
  PlanPtr plan = LoadPlan({kPack}, /*neighbourhoods=*/true);
  ASSERT_NE(plan, nullptr);
  RunResult reference;
  ExpectLayoutIndependent(*this, plan, *buurt_lines_, &reference);
  // Not vacuous: every rule fired, neighbourhood and municipal ones alike.
  const auto by_rule = AlertsByRule(reference.alerts);
  for (const char* rule :
       {"buurt-cash-hotspot", "buurt-cash-fdr", "buurt-company-share", "municipal-cash"}) {
    EXPECT_GT(by_rule.count(rule) ? by_rule.at(rule) : 0, 2) << rule;
  }
}

TEST_F(NeighbourhoodEngineTest, IncrementalEvaluationEqualsFullEvaluation) {
  PlanPtr plan = LoadPlan({kPack}, /*neighbourhoods=*/true);
  Runner fast(plan, Dir("incremental"));
  fast.Run(*buurt_lines_, buurt_lines_->size(), false);
  Runner full(plan, Dir("full"));
  full.options_.incremental_evaluation = false;
  full.Run(*buurt_lines_, buurt_lines_->size(), false);
  RunResult a = fast.Result(), b = full.Result();
  ASSERT_GT(b.alerts.size(), 50u);
  EXPECT_EQ(Diff(ById(a.alerts), ById(b.alerts)), "");
  EXPECT_LT(a.stats.evaluations, b.stats.evaluations);
}

// Recounts each buurt-cash-hotspot alert's municipality_ratio from the raw
// events: cash reports in the 30 UTC days ending with the alert's day, in the
// buurt and in its whole municipality, each per inhabitant.
TEST_F(NeighbourhoodEngineTest, MunicipalityRatioEqualsARecountFromTheEvents) {
  PlanPtr plan = LoadPlan({kPack}, /*neighbourhoods=*/true);
  Runner run(plan, Dir("recount"));
  run.Run(*buurt_lines_, buurt_lines_->size(), false);
  const RunResult result = run.Result();
  struct Cash {
    int64_t day;
    std::string municipality, buurt;
    size_t line;  // index of the accepted line
  };
  std::vector<Cash> cash;
  simdjson::dom::parser parser;
  TimeMs clock = kMinTime;  // one partition: events older than T - 1d are too_late
  std::map<TimeMs, std::pair<size_t, size_t>> lines_at;  // T -> lines after which it held
  for (size_t i = 0; i < buurt_lines_->size(); ++i) {
    const std::string& line = (*buurt_lines_)[i];
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;
    std::string_view type, channel, time, muni, buurt;
    ASSERT_EQ(doc["time"].get(time), simdjson::SUCCESS);
    auto t = ParseRfc3339(time);
    ASSERT_TRUE(t.has_value());
    if (clock != kMinTime && *t < clock - kMsPerDay) continue;
    clock = std::max(clock, *t);
    auto [at, fresh] = lines_at.emplace(clock, std::pair{i, i});
    at->second.second = i;
    if (doc["type"].get(type) != simdjson::SUCCESS || type != "suspicious_transaction") continue;
    if (doc["channel"].get(channel) != simdjson::SUCCESS || channel != "cash") continue;
    ASSERT_EQ(doc["municipality"].get(muni), simdjson::SUCCESS);
    if (doc["neighbourhood"].get(buurt) != simdjson::SUCCESS) buurt = "";
    cash.push_back(Cash{FloorDiv(*t, kMsPerDay), std::string(muni), std::string(buurt), i});
  }
  const MunicipalityTable& munis = plan->municipalities();
  const NeighbourhoodTable& buurten = *plan->neighbourhoods();
  int checked = 0;
  for (const Alert& a : result.alerts) {
    if (a.rule != "buurt-cash-hotspot") continue;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(a.json).get(doc), simdjson::SUCCESS);
    std::string_view buurt, muni, event_time;
    ASSERT_EQ(doc["neighbourhood"].get(buurt), simdjson::SUCCESS) << a.json;
    ASSERT_EQ(doc["municipality"].get(muni), simdjson::SUCCESS);
    ASSERT_EQ(doc["event_time"].get(event_time), simdjson::SUCCESS);
    const auto t = ParseRfc3339(event_time);
    ASSERT_TRUE(t.has_value());
    // SPEC 8.3: the id hashes municipality/neighbourhood.
    EXPECT_EQ(a.id, rules::AlertId("buurt-cash-hotspot", std::string(doc["rule_version"]),
                                   std::string(muni) + "/" + std::string(buurt), *t));
    const int64_t day = FloorDiv(*t, kMsPerDay);
    const auto& nb = buurten.at(static_cast<size_t>(buurten.IndexOf(buurt)));
    const Municipality& m = munis.at(static_cast<size_t>(nb.municipality));
    EXPECT_EQ(m.code, muni);
    simdjson::dom::array conditions;
    ASSERT_EQ(doc["conditions"].get(conditions), simdjson::SUCCESS);
    double observed = 0;
    int64_t count = 0;
    ASSERT_EQ(conditions.at(0)["observed"].get(observed), simdjson::SUCCESS);
    ASSERT_EQ(conditions.at(0)["count"].get(count), simdjson::SUCCESS);
    // The rule was evaluated after one of the lines that left the clock at
    // T (later events of the same day are not in its windows yet).
    ASSERT_TRUE(lines_at.count(*t)) << a.json;
    const auto [first, last] = lines_at.at(*t);
    bool matched = false;
    for (size_t upto = first; upto <= last && !matched; ++upto) {
      int64_t in_buurt = 0, in_muni = 0;
      for (const Cash& c : cash) {
        if (c.line > upto || c.day > day || c.day <= day - 30 || c.municipality != muni) continue;
        ++in_muni;
        if (c.buurt == buurt) ++in_buurt;
      }
      const double expected = (static_cast<double>(in_buurt) / static_cast<double>(nb.population)) /
                              (static_cast<double>(in_muni) / static_cast<double>(m.population));
      matched = count == in_buurt && std::fabs(observed - expected) <= 1e-9 * expected;
    }
    EXPECT_TRUE(matched) << a.json;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace zicht::engine
