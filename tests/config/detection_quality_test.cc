// Detection quality of the shipped ondermijning pack on the synthetic feed of
// `zicht generate`: a year of events with planted anomalies goes through a
// real engine; the alerts are scored against the planted truth.
//
// Scoring (docs/packs/ondermijning.md, "Detection quality"):
//  - Each anomaly kind is targeted by the rules in kTargets below.
//  - An anomaly is detected when an alert of a targeting rule fires for its
//    municipality between its first day and its last day + 30 days.
//  - An alert is explained by an anomaly when the rule targets the kind, the
//    municipality is the same and the alert falls between the first day and
//    the last day + the rule's longest window (the window still counts the
//    anomaly's events). Explained alerts count once per rule × municipality
//    × anomaly; unexplained alerts of a rule × municipality that follow each
//    other within cooldown + 30 days are one false episode.
//  - precision = explained ÷ (explained + false episodes).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <sstream>

#include "zicht/base/file.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/state_store.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"
#include "zicht/tools/generator.h"

namespace zicht::tools {
namespace {
using engine::Engine;
using engine::EngineOptions;
using engine::IndicatorDef;
using engine::RuleDef;
using runtime::LoadPlan;
using runtime::OpenRocksDbStateStore;
using runtime::PlanSources;

const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
const std::string kPack = ZICHT_SOURCE_DIR "/config/rules/ondermijning.yaml";
constexpr int kDays = 365;
constexpr int kDetectionGraceDays = 30;
constexpr int kEpisodeGapDays = 30;  // beyond the rule's cooldown

const std::map<AnomalyKind, std::set<std::string>>& Targets() {
  static const std::map<AnomalyKind, std::set<std::string>> targets = {
      {AnomalyKind::kCashSurge,
       {"cash-surge", "cash-big-city", "ondermijning-typology", "youth-risk-typology"}},
      {AnomalyKind::kCompanyProperty, {"company-purchases", "ondermijning-typology"}},
      {AnomalyKind::kQuickResale, {"quick-cash-resale"}},
      {AnomalyKind::kDrugProduction,
       {"drug-production", "synthetic-labs", "drug-sites-fdr", "ondermijning-typology",
        "youth-risk-typology"}},
      {AnomalyKind::kVulnerableSector, {"vulnerable-sector", "ondermijning-typology"}},
      {AnomalyKind::kCombined,
       {"property-and-drugs", "company-purchases", "drug-production", "synthetic-labs",
        "drug-sites-fdr", "ondermijning-typology", "youth-risk-typology"}},
  };
  return targets;
}

struct FeedAlert {
  std::string rule, municipality;
  int day = 0;  // day of the feed of its event_time
};

struct Truth {
  AnomalyKind kind;
  std::string municipality;
  int first_day, last_day;
};

struct Score {
  int anomalies = 0, detected = 0, explained = 0, false_episodes = 0, alerts = 0;
  std::vector<std::string> missed, false_alerts;
  double recall() const { return anomalies == 0 ? 1 : static_cast<double>(detected) / anomalies; }
  double precision() const {
    return explained + false_episodes == 0
               ? 1
               : static_cast<double>(explained) / (explained + false_episodes);
  }
};

// Runs the feed of `seed` through an engine with the shipped pack and scores it.
Score RunSeed(uint64_t seed) {
  Score score;
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  EXPECT_TRUE(munis.ok());
  GeneratorOptions options;
  options.days = kDays;
  options.seed = seed;
  std::ostringstream feed_stream;
  auto stats = GenerateFeed(options, (*munis)->rows(), feed_stream, nullptr);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  const std::string feed = std::move(feed_stream).str();
  const TimeMs start = *ParseRfc3339(options.start_date + "T00:00:00Z");

  PlanSources setup;
  setup.rule_files = {kPack};
  setup.municipalities_path = kMunicipalities;
  auto plan = LoadPlan(setup);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  auto dir = TemporaryDirectory::Make("zicht-detection-");
  EXPECT_TRUE(dir.ok());
  auto store = OpenRocksDbStateStore(dir->path());
  EXPECT_TRUE(store.ok());
  connectors::MemorySink alerts, dead_letters;
  EngineOptions engine_options;
  const FakeClock clock(0);
  engine_options.clock = &clock;
  Engine engine(*plan, store->get(), &alerts, &dead_letters, engine_options);
  EXPECT_TRUE(engine.Open().ok());
  int64_t line = 0;
  for (size_t at = 0; at < feed.size();) {
    size_t end = feed.find('\n', at);
    if (end == std::string::npos) end = feed.size();
    connectors::SourceRecord record;
    record.payload = std::string_view(feed).substr(at, end - at);
    record.offset = line;
    record.next_offset = ++line;
    record.line = line;
    at = end + 1;
    if (record.payload.empty()) continue;
    Status s = engine.Process(record, "feed", /*route_by_municipality=*/true);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (line % 200000 == 0) {
      EXPECT_TRUE(engine.Commit().ok());
    }
  }
  EXPECT_TRUE(engine.Drain().ok());
  EXPECT_TRUE(engine.Commit().ok());

  // Longest window (days) and cooldown of each rule.
  std::map<std::string, int> window_days, cooldown_days;
  for (const RuleDef& r : (*plan)->rules()) {
    int longest = 0;
    for (int i : r.condition_indicator) {
      const IndicatorDef& ind = (*plan)->indicators()[static_cast<size_t>(i)];
      if (ind.series >= 0)
        longest = std::max(longest, static_cast<int>(ind.spec->window.ms() / kMsPerDay));
    }
    window_days[r.spec->id] = longest;
    cooldown_days[r.spec->id] = static_cast<int>(r.spec->cooldown_ms / kMsPerDay);
  }

  std::vector<Truth> truth;
  for (const PlannedAnomaly& a : stats->anomalies) {
    truth.push_back({a.kind, (*munis)->rows()[a.municipality].code, a.first_day, a.last_day});
  }
  std::vector<FeedAlert> got;
  simdjson::dom::parser parser;
  for (const connectors::OutRecord& record : alerts.records) {
    const std::string& json = record.value;
    simdjson::dom::element doc = parser.parse(json).value();
    FeedAlert a;
    a.rule = std::string(doc["rule"].get_string().value());
    a.municipality = std::string(doc["municipality"].get_string().value());
    a.day = static_cast<int>((*ParseRfc3339(doc["event_time"].get_string().value()) - start) /
                             kMsPerDay);
    got.push_back(std::move(a));
  }
  score.alerts = static_cast<int>(got.size());
  score.anomalies = static_cast<int>(truth.size());

  std::vector<bool> detected(truth.size(), false);
  std::set<std::tuple<std::string, std::string, size_t>> explained;
  std::map<std::pair<std::string, std::string>, int> last_false_day;
  for (const FeedAlert& a : got) {
    bool is_explained = false;
    for (size_t t = 0; t < truth.size(); ++t) {
      const Truth& x = truth[t];
      if (x.municipality != a.municipality || !Targets().at(x.kind).count(a.rule)) continue;
      if (a.day >= x.first_day && a.day <= x.last_day + kDetectionGraceDays) detected[t] = true;
      if (a.day >= x.first_day && a.day <= x.last_day + window_days[a.rule]) {
        explained.insert({a.rule, a.municipality, t});
        is_explained = true;
      }
    }
    if (is_explained) continue;
    auto key = std::make_pair(a.rule, a.municipality);
    auto it = last_false_day.find(key);
    if (it == last_false_day.end() ||
        a.day - it->second > cooldown_days[a.rule] + kEpisodeGapDays) {
      ++score.false_episodes;
      score.false_alerts.push_back(fmt::format("{} {} day {}", a.rule, a.municipality, a.day));
    }
    last_false_day[key] = a.day;
  }
  for (size_t t = 0; t < truth.size(); ++t) {
    if (detected[t]) {
      ++score.detected;
    } else {
      score.missed.push_back(fmt::format("{} {} days {}..{}", AnomalyKindName(truth[t].kind),
                                         truth[t].municipality, truth[t].first_day,
                                         truth[t].last_day));
    }
  }
  score.explained = static_cast<int>(explained.size());
  return score;
}

class DetectionQuality : public ::testing::TestWithParam<uint64_t> {};

TEST_P(DetectionQuality, OndermijningPackFindsThePlantedAnomalies) {
  const Score s = RunSeed(GetParam());
  fmt::print(
      "seed {}: {} anomalies, {} detected, recall {:.3f}; {} alerts, {} explained, {} false "
      "episodes, "
      "precision {:.3f}\n",
      GetParam(), s.anomalies, s.detected, s.recall(), s.alerts, s.explained, s.false_episodes,
      s.precision());
  for (const std::string& m : s.missed) fmt::print("  missed: {}\n", m);
  for (const std::string& f : s.false_alerts) fmt::print("  false: {}\n", f);
  RecordProperty("recall", fmt::format("{:.3f}", s.recall()));
  RecordProperty("precision", fmt::format("{:.3f}", s.precision()));
  EXPECT_GE(s.anomalies, 10);
  EXPECT_GE(s.recall(), 0.95);
  EXPECT_GE(s.precision(), 0.9);
}

// Seeds the thresholds were not tuned on (tuning used seeds 1..40).
INSTANTIATE_TEST_SUITE_P(Seeds, DetectionQuality, ::testing::Values(101, 202, 303));

}  // namespace
}  // namespace zicht::tools
