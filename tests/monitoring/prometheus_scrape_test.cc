// A real Prometheus (Debian's /usr/bin/prometheus, started by
// scripts/prometheus-scrape-check) scrapes an HttpServer whose registry a
// PrometheusEngineProbe fed, and its query API must return every zicht_*
// metric with the values the probe was given.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>

#include "zicht/base/file.h"
#include "zicht/engine/plan.h"
#include "zicht/monitoring/http_server.h"
#include "zicht/monitoring/metrics_registry.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/prometheus_probe.h"

namespace zicht::runtime {
namespace {
using engine::DeadLetterReason;

// Every query of the Grafana dashboard, with its variables filled in as
// Grafana would, so that the real Prometheus parses and answers each.
std::vector<std::string> DashboardQueries() {
  std::vector<std::string> out;
  auto text = ReadFileToString(ZICHT_SOURCE_DIR "/monitoring/grafana/zicht.json");
  EXPECT_TRUE(text.ok());
  if (!text.ok()) return out;
  simdjson::dom::parser parser;
  simdjson::padded_string json(*text);
  simdjson::dom::element doc = parser.parse(json).value();
  for (simdjson::dom::element panel : doc["panels"].get_array()) {
    simdjson::dom::array targets;
    if (panel["targets"].get(targets) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element t : targets) {
      std::string expr(t["expr"].get_string().value());
      for (auto [var, value] : {std::pair<std::string, std::string>{"$__rate_interval", "1m"},
                                {"$instance", ".*"},
                                {"$job", "zicht"}}) {
        for (size_t at; (at = expr.find(var)) != std::string::npos;)
          expr.replace(at, var.size(), value);
      }
      out.push_back(expr);
    }
  }
  return out;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST(PrometheusScrapeTest, PrometheusStoresEveryZichtSeries) {
  PlanSources setup;
  setup.rule_files = {ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml"};
  setup.municipalities_path = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
  auto plan = LoadPlan(setup);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();

  monitoring::MetricsRegistry registry({"0.0.0-test", "scrapetest"});
  PrometheusEngineProbeOptions probe_options;
  probe_options.partitions = 2;
  PrometheusEngineProbe probe(&registry, **plan, probe_options);
  const int sale = (*plan)->schemas()->TypeIndex("property_sale");
  for (int i = 0; i < 3; ++i) probe.EventAccepted(sale);
  probe.EventDeadLettered(-1, DeadLetterReason::kParseError);
  probe.EventDeadLettered(sale, DeadLetterReason::kTooLate);
  probe.AlertEmitted(0, 250);
  probe.Committed(4, 0.003);
  probe.Committed(4, 0.004);
  probe.Watermark(0, 1'780'000'000'000, 1'780'000'000'000 - kMsPerDay);
  probe.ConsumerLag(1, 42);
  probe.RuleReload(true);
  probe.RuleReload(false);
  probe.EventProcessed(0.01);
  probe.OutboxPending(3);
  probe.StateStats(1 << 20, 512);
  probe.Ready(true);

  monitoring::HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  monitoring::HttpServer server(options, &registry);
  ASSERT_TRUE(server.Start().ok());

  const std::string rule = (*plan)->rules()[0].spec->id;
  const std::string severity(rules::SeverityName((*plan)->rules()[0].spec->severity));
  std::vector<std::string> expect = {
      "up{job=\"zicht\"} == 1",
      "zicht_build_info{version=\"0.0.0-test\",commit=\"scrapetest\"} == 1",
      "zicht_events_consumed_total{type=\"property_sale\",result=\"accepted\"} == 3",
      "zicht_events_consumed_total{type=\"property_sale\",result=\"dead_letter\"} == 1",
      "zicht_events_consumed_total{type=\"unknown\",result=\"dead_letter\"} == 1",
      "sum(zicht_events_consumed_total) == 5",
      "zicht_dead_letters_total{reason=\"parse_error\"} == 1",
      "zicht_dead_letters_total{reason=\"too_late\"} == 1",
      // Every reason is exported from the start (SPEC 2 and 8.3, and wrong_partition).
      "count(zicht_dead_letters_total) == " + std::to_string(engine::kDeadLetterReasonCount),
      "zicht_alerts_emitted_total{rule=\"" + rule + "\",severity=\"" + severity + "\"} == 1",
      "zicht_event_to_alert_latency_seconds_sum == 0.25",
      "zicht_commits_total == 2",
      "zicht_commit_duration_seconds_count == 2",
      "zicht_event_time_seconds{partition=\"0\"} == 1780000000",
      "zicht_watermark_lag_seconds{partition=\"0\"} > 0",
      "zicht_consumer_lag{partition=\"1\"} == 42",
      "zicht_rule_reloads_total{result=\"success\"} == 1",
      "zicht_rule_reloads_total{result=\"failure\"} == 1",
      "zicht_rules_loaded == " + std::to_string((*plan)->rules().size()),
      "zicht_processing_latency_seconds_count == 1",
      "zicht_outbox_pending == 3",
      "zicht_state_size_bytes == 1048576",
      "zicht_state_compaction_pending_bytes == 512",
      "zicht_ready == 1",
      "zicht_http_requests_total{route=\"/metrics\",code=\"200\"} > 0",
  };
  const std::vector<std::string> panels = DashboardQueries();
  EXPECT_GE(panels.size(), 15u);
  expect.insert(expect.end(), panels.begin(), panels.end());
  std::string command = ZICHT_SOURCE_DIR "/scripts/prometheus-scrape-check 127.0.0.1:" +
                        std::to_string(server.port()) + " --timeout 60";
  for (const std::string& e : expect) command += " --expect " + Quote(e);
  for (const monitoring::MetricInfo& m : monitoring::MetricCatalog()) {
    std::string name(m.name);
    if (m.type == monitoring::MetricType::kHistogram) name += "_bucket";
    command += " --expect-metric " + name;
  }
  command += " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("expectations hold"), std::string::npos) << output;
  std::printf("%s", output.c_str());
}

}  // namespace
}  // namespace zicht::runtime
