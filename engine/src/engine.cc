#include "zicht/engine/engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <unordered_map>

#include "state_codec.h"
#include "zicht/base/sha256.h"
#include "zicht/engine/dedup_index.h"
#include "zicht/engine/measure_math.h"
#include "zicht/engine/measures.h"
#include "zicht/engine/probe.h"
#include "zicht/rules/alert.h"

namespace zicht::engine {
namespace {

constexpr uint8_t kMetaFormat = 3;
constexpr uint8_t kNationalFormat = 1;
// Final buckets re-published after a restart or reload (how far behind
// another partition may be then without losing exact national figures).
constexpr int kReloadHistoryDays = 8;

uint64_t RuleKey(const RuleDef& rule) {
  Hash128 h = Murmur3_128(rule.pack + "/" + rule.spec->id + "|" + rule.spec->version);
  return h.lo;
}

TimeMs WallNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string PartitionPrefix(int partition) {
  std::string k;
  codec::PutU32(&k, static_cast<uint32_t>(partition));
  return k;
}

}  // namespace

struct DedupRecord {
  int64_t day;
  Hash128 key;
  TimeMs time;
};

// One recent event id counted by a series, for alert evidence.
struct EvidenceEntry {
  TimeMs time = 0;
  int64_t bucket = 0;
  std::string id;
};

struct EvidenceRing {
  std::vector<EvidenceEntry> entries;  // capacity evidence_ids
  size_t head = 0;                     // next slot to overwrite once full
  bool dirty = false;
};

// An event held back until national figures for its partition's new final
// bucket exist (only with several partitions).
struct Engine::PendingEvent {
  std::string payload;
  connectors::SourceRecord record;  // payload view points into `payload`
  std::string source_name;
  TimeMs time = 0;        // event time
  bool advanced = false;  // clock already moved for it
  bool tick = false;      // not an event: a clock tick (Engine::Tick)
};

struct Engine::PartitionState {
  int id = 0;
  bool owned = false;
  uint64_t next_seq = 1;  // outbox sequence
  uint64_t commit_seq = 0;  // commits that changed this partition (changelog currency)
  int64_t ready_final_day = INT64_MIN;   // national figures known complete for these
  int64_t ready_final_hour = INT64_MIN;
  std::unique_ptr<WindowStore> store;
  bool has_clock = false;
  TimeMs clock = kMinTime;          // T: largest accepted event time
  TimeMs first_event_time = kMinTime;
  std::vector<EvidenceRing> evidence;  // [series * locals + local]
  std::vector<rules::RuleTimer> timers;  // [rule * locals + local]
  std::vector<uint8_t> timer_dirty;
  // De-duplication: hash(type, id) -> accepted event time, and per day the
  // hashes to forget once the day leaves the horizon.
  DedupIndex seen;
  std::vector<DedupRecord> seen_new;        // accepted since the last commit
  uint64_t dedup_chunk = 0;                 // next chunk number in the dedup family
  int64_t evicted_before_day = INT64_MIN;   // dedup days forgotten below this
  std::map<int64_t, std::vector<uint64_t>> dedup_chunks;  // day -> chunk numbers written
  int64_t persisted_evicted_before_day = INT64_MIN;
  // Next source offset after the last record applied to this partition.
  int64_t applied_offset = -1;
  std::vector<int64_t> persisted_oldest;  // per series: buckets below are deleted
  std::deque<PendingEvent> pending;
  bool meta_dirty = true;
  // National figures per indicator at the partition's final bucket.
  struct FiguresRef {
    int64_t final_bucket = INT64_MIN;
    std::shared_ptr<const NationalFigures> figures;
  };
  std::vector<FiguresRef> figures;
  std::vector<ConditionCache> conditions;  // [condition * locals + local]
  std::vector<uint8_t> rule_held;          // [rule * locals + local]: last combination
  // Per-municipality state is laid out municipality-major: an event touches
  // one municipality's rules, conditions and evidence, which then sit together.
  size_t rule_count = 0, condition_count = 0, series_count = 0;
  size_t RuleSlot(int rule, int local) const {
    return static_cast<size_t>(local) * rule_count + static_cast<size_t>(rule);
  }
  size_t ConditionSlot(int condition, int local) const {
    return static_cast<size_t>(local) * condition_count + static_cast<size_t>(condition);
  }
  size_t EvidenceSlot(int series, int local) const {
    return static_cast<size_t>(local) * series_count + static_cast<size_t>(series);
  }
  // Bumped whenever windows or national figures move without an event
  // (bucket changes, ticks, loads), which invalidates cached outcomes.
  uint32_t epoch = 1;
};

Engine::Engine(PlanPtr plan, StateStore* store, connectors::RecordSink* alerts,
               connectors::RecordSink* dead_letters, EngineOptions options, EngineProbe* probe)
    : store_(store),
      alert_sink_(alerts),
      dead_letter_sink_(dead_letters),
      options_(std::move(options)),
      probe_(probe) {
  static EngineProbe null_probe;
  if (probe_ == nullptr) probe_ = &null_probe;
  if (!options_.wall_clock) options_.wall_clock = WallNow;
  SetPlan(std::move(plan));
  for (int p = 0; p < options_.partitions; ++p) {
    auto part = std::make_unique<PartitionState>();
    part->id = p;
    if (options_.own_all_partitions) InitPartition(*part);
    partitions_.push_back(std::move(part));
  }
}

void Engine::SetPlan(PlanPtr plan) {
  plan_ = std::move(plan);
  decoder_ = std::make_unique<EventDecoder>(plan_->schemas(), plan_->municipalities_ptr(),
                                            options_.decoder);
  const MunicipalityTable& munis = plan_->municipalities();
  partition_of_.assign(munis.size(), 0);
  partition_munis_.assign(static_cast<size_t>(options_.partitions), {});
  for (size_t m = 0; m < munis.size(); ++m) {
    int p = options_.partitions == 1 ? 0 : KafkaPartitionForKey(munis.at(m).code, options_.partitions);
    partition_of_[m] = p;
    partition_munis_[static_cast<size_t>(p)].push_back(static_cast<int>(m));
  }
  active_partitions_.clear();
  for (int p = 0; p < options_.partitions; ++p) {
    if (!partition_munis_[static_cast<size_t>(p)].empty()) active_partitions_.push_back(p);
  }
  national_ = std::make_unique<NationalBaseline>(*plan_, active_partitions_);
  stats_.accepted_by_type.assign(plan_->schemas()->size(), 0);
  stats_.alerts_by_rule.assign(plan_->rules().size(), 0);
  rule_stamp_.assign(plan_->rules().size(), 0);
  size_t max_conditions = 0;
  for (const RuleDef& r : plan_->rules()) {
    max_conditions = std::max(max_conditions, r.spec->conditions.size());
  }
  held_scratch_ = std::make_unique<bool[]>(std::max<size_t>(1, max_conditions));
  probe_->PlanLoaded(*plan_);
}

Status Engine::ReplacePlan(PlanPtr plan) {
  // Everything lives in the store after a commit, keyed by what it means
  // (series and rule versions), so the new plan simply reloads it: unchanged
  // series and rules keep their history and timers; new ones start empty.
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
  std::copy(std::begin(kept.dead_by_reason), std::end(kept.dead_by_reason), std::begin(stats_.dead_by_reason));
  stats_.alerts = kept.alerts;
  stats_.commits = kept.commits;
  for (int p : owned) {
    auto fresh = std::make_unique<PartitionState>();
    fresh->id = p;
    partitions_[static_cast<size_t>(p)] = std::move(fresh);
    InitPartition(Partition(p));
    ZICHT_RETURN_IF_ERROR(LoadPartition(Partition(p)));
  }
  for (auto& [p, queue] : pending) Partition(p).pending = std::move(queue);
  ++stats_.plan_replacements;
  return TryDrainBlocked();
}

Engine::~Engine() = default;

void Engine::InitPartition(PartitionState& part) {
  const std::vector<int>& munis = partition_munis_[static_cast<size_t>(part.id)];
  const size_t locals = munis.size();
  part.owned = true;
  part.rule_count = plan_->rules().size();
  part.condition_count = static_cast<size_t>(plan_->total_conditions());
  part.series_count = plan_->series().size();
  part.store = std::make_unique<WindowStore>(*plan_, munis);
  part.evidence.assign(plan_->series().size() * locals, EvidenceRing{});
  part.timers.assign(plan_->rules().size() * locals, rules::RuleTimer{});
  part.timer_dirty.assign(part.timers.size(), 0);
  part.figures.assign(plan_->indicators().size(), PartitionState::FiguresRef{});
  part.conditions.assign(static_cast<size_t>(plan_->total_conditions()) * locals, ConditionCache{});
  part.rule_held.assign(plan_->rules().size() * locals, 0);
  ++part.epoch;
}

bool Engine::Owns(int partition) const {
  return partition >= 0 && partition < options_.partitions &&
         partitions_[static_cast<size_t>(partition)]->owned;
}

TimeMs Engine::Clock(int partition) const {
  const PartitionState& p = *partitions_[static_cast<size_t>(partition)];
  return p.has_clock ? p.clock : kMinTime;
}

Status Engine::Assign(const std::vector<int>& partitions) {
  for (int p : partitions) {
    if (p < 0 || p >= options_.partitions) {
      return Status::InvalidArgument(
          fmt::format("partition {} outside 0..{}", p, options_.partitions - 1));
    }
    if (Owns(p)) continue;
    // Start from a clean slate, then load what the store has for it.
    auto fresh = std::make_unique<PartitionState>();
    fresh->id = p;
    partitions_[static_cast<size_t>(p)] = std::move(fresh);
    InitPartition(Partition(p));
    ZICHT_RETURN_IF_ERROR(LoadPartition(Partition(p)));
    ZICHT_RETURN_IF_ERROR(LoadSourcePosition(p));
    ZICHT_RETURN_IF_ERROR(LoadOutbox(p));
  }
  return DeliverOutbox();
}

Status Engine::Revoke(const std::vector<int>& partitions, bool commit) {
  if (commit) ZICHT_RETURN_IF_ERROR(Commit());
  for (int p : partitions) {
    if (!Owns(p)) continue;
    PartitionState& part = Partition(p);
    // Held-back events were not applied; the next owner reads them again from
    // the committed position.
    held_back_ -= static_cast<int64_t>(part.pending.size());
    auto empty = std::make_unique<PartitionState>();
    empty->id = p;
    partitions_[static_cast<size_t>(p)] = std::move(empty);
    positions_.erase(p);
    std::erase_if(new_outbox_, [p](const OutboxRecord& o) { return o.partition == p; });
    std::erase_if(unsent_outbox_, [p](const OutboxRecord& o) { return o.partition == p; });
  }
  return Status::Ok();
}

std::vector<std::pair<int, size_t>> Engine::HeldBack() const {
  std::vector<std::pair<int, size_t>> out;
  for (const auto& p : partitions_) {
    if (!p->pending.empty()) out.emplace_back(p->id, p->pending.size());
  }
  return out;
}

Status Engine::TickPartition(int partition, TimeMs now) {
  if (!Owns(partition)) return Status::InvalidArgument("tick of a partition not owned here");
  PartitionState& part = Partition(partition);
  if (!part.pending.empty() || (part.has_clock && part.clock >= now)) return Status::Ok();
  Tick(part, now);
  return TryDrainBlocked();
}

Engine::PartitionState& Engine::Partition(int partition) {
  return *partitions_[static_cast<size_t>(partition)];
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
  std::string source = record.line > 0 ? fmt::format("{}:{}", source_name, record.line)
                                       : fmt::format("{}/{}/{}", source_name, record.partition,
                                                     record.offset);
  out.record.headers = {{std::string(connectors::kReasonHeader), std::string(DeadLetterReasonName(reason))},
                        {std::string(connectors::kDetailHeader), std::move(detail)},
                        {std::string(connectors::kSourceHeader), std::move(source)}};
  new_outbox_.push_back(std::move(out));
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
    probe_->EventProcessed(static_cast<double>(options_.wall_clock() - record.ingest_time) / 1000.0);
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
  const int p = partition_of_[static_cast<size_t>(event.municipality)];
  if (!route_by_municipality && p != record.partition) {
    DeadLetter(DeadLetterReason::kWrongPartition,
               fmt::format("municipality {} belongs to partition {}, not {}",
                           plan_->municipalities().at(static_cast<size_t>(event.municipality)).code,
                           p, record.partition),
               record, source_name, record.partition);
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
  if (ProcessDecoded(part, event, record, source_name, /*advanced=*/false, &dedup_key) ==
      Outcome::kHeldBack) {
    HoldBack(part, record, source_name, event.time, /*advanced=*/true, /*at_front=*/false);
  }
  // A partition moving on may complete the national figures others wait for.
  if (held_back_ > 0) return TryDrainBlocked();
  return Status::Ok();
}

void Engine::HoldBack(PartitionState& part, const connectors::SourceRecord& record,
                      const std::string& source_name, TimeMs time, bool advanced, bool at_front) {
  PendingEvent pe;
  pe.time = time;
  pe.payload.assign(record.payload);
  pe.record = record;
  pe.record.key = {};
  pe.record.padded = false;
  pe.source_name = source_name;
  pe.advanced = advanced;
  if (at_front) {
    part.pending.push_front(std::move(pe));
  } else {
    part.pending.push_back(std::move(pe));
  }
  ++held_back_;
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
                                       const Hash128* key) {
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
      if (!AdvanceClock(part, t)) return Outcome::kHeldBack;
    }
    // The store's clock may be ahead of the partition's (an event held back
    // before a restart moved it): the barrier holds whenever it is not met,
    // not only when this event moves the clock.
    if (!NationalReady(part)) return Outcome::kHeldBack;
  }
  const bool day_changed =
      !part.has_clock || FloorDiv(t, kMsPerDay) > FloorDiv(part.clock, kMsPerDay);
  if (!part.has_clock || t > part.clock) part.clock = t;
  part.has_clock = true;
  if (part.first_event_time == kMinTime) part.first_event_time = t;

