// MetricsRegistry: the contract's families, build info, hooks and rendering.
#include "zicht/monitoring/metrics_registry.h"

#include <gtest/gtest.h>

#include <set>

namespace zicht::monitoring {
namespace {

TEST(MetricsRegistryTest, RendersUnlabelledFamiliesFromTheStart) {
  MetricsRegistry registry(MetricsRegistryOptions{"1.2.3", "abc123"});
  const std::string text = registry.Render();
  for (const MetricInfo& m : MetricCatalog()) {
    // prometheus-cpp leaves out families without children; labelled ones get
    // theirs from the probes (prometheus_probe_test checks those).
    if (!m.labels.empty() && m.name != "zicht_rule_reloads_total" && m.name != "zicht_build_info") {
      EXPECT_EQ(text.find("# TYPE " + std::string(m.name) + " "), std::string::npos) << m.name;
      continue;
    }
    EXPECT_NE(
        text.find("# TYPE " + std::string(m.name) + " " + std::string(MetricTypeName(m.type))),
        std::string::npos)
        << m.name;
    EXPECT_NE(text.find("# HELP " + std::string(m.name) + " "), std::string::npos) << m.name;
  }
  EXPECT_NE(text.find("zicht_build_info{commit=\"abc123\",version=\"1.2.3\"} 1"), std::string::npos)
      << text;
  // Unlabelled series exist from the start (0, not "no data").
  EXPECT_NE(text.find("\nzicht_commits_total 0"), std::string::npos);
  EXPECT_NE(text.find("\nzicht_ready 0"), std::string::npos);
  EXPECT_NE(text.find("zicht_rule_reloads_total{result=\"failure\"} 0"), std::string::npos);
}

TEST(MetricsRegistryTest, CatalogNamesAreUniquePrefixedAndBounded) {
  std::set<std::string_view> names;
  for (const MetricInfo& m : MetricCatalog()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(m.name.substr(0, 6), "zicht_") << m.name;
    if (m.type == MetricType::kCounter) {
      EXPECT_TRUE(m.name.ends_with("_total")) << m.name;
    }
    for (std::string_view label : m.labels) {
      EXPECT_NE(label, "municipality") << m.name;
      EXPECT_NE(label, "id") << m.name;
    }
  }
}

TEST(MetricsRegistryTest, CollectHooksRunBeforeEachRenderUntilRemoved) {
  MetricsRegistry registry;
  int runs = 0;
  prometheus::Gauge& g = registry.families().outbox_pending->Add({});
  const int id = registry.AddCollectHook([&] { g.Set(++runs); });
  EXPECT_NE(registry.Render().find("zicht_outbox_pending 1"), std::string::npos);
  EXPECT_NE(registry.Render().find("zicht_outbox_pending 2"), std::string::npos);
  registry.RemoveCollectHook(id);
  EXPECT_NE(registry.Render().find("zicht_outbox_pending 2"), std::string::npos);
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace zicht::monitoring
