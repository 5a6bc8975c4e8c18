// PrometheusEngineProbe: probe calls show up as the contract's series, with
// type and rule labels from the plan and per-partition gauges at scrape time.
#include "zicht/runtime/prometheus_probe.h"

#include <gtest/gtest.h>

#include "zicht/engine/plan.h"
#include "zicht/monitoring/metrics_registry.h"
#include "zicht/runtime/plan_loader.h"

namespace zicht::runtime {
namespace {
using engine::DeadLetterReason;
using engine::Plan;
using engine::PlanPtr;

const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
const std::string kSpecPack = ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml";

PlanPtr SpecPlan() {
  PlanSources o;
  o.rule_files = {kSpecPack};
  o.municipalities_path = kMunicipalities;
  auto plan = LoadPlan(o);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : nullptr;
}

int TypeIndex(const Plan& plan, std::string_view name) {
  return plan.schemas()->TypeIndex(name);
}

int RuleIndex(const Plan& plan, std::string_view id) {
  for (size_t r = 0; r < plan.rules().size(); ++r) {
    if (plan.rules()[r].spec->id == id) return static_cast<int>(r);
  }
  return -1;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(PrometheusProbeTest, CountsEventsDeadLettersAlertsAndCommits) {
  PlanPtr plan = SpecPlan();
  ASSERT_NE(plan, nullptr);
  monitoring::MetricsRegistry registry;
  PrometheusEngineProbe probe(&registry, *plan);
  const int sale = TypeIndex(*plan, "property_sale");
  const int drug = TypeIndex(*plan, "drug_finding");
  ASSERT_GE(sale, 0);
  ASSERT_GE(drug, 0);
  for (int i = 0; i < 3; ++i) probe.EventAccepted(sale);
  probe.EventAccepted(drug);
  probe.EventDeadLettered(sale, DeadLetterReason::kBadType);
  probe.EventDeadLettered(-1, DeadLetterReason::kParseError);
  probe.EventDeadLettered(-1, DeadLetterReason::kParseError);
  probe.AlertEmitted(RuleIndex(*plan, "property-and-drugs"), 1500);
  probe.AlertEmitted(RuleIndex(*plan, "cash-surge"), 20);
  probe.AlertEmitted(RuleIndex(*plan, "cash-surge"), 20);
  probe.Committed(1000, 0.004);
  probe.RuleReload(true);
  probe.RuleReload(false);
  probe.RuleReload(false);
  probe.EventProcessed(0.002);
  probe.OutboxPending(7);
  probe.StateStats(123456789, 4096);
  probe.Ready(true);

  const std::string t = registry.Render();
  EXPECT_TRUE(Has(t, "zicht_events_consumed_total{result=\"accepted\",type=\"property_sale\"} 3"))
      << t;
  EXPECT_TRUE(Has(t, "zicht_events_consumed_total{result=\"accepted\",type=\"drug_finding\"} 1"));
  EXPECT_TRUE(
      Has(t, "zicht_events_consumed_total{result=\"dead_letter\",type=\"property_sale\"} 1"));
  EXPECT_TRUE(Has(t, "zicht_events_consumed_total{result=\"dead_letter\",type=\"unknown\"} 2"));
  // Every type of the plan has its series from the start.
  EXPECT_TRUE(
      Has(t, "zicht_events_consumed_total{result=\"accepted\",type=\"business_registration\"} 0"));
  EXPECT_TRUE(Has(t, "zicht_dead_letters_total{reason=\"parse_error\"} 2"));
  EXPECT_TRUE(Has(t, "zicht_dead_letters_total{reason=\"bad_type\"} 1"));
  EXPECT_TRUE(Has(t, "zicht_dead_letters_total{reason=\"duplicate\"} 0"));
  EXPECT_TRUE(
      Has(t, "zicht_alerts_emitted_total{rule=\"property-and-drugs\",severity=\"high\"} 1"));
  EXPECT_TRUE(Has(t, "zicht_alerts_emitted_total{rule=\"cash-surge\",severity=\"medium\"} 2"));
  EXPECT_TRUE(Has(t, "zicht_event_to_alert_latency_seconds_count 3"));
  EXPECT_TRUE(Has(t, "zicht_event_to_alert_latency_seconds_sum 1.54"));
  EXPECT_TRUE(Has(t, "zicht_event_to_alert_latency_seconds_bucket{le=\"1\"} 2"));
  EXPECT_TRUE(Has(t, "zicht_commits_total 1"));
  EXPECT_TRUE(Has(t, "zicht_commit_duration_seconds_count 1"));
  EXPECT_TRUE(Has(t, "zicht_commit_duration_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(Has(t, "zicht_rule_reloads_total{result=\"success\"} 1"));
  EXPECT_TRUE(Has(t, "zicht_rule_reloads_total{result=\"failure\"} 2"));
  EXPECT_TRUE(Has(t, "zicht_rules_loaded 2"));
  EXPECT_TRUE(Has(t, "zicht_processing_latency_seconds_count 1"));
  EXPECT_TRUE(Has(t, "zicht_outbox_pending 7"));
  EXPECT_TRUE(Has(t, "zicht_state_size_bytes 123456789"));
  EXPECT_TRUE(Has(t, "zicht_state_compaction_pending_bytes 4096"));
  EXPECT_TRUE(Has(t, "zicht_ready 1"));
  // Out-of-range indices (a plan change racing a call) are dropped, not a crash.
  probe.AlertEmitted(99, 0);
  probe.EventAccepted(99);
  EXPECT_TRUE(Has(registry.Render(),
                  "zicht_events_consumed_total{result=\"accepted\",type=\"unknown\"} 1"));
}

TEST(PrometheusProbeTest, PartitionGaugesAreComputedAtScrapeTime) {
  PlanPtr plan = SpecPlan();
  ASSERT_NE(plan, nullptr);
  monitoring::MetricsRegistry registry;
  const TimeMs now = 1'780'000'000'000;  // wall clock, ms
  FakeClock wall(now);
  PrometheusEngineProbeOptions options;
  options.partitions = 3;
  options.clock = &wall;
  auto probe = std::make_unique<PrometheusEngineProbe>(&registry, *plan, options);
  // Partitions never seen have no series.
  std::string t = registry.Render();
  EXPECT_EQ(t.find("zicht_event_time_seconds{"), std::string::npos);
  EXPECT_EQ(t.find("zicht_consumer_lag{"), std::string::npos);

  const TimeMs clock = wall.WallMs() - 3 * kMsPerHour;
  probe->Watermark(1, clock, clock - kMsPerDay);
  probe->ConsumerLag(2, 1200);
  probe->ConsumerLag(7, 5);  // outside 0..partitions-1: ignored
  t = registry.Render();
  EXPECT_TRUE(Has(t, "zicht_event_time_seconds{partition=\"1\"} 1779989200")) << t;
  EXPECT_TRUE(Has(t, "zicht_watermark_lag_seconds{partition=\"1\"} 97200"));  // 3h + 1d
  EXPECT_TRUE(Has(t, "zicht_consumer_lag{partition=\"2\"} 1200"));
  EXPECT_EQ(t.find("partition=\"0\""), std::string::npos);
  EXPECT_EQ(t.find("partition=\"7\""), std::string::npos);
  // Idle: the clock stands still, the watermark lag grows with the wall clock.
  wall.Advance(60'000);
  EXPECT_TRUE(Has(registry.Render(), "zicht_watermark_lag_seconds{partition=\"1\"} 97260"));
  // The hook goes with the probe: rendering after destruction is safe.
  probe.reset();
  wall.Advance(60'000);
  EXPECT_TRUE(Has(registry.Render(), "zicht_watermark_lag_seconds{partition=\"1\"} 97260"));
}

TEST(PrometheusProbeTest, PlanLoadedRebindsTypesAndRules) {
  PlanPtr plan = SpecPlan();
  ASSERT_NE(plan, nullptr);
  monitoring::MetricsRegistry registry;
  PrometheusEngineProbe probe(&registry, *plan);
  probe.AlertEmitted(RuleIndex(*plan, "cash-surge"), 0);
  // Reload the same packs (a new plan object): counters continue, not restart.
  PlanPtr again = SpecPlan();
  probe.PlanLoaded(*again);
  probe.AlertEmitted(RuleIndex(*again, "cash-surge"), 0);
  EXPECT_TRUE(Has(registry.Render(),
                  "zicht_alerts_emitted_total{rule=\"cash-surge\",severity=\"medium\"} 2"));
}

}  // namespace
}  // namespace zicht::runtime
