// The engine's state in a StateStore (docs/state.md): the key of every row,
// and the encodings of the records that are read outside the engine too
// (partition meta: the commit sequence a changelog restore compares; source
// positions; outbox records). Integers are big-endian so keys sort
// numerically. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zicht/base/status.h"
#include "zicht/base/time.h"
#include "zicht/connectors/record.h"
#include "zicht/engine/state_store.h"

namespace zicht::engine {

// A source position per partition, as committed with the state.
struct SourcePosition {
  int64_t next_offset = 0;
  int64_t line = 1;
  std::string source_id;  // identity of the input it belongs to (files)
};

// Keys, per family. Every key but the meta ones starts with the partition.
struct StateKeys {
  static std::string Partition(int partition);
  // kBuckets: one row per (partition, series, bucket).
  static std::string Series(int partition, uint64_t series_key);
  static std::string Bucket(int partition, uint64_t series_key, int64_t bucket);
  // kEvidence and kTimers: per (partition, series or rule key, municipality code).
  static std::string Municipality(int partition, uint64_t key, int code_number);
  // The same for series and rules kept per neighbourhood: a 32-bit unit code.
  static std::string Unit(int partition, uint64_t key, uint32_t unit_code);
  // kDedup: append-only chunks per (partition, day).
  static std::string DedupDay(int partition, int64_t day);
  static std::string Dedup(int partition, int64_t day, uint64_t chunk);
  // kMeta: the partition's clock and counters; a source partition's position.
  static std::string PartitionMeta(int partition);
  static std::string SourceMeta(int partition);
  // kOutbox: undelivered alerts and dead letters.
  static std::string Outbox(int partition, uint64_t seq);
};

// The meta record every commit that changes a partition ends with.
struct PartitionMeta {
  bool has_clock = false;
  TimeMs clock = kMinTime;
  TimeMs first_event_time = kMinTime;
  int64_t current_day = 0, current_hour = 0, final_day = 0, final_hour = 0;
  int64_t applied_offset = -1;
  int64_t evicted_before_day = INT64_MIN;
  bool store_clock = false;  // the window store has a clock (buckets follow)
  uint64_t dedup_chunk = 0;
  uint64_t next_seq = 1;
  uint64_t commit_seq = 0;
  // Merger steps folded into the partition's windows (SPEC 8.3); a trailing
  // field, absent in metas written before mergers existed.
  std::vector<std::string> folded_steps;
  // Forwarded events not yet delivered and batches to publish again
  // (ForwardExchange::EncodeState); a trailing field after folded_steps.
  std::string forwards;
};

struct PartitionCodec {
  static std::string EncodeMeta(const PartitionMeta& meta);
  // nullopt: another format or truncated.
  static std::optional<PartitionMeta> DecodeMeta(std::string_view value);
  static std::string EncodePosition(const SourcePosition& position);
  static std::optional<SourcePosition> DecodePosition(std::string_view value);
  static std::string EncodeOutbox(bool alert, const connectors::OutRecord& record);
  static bool DecodeOutbox(std::string_view value, bool* alert, connectors::OutRecord* record);
};

// The commit sequence in a partition meta value (nullopt: not one).
std::optional<uint64_t> CommitSeqOfMeta(std::string_view meta);
// Deletes everything the store holds for a partition.
Status WipePartitionState(StateStore* store, int partition);

}  // namespace zicht::engine
