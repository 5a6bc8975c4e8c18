// The operator artifacts agree with the metric contract: the Grafana
// dashboard, the alert rules (and their promtool tests) and docs/operations.md
// name only metrics the registry has, and cover what operators need.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <map>
#include <set>

#include "zicht/base/file.h"
#include "zicht/monitoring/metrics_registry.h"

namespace zicht::monitoring {
namespace {

const std::string kDashboard = ZICHT_SOURCE_DIR "/monitoring/grafana/zicht.json";
const std::string kAlerts = ZICHT_SOURCE_DIR "/monitoring/prometheus/zicht-alerts.yaml";
const std::string kAlertTests =
    ZICHT_SOURCE_DIR "/monitoring/prometheus/tests/zicht-alerts-test.yaml";
const std::string kOperationsDoc = ZICHT_SOURCE_DIR "/docs/operations.md";
const std::string kOpenApi = ZICHT_SOURCE_DIR "/docs/openapi.yaml";

// zicht_* names in a PromQL expression, histogram series mapped to their family.
std::set<std::string> MetricNames(const std::string& expr) {
  std::set<std::string> out;
  for (size_t at = expr.find("zicht_"); at != std::string::npos; at = expr.find("zicht_", at)) {
    const bool word_start =
        at == 0 || !(std::isalnum(static_cast<unsigned char>(expr[at - 1])) || expr[at - 1] == '_');
    size_t end = at;
    while (end < expr.size() &&
           (std::islower(static_cast<unsigned char>(expr[end])) ||
            std::isdigit(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) {
      ++end;
    }
    if (word_start && end > at + 6) out.insert(expr.substr(at, end - at));
    at = end;
  }
  return out;
}

bool InCatalog(const std::string& series) {
  for (const MetricInfo& m : MetricCatalog()) {
    if (series == m.name) return true;
    if (m.type == MetricType::kHistogram) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (series == std::string(m.name) + suffix) return true;
      }
    }
  }
  return false;
}

std::string Family(const std::string& series) {
  for (const MetricInfo& m : MetricCatalog()) {
    if (m.type != MetricType::kHistogram || !series.starts_with(m.name)) continue;
    const std::string suffix = series.substr(m.name.size());
    if (suffix == "_bucket" || suffix == "_sum" || suffix == "_count") return std::string(m.name);
  }
  return series;
}

TEST(OpsArtifactsTest, GrafanaDashboardIsWellFormedAndUsesOnlyRegistryMetrics) {
  auto text = ReadFileToString(kDashboard);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  simdjson::dom::parser parser;
  simdjson::padded_string json(*text);
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS);

  int64_t schema = 0;
  ASSERT_EQ(doc["schemaVersion"].get(schema), simdjson::SUCCESS);
  EXPECT_GE(schema, 36);
  EXPECT_LE(schema, 41);
  std::string_view uid, title;
  ASSERT_EQ(doc["uid"].get(uid), simdjson::SUCCESS);
  ASSERT_EQ(doc["title"].get(title), simdjson::SUCCESS);
  EXPECT_FALSE(uid.empty());

  // The data source is a variable, so the dashboard imports into any Grafana.
  bool datasource_variable = false;
  for (simdjson::dom::element v : doc["templating"]["list"].get_array()) {
    std::string_view name, type, query;
    if (v["name"].get(name) == simdjson::SUCCESS && name == "datasource") {
      ASSERT_EQ(v["type"].get(type), simdjson::SUCCESS);
      ASSERT_EQ(v["query"].get(query), simdjson::SUCCESS);
      datasource_variable = type == "datasource" && query == "prometheus";
    }
  }
  EXPECT_TRUE(datasource_variable);

