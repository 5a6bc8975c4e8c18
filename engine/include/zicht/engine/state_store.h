// StateStore: the durable home of engine state (RocksDB in production). One
// atomic batch per commit holds state, source offsets and outbox records
// together, which is what makes restarts exact.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"

namespace zicht::engine {

// Column families; the key layout of each is documented in docs/state.md.
enum class Family : uint8_t {
  kMeta = 0,  // engine and per-partition metadata: clock, offsets, formats
  kBuckets,   // per (partition, series, bucket, municipality): counts and sums
  kEvidence,  // per (partition, series, municipality): recent event ids
  kTimers,    // per (partition, rule, municipality): `for` / `cooldown` memory
  kDedup,     // per (partition, day, hash(type, id)): accepted event time
  kOutbox,    // per sequence: alerts and dead letters not yet delivered
};
inline constexpr int kFamilyCount = 6;
std::string_view FamilyName(Family f);

// Entries carry the partition they belong to (-1: engine-wide), so a commit
// can be mirrored per partition to a changelog (Kafka).
class StateBatch {
 public:
  enum class Op : uint8_t {
    kPut,
    kDelete,
    kDeleteRange,   // local only: value is the exclusive end key
    kMirrorDelete,  // changelog only: a key a range delete removed locally
  };
  struct Entry {
    Op op;
    Family family;
    std::string key;
    std::string value;
    int partition = -1;
  };
  void Put(Family f, std::string key, std::string value, int partition = -1) {
    entries_.push_back({Op::kPut, f, std::move(key), std::move(value), partition});
  }
  void Delete(Family f, std::string key, int partition = -1) {
    entries_.push_back({Op::kDelete, f, std::move(key), {}, partition});
  }
  void DeleteRange(Family f, std::string begin, std::string end, int partition = -1) {
    entries_.push_back({Op::kDeleteRange, f, std::move(begin), std::move(end), partition});
  }
  void MirrorDelete(Family f, std::string key, int partition) {
    entries_.push_back({Op::kMirrorDelete, f, std::move(key), {}, partition});
  }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  void Clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

struct StateStoreStats {
  uint64_t live_data_bytes = 0;  // estimate of live SST data
  uint64_t total_sst_bytes = 0;
  uint64_t memtable_bytes = 0;
  uint64_t pending_compaction_bytes = 0;
  uint64_t estimated_keys = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Applies the whole batch atomically (all or nothing, also across a crash).
  virtual Status Write(const StateBatch& batch) = 0;
  // NotFound when absent.
  virtual Status Get(Family f, std::string_view key, std::string* value) = 0;
  // Calls fn for every key in [begin, end) in order (end empty = to the end);
  // fn returns false to stop.
  virtual Status Scan(Family f, std::string_view begin, std::string_view end,
                      const std::function<bool(std::string_view, std::string_view)>& fn) = 0;
  virtual StateStoreStats Stats() = 0;
};

using StateStorePtr = std::unique_ptr<StateStore>;

// Exclusive end key for a prefix scan ("prefix" + 1 at the last byte that can carry).
std::string PrefixEnd(std::string_view prefix);

}  // namespace zicht::engine
