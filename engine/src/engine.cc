#include "zicht/engine/engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "alert_builder.h"
#include "forward_exchange.h"
#include "national_barrier.h"
#include "national_exchange.h"
#include "outbox.h"
#include "partition_state.h"
#include "partition_store.h"
#include "rule_scheduler.h"
#include "zicht/engine/probe.h"
#include "zicht/rules/alert.h"

namespace zicht::engine {
namespace {

std::string SourceOf(const connectors::SourceRecord& record, const std::string& source_name) {
  return record.line > 0 ? fmt::format("{}:{}", source_name, record.line)
                         : fmt::format("{}/{}/{}", source_name, record.partition, record.offset);
}

}  // namespace

Engine::Engine(PlanPtr plan, StateStore* store, connectors::RecordSink* alerts,
               connectors::RecordSink* dead_letters, EngineOptions options, EngineProbe* probe)
    : store_(store), options_(options), probe_(probe), clock_(ClockOr(options_.clock)) {
  static EngineProbe null_probe;
  if (probe_ == nullptr) probe_ = &null_probe;
  OutboxOptions outbox;
  outbox.alerts = alerts;
  outbox.dead_letters = dead_letters;
  outbox.flush_timeout = options_.outbox_flush_timeout;
  outbox_ = std::make_unique<Outbox>(outbox, probe_, &clock_);
  SetPlan(std::move(plan));
  for (int p = 0; p < options_.partitions; ++p) {
    auto part = std::make_unique<PartitionState>();
    part->id = p;
    if (options_.own_all_partitions)
      InitPartitionState(*part, *plan_, partition_munis_[static_cast<size_t>(p)]);
    partitions_.push_back(std::move(part));
  }
}

Engine::~Engine() = default;

void Engine::SetPlan(PlanPtr plan) {
  plan_ = std::move(plan);
  decoder_ = std::make_unique<EventDecoder>(plan_->schemas(), plan_->municipalities_ptr(),
                                            options_.decoder, plan_->neighbourhoods_ptr(),
                                            plan_->final_codes());
  forward_decoder_ = std::make_unique<EventDecoder>(plan_->schemas(), plan_->municipalities_ptr(),
                                                    options_.decoder, plan_->neighbourhoods_ptr(),
                                                    plan_->final_codes());
  const MunicipalityTable& munis = plan_->municipalities();
  partition_of_.assign(munis.size(), 0);
  partition_munis_.assign(static_cast<size_t>(options_.partitions), {});
  for (size_t m = 0; m < munis.size(); ++m) {
    const int p = plan_->PartitionOf(static_cast<int>(m), options_.partitions);
    partition_of_[m] = p;
    partition_munis_[static_cast<size_t>(p)].push_back(static_cast<int>(m));
  }
  // Producers key events by the code they write (SPEC 8.3): a merged code's
  // events may arrive where its history does not live, and are forwarded.
  const auto P = static_cast<size_t>(options_.partitions);
  forwarders_of_.assign(P, {});
  forward_involved_.assign(P, 0);
  key_partition_of_.assign(munis.size(), 0);
  forwarding_ = false;
  auto note_key = [&](std::string_view code, size_t m) {
    const int key = options_.partitions > 1 ? KafkaPartitionForKey(code, options_.partitions) : 0;
    const int home = partition_of_[m];
    if (key != home) {
      std::vector<int>& from = forwarders_of_[static_cast<size_t>(home)];
      if (std::find(from.begin(), from.end(), key) == from.end()) from.push_back(key);
      std::sort(from.begin(), from.end());
      forward_involved_[static_cast<size_t>(key)] = 1;
      forward_involved_[static_cast<size_t>(home)] = 1;
      forwarding_ = true;
    }
    return key;
  };
  for (size_t m = 0; m < munis.size(); ++m) key_partition_of_[m] = note_key(munis.at(m).code, m);
  for (const auto& [alias, row] : munis.aliases()) note_key(alias, static_cast<size_t>(row));
  active_partitions_.clear();
  for (int p = 0; p < options_.partitions; ++p) {
    if (!partition_munis_[static_cast<size_t>(p)].empty()) active_partitions_.push_back(p);
  }
  NationalBaselineOptions national_options;
  national_options.lag_days = options_.national_lag_days;
  national_options.prune = options_.own_all_partitions;
  national_ = std::make_unique<NationalBaseline>(*plan_, active_partitions_, national_options);
  forwards_ = std::make_unique<ForwardExchange>(int64_t{plan_->uses_hours() ? 24 : 1} *
                                                national_options.history);
  const int64_t held = barrier_ ? barrier_->held() : 0;
  barrier_ = std::make_unique<NationalBarrier>(*plan_, national_.get(), active_partitions_.size(),
                                               options_.national_lag_days);
  barrier_->Restore(held);
  scheduler_ = std::make_unique<RuleScheduler>(*plan_, national_.get(), barrier_.get(),
                                               options_.incremental_evaluation);
  PartitionStoreOptions ps;
  ps.evidence_ids = options_.evidence_ids;
  ps.dedup_horizon_ms = options_.dedup_horizon_ms;
  partition_store_ = std::make_unique<PartitionStore>(*plan_, ps);
  stats_.accepted_by_type.assign(plan_->schemas()->size(), 0);
  stats_.alerts_by_rule.assign(plan_->rules().size(), 0);
  probe_->PlanLoaded(*plan_);
}

Status Engine::CheckRouting(const Plan& plan) const {
  // A partition's state is stored under its id: a code whose partition a new
  // merger changes would leave its history behind (SPEC 8.3 folds within a
  // partition). One partition, or a merger within one, is always fine.
  const MunicipalityTable& now = plan_->municipalities();
  const MunicipalityTable& next = plan.municipalities();
  for (size_t m = 0; m < next.size() && options_.partitions > 1; ++m) {
    const int before = now.IndexOf(next.at(m).code);
    const int after = plan.PartitionOf(static_cast<int>(m), options_.partitions);
    const int was = before >= 0 ? partition_of_[static_cast<size_t>(before)]
                                : KafkaPartitionForKey(next.at(m).code, options_.partitions);
    if (was != after) {
      const std::string& key =
          next.at(static_cast<size_t>(plan.final_of(static_cast<int>(m)))).code;
      return Status::InvalidArgument(fmt::format(
          "a merger moves {} from partition {} to {} (that of {}); its history stays in "
          "partition {}: with {} partitions add mergers before the first event, or replay "
          "the input with the new reference data",
          next.at(m).code, was, after, key, was, options_.partitions));
    }
  }
  return Status::Ok();
}

Status Engine::ReplacePlan(PlanPtr plan) {
  // Everything lives in the store after a commit, keyed by what it means
  // (series and rule versions), so the new plan simply reloads it: unchanged
  // series and rules keep their history and timers; new ones start empty.
  ZICHT_RETURN_IF_ERROR(CheckRouting(*plan));
  ZICHT_RETURN_IF_ERROR(Commit());
  std::vector<std::pair<int, std::deque<PendingEvent>>> pending;
  std::vector<int> owned;
  for (auto& part : partitions_) {
    if (!part->owned) continue;
    owned.push_back(part->id);
    if (!part->pending.empty()) pending.emplace_back(part->id, std::move(part->pending));
  }
  const EngineStats kept = stats_;
  SetPlan(std::move(plan));
  stats_.records = kept.records;
  stats_.accepted = kept.accepted;
  stats_.dead_letters = kept.dead_letters;
  std::copy(std::begin(kept.dead_by_reason), std::end(kept.dead_by_reason),
            std::begin(stats_.dead_by_reason));
  stats_.alerts = kept.alerts;
  stats_.commits = kept.commits;
  for (int p : owned) ZICHT_RETURN_IF_ERROR(ResetPartition(p, /*load_position_and_outbox=*/false));
  for (auto& [p, queue] : pending) Partition(p).pending = std::move(queue);
  ++stats_.plan_replacements;
  return TryDrainBlocked();
}

Status Engine::ResetPartition(int p, bool load_position_and_outbox) {
  auto fresh = std::make_unique<PartitionState>();
  fresh->id = p;
  partitions_[static_cast<size_t>(p)] = std::move(fresh);
  PartitionState& part = Partition(p);
  InitPartitionState(part, *plan_, partition_munis_[static_cast<size_t>(p)]);
  ZICHT_RETURN_IF_ERROR(partition_store_->Load(store_, part));
  // A merger whose day is already behind the partition (a reload added it):
  // folded now, as it would have been when the clock entered the day.
  if (part.store->has_clock() && part.has_clock) FoldMergersDue(part, part.clock);
  if (part.store->has_clock() && !part.store->municipalities().empty()) {
    // Partitions that lag this one, and the national lag, need its snapshots
    // of earlier final buckets.
    national_->PublishHistory(p, false, *part.store,
                              kReloadHistoryDays + options_.national_lag_days);
    if (plan_->uses_hours()) {
      national_->PublishHistory(p, true, *part.store,
                                24 * (kReloadHistoryDays + options_.national_lag_days));
    }
    PublishNational(part);
  }
  // Batches a partition behind this one may still need.
  for (const ForwardBatch& b : part.forwards_sent) {
    if (options_.export_national)
      national_out_.push_back(ForwardExchange::Encode(plan_->rule_set().version(), b));
    forwards_->Publish(b);
  }
  if (!load_position_and_outbox) return Status::Ok();
  ZICHT_RETURN_IF_ERROR(LoadSourcePosition(p));
  return LoadOutbox(p);
}

bool Engine::Owns(int partition) const {
  return partition >= 0 && partition < options_.partitions &&
         partitions_[static_cast<size_t>(partition)]->owned;
}

TimeMs Engine::Clock(int partition) const {
  const PartitionState& p = *partitions_[static_cast<size_t>(partition)];
  return p.has_clock ? p.clock : kMinTime;
}

PartitionState& Engine::Partition(int partition) {
  return *partitions_[static_cast<size_t>(partition)];
}

Status Engine::Assign(const std::vector<int>& partitions) {
  for (int p : partitions) {
    if (p < 0 || p >= options_.partitions) {
      return Status::InvalidArgument(
          fmt::format("partition {} outside 0..{}", p, options_.partitions - 1));
    }
    if (Owns(p)) continue;
    // Start from a clean slate, then load what the store has for it.
    ZICHT_RETURN_IF_ERROR(ResetPartition(p, /*load_position_and_outbox=*/true));
  }
  return DeliverOutbox();
}

Status Engine::Revoke(const std::vector<int>& partitions, bool commit) {
  if (commit) ZICHT_RETURN_IF_ERROR(Commit());
  for (int p : partitions) {
    if (!Owns(p)) continue;
    // Held-back events were not applied; the next owner reads them again from
    // the committed position.
    barrier_->Forget(Partition(p));
    auto empty = std::make_unique<PartitionState>();
    empty->id = p;
    partitions_[static_cast<size_t>(p)] = std::move(empty);
    positions_.erase(p);
    outbox_->Drop(p);
  }
  return Status::Ok();
}

SourcePosition Engine::Position(int partition) const {
  auto it = positions_.find(partition);
  return it == positions_.end() ? SourcePosition{} : it->second;
}

void Engine::SetSourceId(int partition, std::string id) {
  SourcePosition& pos = positions_[partition];
  if (pos.source_id == id) return;
  // A different input: positions of the previous one mean nothing for it.
  // A file feeds every partition; a Kafka partition feeds its own.
  pos = SourcePosition{};
  pos.source_id = std::move(id);
  for (auto& part : partitions_) {
    if (!options_.own_all_partitions && part->id != partition) continue;
    part->applied_offset = -1;
    part->meta_dirty = true;
  }
}

void Engine::DeadLetter(DeadLetterReason reason, std::string detail,
                        const connectors::SourceRecord& record, const std::string& source_name,
                        int partition) {
  ++stats_.dead_letters;
  ++stats_.dead_by_reason[static_cast<int>(reason)];
  probe_->EventDeadLettered(-1, reason);
  PartitionState& part = Partition(partition);
  OutboxRecord out;
  out.partition = partition;
  out.seq = part.next_seq++;
  part.meta_dirty = true;
  out.alert = false;
  out.record.value.assign(record.payload);
  out.record.key.assign(record.key);
  out.record.headers = {
      {std::string(connectors::kReasonHeader), std::string(DeadLetterReasonName(reason))},
      {std::string(connectors::kDetailHeader), std::move(detail)},
      {std::string(connectors::kSourceHeader), SourceOf(record, source_name)}};
  outbox_->Add(std::move(out));
}

bool Engine::WrongPartition(int owner, int partition, const DecodedEvent& event,
                            const connectors::SourceRecord& record,
                            const std::string& source_name) {
  if (owner == partition) return false;
  const MunicipalityTable& munis = plan_->municipalities();
  const int final_code = plan_->final_of(event.municipality);
  // A merged code keyed by itself: its merger lives in the new code's partition.
  const std::string merged =
      final_code == event.municipality
          ? std::string()
          : fmt::format(" (merged into {}: key its events by the code they name)",
                        munis.at(static_cast<size_t>(final_code)).code);
  DeadLetter(
      DeadLetterReason::kWrongPartition,
      fmt::format("municipality {} belongs to partition {}, not {}{}",
                  munis.at(static_cast<size_t>(event.municipality)).code, owner, partition, merged),
      record, source_name, partition);
  return true;
}

int Engine::KeyPartitionOf(const DecodedEvent& event) const {
  const auto m = static_cast<size_t>(event.municipality);
  // An alias names its new code's row: its key is the alias itself.
  if (event.municipality_code == plan_->municipalities().at(m).code) return key_partition_of_[m];
  return KafkaPartitionForKey(event.municipality_code, options_.partitions);
}

int Engine::Route(int arrival, const DecodedEvent& event, const connectors::SourceRecord& record,
                  const std::string& source_name) {
  const int home = partition_of_[static_cast<size_t>(event.municipality)];
  if (home == arrival) return kCountHere;
  if (forwarding_ && KeyPartitionOf(event) == arrival) return home;
  WrongPartition(home, arrival, event, record, source_name);
  return kDeadLettered;
}

void Engine::NoteProcessed(PartitionState* part, const connectors::SourceRecord& record) {
  SourcePosition& pos = positions_[record.partition];
  if (record.next_offset > pos.next_offset) {
    pos.next_offset = record.next_offset;
    pos.line = record.line + 1;
  }
  if (part != nullptr) {
    part->applied_offset = std::max(part->applied_offset, record.next_offset);
    part->meta_dirty = true;
  }
}

Status Engine::Process(const connectors::SourceRecord& record, const std::string& source_name,
                       bool route_by_municipality) {
  ++stats_.records;
  ++since_commit_;
  current_ingest_time_ = record.ingest_time;
  // Ingest-to-processed latency on a sample (a clock read per event is not free).
  if ((++latency_sample_ & 63) == 0 && record.ingest_time > 0) {
    probe_->EventProcessed(static_cast<double>(clock_.WallMs() - record.ingest_time) / 1000.0);
  }
  // Kafka: a partition that holds events back for national figures queues
  // every later record of it, undecoded (it is decoded once, when released).
  if (!route_by_municipality && record.partition >= 0 && record.partition < options_.partitions) {
    PartitionState& part = Partition(record.partition);
    if (part.owned && !part.pending.empty()) {
      HoldBack(part, record, source_name, kMinTime, /*advanced=*/false, /*at_front=*/false);
      return Status::Ok();
    }
  }
  DecodedEvent event;
  DecodeError error;
  if (!decoder_->Decode(record.payload, record.padded, &event, &error)) {
    DeadLetter(error.reason, std::move(error.detail), record, source_name, record.partition);
    NoteProcessed(nullptr, record);
    return Status::Ok();
  }
  // Files emulate Kafka's partitioner on the code the producer wrote.
  const int p = !route_by_municipality ? record.partition
                : forwarding_          ? KeyPartitionOf(event)
                                       : partition_of_[static_cast<size_t>(event.municipality)];
  const int forward_to = Route(p, event, record, source_name);
  if (forward_to == kDeadLettered) {
    NoteProcessed(nullptr, record);
    return Status::Ok();
  }
  PartitionState& part = Partition(p);
  if (!part.owned) {
    return Status::Internal(
        fmt::format("a record for partition {}, which is not assigned here", p));
  }
  // The de-duplication lookup is the one likely cache miss per event: start
  // it now, so that the checks below overlap with it.
  const Hash128 dedup_key = DedupKeyOf(event);
  part.seen.Prefetch(dedup_key);
  // Already applied before a restart (a source resumes at the lowest position
  // of the partitions it feeds): skip, so nothing is counted twice.
  if (record.next_offset <= part.applied_offset) {
    ++stats_.skipped_replayed;
    NoteProcessed(nullptr, record);
    return Status::Ok();
  }
  if (!part.pending.empty()) {
    HoldBack(part, record, source_name, event.time, /*advanced=*/false, /*at_front=*/false);
    return Status::Ok();
  }
  const Outcome outcome =
      ProcessDecoded(part, event, record, source_name, /*advanced=*/false, &dedup_key, forward_to);
  if (outcome != Outcome::kDone) {
    const bool forwards = outcome == Outcome::kWaitForwards;
    HoldBack(part, record, source_name, event.time, /*advanced=*/!forwards, /*at_front=*/false,
             forwards);
  }
  // A partition moving on may complete the national figures others wait for.
  if (barrier_->held() > 0) return TryDrainBlocked();
  return Status::Ok();
}

void Engine::HoldBack(PartitionState& part, const connectors::SourceRecord& record,
                      const std::string& source_name, TimeMs time, bool advanced, bool at_front,
                      bool forwards) {
  PendingEvent pe;
  pe.time = time;
  pe.payload.assign(record.payload);
  pe.record = record;
  pe.record.key = {};
  pe.record.padded = false;
  pe.source_name = source_name;
  pe.advanced = advanced;
  pe.forwards = forwards;
  barrier_->Hold(part, std::move(pe), at_front);
  if (!at_front) ++stats_.held_back;
}

Hash128 Engine::DedupKeyOf(const DecodedEvent& event) {
  dedup_text_.clear();
  dedup_text_.append(event.type_name).push_back('\0');
  dedup_text_.append(event.id);
  return Murmur3_128(dedup_text_);
}

Engine::Outcome Engine::ProcessDecoded(PartitionState& part, const DecodedEvent& event,
                                       const connectors::SourceRecord& record,
                                       const std::string& source_name, bool advanced,
                                       const Hash128* key, int forward_to) {
  const TimeMs t = event.time;
  const Hash128 dedup_key = key != nullptr ? *key : DedupKeyOf(event);
  if (!advanced) {
    if (part.has_clock && t < part.clock - options_.allowed_lateness_ms) {
      DeadLetter(DeadLetterReason::kTooLate,
                 fmt::format("time {} is before the watermark {}", FormatRfc3339(t),
                             FormatRfc3339(part.clock - options_.allowed_lateness_ms)),
                 record, source_name, part.id);
      NoteProcessed(&part, record);
      return Outcome::kDone;
    }
    // The horizon is kept in whole minutes (the index stores minutes).
    const int32_t seen_at = part.seen.Find(dedup_key);
    if (seen_at != DedupIndex::kAbsent &&
        seen_at >= DedupIndex::Minute(part.clock - options_.dedup_horizon_ms)) {
      DeadLetter(DeadLetterReason::kDuplicate,
                 fmt::format("{} {} was accepted before, within the de-duplication horizon (at {})",
                             event.type_name, event.id,
                             FormatRfc3339(static_cast<TimeMs>(seen_at) * kMsPerMinute)),
                 record, source_name, part.id);
      NoteProcessed(&part, record);
      return Outcome::kDone;
    }
    if ((!part.has_clock || t > part.clock) && part.store->NeedsAdvance(t)) {
      if (!ForwardsReady(part, t)) return Outcome::kWaitForwards;
      if (!AdvanceClock(part, t)) return Outcome::kHeldBack;
    }
    // The store's clock may be ahead of the partition's (an event held back
    // before a restart moved it): the barrier holds whenever it is not met,
    // not only when this event moves the clock.
    if (!barrier_->Ready(part)) return Outcome::kHeldBack;
  }
  const bool day_changed =
      !part.has_clock || FloorDiv(t, kMsPerDay) > FloorDiv(part.clock, kMsPerDay);
  if (!part.has_clock || t > part.clock) part.clock = t;
  part.has_clock = true;
  if (part.first_event_time == kMinTime) part.first_event_time = t;

  // Remember for de-duplication.
  part.seen.Put(dedup_key, t, part.clock - options_.dedup_horizon_ms);
  part.seen_new.push_back(DedupRecord{FloorDiv(t, kMsPerDay), dedup_key, t});

  ++stats_.accepted;
  ++stats_.accepted_by_type[static_cast<size_t>(event.type)];
  probe_->EventAccepted(event.type);

  if (forward_to >= 0) {
    // Counted where its history lives, once this partition's final bucket
    // has moved on (forward_exchange.h); evaluated there.
    part.forwards_pending.push_back(ForwardedEvent{forward_to, std::string(record.payload)});
    ++stats_.forwarded;
    NoteProcessed(&part, record);
    if (day_changed) EvaluateAll(part);
    return Outcome::kDone;
  }

  // After a merger, an old code's events count under the new code (SPEC 8.3).
  const int local = part.store->CountingUnit(part.store->Local(event.municipality));
  // The event's neighbourhood unit when some series is kept per neighbourhood.
  const int buurt =
      event.neighbourhood >= 0 ? part.store->LocalOfNeighbourhood(event.neighbourhood) : -1;
  CountEvent(part, event, local, buurt);
  NoteProcessed(&part, record);

  if (day_changed) {
    // SPEC: when T enters a new UTC day every rule is evaluated for every
    // municipality (this includes the event's own evaluation).
    EvaluateAll(part);
  } else {
    // Municipality rules for its municipality, then neighbourhood rules for
    // its neighbourhood (an event without one counts at municipality level only).
    if (part.store->live(local)) scheduler_->EvaluateAfterEvent(part, local, &fired_);
    if (buurt >= 0) scheduler_->EvaluateAfterEvent(part, buurt, &fired_);
    EmitFired(part);
  }
  return Outcome::kDone;
}

void Engine::CountEvent(PartitionState& part, const DecodedEvent& event, int local, int buurt) {
  WindowStore& ws = *part.store;
  scheduler_->BeginEvent();
  for (int s : plan_->series_of_type(event.type)) {
    const SeriesDef& series = plan_->series()[static_cast<size_t>(s)];
    bool matched = true;
    for (const CompiledFilter& f : series.filters) {
      if (!f.Matches(event.fields[static_cast<size_t>(f.field)])) {
        matched = false;
        break;
      }
    }
    FixedSum value = 0;
    if (series.sum_field >= 0) {
      const FieldValue& fv = event.fields[static_cast<size_t>(series.sum_field)];
      // An optional number that is absent is not aggregated.
      if (fv.present) {
        value = ToFixed(fv.number);
      } else {
        matched = false;
      }
    }
    if (!matched && !series.count_all) continue;
    const int64_t bucket = FloorDiv(event.time, series.bucket_ms);
    ws.Add(s, local, bucket, matched, value);
    if (matched) {
      PushEvidence(part, s, local, event.id, event.time, bucket,
                   static_cast<size_t>(options_.evidence_ids));
    }
    if (series.neighbourhood && buurt >= 0) {
      ws.Add(s, buurt, bucket, matched, value);
      if (matched) {
        PushEvidence(part, s, buurt, event.id, event.time, bucket,
                     static_cast<size_t>(options_.evidence_ids));
      }
    }
    scheduler_->Touched(series, matched);
  }
}

MeasureInput Engine::Input(PartitionState& part, int indicator, int local) {
  return PartitionInput(*plan_, *national_, *barrier_, part, indicator, local);
}

void Engine::EvaluateAll(PartitionState& part) {
  scheduler_->EvaluateAll(part, &fired_);
  EmitFired(part);
}

void Engine::EmitFired(PartitionState& part) {
  stats_.evaluations = scheduler_->evaluations();
  for (const Firing& f : fired_) EmitAlert(part, f.rule, f.local, f.score);
  fired_.clear();
}

void Engine::EmitAlert(PartitionState& part, int rule, int local, double score) {
  const RuleDef& rd = plan_->rules()[static_cast<size_t>(rule)];
  inputs_.clear();
  for (int indicator : rd.condition_indicator) inputs_.push_back(Input(part, indicator, local));
  rules::Alert alert = AlertBuilder::Build(*plan_, part, rule, local, score, inputs_,
                                           clock_.WallMs(), options_.evidence_ids);
  const int muni = part.store->MunicipalityOf(local);
  ++stats_.alerts;
  ++stats_.alerts_by_rule[static_cast<size_t>(rule)];
  OutboxRecord out;
  out.rule = rule;
  out.ingest_time = current_ingest_time_;
  out.partition = part.id;
  out.seq = part.next_seq++;
  part.meta_dirty = true;
  out.alert = true;
  out.record.key = alert.municipality;
  out.record.value = rules::AlertToJson(alert);
  recent_alerts_.push_back(
      RecentAlert{alert.emitted_at, alert.event_time, muni, rule, out.record.value});
  while (recent_alerts_.size() > options_.recent_alerts) recent_alerts_.pop_front();
  outbox_->Add(std::move(out));
}

}  // namespace zicht::engine
