// End-to-end engine tests on a real RocksDB state directory: restarts and
// crashes give exactly the results of an uninterrupted run, partitioned runs
// do not depend on how partitions are interleaved, and SPEC semantics hold.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine_harness.h"

namespace zicht::engine {
namespace {
using namespace zicht::engine::harness;  // NOLINT(google-build-using-namespace): the test
                                         // vocabulary

TEST_F(EngineTest, SpecExampleFindsTheCombinedAnomaliesOnly) {
  PlanPtr plan = LoadPlan({kSpecPack});
  Runner run(plan, Dir("spec"));
  run.Run(*lines_, lines_->size(), false);
  RunResult r = run.Result();
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  GeneratorOptions options;
  options.days = 240;
  options.seed = 11;
  std::set<std::string> combined;
  for (const PlannedAnomaly& a : PlanAnomalies(options, (*munis)->rows())) {
    if (a.kind == AnomalyKind::kCombined) combined.insert((*munis)->rows()[a.municipality].code);
  }
  ASSERT_FALSE(combined.empty());
  std::set<std::string> flagged;
  for (const Alert& a : r.alerts) {
    if (a.rule == "property-and-drugs") flagged.insert(a.municipality);
  }
  EXPECT_EQ(flagged, combined);
  // Every kind of bad line was dead-lettered, none silently dropped.
  EXPECT_EQ(r.stats.records, static_cast<int64_t>(lines_->size()));
  EXPECT_EQ(r.stats.accepted + r.stats.dead_letters, r.stats.records);
  std::set<std::string> reasons(r.dead_reasons.begin(), r.dead_reasons.end());
  for (const char* reason : {"parse_error", "missing_field", "bad_type", "unknown_municipality",
                             "too_late", "duplicate"}) {
    EXPECT_TRUE(reasons.count(reason)) << reason;
  }
}

TEST_F(EngineTest, RestartContinuesExactlyWhereItWas) {
  PlanPtr plan = LoadPlan({kSpecPack});
  Runner whole(plan, Dir("whole"));
  whole.Run(*lines_, lines_->size(), false);
  RunResult expected = whole.Result();
  ASSERT_GT(expected.alerts.size(), 10u);

  // Same input, stopped cleanly three times and reopened.
  std::string dir = Dir("split");
  Runner split(plan, dir);
  const size_t n = lines_->size();
  for (size_t stop : {n / 5, n / 2, 4 * n / 5, n}) split.Run(*lines_, stop, false);
  RunResult got = split.Result();
  EXPECT_EQ(Diff(ById(got.alerts), ById(expected.alerts)), "");
  EXPECT_EQ(got.dead_reasons, expected.dead_reasons);
}

// One partition, and six partitions held back by the national barrier (a
// crash may then leave the store's clock ahead of the partition's).
class EngineCrashTest : public EngineTest, public ::testing::WithParamInterface<int> {};

TEST_P(EngineCrashTest, CrashesLoseNothingAndCountNothingTwice) {
  PlanPtr plan = LoadPlan({kSpecPack});
  const int partitions = GetParam();
  const std::string whole_dir = Dir("whole");
  Runner whole(plan, whole_dir, partitions);
  whole.Run(*lines_, lines_->size(), false);
  RunResult expected = whole.Result();

  // "kill -9" at 10 random points: no final commit, the next run resumes from
  // the last committed position. Alerts are delivered at least once, so the
  // set of ids (not the list) must match; counts are checked exactly below.
  std::string dir = Dir("crash");
  Runner crashy(plan, dir, partitions);
  std::mt19937_64 rng(42);
  std::vector<size_t> stops;
  for (int i = 0; i < 10; ++i) stops.push_back(rng() % lines_->size());
  std::sort(stops.begin(), stops.end());
  for (size_t stop : stops) crashy.Run(*lines_, stop, /*crash=*/true);
  crashy.Run(*lines_, lines_->size(), false);
  RunResult got = crashy.Result();
  EXPECT_EQ(Diff(ById(got.alerts), ById(expected.alerts)), "");
  EXPECT_GE(got.alerts.size(), expected.alerts.size());
  std::set<std::string> got_dead(got.dead_reasons.begin(), got.dead_reasons.end());
  EXPECT_EQ(got_dead,
            std::set<std::string>(expected.dead_reasons.begin(), expected.dead_reasons.end()));

  // Aggregates after the crashes equal the uninterrupted run's: reopen both
  // state directories and compare every committed bucket row.
  auto a = OpenRocksDbStateStore(dir);
  auto b = OpenRocksDbStateStore(whole_dir);
  ASSERT_TRUE(a.ok() && b.ok());
  std::map<std::string, std::string> rows_a, rows_b;
  ASSERT_TRUE((*a)->Scan(Family::kBuckets, "", "",
                         [&](std::string_view k, std::string_view v) {
                           rows_a.emplace(k, v);
                           return true;
                         })
                  .ok());
  ASSERT_TRUE((*b)->Scan(Family::kBuckets, "", "",
                         [&](std::string_view k, std::string_view v) {
                           rows_b.emplace(k, v);
                           return true;
                         })
                  .ok());
  EXPECT_GT(rows_a.size(), 100u);
  EXPECT_TRUE(rows_a == rows_b) << rows_a.size() << " vs " << rows_b.size() << " bucket rows";
}

INSTANTIATE_TEST_SUITE_P(Partitions, EngineCrashTest, ::testing::Values(1, 6));

TEST_F(EngineTest, PartitionedResultsDoNotDependOnInterleaving) {
  // Six emulated partitions. Kafka delivers each partition in order but
  // interleaves partitions arbitrarily; alert ids must not change.
  std::vector<std::string> lines = GenerateLines(200, 5, /*clean=*/true);
  PlanPtr plan = LoadPlan({kSpecPack});
  const std::vector<size_t> interleaved = InterleavePartitions(lines, 6, 3000, 9);
  Runner in_order(plan, Dir("p6a"), 6);
  in_order.Run(lines, lines.size(), false);
  Runner shuffled(plan, Dir("p6b"), 6);
  shuffled.Run(lines, lines.size(), false, &interleaved);
  RunResult a = in_order.Result(), b = shuffled.Result();
  ASSERT_GT(a.alerts.size(), 5u);
  EXPECT_EQ(Diff(ById(b.alerts), ById(a.alerts)), "");
  EXPECT_EQ(a.stats.accepted, b.stats.accepted);
}

TEST_F(EngineTest, NationalLagIsDeterministicAndHoldsFewerEventsBack) {
  // With national_lag_days = 1 a partition compares with the national figures
  // of the day before its last closed day: interleaved delivery still gives the
  // alerts of in-order delivery, fewer events wait at the barrier, and the
  // figures (so the explanations) differ from those without lag.
  std::vector<std::string> lines = GenerateLines(200, 5, /*clean=*/true);
  PlanPtr plan = LoadPlan({kSpecPack});
  // Partitions delivered in long bursts, so they drift apart in event time.
  const std::vector<size_t> interleaved = InterleavePartitions(lines, 6, 4000, 4);
  auto run = [&](int lag, const std::vector<size_t>* order, const char* name) {
    Runner r(plan, Dir(name), 6);
    r.options_.national_lag_days = lag;
    r.Run(lines, lines.size(), false, order);
    return r.Result();
  };
  RunResult lag0 = run(0, &interleaved, "lag0");
  RunResult lag1_in_order = run(1, nullptr, "lag1a");
  RunResult lag1 = run(1, &interleaved, "lag1b");
  ASSERT_GT(lag1.alerts.size(), 5u);
  EXPECT_EQ(Diff(ById(lag1.alerts), ById(lag1_in_order.alerts)), "");
  EXPECT_EQ(lag1.stats.accepted, lag0.stats.accepted);
  EXPECT_LT(lag1.stats.held_back, lag0.stats.held_back);
  EXPECT_NE(ById(lag1.alerts), ById(lag0.alerts));
}

TEST_F(EngineTest, LateEventsWithinLatenessCountOthersAreTooLate) {
  PlanPtr plan = LoadPlan({kSpecPack});
  Runner run(plan, Dir("late"));
  auto ev = [](const char* id, const char* time) {
    return fmt::format(
        R"({{"type":"drug_finding","id":"{}","time":"{}","municipality":"GM0855","kind":"hemp_plantation","property":"residential"}})",
        id, time);
  };
  std::vector<std::string> lines = {
      ev("a", "2026-03-10T12:00:00Z"),
      ev("b", "2026-03-09T12:00:01Z"),  // 23h59m59s late: counted
      ev("c", "2026-03-09T11:59:59Z"),  // 1d0h0m1s late: too_late
      ev("d", "2026-03-10T13:00:00Z"),
      ev("a", "2026-03-10T14:00:00Z"),  // same type and id: duplicate
      ev("e", "2026-03-02T00:00:00Z"),  // far too late
  };
  run.Run(lines, lines.size(), false);
  RunResult r = run.Result();
  EXPECT_EQ(r.stats.accepted, 3);
  EXPECT_EQ(r.dead_reasons, (std::vector<std::string>{"too_late", "duplicate", "too_late"}));
}

}  // namespace
}  // namespace zicht::engine