  std::set<int64_t> ids;
  std::set<std::string> used;
  int queries = 0;
  for (simdjson::dom::element panel : doc["panels"].get_array()) {
    int64_t id = 0;
    ASSERT_EQ(panel["id"].get(id), simdjson::SUCCESS);
    EXPECT_TRUE(ids.insert(id).second) << "duplicate panel id " << id;
    int64_t x = 0, w = 0, h = 0;
    ASSERT_EQ(panel["gridPos"]["x"].get(x), simdjson::SUCCESS);
    ASSERT_EQ(panel["gridPos"]["w"].get(w), simdjson::SUCCESS);
    ASSERT_EQ(panel["gridPos"]["h"].get(h), simdjson::SUCCESS);
    EXPECT_LE(x + w, 24) << "panel " << id;
    EXPECT_GT(h, 0);
    std::string_view type;
    ASSERT_EQ(panel["type"].get(type), simdjson::SUCCESS);
    if (type == "row") continue;
    std::string_view ds;
    ASSERT_EQ(panel["datasource"]["uid"].get(ds), simdjson::SUCCESS) << "panel " << id;
    EXPECT_EQ(ds, "${datasource}") << "panel " << id;
    simdjson::dom::array targets;
    ASSERT_EQ(panel["targets"].get(targets), simdjson::SUCCESS) << "panel " << id;
    EXPECT_GT(targets.size(), 0u);
    for (simdjson::dom::element t : targets) {
      std::string_view expr, target_ds;
      ASSERT_EQ(t["expr"].get(expr), simdjson::SUCCESS);
      ASSERT_EQ(t["datasource"]["uid"].get(target_ds), simdjson::SUCCESS);
      EXPECT_EQ(target_ds, "${datasource}");
      ++queries;
      for (const std::string& name : MetricNames(std::string(expr))) {
        EXPECT_TRUE(InCatalog(name)) << "panel " << id << " uses unknown metric " << name;
        used.insert(Family(name));
      }
    }
  }
  EXPECT_GE(queries, 15);
  for (const char* needed :
       {"zicht_events_consumed_total", "zicht_consumer_lag", "zicht_dead_letters_total",
        "zicht_alerts_emitted_total", "zicht_processing_latency_seconds",
        "zicht_event_to_alert_latency_seconds", "zicht_watermark_lag_seconds",
        "zicht_state_size_bytes", "zicht_commit_duration_seconds", "zicht_rule_reloads_total",
        "zicht_outbox_pending"}) {
    EXPECT_TRUE(used.count(needed)) << "no panel shows " << needed;
  }
}

TEST(OpsArtifactsTest, AlertRulesUseRegistryMetricsAndEachHasFiringAndQuietTests) {
  YAML::Node rules = YAML::LoadFile(kAlerts);
  std::set<std::string> alerts;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      const std::string name = rule["alert"].as<std::string>();
      EXPECT_TRUE(alerts.insert(name).second) << "duplicate alert " << name;
      for (const std::string& metric : MetricNames(rule["expr"].as<std::string>())) {
        EXPECT_TRUE(InCatalog(metric)) << name << " uses unknown metric " << metric;
      }
      EXPECT_TRUE(rule["labels"]["severity"]) << name;
      EXPECT_TRUE(rule["annotations"]["summary"]) << name;
    }
  }
  for (const char* needed :
       {"ZichtDown", "ZichtAbsent", "ZichtConsumerLagGrowing", "ZichtDeadLetterRateHigh",
        "ZichtNoEventsConsumed", "ZichtRuleReloadFailed", "ZichtOutboxBacklog",
        "ZichtWatermarkLagHigh"}) {
    EXPECT_TRUE(alerts.count(needed)) << needed;
  }

  std::set<std::string> firing, quiet;
  YAML::Node tests = YAML::LoadFile(kAlertTests);
  for (const auto& test : tests["tests"]) {
    for (const auto& check : test["alert_rule_test"]) {
      const std::string name = check["alertname"].as<std::string>();
      EXPECT_TRUE(alerts.count(name)) << "test of unknown alert " << name;
      (check["exp_alerts"].size() > 0 ? firing : quiet).insert(name);
    }
  }
  for (const std::string& name : alerts) {
    EXPECT_TRUE(firing.count(name)) << name << " has no promtool case where it fires";
    EXPECT_TRUE(quiet.count(name)) << name << " has no promtool case where it stays quiet";
  }
}

