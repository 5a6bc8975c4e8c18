// Engine: the processing core shared by `zicht replay` and `zicht run`, a
// conductor over named parts (engine/src): the EventDecoder turns a record
// into an event; per partition (PartitionState) the WindowStore counts it;
// the NationalBaseline pools every partition's final windows and the
// NationalBarrier holds an event back until the figures it is compared with
// are complete; the RuleScheduler evaluates the rules the event can have
// changed and the AlertBuilder explains those that fire; alerts and dead
// letters wait in the Outbox. Commit writes every part's changes (through
// PartitionStore and StateKeys), source positions and new outbox records in
// one atomic batch, then delivers the outbox. NationalExchange encodes the
// snapshots other instances need.
//
// Thread safety: not thread-safe; one thread drives an Engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zicht/base/clock.h"
#include "zicht/base/hash.h"
#include "zicht/connectors/record.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/engine/decoder.h"
#include "zicht/engine/measures.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/state_keys.h"
#include "zicht/engine/state_store.h"
#include "zicht/engine/window_store.h"
#include "zicht/rules/evaluate.h"

namespace zicht::engine {

class EngineProbe;
class NationalBarrier;
class Outbox;
class PartitionStore;
class RuleScheduler;
struct Firing;
struct PartitionState;

struct EngineOptions {
  // How far behind the newest event time an event may be (SPEC default 1d).
  TimeMs allowed_lateness_ms = kMsPerDay;
  // De-duplication horizon in event time (SPEC default 7d).
  TimeMs dedup_horizon_ms = 7 * kMsPerDay;
  // Number of (Kafka or emulated) partitions municipalities are keyed over
  // with Kafka's murmur2 partitioner (default 1).
  int partitions = 1;
  // Commit after this many processed records (default 100000) ...
  int64_t commit_every_records = 100000;
  // Evidence event ids kept per series and municipality (SPEC: at most 20).
  int evidence_ids = 20;
  // Evaluate rules incrementally (cached thresholds and outcomes; default).
  // false: every evaluation recomputes every condition from scratch — the
  // reference the incremental path is tested against.
  bool incremental_evaluation = true;
  // Alerts kept in memory for the API (default 2000).
  size_t recent_alerts = 2000;
  // Days the national figures lag a partition's last closed day (default 0).
  // Partitions then run up to this far apart in event time without waiting
  // for each other (docs/consistency.md); 0 is the freshest, and waits most.
  int national_lag_days = 0;
  // Decoder limits.
  DecoderOptions decoder;
  // Own every partition from the start (files). Kafka: false, partitions come
  // and go with Assign / Revoke.
  bool own_all_partitions = true;
  // Collect national snapshots of owned partitions for other instances
  // (TakeNationalSnapshots); Kafka with several instances.
  bool export_national = false;
  // How long a commit waits for sinks to acknowledge outbox records (default
  // 10 s); unacknowledged ones stay in the outbox and are retried.
  std::chrono::milliseconds outbox_flush_timeout{10000};
  // Wall clock for alert `emitted_at` and latencies (null: the system clock;
  // tests pass a FakeClock for reproducible output). Not owned.
  const zicht::Clock* clock = nullptr;
};

// Counters for summaries; metrics are reported through the probe.
struct EngineStats {
  int64_t records = 0;
  int64_t accepted = 0;
  int64_t dead_letters = 0;
  int64_t dead_by_reason[kDeadLetterReasonCount] = {};
  int64_t alerts = 0;
  int64_t evaluations = 0;
  int64_t commits = 0;
  int64_t skipped_replayed = 0;           // records applied before a restart, read again
  int64_t national_version_mismatch = 0;  // snapshots from another rule set
  int64_t held_back = 0;  // events that waited for other partitions' national figures
  int64_t plan_replacements = 0;
  // Events of a merged code that arrived on another partition than its
  // history's (SPEC 8.3): forwarded there, and counted there.
  int64_t forwarded = 0;
  int64_t forwards_applied = 0;
  int64_t delivery_retries = 0;  // outbox deliveries that failed and were queued again
  std::vector<int64_t> accepted_by_type;
  std::vector<int64_t> alerts_by_rule;
};

class ForwardExchange;

class Engine {
 public:
  Engine(PlanPtr plan, StateStore* store, connectors::RecordSink* alerts,
         connectors::RecordSink* dead_letters, EngineOptions options, EngineProbe* probe = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads persisted state (if any) and re-sends undelivered outbox records.
  Status Open();

  // Processes one raw record. `describe` names its origin for dead letters
  // ("events.jsonl:17"). The partition of the record is taken from the record
  // for Kafka; with emulated partitions (files) pass route_by_municipality.
  Status Process(const connectors::SourceRecord& record, const std::string& source_name,
                 bool route_by_municipality);

  // No more input will come: releases events held back for national figures
  // by advancing lagging partitions (as idle partitions are advanced on Kafka).
  Status Drain();

  // Moves every partition's clock to `time` as if time passed without events
  // (SPEC: a new UTC day evaluates every rule for every municipality). Used by
  // rule tests ("evaluate at") and for idle partitions.
  Status AdvanceTo(TimeMs time);

  // Writes all state changes, positions and new outbox records atomically,
  // then hands outbox records to the sinks.
  Status Commit();

  // Committed/processed position of a partition (for resuming sources).
  SourcePosition Position(int partition) const;
  void SetSourceId(int partition, std::string id);

  // Kafka rebalancing. Assign loads the partitions' state from the store
  // (restore it from a changelog first if needed) and returns where to resume;
  // Revoke commits, delivers the outbox and drops their state from memory.
  Status Assign(const std::vector<int>& partitions);
  // commit=false drops the partitions' uncommitted changes (a lost partition:
  // another member may own it already).
  Status Revoke(const std::vector<int>& partitions, bool commit = true);
  bool Owns(int partition) const;
  int partitions() const { return options_.partitions; }

  // National snapshots of owned partitions since the last call, encoded for
  // the national topic (key, value). Empty unless export_national.
  std::vector<std::pair<std::string, std::string>> TakeNationalSnapshots();
  // A snapshot from another instance (value of the national topic).
  Status ApplyNationalSnapshot(std::string_view value);

  // Partitions with events held back for national figures, and how many.
  std::vector<std::pair<int, size_t>> HeldBack() const;
  // Idle partitions: the highest final bucket any partition has published,
  // and whether an owned partition blocks others (needs a tick).
  std::optional<int64_t> NewestFinalDay() const;
  // The final day a partition last published (nullopt: none yet), and the
  // lowest over all active partitions (nullopt until every one published).
  std::optional<int64_t> FinalDayOf(int partition) const;
  std::optional<int64_t> SlowestFinalDay() const;
  Status TickPartition(int partition, TimeMs now);
  // Where an idle partition is moved in event time (Drain, Kafka idle
  // partitions): just after the newest closed day published (kMinTime: none).
  TimeMs IdleTarget() const;
  TimeMs Clock(int partition) const;

  // --- Read access for the API's queries (engine thread only) ---

  // The measure input of `indicator` for `municipality` as its rules see it
  // now (nullopt: the municipality's partition is owned elsewhere). Valid
  // until the next call that changes the engine.
  std::optional<MeasureInput> LiveInput(int indicator, int municipality);
  // The same for a neighbourhood of a neighbourhood indicator (nullopt: owned
  // elsewhere, or the plan keeps no neighbourhood units).
  std::optional<MeasureInput> LiveNeighbourhoodInput(int indicator, int neighbourhood);
  // The windows of `municipality`'s partition (null: owned elsewhere).
  const WindowStore* WindowsOf(int municipality) const;
  // National figures: the latest complete snapshots and reference figures.
  NationalBaseline& national() { return *national_; }

  struct RecentAlert {
    TimeMs emitted_at = 0;
    TimeMs event_time = 0;
    int municipality = -1;
    int rule = -1;
    std::string json;
  };
  // The newest alerts (at most EngineOptions::recent_alerts), oldest first.
  const std::deque<RecentAlert>& recent_alerts() const { return recent_alerts_; }

  // Hot reload: commits, then continues with another plan (changed rule packs
  // or reference data) on the same state. Series and rules that did not
  // change keep their history and `for`/`cooldown` memory; changed ones start
  // from what their new definition finds in the store. No event is lost: the
  // call happens between records.
  Status ReplacePlan(PlanPtr plan);
  const PlanPtr& plan_ptr() const { return plan_; }

  const EngineStats& stats() const { return stats_; }
  // Alerts and dead letters committed but not yet acknowledged by their sink.
  size_t outbox_pending() const;
  const Plan& plan() const { return *plan_; }
  int PartitionOf(int municipality) const {
    return partition_of_[static_cast<size_t>(municipality)];
  }

 private:
  // kWaitForwards: the event would close buckets that events forwarded from
  // other partitions may still land in; held, clock unmoved.
  enum class Outcome { kDone, kHeldBack, kWaitForwards };
  void SetPlan(PlanPtr plan);
  // Refuses a plan whose mergers would move a code's state to another partition.
  Status CheckRouting(const Plan& plan) const;
  PartitionState& Partition(int partition);
  // A fresh state for an owned partition, loaded from the store.
  Status ResetPartition(int partition, bool load_position_and_outbox);

  // `key`: the event's de-duplication key when already computed;
  // `forward_to`: the partition that counts it (-1: this one).
  Outcome ProcessDecoded(PartitionState& part, const DecodedEvent& event,
                         const connectors::SourceRecord& record, const std::string& source_name,
                         bool advanced, const Hash128* key = nullptr, int forward_to = -1);
  // Counts an accepted event in every series of its type, and in its
  // neighbourhood unit `buurt` (-1: none) of series kept per neighbourhood.
  void CountEvent(PartitionState& part, const DecodedEvent& event, int local, int buurt);
  void HoldBack(PartitionState& part, const connectors::SourceRecord& record,
                const std::string& source_name, TimeMs time, bool advanced, bool at_front,
                bool forwards = false);
  void Tick(PartitionState& part, TimeMs now);
  void FinishTick(PartitionState& part, TimeMs now);
  void NoteProcessed(PartitionState* part, const connectors::SourceRecord& record);
  void DeadLetter(DeadLetterReason reason, std::string detail,
                  const connectors::SourceRecord& record, const std::string& source_name,
                  int partition);
  // The record's municipality belongs to another partition: dead-lettered.
  bool WrongPartition(int owner, int partition, const DecodedEvent& event,
                      const connectors::SourceRecord& record, const std::string& source_name);
  // Where an event that arrived on `arrival` counts: kCountHere, the
  // partition it is forwarded to, or kDeadLettered (keyed to neither).
  static constexpr int kCountHere = -1, kDeadLettered = -2;
  int Route(int arrival, const DecodedEvent& event, const connectors::SourceRecord& record,
            const std::string& source_name);
  // The partition a producer keying by the written code sends the event to.
  int KeyPartitionOf(const DecodedEvent& event) const;
  // Forwarded events (SPEC 8.3, forward_exchange.h). Ready: the batches of
  // every partition forwarding here cover the final buckets the clock at `t`
  // closes; publishes this partition's own batch first.
  bool ForwardsReady(PartitionState& part, TimeMs t);
  // The final bucket (hours when the plan uses them, else days) a clock at
  // `t` has closed, as WindowStore::Advance moves it.
  int64_t FinestFinalAt(TimeMs t) const;
  void PublishForwards(PartitionState& part, int64_t from, int64_t to);
  // Counts the forwarded events that close with final buckets (from, to].
  void TakeForwards(PartitionState& part, int64_t from, int64_t to);
  // Moves the partition's clock to `now`, publishing national snapshots for
  // every final bucket it passes. Returns true when national figures for the
  // new final buckets are complete (the event may be accepted now).
  bool AdvanceClock(PartitionState& part, TimeMs now);
  // Moves the store's clock to `t`, first folding every merger of the
  // partition whose effective day `t` has entered (SPEC 8.3).
  void AdvanceStore(PartitionState& part, TimeMs t);
  void FoldMergersDue(PartitionState& part, TimeMs t);
  void EvaluateAll(PartitionState& part);
  // Alerts for the rules the scheduler found firing.
  void EmitFired(PartitionState& part);
  void EmitAlert(PartitionState& part, int rule, int local, double score);
  Status TryDrainBlocked();
  // Ticks every owned partition without held events to `target`, releasing
  // what that releases. `stuck`: events are still held, waiting for national
  // figures past `target`.
  Status MoveIdleTo(TimeMs target, bool* stuck);
  Status DeliverOutbox();
  Status LoadSourcePosition(int partition);
  Status LoadOutbox(int partition);
  void PublishNational(PartitionState& part);
  MeasureInput Input(PartitionState& part, int indicator, int local);
  Hash128 DedupKeyOf(const DecodedEvent& event);

  PlanPtr plan_;  // replaced by ReplacePlan
  // Parts that depend only on the options (kept across reloads).
  StateStore* store_;
  EngineOptions options_;
  EngineProbe* probe_;
  const zicht::Clock& clock_;
  std::unique_ptr<Outbox> outbox_;
  // Parts built from the plan (SetPlan).
  std::unique_ptr<EventDecoder> decoder_;
  std::unique_ptr<EventDecoder> forward_decoder_;  // forwarded events, mid-event
  std::unique_ptr<ForwardExchange> forwards_;
  bool forwarding_ = false;                      // some code is keyed to another partition
  std::vector<std::vector<int>> forwarders_of_;  // partition -> partitions forwarding to it
  std::vector<uint8_t> forward_involved_;        // partition forwards or is forwarded to
  std::vector<int> key_partition_of_;            // municipality -> partition of its code
  std::unique_ptr<NationalBaseline> national_;
  std::unique_ptr<NationalBarrier> barrier_;
  std::unique_ptr<RuleScheduler> scheduler_;
  std::unique_ptr<PartitionStore> partition_store_;
  std::vector<int> partition_of_;                  // municipality -> partition
  std::vector<std::vector<int>> partition_munis_;  // partition -> municipalities
  std::vector<int> active_partitions_;
  // State.
  std::vector<std::unique_ptr<PartitionState>> partitions_;
  std::map<int, SourcePosition> positions_;  // per source partition: read up to here
  EngineStats stats_;
  std::vector<std::pair<std::string, std::string>> national_out_;
  std::deque<RecentAlert> recent_alerts_;
  int64_t since_commit_ = 0;
  // Scratch (no allocation per event).
  std::vector<Firing> fired_;
  std::vector<MeasureInput> inputs_;
  std::string dedup_text_;
  TimeMs current_ingest_time_ = 0;  // of the record being processed
  uint32_t latency_sample_ = 0;
};

}  // namespace zicht::engine