namespace zicht::engine {
namespace {

// Two instances share six partitions, exchanging national snapshots as the
// national topic would; their alerts equal one instance owning everything.
TEST_F(EngineTest, InstancesSharingPartitionsAgreeWithOneInstance) {
  std::vector<std::string> lines = GenerateLines(150, 8, /*clean=*/true);
  PlanPtr plan = LoadPlan({kSpecPack});
  auto one = MakeKafkaInstance(plan, Dir("one"), {0, 1, 2, 3, 4, 5});
  auto a = MakeKafkaInstance(plan, Dir("a"), {0, 2, 4});
  auto b = MakeKafkaInstance(plan, Dir("b"), {1, 3, 5});
  ASSERT_NO_FATAL_FAILURE(FeedInstances(*one, *a, *b, KafkaRecords(lines, nullptr)));
  for (KafkaInstance* inst : {one.get(), a.get(), b.get()})
    ASSERT_TRUE(inst->engine->Commit().ok());
  // Compare everything but the last days, which depend on how the end of the
  // input is handled (Drain is per instance).
  auto want = ByIdBefore(ParseAlerts(one->alerts.records), "2026-05-28");
  ASSERT_GT(want.size(), 5u);
  EXPECT_EQ(Diff(ByIdBefore(AlertsOf({a.get(), b.get()}), "2026-05-28"), want), "");
  EXPECT_EQ(a->engine->stats().accepted + b->engine->stats().accepted,
            one->engine->stats().accepted);
  // The barrier was exercised: instances waited for each other's snapshots.
  EXPECT_GT(a->engine->stats().held_back + b->engine->stats().held_back, 0);
}

}  // namespace
}  // namespace zicht::engine

