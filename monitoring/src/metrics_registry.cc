// MetricsRegistry: registers the zicht_* families of the operator contract.
#include "zicht/monitoring/metrics_registry.h"

#include <prometheus/text_serializer.h>

#include <utility>

namespace zicht::monitoring {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const MetricInfo& Find(std::string_view name) {
  for (const MetricInfo& m : MetricCatalog()) {
    if (m.name == name) return m;
  }
  // The catalog below is the single source; a missing name is a bug in this file.
  static const MetricInfo kMissing{"", MetricType::kGauge, {}, ""};
  return kMissing;
}

template <typename Builder>
auto& Register(Builder builder, std::string_view name, prometheus::Registry& registry) {
  const MetricInfo& info = Find(name);
  return builder.Name(std::string(info.name)).Help(std::string(info.help)).Register(registry);
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

const std::vector<MetricInfo>& MetricCatalog() {
  static const std::vector<MetricInfo> kCatalog = {
      {"zicht_events_consumed_total",
       MetricType::kCounter,
       {"type", "result"},
       "Events read from the source, by event type and result (accepted or dead_letter). "
       "type is \"unknown\" when the event's type could not be determined."},
      {"zicht_dead_letters_total",
       MetricType::kCounter,
       {"reason"},
       "Events sent to the dead-letter output, by reason (SPEC section 2)."},
      {"zicht_alerts_emitted_total",
       MetricType::kCounter,
       {"rule", "severity"},
       "Alerts emitted, by rule id and severity."},
      {"zicht_consumer_lag",
       MetricType::kGauge,
       {"partition"},
       "Messages between the consumer position and the end of the source partition."},
      {"zicht_processing_latency_seconds",
       MetricType::kHistogram,
       {},
       "Time from ingest (source timestamp) until the event was processed."},
      {"zicht_event_to_alert_latency_seconds",
       MetricType::kHistogram,
       {},
       "Time from ingest of the event that completed an alert until the alert was emitted."},
      {"zicht_watermark_lag_seconds",
       MetricType::kGauge,
       {"partition"},
       "Wall clock minus the partition's watermark (event-time clock T minus allowed "
       "lateness), at scrape time."},
      {"zicht_event_time_seconds",
       MetricType::kGauge,
       {"partition"},
       "The partition's event-time clock T (largest accepted event time), Unix seconds."},
      {"zicht_state_size_bytes",
       MetricType::kGauge,
       {},
       "Size of the RocksDB state on disk (live SST files and memtables)."},
      {"zicht_state_compaction_pending_bytes",
       MetricType::kGauge,
       {},
       "RocksDB's estimate of bytes that compaction still has to rewrite."},
      {"zicht_rule_reloads_total",
       MetricType::kCounter,
       {"result"},
       "Rule pack reloads, by result (success or failure)."},
      {"zicht_rules_loaded", MetricType::kGauge, {}, "Rules in the running rule set."},
      {"zicht_commits_total",
       MetricType::kCounter,
       {},
       "Atomic state commits (state, source positions and outbox in one batch)."},
      {"zicht_commit_duration_seconds",
       MetricType::kHistogram,
       {},
       "Duration of a state commit, including the write of the batch."},
      {"zicht_outbox_pending",
       MetricType::kGauge,
       {},
       "Alerts and dead letters committed but not yet acknowledged by their sink."},
      {"zicht_ready",
       MetricType::kGauge,
       {},
       "1 when the engine is ready (rules loaded and caught up), else 0; as /readyz."},
      {"zicht_build_info",
       MetricType::kGauge,
       {"version", "commit"},
       "Always 1; labels name the running build."},
      {"zicht_http_requests_total",
       MetricType::kCounter,
       {"route", "code"},
       "HTTP requests served, by route pattern and status code."},
      {"zicht_http_request_duration_seconds",
       MetricType::kHistogram,
       {"route"},
       "HTTP request handling time, by route pattern."},
  };
  return kCatalog;
}

const std::vector<double>& ProcessingLatencyBuckets() {
  static const std::vector<double> k = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return k;
}

const std::vector<double>& EventToAlertLatencyBuckets() {
  static const std::vector<double> k = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
                                        5,     10,    30,   60,   300, 900, 3600};
  return k;
}

const std::vector<double>& CommitDurationBuckets() {
  static const std::vector<double> k = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,    1,     2.5,  5,     10,   30};
  return k;
}