  // Remember for de-duplication.
  const int64_t day = FloorDiv(t, kMsPerDay);
  part.seen.Put(dedup_key, t, part.clock - options_.dedup_horizon_ms);
  part.seen_new.push_back(DedupRecord{day, dedup_key, t});

  ++stats_.accepted;
  ++stats_.accepted_by_type[static_cast<size_t>(event.type)];
  probe_->EventAccepted(event.type);

  // Count the event in every series of its type; collect the rules to evaluate.
  WindowStore& ws = *part.store;
  const int local = ws.Local(event.municipality);
  ++stamp_;
  rules_to_evaluate_.clear();
  updated_indicators_.clear();
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
    const int64_t bucket = FloorDiv(t, series.bucket_ms);
    ws.Add(s, local, bucket, matched, value);
    if (matched) PushEvidence(part, s, local, event.id, t, bucket);
    const std::vector<int>& affected = matched ? series.rules : series.share_rules;
    for (int r : affected) {
      if (rule_stamp_[static_cast<size_t>(r)] != stamp_) {
        rule_stamp_[static_cast<size_t>(r)] = stamp_;
        rules_to_evaluate_.push_back(r);
      }
    }
    const std::vector<int>& updated = matched ? series.indicators : series.share_indicators;
    updated_indicators_.insert(updated_indicators_.end(), updated.begin(), updated.end());
  }
  NoteProcessed(&part, record);

  if (day_changed) {
    // SPEC: when T enters a new UTC day every rule is evaluated for every
    // municipality (this includes the event's own evaluation).
    EvaluateAll(part);
  } else if (options_.incremental_evaluation) {
    EvaluateAffected(part, local);
  } else {
    for (int r : rules_to_evaluate_) EvaluateRule(part, r, local);
  }
  return Outcome::kDone;
}

