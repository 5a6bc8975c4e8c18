// PrometheusEngineProbe: resolves metric children once per plan.
#include "zicht/runtime/prometheus_probe.h"

#include <chrono>
#include <string>

#include "zicht/engine/plan.h"

namespace zicht::runtime {

using engine::DeadLetterReason;
using engine::DeadLetterReasonName;
using engine::kDeadLetterReasonCount;
using engine::Plan;
using engine::SchemaRegistry;
namespace {

// events_consumed `type` label when the event's type is not known.
constexpr const char* kUnknownType = "unknown";

}  // namespace

PrometheusEngineProbe::PrometheusEngineProbe(monitoring::MetricsRegistry* registry,
                                             const Plan& plan, PrometheusEngineProbeOptions options)
    : registry_(registry), f_(registry->families()), options_(options) {
  if (options_.partitions < 1) options_.partitions = 1;
  unknown_type_.accepted =
      &f_.events_consumed->Add({{"type", kUnknownType}, {"result", "accepted"}});
  unknown_type_.dead_letter =
      &f_.events_consumed->Add({{"type", kUnknownType}, {"result", "dead_letter"}});
  for (int r = 0; r < kDeadLetterReasonCount; ++r) {
    reasons_[static_cast<size_t>(r)] = &f_.dead_letters->Add(
        {{"reason", std::string(DeadLetterReasonName(static_cast<DeadLetterReason>(r)))}});
  }
  commits_ = &f_.commits->Add({});
  reload_success_ = &f_.rule_reloads->Add({{"result", "success"}});
  reload_failure_ = &f_.rule_reloads->Add({{"result", "failure"}});
  processing_latency_ = &f_.processing_latency->Add({}, monitoring::ProcessingLatencyBuckets());
  event_to_alert_ = &f_.event_to_alert_latency->Add({}, monitoring::EventToAlertLatencyBuckets());
  commit_duration_ = &f_.commit_duration->Add({}, monitoring::CommitDurationBuckets());
  outbox_pending_ = &f_.outbox_pending->Add({});
  state_size_ = &f_.state_size->Add({});
  compaction_pending_ = &f_.state_compaction_pending->Add({});
  rules_loaded_ = &f_.rules_loaded->Add({});
  ready_ = &f_.ready->Add({});
  partitions_ = std::make_unique<PartitionSlot[]>(static_cast<size_t>(options_.partitions));
  PlanLoaded(plan);
  hook_id_ = registry_->AddCollectHook([this] { UpdatePartitionGauges(); });
}

PrometheusEngineProbe::~PrometheusEngineProbe() {
  registry_->RemoveCollectHook(hook_id_);
}

void PrometheusEngineProbe::PlanLoaded(const Plan& plan) {
  // Children of types and rules that left the plan stay (counters are
  // cumulative); new ones start at 0.
  const SchemaRegistry& schemas = *plan.schemas();
  types_.assign(schemas.size(), {});
  for (size_t t = 0; t < schemas.size(); ++t) {
    const std::string& name = schemas.type(static_cast<int>(t)).type;
    types_[t].accepted = &f_.events_consumed->Add({{"type", name}, {"result", "accepted"}});
    types_[t].dead_letter = &f_.events_consumed->Add({{"type", name}, {"result", "dead_letter"}});
  }
  alerts_by_rule_.assign(plan.rules().size(), nullptr);
  for (size_t r = 0; r < plan.rules().size(); ++r) {
    const rules::RuleSpec& spec = *plan.rules()[r].spec;
    alerts_by_rule_[r] = &f_.alerts_emitted->Add(
        {{"rule", spec.id}, {"severity", std::string(rules::SeverityName(spec.severity))}});
  }
  rules_loaded_->Set(static_cast<double>(plan.rules().size()));
}

void PrometheusEngineProbe::EventAccepted(int type) {
  const TypeCounters& c =
      static_cast<size_t>(type) < types_.size() ? types_[static_cast<size_t>(type)] : unknown_type_;
  c.accepted->Increment();
}

void PrometheusEngineProbe::EventDeadLettered(int type, DeadLetterReason reason) {
  const TypeCounters& c =
      static_cast<size_t>(type) < types_.size() ? types_[static_cast<size_t>(type)] : unknown_type_;
  c.dead_letter->Increment();
  const auto r = static_cast<size_t>(reason);
  if (r < reasons_.size()) reasons_[r]->Increment();
}

void PrometheusEngineProbe::AlertEmitted(int rule, TimeMs event_to_alert_ms) {
  if (static_cast<size_t>(rule) < alerts_by_rule_.size()) {
    alerts_by_rule_[static_cast<size_t>(rule)]->Increment();
  }
  event_to_alert_->Observe(static_cast<double>(event_to_alert_ms) / 1000.0);
}

void PrometheusEngineProbe::Committed(int64_t /*records*/, double seconds) {
  commits_->Increment();
  commit_duration_->Observe(seconds);
}

void PrometheusEngineProbe::Watermark(int partition, TimeMs clock, TimeMs watermark) {
  if (partition < 0 || partition >= options_.partitions) return;
  PartitionSlot& slot = partitions_[static_cast<size_t>(partition)];
  slot.clock.store(clock, std::memory_order_relaxed);
  slot.watermark.store(watermark, std::memory_order_relaxed);
}

void PrometheusEngineProbe::RuleReload(bool success) {
  (success ? reload_success_ : reload_failure_)->Increment();
}

void PrometheusEngineProbe::EventProcessed(double seconds) {
  processing_latency_->Observe(seconds);
}

void PrometheusEngineProbe::ConsumerLag(int partition, int64_t messages) {
  if (partition < 0 || partition >= options_.partitions) return;
  partitions_[static_cast<size_t>(partition)].lag.store(messages < 0 ? 0 : messages,
                                                        std::memory_order_relaxed);
}

void PrometheusEngineProbe::OutboxPending(int64_t records) {
  outbox_pending_->Set(static_cast<double>(records));
}

void PrometheusEngineProbe::StateStats(int64_t size_bytes, int64_t compaction_pending_bytes) {
  state_size_->Set(static_cast<double>(size_bytes));
  compaction_pending_->Set(static_cast<double>(compaction_pending_bytes));
}

void PrometheusEngineProbe::Ready(bool ready) {
  ready_->Set(ready ? 1 : 0);
}

void PrometheusEngineProbe::UpdatePartitionGauges() {
  const TimeMs now = ClockOr(options_.clock).WallMs();
  for (int p = 0; p < options_.partitions; ++p) {
    PartitionSlot& slot = partitions_[static_cast<size_t>(p)];
    const std::string label = std::to_string(p);
    const TimeMs clock = slot.clock.load(std::memory_order_relaxed);
    const TimeMs watermark = slot.watermark.load(std::memory_order_relaxed);
    if (clock != kNoTime) {
      if (slot.event_time == nullptr) {
        slot.event_time = &f_.event_time->Add({{"partition", label}});
        slot.watermark_lag = &f_.watermark_lag->Add({{"partition", label}});
      }
      slot.event_time->Set(static_cast<double>(clock) / 1000.0);
      slot.watermark_lag->Set(static_cast<double>(now - watermark) / 1000.0);
    }
    const int64_t lag = slot.lag.load(std::memory_order_relaxed);
    if (lag >= 0) {
      if (slot.consumer_lag == nullptr) {
        slot.consumer_lag = &f_.consumer_lag->Add({{"partition", label}});
      }
      slot.consumer_lag->Set(static_cast<double>(lag));
    }
  }
}

}  // namespace zicht::runtime