namespace zicht::engine {
namespace {

// Hot reload between records: an unchanged rule keeps its history and timers,
// a changed rule continues under its new version, nothing is lost.
TEST_F(EngineTest, ReplacePlanKeepsUnchangedRulesAndLosesNothing) {
  PlanPtr plan_a = LoadPlan({kSpecPack});
  // Same pack with cash-surge made stricter (a new rule version).
  auto text = ReadFileToString(kSpecPack);
  ASSERT_TRUE(text.ok());
  std::string changed = *text;
  size_t pos = changed.find("alert_at: 0.6");
  ASSERT_NE(pos, std::string::npos);
  changed.replace(pos, 13, "alert_at: 1.0");
  std::string dir = Dir("reload-pack");
  std::string changed_path = dir + "/spec.yaml";
  ASSERT_TRUE(WriteFileAtomic(changed_path, changed).ok());
  PlanPtr plan_b = LoadPlan({changed_path});

  Runner whole(plan_a, Dir("reload-whole"));
  whole.Run(*lines_, lines_->size(), false);
  RunResult expected = whole.Result();

  auto store = OpenRocksDbStateStore(Dir("reload"));
  ASSERT_TRUE(store.ok());
  connectors::MemorySink alerts, dead;
  EngineOptions options;
  options.clock = &kFixedClock;
  Engine engine(plan_a, store->get(), &alerts, &dead, options);
  ASSERT_TRUE(engine.Open().ok());
  const size_t half = lines_->size() / 2;
  for (size_t i = 0; i < lines_->size(); ++i) {
    if (i == half) {
      ASSERT_TRUE(engine.ReplacePlan(plan_b).ok());
    }
    connectors::SourceRecord r;
    r.payload = (*lines_)[i];
    r.offset = static_cast<int64_t>(i);
    r.next_offset = r.offset + 1;
    r.line = r.offset + 1;
    ASSERT_TRUE(engine.Process(r, "feed", true).ok());
  }
  ASSERT_TRUE(engine.Drain().ok());
  ASSERT_TRUE(engine.Commit().ok());
  EXPECT_EQ(engine.stats().accepted, expected.stats.accepted);
  EXPECT_EQ(engine.stats().plan_replacements, 1);
  std::vector<Alert> got = ParseAlerts(alerts.records);
  auto only = [](const std::vector<Alert>& all, const std::string& rule) {
    std::map<std::string, std::string> m;
    for (const Alert& a : all) {
      if (a.rule == rule) m.emplace(a.id, a.json);
    }
    return m;
  };
  // property-and-drugs did not change: same alerts, same ids, as without reload.
  EXPECT_EQ(Diff(only(got, "property-and-drugs"), only(expected.alerts, "property-and-drugs")), "");
  // cash-surge changed: after the reload it needs both conditions, so it fires
  // far less often than the original did over the second half.
  size_t before = 0, after = 0, original_after = 0;
  const std::string reload_time = "2026-05-01";
  for (const Alert& a : got) {
    if (a.rule == "cash-surge") (a.event_time < reload_time ? before : after)++;
  }
  for (const Alert& a : expected.alerts) {
    if (a.rule == "cash-surge" && a.event_time >= reload_time) ++original_after;
  }
  EXPECT_GT(before, 0u);
  EXPECT_LT(after * 10, original_after);
}

}  // namespace
}  // namespace zicht::engine