bool Engine::AdvanceClock(PartitionState& part, TimeMs now) {
  WindowStore& ws = *part.store;
  if (ws.has_clock()) {
    // Step through every final bucket passed, publishing each, so national
    // figures exist for whatever bucket a slower partition is at.
    const bool hours = plan_->uses_hours();
    const TimeMs step = hours ? kMsPerHour : kMsPerDay;
    const int64_t target_final = FloorDiv(now - options_.allowed_lateness_ms, step) - 1;
    // A jump far ahead (a clock error upstream) steps only through the last
    // buckets that anyone can still ask for, not through years of them.
    const int64_t keep = (hours ? 24 : 1) * (kReloadHistoryDays + options_.national_lag_days + 64);
    for (int64_t f = std::max(ws.final_bucket(hours) + 1, target_final - keep); f < target_final; ++f) {
      ws.Advance((f + 1) * step + options_.allowed_lateness_ms);
      PublishNational(part);
    }
  }
  const int64_t day_before = ws.current_bucket(false), final_before = ws.final_bucket(false);
  const int64_t hour_before = ws.current_bucket(true), final_hour_before = ws.final_bucket(true);
  ws.Advance(now);
  // Cached condition outcomes hold while windows and national figures stand
  // still: only a bucket change of a unit the plan uses moves them.
  if (ws.current_bucket(false) != day_before || ws.final_bucket(false) != final_before ||
      (plan_->uses_hours() &&
       (ws.current_bucket(true) != hour_before || ws.final_bucket(true) != final_hour_before))) {
    ++part.epoch;
  }
  PublishNational(part);
  // De-duplication days that left the horizon are deleted at the next commit
  // (in memory they count as absent already).
  const int64_t keep_from = FloorDiv(now - options_.dedup_horizon_ms, kMsPerDay);
  part.evicted_before_day = std::max(part.evicted_before_day, keep_from);
  probe_->Watermark(part.id, now, now - options_.allowed_lateness_ms);
  return NationalReady(part);
}

int64_t Engine::NationalBucket(const WindowStore& ws, bool hours) const {
  return ws.final_bucket(hours) - (hours ? 24 * options_.national_lag_days : options_.national_lag_days);
}

bool Engine::NationalReady(PartitionState& part) const {
  if (active_partitions_.size() <= 1) return true;
  const WindowStore& ws = *part.store;
  // Once complete, figures for a final bucket stay complete: remember it.
  const int64_t day = NationalBucket(ws, false), hour = NationalBucket(ws, true);
  if (part.ready_final_day == day && part.ready_final_hour == hour) return true;
  if (!national_->Complete(false, day)) return false;
  if (plan_->uses_hours() && !national_->Complete(true, hour)) return false;
  part.ready_final_day = day;
  part.ready_final_hour = hour;
  return true;
}

void Engine::PushEvidence(PartitionState& part, int series, int local, std::string_view id,
                          TimeMs time, int64_t bucket) {
  EvidenceRing& ring = part.evidence[part.EvidenceSlot(series, local)];
  const size_t cap = static_cast<size_t>(options_.evidence_ids);
  if (ring.entries.size() < cap) {
    ring.entries.push_back(EvidenceEntry{time, bucket, std::string(id)});
  } else {
    EvidenceEntry& e = ring.entries[ring.head];
    e.time = time;
    e.bucket = bucket;
    e.id.assign(id);
    ring.head = (ring.head + 1) % cap;
  }
  ring.dirty = true;
}

MeasureInput Engine::Input(PartitionState& part, int indicator, int local) {
  const IndicatorDef& ind = plan_->indicators()[static_cast<size_t>(indicator)];
  const WindowStore& ws = *part.store;
  MeasureInput in;
  in.indicator = &ind;
  in.local = local;
  in.municipality = ws.municipalities()[static_cast<size_t>(local)];
  in.population = plan_->municipalities().at(static_cast<size_t>(in.municipality)).population;
  in.first_event_time = part.first_event_time;
  if (ind.reference >= 0) {
    in.reference = &plan_->references()[static_cast<size_t>(ind.reference)];
    in.national = &national_->ReferenceFigures(indicator);
  } else {
    in.store = &ws;
    const int64_t final_bucket = NationalBucket(ws, ws.series_hours(ind.series));
    PartitionState::FiguresRef& ref = part.figures[static_cast<size_t>(indicator)];
    if (ref.final_bucket != final_bucket || !ref.figures) {
      ref.figures = national_->Figures(indicator, final_bucket);
      ref.final_bucket = final_bucket;
    }
    in.national = ref.figures.get();
    in.final_bucket = final_bucket;
  }
  return in;
}

void Engine::EvaluateRule(PartitionState& part, int rule, int local, bool reuse) {
  const RuleDef& rd = plan_->rules()[static_cast<size_t>(rule)];
  const rules::RuleSpec& spec = *rd.spec;
  ++stats_.evaluations;
  bool* held = held_scratch_.get();
  for (size_t c = 0; c < spec.conditions.size(); ++c) {
    ConditionCache* cache =
        &part.conditions[part.ConditionSlot(rd.condition_base + static_cast<int>(c), local)];
    if (reuse && cache->epoch == part.epoch) {
      held[c] = cache->last_held;
      continue;
    }
    MeasureInput in = Input(part, rd.condition_indicator[c], local);
    held[c] = EvaluateHolds(spec.conditions[c], in, spec.min_events,
                            options_.incremental_evaluation ? cache : nullptr);
    cache->last_held = held[c];
    cache->epoch = part.epoch;
  }
  rules::Combination comb = rules::Combine(spec, std::span<const bool>(held, spec.conditions.size()));
  const size_t slot = part.RuleSlot(rule, local);
  part.rule_held[slot] = comb.held ? 1 : 0;
  rules::RuleTimer& timer = part.timers[slot];
  rules::RuleTimer before = timer;
  bool fire = rules::StepTimer(spec, comb.held, part.clock, &timer);
  if (!(timer == before)) part.timer_dirty[slot] = 1;
  if (fire) EmitAlert(part, rule, local, comb.score);
}

void Engine::EvaluateAffected(PartitionState& part, int local) {
  // Only conditions on indicators this event updated can have changed (the
  // others keep their cached outcome within the epoch). A rule whose
  // combination was false and none of whose outcomes changed would only
  // confirm "not held": evaluating it changes nothing, so it is skipped.
  // Rules that hold are always evaluated, for their `for` and `cooldown`.
  ++stamp_;
  for (int r : rules_to_evaluate_) {
    const size_t slot = part.RuleSlot(r, local);
    if (!part.rule_held[slot]) continue;
    // A rule that holds changes nothing until it may fire: `for` elapsed and
    // outside `cooldown`.
    const rules::RuleSpec& spec = *plan_->rules()[static_cast<size_t>(r)].spec;
    const rules::RuleTimer& t = part.timers[slot];
    const TimeMs may_fire = std::max(t.held_since == kMinTime ? kMinTime : t.held_since + spec.for_ms,
                                     t.last_alert == kMinTime ? kMinTime : t.last_alert + spec.cooldown_ms);
    if (part.clock >= may_fire) rule_stamp_[static_cast<size_t>(r)] = stamp_;
  }
  for (int i : updated_indicators_) {
    const auto& conditions = plan_->indicators()[static_cast<size_t>(i)].conditions;
    if (conditions.empty()) continue;
    const MeasureInput in = Input(part, i, local);
    for (const auto& [r, c] : conditions) {
      const RuleDef& rd = plan_->rules()[static_cast<size_t>(r)];
      ConditionCache* cache = &part.conditions[part.ConditionSlot(rd.condition_base + c, local)];
      const bool was = cache->last_held;
      const bool valid = cache->epoch == part.epoch;
      const bool now = EvaluateHolds(rd.spec->conditions[static_cast<size_t>(c)], in, rd.spec->min_events, cache);
      cache->last_held = now;
      cache->epoch = part.epoch;
      if (!valid || now != was) rule_stamp_[static_cast<size_t>(r)] = stamp_;
    }
  }
  for (int r : rules_to_evaluate_) {
    if (rule_stamp_[static_cast<size_t>(r)] == stamp_) EvaluateRule(part, r, local, /*reuse=*/true);
  }
}

void Engine::EvaluateAll(PartitionState& part) {
  const size_t locals = part.store->municipalities().size();
  for (size_t r = 0; r < plan_->rules().size(); ++r) {
    for (size_t l = 0; l < locals; ++l) EvaluateRule(part, static_cast<int>(r), static_cast<int>(l));
  }
}

