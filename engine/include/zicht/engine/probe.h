// EngineProbe: the engine's metrics seam. Business code calls these methods
// and never touches the metrics library; the default does nothing, the
// Prometheus implementation is PrometheusEngineProbe (prometheus_probe.h).
//
// Calls come from the thread that drives the engine unless a method says
// otherwise; implementations must keep them cheap (no allocation, no lookup).
#pragma once

#include <cstdint>
#include <string_view>

#include "zicht/base/time.h"
#include "zicht/engine/event.h"

namespace zicht::engine {

class Plan;

class EngineProbe {
 public:
  virtual ~EngineProbe() = default;
  virtual void EventAccepted(int /*type*/) {}
  virtual void EventDeadLettered(int /*type or -1*/, DeadLetterReason /*reason*/) {}
  // `event_to_alert_ms`: wall-clock time from ingest of the event that
  // completed the alert until the alert was emitted.
  virtual void AlertEmitted(int /*rule*/, TimeMs /*event_to_alert_ms*/) {}
  virtual void Committed(int64_t /*records*/, double /*seconds*/) {}
  virtual void Watermark(int /*partition*/, TimeMs /*clock*/, TimeMs /*watermark*/) {}
  // A rule-pack reload finished (success: the new set runs; failure: the
  // last good set keeps running).
  virtual void RuleReload(bool /*success*/) {}

  // A plan (rule set + reference data) is now running: type and rule indices
  // of later calls refer to it. Called at start and after every reload,
  // between records.
  virtual void PlanLoaded(const Plan& /*plan*/) {}
  // Wall-clock seconds from ingest (source timestamp) to processed, per event
  // or for a sample of events.
  virtual void EventProcessed(double /*ingest_to_processed_seconds*/) {}
  // Messages between the consumer position and the partition's end offset.
  // May be called from the consumer's statistics thread.
  virtual void ConsumerLag(int /*partition*/, int64_t /*messages*/) {}
  // Records in the outbox not yet acknowledged by a sink (after each commit).
  virtual void OutboxPending(int64_t /*records*/) {}
  // RocksDB size on disk and pending compaction bytes (e.g. every commit).
  virtual void StateStats(int64_t /*size_bytes*/, int64_t /*compaction_pending_bytes*/) {}
  // Readiness as /readyz reports it (rules loaded and caught up).
  virtual void Ready(bool /*ready*/) {}
};

}  // namespace zicht::engine