const std::vector<double>& HttpRequestDurationBuckets() {
  static const std::vector<double> k = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
  return k;
}

MetricsRegistry::MetricsRegistry(MetricsRegistryOptions options)
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  ZichtMetricFamilies& f = families_;
  f.events_consumed = &Register(BuildCounter(), "zicht_events_consumed_total", r);
  f.dead_letters = &Register(BuildCounter(), "zicht_dead_letters_total", r);
  f.alerts_emitted = &Register(BuildCounter(), "zicht_alerts_emitted_total", r);
  f.consumer_lag = &Register(BuildGauge(), "zicht_consumer_lag", r);
  f.processing_latency = &Register(BuildHistogram(), "zicht_processing_latency_seconds", r);
  f.event_to_alert_latency = &Register(BuildHistogram(), "zicht_event_to_alert_latency_seconds", r);
  f.watermark_lag = &Register(BuildGauge(), "zicht_watermark_lag_seconds", r);
  f.event_time = &Register(BuildGauge(), "zicht_event_time_seconds", r);
  f.state_size = &Register(BuildGauge(), "zicht_state_size_bytes", r);
  f.state_compaction_pending = &Register(BuildGauge(), "zicht_state_compaction_pending_bytes", r);
  f.rule_reloads = &Register(BuildCounter(), "zicht_rule_reloads_total", r);
  f.rules_loaded = &Register(BuildGauge(), "zicht_rules_loaded", r);
  f.commits = &Register(BuildCounter(), "zicht_commits_total", r);
  f.commit_duration = &Register(BuildHistogram(), "zicht_commit_duration_seconds", r);
  f.outbox_pending = &Register(BuildGauge(), "zicht_outbox_pending", r);
  f.ready = &Register(BuildGauge(), "zicht_ready", r);
  f.build_info = &Register(BuildGauge(), "zicht_build_info", r);
  f.http_requests = &Register(BuildCounter(), "zicht_http_requests_total", r);
  f.http_request_duration = &Register(BuildHistogram(), "zicht_http_request_duration_seconds", r);

  // Series without labels exist from the start, so dashboards and alert
  // expressions see 0 instead of "no data" before the first event.
  f.state_size->Add({});
  f.state_compaction_pending->Add({});
  f.rules_loaded->Add({});
  f.commits->Add({});
  f.outbox_pending->Add({});
  f.ready->Add({});
  f.processing_latency->Add({}, ProcessingLatencyBuckets());
  f.event_to_alert_latency->Add({}, EventToAlertLatencyBuckets());
  f.commit_duration->Add({}, CommitDurationBuckets());
  f.rule_reloads->Add({{"result", "success"}});
  f.rule_reloads->Add({{"result", "failure"}});
  f.build_info->Add({{"version", options.version}, {"commit", options.commit}}).Set(1);
}

MetricsRegistry::~MetricsRegistry() = default;

int MetricsRegistry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  const int id = next_hook_++;
  hooks_.emplace(id, std::move(hook));
  return id;
}

void MetricsRegistry::RemoveCollectHook(int id) {
  std::lock_guard<std::mutex> lock(hooks_mutex_);
  hooks_.erase(id);
}

std::string MetricsRegistry::Render() const {
  {
    // Held while hooks run, so RemoveCollectHook (from a probe's destructor)
    // waits for a hook that is running.
    std::lock_guard<std::mutex> lock(hooks_mutex_);
    for (const auto& [id, hook] : hooks_) hook();
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace zicht::monitoring
