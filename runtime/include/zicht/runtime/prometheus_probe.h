// PrometheusEngineProbe: EngineProbe that feeds the zicht_* metrics of a
// monitoring::MetricsRegistry. Counters per event type, rule and reason are
// looked up once per plan, so a hot-path call is a pointer dereference and an
// atomic add.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "zicht/base/clock.h"
#include "zicht/engine/probe.h"
#include "zicht/monitoring/metrics_registry.h"

namespace zicht::runtime {

struct PrometheusEngineProbeOptions {
  // Source partitions reported in the per-partition gauges (default 1);
  // calls for partitions outside 0..partitions-1 are ignored.
  int partitions = 1;
  // Wall clock for zicht_watermark_lag_seconds (null: the system clock).
  const Clock* clock = nullptr;
};

// Thread safety: hot-path methods are called from the engine thread (and
// ConsumerLag from any thread); the per-partition gauges are brought up to
// date by a collect hook on the scraping thread.
class PrometheusEngineProbe final : public engine::EngineProbe {
 public:
  // `registry` must outlive the probe.
  PrometheusEngineProbe(monitoring::MetricsRegistry* registry, const engine::Plan& plan,
                        PrometheusEngineProbeOptions options = {});
  ~PrometheusEngineProbe() override;
  PrometheusEngineProbe(const PrometheusEngineProbe&) = delete;
  PrometheusEngineProbe& operator=(const PrometheusEngineProbe&) = delete;

  void EventAccepted(int type) override;
  void EventDeadLettered(int type, engine::DeadLetterReason reason) override;
  void AlertEmitted(int rule, TimeMs event_to_alert_ms) override;
  void Committed(int64_t records, double seconds) override;
  void Watermark(int partition, TimeMs clock, TimeMs watermark) override;
  void RuleReload(bool success) override;
  void PlanLoaded(const engine::Plan& plan) override;
  void EventProcessed(double ingest_to_processed_seconds) override;
  void ConsumerLag(int partition, int64_t messages) override;
  void OutboxPending(int64_t records) override;
  void StateStats(int64_t size_bytes, int64_t compaction_pending_bytes) override;
  void Ready(bool ready) override;

 private:
  struct TypeCounters {
    prometheus::Counter* accepted = nullptr;
    prometheus::Counter* dead_letter = nullptr;
  };
  static constexpr TimeMs kNoTime = INT64_MIN;
  struct PartitionSlot {
    std::atomic<TimeMs> clock{kNoTime};
    std::atomic<TimeMs> watermark{kNoTime};
    std::atomic<int64_t> lag{-1};
    // Created by the collect hook when the partition is first seen, so
    // partitions this instance never owned have no series.
    prometheus::Gauge* event_time = nullptr;
    prometheus::Gauge* watermark_lag = nullptr;
    prometheus::Gauge* consumer_lag = nullptr;
  };
  void UpdatePartitionGauges();

  monitoring::MetricsRegistry* registry_;
  const monitoring::ZichtMetricFamilies& f_;
  PrometheusEngineProbeOptions options_;
  std::vector<TypeCounters> types_;
  TypeCounters unknown_type_;
  std::array<prometheus::Counter*, engine::kDeadLetterReasonCount> reasons_{};
  std::vector<prometheus::Counter*> alerts_by_rule_;
  prometheus::Counter* commits_;
  prometheus::Counter* reload_success_;
  prometheus::Counter* reload_failure_;
  prometheus::Histogram* processing_latency_;
  prometheus::Histogram* event_to_alert_;
  prometheus::Histogram* commit_duration_;
  prometheus::Gauge* outbox_pending_;
  prometheus::Gauge* state_size_;
  prometheus::Gauge* compaction_pending_;
  prometheus::Gauge* rules_loaded_;
  prometheus::Gauge* ready_;
  std::unique_ptr<PartitionSlot[]> partitions_;
  int hook_id_ = 0;
};

}  // namespace zicht::runtime