void Engine::EmitAlert(PartitionState& part, int rule, int local, double score) {
  const RuleDef& rd = plan_->rules()[static_cast<size_t>(rule)];
  const rules::RuleSpec& spec = *rd.spec;
  const WindowStore& ws = *part.store;
  const int muni = ws.municipalities()[static_cast<size_t>(local)];
  const Municipality& m = plan_->municipalities().at(static_cast<size_t>(muni));
  rules::Alert alert;
  alert.rule = spec.id;
  alert.rule_version = spec.version;
  alert.pack = rd.pack;
  alert.severity = spec.severity;
  alert.municipality = m.code;
  alert.municipality_name = m.name;
  alert.event_time = part.clock;
  alert.emitted_at = options_.wall_clock();
  alert.alert_id = rules::AlertId(spec.id, spec.version, m.code, part.clock);
  alert.score = score;
  alert.labels = spec.labels;
  for (size_t c = 0; c < spec.conditions.size(); ++c) {
    MeasureInput in = Input(part, rd.condition_indicator[c], local);
    alert.conditions.push_back(EvaluateCondition(spec.conditions[c], in, spec.min_events));
  }
  // Evidence: the newest ids counted by the rule's indicators in their
  // current windows.
  std::vector<const EvidenceEntry*> entries;
  for (int s : rd.series) {
    int64_t longest = 0;
    for (int i : rd.condition_indicator) {
      const IndicatorDef& ind = plan_->indicators()[static_cast<size_t>(i)];
      if (ind.series == s) longest = std::max(longest, ind.window);
    }
    const int64_t first = ws.current_bucket(ws.series_hours(s)) - longest + 1;
    const EvidenceRing& ring = part.evidence[part.EvidenceSlot(s, local)];
    for (const EvidenceEntry& e : ring.entries) {
      if (e.bucket >= first) entries.push_back(&e);
    }
  }
  std::sort(entries.begin(), entries.end(), [](const EvidenceEntry* a, const EvidenceEntry* b) {
    return a->time != b->time ? a->time > b->time : a->id < b->id;
  });
  for (const EvidenceEntry* e : entries) {
    if (alert.evidence.size() >= static_cast<size_t>(options_.evidence_ids)) break;
    if (std::find(alert.evidence.begin(), alert.evidence.end(), e->id) == alert.evidence.end()) {
      alert.evidence.push_back(e->id);
    }
  }
  ++stats_.alerts;
  ++stats_.alerts_by_rule[static_cast<size_t>(rule)];
  recent_alerts_.push_back(RecentAlert{alert.emitted_at, alert.event_time, muni, rule, {}});
  OutboxRecord out;
  out.rule = rule;
  out.ingest_time = current_ingest_time_;
  out.partition = part.id;
  out.seq = part.next_seq++;
  part.meta_dirty = true;
  out.alert = true;
  out.record.key = m.code;
  out.record.value = rules::AlertToJson(alert);
  recent_alerts_.back().json = out.record.value;
  while (recent_alerts_.size() > options_.recent_alerts) recent_alerts_.pop_front();
  new_outbox_.push_back(std::move(out));
}

TimeMs Engine::IdleTarget() const {
  // The moment a partition without events is moved to: as soon after its last
  // closed day as the newest closed day any partition has published. It
  // depends only on that day, so every instance layout and a file replay
  // move a quiet partition to the same time.
  auto newest = national_->NewestPublished(false);
  if (!newest) return kMinTime;
  TimeMs target = (*newest + 1) * kMsPerDay + options_.allowed_lateness_ms;
  // Hourly series: the newest closed hour may lie a day past the newest
  // closed day; a partition moved only to the day would never close that
  // hour and a neighbour waiting for it would wait forever.
  if (plan_->uses_hours()) {
    if (auto hour = national_->NewestPublished(true)) {
      target = std::max(target, (*hour + 1) * kMsPerHour + options_.allowed_lateness_ms);
    }
  }
  return target;
}

Status Engine::Drain() {
  // No more input. Events held back for national figures can only be released
  // by moving lagging partitions forward, as Kafka does for idle partitions.
  if (active_partitions_.size() <= 1) return TryDrainBlocked();
  while (true) {
    ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
    const TimeMs target = IdleTarget();
    if (target == kMinTime) return Status::Ok();
    bool behind = held_back_ > 0;
    for (int pid : active_partitions_) {
      const PartitionState& p = Partition(pid);
      if (p.owned && (!p.has_clock || p.clock < target)) behind = true;
    }
    if (!behind) return Status::Ok();
    ZICHT_RETURN_IF_ERROR(AdvanceTo(target));
    // Released events may have moved the newest closed day: go again.
    if (IdleTarget() == target) return Status::Ok();
  }
}

Status Engine::AdvanceTo(TimeMs target) {
  while (true) {
    ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
    bool pending = false, moved = false;
    for (int pid : active_partitions_) {
      PartitionState& p = Partition(pid);
      if (!p.owned) continue;
      if (!p.pending.empty()) {
        pending = true;
        continue;
      }
      if (p.has_clock && p.clock >= target) continue;
      Tick(p, target);
      moved = true;
    }
    if (!pending && !moved) return Status::Ok();
    if (pending && !moved) {
      ZICHT_RETURN_IF_ERROR(TryDrainBlocked());
      for (const auto& p : partitions_) {
        if (!p->pending.empty()) return Status::Internal("held-back events cannot be released");
      }
    }
  }
}

void Engine::Tick(PartitionState& part, TimeMs now) {
  // As if an event at `now` arrived that counts nowhere: the clock moves and,
  // on a new day, every rule is evaluated for every municipality - once the
  // national figures for the new final bucket exist.
  if (!AdvanceClock(part, now)) {
    PendingEvent pe;
    pe.time = now;
    pe.advanced = true;
    pe.tick = true;
    part.pending.push_back(std::move(pe));
    ++held_back_;
    return;
  }
  FinishTick(part, now);
}

void Engine::FinishTick(PartitionState& part, TimeMs now) {
  const bool day_changed =
      !part.has_clock || FloorDiv(now, kMsPerDay) > FloorDiv(part.clock, kMsPerDay);
  part.clock = std::max(part.clock, now);
  part.has_clock = true;
  part.meta_dirty = true;
  if (day_changed) EvaluateAll(part);
}