namespace zicht::engine {
namespace {

// The incremental evaluation (cached thresholds and outcomes, skipped rules)
// must give exactly what evaluating every condition from scratch gives, for
// every measure and operator the packs use.
TEST_F(EngineTest, IncrementalEvaluationEqualsFullEvaluation) {
  // (pack, alerts it must at least give): the statistics pack covers the
  // baselines and measures of SPEC 8.1/8.2.
  const std::pair<std::string, size_t> packs[] = {
      {kSpecPack, 10},
      {ZICHT_SOURCE_DIR "/bench/packs/rules-50.yaml", 10},
      {ZICHT_SOURCE_DIR "/bench/packs/peer-benchmark.yaml", 10},
      {ZICHT_SOURCE_DIR "/tests/engine/data/statistics_pack.yaml", 100}};
  for (const auto& [pack, min_alerts] : packs) {
    PlanPtr plan = LoadPlan({pack});
    Runner fast(plan, Dir("incremental"));
    fast.Run(*lines_, lines_->size(), false);
    Runner full(plan, Dir("full"));
    full.options_.incremental_evaluation = false;
    full.Run(*lines_, lines_->size(), false);
    RunResult a = fast.Result(), b = full.Result();
    ASSERT_GT(b.alerts.size(), min_alerts) << pack;
    EXPECT_EQ(Diff(ById(a.alerts), ById(b.alerts)), "") << pack;
    EXPECT_LT(a.stats.evaluations, b.stats.evaluations) << pack;
  }
}

}  // namespace
}  // namespace zicht::engine