TEST(OpsArtifactsTest, OperationsDocListsEveryMetricWithItsTypeAndLabels) {
  auto doc = ReadFileToString(kOperationsDoc);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  for (const MetricInfo& m : MetricCatalog()) {
    // One table row per metric: | `name` | type | labels | meaning |
    const std::string row =
        "| `" + std::string(m.name) + "` | " + std::string(MetricTypeName(m.type)) + " | ";
    const size_t at = doc->find(row);
    ASSERT_NE(at, std::string::npos) << "docs/operations.md lacks the row for " << m.name;
    const std::string rest = doc->substr(at + row.size(), doc->find('\n', at) - at - row.size());
    for (std::string_view label : m.labels) {
      EXPECT_NE(rest.find("`" + std::string(label) + "`"), std::string::npos)
          << m.name << ": label " << label << " not documented";
    }
  }
  // And nothing documented that the registry does not have.
  for (const std::string& name : MetricNames(*doc)) {
    EXPECT_TRUE(InCatalog(name)) << "docs/operations.md names unknown metric " << name;
  }
}

TEST(OpsArtifactsTest, OpenApiDescribesTheEndpointsTheServerAndIntegratorServe) {
  YAML::Node api = YAML::LoadFile(kOpenApi);
  EXPECT_EQ(api["openapi"].as<std::string>().substr(0, 2), "3.");
  const YAML::Node paths = api["paths"];
  const std::map<std::string, std::string> expected = {{"/healthz", "get"},
                                                       {"/readyz", "get"},
                                                       {"/metrics", "get"},
                                                       {"/api/v1/municipalities/{code}", "get"},
                                                       {"/api/v1/indicators/{id}", "get"},
                                                       {"/api/v1/regions", "get"},
                                                       {"/api/v1/alerts", "get"},
                                                       {"/api/v1/rules", "get"},
                                                       {"/api/v1/rules/reload", "post"}};
  for (const auto& [path, method] : expected) {
    ASSERT_TRUE(paths[path]) << path;
    EXPECT_TRUE(paths[path][method]) << method << " " << path;
  }
  const YAML::Node reload = paths["/api/v1/rules/reload"]["post"];
  for (const char* code : {"200", "401", "403", "422"})
    EXPECT_TRUE(reload["responses"][code]) << code;
  EXPECT_TRUE(reload["security"]);
  // Every measure of SPEC section 4 is in the API, and small counts are suppressed.
  const YAML::Node measures = api["components"]["schemas"]["Measures"]["properties"];
  for (const char* m : {"value", "count", "rate", "national_rate", "national_ratio",
                        "national_zscore", "poisson_p", "percentile", "trend_ratio"}) {
    EXPECT_TRUE(measures[m]) << m;
  }
  EXPECT_NE(api["info"]["description"].as<std::string>().find("disclosure minimum"),
            std::string::npos);
  // The views a spreadsheet can take document ?format= and their CSV answer.
  EXPECT_EQ(api["components"]["parameters"]["Format"]["name"].as<std::string>(), "format");
  for (const char* path : {"/api/v1/municipalities/{code}", "/api/v1/indicators/{id}",
                           "/api/v1/regions", "/api/v1/alerts"}) {
    const YAML::Node get = paths[path]["get"];
    bool format = false;
    for (const auto& p : get["parameters"]) {
      format =
          format || (p["$ref"] && p["$ref"].as<std::string>() == "#/components/parameters/Format");
    }
    EXPECT_TRUE(format) << path << " lacks the format parameter";
    EXPECT_TRUE(get["responses"]["200"]["content"]["text/csv"]) << path << " lacks text/csv";
    EXPECT_TRUE(get["responses"]["400"]) << path << " lacks 400 (unknown format)";
  }
}

}  // namespace
}  // namespace zicht::monitoring
