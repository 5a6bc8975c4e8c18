// MetricsRegistry: the process's Prometheus registry with every `zicht_*`
// metric family of the operator contract (docs/operations.md), rendered in the
// text exposition format for `GET /metrics`.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace zicht::monitoring {

enum class MetricType { kCounter, kGauge, kHistogram };
std::string_view MetricTypeName(MetricType type);  // "counter", "gauge", "histogram"

// One metric of the contract. Label sets are bounded: `type` and `rule` come
// from the loaded rule packs, `partition` from the source topic; never a
// municipality or an event id.
struct MetricInfo {
  std::string_view name;
  MetricType type;
  std::vector<std::string_view> labels;
  std::string_view help;
};

// Every metric the registry registers, in documentation order. docs/operations.md,
// the Grafana dashboard and the alert rules are checked against this list.
const std::vector<MetricInfo>& MetricCatalog();

// Bucket bounds (seconds) of the histograms.
const std::vector<double>& ProcessingLatencyBuckets();
const std::vector<double>& EventToAlertLatencyBuckets();
const std::vector<double>& CommitDurationBuckets();
const std::vector<double>& HttpRequestDurationBuckets();

// The families of MetricCatalog(), registered once. Children (label values)
// are added by the probes that feed them; Family::Add is thread-safe and
// returns the existing child for known labels.
struct ZichtMetricFamilies {
  prometheus::Family<prometheus::Counter>* events_consumed = nullptr;  // {type,result}
  prometheus::Family<prometheus::Counter>* dead_letters = nullptr;     // {reason}
  prometheus::Family<prometheus::Counter>* alerts_emitted = nullptr;   // {rule,severity}
  prometheus::Family<prometheus::Gauge>* consumer_lag = nullptr;       // {partition}
  prometheus::Family<prometheus::Histogram>* processing_latency = nullptr;
  prometheus::Family<prometheus::Histogram>* event_to_alert_latency = nullptr;
  prometheus::Family<prometheus::Gauge>* watermark_lag = nullptr;  // {partition}
  prometheus::Family<prometheus::Gauge>* event_time = nullptr;     // {partition}
  prometheus::Family<prometheus::Gauge>* state_size = nullptr;
  prometheus::Family<prometheus::Gauge>* state_compaction_pending = nullptr;
  prometheus::Family<prometheus::Counter>* rule_reloads = nullptr;  // {result}
  prometheus::Family<prometheus::Gauge>* rules_loaded = nullptr;
  prometheus::Family<prometheus::Counter>* commits = nullptr;
  prometheus::Family<prometheus::Histogram>* commit_duration = nullptr;
  prometheus::Family<prometheus::Gauge>* outbox_pending = nullptr;
  prometheus::Family<prometheus::Gauge>* ready = nullptr;
  prometheus::Family<prometheus::Gauge>* build_info = nullptr;                 // {version,commit}
  prometheus::Family<prometheus::Counter>* http_requests = nullptr;            // {route,code}
  prometheus::Family<prometheus::Histogram>* http_request_duration = nullptr;  // {route}
};

struct MetricsRegistryOptions {
  // Values of zicht_build_info{version,commit} (default "unknown").
  std::string version = "unknown";
  std::string commit = "unknown";
};

// Thread safety: every method may be called from any thread.
class MetricsRegistry {
 public:
  explicit MetricsRegistry(MetricsRegistryOptions options = {});
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& registry_ptr() const { return registry_; }
  const ZichtMetricFamilies& families() const { return families_; }

  // Hooks run at the start of every Render(), so that gauges derived from the
  // wall clock (watermark lag) are current at scrape time. Hooks must be quick
  // and must not call Render(). Returns an id for RemoveCollectHook.
  int AddCollectHook(std::function<void()> hook);
  void RemoveCollectHook(int id);

  // The text exposition format (version 0.0.4) of every registered metric.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  ZichtMetricFamilies families_;
  mutable std::mutex hooks_mutex_;
  std::map<int, std::function<void()>> hooks_;
  int next_hook_ = 1;
};

}  // namespace zicht::monitoring
