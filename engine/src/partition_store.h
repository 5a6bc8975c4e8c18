// PartitionStore: one partition's in-memory state to and from its StateStore
// rows (layout: docs/state.md, keys: StateKeys). Write appends what changed
// since the last commit (dirty bucket rows, evidence rings, rule timers, new
// de-duplication chunks, expired ranges with their changelog tombstones) and
// always ends with the partition's meta record when anything changed, so a
// changelog reader can tell where a commit ends. Load rebuilds a fresh
// PartitionState from the rows. Internal to the engine; one thread.
#pragma once

#include <vector>

#include "partition_state.h"
#include "zicht/base/status.h"
#include "zicht/engine/plan.h"
#include "zicht/engine/state_store.h"

namespace zicht::engine {

struct PartitionStoreOptions {
  int evidence_ids = 20;                    // ring capacity (EngineOptions::evidence_ids)
  TimeMs dedup_horizon_ms = 7 * kMsPerDay;  // EngineOptions::dedup_horizon_ms
};

class PartitionStore {
 public:
  PartitionStore(const Plan& plan, PartitionStoreOptions options)
      : plan_(plan), options_(options) {}

  // Appends the partition's changes since the last commit to `batch`.
  void Write(PartitionState& part, StateBatch* batch);
  // Loads what `store` holds for `part` (a fresh, initialised state). A
  // partition the store does not know stays empty. Corruption on rows that
  // do not decode.
  Status Load(StateStore* store, PartitionState& part);

 private:
  void WriteBuckets(PartitionState& part, StateBatch* batch);
  void WriteEvidenceAndTimers(PartitionState& part, StateBatch* batch);
  void WriteDedup(PartitionState& part, StateBatch* batch);
  Status LoadSeries(StateStore* store, PartitionState& part);
  Status LoadDedup(StateStore* store, PartitionState& part);
  int CodeOf(const PartitionState& part, int local) const;
  int LocalOfCode(const PartitionState& part, int code_number) const;
  // 32-bit unit codes of neighbourhood series and rules (municipality or buurt).
  uint32_t UnitCodeOf(const PartitionState& part, int local) const;
  int LocalOfUnitCode(const PartitionState& part, uint32_t code) const;

  const Plan& plan_;
  PartitionStoreOptions options_;
  std::vector<DirtyRow> dirty_;  // scratch
};

// The store key of a rule's timers: its pack, id and version, so a reload
// that leaves a rule unchanged keeps its `for`/`cooldown` memory.
uint64_t RuleKey(const RuleDef& rule);

}  // namespace zicht::engine
