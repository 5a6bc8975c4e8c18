// PartitionState: everything the engine keeps in memory for one partition
// (a Kafka partition, or an emulated one in a file replay): its clock,
// windows, de-duplication index, rule timers and condition caches, evidence
// rings, and the events held back at the national barrier. Internal to the
// engine; one thread touches it.
#pragma once

#include <climits>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "forward_exchange.h"
#include "zicht/base/hash.h"
#include "zicht/connectors/record.h"
#include "zicht/engine/dedup_index.h"
#include "zicht/engine/measures.h"
#include "zicht/engine/national_baseline.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/window_store.h"
#include "zicht/rules/evaluate.h"

namespace zicht::engine {

// An accepted event's de-duplication hash, persisted with the next commit.
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
// bucket exist (only with several partitions), or a clock tick.
struct PendingEvent {
  std::string payload;
  connectors::SourceRecord record;  // payload view points into `payload`
  std::string source_name;
  TimeMs time = 0;        // event time
  bool advanced = false;  // clock already moved for it
  bool tick = false;      // not an event: a clock tick (Engine::Tick)
  bool forwards = false;  // waits for other partitions' forwarded events
};

struct PartitionState {
  int id = 0;
  bool owned = false;
  uint64_t next_seq = 1;                // outbox sequence
  uint64_t commit_seq = 0;              // commits that changed this partition (changelog currency)
  int64_t ready_final_day = INT64_MIN;  // national figures known complete for these
  int64_t ready_final_hour = INT64_MIN;
  std::unique_ptr<WindowStore> store;
  bool has_clock = false;
  TimeMs clock = kMinTime;  // T: largest accepted event time
  TimeMs first_event_time = kMinTime;
  std::vector<EvidenceRing> evidence;    // [local * series + series]
  std::vector<rules::RuleTimer> timers;  // [local * rules + rule]
  std::vector<uint8_t> timer_dirty;
  // De-duplication: hash(type, id) -> accepted event time, and per day the
  // hashes to forget once the day leaves the horizon.
  DedupIndex seen;
  std::vector<DedupRecord> seen_new;                      // accepted since the last commit
  uint64_t dedup_chunk = 0;                               // next chunk number in the dedup family
  int64_t evicted_before_day = INT64_MIN;                 // dedup days forgotten below this
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
  std::vector<ConditionCache> conditions;  // [local * conditions + condition]
  std::vector<uint8_t> rule_held;          // [local * rules + rule]: last combination
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
  // Keys of the merger steps folded into this partition's windows (SPEC
  // 8.3), persisted with its meta so a restart does not fold twice.
  std::vector<std::string> folded_steps;
  // Events accepted here that count in another partition (SPEC 8.3), not yet
  // in a batch; the batches published whose buckets a lagging partition may
  // still need after a restart; the final bucket last promised.
  std::vector<ForwardedEvent> forwards_pending;
  std::vector<ForwardBatch> forwards_sent;
  int64_t forwards_through = INT64_MIN;
  // Bumped whenever windows or national figures move without an event
  // (bucket changes, ticks, loads), which invalidates cached outcomes.
  uint32_t epoch = 1;
};

// Sizes a fresh state for an owned partition holding `municipalities` under
// `plan` (windows, evidence, timers, caches) and marks it owned.
void InitPartitionState(PartitionState& part, const Plan& plan,
                        const std::vector<int>& municipalities);

// Remembers an event id for the evidence of alerts on `series` (a ring of
// `capacity` ids per series and municipality).
void PushEvidence(PartitionState& part, int series, int local, std::string_view id, TimeMs time,
                  int64_t bucket, size_t capacity);

// Mergers: the evidence of unit `from` joins that of `into` (newest
// `capacity` ids per series kept, in time order).
void MergeEvidence(PartitionState& part, int from, int into, size_t capacity);

}  // namespace zicht::engine