Status Engine::TryDrainBlocked() {
  bool progress = true;
  while (progress && held_back_ > 0) {
    progress = false;
    for (auto& pp : partitions_) {
      PartitionState& part = *pp;
      while (!part.pending.empty()) {
        if (part.pending.front().advanced && !NationalReady(part)) break;
        PendingEvent pe = std::move(part.pending.front());
        part.pending.pop_front();
        --held_back_;
        if (pe.tick) {
          FinishTick(part, pe.time);
          progress = true;
          continue;
        }
        pe.record.payload = pe.payload;
        progress = true;
        DecodedEvent event;
        DecodeError error;
        // Records queued undecoded (Kafka) meet their checks here.
        if (!decoder_->Decode(pe.record.payload, false, &event, &error)) {
          DeadLetter(error.reason, std::move(error.detail), pe.record, pe.source_name, part.id);
          NoteProcessed(&part, pe.record);
          continue;
        }
        const int owner = partition_of_[static_cast<size_t>(event.municipality)];
        if (owner != part.id) {
          DeadLetter(DeadLetterReason::kWrongPartition,
                     fmt::format("municipality {} belongs to partition {}, not {}",
                                 plan_->municipalities().at(static_cast<size_t>(event.municipality)).code,
                                 owner, part.id),
                     pe.record, pe.source_name, part.id);
          NoteProcessed(&part, pe.record);
          continue;
        }
        if (!pe.advanced && pe.record.next_offset <= part.applied_offset) {
          ++stats_.skipped_replayed;
          continue;
        }
        if (ProcessDecoded(part, event, pe.record, pe.source_name, pe.advanced) ==
            Outcome::kHeldBack) {
          HoldBack(part, pe.record, pe.source_name, event.time, /*advanced=*/true, /*at_front=*/true);
          break;
        }
      }
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Persistence (key layout: docs/state.md)

namespace {

std::string BucketKey(int partition, uint64_t series_key, int64_t bucket) {
  std::string k = PartitionPrefix(partition);
  codec::PutU64(&k, series_key);
  codec::PutI64(&k, bucket);
  return k;
}

std::string SeriesPrefix(int partition, uint64_t key) {
  std::string k = PartitionPrefix(partition);
  codec::PutU64(&k, key);
  return k;
}

std::string MuniKey(int partition, uint64_t key, int code_number) {
  std::string k = SeriesPrefix(partition, key);
  codec::PutU16(&k, static_cast<uint16_t>(code_number));
  return k;
}

std::string DedupKey(int partition, int64_t day, uint64_t chunk) {
  std::string k = PartitionPrefix(partition);
  codec::PutI64(&k, day);
  codec::PutU64(&k, chunk);
  return k;
}

std::string DedupDayKey(int partition, int64_t day) {
  std::string k = PartitionPrefix(partition);
  codec::PutI64(&k, day);
  return k;
}

std::string PartitionMetaKey(int partition) { return "p" + PartitionPrefix(partition); }
std::string SourceMetaKey(int partition) { return "s" + PartitionPrefix(partition); }
std::string OutboxKey(int partition, uint64_t seq) {
  std::string k = PartitionPrefix(partition);
  codec::PutU64(&k, seq);
  return k;
}

std::string EncodeOutbox(bool alert, const connectors::OutRecord& r) {
  std::string v;
  codec::PutU8(&v, alert ? 1 : 0);
  codec::PutBytes(&v, r.key);
  codec::PutU16(&v, static_cast<uint16_t>(r.headers.size()));
  for (const auto& [hk, hv] : r.headers) {
    codec::PutBytes(&v, hk);
    codec::PutBytes(&v, hv);
  }
  codec::PutBytes(&v, r.value);
  return v;
}

bool DecodeOutbox(std::string_view data, bool* alert, connectors::OutRecord* r) {
  codec::Reader in(data);
  *alert = in.U8() == 1;
  r->key.assign(in.Bytes());
  uint16_t n = in.U16();
  for (uint16_t i = 0; i < n && in.ok(); ++i) {
    std::string hk(in.Bytes());
    std::string hv(in.Bytes());
    r->headers.emplace_back(std::move(hk), std::move(hv));
  }
  r->value.assign(in.Bytes());
  return in.ok() && in.done();
}

}  // namespace

void Engine::WriteState(PartitionState& part, StateBatch* batch) {
  const size_t entries_before = batch->size();
  WindowStore& ws = *part.store;
  const MunicipalityTable& munis = plan_->municipalities();
  const size_t locals = ws.municipalities().size();
  const int p = part.id;
  auto code_of = [&](int local) {
    return MunicipalityTable::CodeNumber(
        munis.at(static_cast<size_t>(ws.municipalities()[static_cast<size_t>(local)])).code);
  };
  // One value per (series, bucket) row: the non-empty buckets of every
  // municipality of the partition (a key per municipality made commits slow).
  ws.TakeDirty(&dirty_scratch_);
  for (const DirtyRow& d : dirty_scratch_) {
    const SeriesDef& series = plan_->series()[static_cast<size_t>(d.series)];
    std::string value;
    for (size_t l = 0; l < locals; ++l) {
      BucketValue v = ws.Bucket(d.series, static_cast<int>(l), d.bucket);
      if (v.n_all == 0) continue;
      codec::PutU16(&value, static_cast<uint16_t>(code_of(static_cast<int>(l))));
      codec::PutU32(&value, v.n_match);
      codec::PutU32(&value, v.n_all);
      if (series.sum_field >= 0) codec::PutI128(&value, v.sum);
    }
    std::string key = BucketKey(p, series.key, d.bucket);
    if (value.empty()) {
      batch->Delete(Family::kBuckets, std::move(key), p);
    } else {
      batch->Put(Family::kBuckets, std::move(key), std::move(value), p);
    }
  }
  if (ws.has_clock()) {
    part.persisted_oldest.resize(plan_->series().size(), INT64_MIN);
    for (size_t s = 0; s < plan_->series().size(); ++s) {
      const int64_t oldest = ws.oldest_bucket(static_cast<int>(s));
      int64_t& persisted = part.persisted_oldest[s];
      if (oldest <= persisted) continue;
      const uint64_t key = plan_->series()[s].key;
      std::string begin = SeriesPrefix(p, key), end = SeriesPrefix(p, key);
      codec::PutI64(&end, oldest);
      batch->DeleteRange(Family::kBuckets, std::move(begin), std::move(end), p);
      // The changelog is compacted per key: it needs a tombstone per row that
      // left. Rows before the first known oldest were never written.
      if (persisted != INT64_MIN) {
        for (int64_t b = persisted; b < oldest && b < persisted + 4096; ++b) {
          batch->MirrorDelete(Family::kBuckets, BucketKey(p, key, b), p);
        }
      }
      persisted = oldest;
    }
  }
  for (size_t s = 0; s < plan_->series().size(); ++s) {
    for (size_t l = 0; l < locals; ++l) {
      EvidenceRing& ring = part.evidence[part.EvidenceSlot(static_cast<int>(s), static_cast<int>(l))];
      if (!ring.dirty) continue;
      ring.dirty = false;
      std::string value;
      codec::PutU8(&value, static_cast<uint8_t>(ring.entries.size()));
      for (size_t i = 0; i < ring.entries.size(); ++i) {
        const EvidenceEntry& e = ring.entries[(ring.head + i) % ring.entries.size()];
        codec::PutI64(&value, e.time);
        codec::PutI64(&value, e.bucket);
        codec::PutBytes(&value, e.id);
      }
      batch->Put(Family::kEvidence,
                 MuniKey(p, plan_->series()[s].key, code_of(static_cast<int>(l))),
                 std::move(value), p);
    }
  }
  for (size_t r = 0; r < plan_->rules().size(); ++r) {
    const uint64_t key = RuleKey(plan_->rules()[r]);
    for (size_t l = 0; l < locals; ++l) {
      size_t slot = part.RuleSlot(static_cast<int>(r), static_cast<int>(l));
      if (!part.timer_dirty[slot]) continue;
      part.timer_dirty[slot] = 0;
      std::string value;
      codec::PutI64(&value, part.timers[slot].held_since);
      codec::PutI64(&value, part.timers[slot].last_alert);
      batch->Put(Family::kTimers, MuniKey(p, key, code_of(static_cast<int>(l))),
                 std::move(value), p);
    }
  }
  // New de-duplication entries: one append-only chunk per day per commit
  // (a Put per event would dominate the commit cost).
  if (!part.seen_new.empty()) {
    std::sort(part.seen_new.begin(), part.seen_new.end(),
              [](const DedupRecord& a, const DedupRecord& b) { return a.day < b.day; });
    for (size_t i = 0; i < part.seen_new.size();) {
      size_t j = i;
      std::string value;
      while (j < part.seen_new.size() && part.seen_new[j].day == part.seen_new[i].day) {
        codec::PutU64(&value, part.seen_new[j].key.lo);
        codec::PutU64(&value, part.seen_new[j].key.hi);
        codec::PutI64(&value, part.seen_new[j].time);
        ++j;
      }
      const int64_t day = part.seen_new[i].day;
      part.dedup_chunks[day].push_back(part.dedup_chunk);
      batch->Put(Family::kDedup, DedupKey(p, day, part.dedup_chunk++), std::move(value), p);
      i = j;
    }
    part.seen_new.clear();
    part.meta_dirty = true;
  }
  if (part.evicted_before_day > part.persisted_evicted_before_day) {
    batch->DeleteRange(Family::kDedup, PartitionPrefix(p), DedupDayKey(p, part.evicted_before_day), p);
    while (!part.dedup_chunks.empty() && part.dedup_chunks.begin()->first < part.evicted_before_day) {
      for (uint64_t chunk : part.dedup_chunks.begin()->second) {
        batch->MirrorDelete(Family::kDedup, DedupKey(p, part.dedup_chunks.begin()->first, chunk), p);
      }
      part.dedup_chunks.erase(part.dedup_chunks.begin());
    }
    part.persisted_evicted_before_day = part.evicted_before_day;
  }
  // Every commit that changes a partition ends with its meta record (and its
  // commit sequence): a changelog reader can tell where a commit ends.
  if (part.meta_dirty || batch->size() != entries_before) {
    part.meta_dirty = false;
    std::string value;
    codec::PutU8(&value, kMetaFormat);
    codec::PutU8(&value, part.has_clock ? 1 : 0);
    codec::PutI64(&value, part.clock);
    codec::PutI64(&value, part.first_event_time);
    codec::PutI64(&value, ws.current_bucket(false));
    codec::PutI64(&value, ws.current_bucket(true));
    codec::PutI64(&value, ws.final_bucket(false));
    codec::PutI64(&value, ws.final_bucket(true));
    codec::PutI64(&value, part.applied_offset);
    codec::PutI64(&value, part.evicted_before_day);
    codec::PutU8(&value, ws.has_clock() ? 1 : 0);
    codec::PutU64(&value, part.dedup_chunk);
    codec::PutU64(&value, part.next_seq);
    codec::PutU64(&value, ++part.commit_seq);
    batch->Put(Family::kMeta, PartitionMetaKey(p), std::move(value), p);
  }
}

Status Engine::Commit() {
  auto started = std::chrono::steady_clock::now();
  StateBatch batch;
  for (auto& part : partitions_) {
    if (part->owned) WriteState(*part, &batch);
  }
  for (auto& [sp, pos] : positions_) {
    // Resume at the first record not yet applied: the earliest held-back one.
    // A partition's held-back records are in source order: its first one
    // is the lowest.
    int64_t offset = pos.next_offset, line = pos.line;
    for (auto& part : partitions_) {
      for (const PendingEvent& pe : part->pending) {
        if (pe.tick) continue;
        if (pe.record.partition == sp && pe.record.offset < offset) {
          offset = pe.record.offset;
          line = pe.record.line;
        }
        break;
      }
    }
    std::string value;
    codec::PutI64(&value, offset);
    codec::PutI64(&value, line);
    codec::PutBytes(&value, pos.source_id);
    batch.Put(Family::kMeta, SourceMetaKey(sp), std::move(value), sp);
  }
  for (const OutboxRecord& o : new_outbox_) {
    batch.Put(Family::kOutbox, OutboxKey(o.partition, o.seq), EncodeOutbox(o.alert, o.record),
              o.partition);
  }
  if (mirror_ != nullptr && !batch.empty()) ZICHT_RETURN_IF_ERROR(mirror_->Mirror(batch));
  ZICHT_RETURN_IF_ERROR(store_->Write(batch));
  for (OutboxRecord& o : new_outbox_) unsent_outbox_.push_back(std::move(o));
  new_outbox_.clear();
  ++stats_.commits;
  probe_->Committed(since_commit_,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  since_commit_ = 0;
  Status delivered = DeliverOutbox();
  probe_->OutboxPending(static_cast<int64_t>(outbox_pending()));
  return delivered;
}

Status Engine::DeliverOutbox() {
  if (unsent_outbox_.empty() && in_flight_.empty()) return Status::Ok();
  bool any_alert = !in_flight_.empty(), any_dead = !in_flight_.empty();
  for (OutboxRecord& o : unsent_outbox_) {
    connectors::RecordSink* sink = o.alert ? alert_sink_ : dead_letter_sink_;
    const uint64_t id = OutboxId(o);
    if (sink == nullptr) {
      acked_.push_back(id);  // no sink configured: counted and reported only
      in_flight_.emplace(id, std::move(o));
      continue;
    }
    Status s = sink->Send(id, o.record);
    if (s.code() == StatusCode::kTryAgain) break;  // full: the rest goes next time
    ZICHT_RETURN_IF_ERROR(s);
    (o.alert ? any_alert : any_dead) = true;
    in_flight_.emplace(id, std::move(o));
  }
  std::erase_if(unsent_outbox_, [&](const OutboxRecord& o) { return in_flight_.count(OutboxId(o)) != 0; });
  // A delivery that failed for good (e.g. a timeout during a broker outage)
  // goes back to the outbox and is sent again at the next commit: alerts are
  // delivered at least once, never dropped.
  for (connectors::RecordSink* sink : {alert_sink_, dead_letter_sink_}) {
    if (sink == nullptr || (sink == alert_sink_ ? !any_alert : !any_dead)) continue;
    Status flushed = sink->Flush(&acked_, options_.outbox_flush_timeout);
    for (uint64_t id : sink->TakeFailedIds()) {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) continue;
      unsent_outbox_.push_back(std::move(it->second));
      in_flight_.erase(it);
    }
    if (!flushed.ok() && flushed.code() != StatusCode::kTryAgain) return flushed;
    if (!flushed.ok()) ++stats_.delivery_retries;
  }
  if (acked_.empty()) return Status::Ok();
  // Delivered: remove from the outbox (mirrored, so a new owner does not
  // deliver them again).
  StateBatch deletes;
  const TimeMs now = options_.wall_clock();
  for (uint64_t id : acked_) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;
    if (it->second.alert && it->second.rule >= 0) {
      probe_->AlertEmitted(it->second.rule,
                           it->second.ingest_time > 0 ? now - it->second.ingest_time : 0);
    }
    deletes.Delete(Family::kOutbox, OutboxKey(it->second.partition, it->second.seq),
                   it->second.partition);
    in_flight_.erase(it);
  }
  acked_.clear();
  if (deletes.empty()) return Status::Ok();
  if (mirror_ != nullptr) ZICHT_RETURN_IF_ERROR(mirror_->Mirror(deletes));
  return store_->Write(deletes);
}

size_t Engine::outbox_pending() const { return unsent_outbox_.size() + in_flight_.size(); }

Status Engine::Open() {
  for (auto& part : partitions_) {
    if (!part->owned) continue;
    ZICHT_RETURN_IF_ERROR(LoadPartition(*part));
    ZICHT_RETURN_IF_ERROR(LoadSourcePosition(part->id));
    ZICHT_RETURN_IF_ERROR(LoadOutbox(part->id));
  }
  return DeliverOutbox();
}

Status Engine::LoadSourcePosition(int partition) {
  std::string value;
  Status s = store_->Get(Family::kMeta, SourceMetaKey(partition), &value);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  ZICHT_RETURN_IF_ERROR(s);
  codec::Reader v(value);
  SourcePosition pos;
  pos.next_offset = v.I64();
  pos.line = v.I64();
  pos.source_id.assign(v.Bytes());
  if (!v.ok()) return Status::Corruption("undecodable source position");
  positions_[partition] = std::move(pos);
  return Status::Ok();
}

Status Engine::LoadOutbox(int partition) {
  // Records not yet delivered before a restart or a move: deliver them again
  // (at least once; alert ids are stable).
  std::string prefix = PartitionPrefix(partition);
  Status decode_status;
  ZICHT_RETURN_IF_ERROR(store_->Scan(Family::kOutbox, prefix, PrefixEnd(prefix),
      [&](std::string_view key, std::string_view value) {
        codec::Reader k(key.substr(prefix.size()));
        OutboxRecord o;
        o.partition = partition;
        o.seq = k.U64();
        if (!k.ok() || !DecodeOutbox(value, &o.alert, &o.record)) {
          decode_status = Status::Corruption("undecodable outbox record");
          return false;
        }
        PartitionState& part = Partition(partition);
        part.next_seq = std::max(part.next_seq, o.seq + 1);
        if (in_flight_.count(OutboxId(o)) == 0) unsent_outbox_.push_back(std::move(o));
        return true;
      }));
  return decode_status;
}

Status Engine::LoadPartition(PartitionState& part) {
  WindowStore& ws = *part.store;
  const size_t locals = ws.municipalities().size();
  std::string meta;
  Status s = store_->Get(Family::kMeta, PartitionMetaKey(part.id), &meta);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();  // fresh partition
  ZICHT_RETURN_IF_ERROR(s);
  codec::Reader in(meta);
  if (in.U8() != kMetaFormat) return Status::Corruption("unknown partition meta format");
  part.has_clock = in.U8() == 1;
  part.clock = in.I64();
  part.first_event_time = in.I64();
  int64_t cur_day = in.I64(), cur_hour = in.I64(), fin_day = in.I64(), fin_hour = in.I64();
  part.applied_offset = in.I64();
  part.evicted_before_day = part.persisted_evicted_before_day = in.I64();
  bool store_clock = in.U8() == 1;
  part.dedup_chunk = in.U64();
  part.next_seq = in.U64();
  part.commit_seq = in.U64();
  if (!in.ok()) return Status::Corruption("truncated partition meta");
  part.meta_dirty = false;
  if (store_clock) ws.RestoreClock(cur_day, cur_hour, fin_day, fin_hour);
  if (locals == 0 || !store_clock) return Status::Ok();

  const MunicipalityTable& munis = plan_->municipalities();
  auto local_of_code = [&](int code_number) {
    int m = munis.IndexOf(fmt::format("GM{:04d}", code_number));
    return m < 0 ? -1 : ws.Local(m);
  };
  Status corrupt;
  part.persisted_oldest.assign(plan_->series().size(), INT64_MIN);
  for (size_t si = 0; si < plan_->series().size(); ++si) {
    const SeriesDef& series = plan_->series()[si];
    std::string prefix = SeriesPrefix(part.id, series.key);
    ZICHT_RETURN_IF_ERROR(store_->Scan(Family::kBuckets, prefix, PrefixEnd(prefix),
        [&](std::string_view key, std::string_view value) {
          codec::Reader k(key.substr(prefix.size())), v(value);
          int64_t bucket = k.I64();
          if (part.persisted_oldest[si] == INT64_MIN) part.persisted_oldest[si] = bucket;
          while (k.ok() && v.ok() && !v.done()) {
            int local = local_of_code(v.U16());
            BucketValue bv;
            bv.n_match = v.U32();
            bv.n_all = v.U32();
            if (series.sum_field >= 0) bv.sum = v.Int128();
            if (v.ok() && local >= 0) ws.RestoreBucket(static_cast<int>(si), local, bucket, bv);
          }
          if (!k.ok() || !v.ok()) {
            corrupt = Status::Corruption("undecodable bucket row");
            return false;
          }
          return true;
        }));
    ZICHT_RETURN_IF_ERROR(corrupt);
    ZICHT_RETURN_IF_ERROR(store_->Scan(Family::kEvidence, prefix, PrefixEnd(prefix),
        [&](std::string_view key, std::string_view value) {
          codec::Reader k(key.substr(prefix.size())), v(value);
          int local = local_of_code(k.U16());
          if (local < 0) return true;
          EvidenceRing& ring = part.evidence[part.EvidenceSlot(static_cast<int>(si), local)];
          ring = EvidenceRing{};
          uint8_t n = v.U8();
          for (uint8_t i = 0; i < n && v.ok(); ++i) {
            EvidenceEntry e;
            e.time = v.I64();
            e.bucket = v.I64();
            e.id.assign(v.Bytes());
            if (ring.entries.size() < static_cast<size_t>(options_.evidence_ids)) {
              ring.entries.push_back(std::move(e));
            }
          }
          if (!v.ok()) corrupt = Status::Corruption("undecodable evidence");
          return v.ok();
        }));
    ZICHT_RETURN_IF_ERROR(corrupt);
  }
  ws.RecomputeWindows();
  for (size_t r = 0; r < plan_->rules().size(); ++r) {
    std::string prefix = SeriesPrefix(part.id, RuleKey(plan_->rules()[r]));
    ZICHT_RETURN_IF_ERROR(store_->Scan(Family::kTimers, prefix, PrefixEnd(prefix),
        [&](std::string_view key, std::string_view value) {
          codec::Reader k(key.substr(prefix.size())), v(value);
          int local = local_of_code(k.U16());
          rules::RuleTimer t;
          t.held_since = v.I64();
          t.last_alert = v.I64();
          if (local >= 0 && v.ok()) part.timers[part.RuleSlot(static_cast<int>(r), local)] = t;
          return true;
        }));
  }
  std::string prefix = PartitionPrefix(part.id);
  ZICHT_RETURN_IF_ERROR(store_->Scan(Family::kDedup, prefix, PrefixEnd(prefix),
      [&](std::string_view key, std::string_view value) {
        codec::Reader k(key.substr(prefix.size())), v(value);
        const int64_t day = k.I64();
        const uint64_t chunk = k.U64();
        if (k.ok()) part.dedup_chunks[day].push_back(chunk);
        while (k.ok() && v.ok() && !v.done()) {
          Hash128 h;
          h.lo = v.U64();
          h.hi = v.U64();
          TimeMs t = v.I64();
          // Chunks are read in commit order, so a later acceptance wins.
          if (v.ok()) part.seen.Put(h, t, part.clock - options_.dedup_horizon_ms);
        }
        if (!v.ok()) corrupt = Status::Corruption("undecodable de-duplication chunk");
        return v.ok();
      }));
  ZICHT_RETURN_IF_ERROR(corrupt);
  // Partitions that lag this one, and the national lag, need its snapshots
  // of earlier final buckets.
  national_->PublishHistory(part.id, false, ws, kReloadHistoryDays + options_.national_lag_days);
  if (plan_->uses_hours()) {
    national_->PublishHistory(part.id, true, ws, 24 * (kReloadHistoryDays + options_.national_lag_days));
  }
  PublishNational(part);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// National snapshots between instances

void Engine::PublishNational(PartitionState& part) {
  const WindowStore& ws = *part.store;
  if (!ws.has_clock()) return;
  for (int hours = 0; hours < (plan_->uses_hours() ? 2 : 1); ++hours) {
    const int64_t final_bucket = ws.final_bucket(hours != 0);
    national_->Publish(part.id, hours != 0, final_bucket, ws);
    if (!options_.export_national) continue;
    // key: partition, unit, final bucket modulo the history kept, so a
    // compacted topic keeps the last `history` snapshots of each partition.
    std::string key;
    codec::PutU32(&key, static_cast<uint32_t>(part.id));
    codec::PutU8(&key, static_cast<uint8_t>(hours));
    codec::PutU8(&key, static_cast<uint8_t>(((final_bucket % 64) + 64) % 64));
    std::string value;
    codec::PutU8(&value, kNationalFormat);
    codec::PutBytes(&value, plan_->rule_set().version());
    codec::PutU32(&value, static_cast<uint32_t>(part.id));
    codec::PutU8(&value, static_cast<uint8_t>(hours));
    codec::PutI64(&value, final_bucket);
    const MunicipalityTable& munis = plan_->municipalities();
    uint16_t count = 0;
    for (const IndicatorDef& ind : plan_->indicators()) {
      if (ind.series >= 0 && ws.series_hours(ind.series) == (hours != 0)) ++count;
    }
    codec::PutU16(&value, count);
    for (const IndicatorDef& ind : plan_->indicators()) {
      if (ind.series < 0 || ws.series_hours(ind.series) != (hours != 0)) continue;
      codec::PutU16(&value, static_cast<uint16_t>(ind.index));
      codec::PutU16(&value, static_cast<uint16_t>(ws.municipalities().size()));
      for (size_t l = 0; l < ws.municipalities().size(); ++l) {
        const WindowAgg& a = ws.Final(ind.index, static_cast<int>(l));
        codec::PutU16(&value, static_cast<uint16_t>(MunicipalityTable::CodeNumber(
                                  munis.at(static_cast<size_t>(ws.municipalities()[l])).code)));
        codec::PutI64(&value, a.n_match);
        codec::PutI64(&value, a.n_all);
        codec::PutI128(&value, a.sum);
      }
    }
    national_out_.emplace_back(std::move(key), std::move(value));
  }
}

std::vector<std::pair<std::string, std::string>> Engine::TakeNationalSnapshots() {
  std::vector<std::pair<std::string, std::string>> out;
  out.swap(national_out_);
  return out;
}

Status Engine::ApplyNationalSnapshot(std::string_view data) {
  codec::Reader v(data);
  if (v.U8() != kNationalFormat) return Status::InvalidArgument("unknown national snapshot format");
  std::string_view version = v.Bytes();
  const int partition = static_cast<int>(v.U32());
  const bool hours = v.U8() != 0;
  const int64_t final_bucket = v.I64();
  if (!v.ok()) return Status::Corruption("truncated national snapshot");
  if (version != plan_->rule_set().version()) {
    ++stats_.national_version_mismatch;
    return Status::Ok();  // another rule set (a rolling reload): not comparable
  }
  if (partition < 0 || partition >= options_.partitions) {
    return Status::InvalidArgument("national snapshot of an unknown partition");
  }
  if (Owns(partition)) return Status::Ok();  // ours are published locally
  const MunicipalityTable& munis = plan_->municipalities();
  NationalBaseline::RemoteSnapshot snap;
  snap.final_bucket = final_bucket;
  const uint16_t count = v.U16();
  for (uint16_t i = 0; i < count && v.ok(); ++i) {
    const int indicator = v.U16();
    const uint16_t n = v.U16();
    std::vector<std::pair<int, WindowAgg>> values;
    values.reserve(n);
    for (uint16_t j = 0; j < n && v.ok(); ++j) {
      int m = munis.IndexOf(fmt::format("GM{:04d}", v.U16()));
      WindowAgg a;
      a.n_match = v.I64();
      a.n_all = v.I64();
      a.sum = v.Int128();
      if (m >= 0) values.emplace_back(m, a);
    }
    if (indicator < 0 || static_cast<size_t>(indicator) >= plan_->indicators().size()) {
      return Status::InvalidArgument("national snapshot names an unknown indicator");
    }
    snap.values.emplace_back(indicator, std::move(values));
  }
  if (!v.ok() || !v.done()) return Status::Corruption("undecodable national snapshot");
  national_->PublishSnapshot(partition, hours, std::move(snap));
  if (held_back_ > 0) return TryDrainBlocked();
  return Status::Ok();
}

std::optional<int64_t> Engine::NewestFinalDay() const { return national_->NewestPublished(false); }
std::optional<int64_t> Engine::FinalDayOf(int partition) const {
  return national_->LatestOf(partition, false);
}
std::optional<int64_t> Engine::SlowestFinalDay() const { return national_->CompleteUpTo(false); }

// ---------------------------------------------------------------------------
// Queries

namespace {
constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
}

std::vector<Engine::IndicatorFigures> Engine::MunicipalityFigures(int municipality) {
  std::vector<IndicatorFigures> out;
  const int p = partition_of_[static_cast<size_t>(municipality)];
  for (const IndicatorDef& ind : plan_->indicators()) {
    if (!Owns(p)) {
      out.push_back(SnapshotFigures(ind.index, municipality));
      continue;
    }
    PartitionState& part = Partition(p);
    const int local = part.store->Local(municipality);
    MeasureInput in = Input(part, ind.index, local);
    IndicatorFigures f;
    f.indicator = ind.index;
    f.live = true;
    const MeasureResult value = ComputeMeasure(rules::Measure::kValue, in);
    f.count = value.count;
    f.value = value.observed;
    f.rate = value.rate;
    f.expected = value.expected;
    f.national_rate = in.national != nullptr && in.national->valid ? in.national->rate : kUndefined;
    f.national_ratio = ComputeMeasure(rules::Measure::kNationalRatio, in).observed;
    f.percentile = ComputeMeasure(rules::Measure::kPercentile, in).observed;
    const bool counts = ind.aggregate == rules::Aggregate::kCount || ind.aggregate == rules::Aggregate::kShare;
    f.national_zscore = counts ? ComputeMeasure(rules::Measure::kNationalZscore, in).observed : kUndefined;
    f.poisson_p = counts ? ComputeMeasure(rules::Measure::kPoissonP, in).observed : kUndefined;
    f.trend_ratio = ind.reference < 0 && ind.windows == 5
                        ? ComputeMeasure(rules::Measure::kTrendRatio, in).observed
                        : kUndefined;
    out.push_back(f);
  }
  return out;
}

Engine::IndicatorFigures Engine::SnapshotFigures(int indicator, int municipality) {
  const IndicatorDef& ind = plan_->indicators()[static_cast<size_t>(indicator)];
  IndicatorFigures f;
  f.indicator = indicator;
  f.value = f.rate = f.national_rate = f.national_ratio = f.national_zscore = f.poisson_p =
      f.percentile = f.trend_ratio = f.expected = kUndefined;
  const int64_t population = plan_->municipalities().at(static_cast<size_t>(municipality)).population;
  std::shared_ptr<const NationalFigures> nat;
  double rate = kUndefined, own_snapshot = kUndefined;
  WindowAgg agg;
  if (ind.reference >= 0) {
    const auto& v = plan_->references()[static_cast<size_t>(ind.reference)].by_municipality[static_cast<size_t>(municipality)];
    if (v) rate = f.value = *v;
    f.rate = rate;
    const NationalFigures& rf = national_->ReferenceFigures(indicator);
    if (rf.valid) f.national_rate = rf.rate;
    if (!std::isnan(rate) && rf.valid) f.national_ratio = rate / rf.rate;
    own_snapshot = rf.rate_of[static_cast<size_t>(municipality)];
    if (!std::isnan(rate)) {
      std::vector<double> others = rf.sorted_rates;
      auto it = std::lower_bound(others.begin(), others.end(), own_snapshot);
      if (it != others.end() && *it == own_snapshot) others.erase(it);
      f.percentile = PercentileSorted(rate, others);
    }
    return f;
  }
  nat = national_->LatestFigures(indicator);
  if (!nat) return f;
  agg = nat->agg_of[static_cast<size_t>(municipality)];
  const bool share = ind.aggregate == rules::Aggregate::kShare;
  f.count = share ? agg.n_all : agg.n_match;
  rate = nat->rate_of[static_cast<size_t>(municipality)];
  f.rate = rate;
  switch (ind.aggregate) {
    case rules::Aggregate::kCount: f.value = static_cast<double>(agg.n_match); break;
    case rules::Aggregate::kSum: f.value = FromFixed(agg.sum); break;
    default: f.value = rate; break;
  }
  if (nat->valid) {
    f.national_rate = nat->rate;
    if (!std::isnan(rate)) f.national_ratio = rate / nat->rate;
    if (ind.aggregate == rules::Aggregate::kCount) {
      f.expected = nat->rate * static_cast<double>(population) / ind.per;
    } else if (share) {
      f.expected = nat->rate * static_cast<double>(agg.n_all);
    }
    if (f.expected > 0) {
      f.national_zscore = PoissonZScore(static_cast<double>(agg.n_match), f.expected);
      f.poisson_p = PoissonUpperTail(agg.n_match, f.expected);
    }
  }
  if (!std::isnan(rate)) f.percentile = PercentileSortedWithSelf(rate, nat->sorted_rates);
  return f;
}

std::vector<Engine::IndicatorFigures> Engine::IndicatorFiguresAll(int indicator) {
  std::vector<IndicatorFigures> out;
  const size_t n = plan_->municipalities().size();
  out.reserve(n);
  for (size_t m = 0; m < n; ++m) {
    const int p = partition_of_[m];
    if (!Owns(p)) {
      out.push_back(SnapshotFigures(indicator, static_cast<int>(m)));
      continue;
    }
    std::vector<IndicatorFigures> all = MunicipalityFigures(static_cast<int>(m));
    out.push_back(all[static_cast<size_t>(indicator)]);
  }
  return out;
}

std::vector<double> Engine::RateHistory(int indicator, int municipality, int days) {
  std::vector<double> out;
  const IndicatorDef& ind = plan_->indicators()[static_cast<size_t>(indicator)];
  const int p = partition_of_[static_cast<size_t>(municipality)];
  if (ind.series < 0 || !Owns(p)) return out;
  PartitionState& part = Partition(p);
  const WindowStore& ws = *part.store;
  if (!ws.has_clock()) return out;
  const int local = ws.Local(municipality);
  const bool hours = ws.series_hours(ind.series);
  const int64_t step = hours ? 24 : 1;  // one point per day for hour windows too
  const int64_t last = ws.current_bucket(hours);
  const int64_t population = plan_->municipalities().at(static_cast<size_t>(municipality)).population;
  for (int64_t d = days - 1; d >= 0; --d) {
    const int64_t bucket = last - d * step;
    out.push_back(MunicipalityRate(ind, ws.FinalAt(ind.index, local, bucket), population));
  }
  return out;
}

std::string PartitionMetaKeyFor(int partition) { return PartitionMetaKey(partition); }

std::optional<uint64_t> CommitSeqOfMeta(std::string_view meta) {
  codec::Reader in(meta);
  if (in.U8() != kMetaFormat) return std::nullopt;
  in.U8();
  for (int i = 0; i < 8; ++i) in.I64();  // clock .. evicted_before_day
  in.U8();
  in.U64();
  in.U64();
  uint64_t seq = in.U64();
  if (!in.ok()) return std::nullopt;
  return seq;
}

Status WipePartitionState(StateStore* store, int partition) {
  StateBatch batch;
  const std::string prefix = PartitionPrefix(partition);
  for (Family f : {Family::kBuckets, Family::kEvidence, Family::kTimers, Family::kDedup, Family::kOutbox}) {
    batch.DeleteRange(f, prefix, PrefixEnd(prefix), partition);
  }
  batch.Delete(Family::kMeta, PartitionMetaKey(partition), partition);
  batch.Delete(Family::kMeta, SourceMetaKey(partition), partition);
  return store->Write(batch);
}

}  // namespace zicht::engine
